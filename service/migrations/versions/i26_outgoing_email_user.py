"""an outgoing email names the account it was written to, so erasing the account finds it
whatever address the account has since moved to

Revision ID: i26_outgoing_email_user
Revises: i21_notification_params
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i26_outgoing_email_user"
down_revision: str | None = "i21_notification_params"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before stay without an account (NULL): erasure still finds them by the
    # account's current address, as it did.
    with op.batch_alter_table("outgoingemail") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outgoingemail_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outgoingemail") as batch:
        batch.drop_index("ix_outgoingemail_user_id")
        batch.drop_column("user_id")
