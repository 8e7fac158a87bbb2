"""Institutions over the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.core.institutions import update_institution, verify_institution
from service.deps import (
    CurrentUser,
    MemberInstitution,
    RequireMember,
    RequireStaff,
    SessionDep,
)
from service.errors import NotFound
from service.repos import institutions as institutions_repo
from service.routes.pagination import PageDep, envelope
from service.schemas.institutions import InstitutionPublic, InstitutionUpdate

router = APIRouter(prefix="/api/institutions", tags=["institutions"])


def _public(institution: object) -> dict[str, Any]:
    return InstitutionPublic.model_validate(institution).model_dump(mode="json")


@router.get("")
def list_institutions(
    user: RequireStaff,
    session: SessionDep,
    page: PageDep,
    verified: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    """Lists institutions for coordinators; `verified=false` is the verification queue."""
    rows, total = institutions_repo.list_institutions(
        session, verified=verified, offset=page.offset, limit=page.size
    )
    return envelope([_public(row) for row in rows], total=total, page=page)


@router.get("/mine")
def my_institution(institution: MemberInstitution) -> dict[str, Any]:
    """Gets the institution the current member acts for."""
    return _public(institution)


@router.put("/mine")
def save_my_institution(
    body: InstitutionUpdate,
    user: RequireMember,
    institution: MemberInstitution,
    session: SessionDep,
) -> dict[str, Any]:
    """Replaces the profile of the institution the current member acts for."""
    update_institution(session, institution=institution, actor=user, data=body)
    session.commit()
    return _public(institution)


@router.get("/{institution_id}")
def get_institution(institution_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets an institution: coordinators see any, members their own, experts verified ones."""
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound("This institution does not exist.")
    if not user.is_staff and not institution.verified:
        own = institutions_repo.get_institution_of_user(session, user.id or 0)
        if own is None or own.id != institution.id:
            raise NotFound("This institution does not exist.")
    return _public(institution)


@router.post("/{institution_id}/verify")
def verify(institution_id: int, user: RequireStaff, session: SessionDep) -> dict[str, Any]:
    """Verifies an institution, so that it may post needs."""
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound("This institution does not exist.")
    verify_institution(session, institution=institution, coordinator=user)
    session.commit()
    return _public(institution)
