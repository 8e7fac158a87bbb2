"""The current user and their personal API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.core.accounts import issue_api_token, list_api_tokens, revoke_api_token
from service.deps import CurrentUser, SessionDep, SessionUser
from service.schemas.accounts import RowId, TokenCreate, TokenCreated, TokenPublic, UserPublic

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> Any:
    """Gets the current user."""
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
def delete_token(token_id: RowId, user: CurrentUser, session: SessionDep) -> Response:
    """Revokes one of the caller's tokens; requests made with it are refused from now on."""
    revoke_api_token(session, user=user, token_id=token_id)
    session.commit()
    return Response(status_code=204)
