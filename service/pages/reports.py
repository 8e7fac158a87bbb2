"""The coordinator's report pages: impact and skills gap, with charts, tables and CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from service.core.reports import (
    DEFAULT_COVERAGE_THRESHOLD,
    MAX_COVERAGE_THRESHOLD,
    bars,
    impact_csv,
    impact_report,
    skills_gap,
    skills_gap_csv,
)
from service.deps import RequireStaff, SessionDep, StateDep
from service.errors import FieldErrors
from service.i18n import N_, country_name, gettext_, label
from service.templating import render

router = APIRouter(prefix="/coordinator")

From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Threshold = Annotated[float, Query(ge=0, le=MAX_COVERAGE_THRESHOLD)]


CHARTS = (
    ("status", N_("Engagements by status"), "by_status"),
    ("country", N_("Engagements by country"), "by_country"),
    ("sector", N_("Engagements by sector"), "by_sector"),
    ("mode", N_("Engagements by mode"), "by_mode"),
    ("hours", N_("Hours contributed by country"), "hours_by_country"),
)


def _readable(chart: str, code: str) -> str:
    """Names a chart's bar in the reader's language (Senegal, not SN; Health, not health)."""
    if chart in ("country", "hours"):
        return country_name(code) or code
    kind = {"status": "engagement_status", "sector": "sector", "mode": "mode"}[chart]
    return label(kind, code)


def _check_period(date_from: date | None, date_to: date | None) -> None:
    """Refuses a period that ends before it starts (it would silently count nothing)."""
    if date_from and date_to and date_to < date_from:
        raise FieldErrors({"to": N_("The end of the period comes before its start.")})


def _period_query(date_from: date | None, date_to: date | None) -> str:
    parts = [
        f"from={date_from.isoformat()}" if date_from else "",
        f"to={date_to.isoformat()}" if date_to else "",
    ]
    return "&".join(p for p in parts if p)


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports", response_class=HTMLResponse)
def impact_page(
    request: Request,
    user: RequireStaff,
    session: SessionDep,
    date_from: From = None,
    date_to: To = None,
) -> HTMLResponse:
    """Shows the impact report for a period, with charts and their tables."""
    _check_period(date_from, date_to)
    report = impact_report(session, date_from=date_from, date_to=date_to)
    charts = [
        (
            name,
            gettext_(title),
            bars({_readable(name, key): value for key, value in report[section].items()}),
        )
        for name, title, section in CHARTS
    ]
    charts.append(
        (
            "ratings",
            gettext_(N_("Ratings (1 to 5 stars)")),
            bars(report["ratings"]["distribution"]),
        )
    )
    return render(
        request,
        "reports/impact.html",
        {"report": report, "charts": charts, "query": _period_query(date_from, date_to)},
    )


@router.get("/reports.csv")
def impact_csv_page(
    user: RequireStaff, session: SessionDep, date_from: From = None, date_to: To = None
) -> Response:
    """Downloads the impact report as CSV."""
    return _csv(
        impact_csv(impact_report(session, date_from=date_from, date_to=date_to)), "impact.csv"
    )


@router.get("/skills-gap", response_class=HTMLResponse)
def skills_gap_page(
    request: Request,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    date_from: From = None,
    date_to: To = None,
    threshold: Threshold = DEFAULT_COVERAGE_THRESHOLD,
) -> HTMLResponse:
    """Shows the skills most asked for against the roster, and the needs no expert covers well."""
    _check_period(date_from, date_to)
    report = skills_gap(
        session,
        threshold=threshold,
        date_from=date_from,
        date_to=date_to,
        model=state.settings.embedding_model,
    )
    top = report["skills"][:15]
    return render(
        request,
        "reports/skills_gap.html",
        {
            "report": report,
            "demand_bars": bars({row["skill"]: row["open_needs"] for row in top}),
            "max_threshold": MAX_COVERAGE_THRESHOLD,
            "query": "&".join(
                p for p in (_period_query(date_from, date_to), f"threshold={threshold}") if p
            ),
        },
    )


@router.get("/skills-gap.csv")
def skills_gap_csv_page(
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    date_from: From = None,
    date_to: To = None,
    threshold: Threshold = DEFAULT_COVERAGE_THRESHOLD,
) -> Response:
    """Downloads the skills-gap report as CSV."""
    report = skills_gap(
        session,
        threshold=threshold,
        date_from=date_from,
        date_to=date_to,
        model=state.settings.embedding_model,
    )
    return _csv(skills_gap_csv(report), "skills-gap.csv")
