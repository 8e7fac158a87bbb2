"""The current user and their API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service.core.accounts import create_api_token
from service.deps import CurrentUser, SessionDep
from service.schemas.accounts import UserPublic

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> Any:
    """Gets the current user."""
    return UserPublic.model_validate(user, from_attributes=True)


class TokenRequest(BaseModel):
    name: str = Field(default="", max_length=80)


class TokenCreated(BaseModel):
    token: str


@router.post("/me/tokens", status_code=201, response_model=TokenCreated)
def new_token(body: TokenRequest, user: CurrentUser, session: SessionDep) -> dict[str, str]:
    """Creates a personal API token for partner systems; it is shown only once."""
    token = create_api_token(session, user=user, name=body.name)
    session.commit()
    return {"token": token}
