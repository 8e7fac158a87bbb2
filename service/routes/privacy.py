"""Personal data over the API: export, and account deletion."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service.core.privacy import delete_account, export_user_data
from service.deps import CurrentUser, SessionDep, StateDep
from service.schemas.errors import TOO_MANY_WRONG_PASSWORDS
from service.schemas.privacy import DataExport

router = APIRouter(prefix="/api/me", tags=["privacy"])


class DeletionRequest(BaseModel):
    password: str = Field(max_length=200)


@router.get("/data", response_model=DataExport, response_model_exclude_unset=True)
def my_data(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets everything stored about the caller."""
    return export_user_data(session, user=user)


class Deleted(BaseModel):
    status: Literal["deleted"]


@router.post("/delete", response_model=Deleted, responses=TOO_MANY_WRONG_PASSWORDS)
def delete_me(
    body: DeletionRequest, user: CurrentUser, state: StateDep, session: SessionDep
) -> dict[str, str]:
    """Erases the caller's account and personal data; anonymised statistics stay.

    A wrong password is a 422 naming `password`; after too many on the account lately, a 429
    naming it, with Retry-After, whatever the password, until the lock-out has passed.
    """
    delete_account(session, user=user, password=body.password, settings=state.settings)
    session.commit()
    return {"status": "deleted"}
