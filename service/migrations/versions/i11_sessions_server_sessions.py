"""server-side sessions; API tokens with an expiry

Revision ID: i11_sessions_server_sessions
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.models.types

revision: str = "i11_sessions_server_sessions"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usersession",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usersession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usersession_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", service.models.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Sessions now live in their own table: the per-user version counter has no use left.
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("usersession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usersession_user_id"))
    op.drop_table("usersession")
