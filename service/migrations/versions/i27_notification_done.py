"""a notification names the engagement it is about and says when what it asked for was done,
so that an offer answered or an engagement confirmed stops asking

Revision ID: i27_notification_done
Revises: i26_outgoing_email_user
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.types

revision: str = "i27_notification_done"
down_revision: str | None = "i26_outgoing_email_user"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before name no engagement (NULL): they keep showing as they did.
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("engagement_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("done_at", service.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_notification_engagement_id", ["engagement_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_index("ix_notification_engagement_id")
        batch.drop_column("done_at")
        batch.drop_column("engagement_id")
