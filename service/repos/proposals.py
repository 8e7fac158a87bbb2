"""Queries on match proposals."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, bindparam, delete, or_, update
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import (
    Engagement,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    NeedStatus,
    ProposalOrigin,
    ProposalStatus,
)


def get_proposal(session: Session, proposal_id: int) -> MatchProposal | None:
    """Gets a proposal by id."""
    return session.get(MatchProposal, proposal_id)


def get_proposals(session: Session, proposal_ids: list[int]) -> list[MatchProposal]:
    """Gets proposals by id, in id order."""
    if not proposal_ids:
        return []
    return list(
        session.exec(
            select(MatchProposal)
            .where(col(MatchProposal.id).in_(proposal_ids))
            .order_by(col(MatchProposal.id))
        ).all()
    )


def decide(
    session: Session, proposal_id: int, *, source: str, target: str, values: dict[str, Any]
) -> bool:
    """Moves a proposal from `source` to `target` in one UPDATE; tells whether this call won."""
    statement = (
        update(MatchProposal)
        .where(col(MatchProposal.id) == proposal_id, col(MatchProposal.status) == source)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def withdraw_pending_for_need(session: Session, need_id: int, *, now: datetime) -> list[int]:
    """Withdraws every proposal of a need still awaiting a coordinator; returns their ids."""
    statement = (
        update(MatchProposal)
        .where(
            col(MatchProposal.need_id) == need_id,
            col(MatchProposal.status) == ProposalStatus.PROPOSED,
        )
        .values(status=ProposalStatus.WITHDRAWN, rank=0, updated_at=now)
        .returning(col(MatchProposal.id))
        .execution_options(synchronize_session=False)
    )
    return sorted(int(row) for row in session.execute(statement).scalars().all())


def get_for_pair(session: Session, *, need_id: int, expert_id: int) -> MatchProposal | None:
    """Gets the matcher's proposal of one expert for one need, if any."""
    statement = select(MatchProposal).where(
        MatchProposal.need_id == need_id, MatchProposal.expert_id == expert_id
    )
    return session.exec(statement).first()


@functools.cache
def _for_need() -> SelectOfScalar[MatchProposal]:
    """The statement of `list_for_need` (the review page's), built once with the need as a
    parameter: building a statement cost more than running it."""
    return (
        select(MatchProposal)
        .where(MatchProposal.need_id == bindparam("need_id"))
        .order_by(col(MatchProposal.score).desc(), col(MatchProposal.rank), col(MatchProposal.id))
    )


def list_for_need(session: Session, need_id: int) -> list[MatchProposal]:
    """Lists a need's proposals, best first."""
    return list(session.exec(_for_need(), params={"need_id": need_id}).all())


def list_for_expert(session: Session, expert_id: int) -> list[MatchProposal]:
    """Lists the proposals about an expert."""
    return list(
        session.exec(
            select(MatchProposal)
            .where(MatchProposal.expert_id == expert_id)
            .order_by(col(MatchProposal.id))
        ).all()
    )


QUEUE_ORDERS = ("newest", "oldest", "fewest")


def needs_awaiting_approval(
    session: Session,
    *,
    offset: int = 0,
    limit: int = 20,
    text: str = "",
    country: str = "",
    sector: str = "",
    order: str = "newest",
) -> tuple[list[Need], int]:
    """Lists open needs that no coordinator has approved a proposal for, newest first by
    default (or waiting longest, or fewest proposals to review), filtered."""
    approved = select(MatchProposal.need_id).where(MatchProposal.status == ProposalStatus.APPROVED)
    statement = select(Need).where(Need.status == NeedStatus.OPEN, col(Need.id).not_in(approved))
    if text:
        statement = statement.where(func.lower(Need.title).contains(text.lower()))
    if sector:
        statement = statement.where(Need.sector == sector)
    if country:
        statement = statement.join(Institution, col(Institution.id) == Need.institution_id).where(
            Institution.country == country.upper()
        )
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    if order == "oldest":
        statement = statement.order_by(col(Need.posted_at), col(Need.id))
    elif order == "fewest":
        waiting = (
            select(func.count())
            .where(
                MatchProposal.need_id == Need.id,
                MatchProposal.status == ProposalStatus.PROPOSED,
            )
            .correlate(Need)
            .scalar_subquery()
        )
        statement = statement.order_by(waiting, col(Need.posted_at), col(Need.id))
    else:
        statement = statement.order_by(col(Need.posted_at).desc(), col(Need.id).desc())
    rows = session.exec(statement.offset(offset).limit(limit)).all()
    return list(rows), total


