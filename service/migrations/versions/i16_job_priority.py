"""jobs carry a priority: a person's change runs before work queued in bulk (a seed, an import)

Revision ID: i16_job_priority
Revises: i14_rematch_stamps
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i16_job_priority"
down_revision: str | None = "i14_rematch_stamps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Jobs already queued count as a person's: none is pushed back by the upgrade.
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(
        "ix_job_status_priority_run_at", "job", ["status", "priority", "run_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_job_status_priority_run_at", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("priority")
