"""What follows a change to an expert or a need: the search indexes and the matcher catch up.

Both are recorded in the caller's transaction (an outbox row, a job), so a change is never
lost and never waits on the search engine or the encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from service.core.search_vectors import document_vector
from service.models import ExpertProfile, Need
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.search import outbox

# Background work to schedule after a change, registered by the worker layer at start-up:
# kind -> function(session, *, owner_id). Kept as a registry so this module does not import
# the worker (the worker imports the core, not the other way round).
_followers: dict[str, list[Callable[[Session, int], None]]] = {"expert": [], "need": []}


def on_change(owner_type: str, follower: Callable[[Session, int], None]) -> None:
    """Registers work to schedule whenever an expert or a need changes."""
    if follower not in _followers[owner_type]:
        _followers[owner_type].append(follower)


def expert_document(session: Session, expert: ExpertProfile) -> dict[str, Any]:
    """Maps an expert to the fields the search documents are projected from."""
    return {
        **expert.model_dump(mode="json"),
        "languages": expert.language_codes,
        "email": experts_repo.get_expert_email(session, expert),
        "active": expert.active and expert.consent_matching_at is not None,
        "embedding": document_vector(session, expert.id) if expert.id else None,
    }


def need_document(session: Session, need: Need) -> dict[str, Any]:
    """Maps a need to the fields its search document is projected from."""
    institution = institutions_repo.get_institution(session, need.institution_id)
    return {
        **need.model_dump(mode="json"),
        "skills": need.required_skills,
        "country": institution.country if institution else "",
        "institution_name": institution.name if institution else "",
    }


def expert_changed(session: Session, expert: ExpertProfile) -> None:
    """Schedules the index update and the re-matching of a changed expert (no commit)."""
    session.flush()
    outbox.sync_expert(session, expert=expert_document(session, expert))
    for follower in _followers["expert"]:
        follower(session, expert.id or 0)


def expert_removed(session: Session, expert_id: int) -> None:
    """Schedules the removal of an erased expert from every index (no commit)."""
    outbox.remove_expert(session, expert_id=expert_id)


def need_changed(session: Session, need: Need) -> None:
    """Schedules the index update and the re-matching of a changed need (no commit)."""
    session.flush()
    outbox.sync_need(session, need=need_document(session, need))
    for follower in _followers["need"]:
        follower(session, need.id or 0)
