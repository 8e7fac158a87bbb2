"""Queries behind the impact and skills-gap reports."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.models import Engagement, ExpertProfile, Institution, Need, NeedStatus


def engagements_in_period(
    session: Session, *, start: datetime | None, end: datetime | None
) -> list[tuple[Engagement, Need, Institution]]:
    """Lists engagements offered in [start, end), with their need and institution."""
    statement = (
        select(Engagement, Need, Institution)
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .join(Institution, col(Institution.id) == col(Need.institution_id))
    )
    if start is not None:
        statement = statement.where(col(Engagement.offered_at) >= start)
    if end is not None:
        statement = statement.where(col(Engagement.offered_at) < end)
    return [tuple(row) for row in session.exec(statement.order_by(col(Engagement.id))).all()]  # type: ignore[misc]


def open_needs(
    session: Session, *, start: datetime | None, end: datetime | None
) -> list[tuple[Need, Institution]]:
    """Lists open needs posted in [start, end), with their institution."""
    statement = (
        select(Need, Institution)
        .join(Institution, col(Institution.id) == col(Need.institution_id))
        .where(Need.status == NeedStatus.OPEN)
    )
    if start is not None:
        statement = statement.where(col(Need.posted_at) >= start)
    if end is not None:
        statement = statement.where(col(Need.posted_at) < end)
    return [tuple(row) for row in session.exec(statement.order_by(col(Need.id))).all()]  # type: ignore[misc]


def active_expert_skills(session: Session) -> list[list[str]]:
    """Lists the skills of every active expert."""
    return [
        list(skills or [])
        for skills in session.exec(
            select(ExpertProfile.skills).where(col(ExpertProfile.active))
        ).all()
    ]
