"""The jobs the core queues for the worker, in the caller's transaction: idempotent
`enqueue`, and the kinds of the re-matching that follows a change (service.core.changes
queues them; service.worker.matching_tasks runs them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.models import Job
from service.models.jobs import PRIORITY_BULK, PRIORITY_PERSON
from service.models.types import utcnow
from service.repos import jobs as jobs_repo

REMATCH_NEED = "rematch_need"
REMATCH_EXPERT = "rematch_expert"
EMBED_SKILLS = "embed_asked_skills"
REINDEX_SEARCH = "reindex_search"


def enqueue(
    session: Session,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    again: bool = False,
    bulk: bool = False,
) -> Job:
    """Queues a job in the caller's transaction; a job with the same key is the same job.

    While a job with this key waits, enqueueing again changes nothing. Once it has run,
    it stays run unless `again` is true (for work like re-matching, which must follow changes):
    then it runs again, and a run in progress, which may have read the state from before the
    caller's change, is discarded.

    Work queued in `bulk` (a seed, an import: nobody waits on one job of it) runs after the
    jobs of people's changes, whenever each was queued; a waiting job takes the more urgent
    of the two when it is queued both ways.
    """
    when = run_at or utcnow()
    body = payload or {}
    priority = PRIORITY_BULK if bulk else PRIORITY_PERSON
    jobs_repo.insert_if_absent(
        session, kind=kind, key=key, payload=body, run_at=when, priority=priority
    )
    if again:
        jobs_repo.reschedule(session, key=key, payload=body, run_at=when, priority=priority)
    else:
        jobs_repo.raise_priority(session, key=key, priority=priority)
    job = jobs_repo.get_job_by_key(session, key)
    assert job is not None
    session.refresh(job)
    return job


def rematch_key(expert_id: int) -> str:
    """Gets the key of the job that ranks open needs for an expert."""
    return f"{REMATCH_EXPERT}:{expert_id}"


def need_rematch_key(need_id: int) -> str:
    """Gets the key of the job that ranks experts for a need."""
    return f"{REMATCH_NEED}:{need_id}"
