"""Search pages: the roster for coordinators, experts for institutions, open needs for experts,
and the needs the matcher ranked for an expert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_skeleton
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from service.core import policy
from service.core.search import (
    BAD_FILTER,
    WHEN_PARAMS,
    SearchRequest,
    search_experts,
    search_needs,
    usable_request,
)
from service.core.search_vectors import search_embed
from service.core.suggestions import suggest_expert
from service.deps import (
    ReaderDep,
    RequireExpert,
    RequireRosterReader,
    RequireStaff,
    RequireSuggester,
    SessionDep,
    StateDep,
)
from service.errors import Conflict, FieldErrors, NotFound
from service.i18n import (
    N_,
    cldr_locale,
    country_name,
    gettext_,
    label,
    language_name,
    translate_message,
)
from service.pages.for_you import for_you_context
from service.pages.forms import read_form
from service.repos import experts as experts_repo
from service.repos import needs as needs_repo
from service.routes.params import MAX_ID, Id
from service.routes.search_params import SearchPageRequestDep
from service.templating import flash, paginate, render

router = APIRouter()


def _results(
    request: Request,
    run: Callable[[SearchRequest], dict[str, Any]],
    search: SearchRequest,
    *,
    template: str,
    needs: bool = False,
    extra: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> HTMLResponse:
    """Runs a search for a page (of needs, or of experts); a filter it cannot use is left out
    and said why on the page (422), beside the results of the rest, never as an error page.
    `status_code` is that of a form on the page that was refused (its errors in `extra`)."""
    search = usable_request(search, needs=needs)
    while True:
        try:
            results = run(search)
            break
        except FieldErrors as exc:
            # What the backend refused that the page did not foresee: searched without it.
            refused = {k: BAD_FILTER for k in exc.errors if k in search.params}
            if not refused:
                raise
            search = replace(
                search,
                params={k: v for k, v in search.params.items() if k not in refused},
                rejected={**search.rejected, **refused},
            )
    action = (extra or {}).get("action", "")
    filters = [(name, value) for name, values in search.params.items() for value in values]
    context = {
        **(extra or {}),
        "q": search.text,
        # Where "clear the filters" and "search without the words" lead.
        "without_filters_url": action
        + (f"?{urlencode({'q': search.text})}" if search.text else ""),
        "without_words_url": action + (f"?{urlencode(filters)}" if filters else ""),
        "results": results,
        "selected": {name: set(values) for name, values in search.params.items()},
        "rejected": search.rejected,
        "facet_label": facet_label,
        "marked_items": marked_items,
        "pagination": paginate(
            request, total=results["total"], page=search.page, size=search.per_page, path=action
        ),
    }
    if status_code is None:
        status_code = 422 if search.rejected else 200
    return render(request, template, context, status_code=status_code)


def marked_items(marked: str) -> list[Markup]:
    """Splits a highlighted list (skills) back into its items, so the page shows them as its
    other lists, not with the index's separator (`searchable_text` joins them with ' ; ')."""
    # safe_highlight escaped the text and added only <mark> tags.
    return [Markup(part) for part in marked.split(" ; ") if part.strip()]  # noqa: S704


def facet_label(name: str, value: str) -> str:
    """Gets a facet value as the reader says it: a country, a language, a sector, a month."""
    if name in ("country", "residence"):
        return country_name(value) or value
    if name == "language":
        return language_name(value)
    if name in ("sector", "mode"):
        return label(name, value)
    if name in WHEN_PARAMS:
        return _when(value, cldr_locale())
    return value


@lru_cache(maxsize=256)
def _when(value: str, locale: str) -> str:
    if value == "now":
        return gettext_("Now")
    try:
        month = date.fromisoformat(f"{value}-01")
    except ValueError:
        return value
    return format_skeleton("yMMMM", month, locale=locale)


@router.get("/coordinator/roster", response_class=HTMLResponse)
def roster(
    request: Request,
    user: RequireStaff,
    reader: ReaderDep,
    state: StateDep,
    search: SearchPageRequestDep,
) -> HTMLResponse:
    """Searches every expert, with facets: what a coordinator works from."""
    return _results(
        request,
        lambda clean: search_experts(
            state.search,
            reader=reader,
            request=clean,
            embed=search_embed(state.settings),
            broaden=True,
        ),
        search,
        template="search/experts.html",
        extra={"action": "/coordinator/roster", "view": policy.roster_view(reader)},
    )


@dataclass(frozen=True)
class SuggestionRefused:
    """A suggestion the roster's form sent that was refused: for which expert's card, the need
    chosen (if one was), why (in the reader's words) and the status the page answers."""

    expert_id: int
    need_id: int | None
    message: str
    status_code: int


