"""The institution's team: its members and invitations; and the page an invitation opens."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from service.core import invitations
from service.core.policy import Action
from service.deps import MemberInstitution, OptionalUser, SessionDep, StateDep, allowed
from service.errors import Conflict, FieldErrors, NotAllowed
from service.i18n import LOCALE_NAMES, N_, translate_message
from service.models import Institution, User
from service.models.types import utcnow
from service.pages.accounts import CONSENT_MISSING, start_session
from service.pages.forms import read_form, validate_form
from service.repos import invitations as invitations_repo
from service.repos import users as users_repo
from service.routes.params import Id
from service.schemas.invitations import InvitationForm, InvitationRegistration
from service.templating import flash, render

router = APIRouter()

RequireInviter = Annotated[User, allowed(Action.INVITE_MEMBER)]
# The link's token is a key to the institution: kept out of caches and of any Referer.
PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def _team_context(
    session: Session,
    institution: Institution,
    *,
    values: dict[str, object],
    errors: dict[str, str],
) -> dict[str, object]:
    now = utcnow()
    pending = invitations_repo.open_invitations(session, institution.id or 0)
    email = str(values.get("email", "")).strip().lower()
    return {
        "institution": institution,
        "members": invitations_repo.members_joined(session, institution.id or 0),
        "invitations": [(i, invitations.link_state(i, now=now)) for i in pending],
        "resend_id": next((i.id for i in pending if errors and i.email == email), None),
        "values": values,
        "errors": errors,
        "locales": list(LOCALE_NAMES.items()),
    }


@router.get("/institution/team", response_class=HTMLResponse)
def team_page(
    request: Request, user: RequireInviter, institution: MemberInstitution, session: SessionDep
) -> HTMLResponse:
    """Shows the institution's members and open invitations, and the form to invite one."""
    values: dict[str, object] = {"locale": user.locale}
    return render(
        request,
        "institution/team.html",
        _team_context(session, institution, values=values, errors={}),
    )


@router.post("/institution/team/invite")
async def invite_submit(
    request: Request,
    user: RequireInviter,
    institution: MemberInstitution,
    state: StateDep,
    session: SessionDep,
) -> Response:
    """Invites a colleague by email, or shows the form again with the errors beside the fields."""
    data = await read_form(request)
    form, errors = validate_form(InvitationForm, data)
    if form is not None:
        try:
            invitations.invite(
                session, institution=institution, inviter=user, form=form, settings=state.settings
            )
        except FieldErrors as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            response = RedirectResponse("/institution/team", status_code=303)
            flash(response, request, N_("Your invitation is sent."), "success")
            return response
    context = _team_context(session, institution, values=data, errors=errors)
    return render(request, "institution/team.html", context, status_code=422)


def _back_to_team(request: Request, message: str, category: str = "success") -> Response:
    response = RedirectResponse("/institution/team", status_code=303)
    flash(response, request, message, category)
    return response


@router.post("/institution/team/invitations/{invitation_id}/resend")
def resend_submit(
    request: Request,
    invitation_id: Id,
    user: RequireInviter,
    institution: MemberInstitution,
    state: StateDep,
    session: SessionDep,
) -> Response:
    """Sends an open invitation again, with a new link valid for another week."""
    try:
        invitations.resend(
            session,
            institution=institution,
            invitation_id=invitation_id,
            actor=user,
            settings=state.settings,
        )
    except FieldErrors as refused:
        session.rollback()
        return _back_to_team(request, refused.errors["__all__"], "warning")
    session.commit()
    return _back_to_team(request, N_("The invitation is sent again, with a new link."))


@router.post("/institution/team/invitations/{invitation_id}/revoke")
def revoke_submit(
    request: Request,
    invitation_id: Id,
    user: RequireInviter,
    institution: MemberInstitution,
    session: SessionDep,
) -> Response:
    """Revokes an open invitation: its link opens nothing more."""
    invitations.revoke(session, institution=institution, invitation_id=invitation_id, actor=user)
    session.commit()
    return _back_to_team(request, N_("The invitation is revoked: its link no longer works."))


def _closed(request: Request, message: str, params: dict[str, str], status: int) -> HTMLResponse:
    """Says why an invitation's link opens nothing for this visitor; nothing changed."""
    page = render(
        request,
        "institution/join_closed.html",
        {"message": translate_message(message, params)},
        status_code=status,
    )
    page.headers.update(PRIVATE)
    return page


def _join_page(
    request: Request,
    session: Session,
    *,
    token: str,
    user: User | None,
    values: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    try:
        invitation, institution = invitations.open_invitation(session, token=token, now=utcnow())
    except Conflict as exc:
        return _closed(request, exc.message, {}, 400)
    if user is not None:
        refused = invitations.join_refusal(session, user=user, invitation=invitation)
        if refused is not None:
            return _closed(request, refused[0], refused[1], 403)
    account_exists = user is None and users_repo.email_taken(session, invitation.email)
    page = render(
        request,
        "institution/join.html",
        {
            "token": token,
            "invitation": invitation,
            "institution": institution,
            "account_exists": account_exists,
            "login_next": "/login?next=" + quote(invitations.join_link(token), safe=""),
            "values": {"display_name": invitation.display_name, "locale": invitation.locale}
            | values,
            "errors": errors,
        },
        status_code=status,
    )
    page.headers.update(PRIVATE)
    return page


@router.get("/join", response_class=HTMLResponse)
def join_page(
    request: Request,
    user: OptionalUser,
    session: SessionDep,
    token: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    """Shows an invitation: a form to register with the invited address, a button to join for
    an account that may, or why the link opens nothing for this visitor."""
    return _join_page(request, session, token=token, user=user, values={}, errors={})


def _welcome(request: Request) -> RedirectResponse:
    response = RedirectResponse("/institution", status_code=303)
    flash(
        response,
        request,
        N_("Welcome: you now act for your institution on Homeward, with your colleagues."),
        "success",
    )
    return response


@router.post("/join")
async def join_submit(
    request: Request, user: OptionalUser, state: StateDep, session: SessionDep
) -> Response:
    """Joins the institution with the signed-in account (one click), or registers the invited
    colleague with the invited address and logs them in."""
    data = await read_form(request)
    token = str(data.pop("token", ""))[:1000]
    if user is not None:
        try:
            invitations.join(session, token=token, user=user, settings=state.settings)
        except (Conflict, NotAllowed) as exc:
            session.rollback()
            status = 409 if isinstance(exc, Conflict) else 403
            return _closed(request, exc.message, {k: str(v) for k, v in exc.params.items()}, status)
        session.commit()
        return _welcome(request)
    form, errors = validate_form(InvitationRegistration, data)
    if data.get("consent_terms") != "on":
        form, errors = None, {**errors, "consent_terms": CONSENT_MISSING}
    if form is not None:
        try:
            member, _ = invitations.register_and_join(
                session, token=token, form=form, settings=state.settings
            )
        except Conflict as exc:
            session.rollback()
            return _closed(request, exc.message, {}, 409)
        except FieldErrors as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            response = _welcome(request)
            start_session(response, request=request, state=state, session=session, user=member)
            return response
    data.pop("password", None)
    return _join_page(
        request, session, token=token, user=None, values=data, errors=errors, status=422
    )
