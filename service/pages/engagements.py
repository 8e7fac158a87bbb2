"""Engagement pages for each side: offers, lists, details with their moves and feedback."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core import policy
from service.core.engagements import (
    ACTION_LABELS,
    ACTIONS,
    CONTACT_STATES,
    engagement_view,
    give_feedback,
    move,
    moves_now,
    readable_engagement,
    set_terms,
)
from service.core.policy import Party
from service.core.proposals import (
    availability_is_current,
    explanation_for_people,
    reconfirm_availability,
)
from service.deps import (
    CurrentUser,
    RequireExpert,
    RequireMember,
    RequireStaff,
    SessionDep,
    StateDep,
)
from service.errors import Conflict, FieldErrors, NotFound
from service.i18n import N_, translate_message
from service.models import EngagementStatus, Mode, User
from service.models.types import utcnow
from service.pages.engagement_words import (
    completion_question,
    engagement_facts,
    feedback_sentences,
    later_moves,
    work_period,
)
from service.pages.forms import read_form, validate_form
from service.pages.reasons import language_levels, reasons
from service.repos import engagements as engagements_repo
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.repos import proposals as proposals_repo
from service.routes.pagination import PageDep
from service.routes.params import Id
from service.schemas.engagements import FeedbackWrite, MoveRequest, TermsRequest
from service.templating import flash, render

router = APIRouter()

S = EngagementStatus
DETAIL_BASE = {
    Party.EXPERT: "/expert/engagements",
    Party.INSTITUTION: "/institution/engagements",
    Party.STAFF: "/coordinator/engagements",
}
DONE_MESSAGES = {
    "accept": N_("You accepted the offer."),
    "decline": N_("You declined the offer."),
    "confirm": N_("The engagement is confirmed."),
    "start": N_("The engagement is now active."),
    "complete": N_("The engagement is marked as completed; the institution will confirm it."),
    "confirm_completion": N_("The engagement is completed."),
    "cancel": N_("The engagement is cancelled."),
}
# Moves after which the engagement's own page is what to read next, wherever they were made
# from: a confirmed engagement shows both sides' contact details and the first step (the
# proposals list it was confirmed from no longer holds it).
LANDS_ON_ENGAGEMENT = frozenset({"confirm"})
# Moves that cannot be undone are asked first: the button's form says what will happen
# (base.html's script asks with it, and marks the form confirmed); a form sent without that
# mark (no script) shows the page again with the question and a button that confirms.
CONFIRM_FIRST = frozenset({"complete"})
CONFIRMED_FIELD = "confirmed"
CONFIRM_LABELS = {"complete": N_("Yes, mark it as completed")}
TERMS_SAVED = N_("The dates, mode and hours are saved.")
LIST_TITLES = {
    Party.EXPERT: N_("My engagements"),
    Party.INSTITUTION: N_("Our engagements"),
    Party.STAFF: N_("All engagements"),
}

# The columns of an engagements list, decided once per reader: each reader sees who is on the
# other side, not themselves (an expert sees the institution, an institution the expert).
LIST_COLUMNS: dict[Party, tuple[str, ...]] = {
    Party.EXPERT: ("need", "institution", "dates", "status", "updated"),
    Party.INSTITUTION: ("need", "expert", "dates", "status", "updated"),
    Party.STAFF: ("need", "institution", "expert", "dates", "status", "updated"),
}


def _views(session: SessionDep, user: User, statuses: list[str] | None, page: Any) -> Any:
    rows, total = engagements_repo.list_engagements(
        session,
        **policy.engagement_scope(policy.reader_for(session, user)),
        statuses=statuses,
        offset=page.offset,
        limit=page.size,
    )
    views = [engagement_view(session, engagement=row, reader=user) for row in rows]
    return views, total, max(1, -(-total // page.size))


def _list_page(
    request: Request, session: SessionDep, user: User, party: Party, page: Any
) -> HTMLResponse:
    status = request.query_params.get("status") or None
    views, total, pages = _views(session, user, [status] if status else None, page)
    return render(
        request,
        "engagements/list.html",
        {
            "engagements": views,
            "total": total,
            "page": page.number,
            "pages": pages,
            "query_prefix": f"status={status}&" if status else "",
            "title": LIST_TITLES[party],
            "base": DETAIL_BASE[party],
            "reader": str(party),
            "columns": LIST_COLUMNS[party],
            "periods": {view["id"]: work_period(view) for view in views},
            "statuses": [str(s) for s in S],
            "status": status or "",
        },
    )


def _detail_page(
    request: Request,
    session: SessionDep,
    user: User,
    engagement_id: Id,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    asking: str = "",
) -> HTMLResponse:
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    today = utcnow().date()
    view = engagement_view(session, engagement=engagement, reader=user, party=party, today=today)
    questions = {
        action: completion_question(engagement, today=today)
        for action in CONFIRM_FIRST
        if action in view["actions"]
    }
    return render(
        request,
        "engagements/detail.html",
        {
            "e": view,
            "facts": engagement_facts(engagement, view),
            "later": later_moves(view),
            "questions": questions,
            "asking": asking if asking in questions else "",
            "confirmed_field": CONFIRMED_FIELD,
            "confirm_labels": CONFIRM_LABELS,
            "feedback": [(item, feedback_sentences(item)) for item in view["feedback"]],
            "base": DETAIL_BASE[party],
            "labels": ACTION_LABELS,
            "modes": [str(m) for m in Mode],
            "errors": errors or {},
            "values": values or {},
            "contact_states": [str(s) for s in CONTACT_STATES],
        },
        status_code=status_code,
    )


def _offer_details(session: SessionDep, views: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Gets, per engagement, the whole need, its institution and why the expert was proposed."""
    details: dict[int, dict[str, Any]] = {}
    for view in views:
        need = needs_repo.get_need(session, view["need"]["id"] or 0)
        proposal = proposals_repo.get_proposal(session, view.get("proposal_id") or 0)
        institution = (
            institutions_repo.get_institution(session, need.institution_id) if need else None
        )
        details[view["id"]] = {
            "need": need,
            "institution": institution,
            "reasons": reasons(
                explanation_for_people(proposal.explanation),
                levels=language_levels(view.get("expert")),
                country=institution.country if institution else "",
            )
            if proposal is not None
            else [],
        }
    return details


