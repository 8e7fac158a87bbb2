"""an account keeps the address it asked to move to until a link mailed there confirms it

Revision ID: i28_pending_email
Revises: i28_engagement_ended_on
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i28_pending_email"
down_revision: str | None = "i28_engagement_ended_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("pending_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("pending_email")