def proposal_counts(session: Session, need_ids: list[int]) -> dict[int, dict[str, int]]:
    """Counts each need's proposals by status."""
    if not need_ids:
        return {}
    rows = session.exec(
        select(MatchProposal.need_id, MatchProposal.status, func.count())
        .where(col(MatchProposal.need_id).in_(need_ids))
        .group_by(col(MatchProposal.need_id), col(MatchProposal.status))
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for need_id, status, count in rows:
        counts.setdefault(need_id, {})[status] = count
    return counts


def stale_proposals(session: Session, *, before: datetime, limit: int = 100) -> list[MatchProposal]:
    """Lists proposals waiting for a coordinator since before a moment, oldest first."""
    return list(
        session.exec(
            select(MatchProposal)
            .join(Need, col(Need.id) == col(MatchProposal.need_id))
            .where(
                MatchProposal.status == ProposalStatus.PROPOSED,
                Need.status == NeedStatus.OPEN,
                col(MatchProposal.created_at) < before,
            )
            .order_by(col(MatchProposal.created_at), col(MatchProposal.id))
            .limit(limit)
        ).all()
    )


def best_scores(session: Session, need_ids: list[int]) -> dict[int, float]:
    """Gets the best proposal score of each need (rejected and withdrawn ones excluded)."""
    if not need_ids:
        return {}
    rows = session.exec(
        select(MatchProposal.need_id, func.max(MatchProposal.score))
        .where(
            col(MatchProposal.need_id).in_(need_ids),
            col(MatchProposal.status).in_([ProposalStatus.PROPOSED, ProposalStatus.APPROVED]),
        )
        .group_by(col(MatchProposal.need_id))
    ).all()
    return {need_id: float(score) for need_id, score in rows}


def withdraw_pending_for_expert(session: Session, expert_id: int, *, now: datetime) -> int:
    """Withdraws an expert's proposals still awaiting a coordinator, in one conditional update;
    returns how many."""
    result = session.execute(
        update(MatchProposal)
        .where(
            col(MatchProposal.expert_id) == expert_id,
            col(MatchProposal.status) == ProposalStatus.PROPOSED,
            # Those a need ranks (whichever side holds them too) and the need's own.
            or_(col(MatchProposal.origin) == ProposalOrigin.NEED, col(MatchProposal.rank) != 0),
        )
        .values(status=ProposalStatus.WITHDRAWN, rank=0, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_unengaged_for_expert(session: Session, expert_id: int) -> None:
    """Deletes an expert's proposals that never became an engagement."""
    engaged = select(Engagement.proposal_id)
    session.execute(
        delete(MatchProposal).where(
            col(MatchProposal.expert_id) == expert_id, col(MatchProposal.id).not_in(engaged)
        )
    )


def experts_to_reconfirm(session: Session, *, before: datetime) -> list[ExpertProfile]:
    """Lists active experts with an account whose availability was last confirmed before then."""
    stale = or_(
        col(ExpertProfile.availability_confirmed_at) < before,
        and_(
            col(ExpertProfile.availability_confirmed_at).is_(None),
            col(ExpertProfile.created_at) < before,
        ),
    )
    return list(
        session.exec(
            select(ExpertProfile)
            .where(col(ExpertProfile.active), col(ExpertProfile.user_id).is_not(None), stale)
            .order_by(col(ExpertProfile.id))
        ).all()
    )
