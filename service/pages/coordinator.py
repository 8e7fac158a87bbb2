"""The coordinator's pages: queues and figures, institutions, experts, the roster export."""

from __future__ import annotations

import csv
import functools
import io
from datetime import date
from typing import Annotated, Any, Literal

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core import policy
from service.core.audit import record
from service.core.institutions import (
    Review,
    replies_of,
    review_institution,
    verification,
    verify_institution,
)
from service.deps import ReaderDep, RequireStaff, SessionDep, StateDep
from service.errors import NotFound
from service.i18n import N_, cldr_locale, country_name, gettext_, label
from service.models import ExpertProfile, Institution
from service.models.types import utcnow
from service.pages.charts import Bar, bar_chart
from service.pages.forms import read_form, validate_form
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.repos import stats as stats_repo
from service.routes.pagination import PAGE_SIZE
from service.routes.params import Id
from service.schemas.institutions import ReviewDecision
from service.templating import flash, paginate, render

router = APIRouter(prefix="/coordinator")

PageNumber = Annotated[int, Query(ge=1, le=100_000)]


def _institution_or_404(session: SessionDep, institution_id: int) -> Institution:
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound(N_("This institution does not exist."))
    return institution


def _month_name(month: str) -> str:
    """Writes 2026-03 as 'Mar 2026' (or 'mars 2026') in the current language."""
    return _month_in(month, cldr_locale())


@functools.lru_cache(maxsize=1024)
def _month_in(month: str, locale: str) -> str:
    # Babel took about 25 us a month name; the dashboard's chart names twelve on every visit.
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "MMM yyyy", locale=locale)


def _charts(session: SessionDep) -> list[object]:
    value = gettext_("Engagements")
    breakdown = stats_repo.engagements_by(session)
    by_country, by_sector, by_mode = (breakdown[d] for d in stats_repo.DIMENSIONS)
    by_month = stats_repo.engagements_by_month(session, months=12, today=date.today())
    return [
        bar_chart(
            chart_id="chart-country",
            title=gettext_("Engagements by country"),
            description=gettext_("Engagements under way or done, by the institution's country."),
            bars=[Bar(country_name(code) or "—", n) for code, n in by_country[:12]],
            value_heading=value,
        ),
        bar_chart(
            chart_id="chart-sector",
            title=gettext_("Engagements by sector"),
            description=gettext_("Engagements under way or done, by the need's sector."),
            bars=[Bar(label("sector", s) if s else "—", n) for s, n in by_sector],
            value_heading=value,
        ),
        bar_chart(
            chart_id="chart-mode",
            title=gettext_("Engagements by mode"),
            description=gettext_("Remote work, short on-site missions and hybrid engagements."),
            bars=[Bar(label("mode", m) if m else "—", n) for m, n in by_mode],
            value_heading=value,
        ),
        bar_chart(
            chart_id="chart-month",
            title=gettext_("Engagements by month"),
            description=gettext_("Engagements offered in each of the last twelve months."),
            bars=[Bar(_month_name(month), n) for month, n in by_month],
            value_heading=value,
        ),
    ]


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request, user: RequireStaff, state: StateDep, session: SessionDep
) -> HTMLResponse:
    """Shows the queues a coordinator works through, with the programme's figures."""
    pending, pending_total = institutions_repo.list_institutions(session, state="pending", limit=10)
    stale_days = state.settings.proposal_stale_days
    queues = {
        "needs_without_approval": stats_repo.count_open_needs_without_approval(session),
        "stale_proposals": stats_repo.count_stale_proposals(
            session, older_than_days=stale_days, now=utcnow()
        ),
        "stale_days": stale_days,
    }
    return render(
        request,
        "coordinator/dashboard.html",
        {
            "pending": pending,
            "pending_total": pending_total,
            "queues": queues,
            "figures": stats_repo.platform_figures(session),
            "charts": _charts(session),
        },
    )


@router.get("/institutions", response_class=HTMLResponse)
def institutions_page(
    request: Request,
    user: RequireStaff,
    session: SessionDep,
    status: Literal["all", "pending", "declined", "verified"] = "all",
    page: PageNumber = 1,
) -> HTMLResponse:
    """Lists institutions, newest first, filtered by verification state."""
    rows, total = institutions_repo.list_institutions(
        session,
        state=None if status == "all" else status,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "coordinator/institutions.html",
        {
            "institutions": rows,
            "verifications": {i.id: verification(i, staff=True) for i in rows},
            "total": total,
            "status": status,
            "pagination": paginate(
                request, total=total, page=page, size=PAGE_SIZE, path="/coordinator/institutions"
            ),
        },
    )


