"""a member of an institution may invite a colleague by email to join it; the link's token is
kept only as a hash

Revision ID: i30_institution_invitation
Revises: i30_institution_reply
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.types

revision: str = "i30_institution_invitation"
down_revision: str | None = "i30_institution_reply"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "institution_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", service.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", service.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["invited_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["accepted_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_institution_invitation_institution_id", "institution_invitation", ["institution_id"]
    )
    op.create_index("ix_institution_invitation_email", "institution_invitation", ["email"])


def downgrade() -> None:
    op.drop_index("ix_institution_invitation_email", table_name="institution_invitation")
    op.drop_index("ix_institution_invitation_institution_id", table_name="institution_invitation")
    op.drop_table("institution_invitation")
