"""Coordinator review pages: the queue of needs, a need's ranked proposals, the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.assignment import team_for_need
from service.core.comparison import MAX_COMPARED, MIN_COMPARED, PICK_TWO_OR_THREE
from service.core.engagements import WAITING_STATES, confirmed_among
from service.core.needs import (
    readable_need,
    review_history,
    set_widen_modes,
)
from service.core.proposals import (
    Seats,
    approve_proposal,
    decide_in_bulk,
    interested_on_review,
    offer_to_interested,
    reject_proposal,
    review_page_rows,
    standing_offers,
)
from service.deps import RequireStaff, SessionDep, StateDep
from service.errors import Conflict, FieldErrors, NotFound
from service.i18n import (
    LABELS,
    N_,
    country_name,
    fold,
    gettext_,
    ngettext_,
    translate_message,
)
from service.models import NeedStatus, User
from service.models.types import utcnow
from service.pages.compare import compare_page
from service.pages.forms import read_form
from service.repos import audit as audit_repo
from service.repos import engagements as engagements_repo
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.repos import proposals as proposals_repo
from service.repos import suggestions as suggestions_repo
from service.repos import users as users_repo
from service.repos.proposals import QUEUE_ORDERS
from service.routes.pagination import PageDep
from service.routes.params import MAX_ID, Id
from service.templating import flash, render, wants_fragment

router = APIRouter(prefix="/coordinator")

DONE = {
    "approve": N_("Proposal approved: the expert is offered the engagement."),
    "reject": N_("Proposal rejected."),
}
DONE_BULK = {"approve": N_("Proposals approved."), "reject": N_("Proposals rejected.")}


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


@router.get("/needs", response_class=HTMLResponse)
def queue(
    request: Request,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    page: PageDep,
    q: Annotated[str, Query(max_length=200)] = "",
    country: Annotated[str, Query(max_length=2)] = "",
    sector: Annotated[str, Query(max_length=40)] = "",
    order: Annotated[str, Query(max_length=10)] = "newest",
) -> HTMLResponse:
    """Lists open needs with no approved proposal, and what has waited on someone too long."""
    order = order if order in QUEUE_ORDERS else "newest"
    needs, total = proposals_repo.needs_awaiting_approval(
        session,
        offset=page.offset,
        limit=page.size,
        text=q.strip(),
        country=country,
        sector=sector,
        order=order,
    )
    filters = {"q": q, "country": country, "sector": sector, "order": order}
    before = utcnow() - timedelta(days=state.settings.proposal_stale_days)
    return render(
        request,
        "review/queue.html",
        {
            "needs": needs,
            "counts": proposals_repo.proposal_counts(session, [n.id or 0 for n in needs]),
            "institutions": {
                n.institution_id: institutions_repo.get_institution(session, n.institution_id)
                for n in needs
            },
            "total": total,
            "page": page.number,
            "pages": _pages(total, page.size),
            "query_prefix": "".join(f"{k}={quote(v)}&" for k, v in filters.items() if v),
            "filters": filters,
            "countries": _queue_countries(session, filters["country"]),
            "sectors": list(LABELS["sector"]),
            "stale_proposals": proposals_repo.stale_proposals(session, before=before),
            "stale_engagements": engagements_repo.stale_engagements(
                session, statuses=list(WAITING_STATES), before=before
            ),
            "stale_days": state.settings.proposal_stale_days,
        },
    )


def _seats_words(seats: Seats, *, approved: bool) -> str:
    """Warns that a need has as many offers out as experts it wants: before approving one more,
    or after (`approved`), counting the one just made."""
    wanted = ngettext_(
        "This need wants %(num)s expert.", "This need wants %(num)s experts.", seats.wanted
    ) % {"num": seats.wanted}
    if approved:
        out = ngettext_(
            "%(num)s offer for it is out now.", "%(num)s offers for it are out now.", seats.out
        ) % {"num": seats.out}
        then = gettext_(
            "Once the need is filled, the offers still waiting are withdrawn "
            "and their experts are told."
        )
    else:
        out = ngettext_(
            "%(num)s offer for it is already out.",
            "%(num)s offers for it are already out.",
            seats.out,
        ) % {"num": seats.out}
        then = gettext_(
            "Approving makes one more: once the need is filled, the offers still waiting are "
            "withdrawn and their experts are told."
        )
    return f"{wanted} {out} {then}"


def _queue_countries(session: SessionDep, chosen: str) -> list[tuple[str, str]]:
    """The queue filter's countries: those of needs awaiting approval, and the one chosen."""
    codes = set(proposals_repo.queue_countries(session)) | ({chosen.upper()} if chosen else set())
    return sorted(((code, country_name(code)) for code in codes), key=lambda pair: fold(pair[1]))