@router.get("/expert/proposals", response_class=HTMLResponse)
def expert_offers(
    request: Request, user: RequireExpert, session: SessionDep, state: StateDep, page: PageDep
) -> HTMLResponse:
    """Shows the offers awaiting the expert's answer, and those awaiting the institution."""
    views, total, pages = _views(session, user, [S.OFFERED, S.ACCEPTED], page)
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    return render(
        request,
        "engagements/expert_proposals.html",
        {
            "engagements": views,
            "total": total,
            "page": page.number,
            "pages": pages,
            "query_prefix": "",
            "expert": expert,
            "offers": _offer_details(session, views),
            # Only the offers still to answer: one accepted waits on the institution, not them.
            "waiting": engagements_repo.count_open_offers(session, expert_id=expert.id or 0),
            "labels": ACTION_LABELS,
            "available": availability_is_current(
                expert, now=utcnow(), reconfirm_days=state.settings.availability_reconfirm_days
            ),
        },
    )


@router.post("/expert/availability")
def still_available(request: Request, user: RequireExpert, session: SessionDep) -> Response:
    """Confirms in one click that the expert is still available."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    reconfirm_availability(session, expert=expert, actor=user)
    session.commit()
    response = RedirectResponse("/expert/proposals", status_code=303)
    flash(response, request, "Thank you: your availability is confirmed.", "success")
    return response


@router.get("/expert/engagements", response_class=HTMLResponse)
def expert_list(
    request: Request, user: RequireExpert, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Lists the expert's engagements."""
    return _list_page(request, session, user, Party.EXPERT, page)


@router.get("/expert/engagements/{engagement_id}", response_class=HTMLResponse)
def expert_detail(
    request: Request, engagement_id: Id, user: RequireExpert, session: SessionDep
) -> HTMLResponse:
    """Shows one of the expert's engagements."""
    return _detail_page(request, session, user, engagement_id)


