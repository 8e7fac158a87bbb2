"""Impact and skills-gap reports over the API, for coordinators."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.core.reports import (
    DEFAULT_COVERAGE_THRESHOLD,
    MAX_COVERAGE_THRESHOLD,
    impact_report,
    skills_gap,
)
from service.deps import RequireStaff, SessionDep, StateDep
from service.schemas.reports import ImpactReport, SkillsGapReport

router = APIRouter(prefix="/api/reports", tags=["reports"])

From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Threshold = Annotated[float, Query(ge=0, le=MAX_COVERAGE_THRESHOLD)]


@router.get("/impact", response_model=ImpactReport)
def impact(
    user: RequireStaff, session: SessionDep, date_from: From = None, date_to: To = None
) -> dict[str, Any]:
    """Sums up the engagements offered in a period (all time without dates)."""
    return impact_report(session, date_from=date_from, date_to=date_to)


@router.get("/skills-gap", response_model=SkillsGapReport)
def gap(
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    date_from: From = None,
    date_to: To = None,
    threshold: Threshold = DEFAULT_COVERAGE_THRESHOLD,
) -> dict[str, Any]:
    """Sets what open needs ask for against what the roster offers (the same skill in several
    languages is one row)."""
    return skills_gap(
        session,
        threshold=threshold,
        date_from=date_from,
        date_to=date_to,
        model=state.settings.embedding_model,
    )
