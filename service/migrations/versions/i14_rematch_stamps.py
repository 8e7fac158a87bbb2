"""indexes on the stamps the matcher's refresh reads (measured by bench/rematch_latency.py)

Revision ID: i14_rematch_stamps
Revises: i12_skill_vectors
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i14_rematch_stamps"
down_revision: str | None = "i12_skill_vectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns...): a re-matching job reads the rows stamped since its last look;
# without these, each job scanned every expert row and every stored vector (10 kB each, 1 GB at 100k
# experts), which was most of a job's time.
INDEXES = (
    ("ix_expertprofile_updated_at", "expertprofile", "updated_at"),
    ("ix_expertprofile_availability_confirmed_at", "expertprofile", "availability_confirmed_at"),
    ("ix_expertprofile_consent_matching_at", "expertprofile", "consent_matching_at"),
    # Led by kind and model: on the stamp alone SQLite chose the unique (owner_type, ...) index.
    ("ix_embedding_owner_type_model_updated_at", "embedding", "owner_type", "model", "updated_at"),
    ("ix_engagement_updated_at", "engagement", "updated_at"),
    ("ix_need_updated_at", "need", "updated_at"),
)


def upgrade() -> None:
    for name, table, *columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, *_ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
