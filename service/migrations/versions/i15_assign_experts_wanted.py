"""needs say how many experts they want

Revision ID: i15_assign_experts_wanted
Revises: i11_policy_institution_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i15_assign_experts_wanted"
down_revision: str | None = "i11_policy_institution_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing needs asked for one expert.
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("experts_wanted", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_column("experts_wanted")
