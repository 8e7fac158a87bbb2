"""Engagements: an approved proposal offered to the expert, then run to completion."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class EngagementStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CONFIRMED = "confirmed"
    ACTIVE = "active"
    # The expert says the work is done; it counts once the institution or a coordinator agrees.
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Engagement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="matchproposal.id", unique=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    # Null once the expert's account is erased: the anonymised record stays for statistics.
    expert_id: int | None = Field(default=None, foreign_key="expertprofile.id", index=True)
    status: str = Field(default=EngagementStatus.OFFERED, max_length=20, index=True)
    mode: str = Field(default="", max_length=20)
    agreed_hours: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    # Added by migration i28_engagement_ended_on: the day the work really ended, set when the
    # expert marks it done (today, when before the planned `end_date`, which stays as agreed).
    ended_on: date | None = None
    offered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    offer_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class FeedbackSide(StrEnum):
    EXPERT = "expert"
    INSTITUTION = "institution"


class EngagementFeedback(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("engagement_id", "side"),)

    id: int | None = Field(default=None, primary_key=True)
    engagement_id: int = Field(foreign_key="engagement.id", index=True)
    side: str = Field(max_length=20)
    rating: int
    delivered: str = Field(default="", max_length=5000)
    hours: int = 0
    would_repeat: bool = True
    impact: str = Field(default="", max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
