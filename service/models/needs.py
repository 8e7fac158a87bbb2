"""Needs posted by institutions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class NeedStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"


class Support(StrEnum):
    TRAVEL = "travel"
    PER_DIEM = "per_diem"
    STIPEND = "stipend"
    ACCOMMODATION = "accommodation"


class Need(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=100, unique=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    required_skills: list[str] = Field(default_factory=list, sa_type=JSON)
    sector: str = Field(default="", max_length=40, index=True)
    mode: str = Field(max_length=20)
    duration_weeks: int = 0
    hours_per_week: int = 0
    # How many experts the institution wants for this need (a team may be proposed).
    experts_wanted: int = 1
    start_from: date | None = None
    start_until: date | None = None
    languages: list[str] = Field(default_factory=list, sa_type=JSON)
    city: str = Field(default="", max_length=120)
    # Empty list: the institution offers no support.
    support: list[str] = Field(default_factory=list, sa_type=JSON)
    live_sessions: bool = False
    # Set by a coordinator: experts of other engagement modes may be proposed, ranked down.
    widen_modes: bool = False
    status: str = Field(default=NeedStatus.DRAFT, max_length=20, index=True)
    text_lang: str = Field(default="", max_length=5)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    def ends_on(self) -> date | None:
        """Gets the day the work asked for ends at the latest: the latest start (else the
        earliest) plus the duration; None when the need gives no start date."""
        start = self.start_until or self.start_from
        return start + timedelta(weeks=self.duration_weeks) if start else None

    def place_in(self, institution_city: str = "") -> str:
        """Where the work takes place in person: the need's city, else its institution's, for a
        mission or a hybrid need; nothing for remote work (the form starts every need with the
        institution's city, which says nothing of where remote work is done)."""
        if self.mode == "remote":
            return ""
        return self.city or institution_city