def _institution_roster(
    request: Request,
    reader: policy.Reader,
    state: StateDep,
    session: SessionDep,
    search: SearchRequest,
    *,
    refused: SuggestionRefused | None = None,
) -> HTMLResponse:
    """Renders the roster a verified institution browses, each card with the form suggesting
    the expert for one of its open needs; a refused suggestion shows its error beside that
    card's form (or above the results, once the card is gone), the need chosen kept."""
    own = (
        needs_repo.needs_of_institution(session, reader.institution_id)
        if reader.institution_id
        else []
    )
    targets = policy.suggestion_targets(reader, own)
    query = request.url.query
    extra: dict[str, Any] = {
        "action": ROSTER,
        "view": policy.roster_view(reader),
        "suggest_needs": targets,
        # The suggestion forms post to the roster's own query, which the page comes back to.
        "roster_query": f"?{query}" if query else "",
        "errors": {},
        "suggest_chosen": {},
    }
    if refused is not None:
        extra["errors"] = {f"need_id-{refused.expert_id}": refused.message}
        extra["suggest_chosen"] = {refused.expert_id: refused.need_id}
        # A need of its own chosen that no longer takes suggestions (closed meanwhile) stays
        # shown as chosen, unselectable, beside why.
        offered = {need.id for need in targets}
        extra["kept_need"] = next(
            (n for n in own if n.id == refused.need_id and n.id not in offered), None
        )
    return _results(
        request,
        lambda clean: search_experts(
            state.search,
            reader=reader,
            request=clean,
            embed=search_embed(state.settings),
            broaden=True,
        ),
        search,
        template="search/experts.html",
        extra=extra,
        status_code=refused.status_code if refused is not None else None,
    )


@router.get("/institution/experts", response_class=HTMLResponse)
def browse_experts(
    request: Request,
    user: RequireRosterReader,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    search: SearchPageRequestDep,
) -> HTMLResponse:
    """Lets a verified institution browse the experts who agreed to be seen: skills, not
    names; each may be suggested for one of its open needs."""
    return _institution_roster(request, reader, state, session, search)


ROSTER = "/institution/experts"
SUGGESTION_SENT = N_(
    "Thank you: the coordinator will review your suggestion and may offer this expert the "
    "engagement. You will see their name if they are proposed for your need."
)
ALREADY_SUGGESTED = N_(
    "You already suggested this expert for this need: the coordinator will review it."
)
CHOOSE_A_NEED = N_("Choose one of your open needs to suggest this expert for.")


@router.post("/institution/experts/{expert_id}/suggest")
async def suggest_expert_submit(
    request: Request,
    expert_id: Id,
    user: RequireSuggester,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    search: SearchPageRequestDep,
) -> Response:
    """Suggests an expert found in the roster for one of the institution's open needs, then
    back to the roster as it was; refused, the roster shows again with why beside the card."""
    typed = str((await read_form(request)).get("need_id", "")).strip()
    need_id = int(typed) if typed.isdigit() and 1 <= int(typed) <= MAX_ID else None
    refused = SuggestionRefused(expert_id, need_id, CHOOSE_A_NEED, 422)
    if need_id is not None:
        try:
            _, new = suggest_expert(
                session,
                reader=reader,
                actor=user,
                need_id=need_id,
                expert_id=expert_id,
                settings=state.settings,
            )
        except (NotFound, Conflict) as exc:
            # The need closed meanwhile (409), or the expert left the roster (404).
            session.rollback()
            message = translate_message(exc.message, exc.params)
            refused = SuggestionRefused(expert_id, need_id, message, exc.status_code)
        else:
            session.commit()
            query = request.url.query
            response = RedirectResponse(ROSTER + (f"?{query}" if query else ""), status_code=303)
            flash(response, request, SUGGESTION_SENT if new else ALREADY_SUGGESTED, "success")
            return response
    return _institution_roster(request, reader, state, session, search, refused=refused)


@router.get("/expert/needs", response_class=HTMLResponse)
def browse_needs(
    request: Request,
    user: RequireExpert,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    search: SearchPageRequestDep,
) -> HTMLResponse:
    """Shows the needs ranked for the expert, with reasons, and a search of every open need."""
    browsing = bool(search.text or search.params or search.page > 1)
    return _results(
        request,
        lambda clean: search_needs(
            state.search, request=clean, embed=search_embed(state.settings), broaden=True
        ),
        search,
        template="search/needs.html",
        needs=True,
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
