"""Engagements over the API: each side's moves, feedback, and the lists each may read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from service.core import policy
from service.core.engagements import (
    engagement_view,
    give_feedback,
    move,
    readable_engagement,
    set_terms,
)
from service.deps import CurrentUser, ReaderDep, SessionDep, StateDep
from service.models import EngagementFeedback
from service.repos import engagements as engagements_repo
from service.routes.pagination import PageDep, envelope
from service.routes.params import Id
from service.schemas.engagements import (
    EngagementPage,
    EngagementRead,
    FeedbackWrite,
    MoveRequest,
    TermsRequest,
)

router = APIRouter(prefix="/api/engagements", tags=["engagements"])

# The moves a person makes (core.engagements.ACTIONS, checked by a test).
Action = Literal[
    "accept", "decline", "confirm", "start", "complete", "confirm_completion", "cancel"
]


@router.get("", response_model=EngagementPage, response_model_exclude_unset=True)
def list_engagements(
    user: CurrentUser,
    reader: ReaderDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Lists the caller's engagements (all of them for coordinators), newest first."""
    rows, total = engagements_repo.list_engagements(
        session,
        **policy.engagement_scope(reader),
        statuses=status,
        offset=page.offset,
        limit=page.size,
    )
    items = [engagement_view(session, engagement=row, reader=user) for row in rows]
    return envelope(items, total=total, page=page)


@router.get("/{engagement_id}", response_model=EngagementRead, response_model_exclude_unset=True)
def get_engagement(engagement_id: Id, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets an engagement the caller takes part in."""
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    return engagement_view(session, engagement=engagement, reader=user, party=party)


@router.post("/{engagement_id}/feedback", status_code=201, response_model=EngagementFeedback)
def feedback(
    engagement_id: Id, body: FeedbackWrite, user: CurrentUser, session: SessionDep
) -> EngagementFeedback:
    """Gives the caller's side's feedback on an engagement."""
    engagement, _ = readable_engagement(session, engagement_id=engagement_id, reader=user)
    item = give_feedback(session, engagement=engagement, actor=user, data=body)
    session.commit()
    return item


@router.put(
    "/{engagement_id}/terms", response_model=EngagementRead, response_model_exclude_unset=True
)
def put_terms(
    engagement_id: Id, body: TermsRequest, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Sets an engagement's dates, mode and agreed hours while it is confirmed and not started;
    409 once it has started (or moved otherwise), 422 naming the field for bad dates."""
    engagement, _ = readable_engagement(session, engagement_id=engagement_id, reader=user)
    set_terms(session, engagement=engagement, actor=user, terms=body.terms(), seen=body.from_status)
    session.commit()
    return engagement_view(session, engagement=engagement, reader=user)


@router.post(
    "/{engagement_id}/{action}", response_model=EngagementRead, response_model_exclude_unset=True
)
def make_move(
    engagement_id: Id,
    action: Action,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    body: MoveRequest | None = None,
) -> dict[str, Any]:
    """Moves an engagement: accept, decline, confirm, start, complete, confirm_completion
    or cancel; 409 if it moved meanwhile (the first of two racing requests wins)."""
    engagement, _ = readable_engagement(session, engagement_id=engagement_id, reader=user)
    move(
        session,
        engagement=engagement,
        actor=user,
        action=action,
        settings=state.settings,
        reason=body.reason if body else "",
        terms=body.terms() if body else None,
        seen=body.from_status if body else None,
    )
    session.commit()
    return engagement_view(session, engagement=engagement, reader=user)
