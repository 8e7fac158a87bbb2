"""an institution may suggest an expert from the roster for one of its open needs; the
coordinator reviewing the need sees the suggestion

Revision ID: i29_expert_suggestion
Revises: i28_pending_email
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.types

revision: str = "i29_expert_suggestion"
down_revision: str | None = "i28_pending_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expert_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("suggested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["expertprofile.id"]),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"]),
        sa.ForeignKeyConstraint(["suggested_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("need_id", "expert_id"),
    )
    op.create_index("ix_expert_suggestion_need_id", "expert_suggestion", ["need_id"])
    op.create_index("ix_expert_suggestion_expert_id", "expert_suggestion", ["expert_id"])


def downgrade() -> None:
    op.drop_index("ix_expert_suggestion_expert_id", table_name="expert_suggestion")
    op.drop_index("ix_expert_suggestion_need_id", table_name="expert_suggestion")
    op.drop_table("expert_suggestion")
