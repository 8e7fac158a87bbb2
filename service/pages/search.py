"""Search pages: the roster for coordinators, experts for institutions, open needs for experts,
and the needs the matcher ranked for an expert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.core import policy
from service.core.search import SearchRequest, search_experts, search_needs
from service.core.search_vectors import search_embed
from service.deps import (
    ReaderDep,
    RequireExpert,
    RequireRosterReader,
    RequireStaff,
    SessionDep,
    StateDep,
)
from service.errors import FieldErrors, NotFound
from service.i18n import N_
from service.pages.for_you import for_you_context
from service.repos import experts as experts_repo
from service.routes.search_params import SearchRequestDep
from service.templating import paginate, render

router = APIRouter()


def _results(
    request: Request,
    run: Callable[[], dict[str, Any]],
    search: SearchRequest,
    *,
    template: str,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """Runs a search for a page; a bad filter is shown on the page, not as an error page."""
    try:
        results = run()
        error = ""
    except FieldErrors as exc:
        results = {"items": [], "total": 0, "facets": {}}
        error = "; ".join(f"{field}: {message}" for field, message in exc.errors.items())
    selected = {name: set(values) for name, values in search.params.items()}
    context = {
        **(extra or {}),
        "q": search.text,
        "results": results,
        "selected": selected,
        "error": error,
        "pagination": paginate(
            request, total=results["total"], page=search.page, size=search.per_page
        ),
    }
    return render(request, template, context, status_code=422 if error else 200)


@router.get("/coordinator/roster", response_class=HTMLResponse)
def roster(
    request: Request,
    user: RequireStaff,
    reader: ReaderDep,
    state: StateDep,
    search: SearchRequestDep,
) -> HTMLResponse:
    """Searches every expert, with facets: what a coordinator works from."""
    return _results(
        request,
        lambda: search_experts(
            state.search,
            reader=reader,
            request=search,
            embed=search_embed(state.settings),
        ),
        search,
        template="search/experts.html",
        extra={"action": "/coordinator/roster", "view": policy.roster_view(reader)},
    )


@router.get("/institution/experts", response_class=HTMLResponse)
def browse_experts(
    request: Request,
    user: RequireRosterReader,
    reader: ReaderDep,
    state: StateDep,
    search: SearchRequestDep,
) -> HTMLResponse:
    """Lets a verified institution browse the experts who agreed to be seen: skills, not
    names."""
    return _results(
        request,
        lambda: search_experts(
            state.search,
            reader=reader,
            request=search,
            embed=search_embed(state.settings),
        ),
        search,
        template="search/experts.html",
        extra={"action": "/institution/experts", "view": policy.roster_view(reader)},
    )


@router.get("/expert/needs", response_class=HTMLResponse)
def browse_needs(
    request: Request,
    user: RequireExpert,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    search: SearchRequestDep,
) -> HTMLResponse:
    """Shows the needs ranked for the expert, with reasons, and a search of every open need."""
    browsing = bool(search.text or search.params or search.page > 1)
    return _results(
        request,
        lambda: search_needs(state.search, request=search, embed=search_embed(state.settings)),
        search,
        template="search/needs.html",
        extra={"action": "/expert/needs", **_for_you(session, reader, browsing)},
    )


def _for_you(session: SessionDep, reader: policy.Reader, browsing: bool) -> dict[str, Any]:
    """Gets the needs ranked for the expert, or why there are none (none while searching)."""
    if browsing:
        return {"for_you": None}
    # The reader's profile, which working out the reader loaded into this session: no query.
    expert = experts_repo.get_expert(session, reader.expert_id) if reader.expert_id else None
    if expert is None:
        raise NotFound(N_("You have no expert profile."))
    return for_you_context(session, expert, limit=10)
