"""Password reset pages: ask for a link by email, then choose a new password through it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core import password_reset
from service.deps import OptionalUser, SessionDep, StateDep
from service.errors import FieldErrors, TooManyAttempts
from service.i18n import N_
from service.pages.accounts import client_ip_of, flash_email_change_cancelled
from service.pages.forms import read_form, validate_form
from service.schemas.accounts import PasswordResetForm, PasswordResetRequest
from service.templating import flash, render

router = APIRouter()

# The link's token is a key to the account: kept out of caches and of any Referer.
PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request, user: OptionalUser) -> HTMLResponse:
    """Shows the form that asks for a password reset link."""
    return render(request, "accounts/forgot.html", {"values": {}, "errors": {}})


@router.post("/password/forgot")
async def forgot_submit(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Sends a reset link if an active account uses the email; the same answer either way."""
    data = await read_form(request)
    form, errors = validate_form(PasswordResetRequest, data)
    status, headers = 422, {}
    if form is not None:
        try:
            password_reset.request_reset(
                session, email=form.email, client_ip=client_ip_of(request), settings=state.settings
            )
        except TooManyAttempts as exc:
            errors, status = {"__all__": exc.message}, exc.status_code
            headers["retry-after"] = str(exc.retry_after_s)
        else:
            session.commit()
            return RedirectResponse("/password/forgot/sent", status_code=303)
    page = render(
        request,
        "accounts/forgot.html",
        {"values": {"email": data.get("email", "")}, "errors": errors},
        status_code=status,
    )
    page.headers.update(headers)
    return page


@router.get("/password/forgot/sent", response_class=HTMLResponse)
def forgot_sent_page(request: Request, user: OptionalUser) -> HTMLResponse:
    """Says what happens next, whether or not an account uses the email."""
    return render(request, "accounts/forgot_sent.html")


def _invalid_link(request: Request) -> HTMLResponse:
    page = render(
        request,
        "accounts/reset_invalid.html",
        {"message": password_reset.LINK_INVALID},
        status_code=400,
    )
    page.headers.update(PRIVATE)
    return page


@router.get("/password/reset", response_class=HTMLResponse)
def reset_page(
    request: Request,
    state: StateDep,
    session: SessionDep,
    token: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    """Shows the form for a new password, or says the link no longer works."""
    if password_reset.user_for_token(session, token=token, settings=state.settings) is None:
        return _invalid_link(request)
    page = render(request, "accounts/reset.html", {"token": token, "errors": {}})
    page.headers.update(PRIVATE)
    return page


@router.post("/password/reset")
async def reset_submit(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Sets the new password, ends every session of the account, and sends to the log-in."""
    data = await read_form(request)
    token = str(data.get("token", ""))[:1000]
    if password_reset.user_for_token(session, token=token, settings=state.settings) is None:
        return _invalid_link(request)
    form, errors = validate_form(PasswordResetForm, data)
    if form is not None:
        try:
            done = password_reset.reset_password(
                session, token=token, new=form.new_password, settings=state.settings
            )
        except FieldErrors:
            session.rollback()
            return _invalid_link(request)
        session.commit()
        response = RedirectResponse("/login", status_code=303)
        flash(
            response,
            request,
            N_(
                "Your password has been changed and every session of your account has ended. "
                "Log in with your new password."
            ),
            "success",
        )
        flash_email_change_cancelled(response, request, done.cancelled_email)
        return response
    # The passwords are not sent back into the page, as on the registration form.
    page = render(
        request, "accounts/reset.html", {"token": token, "errors": errors}, status_code=422
    )
    page.headers.update(PRIVATE)
    return page
