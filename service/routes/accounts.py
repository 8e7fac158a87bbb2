"""The current user and their personal API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from service.core import email_change, password_reset
from service.core.accounts import (
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from service.deps import CurrentUser, SessionDep, SessionUser, StateDep
from service.routes.params import Id
from service.schemas.accounts import (
    EmailChangeRequested,
    EmailConfirm,
    EmailUpdate,
    PasswordReset,
    PasswordResetRequest,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from service.schemas.errors import (
    TOO_MANY_CONFIRMATION_LINKS,
    TOO_MANY_PASSWORDS_OR_LINKS,
    TOO_MANY_RESET_REQUESTS,
    ConflictBody,
)
from service.schemas.password_reset import ResetRequested

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> Any:
    """Gets the current user."""
    return UserPublic.model_validate(user, from_attributes=True)


@router.post(
    "/me/email",
    status_code=202,
    response_model=EmailChangeRequested,
    responses={
        409: {
            "model": ConflictBody,
            "description": "Another account uses this email (the field is named).",
        },
        **TOO_MANY_PASSWORDS_OR_LINKS,
    },
)
def change_my_email(
    body: EmailUpdate, user: CurrentUser, state: StateDep, session: SessionDep
) -> Any:
    """Asks to change the caller's email, once its password is given, as the account page does.

    Nothing changes yet: the answer, a 202, names the address now waiting (`pending_email`).
    A link is emailed to that address, and a notice to the current one; the email changes only
    when the link is followed (or its token sent to `POST /api/me/email/confirm`), within
    `HOMEWARD_EMAIL_CONFIRM_MAX_AGE_S` seconds (a day by default). Asking again replaces the
    address waiting, and the earlier link stops working. Sending the current email drops any
    change waiting (`pending_email` is null). A wrong password or an address that is not valid
    is a 422 naming the field; an address another account uses is a 409 naming `email`. After
    too many wrong passwords on the account lately, a 429 naming `password`, with Retry-After,
    whatever the password, until the lock-out has passed; after too many links mailed lately
    (`POST /api/me/email/resend` says which), a 429 with Retry-After, and nothing changes.
    """
    pending = email_change.request_change(
        session, user=user, password=body.password, email=body.email, settings=state.settings
    )
    session.commit()
    return EmailChangeRequested(pending_email=pending)


@router.post(
    "/me/email/resend",
    status_code=202,
    response_model=EmailChangeRequested,
    responses=TOO_MANY_CONFIRMATION_LINKS,
)
def resend_my_email_link(user: CurrentUser, state: StateDep, session: SessionDep) -> Any:
    """Mails the confirmation link of the caller's address waiting again, as the account page's
    "Send the link again" does; the answer, a 202, names that address.

    Nothing waiting is a 422 naming `email`. Links mailed for one account or to one address
    are limited as password reset links are (`HOMEWARD_PASSWORD_RESET_MAX_PER_EMAIL` within
    `HOMEWARD_PASSWORD_RESET_WINDOW_S`, counting the first one `POST /api/me/email` mails):
    beyond, a 429 with Retry-After, and nothing is mailed.
    """
    pending = email_change.resend(session, user=user, settings=state.settings)
    session.commit()
    return EmailChangeRequested(pending_email=pending)


@router.post(
    "/me/email/confirm",
    response_model=UserPublic,
    responses={
        409: {
            "model": ConflictBody,
            "description": "Another account took the address meanwhile (`email` is named); "
            "nothing changed.",
        },
    },
)
def confirm_my_email(body: EmailConfirm, state: StateDep, session: SessionDep) -> Any:
    """Confirms an email change with the token of the link mailed to the new address.

    The token is the credential: no log-in is needed. The address waiting becomes the
    account's email; then, as after a password change, every session of the account ends and
    every API token is revoked, and both addresses are told. A token that is forged, expired,
    already used, replaced by a later request, or cancelled (by the account, or with a password
    change since, which its message then says) is a 422 naming `token`; an address another
    account has taken since the request is a 409 naming `email`, and nothing changes.
    """
    user = email_change.confirm(session, token=body.token, settings=state.settings)
    session.commit()
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/tokens", response_model=list[TokenPublic])
def tokens(user: CurrentUser, session: SessionDep) -> Any:
    """Lists the caller's personal API tokens (not revoked), with their last use."""
    return [
        TokenPublic.model_validate(t, from_attributes=True)
        for t in list_api_tokens(session, user=user)
    ]


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def new_token(body: TokenCreate, user: SessionUser, session: SessionDep) -> Any:
    """Creates a personal API token for partner systems; the secret is shown only once.

    Only a user logged in on the site can create one: a token cannot mint more tokens.
    """
    row, token = issue_api_token(session, user=user, name=body.name, expires_at=body.expires_at)
    session.commit()
    return TokenCreated(
        **TokenPublic.model_validate(row, from_attributes=True).model_dump(), token=token
    )


@router.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: Id, user: CurrentUser, session: SessionDep) -> Response:
    """Revokes one of the caller's tokens; requests made with it are refused from now on."""
    revoke_api_token(session, user=user, token_id=token_id)
    session.commit()
    return Response(status_code=204)


@router.post(
    "/password/forgot",
    status_code=202,
    response_model=ResetRequested,
    responses=TOO_MANY_RESET_REQUESTS,
)
def forgot_password(
    body: PasswordResetRequest, request: Request, state: StateDep, session: SessionDep
) -> Any:
    """Asks for a password reset link, emailed if an active account uses the address.

    The answer is the same whether or not one does, so it tells nobody which emails have an
    account. The link works once, for `HOMEWARD_PASSWORD_RESET_MAX_AGE_S` seconds (an hour by
    default). Too many requests for one email or from one address within the window: a 429
    with Retry-After. An address that is not valid is a 422 naming `email`.
    """
    client_ip = request.client.host if request.client else "unknown"
    password_reset.request_reset(
        session, email=body.email, client_ip=client_ip, settings=state.settings
    )
    session.commit()
    return ResetRequested()


@router.post("/password/reset", status_code=204)
def reset_password(body: PasswordReset, state: StateDep, session: SessionDep) -> Response:
    """Sets a new password with the token of an emailed reset link.

    The link is then spent; every session of the account ends and every API token is
    revoked, as after a password change. A token that is forged, expired or already used is a
    422 naming `token`; a password that is too short, a 422 naming `new_password`.
    """
    password_reset.reset_password(
        session, token=body.token, new=body.new_password, settings=state.settings
    )
    session.commit()
    return Response(status_code=204)
