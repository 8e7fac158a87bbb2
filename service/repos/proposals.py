"""Queries on match proposals."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CursorResult,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    or_,
    update,
)
from sqlalchemy import select as table_select
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
from service.repos.upserts import table_of, upsert


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


def review_candidates(session: Session, need_id: int) -> Sequence[Row[Any]]:
    """Lists a need's proposals, best first (as `list_for_need`), each with the columns of its
    expert and engagement the review pages show, in one query of plain rows: the pages only
    read them, and the ORM's objects cost more to build than the query takes to run."""
    return session.execute(_review_candidates(), {"need_id": need_id}).all()


@functools.cache
def _review_candidates() -> Select[Any]:
    """The statement of `review_candidates`, built once with the need as a parameter; on the
    tables (no ORM entities), so its rows come straight from the cursor."""
    p, e, g = table_of(MatchProposal), table_of(ExpertProfile), table_of(Engagement)
    return (
        table_select(
            *(p.c[name] for name in REVIEWED_PROPOSAL_COLUMNS),
            *(e.c[name].label(f"profile_{name}") for name in REVIEWED_EXPERT_COLUMNS),
            g.c.id.label("engagement_id"),
            g.c.status.label("engagement_status"),
        )
        .select_from(
            p.outerjoin(e, e.c.id == p.c.expert_id).outerjoin(g, g.c.proposal_id == p.c.id)
        )
        .where(p.c.need_id == bindparam("need_id"))
        .order_by(p.c.score.desc(), p.c.rank, p.c.id)
    )


# What the review pages read of a proposal and of its expert (the expert's standing included:
# the access policy decides from it what a reader sees).
REVIEWED_PROPOSAL_COLUMNS = (
    "id",
    "need_id",
    "expert_id",
    "rank",
    "score",
    "components",
    "explanation",
    "status",
    "reason",
)
REVIEWED_EXPERT_COLUMNS = (
    "id",
    "user_id",
    "display_name",
    "headline",
    "residence_country",
    "languages",
    "active",
    "consent_matching_at",
    "visibility",
)


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


def _awaiting_approval() -> tuple[Any, ...]:
    """The conditions of an open need that no coordinator has approved a proposal for."""
    approved = select(MatchProposal.need_id).where(MatchProposal.status == ProposalStatus.APPROVED)
    return Need.status == NeedStatus.OPEN, col(Need.id).not_in(approved)


def queue_countries(session: Session) -> list[str]:
    """Lists the countries of the institutions whose needs await approval (the queue's filter
    offers only these)."""
    statement = (
        select(Institution.country)
        .join(Need, col(Need.institution_id) == Institution.id)
        .where(*_awaiting_approval())
        .distinct()
    )
    return [code for code in session.exec(statement).all() if code]


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
    statement = select(Need).where(*_awaiting_approval())
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


# What a ranking stores on a pair: its score, the score's parts and its reasons.
SCORING = ("score", "components", "explanation", "model_version")


def _new_pair(
    need_id: int, expert_id: int, *, origin: str, rank: int, now: datetime
) -> dict[str, Any]:
    return {
        "need_id": need_id,
        "expert_id": expert_id,
        "rank": rank,
        "status": ProposalStatus.PROPOSED.value,
        "origin": origin,
        "reason": "",
        "created_at": now,
        "updated_at": now,
    }


def propose_pair(session: Session, *, need_id: int, expert_id: int, now: datetime) -> None:
    """Proposes an expert for a need by hand (unranked, without reasons until the matcher gives
    some), in one statement: a pair already there keeps its scoring and decision (a withdrawn
    one is proposed again)."""
    table = table_of(MatchProposal)
    upsert(
        session,
        MatchProposal,
        [
            {
                **_new_pair(
                    need_id, expert_id, origin=ProposalOrigin.EXPERT.value, rank=0, now=now
                ),
                "score": 0.0,
                "components": {},
                "explanation": {},
                "model_version": "",
            }
        ],
        keys=("need_id", "expert_id"),
        set_=lambda new: {"status": _proposed_again(table), "updated_at": new.updated_at},
    )


