"""Engagements over the API: each side's moves, feedback, and the lists each may read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from service.core import policy
from service.core.engagements import engagement_view, give_feedback, move, readable_engagement
from service.deps import CurrentUser, ReaderDep, SessionDep, StateDep
from service.repos import engagements as engagements_repo
from service.routes.pagination import PageDep, envelope
from service.schemas.engagements import FeedbackWrite, MoveRequest

router = APIRouter(prefix="/api/engagements", tags=["engagements"])

Action = Literal["accept", "decline", "confirm", "start", "complete", "cancel"]


@router.get("")
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


@router.get("/{engagement_id}")
def get_engagement(engagement_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets an engagement the caller takes part in."""
    engagement, party = readable_engagement(session, engagement_id=engagement_id, reader=user)
    return engagement_view(session, engagement=engagement, reader=user, party=party)


@router.post("/{engagement_id}/feedback", status_code=201)
def feedback(
    engagement_id: int, body: FeedbackWrite, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Gives the caller's side's feedback on an engagement."""
    engagement, _ = readable_engagement(session, engagement_id=engagement_id, reader=user)
    item = give_feedback(session, engagement=engagement, actor=user, data=body)
    session.commit()
    return item.model_dump(mode="json")


@router.post("/{engagement_id}/{action}")
def make_move(
    engagement_id: int,
    action: Action,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    body: MoveRequest | None = None,
) -> dict[str, Any]:
    """Moves an engagement: accept, decline, confirm, start, complete or cancel."""
    engagement, _ = readable_engagement(session, engagement_id=engagement_id, reader=user)
    move(
        session,
        engagement=engagement,
        actor=user,
        action=action,
        settings=state.settings,
        reason=body.reason if body else "",
        terms=body.terms() if body else None,
    )
    session.commit()
    return engagement_view(session, engagement=engagement, reader=user)
