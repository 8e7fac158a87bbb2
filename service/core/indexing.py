"""Keeping the search indexes in step with the database: drain the outbox, or rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.core.changes import expert_document, need_document
from service.models import ExpertProfile, Need
from service.search import SearchBackend, outbox
from service.search.outbox import DrainResult


def _expert_documents(session: Session) -> Iterator[dict[str, Any]]:
    for expert in session.exec(select(ExpertProfile).order_by(col(ExpertProfile.id))):
        yield expert_document(session, expert)


def _need_documents(session: Session) -> Iterator[dict[str, Any]]:
    for need in session.exec(select(Need).order_by(col(Need.id))):
        yield need_document(session, need)


def reindex_all(
    engine: Engine, backend: SearchBackend, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Rebuilds every index from the database; what the database no longer has is removed."""
    backend.ensure_indexes()
    with Session(engine) as session:
        return outbox.reindex(
            backend=backend,
            experts=_expert_documents(session),
            needs=_need_documents(session),
            progress=progress,
        )


def drain_outbox(engine: Engine, backend: SearchBackend) -> DrainResult:
    """Applies every due outbox row to the backend (what the worker does periodically)."""
    return outbox.drain_all(lambda: Session(engine), backend)
