"""Queries on the experts institutions suggested for their needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from service.models import ExpertSuggestion
from service.repos.upserts import table_of


def add(
    session: Session, *, need_id: int, expert_id: int, suggested_by_id: int | None, now: datetime
) -> bool:
    """Records a suggestion unless the pair is already suggested (one INSERT ... ON CONFLICT DO
    NOTHING, so two racing requests keep one row); tells whether it was new."""
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        make(table_of(ExpertSuggestion))
        .values(
            need_id=need_id, expert_id=expert_id, suggested_by_id=suggested_by_id, created_at=now
        )
        .on_conflict_do_nothing(index_elements=["need_id", "expert_id"])
        # The row inserted, if any: rowcount is not reliable here on every driver.
        .returning(table_of(ExpertSuggestion).c.id)
    )
    return session.execute(statement).first() is not None


def get_pair(session: Session, *, need_id: int, expert_id: int) -> ExpertSuggestion | None:
    """Gets the suggestion of an expert for a need, if any."""
    return session.exec(
        select(ExpertSuggestion).where(
            col(ExpertSuggestion.need_id) == need_id, col(ExpertSuggestion.expert_id) == expert_id
        )
    ).first()


def suggested_experts(session: Session, need_id: int) -> set[int]:
    """Gets the ids of the experts suggested for a need."""
    rows = session.exec(
        select(ExpertSuggestion.expert_id).where(col(ExpertSuggestion.need_id) == need_id)
    )
    return set(rows.all())


def count_for_need(session: Session, need_id: int) -> int:
    """Counts the experts suggested for a need."""
    return session.exec(select(func.count()).where(col(ExpertSuggestion.need_id) == need_id)).one()


def delete_for_expert(session: Session, expert_id: int) -> None:
    """Deletes the suggestions of an expert whose profile is erased."""
    session.execute(delete(ExpertSuggestion).where(col(ExpertSuggestion.expert_id) == expert_id))
