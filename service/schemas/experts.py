"""Payloads of expert profiles: what an expert edits, and what each reader may see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.models import LanguageLevel, Mode, Visibility
from service.models.experts import SECTORS
from service.schemas.common import (
    City,
    CountryCode,
    LanguageCode,
    LongText,
    Name,
    ShortText,
    Skill,
    TimeZoneName,
    not_before,
)


class LanguageSkill(BaseModel):
    code: LanguageCode
    level: LanguageLevel = LanguageLevel.PROFESSIONAL


class ExpertProfileUpdate(BaseModel):
    """What an expert may change on their own profile."""

    model_config = ConfigDict(extra="forbid")

    display_name: Name
    headline: ShortText = ""
    bio: LongText = ""
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    languages: list[LanguageSkill] = Field(default_factory=list, max_length=20)
    origin_country: CountryCode
    residence_country: CountryCode
    city: City = ""
    timezone: TimeZoneName = "UTC"
    modes: list[Mode] = Field(default_factory=list, max_length=3)
    hours_per_month: int = Field(default=0, ge=0, le=200)
    available_from: date | None = None
    available_until: Annotated[
        date | None,
        not_before("available_from", "The end of your availability must not be before its start."),
    ] = None
    sectors: list[str] = Field(default_factory=list, max_length=len(SECTORS))
    years_experience: int | None = Field(default=None, ge=0, le=70)
    education: ShortText = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    visibility: Visibility = Visibility.INSTITUTIONS
    consent_matching: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        unknown = [s for s in self.sectors if s not in SECTORS]
        if unknown:
            raise ValueError("Choose sectors from the list.")
        self.skills = list(dict.fromkeys(self.skills))
        self.modes = list(dict.fromkeys(self.modes))
        return self


class ExpertSummary(BaseModel):
    """What an institution sees before a coordinator approves a proposal: no name, no contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    headline: str
    skills: list[str]
    languages: list[dict[str, str]]
    origin_country: str
    residence_country: str
    modes: list[str]
    sectors: list[str]
    years_experience: int | None
    hours_per_month: int
    available_from: date | None
    available_until: date | None


class ExpertNamed(ExpertSummary):
    """After approval: the name and the full profile text, still no contact details."""

    display_name: str
    bio: str
    city: str
    timezone: str
    education: str


class ExpertPrivate(ExpertNamed):
    """The expert themselves, coordinators, and an institution once the engagement is confirmed."""

    email: str = ""
    phone: str
    visibility: str
    active: bool
    availability_confirmed_at: datetime | None
    consent_matching_at: datetime | None
    updated_at: datetime


class ExpertRead(ExpertSummary):
    """A profile as one reader may see it: the summary always, the rest only in the views that
    show it (ExpertNamed, ExpertPrivate); fields a view leaves out are absent, not null."""

    display_name: str = ""
    bio: str = ""
    city: str = ""
    timezone: str = ""
    education: str = ""
    email: str = ""
    phone: str = ""
    visibility: str = ""
    active: bool = True
    availability_confirmed_at: datetime | None = None
    consent_matching_at: datetime | None = None
    updated_at: datetime | None = None


class ExpertPage(BaseModel):
    """One page of the roster."""

    items: list[ExpertRead]
    total: int
    page: int
    size: int
