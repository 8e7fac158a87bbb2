"""The job queue's public face: a registry of handlers by kind, and idempotent enqueueing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.models import Job
from service.models.types import utcnow
from service.repos import jobs as jobs_repo
from service.state import AppState


@dataclass
class JobContext:
    """What a handler gets: its own session (committed after it returns), the clock, the job."""

    session: Session
    now: datetime
    settings: Settings
    state: AppState
    kind: str
    key: str
    payload: dict[str, Any]


Handler = Callable[[JobContext], None]


@dataclass(frozen=True)
class Registration:
    kind: str
    fn: Handler
    every_s: float | None
    max_attempts: int


_registry: dict[str, Registration] = {}


def register_handler(
    kind: str, fn: Handler, *, every_s: float | None = None, max_attempts: int = 5
) -> None:
    """Registers the handler of a job kind; with `every_s`, the worker also runs it periodically."""
    _registry[kind] = Registration(kind=kind, fn=fn, every_s=every_s, max_attempts=max_attempts)


def unregister_handler(kind: str) -> None:
    """Forgets the handler of a job kind (tests)."""
    _registry.pop(kind, None)


def handlers() -> dict[str, Registration]:
    """Gets the registered handlers by kind."""
    return dict(_registry)


def enqueue(
    session: Session,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    again: bool = False,
) -> Job:
    """Queues a job in the caller's transaction; a job with the same key is the same job.

    While a job with this key waits, enqueueing again changes nothing. Once it has run,
    it stays run unless `again` is true (for work like re-matching, which must follow changes):
    then it runs again, and a run in progress, which may have read the state from before the
    caller's change, is discarded.
    """
    when = run_at or utcnow()
    body = payload or {}
    jobs_repo.insert_if_absent(session, kind=kind, key=key, payload=body, run_at=when)
    if again:
        jobs_repo.reschedule(session, key=key, payload=body, run_at=when)
    job = jobs_repo.get_job_by_key(session, key)
    assert job is not None
    session.refresh(job)
    return job
