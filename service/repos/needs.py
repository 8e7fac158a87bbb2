"""Queries on needs."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, or_, update
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from service.models import Institution, Need, NeedStatus


def get_need(session: Session, need_id: int) -> Need | None:
    """Gets a need by id."""
    return session.get(Need, need_id)


def get_need_with_institution(
    session: Session, need_id: int
) -> tuple[Need, Institution | None] | None:
    """Gets a need by id with its institution, in one query."""
    row = session.execute(_with_institution(), {"need_id": need_id}).first()
    return (row[0], row[1]) if row else None


@functools.cache
def _with_institution() -> Select[Need, Institution]:
    """The statement of `get_need_with_institution` (the review page's), built once with the
    need as a parameter: building a statement cost more than running it."""
    return (
        select(Need, Institution)
        .outerjoin(Institution, col(Institution.id) == col(Need.institution_id))
        .where(col(Need.id) == bindparam("need_id"))
    )


def get_needs(session: Session, need_ids: list[int]) -> dict[int, Need]:
    """Gets needs by id, in one query."""
    if not need_ids:
        return {}
    rows = session.exec(select(Need).where(col(Need.id).in_(need_ids)))
    return {need.id or 0: need for need in rows}


def needs_of_institution(
    session: Session, institution_id: int, *, for_share: bool = False
) -> list[Need]:
    """Lists every need of an institution, whatever its status; `for_share` reads them FOR
    SHARE, as they are once a transaction saving one of them commits (a no-op on SQLite)."""
    statement = select(Need).where(Need.institution_id == institution_id).order_by(col(Need.id))
    if for_share:
        statement = statement.with_for_update(read=True).execution_options(populate_existing=True)
    return list(session.exec(statement).all())


def lock_needs(
    session: Session, *, ids: list[int] | None = None, after: int = 0, limit: int = 500
) -> list[Need]:
    """Gets needs in id order (those of `ids`, else the next `limit` after id `after`),
    locked until the transaction ends against saves and the worker's document builds (FOR NO
    KEY UPDATE; a no-op on SQLite). Their institutions are read FOR SHARE first: a rename
    locks its institution before its needs, so this never waits on one while holding the other."""
    keys = select(Need.id, Need.institution_id).order_by(col(Need.id)).limit(limit)
    if ids is not None:
        keys = keys.where(col(Need.id).in_(ids))
    else:
        keys = keys.where(col(Need.id) > after)
    found = session.exec(keys).all()
    if not found:
        return []
    session.exec(
        select(Institution.id)
        .where(col(Institution.id).in_(sorted({institution for _, institution in found})))
        .order_by(col(Institution.id))
        .with_for_update(read=True)
    ).all()
    statement = (
        select(Need)
        .where(col(Need.id).in_([need_id for need_id, _ in found]))
        .order_by(col(Need.id))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement).all())


def list_needs(
    session: Session,
    *,
    institution_id: int | None = None,
    statuses: list[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Need], int]:
    """Lists needs, newest first, filtered by institution and statuses if given; with the total."""
    statement = select(Need)
    if institution_id is not None:
        statement = statement.where(Need.institution_id == institution_id)
    if statuses:
        statement = statement.where(col(Need.status).in_(statuses))
    return _page(session, statement, offset=offset, limit=limit)


def institution_needs(
    session: Session,
    institution_id: int,
    *,
    statuses: list[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Need], int]:
    """Lists an institution's needs as its members see them (its home page, the API), newest
    first, filtered by statuses if given; with the total. The drafts it discarded (closed
    before they were ever published) are left out: for its members they are gone."""
    statement = select(Need).where(
        Need.institution_id == institution_id,
        or_(col(Need.status) != NeedStatus.CLOSED, col(Need.posted_at).is_not(None)),
    )
    if statuses:
        statement = statement.where(col(Need.status).in_(statuses))
    return _page(session, statement, offset=offset, limit=limit)


def _page(
    session: Session, statement: SelectOfScalar[Need], *, offset: int, limit: int
) -> tuple[list[Need], int]:
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(col(Need.created_at).desc(), col(Need.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def open_need_ids(session: Session) -> list[int]:
    """Lists the needs open to proposals."""
    statement = select(Need.id).where(Need.status == NeedStatus.OPEN).order_by(col(Need.id))
    return [int(need_id) for need_id in session.exec(statement) if need_id is not None]


def move_status(
    session: Session, need_id: int, *, source: str, target: str, values: dict[str, Any]
) -> bool:
    """Moves a need from `source` to `target` in one UPDATE; tells whether this call won."""
    statement = (
        update(Need)
        .where(col(Need.id) == need_id, col(Need.status) == source)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def lock_open(session: Session, need_id: int) -> bool:
    """Locks an open need's row until the transaction ends, changing nothing (one UPDATE on
    its being open); tells whether it is open. A second caller waits for the first's commit."""
    return move_status(session, need_id, source=NeedStatus.OPEN, target=NeedStatus.OPEN, values={})


def stamp_if_unchanged(session: Session, need_id: int, *, seen: datetime, now: datetime) -> bool:
    """Stamps a need as changed now, in one UPDATE, only if it is still the version `seen`;
    tells whether this call won (a form drawn before someone else's save loses)."""
    statement = (
        update(Need)
        .where(col(Need.id) == need_id, col(Need.updated_at) == seen)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1
