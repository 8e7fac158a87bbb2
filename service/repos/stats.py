"""Figures about the whole platform: counts, queues, breakdowns for charts, the roster export.

The dashboard's and the landing page's statements are built once (`functools.cache`), with
their values as parameters: SQLAlchemy spent more building and keying a statement than the
database spent running it (bench/page_profile.py)."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, exists, false
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select as SqlModelSelect

from service.models import (
    Engagement,
    EngagementStatus,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    NeedStatus,
    ProposalStatus,
    User,
)
from service.models.types import UTCDateTime

# Engagements that did not happen (declined, expired, cancelled) are left out of the charts.
COUNTED_ENGAGEMENTS = (
    EngagementStatus.OFFERED,
    EngagementStatus.ACCEPTED,
    EngagementStatus.CONFIRMED,
    EngagementStatus.ACTIVE,
    EngagementStatus.DELIVERED,
    EngagementStatus.COMPLETED,
)


def _count(entity: Any, *where: Any) -> Any:
    return select(func.count()).select_from(entity).where(*where).scalar_subquery()


@functools.cache
def _platform_figures() -> Select[Any]:
    """The four counts of `platform_figures` as one row (one statement, built once).

    Active experts are counted as every profile less the inactive ones (`active` is never
    null): SQLite counts a whole table without reading its rows, and the inactive few from the
    `active` index, where `WHERE active` read every entry of that index (0.35 ms at 10,000
    experts, 0.008 this way); PostgreSQL reads one index either way.
    """
    return select(
        (_count(ExpertProfile) - _count(ExpertProfile, col(ExpertProfile.active) == false())).label(
            "experts"
        ),
        _count(Institution, col(Institution.verified_at).is_not(None)).label("institutions"),
        _count(Need, Need.status == NeedStatus.OPEN).label("open_needs"),
        _count(Engagement, Engagement.status == EngagementStatus.COMPLETED).label(
            "engagements_completed"
        ),
    )


def platform_figures(session: Session) -> dict[str, int]:
    """Counts active experts (those who can be proposed), verified institutions, open needs and
    completed engagements, in one statement."""
    row = session.execute(_platform_figures()).one()
    return {name: int(value) for name, value in row._mapping.items()}


@functools.cache
def _needs_without_approval() -> Select[Any]:
    approved = exists().where(
        col(MatchProposal.need_id) == col(Need.id),
        col(MatchProposal.status) == ProposalStatus.APPROVED,
    )
    return select(func.count()).select_from(Need).where(Need.status == NeedStatus.OPEN, ~approved)


def count_open_needs_without_approval(session: Session) -> int:
    """Counts open needs that no coordinator has approved a proposal for yet."""
    return int(session.execute(_needs_without_approval()).scalar_one())


@functools.cache
def _stale_proposals() -> Select[Any]:
    return (
        select(func.count())
        .select_from(MatchProposal)
        .where(
            MatchProposal.status == ProposalStatus.PROPOSED,
            col(MatchProposal.created_at) < bindparam("cutoff"),
        )
    )


def count_stale_proposals(session: Session, *, older_than_days: int, now: datetime) -> int:
    """Counts proposals still awaiting a coordinator after this many days."""
    cutoff = now - timedelta(days=older_than_days)
    return int(session.execute(_stale_proposals(), {"cutoff": cutoff}).scalar_one())


DIMENSIONS = ("country", "sector", "mode")


@functools.cache
def _engagements_by() -> SqlModelSelect[str, str, str, int]:
    return (
        select(col(Institution.country), col(Need.sector), col(Engagement.mode), func.count())
        .select_from(Engagement)
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .join(Institution, col(Institution.id) == col(Need.institution_id))
        .where(col(Engagement.status).in_(COUNTED_ENGAGEMENTS))
        .group_by(col(Institution.country), col(Need.sector), col(Engagement.mode))
    )


def engagements_by(session: Session) -> dict[str, list[tuple[str, int]]]:
    """Counts engagements by 'country' (of the institution), 'sector' and 'mode', most first,
    from one grouped query."""
    counts: dict[str, Counter[str]] = {dimension: Counter() for dimension in DIMENSIONS}
    for country, sector, mode, count in session.execute(_engagements_by()).all():
        for dimension, value in zip(DIMENSIONS, (country, sector, mode), strict=True):
            counts[dimension][str(value or "")] += int(count)
    return {
        dimension: sorted(counter.items(), key=lambda row: (-row[1], row[0]))
        for dimension, counter in counts.items()
    }


@functools.cache
def _monthly_sums(months: int) -> Select[Any]:
    """The statement of `engagements_by_month`: one row of `months` sums, counted by the
    database rather than a row per engagement. Built once per month count, with the months'
    bounds as parameters (`lo0`..`lo{months-1}`, then `after`): building its 12 CASE
    expressions and their literals took about 1 ms of every dashboard request."""
    offered_at = col(Engagement.offered_at)
    bounds = [bindparam(f"lo{i}", type_=UTCDateTime()) for i in range(months)]
    bounds.append(bindparam("after", type_=UTCDateTime()))
    sums = [
        func.coalesce(func.sum(case((and_(offered_at >= lo, offered_at < hi), 1), else_=0)), 0)
        for lo, hi in itertools.pairwise(bounds)
    ]
    return select(*sums).where(
        col(Engagement.status).in_(COUNTED_ENGAGEMENTS), offered_at >= bounds[0]
    )


def engagements_by_month(session: Session, *, months: int, today: date) -> list[tuple[str, int]]:
    """Counts engagements offered in each of the last `months` months (YYYY-MM, oldest first)."""
    first = date(today.year, today.month, 1)
    keys: list[str] = []
    year, month = first.year, first.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    starts = [datetime(int(key[:4]), int(key[5:]), 1, tzinfo=UTC) for key in keys]
    after = datetime(first.year + (first.month == 12), first.month % 12 + 1, 1, tzinfo=UTC)
    params: dict[str, datetime] = {f"lo{i}": start for i, start in enumerate(starts)}
    params["after"] = after
    row = session.execute(_monthly_sums(months), params).one()
    return [(key, int(count)) for key, count in zip(keys, row, strict=True)]


def skill_lists(session: Session) -> Iterator[list[str]]:
    """Yields the skills of every active profile and the required skills of every need."""
    for skills in session.exec(select(ExpertProfile.skills).where(col(ExpertProfile.active))).all():
        yield list(skills or [])
    for skills in session.exec(select(Need.required_skills)).all():
        yield list(skills or [])


def roster_for_export(session: Session, *, batch: int = 500) -> Iterator[tuple[ExpertProfile, str]]:
    """Yields every expert profile with its account's email, by id, a batch at a time."""
    last_id = 0
    while True:
        rows = session.exec(
            select(ExpertProfile, User.email)
            .join(User, col(User.id) == col(ExpertProfile.user_id), isouter=True)
            .where(col(ExpertProfile.id) > last_id)
            .order_by(col(ExpertProfile.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        for expert, email in rows:
            yield expert, email or ""
        last_id = rows[-1][0].id or last_id
