"""Institutions in the origin countries: universities, hospitals, businesses, agencies, NGOs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class InstitutionType(StrEnum):
    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    BUSINESS = "business"
    AGENCY = "agency"
    NGO = "ngo"


class Institution(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=100, unique=True)
    name: str = Field(max_length=200, index=True)
    type: str = Field(max_length=20)
    country: str = Field(max_length=2, index=True)
    city: str = Field(default="", max_length=120)
    # IANA time zone of the institution's working hours (live sessions are counted in it).
    timezone: str = Field(default="", max_length=64)
    website: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=5000)
    verified_by_id: int | None = Field(default=None, foreign_key="user.id")
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The coordinator's latest question to the institution, or why it was declined.
    review_note: str = Field(default="", max_length=2000, sa_column_kwargs={"server_default": ""})
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the latest question was asked, by whom, and when a member last answered it (none
    # once a coordinator decides again): asked and answered, it awaits the coordinator.
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    asked_by_id: int | None = Field(default=None, foreign_key="user.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def verified(self) -> bool:
        """An institution may post needs once a coordinator has verified it."""
        return self.verified_at is not None


class InstitutionMember(SQLModel, table=True):
    """A user who acts for an institution; a user belongs to at most one."""

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InstitutionReply(SQLModel, table=True):
    """A member's answer to a coordinator's request for more information, with the question it
    answers (a later request replaces the institution's note, not this)."""

    __tablename__ = "institution_reply"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    question: str = Field(default="", max_length=2000)
    message: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
