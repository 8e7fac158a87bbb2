"""Queries on the audit log."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Row, Select, bindparam, literal_column, union_all
from sqlalchemy import select as table_select
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import AuditEvent
from service.repos.upserts import table_of


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


def latest_actions(
    session: Session, *, entity_type: str, entity_id: int, actions: list[str], limit: int = 10
) -> list[AuditEvent]:
    """Lists the latest events of some actions about one entity, newest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == entity_id,
                col(AuditEvent.action).in_(actions),
            )
            .order_by(col(AuditEvent.id).desc())
            .limit(limit)
        ).all()
    )


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


def need_history(
    session: Session, *, need_id: int, proposal_ids: list[int], limit: int = 200
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """Gets the events about a need and those about some of its proposals, each newest first
    and each as `events_about` lists them (at most `limit` of each), in one query of plain
    rows (what the review page shows only reads them)."""
    params = {"need_id": need_id, "proposal_ids": proposal_ids}
    rows = sorted(session.execute(_need_history(limit), params).all(), key=lambda r: -r.id)
    return [r for r in rows if r.kind == "need"], [r for r in rows if r.kind == "proposal"]


@functools.cache
def _need_history(limit: int) -> Select[Any]:
    """The statement of `need_history`: the two `events_about` queries as one UNION ALL."""
    table = table_of(AuditEvent)

    def about(kind: str, where: Any) -> Any:
        return (
            table_select(*table.c, literal_column(f"'{kind}'").label("kind"))
            .where(table.c.entity_type == kind, where)
            .order_by(table.c.id.desc())
            .limit(limit)
            .subquery()
        )

    need = about("need", table.c.entity_id == bindparam("need_id"))
    proposals = about("proposal", table.c.entity_id.in_(bindparam("proposal_ids", expanding=True)))
    union = union_all(table_select(need), table_select(proposals)).subquery()
    return table_select(union)
