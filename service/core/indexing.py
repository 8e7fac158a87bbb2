"""Keeping the search indexes in step with the database: drain the outbox, or rebuild."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from service.core.changes import expert_document, need_document
from service.repos import experts as experts_repo
from service.repos import needs as needs_repo
from service.search import SearchBackend, outbox
from service.search.base import Document
from service.search.documents import (
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    NEEDS,
    expert_documents,
    need_documents,
)
from service.search.outbox import DrainResult

BATCH = 500
# PostgreSQL's serialization_failure and deadlock_detected: a batch that lost is read again.
RETRIED_SQLSTATES = frozenset({"40001", "40P01"})
TRIES = 3
T = TypeVar("T")


@dataclass(frozen=True)
class _Source:
    """A table the indexes are built from: its indexes, how to lock its rows, their documents."""

    indexes: tuple[str, ...]
    lock: Callable[..., Sequence[Any]]
    documents: Callable[[Session, Any], dict[str, Document | None]]


SOURCES = (
    _Source(
        (EXPERTS_STAFF, EXPERTS_PUBLIC),
        experts_repo.lock_experts,
        lambda session, expert: expert_documents(expert_document(session, expert)),
    ),
    _Source(
        (NEEDS,),
        needs_repo.lock_needs,
        lambda session, need: need_documents(need_document(session, need)),
    ),
)


def reindex_all(
    engine: Engine,
    backend: SearchBackend,
    *,
    progress: Callable[[str, int], None] | None = None,
    batch_size: int = BATCH,
) -> dict[str, int]:
    """Rebuilds every index from the database, without emptying it first; what the database no
    longer has (or no longer shows) is removed. Returns the documents written per index.

    A rebuild never replaces a newer document with an older one. Each batch of rows is read
    locked (FOR NO KEY UPDATE on PostgreSQL, SQLite's write lock) and written to the backend
    before the lock is let go: a save of one of them, and the worker's documents built after
    new vectors, wait for the batch and reach the index through the outbox after it. A document
    the rebuild did not write is removed only if its row, read locked again, still says so.
    """
    backend.ensure_indexes()
    counts: dict[str, int] = {}
    for source in SOURCES:
        written: dict[str, set[int]] = {index: set() for index in source.indexes}
        after = 0
        while True:
            last = _retrying(_write_batch, engine, backend, source, after, batch_size, written)
            if last is None:
                break
            after = last
            if progress is not None:
                for index in source.indexes:
                    progress(index, len(written[index]))
        for index in source.indexes:
            stale = sorted(backend.all_ids(index) - written[index])
            for start in range(0, len(stale), batch_size):
                chunk = stale[start : start + batch_size]
                _retrying(_remove_stale, engine, backend, source, index, chunk)
        counts.update({index: len(ids) for index, ids in written.items()})
    return counts


def _write_batch(
    engine: Engine,
    backend: SearchBackend,
    source: _Source,
    after: int,
    limit: int,
    written: dict[str, set[int]],
) -> int | None:
    """Writes the documents of the next rows after id `after`, read locked and written before
    the lock is let go; returns the last id, None when no row is left."""
    with Session(engine) as session:
        _hold_writes(session)
        rows = source.lock(session, after=after, limit=limit)
        if not rows:
            return None
        batch: dict[str, list[Document]] = {index: [] for index in source.indexes}
        for row in rows:
            for index, document in source.documents(session, row).items():
                if document is not None:
                    batch[index].append(document)
        last = int(rows[-1].id)
        for index, documents in batch.items():
            if documents:
                backend.upsert(index, documents)
        session.commit()
    for index, documents in batch.items():
        written[index].update(int(document["id"]) for document in documents)
    return last


def _remove_stale(
    engine: Engine, backend: SearchBackend, source: _Source, index: str, ids: list[int]
) -> None:
    """Removes documents the rebuild did not write, unless their row, read locked now, has one:
    a need opened since its batch was read, say, whose document the outbox has sent since."""
    with Session(engine) as session:
        _hold_writes(session)
        shown = {
            int(row.id)
            for row in source.lock(session, ids=ids, limit=len(ids))
            if source.documents(session, row)[index] is not None
        }
        gone = [doc_id for doc_id in ids if doc_id not in shown]
        if gone:
            backend.delete(index, gone)
        session.commit()


def _hold_writes(session: Session) -> None:
    """SQLite has no row locks: takes its write lock for the whole transaction instead."""
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _retrying(work: Callable[..., T], *args: Any) -> T:
    """Runs a batch again when PostgreSQL chose it as a deadlock's or a serialisation's loser."""
    for attempt in range(TRIES):
        try:
            return work(*args)
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            if code not in RETRIED_SQLSTATES or attempt == TRIES - 1:
                raise
    raise AssertionError("unreachable")


def drain_outbox(engine: Engine, backend: SearchBackend) -> DrainResult:
    """Applies every due outbox row to the backend (what the worker does periodically)."""
    return outbox.drain_all(lambda: Session(engine), backend)
