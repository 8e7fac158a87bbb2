"""notifications keep their message's parameters, so each reader reads them in their language

Revision ID: i21_notification_params
Revises: i16_job_priority
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i21_notification_params"
down_revision: str | None = "i16_job_priority"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before keep no params (NULL): their words cannot be told back into values
    # reliably (a need's title may hold any text), so they go on showing the text they were
    # created with, in the recipient's language of that day.
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("params")
