"""What an expert's "Needs for you" shows: the open needs the matcher ranked for them, whether a
ranking is on its way, and, when the list is empty, why (as a code the pages put in words).

The ranking itself runs in the worker (`rematch_expert`, queued by every profile change); the
reasons for an empty list come from the matcher's own constraints (`matching.constraints`), so
the page never decides differently from the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from matching.constraints import MatchPolicy, assess, expert_exclusion
from service.core.jobs import rematch_key
from service.core.matching import (
    RankedNeed,
    committed_hours,
    expert_record,
    need_record,
    ranked_needs_for_expert,
)
from service.core.proposals import explanation_for_people
from service.models import ExpertProfile, Institution, Need, NeedStatus
from service.repos import engagements as engagements_repo
from service.repos import jobs as jobs_repo
from service.repos.jobs import PENDING


@dataclass(frozen=True)
class Blockers:
    """How many open needs the matcher sets aside for this expert, by first reason."""

    total: int = 0
    languages: int = 0
    modes: int = 0
    other: int = 0


@dataclass(frozen=True)
class ForYou:
    """The needs ranked for an expert, best first, and the state of the list."""

    ranked: list[tuple[RankedNeed, dict[str, Any], float]] = field(default_factory=list)
    pending: bool = False  # a ranking job waits or runs: the list is about to change
    empty: str = ""  # why the list is empty: a code (see EMPTY_CODES)
    blockers: Blockers = field(default_factory=Blockers)
    # Offers waiting for the expert's answer, whether the list is empty or not: the needs a
    # coordinator suggested to them left this list for the offers page.
    offers_waiting: int = 0


EMPTY_CODES = (
    "matching",
    "no_consent",
    "incomplete",
    "unavailable",
    "no_open_needs",
    "all_set_aside",
    "none",
)


def ranking_pending(session: Session, expert_id: int) -> bool:
    """Tells whether the expert's ranking is queued or running."""
    job = jobs_repo.get_job_by_key(session, rematch_key(expert_id))
    return job is not None and job.status == PENDING


def complete_for_matching(expert: ExpertProfile) -> bool:
    """Tells whether a profile says enough for the matcher to rank needs for it."""
    return bool(expert.headline and expert.skills and expert.languages and expert.modes)


def needs_for_you(session: Session, *, expert: ExpertProfile, limit: int = 10) -> ForYou:
    """Gets the needs ranked for an expert, or why there are none."""
    expert_id = expert.id or 0
    ranked = [
        (need, explanation_for_people(explanation), score)
        for need, explanation, score in ranked_needs_for_expert(
            session, expert_id=expert_id, limit=limit
        )
    ]
    pending = ranking_pending(session, expert_id)
    offers = engagements_repo.count_open_offers(session, expert_id=expert_id)
    if ranked:
        return ForYou(ranked=ranked, pending=pending, offers_waiting=offers)
    if pending:
        return ForYou(pending=True, empty="matching", offers_waiting=offers)
    if expert.consent_matching_at is None:
        return ForYou(empty="no_consent", offers_waiting=offers)
    if not complete_for_matching(expert):
        return ForYou(empty="incomplete", offers_waiting=offers)
    return replace(_why_none(session, expert), offers_waiting=offers)


def _why_none(session: Session, expert: ExpertProfile) -> ForYou:
    """Explains an empty list with the matcher's constraints, need by need."""
    policy, today = MatchPolicy(), datetime.now(UTC).date()
    record = expert_record(
        expert,
        committed_hours_per_week=committed_hours(session, [expert.id or 0]).get(
            expert.id or 0, 0.0
        ),
    )
    if expert_exclusion(record, policy, today) is not None:
        return ForYou(empty="unavailable")
    needs = list(session.exec(select(Need).where(Need.status == NeedStatus.OPEN)))
    if not needs:
        return ForYou(empty="no_open_needs")
    institutions = {
        i.id: i
        for i in session.exec(
            select(Institution).where(col(Institution.id).in_({n.institution_id for n in needs}))
        )
    }
    languages = modes = other = 0
    for need in needs:
        assessment = assess(
            record, need_record(need, institutions.get(need.institution_id)), policy, today
        )
        if assessment.eligible:
            # One need at least fits: the ranking has not run since (e.g. a bulk import).
            return ForYou(empty="none")
        if need.languages and not assessment.shared_languages:
            languages += 1
        elif "mode_fit" not in assessment.facts:
            modes += 1
        else:
            other += 1
    blockers = Blockers(total=len(needs), languages=languages, modes=modes, other=other)
    return ForYou(empty="all_set_aside", blockers=blockers)