@router.get("/institution/proposals", response_class=HTMLResponse)
def institution_offers(
    request: Request, user: RequireMember, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Shows the approved experts awaiting an answer or the institution's confirmation."""
    views, total, pages = _views(session, user, [S.OFFERED, S.ACCEPTED], page)
    return render(
        request,
        "engagements/institution_proposals.html",
        {
            "labels": ACTION_LABELS,
            "engagements": views,
            "offers": _offer_details(session, views),
            "total": total,
            "page": page.number,
            "pages": pages,
            "query_prefix": "",
        },
    )


@router.get("/institution/engagements", response_class=HTMLResponse)
def institution_list(
    request: Request, user: RequireMember, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Lists the institution's engagements."""
    return _list_page(request, session, user, Party.INSTITUTION, page)


@router.get("/institution/engagements/{engagement_id}", response_class=HTMLResponse)
def institution_detail(
    request: Request, engagement_id: Id, user: RequireMember, session: SessionDep
) -> HTMLResponse:
    """Shows one of the institution's engagements; contact details once confirmed."""
    return _detail_page(request, session, user, engagement_id)


@router.get("/coordinator/engagements", response_class=HTMLResponse)
def coordinator_list(
    request: Request, user: RequireStaff, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Lists every engagement, optionally by status."""
    return _list_page(request, session, user, Party.STAFF, page)


@router.get("/coordinator/engagements/{engagement_id}", response_class=HTMLResponse)
def coordinator_detail(
    request: Request, engagement_id: Id, user: RequireStaff, session: SessionDep
) -> HTMLResponse:
    """Shows an engagement with every move a coordinator may make."""
    return _detail_page(request, session, user, engagement_id)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    # A field left empty takes the model's default ("" for a text, None for a date).
    return {k: v for k, v in data.items() if k not in ("next", CONFIRMED_FIELD) and v != ""}


def _next_or(data: dict[str, Any], fallback: str) -> str:
    target = str(data.get("next") or "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@router.post("/engagements/{engagement_id}/feedback")
async def feedback_submit(
    request: Request, engagement_id: Id, user: CurrentUser, session: SessionDep
) -> Response:
    """Records the user's side's feedback."""
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    data = await read_form(request)
    data["would_repeat"] = data.get("would_repeat") == "on"
    form, errors = validate_form(FeedbackWrite, _clean(data))
    if form is None:
        return _detail_page(
            request, session, user, engagement_id, errors=errors, values=data, status_code=422
        )
    give_feedback(session, engagement=engagement, actor=user, data=form)
    session.commit()
    response = RedirectResponse(f"{DETAIL_BASE[party]}/{engagement_id}", status_code=303)
    flash(response, request, "Thank you for your feedback.", "success")
    return response


@router.post("/engagements/{engagement_id}/terms")
async def terms_submit(
    request: Request, engagement_id: Id, user: CurrentUser, session: SessionDep, state: StateDep
) -> Response:
    """Saves an engagement's dates, mode and hours; refused ones come back as typed."""
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    data = await read_form(request)
    form, errors = validate_form(TermsRequest, _clean(data))
    status_code = 422
    if form is not None:
        try:
            set_terms(
                session,
                engagement=engagement,
                actor=user,
                terms=form.terms(),
                settings=state.settings,
                seen=form.from_status,
            )
        except FieldErrors as exc:
            errors = exc.errors
        except Conflict as exc:
            errors = {"__all__": translate_message(exc.message, exc.params)}
            status_code = exc.status_code
        else:
            session.commit()
            response = RedirectResponse(f"{DETAIL_BASE[party]}/{engagement_id}", status_code=303)
            flash(response, request, TERMS_SAVED, "success")
            return response
    session.rollback()
    values = {**data, "_action": "terms"}
    return _detail_page(
        request, session, user, engagement_id, errors=errors, values=values, status_code=status_code
    )


@router.post("/engagements/{engagement_id}/{action}")
async def move_submit(
    request: Request,
    engagement_id: Id,
    action: str,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Makes a move from a page; a missing reason shows the page again with the error."""
    if action not in ACTIONS:
        raise NotFound("There is no such move.")
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    data = await read_form(request)
    if (
        action in CONFIRM_FIRST
        and data.get(CONFIRMED_FIELD) != "yes"
        and action in moves_now(engagement, party, today=utcnow().date()).actions
    ):
        # Not asked yet (no script): the page asks, and nothing is done. A move no longer
        # open goes on to its refusal, which says why.
        return _detail_page(request, session, user, engagement_id, asking=action)
    form, errors = validate_form(MoveRequest, _clean(data))
    status_code = 422
    if form is not None:
        try:
            move(
                session,
                engagement=engagement,
                actor=user,
                action=action,
                settings=state.settings,
                reason=form.reason,
                terms=form.terms(),
                seen=form.from_status,
            )
        except FieldErrors as exc:
            errors = exc.errors
        except Conflict as exc:
            # Moved meanwhile (another tab, the other side): show the page as it is now, with
            # why in the reader's words.
            errors = {"__all__": translate_message(exc.message, exc.params)}
            status_code = exc.status_code
        else:
            session.commit()
            detail = f"{DETAIL_BASE[party]}/{engagement_id}"
            target = detail if action in LANDS_ON_ENGAGEMENT else _next_or(data, detail)
            response = RedirectResponse(target, status_code=303)
            flash(response, request, DONE_MESSAGES[action], "success")
            return response
    session.rollback()
    values = {**data, "_action": action}
    return _detail_page(
        request, session, user, engagement_id, errors=errors, values=values, status_code=status_code
    )
