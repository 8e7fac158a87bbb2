"""indexes behind the coordinator's counts and queues (measured by bench/page_profile.py)

Revision ID: i14_pages_indexes
Revises: i15_assign_experts_wanted
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i14_pages_indexes"
down_revision: str | None = "i15_assign_experts_wanted"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns): each makes a count or a lookup of the pages read an index only,
# instead of every row of a table whose rows carry long texts and JSON.
INDEXES = (
    # Landing and dashboard: "experts who can be proposed".
    ("ix_expertprofile_active", "expertprofile", ["active"]),
    # Dashboard: proposals awaiting a coordinator for too long.
    ("ix_matchproposal_status_created_at", "matchproposal", ["status", "created_at"]),
    # Dashboard and review queue: needs with no approved proposal; counts by status per need.
    ("ix_matchproposal_need_id_status", "matchproposal", ["need_id", "status"]),
    # Every page's header: the reader's unread notifications.
    ("ix_notification_user_id_read_at", "notification", ["user_id", "read_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