def _review_page(
    request: Request,
    session: SessionDep,
    user: User,
    need_id: Id,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    only: int | None = None,
    ticked: tuple[list[int], str] = ([], ""),
    approved_warning: str = "",
) -> HTMLResponse:
    """Renders a need's review page, or only one candidate's card (`only`, for htmx); a bulk
    decision that was refused keeps its ticks and reason (`ticked`)."""
    found = needs_repo.get_need_with_institution(session, need_id)
    if found is None:
        raise NotFound("This need does not exist.")
    need, institution = found
    rows = review_page_rows(session, need_id=need_id, reader=user)
    team = (
        team_for_need(
            session, need=need, proposals=[(r["proposal"], r["explanation"]) for r in rows]
        )
        if need.status == NeedStatus.OPEN
        else None
    )
    names = {r["proposal"].id: (r["expert"] or {}).get("display_name", "") for r in rows}
    taken = standing_offers(
        session, need, states=[r["engagement"].status for r in rows if r["engagement"]]
    )
    context: dict[str, Any] = {
        "seats_warning": _seats_words(taken, approved=False)
        if need.status == NeedStatus.OPEN and taken.over_with(1)
        else "",
        "approved_warning": approved_warning,
        "need": need,
        "institution": institution,
        "rows": rows,
        "errors": errors or {},
        "ticked": ticked[0],
        "bulk_reason": ticked[1],
        "team": team,
        # Read from the rows: every engagement of the need came from one of its proposals.
        "confirmed": confirmed_among(r["engagement"] for r in rows),
        "team_members": [
            (m, p, names.get(p.id, ""))
            for m, p in zip(team.team.members, team.proposals, strict=True)
        ]
        if team
        else [],
    }
    # The experts interested and the history come from the need's events, read once.
    context["interested"], context["history"] = review_history(
        session, need_id=need_id, proposal_ids=[r["proposal"].id or 0 for r in rows]
    )
    listed = interested_on_review(
        session,
        interested=context["interested"],
        suggested=suggestions_repo.suggested_experts(session, need_id),
        rows=rows,
    )
    context["interested_experts"] = listed
    context["interested_names"] = {item.id: item.name for item in listed}
    if only is not None:
        row = next((r for r in rows if r["proposal"].id == only), None)
        if row is not None:
            # The card, and the history again (out of band): it now holds the decision.
            rank = rows.index(row) + 1
            return render(
                request,
                "review/_decided.html",
                {**context, "row": row, "rank": rank, "done": status_code == 200},
                status_code=status_code,
            )
    return render(request, "review/need.html", context, status_code=status_code)


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def review_need(
    request: Request, need_id: Id, user: RequireStaff, session: SessionDep
) -> HTMLResponse:
    """Shows a need and its ranked proposals with their explanations, to approve or reject."""
    return _review_page(request, session, user, need_id)


@router.post("/needs/{need_id}/modes")
async def widen_modes(
    request: Request, need_id: Id, user: RequireStaff, session: SessionDep
) -> Response:
    """Widens a need to experts of other engagement modes (or narrows it back)."""
    need = readable_need(session, need_id=need_id, reader=user)
    widen = (await request.form()).get("widen") == "on"
    set_widen_modes(session, need=need, coordinator=user, widen=widen)
    session.commit()
    message = (
        N_("Experts of other modes will be proposed too, ranked lower.")
        if widen
        else N_("Only experts who offer this need's mode will be proposed.")
    )
    return _done(request, need_id, message)


def _done(request: Request, need_id: int, message: str, anchor: str = "") -> Response:
    fragment = f"#{anchor}" if anchor else ""
    response = RedirectResponse(f"/coordinator/needs/{need_id}{fragment}", status_code=303)
    flash(response, request, message, "success")
    return response


