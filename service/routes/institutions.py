"""Institutions over the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.core import policy
from service.core.institutions import (
    Review,
    reply_to_review,
    review_institution,
    review_of,
    update_institution,
    verify_institution,
)
from service.deps import (
    MemberInstitution,
    ReaderDep,
    RequireMember,
    RequireReplier,
    RequireStaff,
    SessionDep,
    StateDep,
)
from service.errors import NotFound
from service.models import Institution
from service.repos import institutions as institutions_repo
from service.routes.pagination import PageDep, PageOf, envelope
from service.routes.params import Id
from service.schemas.errors import ConflictBody
from service.schemas.institutions import (
    InstitutionOwn,
    InstitutionPublic,
    InstitutionUpdate,
    ReviewDecision,
    ReviewReply,
    ReviewReplyPublic,
)

router = APIRouter(prefix="/api/institutions", tags=["institutions"])


def _public(institution: object) -> dict[str, Any]:
    return InstitutionPublic.model_validate(institution).model_dump(mode="json")


def _own(institution: Institution) -> dict[str, Any]:
    return InstitutionOwn.model_validate(
        {**institution.model_dump(), "review": review_of(institution)}
    ).model_dump(mode="json")


@router.get("", response_model=PageOf[InstitutionPublic])
def list_institutions(
    user: RequireStaff,
    session: SessionDep,
    page: PageDep,
    verified: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    """Lists institutions for coordinators; `verified=false` is the verification queue."""
    state = None if verified is None else ("verified" if verified else "pending")
    rows, total = institutions_repo.list_institutions(
        session, state=state, offset=page.offset, limit=page.size
    )
    return envelope([_public(row) for row in rows], total=total, page=page)


@router.get("/mine", response_model=InstitutionOwn)
def my_institution(institution: MemberInstitution) -> dict[str, Any]:
    """Gets the institution the current member acts for, and where its verification stands."""
    return _own(institution)


@router.post(
    "/mine/replies",
    response_model=ReviewReplyPublic,
    status_code=201,
    responses={
        409: {
            "model": ConflictBody,
            "description": "Nothing is asked of the institution now (decided meanwhile), or "
            "another question was asked since `asked_at`.",
        }
    },
)
def reply_to_coordinator(
    body: ReviewReply,
    user: RequireReplier,
    institution: MemberInstitution,
    reader: ReaderDep,
    session: SessionDep,
    state: StateDep,
) -> dict[str, Any]:
    """Answers the coordinator's request for more information about the institution the
    current member acts for; the coordinator is told, and the institution awaits them again."""
    reply = reply_to_review(
        session,
        reader=reader,
        actor=user,
        institution=institution,
        message=body.message,
        settings=state.settings,
        asked_at=body.asked_at,
    )
    session.commit()
    return ReviewReplyPublic.model_validate(
        {**reply.model_dump(), "review": review_of(institution)}
    ).model_dump(mode="json")


@router.get("/{institution_id}", response_model=InstitutionPublic)
def get_institution(institution_id: Id, reader: ReaderDep, session: SessionDep) -> dict[str, Any]:
    """Gets an institution: coordinators see any, members their own, others verified ones."""
    policy.require(reader, policy.Action.USE_ACCOUNT)
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None or not policy.may_read_institution(reader, institution):
        raise NotFound("This institution does not exist.")
    return _public(institution)


@router.put("/mine", response_model=InstitutionOwn)
def save_my_institution(
    body: InstitutionUpdate,
    user: RequireMember,
    institution: MemberInstitution,
    session: SessionDep,
) -> dict[str, Any]:
    """Replaces the profile of the institution the current member acts for."""
    update_institution(session, institution=institution, actor=user, form=body)
    session.commit()
    return _own(institution)


@router.post("/{institution_id}/verify", response_model=InstitutionPublic)
def verify(
    institution_id: Id, user: RequireStaff, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    """Verifies an institution, so that it may publish needs; its members get an email."""
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound("This institution does not exist.")
    verify_institution(session, institution=institution, coordinator=user, settings=state.settings)
    session.commit()
    return _public(institution)


@router.post("/{institution_id}/review", response_model=InstitutionPublic)
def review(
    institution_id: Id,
    body: ReviewDecision,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
) -> dict[str, Any]:
    """Asks an institution for more information or declines it, with the reason its members
    are sent by email."""
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound("This institution does not exist.")
    review_institution(
        session,
        institution=institution,
        coordinator=user,
        decision=Review(body.decision),
        reason=body.reason,
        settings=state.settings,
    )
    session.commit()
    return _public(institution)
