"""The current user and their personal API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.core.accounts import (
    change_email,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from service.deps import CallerSessionId, CurrentUser, SessionDep, SessionUser, StateDep
from service.routes.params import Id
from service.schemas.accounts import (
    EmailUpdate,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from service.schemas.errors import TOO_MANY_WRONG_PASSWORDS, ConflictBody

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> Any:
    """Gets the current user."""
    return UserPublic.model_validate(user, from_attributes=True)


@router.post(
    "/me/email",
    response_model=UserPublic,
    responses={
        409: {
            "model": ConflictBody,
            "description": "Another account uses this email (the field is named).",
        },
        **TOO_MANY_WRONG_PASSWORDS,
    },
)
def change_my_email(
    body: EmailUpdate,
    user: CurrentUser,
    caller_session: CallerSessionId,
    state: StateDep,
    session: SessionDep,
) -> Any:
    """Changes the caller's email, once its password is given, as the account page does.

    It is a change of how the account logs in, so what follows a password change follows:
    every API token is revoked, **the token this request is made with included** (a partner
    system asks the person for a new one), and every session on the site ends but the one this
    request is made in, when it is made with the site's cookie. The address left and the new
    one are both told by email. Sending the current email changes nothing and ends nothing.
    A wrong password or an address that is not valid is a 422 naming the field; an address
    another account uses is a 409 naming `email`. After too many wrong passwords on the account
    lately, a 429 naming `password`, with Retry-After, whatever the password, until the
    lock-out has passed.
    """
    change_email(
        session,
        user=user,
        password=body.password,
        email=body.email,
        settings=state.settings,
        keep_session=caller_session,
    )
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
