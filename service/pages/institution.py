"""The institution's pages: its space, its organisation profile and its needs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from service.core import policy
from service.core.engagements import confirmed_seats
from service.core.institutions import (
    replies_of,
    reply_to_review,
    update_institution,
    verification,
)
from service.core.needs import (
    NeedSaved,
    discard_draft,
    edit_need,
    is_posted,
    need_saved,
    need_stage,
    open_offer_count,
    post_need,
    publish_need,
    readable_need,
)
from service.core.policy import Action
from service.core.preview import preview_count, preview_text
from service.core.suggestions import suggested_count
from service.deps import (
    MemberInstitution,
    ReaderDep,
    RequireMember,
    RequireNeedPreview,
    RequireReplier,
    SessionDep,
    StateDep,
)
from service.errors import Conflict, FieldErrors
from service.i18n import N_, field_messages, translate_message
from service.models import Institution, InstitutionType, Mode, Need, NeedStatus, Support
from service.models.experts import SECTORS
from service.pages.forms import read_form, validate_form
from service.repos import needs as needs_repo
from service.routes.pagination import PAGE_SIZE
from service.routes.params import MAX_ID, Id
from service.routes.skills import skills_in_use
from service.schemas.institutions import InstitutionUpdate, ReviewReply
from service.schemas.needs import NeedCreate, NeedPreview, NeedWrite
from service.search import SearchError
from service.templating import flash, paginate, render, wants_fragment

router = APIRouter(prefix="/institution")

LIST_FIELDS = ("required_skills", "languages", "support")
# The languages the matcher reads: offered as checkboxes; any other from a list.
MAIN_LANGUAGES = ("en", "fr", "es", "pt", "ar")
STATUS_FILTERS = ("all", "open", "draft", "filled", "closed")
SUGGESTED_SKILLS = 200
# The drafts the home lists for publishing; the others are under the "Draft" filter.
DRAFTS_ON_HOME = 5

# What the institution is told once a need is saved: the one place these words are chosen.
NEED_SAVED = {
    NeedSaved.PUBLISHED: N_(
        "Your need is published. Within minutes the matcher ranks the experts who fit it; a "
        "coordinator reviews them and offers the engagement to the best ones."
    ),
    NeedSaved.REOPENED: N_(
        "Your need is open again. The matcher ranks the experts who fit it; a coordinator "
        "reviews them and offers the engagement to the best ones."
    ),
    NeedSaved.DRAFTED: N_(
        "Your need is saved as a draft: only your institution and the coordinators see it, and "
        "no expert is proposed for it until it is published."
    ),
    NeedSaved.SAVED: N_("Your need is saved."),
    NeedSaved.FILLED: N_("Your need is marked as filled: no more experts are proposed for it."),
    NeedSaved.CLOSED: N_("Your need is closed."),
}
ALREADY_PUBLISHED = N_("This need is already published.")
DRAFT_DISCARDED = N_(
    "Your draft is discarded: it is no longer listed among your needs, and no expert will be "
    "proposed for it."
)


def _flash_saved(response: Response, request: Request, previous: str | None, need: Need) -> None:
    flash(response, request, NEED_SAVED[need_saved(previous, need.status)], "success")


def _editor_context(
    values: dict[str, object],
    errors: dict[str, str],
    need: Need | None = None,
    *,
    suggestions: list[str] | None = None,
    reader: policy.Reader,
    institution: Institution,
    open_offers: int = 0,
) -> dict[str, object]:
    chosen = [str(code) for code in (values.get("languages") or [])]  # type: ignore[attr-defined]
    return {
        "values": values,
        "errors": errors,
        "need": need,
        "sectors": SECTORS,
        "modes": list(Mode),
        "supports": list(Support),
        "main_languages": MAIN_LANGUAGES,
        "other_languages": [code for code in chosen if code not in MAIN_LANGUAGES],
        "suggested_skills": suggestions or [],
        "may_publish": policy.may(reader, Action.PUBLISH_NEED),
        "may_preview": policy.may(reader, Action.PREVIEW_NEED),
        "posted": is_posted(need),
        "open_offers": open_offers,
        "verification": verification(institution, staff=False),
    }


def _suggestions(state: StateDep, session: SessionDep) -> list[str]:
    return [s.skill for s in skills_in_use(state, session)[:SUGGESTED_SKILLS]]


async def _need_form_data(request: Request) -> dict[str, object]:
    data = await read_form(request, list_fields=LIST_FIELDS)
    data["live_sessions"] = data.get("live_sessions") == "on"
    for name in ("start_from", "start_until"):
        if data.get(name) == "":
            data[name] = None
    return data


NeedForm = TypeVar("NeedForm", NeedCreate, NeedWrite)
# The edit form carries the version of the need it was drawn from (its `updated_at`).
SEEN = "updated_at"


async def _read_need_form(
    request: Request, model: type[NeedForm]
) -> tuple[NeedForm | None, dict[str, str], dict[str, object]]:
    data = await _need_form_data(request)
    seen = data.pop(SEEN, None)
    form, errors = validate_form(model, data)
    if seen:
        data[SEEN] = seen
    return form, errors, data


def _seen(data: dict[str, object]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(data.get(SEEN) or ""))
    except ValueError:
        return None


def _home(
    request: Request,
    institution: Institution,
    reader: policy.Reader,
    session: SessionDep,
    *,
    status: str = "all",
    page: int = 1,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    status = status if status in STATUS_FILTERS else "all"
    # A verified institution is shown the drafts it may now publish (written while it waited).
    drafts, drafts_total = (
        needs_repo.institution_needs(
            session, institution.id or 0, statuses=[NeedStatus.DRAFT], limit=DRAFTS_ON_HOME
        )
        if policy.may(reader, Action.PUBLISH_NEED)
        else ([], 0)
    )
    needs, total = needs_repo.institution_needs(
        session,
        institution.id or 0,
        statuses=None if status == "all" else [status],
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    may_reply = policy.may_reply_to_review(reader, institution)
    return render(
        request,
        "institution/home.html",
        {
            "institution": institution,
            "verification": verification(institution, staff=False),
            "may_reply": may_reply,
            # The answers already given to the question now asked.
            "replies": [
                r for r in replies_of(session, institution) if r.question == institution.review_note
            ]
            if may_reply
            else [],
            "values": values or {},
            "errors": errors or {},
            "drafts": drafts,
            "drafts_total": drafts_total,
            "needs": needs,
            "total": total,
            "status": status,
            "status_filters": STATUS_FILTERS,
            "pagination": paginate(
                request, total=total, page=page, size=PAGE_SIZE, path="/institution"
            ),
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def home(
    request: Request,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    status: Annotated[str, Query(max_length=10)] = "all",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Shows the institution's space: its state and its needs, a page at a time."""
    return _home(request, institution, reader, session, status=status, page=page)


