"""Queries on the audit log."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import AuditEvent


def list_events(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEvent], int]:
    """Lists audit events, newest first, optionally about one entity; with the total."""
    statement = select(AuditEvent)
    if entity_type is not None:
        statement = statement.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        statement = statement.where(AuditEvent.entity_id == entity_id)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def events_about(
    session: Session, *, entity_type: str, entity_ids: list[int], limit: int = 200
) -> list[AuditEvent]:
    """Lists the events about some entities of one type, newest first."""
    if not entity_ids:
        return []
    params = {"entity_type": entity_type, "entity_ids": entity_ids}
    return list(session.exec(_events_about(limit), params=params).all())


@functools.cache
def _events_about(limit: int) -> SelectOfScalar[AuditEvent]:
    """The statement of `events_about` (the review page runs it twice), built once per limit
    with the entities as parameters: building a statement cost more than running it."""
    return (
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == bindparam("entity_type"),
            col(AuditEvent.entity_id).in_(bindparam("entity_ids", expanding=True)),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
