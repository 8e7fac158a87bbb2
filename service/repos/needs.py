"""Queries on needs."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from service.models import Need, NeedStatus


def get_need(session: Session, need_id: int) -> Need | None:
    """Gets a need by id."""
    return session.get(Need, need_id)


def needs_of_institution(session: Session, institution_id: int) -> list[Need]:
    """Lists every need of an institution, whatever its status."""
    return list(
        session.exec(
            select(Need).where(Need.institution_id == institution_id).order_by(col(Need.id))
        ).all()
    )


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
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(col(Need.created_at).desc(), col(Need.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def count_open_needs(session: Session) -> int:
    """Counts the needs open to proposals."""
    return session.exec(
        select(func.count()).select_from(Need).where(Need.status == NeedStatus.OPEN)
    ).one()
