"""Expert profiles: what a diaspora professional offers, in what mode, when."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class Mode(StrEnum):
    REMOTE = "remote"
    MISSION = "mission"
    HYBRID = "hybrid"


class Visibility(StrEnum):
    INSTITUTIONS = "institutions"
    COORDINATORS = "coordinators"


class LanguageLevel(StrEnum):
    NATIVE = "native"
    FLUENT = "fluent"
    PROFESSIONAL = "professional"
    BASIC = "basic"


SECTORS = (
    "health",
    "education",
    "engineering",
    "agriculture",
    "finance",
    "law",
    "public_administration",
    "technology",
    "energy",
    "water",
    "business",
    "research",
    "architecture",
    "environment",
)


class ExpertProfile(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", unique=True)
    external_id: str | None = Field(default=None, max_length=100, unique=True)
    display_name: str = Field(max_length=120)
    headline: str = Field(default="", max_length=200)
    bio: str = Field(default="", max_length=5000)
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    # [{"code": "fr", "level": "native"}, ...]
    languages: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    origin_country: str = Field(default="", max_length=2, index=True)
    residence_country: str = Field(default="", max_length=2, index=True)
    city: str = Field(default="", max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    modes: list[str] = Field(default_factory=list, sa_type=JSON)
    hours_per_month: int = 0
    available_from: date | None = None
    available_until: date | None = None
    # Stamps are indexed: the matcher's refresh reads the rows changed since a moment.
    availability_confirmed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, index=True
    )
    sectors: list[str] = Field(default_factory=list, sa_type=JSON)
    years_experience: int | None = None
    education: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)
    visibility: str = Field(default=Visibility.INSTITUTIONS, max_length=20)
    text_lang: str = Field(default="", max_length=5)
    active: bool = Field(default=True, index=True)
    # Consent: to be stored, and to be proposed to institutions by the matcher.
    consent_terms_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_matching_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    @property
    def language_codes(self) -> list[str]:
        """Gets the ISO 639-1 codes of the languages the expert works in."""
        return [str(item.get("code", "")) for item in self.languages if item.get("code")]
