"""Search pages: the roster for coordinators, experts for institutions, open needs for experts,
and the needs the matcher ranked for an expert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.core import policy
from service.core.matching import needs_for_expert
from service.core.proposals import explanation_for_people
from service.core.search import SearchRequest, search_experts, search_needs
from service.core.search_vectors import query_embedder
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
from service.models import ExpertProfile, Need, User
from service.repos import experts as experts_repo
from service.repos import jobs as jobs_repo
from service.repos import needs as needs_repo
from service.repos.jobs import PENDING
from service.routes.search_params import SearchRequestDep
from service.templating import paginate, render
from service.worker.matching_tasks import REMATCH_EXPERT

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
            embed=query_embedder(state.settings).embed,
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
            embed=query_embedder(state.settings).embed,
        ),
        search,
        template="search/experts.html",
        extra={"action": "/institution/experts", "view": policy.roster_view(reader)},
    )


@router.get("/expert/needs", response_class=HTMLResponse)
def browse_needs(
    request: Request,
    user: RequireExpert,
    state: StateDep,
    session: SessionDep,
    search: SearchRequestDep,
) -> HTMLResponse:
    """Shows the needs ranked for the expert, with reasons, and a search of every open need."""
    browsing = bool(search.text or search.params or search.page > 1)
    return _results(
        request,
        lambda: search_needs(state.search, request=search),
        search,
        template="search/needs.html",
        extra={"action": "/expert/needs", **_for_you(session, user, browsing)},
    )


FOR_YOU_EMPTY = {
    "matching": N_(
        "Matching is in progress: your profile was just saved and the needs that suit it are "
        "being ranked. Reload this page in a minute."
    ),
    "no_consent": N_(
        "You have not agreed to be matched, so no need is ranked for you. You can agree on your "
        "profile page."
    ),
    "incomplete": N_(
        "Your profile is not complete enough to rank needs for you: complete it from your space."
    ),
    "none": N_(
        "No open need fits your profile closely enough yet. New needs are ranked for you as "
        "they are posted; meanwhile, browse every open need below."
    ),
}


def _for_you(session: SessionDep, user: User, browsing: bool) -> dict[str, Any]:
    """Gets the needs ranked for the expert, or why there are none (as a catalogue message)."""
    if browsing:
        return {"ranked": [], "levels": {}, "for_you_empty": ""}
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    ranked = _needs_for(session, expert)
    levels = {str(i.get("code")): str(i.get("level", "")) for i in expert.languages}
    why = ""
    if not ranked:
        job = jobs_repo.get_job_by_key(session, f"{REMATCH_EXPERT}:{expert.id}")
        if job is not None and job.status == PENDING:
            why = FOR_YOU_EMPTY["matching"]
        elif expert.consent_matching_at is None:
            why = FOR_YOU_EMPTY["no_consent"]
        elif not (expert.headline and expert.skills and expert.languages and expert.modes):
            why = FOR_YOU_EMPTY["incomplete"]
        else:
            why = FOR_YOU_EMPTY["none"]
    return {"ranked": ranked, "levels": levels, "for_you_empty": why}


def _needs_for(
    session: SessionDep, expert: ExpertProfile
) -> list[tuple[Need, dict[str, Any], float]]:
    proposals = needs_for_expert(session, expert_id=expert.id or 0, limit=10)
    needs = needs_repo.get_needs(session, [p.need_id for p in proposals])  # one query, not ten
    return [
        (needs[p.need_id], explanation_for_people(p.explanation), p.score)
        for p in proposals
        if p.need_id in needs
    ]