@router.get("/institutions/{institution_id}", response_class=HTMLResponse)
def institution_page(
    request: Request,
    institution_id: Id,
    user: RequireStaff,
    session: SessionDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Shows an institution: its details, members and needs, and the verify button."""
    institution = _institution_or_404(session, institution_id)
    context = _institution_context(request, session, institution, page=page)
    return render(
        request,
        "coordinator/institution.html",
        {**context, "values": {}, "errors": {}},
    )


def _institution_context(
    request: Request, session: SessionDep, institution: Institution, *, page: int
) -> dict[str, Any]:
    needs, total = needs_repo.list_needs(
        session, institution_id=institution.id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    members = institutions_repo.list_members(session, institution.id or 0)
    return {
        "institution": institution,
        "verification": verification(institution, staff=True),
        "members": members,
        # The members' answers to the coordinators' questions, by whom (named while members).
        "replies": replies_of(session, institution),
        "authors": {m.id: m.display_name or m.email for m in members},
        "needs": needs,
        "needs_total": total,
        "pagination": paginate(
            request,
            total=total,
            page=page,
            size=PAGE_SIZE,
            path=f"/coordinator/institutions/{institution.id}",
        ),
    }


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None


@router.post("/institutions/{institution_id}/verify")
async def verify(
    request: Request, institution_id: Id, user: RequireStaff, state: StateDep, session: SessionDep
) -> Response:
    """Verifies an institution, then goes back to where the coordinator was."""
    institution = _institution_or_404(session, institution_id)
    verify_institution(session, institution=institution, coordinator=user, settings=state.settings)
    session.commit()
    form = await request.form()
    next_value = form.get("next")
    target = _safe_next(next_value if isinstance(next_value, str) else None) or "/coordinator"
    response = RedirectResponse(target, status_code=303)
    flash(response, request, N_("Institution verified."), "success")
    return response


@router.post("/institutions/{institution_id}/review")
async def review(
    request: Request, institution_id: Id, user: RequireStaff, state: StateDep, session: SessionDep
) -> Response:
    """Asks an institution for more information, or declines it, with a reason sent to its
    members; without a reason the page shows again with the error beside the field."""
    institution = _institution_or_404(session, institution_id)
    data = await read_form(request)
    form, errors = validate_form(ReviewDecision, data)
    if form is None:
        return render(
            request,
            "coordinator/institution.html",
            {
                **_institution_context(request, session, institution, page=1),
                "values": data,
                "errors": errors,
            },
            status_code=422,
        )
    review_institution(
        session,
        institution=institution,
        coordinator=user,
        decision=Review(form.decision),
        reason=form.reason,
        settings=state.settings,
    )
    session.commit()
    response = RedirectResponse(f"/coordinator/institutions/{institution.id}", status_code=303)
    done = {
        Review.INFO_REQUESTED: N_("Your question is sent to the institution."),
        Review.DECLINED: N_("The institution is declined; its members are told why."),
    }
    flash(response, request, done[Review(form.decision)], "success")
    return response


@router.get("/experts/{expert_id}", response_class=HTMLResponse)
def expert_page(
    request: Request, expert_id: Id, user: RequireStaff, session: SessionDep
) -> HTMLResponse:
    """Shows an expert's full profile, contact details included."""
    expert = experts_repo.get_expert(session, expert_id)
    if expert is None:
        raise NotFound(N_("This expert does not exist."))
    return render(
        request,
        "coordinator/expert.html",
        {"expert": expert, "email": experts_repo.get_expert_email(session, expert)},
    )


CSV_COLUMNS = (
    "id",
    "display_name",
    "email",
    "phone",
    "headline",
    "skills",
    "languages",
    "origin_country",
    "residence_country",
    "city",
    "timezone",
    "modes",
    "hours_per_month",
    "available_from",
    "available_until",
    "sectors",
    "years_experience",
    "education",
    "visibility",
    "active",
    "consent_matching",
    "updated_at",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Writes a value for a CSV cell that a spreadsheet will show, never run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# A column derived from a field rather than named after it.
CSV_SOURCES = {"consent_matching": "consent_matching_at"}


def csv_columns(reader: policy.Reader) -> list[str]:
    """Gets the roster columns this reader may export: the fields the policy shows them."""
    fields = policy.EXPERT_FIELDS[policy.roster_view(reader)]
    return [column for column in CSV_COLUMNS if CSV_SOURCES.get(column, column) in fields]


def _csv_row(expert: ExpertProfile, email: str, columns: list[str]) -> list[str]:
    values: dict[str, object] = {
        **expert.model_dump(),
        "email": email,
        "skills": "; ".join(expert.skills),
        "languages": "; ".join(f"{i.get('code')}:{i.get('level')}" for i in expert.languages),
        "modes": "; ".join(expert.modes),
        "sectors": "; ".join(expert.sectors),
        "consent_matching": expert.consent_matching_at is not None,
        "updated_at": expert.updated_at.isoformat() if expert.updated_at else "",
    }
    return [csv_cell(values.get(column)) for column in columns]


@router.get("/experts.csv")
def experts_csv(user: RequireStaff, reader: ReaderDep, session: SessionDep) -> Response:
    """Exports the whole roster as CSV (the export itself is written to the audit log)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = csv_columns(reader)
    writer.writerow(columns)
    count = 0
    for expert, email in stats_repo.roster_for_export(session):
        writer.writerow(_csv_row(expert, email, columns))
        count += 1
    record(
        session,
        actor=user,
        action="experts.exported",
        entity_type="expert",
        entity_id=None,
        data={"rows": count},
    )
    session.commit()
    filename = f"homeward-experts-{date.today().isoformat()}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )
