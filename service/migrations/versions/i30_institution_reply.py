"""an institution asked for more information answers the coordinator with a message; the
coordinator sees it beside the question, and the institution shows as answered until decided

Revision ID: i30_institution_reply
Revises: i29_expert_suggestion
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.models.types

revision: str = "i30_institution_reply"
down_revision: str | None = "i29_expert_suggestion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institution") as batch:
        batch.add_column(
            sa.Column("asked_at", service.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("asked_by_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("answered_at", service.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key("fk_institution_asked_by_id_user", "user", ["asked_by_id"], ["id"])
    op.create_table(
        "institution_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_institution_reply_institution_id", "institution_reply", ["institution_id"])


def downgrade() -> None:
    op.drop_index("ix_institution_reply_institution_id", table_name="institution_reply")
    op.drop_table("institution_reply")
    with op.batch_alter_table("institution") as batch:
        batch.drop_constraint("fk_institution_asked_by_id_user", type_="foreignkey")
        batch.drop_column("answered_at")
        batch.drop_column("asked_by_id")
        batch.drop_column("asked_at")
