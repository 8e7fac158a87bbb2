"""Needs over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.core.needs import edit_need, editable_need, post_need, readable_need
from service.core.search import search_needs
from service.deps import (
    CurrentUser,
    MemberInstitution,
    SessionDep,
    StateDep,
    VerifiedInstitution,
)
from service.errors import NotAllowed
from service.models import Role, User
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.routes.pagination import PageDep, envelope
from service.routes.search_params import SearchRequestDep
from service.schemas.needs import NeedPublic, NeedWrite

router = APIRouter(prefix="/api/needs", tags=["needs"])


def _public(need: object) -> dict[str, Any]:
    return NeedPublic.model_validate(need).model_dump(mode="json")


@router.get("")
def search(user: CurrentUser, state: StateDep, request: SearchRequestDep) -> dict[str, Any]:
    """Searches the open needs: ?q= text, ?country= ?language= ?sector= ?mode= ?start=
    (now, YYYY-MM or a date) filters, with facet counts and highlights."""
    return search_needs(state.search, request=request)


@router.get("/mine")
def my_needs(institution: MemberInstitution, session: SessionDep, page: PageDep) -> dict[str, Any]:
    """Lists every need of the member's institution, whatever its status."""
    rows, total = needs_repo.list_needs(
        session, institution_id=institution.id, offset=page.offset, limit=page.size
    )
    return envelope([_public(row) for row in rows], total=total, page=page)


@router.post("", status_code=201)
def create_need(
    body: NeedWrite, user: CurrentUser, institution: VerifiedInstitution, session: SessionDep
) -> dict[str, Any]:
    """Posts a need for the caller's verified institution."""
    need = post_need(session, institution=institution, author=user, data=body)
    session.commit()
    return _public(need)


@router.get("/{need_id}")
def get_need(need_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets a need the caller may see."""
    return _public(readable_need(session, need_id=need_id, reader=user))


@router.put("/{need_id}")
def update_need(
    need_id: int, body: NeedWrite, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Replaces a need; only its institution's members (verified) and coordinators may."""
    _require_editor(session, user)
    need = editable_need(session, need_id=need_id, editor=user)
    edit_need(session, need=need, actor=user, data=body)
    session.commit()
    return _public(need)


def _require_editor(session: SessionDep, user: User) -> None:
    if user.is_staff:
        return
    if user.role != Role.INSTITUTION:
        raise NotAllowed()
    institution = institutions_repo.get_institution_of_user(session, user.id or 0)
    if institution is None or not institution.verified:
        raise NotAllowed("Your institution is awaiting verification by a coordinator.")
