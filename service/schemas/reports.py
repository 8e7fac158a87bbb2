"""Payloads of the impact and skills-gap reports."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Period(BaseModel):
    """The period a report covers; open bounds are null."""

    start: date | None = Field(alias="from")
    end: date | None = Field(alias="to")


class Ratings(BaseModel):
    count: int
    average: float | None
    expert_average: float | None
    institution_average: float | None
    distribution: dict[str, int]
    would_repeat: int


class ImpactReport(BaseModel):
    """The engagements offered in a period: counts, hours, speed, completion and ratings."""

    period: Period
    engagements: int
    by_status: dict[str, int]
    by_country: dict[str, int]
    by_sector: dict[str, int]
    by_mode: dict[str, int]
    hours_contributed: int
    hours_by_country: dict[str, int]
    median_days_to_confirm: float | None
    confirmed: int
    completed: int
    completion_rate: float | None
    ratings: Ratings


class SkillGap(BaseModel):
    skill: str
    key: str
    # The same skill asked in other languages, merged into this row (most asked first).
    variants: list[str] = []
    open_needs: int
    uncovered_needs: int
    active_experts: int
    gap: int


class UncoveredNeed(BaseModel):
    id: int
    title: str
    institution: str
    country: str
    sector: str
    best_score: float | None
    skills: list[str]


class SkillsGapReport(BaseModel):
    """What open needs ask for against what the active roster offers, skill by skill."""

    threshold: float
    period: Period
    open_needs: int
    uncovered_count: int
    skills: list[SkillGap]
    uncovered_needs: list[UncoveredNeed]
    by_sector: dict[str, dict[str, int]]
    by_country: dict[str, dict[str, int]]