def get_pair(session: Session, *, need_id: int, expert_id: int) -> MatchProposal | None:
    """Gets the proposal of an expert for a need, as stored now."""
    statement = (
        select(MatchProposal)
        .where(col(MatchProposal.need_id) == need_id, col(MatchProposal.expert_id) == expert_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def upsert_ranked_for_need(
    session: Session, *, need_id: int, ranked: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Stores the experts a need ranks (each: expert_id, rank and its scoring) in one statement:
    a new pair is proposed; a pair already there, whoever wrote it, takes its rank and scoring
    and keeps its decision and side (a withdrawn one is proposed again)."""
    table = table_of(MatchProposal)
    upsert(
        session,
        MatchProposal,
        [
            {
                **_new_pair(
                    need_id,
                    row["expert_id"],
                    origin=ProposalOrigin.NEED.value,
                    rank=row["rank"],
                    now=now,
                ),
                **{name: row[name] for name in SCORING},
            }
            for row in ranked
        ],
        keys=("need_id", "expert_id"),
        set_=lambda new: {
            "status": _proposed_again(table),
            "rank": new.rank,
            **{name: new[name] for name in SCORING},
            "updated_at": new.updated_at,
        },
    )


def upsert_ranked_for_expert(
    session: Session, *, expert_id: int, ranked: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Stores the open needs an expert fits best (each: need_id and its scoring) in one
    statement: a new pair is proposed on the expert's side; a pending or withdrawn pair passes
    to the expert's side (so the need's side, should it stop ranking it, leaves it pending), a
    withdrawn one is proposed again; a pair its need ranks keeps the need's scoring (one row
    serves both sides, the same whichever side's job ran last); decisions are kept."""
    table = table_of(MatchProposal)
    unranked = table.c.rank == 0
    held = table.c.status.in_([ProposalStatus.PROPOSED.value, ProposalStatus.WITHDRAWN.value])
    upsert(
        session,
        MatchProposal,
        [
            {
                **_new_pair(
                    row["need_id"], expert_id, origin=ProposalOrigin.EXPERT.value, rank=0, now=now
                ),
                **{name: row[name] for name in SCORING},
            }
            for row in ranked
        ],
        keys=("need_id", "expert_id"),
        set_=lambda new: {
            "origin": case((held, ProposalOrigin.EXPERT.value), else_=table.c.origin),
            "status": _proposed_again(table),
            **{name: case((unranked, new[name]), else_=table.c[name]) for name in SCORING},
            "updated_at": case((unranked, new.updated_at), else_=table.c.updated_at),
        },
    )


def _proposed_again(table: Table) -> Any:
    """A withdrawn pair ranked again is proposed again; any other keeps its status."""
    return case(
        (table.c.status == ProposalStatus.WITHDRAWN.value, ProposalStatus.PROPOSED.value),
        else_=table.c.status,
    )


def withdraw_unranked_for_need(
    session: Session, *, need_id: int, ranked: Sequence[int], now: datetime
) -> None:
    """Withdraws the need's own pending proposals of experts it no longer ranks, in one
    conditional UPDATE (a pair decided or taken by the expert's side meanwhile is left)."""
    session.execute(
        update(MatchProposal)
        .where(
            col(MatchProposal.need_id) == need_id,
            col(MatchProposal.expert_id).not_in(list(ranked)),
            col(MatchProposal.status) == ProposalStatus.PROPOSED,
            col(MatchProposal.origin) == ProposalOrigin.NEED,
        )
        .values(status=ProposalStatus.WITHDRAWN, rank=0, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def unrank_held_by_expert(
    session: Session,
    *,
    need_id: int,
    expert_id: int,
    scoring: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    """Leaves a pending pair the expert's side holds, that its need no longer ranks, unranked
    with the expert's side's scoring (withdrawn without one), in one conditional UPDATE."""
    values: dict[str, Any] = (
        {"status": ProposalStatus.WITHDRAWN} if scoring is None else dict(scoring)
    )
    session.execute(
        update(MatchProposal)
        .where(
            col(MatchProposal.need_id) == need_id,
            col(MatchProposal.expert_id) == expert_id,
            col(MatchProposal.status) == ProposalStatus.PROPOSED,
            col(MatchProposal.origin) == ProposalOrigin.EXPERT,
            col(MatchProposal.rank) != 0,
        )
        .values(rank=0, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def rescore_approved(
    session: Session, *, proposal_id: int, scoring: Mapping[str, Any], now: datetime
) -> None:
    """Stores an approved proposal's scoring read afresh (its decision and rank kept), in one
    conditional UPDATE."""
    session.execute(
        update(MatchProposal)
        .where(
            col(MatchProposal.id) == proposal_id,
            col(MatchProposal.status) == ProposalStatus.APPROVED,
        )
        .values(updated_at=now, **{name: scoring[name] for name in SCORING})
        .execution_options(synchronize_session=False)
    )


def release_for_expert(
    session: Session, *, expert_id: int, kept: Sequence[int], now: datetime
) -> None:
    """The expert's side lets go of its pending pairs with needs it no longer ranks, in one
    conditional UPDATE: one its need ranks passes to the need's side, the others are withdrawn."""
    unranked = col(MatchProposal.rank) == 0
    session.execute(
        update(MatchProposal)
        .where(
            col(MatchProposal.expert_id) == expert_id,
            col(MatchProposal.need_id).not_in(list(kept)),
            col(MatchProposal.status) == ProposalStatus.PROPOSED,
            col(MatchProposal.origin) == ProposalOrigin.EXPERT,
        )
        .values(
            status=case(
                (unranked, ProposalStatus.WITHDRAWN.value), else_=col(MatchProposal.status)
            ),
            origin=case((unranked, col(MatchProposal.origin)), else_=ProposalOrigin.NEED.value),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
