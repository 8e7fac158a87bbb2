"""an engagement keeps the day its work really ended beside the end date agreed, so that one
marked done early says so

Revision ID: i28_engagement_ended_on
Revises: i27_notification_done
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i28_engagement_ended_on"
down_revision: str | None = "i27_notification_done"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engagement") as batch:
        batch.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
    # Engagements marked done before kept no such day: their work is taken to have ended as
    # agreed (none is said where no end was agreed).
    op.execute(
        "UPDATE engagement SET ended_on = end_date WHERE status IN ('delivered', 'completed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("engagement") as batch:
        batch.drop_column("ended_on")
