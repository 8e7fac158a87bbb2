"""The coordinator's side-by-side comparison of two or three candidates for a need."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from service.core.comparison import Compared, chosen_ids, compare_candidates
from service.deps import RequireStaff, SessionDep
from service.errors import FieldErrors
from service.pages.reasons import (
    concern_sentences,
    dates_reason,
    hours_reason,
    language_levels,
    language_reasons,
    mode_reason,
    overlap_reason,
)
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.routes.params import Id
from service.templating import render_page_or_fragment

router = APIRouter(prefix="/coordinator")


def comparison_cells(column: Compared) -> dict[str, Any]:
    """Gets the words of one column: each row of the comparison as sentences."""
    x = column.row["explanation"]
    facts: dict[str, Any] = x.get("facts") or {}
    return {
        "languages": language_reasons(x, language_levels(column.row["expert"])),
        "availability": [r for r in (dates_reason(facts), hours_reason(facts)) if r],
        "mode": mode_reason(facts),
        "overlap": overlap_reason(x),
        "country_tie": bool(x.get("country_tie")),
        "concerns": concern_sentences(x, column.row["concerns"]),
    }


def compare_page(
    request: Request,
    session: SessionDep,
    user: RequireStaff,
    need_id: int,
    picked: list[str],
) -> HTMLResponse:
    """Renders the comparison (the whole page, or only the table for htmx), or why it cannot."""
    need = needs_repo.get_need(session, need_id)
    columns: list[Compared] = []
    error = ""
    try:
        need, columns = compare_candidates(
            session, need_id=need_id, expert_ids=chosen_ids(picked), reader=user
        )
    except FieldErrors as exc:
        if need is None:
            raise
        error = exc.errors["expert"]
    context = {
        "need": need,
        "institution": institutions_repo.get_institution(session, need.institution_id)
        if need
        else None,
        "columns": [(c, comparison_cells(c)) for c in columns],
        "error": error,
    }
    return render_page_or_fragment(
        request,
        page="review/compare.html",
        fragment="review/_compare.html",
        context=context,
        status_code=422 if error else 200,
    )


@router.get("/needs/{need_id}/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    need_id: Id,
    user: RequireStaff,
    session: SessionDep,
    expert: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    """Shows two or three candidates of a need side by side, with an approve button each."""
    return compare_page(request, session, user, need_id, expert or [])
