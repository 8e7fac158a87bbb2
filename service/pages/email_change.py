"""Email change pages: ask for a new address, then confirm it through the link mailed there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from service.core import email_change
from service.deps import OptionalUser, SessionDep, SessionUser, StateDep
from service.errors import FieldConflict, FieldErrors, TooManyAttempts
from service.i18n import N_
from service.models import User
from service.pages.accounts import account_context
from service.pages.forms import read_form, validate_form
from service.schemas.accounts import EmailChange
from service.templating import flash, render

router = APIRouter()

# The link's token confirms a change of how the account logs in: kept out of caches and of
# any Referer, as the password reset's.
PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}
LINK_SENT = N_(
    "We sent a confirmation link to the new address. Your email changes once it is opened; "
    "until then, log in with your current email."
)


def _to_account(request: Request, message: str) -> RedirectResponse:
    response = RedirectResponse("/account", status_code=303)
    flash(response, request, message, "success")
    return response


@router.post("/account/email")
async def email_submit(
    request: Request, user: SessionUser, state: StateDep, session: SessionDep
) -> Response:
    """Asks for a new email, once the password is given: a link is mailed there to confirm it."""
    data = await read_form(request)
    form, errors = validate_form(EmailChange, data)
    status, headers = 422, {}
    if form is not None:
        try:
            pending = email_change.request_change(
                session,
                user=user,
                password=form.password,
                email=form.email,
                settings=state.settings,
            )
        except FieldErrors as exc:
            errors, status = exc.errors, exc.page_status
        except TooManyAttempts as exc:
            errors, status = {"__all__": exc.message}, exc.status_code
            headers["retry-after"] = str(exc.retry_after_s)
        else:
            session.commit()
            return _to_account(request, LINK_SENT if pending else N_("This is already your email."))
    values = {"email": data.get("email", "")}
    return _account_page(request, session, user, errors, values, status, headers)


def _account_page(
    request: Request,
    session: Session,
    user: User,
    errors: dict[str, str],
    values: dict[str, object],
    status: int,
    headers: dict[str, str],
) -> Response:
    """The account page again, the email form's errors shown."""
    page = render(
        request,
        "accounts/account.html",
        account_context(request, session, user, errors=errors, values=values, failed_form="email"),
        status_code=status,
    )
    page.headers.update(headers)
    return page


@router.post("/account/email/resend")
def resend_submit(
    request: Request, user: SessionUser, state: StateDep, session: SessionDep
) -> Response:
    """Mails the confirmation link of the address waiting again; too many lately: the account
    page says so (429, with Retry-After)."""
    try:
        email_change.resend(session, user=user, settings=state.settings)
    except FieldErrors:
        return _to_account(request, email_change.NOTHING_WAITING)
    except TooManyAttempts as exc:
        errors = {"__all__": exc.message}
        headers = {"retry-after": str(exc.retry_after_s)}
        return _account_page(request, session, user, errors, {}, exc.status_code, headers)
    session.commit()
    return _to_account(request, N_("We sent the confirmation link again."))


@router.post("/account/email/cancel")
def cancel_submit(request: Request, user: SessionUser, session: SessionDep) -> Response:
    """Drops the email change waiting for confirmation; its link opens nothing any more."""
    email_change.cancel(session, user=user)
    session.commit()
    return _to_account(request, N_("The email change is cancelled. Your email stays the same."))


def _invalid_link(request: Request, message: str = email_change.LINK_INVALID) -> HTMLResponse:
    page = render(
        request,
        "accounts/email_confirm_invalid.html",
        {"message": message},
        status_code=400,
    )
    page.headers.update(PRIVATE)
    return page


@router.get("/account/email/confirm", response_class=HTMLResponse)
def confirm_page(
    request: Request,
    user: OptionalUser,
    state: StateDep,
    session: SessionDep,
    token: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    """Shows the address to confirm with a button (a link opened by a mail scanner changes
    nothing), or says the link no longer works."""
    owner = email_change.user_for_token(session, token=token, settings=state.settings)
    if owner is None:
        return _invalid_link(
            request, email_change.dead_link_message(session, token=token, settings=state.settings)
        )
    page = render(
        request,
        "accounts/email_confirm.html",
        {"token": token, "pending_email": owner.pending_email, "taken": False},
    )
    page.headers.update(PRIVATE)
    return page


@router.post("/account/email/confirm")
async def confirm_submit(
    request: Request, user: OptionalUser, state: StateDep, session: SessionDep
) -> Response:
    """Makes the address waiting the account's email; this browser's session continues if it
    is the account's, every other ends."""
    data = await read_form(request)
    token = str(data.get("token", ""))[:1000]
    owner = email_change.user_for_token(session, token=token, settings=state.settings)
    if owner is None:
        return _invalid_link(
            request, email_change.dead_link_message(session, token=token, settings=state.settings)
        )
    mine = user is not None and user.id == owner.id
    pending = owner.pending_email
    try:
        email_change.confirm(
            session,
            token=token,
            settings=state.settings,
            keep_session=getattr(request.state, "session_id", None) if mine else None,
        )
    except FieldConflict:
        session.rollback()
        page = render(
            request,
            "accounts/email_confirm.html",
            {"token": token, "pending_email": pending, "taken": True},
            status_code=409,
        )
        page.headers.update(PRIVATE)
        return page
    except FieldErrors:
        session.rollback()
        return _invalid_link(request)
    session.commit()
    response = RedirectResponse("/account" if mine else "/login", status_code=303)
    flash(
        response,
        request,
        N_(
            "Your email is changed. Your other sessions and API tokens have ended; "
            "log in with the new address from now on."
        ),
        "success",
    )
    return response
