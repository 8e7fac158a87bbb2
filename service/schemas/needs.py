"""Payloads of needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.models import Mode, NeedStatus, Support
from service.models.experts import SECTORS
from service.schemas.common import City, LanguageCode, Required, Skill, not_before

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200), Required
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=10000), Required
]


class NeedFields(BaseModel):
    """What an institution writes about a need, whatever its status."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description
    required_skills: list[Skill] = Field(default_factory=list, max_length=30)
    sector: str = ""
    mode: Mode
    duration_weeks: int = Field(default=4, ge=1, le=104)
    hours_per_week: int = Field(default=4, ge=1, le=60)
    experts_wanted: int = Field(default=1, ge=1, le=3)
    start_from: date | None = None
    start_until: Annotated[
        date | None,
        not_before("start_from", "The latest start must not be before the earliest start."),
    ] = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    city: City = ""
    support: list[Support] = Field(default_factory=list, max_length=4)
    live_sessions: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.sector and self.sector not in SECTORS:
            raise ValueError("Choose a sector from the list.")
        self.required_skills = list(dict.fromkeys(self.required_skills))
        self.languages = list(dict.fromkeys(self.languages))
        return self


class NeedWrite(NeedFields):
    """What an institution writes when it edits a need (or a roster holds): any status."""

    status: NeedStatus = NeedStatus.OPEN


class NeedCreate(NeedFields):
    """What an institution posts as a new need: open, or a draft to finish later.

    A need is filled or closed by what happens to it (an engagement, the close button),
    never born so: that would skip the proposals, the offers and their records.
    """

    status: Literal["open", "draft"] = "open"


class NeedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    title: str
    description: str
    required_skills: list[str]
    sector: str
    mode: str
    duration_weeks: int
    hours_per_week: int
    experts_wanted: int
    start_from: date | None
    start_until: date | None
    languages: list[str]
    city: str
    support: list[str]
    live_sessions: bool
    status: str
    posted_at: datetime | None
    updated_at: datetime


class NeedPreview(BaseModel):
    """What the preview reads of a need being written: every field optional, the rest ignored."""

    model_config = ConfigDict(extra="ignore")

    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)] = ""
    required_skills: list[Skill] = Field(default_factory=list, max_length=30)
    mode: Mode = Mode.REMOTE
    duration_weeks: int | None = Field(default=None, ge=1, le=104)
    start_from: date | None = None
    start_until: date | None = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
