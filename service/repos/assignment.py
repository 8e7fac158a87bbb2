"""Queries behind the assignment plan: open needs, their pending proposals, experts' load."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from service.models import (
    Engagement,
    EngagementStatus,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    NeedStatus,
    ProposalStatus,
)

# Engagements that hold one of a need's seats.
SEAT_HOLDING = (
    EngagementStatus.OFFERED,
    EngagementStatus.ACCEPTED,
    EngagementStatus.CONFIRMED,
    EngagementStatus.ACTIVE,
    EngagementStatus.DELIVERED,
    EngagementStatus.COMPLETED,
)


def open_needs(
    session: Session, *, country: str | None = None, sector: str | None = None
) -> list[tuple[Need, Institution]]:
    """Lists open needs with their institution, optionally of one country or sector."""
    statement = (
        select(Need, Institution)
        .join(Institution, col(Institution.id) == col(Need.institution_id))
        .where(Need.status == NeedStatus.OPEN)
        .order_by(col(Need.id))
    )
    if country:
        statement = statement.where(Institution.country == country)
    if sector:
        statement = statement.where(Need.sector == sector)
    return [(need, institution) for need, institution in session.exec(statement)]


def pending_proposals(session: Session, need_ids: list[int]) -> list[MatchProposal]:
    """Lists the proposals of these needs still awaiting a coordinator."""
    if not need_ids:
        return []
    statement = select(MatchProposal).where(
        col(MatchProposal.need_id).in_(need_ids),
        MatchProposal.status == ProposalStatus.PROPOSED,
    )
    return list(session.exec(statement.order_by(col(MatchProposal.id))))


def seats_taken(session: Session, need_ids: list[int]) -> dict[int, int]:
    """Counts the engagements already holding each need's seats."""
    if not need_ids:
        return {}
    statement = (
        select(Engagement.need_id, func.count())
        .where(col(Engagement.need_id).in_(need_ids), col(Engagement.status).in_(SEAT_HOLDING))
        .group_by(col(Engagement.need_id))
    )
    return {int(need_id): int(count) for need_id, count in session.exec(statement)}


def open_offers(session: Session, expert_ids: list[int]) -> dict[int, int]:
    """Counts the offers each expert has not answered yet."""
    if not expert_ids:
        return {}
    statement = (
        select(Engagement.expert_id, func.count())
        .where(
            col(Engagement.expert_id).in_(expert_ids),
            Engagement.status == EngagementStatus.OFFERED,
        )
        .group_by(col(Engagement.expert_id))
    )
    return {int(e): int(count) for e, count in session.exec(statement) if e is not None}


def experts_by_id(session: Session, expert_ids: list[int]) -> dict[int, ExpertProfile]:
    """Gets experts by id."""
    if not expert_ids:
        return {}
    statement = select(ExpertProfile).where(col(ExpertProfile.id).in_(expert_ids))
    return {e.id or 0: e for e in session.exec(statement)}