REPLY_SENT = N_("Your answer is sent: the coordinator is told and looks at your institution again.")


@router.post("/reply")
async def reply_submit(
    request: Request,
    user: RequireReplier,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Sends the coordinator the institution's answer to their request for more information;
    refused, the page comes back with the answer as typed and why beside it."""
    data = await read_form(request)
    form, errors = validate_form(ReviewReply, data)
    status_code = 422
    if form is not None:
        try:
            reply_to_review(
                session,
                reader=reader,
                actor=user,
                institution=institution,
                message=form.message,
                settings=state.settings,
                asked_at=form.asked_at,
            )
        except FieldErrors as exc:
            errors = field_messages(exc)
        except Conflict as exc:
            # Decided meanwhile: the page shows where the institution stands now.
            session.rollback()
            session.refresh(institution)
            errors = {"__all__": translate_message(exc.message, exc.params)}
            status_code = exc.status_code
        else:
            session.commit()
            response = RedirectResponse("/institution#review-reply", status_code=303)
            flash(response, request, REPLY_SENT, "success")
            return response
    return _home(
        request, institution, reader, session, values=data, errors=errors, status_code=status_code
    )


def _profile_context(
    institution: Institution, values: dict[str, object], errors: dict[str, str]
) -> dict[str, object]:
    return {
        "institution": institution,
        "verification": verification(institution, staff=False),
        "values": values,
        "errors": errors,
        "types": list(InstitutionType),
    }


@router.get("/profile", response_class=HTMLResponse)
def profile_page(
    request: Request, user: RequireMember, institution: MemberInstitution
) -> HTMLResponse:
    """Shows the organisation's profile, editable by its members."""
    return render(
        request,
        "institution/profile.html",
        _profile_context(institution, institution.model_dump(), {}),
    )


@router.post("/profile")
async def profile_submit(
    request: Request, user: RequireMember, institution: MemberInstitution, session: SessionDep
) -> Response:
    """Saves the organisation's profile, or shows it again with the errors beside the fields."""
    data = await read_form(request)
    form, errors = validate_form(InstitutionUpdate, data)
    if form is None:
        return render(
            request,
            "institution/profile.html",
            _profile_context(institution, data, errors),
            status_code=422,
        )
    update_institution(session, institution=institution, actor=user, form=form)
    session.commit()
    response = RedirectResponse("/institution/profile", status_code=303)
    flash(response, request, N_("Your organisation's profile is saved."), "success")
    return response


@router.get("/needs/new", response_class=HTMLResponse)
def new_need_page(
    request: Request,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
) -> HTMLResponse:
    """Shows the form to post a need (a draft, while the institution awaits verification)."""
    values: dict[str, object] = {
        "mode": "remote",
        "status": "open" if policy.may(reader, Action.PUBLISH_NEED) else "draft",
        "duration_weeks": 6,
        "hours_per_week": 4,
        "experts_wanted": 1,
        "languages": [request.state.locale] if request.state.locale in MAIN_LANGUAGES else [],
        "city": institution.city,
    }
    return render(
        request,
        "institution/need_form.html",
        _editor_context(
            values,
            {},
            suggestions=_suggestions(state, session),
            reader=reader,
            institution=institution,
        ),
    )


@router.post("/needs/new")
async def new_need_submit(
    request: Request,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
) -> Response:
    """Posts a need."""
    form, errors, data = await _read_need_form(request, NeedCreate)
    if form is None:
        return render(
            request,
            "institution/need_form.html",
            _editor_context(data, errors, reader=reader, institution=institution),
            status_code=422,
        )
    need = post_need(session, institution=institution, author=user, data=form)
    session.commit()
    response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
    _flash_saved(response, request, None, need)
    return response


def _preview(
    state: StateDep, session: SessionDep, reader: policy.Reader, data: dict[str, object]
) -> dict[str, object]:
    """Counts the experts for the form's data, or says why it cannot."""
    fields = {**data, "duration_weeks": data.get("duration_weeks") or None}
    try:
        need = NeedPreview.model_validate(fields)
    except ValidationError:
        return {"preview_problem": N_("Check the dates and numbers of the form to see a preview.")}
    if not preview_text(need):
        return {"preview_problem": N_("Describe what you need to see how many experts match it.")}
    try:
        count = preview_count(
            session,
            state.search,
            need,
            reader=reader,
            reconfirm_days=state.settings.availability_reconfirm_days,
        )
    except SearchError:
        return {"preview_problem": N_("The preview is not available just now.")}
    return {"preview": count}


@router.post("/needs/preview", response_class=HTMLResponse)
async def need_preview(
    request: Request,
    user: RequireNeedPreview,
    institution: MemberInstitution,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    need_id: Annotated[int | None, Query(alias="need", ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Shows how many experts could match the need being written, never who: a fragment for
    htmx, or the form again with the count when sent without JavaScript."""
    data = await _need_form_data(request)
    preview = _preview(state, session, reader, data)
    need = readable_need(session, need_id=need_id, reader=user) if need_id else None
    if wants_fragment(request):
        return render(
            request, "institution/_need_preview.html", {**preview, "posted": is_posted(need)}
        )
    context = _editor_context(
        data,
        {},
        need,
        suggestions=_suggestions(state, session),
        reader=reader,
        institution=institution,
    )
    return render(request, "institution/need_form.html", {**context, **preview})


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def need_page(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
) -> HTMLResponse:
    """Shows one of the institution's needs."""
    need = readable_need(session, need_id=need_id, reader=user)
    return _need_page(request, session, need, reader, institution)


# Closing a need and discarding a draft cannot be undone: the button's form says what they do
# (base.html's script asks with it and marks the form confirmed); a form sent without that mark
# (no script) shows the need again with the question and a button that confirms. Who may do
# either is decided where it is done (core.needs), once confirmed.
CONFIRMED = "yes"
Confirmed = Annotated[str, Form(max_length=3)]


def _need_page(
    request: Request,
    session: SessionDep,
    need: Need,
    reader: policy.Reader,
    institution: Institution,
    *,
    asking: str = "",
) -> HTMLResponse:
    context = {
        "need": need,
        "institution": institution,
        "confirmed": confirmed_seats(session, need)[0],
        "suggested": suggested_count(session, need_id=need.id or 0),
        "stage": str(need_stage(session, need=need)),
        "asking": asking,
    }
    return render(
        request,
        "institution/need.html",
        {**context, "may_edit": policy.may_edit_need(reader, need)},
    )


@router.get("/needs/{need_id}/edit", response_class=HTMLResponse)
def edit_need_page(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
) -> HTMLResponse:
    """Shows the form to edit a need."""
    need = readable_need(session, need_id=need_id, reader=user)
    context = _editor_context(
        need.model_dump(),
        {},
        need,
        suggestions=_suggestions(state, session),
        reader=reader,
        institution=institution,
        open_offers=open_offer_count(session, need=need),
    )
    return render(request, "institution/need_form.html", context)


@router.post("/needs/{need_id}/edit")
async def edit_need_submit(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Saves changes to a need; refused, the form comes back with every field as typed."""
    need = readable_need(session, need_id=need_id, reader=user)
    previous = need.status
    form, errors, data = await _read_need_form(request, NeedWrite)
    status_code = 422
    if form is not None:
        try:
            edit_need(
                session, need=need, actor=user, data=form, settings=state.settings, seen=_seen(data)
            )
        except FieldErrors as exc:
            errors = field_messages(exc)
        except Conflict as exc:
            # What was typed stays; the next save is made knowing the need as it is now.
            session.refresh(need)
            data = {**data, SEEN: need.updated_at}
            errors = {"__all__": translate_message(exc.message, exc.params)}
            status_code = exc.status_code
        else:
            session.commit()
            response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
            _flash_saved(response, request, previous, need)
            return response
    context = _editor_context(
        data,
        errors,
        need,
        reader=reader,
        institution=institution,
        open_offers=open_offer_count(session, need=need),
    )
    return render(request, "institution/need_form.html", context, status_code=status_code)


@router.post("/needs/{need_id}/close")
def close_need_submit(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    state: StateDep,
    confirmed: Confirmed = "",
) -> Response:
    """Closes a need, once confirmed: no more proposals will be made for it; pending offers
    are withdrawn."""
    need = readable_need(session, need_id=need_id, reader=user)
    response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
    if need.status == NeedStatus.CLOSED:
        flash(response, request, N_("This need is already closed."))
        return response
    if confirmed != CONFIRMED:
        return _need_page(request, session, need, reader, institution, asking="close")
    fields = {name: getattr(need, name) for name in NeedWrite.model_fields}
    fields["status"] = NeedStatus.CLOSED
    try:
        data = NeedWrite.model_validate(fields)
    except ValidationError:
        # The need was valid when written; closing it must not fail on a rule added since.
        data = NeedWrite.model_construct(**fields)
    previous = need.status
    edit_need(session, need=need, actor=user, data=data, settings=state.settings)
    session.commit()
    _flash_saved(response, request, previous, need)
    return response


@router.post("/needs/{need_id}/discard")
def discard_draft_submit(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    confirmed: Confirmed = "",
) -> Response:
    """Discards a draft the institution no longer wants, once confirmed; the home no longer
    lists it."""
    need = readable_need(session, need_id=need_id, reader=user)
    if confirmed != CONFIRMED and need.status == NeedStatus.DRAFT:
        return _need_page(request, session, need, reader, institution, asking="discard")
    discard_draft(session, need=need, actor=user)
    session.commit()
    response = RedirectResponse("/institution", status_code=303)
    flash(response, request, DRAFT_DISCARDED, "success")
    return response


@router.post("/needs/{need_id}/publish")
def publish_need_submit(
    request: Request,
    need_id: Id,
    user: RequireMember,
    institution: MemberInstitution,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
) -> Response:
    """Publishes a draft as it stands; one that lacks something opens in its form, with the
    errors beside the fields, to be finished and saved as open."""
    need = readable_need(session, need_id=need_id, reader=user)
    response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
    if need.status == NeedStatus.OPEN:
        flash(response, request, ALREADY_PUBLISHED)
        return response
    values = {**need.model_dump(), "status": NeedStatus.OPEN}
    _, errors = validate_form(NeedWrite, {n: values[n] for n in NeedWrite.model_fields})
    if errors:
        context = _editor_context(
            values,
            errors,
            need,
            suggestions=_suggestions(state, session),
            reader=reader,
            institution=institution,
        )
        return render(request, "institution/need_form.html", context, status_code=422)
    publish_need(session, need=need, actor=user)
    session.commit()
    _flash_saved(response, request, NeedStatus.DRAFT, need)
    return response
