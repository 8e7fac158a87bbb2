"""Queries on engagements and their feedback."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import Engagement, EngagementFeedback, EngagementStatus, Need

OPEN_OFFER = EngagementStatus.OFFERED


def get_engagement(
    session: Session, engagement_id: int, *, fresh: bool = False
) -> Engagement | None:
    """Gets an engagement by id (`fresh`: re-read from the database, not the session's copy)."""
    return session.get(Engagement, engagement_id, populate_existing=fresh)


def withdraw_offers_for_expert(
    session: Session, expert_id: int, *, reason: str, now: datetime
) -> list[int]:
    """Cancels an expert's offers still awaiting their answer, in one conditional update;
    returns the ids of those it cancelled."""
    statement = (
        update(Engagement)
        .where(col(Engagement.expert_id) == expert_id, col(Engagement.status) == OPEN_OFFER)
        .values(status=EngagementStatus.CANCELLED, reason=reason, closed_at=now, updated_at=now)
        .returning(col(Engagement.id))
        .execution_options(synchronize_session="fetch")
    )
    return sorted(int(row) for row in session.execute(statement).scalars().all())


def list_for_expert(
    session: Session, expert_id: int, *, statuses: Iterable[str]
) -> list[Engagement]:
    """Lists an expert's engagements in some states, oldest first."""
    statement = (
        select(Engagement)
        .where(col(Engagement.expert_id) == expert_id, col(Engagement.status).in_(list(statuses)))
        .order_by(col(Engagement.id))
    )
    return list(session.exec(statement).all())


def get_for_proposal(session: Session, proposal_id: int) -> Engagement | None:
    """Gets the engagement an approved proposal became."""
    return session.exec(select(Engagement).where(Engagement.proposal_id == proposal_id)).first()


def offered_to(session: Session, *, need_id: int, expert_id: int) -> bool:
    """Tells whether an expert was offered a need: an engagement, in any state."""
    statement = (
        select(Engagement.id)
        .where(Engagement.need_id == need_id, Engagement.expert_id == expert_id)
        .limit(1)
    )
    return session.exec(statement).first() is not None


def get_for_proposals(session: Session, proposal_ids: list[int]) -> dict[int, Engagement]:
    """Gets the engagements some approved proposals became, by proposal id (one query)."""
    if not proposal_ids:
        return {}
    rows = session.exec(_for_proposals(), params={"proposal_ids": proposal_ids})
    return {engagement.proposal_id: engagement for engagement in rows}


@functools.cache
def _for_proposals() -> SelectOfScalar[Engagement]:
    """The statement of `get_for_proposals` (the review page's), built once with the proposals
    as a parameter: building a statement cost more than running it."""
    return select(Engagement).where(
        col(Engagement.proposal_id).in_(bindparam("proposal_ids", expanding=True))
    )


def move_status(
    session: Session,
    engagement_id: int,
    *,
    sources: Iterable[str],
    target: str,
    values: dict[str, Any],
) -> bool:
    """Moves an engagement to `target` only if it is still in one of `sources` (one UPDATE).

    Tells whether this call won; the caller refreshes its copy of the row either way.
    """
    statement = (
        update(Engagement)
        .where(col(Engagement.id) == engagement_id, col(Engagement.status).in_(list(sources)))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def move_all_for_need(
    session: Session,
    need_id: int,
    *,
    sources: list[str],
    target: str,
    values: dict[str, Any],
) -> list[tuple[int, str]]:
    """Moves a need's engagements in `sources` to `target`; returns (id, previous status) pairs.

    One UPDATE per source, in the order given (the order of the flow), so that a row moved
    forward meanwhile by another transaction is caught by the next statement.
    """
    moved: list[tuple[int, str]] = []
    for source in sources:
        statement = (
            update(Engagement)
            .where(col(Engagement.need_id) == need_id, col(Engagement.status) == source)
            .values(status=target, **values)
            .returning(col(Engagement.id))
            .execution_options(synchronize_session=False)
        )
        moved += [(int(row), source) for row in session.execute(statement).scalars().all()]
    return moved


# The engagements that hold one of a need's seats for good: confirmed by the institution.
CONFIRMED_STATES = (
    EngagementStatus.CONFIRMED,
    EngagementStatus.ACTIVE,
    EngagementStatus.DELIVERED,
    EngagementStatus.COMPLETED,
)


# Offers still open on a need: awaiting the expert's answer, or the institution's confirmation.
OPEN_OFFER_STATES = (EngagementStatus.OFFERED, EngagementStatus.ACCEPTED)


def open_offers_for_need(session: Session, need_id: int) -> list[Engagement]:
    """Lists a need's offers still open (offered or accepted), oldest first."""
    statement = (
        select(Engagement)
        .where(col(Engagement.need_id) == need_id, col(Engagement.status).in_(OPEN_OFFER_STATES))
        .order_by(col(Engagement.id))
    )
    return list(session.exec(statement).all())


def count_confirmed(session: Session, need_id: int) -> int:
    """Counts a need's engagements confirmed by its institution (in any later state)."""
    statement = select(func.count()).where(
        col(Engagement.need_id) == need_id, col(Engagement.status).in_(CONFIRMED_STATES)
    )
    return int(session.exec(statement).one())


def statuses_for_need(session: Session, need_id: int) -> set[str]:
    """Gets the states a need's engagements are in."""
    statement = select(Engagement.status).where(col(Engagement.need_id) == need_id).distinct()
    return {str(status) for status in session.exec(statement).all()}


def mark_reminded(session: Session, engagement_id: int, *, now: datetime) -> bool:
    """Marks an open offer as reminded, unless it was already (one UPDATE); tells who won."""
    statement = (
        update(Engagement)
        .where(
            col(Engagement.id) == engagement_id,
            col(Engagement.status) == OPEN_OFFER,
            col(Engagement.reminded_at).is_(None),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def list_engagements(
    session: Session,
    *,
    expert_id: int | None = None,
    institution_id: int | None = None,
    need_id: int | None = None,
    statuses: list[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Engagement], int]:
    """Lists engagements, newest first, filtered by expert, institution, need or status."""
    statement = select(Engagement)
    if institution_id is not None:
        statement = statement.join(Need, col(Need.id) == col(Engagement.need_id)).where(
            Need.institution_id == institution_id
        )
    if expert_id is not None:
        statement = statement.where(Engagement.expert_id == expert_id)
    if need_id is not None:
        statement = statement.where(Engagement.need_id == need_id)
    if statuses:
        statement = statement.where(col(Engagement.status).in_(statuses))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(col(Engagement.updated_at).desc(), col(Engagement.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def count_open_offers(session: Session, *, expert_id: int) -> int:
    """Counts the offers waiting for an expert's answer."""
    statement = select(func.count()).where(
        Engagement.expert_id == expert_id, Engagement.status == OPEN_OFFER
    )
    return session.exec(statement).one()


def offers_to_expire(session: Session, *, now: datetime) -> list[Engagement]:
    """Lists offers whose answer time is over."""
    return list(
        session.exec(
            select(Engagement)
            .where(
                Engagement.status == OPEN_OFFER,
                col(Engagement.offer_expires_at).is_not(None),
                col(Engagement.offer_expires_at) <= now,
            )
            .order_by(col(Engagement.id))
        ).all()
    )


def offers_to_remind(session: Session, *, now: datetime, until: datetime) -> list[Engagement]:
    """Lists open offers, not yet reminded, that expire after now but before `until`."""
    return list(
        session.exec(
            select(Engagement)
            .where(
                Engagement.status == OPEN_OFFER,
                col(Engagement.reminded_at).is_(None),
                col(Engagement.offer_expires_at) > now,
                col(Engagement.offer_expires_at) <= until,
            )
            .order_by(col(Engagement.id))
        ).all()
    )


def stale_engagements(
    session: Session, *, statuses: list[str], before: datetime, limit: int = 100
) -> list[Engagement]:
    """Lists engagements stuck in one of these states since before a moment, oldest first."""
    return list(
        session.exec(
            select(Engagement)
            .where(col(Engagement.status).in_(statuses), col(Engagement.updated_at) < before)
            .order_by(col(Engagement.updated_at), col(Engagement.id))
            .limit(limit)
        ).all()
    )


def list_feedback(session: Session, engagement_id: int) -> list[EngagementFeedback]:
    """Lists the feedback given on an engagement."""
    return list(
        session.exec(
            select(EngagementFeedback)
            .where(EngagementFeedback.engagement_id == engagement_id)
            .order_by(col(EngagementFeedback.id))
        ).all()
    )


def add_feedback_once(session: Session, feedback: EngagementFeedback) -> EngagementFeedback | None:
    """Inserts one side's feedback unless that side already gave it (even a moment ago, in
    another transaction); returns the stored row, or None when it was already there."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(EngagementFeedback)
        .values(**feedback.model_dump(exclude={"id"}))
        .on_conflict_do_nothing(index_elements=["engagement_id", "side"])
        .returning(col(EngagementFeedback.id))
    )
    new_id = session.execute(statement).scalar_one_or_none()
    return session.get(EngagementFeedback, new_id) if new_id is not None else None


def get_feedback(session: Session, engagement_id: int, side: str) -> EngagementFeedback | None:
    """Gets one side's feedback on an engagement."""
    return session.exec(
        select(EngagementFeedback).where(
            EngagementFeedback.engagement_id == engagement_id, EngagementFeedback.side == side
        )
    ).first()


def feedback_for(session: Session, engagement_ids: list[int]) -> list[EngagementFeedback]:
    """Lists the feedback given on several engagements."""
    if not engagement_ids:
        return []
    return list(
        session.exec(
            select(EngagementFeedback).where(
                col(EngagementFeedback.engagement_id).in_(engagement_ids)
            )
        ).all()
    )


def load_of_experts(
    session: Session, *, expert_ids: list[int], statuses: list[str]
) -> dict[int, tuple[int, float]]:
    """Counts each expert's engagements in these states and sums their needs' weekly hours."""
    statement = (
        select(
            Engagement.expert_id,
            func.count(col(Engagement.id)),
            func.sum(func.coalesce(Need.hours_per_week, 0)),
        )
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .where(col(Engagement.status).in_(statuses), col(Engagement.expert_id).in_(expert_ids))
        .group_by(col(Engagement.expert_id))
    )
    return {
        int(expert_id): (int(count), float(hours or 0))
        for expert_id, count, hours in session.exec(statement)
        if expert_id is not None
    }
