"""Figures about the whole platform."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from service.models import Engagement, EngagementStatus, Institution
from service.repos.experts import count_active_experts
from service.repos.needs import count_open_needs


def platform_figures(session: Session) -> dict[str, int]:
    """Counts experts, verified institutions, open needs and completed engagements."""
    institutions = session.exec(
        select(func.count())
        .select_from(Institution)
        .where(col(Institution.verified_at).is_not(None))
    ).one()
    completed = session.exec(
        select(func.count())
        .select_from(Engagement)
        .where(Engagement.status == EngagementStatus.COMPLETED)
    ).one()
    return {
        "experts": count_active_experts(session),
        "institutions": institutions,
        "open_needs": count_open_needs(session),
        "engagements_completed": completed,
    }
