"""In-app notifications and the outgoing email queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    # Added by migration i14_pages_indexes: every page's count of unread notifications.
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # `kind` names the message (service/core/notifications.MESSAGES) and `params` fills it, so
    # that each reader sees it in their current language; `title` and `body` keep the words
    # of its creation (in the recipient's language then), shown for rows without params.
    kind: str = Field(max_length=60)
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=5000)
    params: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    link: str = Field(default="", max_length=300)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Added by migration i27_notification_done: the engagement a notification is about, and
    # when what it asked for (answer an offer, confirm) stopped being asked, the move made.
    engagement_id: int | None = Field(default=None, index=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NotificationPublic(SQLModel):
    """A notification as the API gives it: its words in the caller's language."""

    id: int
    user_id: int
    kind: str
    title: str
    body: str
    params: dict[str, Any] | None = None
    link: str
    read_at: datetime | None = None
    created_at: datetime
    engagement_id: int | None = None
    done_at: datetime | None = None


class OutgoingEmail(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The account it was written to (migration i26_outgoing_email_user): erasure finds its
    # emails by it, those sent to an address the account has since left included.
    user_id: int | None = Field(default=None, index=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=20000)
    kind: str = Field(default="", max_length=60)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