@router.post("/needs/{need_id}/interested/{expert_id}")
def offer_interested(
    request: Request,
    need_id: Id,
    expert_id: Id,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Offers a need to an expert who said they are interested in it."""
    need = readable_need(session, need_id=need_id, reader=user)
    try:
        offer_to_interested(
            session, need=need, expert_id=expert_id, coordinator=user, settings=state.settings
        )
    except Conflict as exc:
        session.rollback()
        return _review_page(
            request,
            session,
            user,
            need_id,
            errors={"__all__": translate_message(exc.message, exc.params)},
            status_code=exc.status_code,
        )
    session.commit()
    return _done(request, need_id, DONE["approve"], anchor="interested")


@router.post("/proposals/{proposal_id}/{decision}")
async def decide(
    request: Request,
    proposal_id: Id,
    decision: str,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Approves or rejects one proposal."""
    proposal = proposals_repo.get_proposal(session, proposal_id)
    if proposal is None or decision not in ("approve", "reject"):
        raise NotFound("This proposal does not exist.")
    reason = str((await read_form(request)).get("reason", ""))[:2000]
    in_place = wants_fragment(request)
    need = needs_repo.get_need(session, proposal.need_id)
    before = standing_offers(session, need) if need is not None else None
    try:
        if decision == "approve":
            approve_proposal(
                session, proposal=proposal, coordinator=user, settings=state.settings, reason=reason
            )
        else:
            reject_proposal(session, proposal=proposal, coordinator=user, reason=reason)
    except FieldErrors as exc:
        session.rollback()
        errors = {f"{k}-{proposal_id}": v for k, v in exc.errors.items()}
        return _review_page(
            request,
            session,
            user,
            proposal.need_id,
            errors=errors,
            status_code=422,
            only=proposal_id if in_place else None,
        )
    except Conflict as exc:
        # Decided meanwhile by another coordinator: show the need (or, in place, the card) as
        # it is now, with why nothing was done.
        session.rollback()
        key = f"decision-{proposal_id}" if in_place else "__all__"
        return _review_page(
            request,
            session,
            user,
            proposal.need_id,
            errors={key: translate_message(exc.message, exc.params)},
            status_code=exc.status_code,
            only=proposal_id if in_place else None,
        )
    session.commit()
    warning = ""
    if decision == "approve" and before is not None and before.over_with(1):
        warning = _seats_words(Seats(before.wanted, before.out + 1), approved=True)
    if in_place:
        return _review_page(
            request, session, user, proposal.need_id, only=proposal_id, approved_warning=warning
        )
    response = _done(request, proposal.need_id, DONE[decision], anchor=f"candidate-{proposal_id}")
    if warning:
        flash(response, request, warning, "warning")
    return response


@router.post("/needs/{need_id}/bulk")
async def bulk(
    request: Request, need_id: Id, user: RequireStaff, session: SessionDep, state: StateDep
) -> Response:
    """Approves or rejects the ticked proposals of a need with one reason."""
    data = await read_form(request, list_fields=("proposal_ids",))
    ids = [int(v) for v in data.get("proposal_ids", []) if str(v).isdigit()]
    action = str(data.get("action", ""))
    reason = str(data.get("reason", ""))[:2000]
    if action == "compare":
        return _compare_ticked(request, session, user, need_id, ids)
    errors: dict[str, str] = {}
    if not ids:
        errors["bulk"] = N_("Tick at least one proposal.")
    elif action not in ("approve", "reject"):
        errors["bulk"] = N_("Choose to approve or to reject.")
    else:
        need = needs_repo.get_need(session, need_id)
        before = standing_offers(session, need) if need is not None else None
        try:
            decide_in_bulk(
                session,
                need_id=need_id,
                proposal_ids=ids,
                action=action,
                reason=reason,
                coordinator=user,
                settings=state.settings,
            )
        except FieldErrors as exc:
            errors = {"bulk": "; ".join(exc.errors.values())}
        except Conflict as exc:
            session.rollback()
            return _review_page(
                request,
                session,
                user,
                need_id,
                errors={"__all__": translate_message(exc.message, exc.params)},
                status_code=exc.status_code,
            )
    if errors:
        session.rollback()
        return _review_page(
            request, session, user, need_id, errors=errors, status_code=422, ticked=(ids, reason)
        )
    session.commit()
    response = _done(request, need_id, DONE_BULK[action])
    if action == "approve" and before is not None and before.over_with(len(ids)):
        after = Seats(before.wanted, before.out + len(ids))
        flash(response, request, _seats_words(after, approved=True), "warning")
    return response


def _compare_ticked(
    request: Request, session: SessionDep, user: User, need_id: int, proposal_ids: list[int]
) -> Response:
    """Sends the ticked candidates to their comparison (a page a coordinator can bookmark)."""
    experts = [
        p.expert_id for p in proposals_repo.list_for_need(session, need_id) if p.id in proposal_ids
    ]
    if MIN_COMPARED <= len(experts) <= MAX_COMPARED:
        query = "&".join(f"expert={expert_id}" for expert_id in experts)
        return RedirectResponse(f"/coordinator/needs/{need_id}/compare?{query}", status_code=303)
    if wants_fragment(request):
        return compare_page(request, session, user, need_id, [])
    return _review_page(
        request, session, user, need_id, errors={"bulk": PICK_TWO_OR_THREE}, status_code=422
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: RequireStaff,
    session: SessionDep,
    page: PageDep,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    """Shows the audit log, newest first: who moved what, when, from, to and why. Read-only."""
    # An empty id box means "any id"; the form sends it as an empty string.
    wanted_id = int(entity_id) if entity_id.strip().isdigit() else None
    if wanted_id is not None and wanted_id > MAX_ID:
        wanted_id = 0  # no row has it: an empty page, not a database error
    events, total = audit_repo.list_events(
        session,
        entity_type=entity_type or None,
        entity_id=wanted_id,
        offset=page.offset,
        limit=page.size,
    )
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    actors: dict[int, Any] = {i: users_repo.get_user(session, i) for i in actor_ids}
    prefix = "".join(
        f"{name}={value}&"
        for name, value in (("entity_type", entity_type), ("entity_id", wanted_id))
        if value
    )
    return render(
        request,
        "review/audit.html",
        {
            "events": events,
            "actors": actors,
            "total": total,
            "page": page.number,
            "pages": _pages(total, page.size),
            "query_prefix": prefix,
            "entity_type": entity_type or "",
            "entity_id": wanted_id or "",
        },
    )
