"""The job queue's registry of handlers by kind (jobs are queued with service.core.jobs.enqueue,
which the core uses for the work that follows a change)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.config import Settings
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
