"""Reliable index sync: writes enqueue changes in their own transaction, a worker drains them."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table, delete, exists, func, or_, select, text, update
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from service.models.search_outbox import SearchOutbox
from service.models.types import utcnow
from service.search.base import Document, SearchBackend
from service.search.documents import (
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    INDEXES,
    NEEDS,
    expert_documents,
    need_documents,
    schema_for,
)

Op = Literal["upsert", "delete"]
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 3600.0
LEASE_S = 120.0
_CLAIM_LOCK = 0x486F6D65  # pg_advisory_xact_lock key serialising claims ("Home")


@dataclass(frozen=True)
class DrainResult:
    """What one drain pass did, counted in outbox rows."""

    claimed: int = 0
    applied: int = 0
    failed: int = 0

    @property
    def idle(self) -> bool:
        """Tells whether there was nothing to do."""
        return self.claimed == 0


def enqueue(
    session: Session, *, index: str, doc_id: int, op: Op, payload: Document | None = None
) -> SearchOutbox:
    """Records a pending index change in the caller's transaction (does not commit)."""
    schema_for(index)
    if op not in ("upsert", "delete"):
        raise ValueError(f"unknown outbox op {op!r}")
    if op == "upsert" and payload is None:
        raise ValueError("an upsert needs a payload")
    row = SearchOutbox(
        index=index, document_id=int(doc_id), op=op, payload=payload if op == "upsert" else None
    )
    session.add(row)
    return row


def enqueue_documents(
    session: Session, *, doc_id: int, documents: Mapping[str, Document | None]
) -> None:
    """Enqueues an upsert for each mapped document and a delete where it must be absent."""
    for index, document in documents.items():
        if document is None:
            enqueue(session, index=index, doc_id=doc_id, op="delete")
        else:
            enqueue(session, index=index, doc_id=doc_id, op="upsert", payload=document)


def sync_expert(session: Session, *, expert: Mapping[str, Any]) -> None:
    """Enqueues the index changes for a created or updated expert."""
    enqueue_documents(session, doc_id=int(expert["id"]), documents=expert_documents(expert))


def remove_expert(session: Session, *, expert_id: int) -> None:
    """Enqueues the removal of a deleted expert from both expert indexes."""
    enqueue_documents(
        session, doc_id=expert_id, documents={EXPERTS_STAFF: None, EXPERTS_PUBLIC: None}
    )


def sync_need(session: Session, *, need: Mapping[str, Any]) -> None:
    """Enqueues the index change for a created or updated need (removed unless open)."""
    enqueue_documents(session, doc_id=int(need["id"]), documents=need_documents(need))


def remove_need(session: Session, *, need_id: int) -> None:
    """Enqueues the removal of a deleted need."""
    enqueue_documents(session, doc_id=need_id, documents={NEEDS: None})


def backoff(attempts: int) -> timedelta:
    """Gets the wait before the next try: exponential, capped at an hour."""
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def drain(
    session_factory: Callable[[], Session],
    backend: SearchBackend,
    *,
    now: datetime | None = None,
    batch: int = 200,
) -> DrainResult:
    """Applies one batch of due outbox rows to the backend; failed rows are retried later."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    rows = _claim(session_factory, now=now, batch=batch, token=token)
    if not rows:
        return DrainResult()
    # The newest row of each document wins; older rows of the same document are superseded.
    latest: dict[tuple[str, int], SearchOutbox] = {}
    for row in sorted(rows, key=lambda r: r.id or 0):
        latest[(row.index, row.document_id)] = row
    applied: list[SearchOutbox] = []
    failures: dict[int, str] = {}
    # A change committed since the claim (say, an expert who just went "coordinators only",
    # already taken out of the index by that request) must not be undone by an older upsert.
    stale = _superseded(session_factory, list(latest.values()))
    applied.extend(r for r in latest.values() if (r.index, r.document_id) in stale)
    for index in INDEXES:
        for op in ("upsert", "delete"):
            group = [
                r
                for (i, d), r in latest.items()
                if i == index and r.op == op and (i, d) not in stale
            ]
            if not group:
                continue
            try:
                if op == "upsert":
                    backend.upsert(index, [r.payload or {} for r in group])
                else:
                    backend.delete(index, [r.document_id for r in group])
            except Exception as exc:  # noqa: BLE001 - any backend failure is retried later
                for row in group:
                    failures[row.id or 0] = f"{type(exc).__name__}: {exc}"[:2000]
            else:
                applied.extend(group)
    _settle(session_factory, rows=rows, applied=applied, failures=failures, now=now, token=token)
    failed_keys = {(r.index, r.document_id) for r in latest.values() if r.id in failures}
    failed = sum(1 for r in rows if (r.index, r.document_id) in failed_keys)
    return DrainResult(claimed=len(rows), applied=len(rows) - failed, failed=failed)


def drain_all(
    session_factory: Callable[[], Session],
    backend: SearchBackend,
    *,
    now: datetime | None = None,
    batch: int = 200,
) -> DrainResult:
    """Drains until nothing due is left or a pass fails."""
    total = DrainResult()
    while True:
        result = drain(session_factory, backend, now=now, batch=batch)
        total = DrainResult(
            total.claimed + result.claimed,
            total.applied + result.applied,
            total.failed + result.failed,
        )
        if result.idle or result.failed:
            return total


def pending(session: Session) -> int:
    """Counts the rows still waiting to reach the index."""
    return int(session.execute(select(func.count()).select_from(_table())).scalar_one())


def _claim(
    session_factory: Callable[[], Session], *, now: datetime, batch: int, token: str
) -> list[SearchOutbox]:
    """Claims due rows with a conditional UPDATE, skipping documents another worker holds."""
    t = _table()
    other = t.alias("other")
    free = or_(t.c.claimed_until.is_(None), t.c.claimed_until < now)
    held_elsewhere = exists().where(
        other.c.index == t.c.index,
        other.c.document_id == t.c.document_id,
        other.c.claimed_until.is_not(None),
        other.c.claimed_until >= now,
    )
    with session_factory() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            # Serialise claims (they are short) so that "no other worker holds this document"
            # stays true; SKIP LOCKED steps over rows a writer still holds.
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
        due = (
            select(t.c.id)
            .where(t.c.next_attempt_at <= now, free, ~held_elsewhere)
            .order_by(t.c.id)
            .limit(batch)
        )
        if postgres:
            due = due.with_for_update(skip_locked=True)
        ids = list(session.execute(due).scalars())
        if not ids:
            session.rollback()
            return []
        session.execute(
            update(t)
            .where(t.c.id.in_(ids), free)
            .values(claim_token=token, claimed_until=now + timedelta(seconds=LEASE_S))
        )
        session.commit()
        rows = list(
            session.exec(
                sqlmodel_select(SearchOutbox).where(col(SearchOutbox.claim_token) == token)
            ).all()
        )
        for row in rows:
            session.expunge(row)
        return rows


def _superseded(
    session_factory: Callable[[], Session], rows: list[SearchOutbox]
) -> set[tuple[str, int]]:
    """Finds the claimed documents that have a newer outbox row (written after the claim)."""
    if not rows:
        return set()
    t = _table()
    newest = {(r.index, r.document_id): r.id or 0 for r in rows}
    with session_factory() as session:
        found = session.execute(
            select(t.c.index, t.c.document_id, t.c.id).where(
                t.c.document_id.in_({r.document_id for r in rows}),
                t.c.id > min(newest.values()),
            )
        ).all()
    return {(i, d) for i, d, row_id in found if row_id > newest.get((i, d), row_id)}


def _table() -> Table:
    """Gets the outbox table for Core statements."""
    return cast(Table, SearchOutbox.__table__)  # type: ignore[attr-defined]


def _settle(
    session_factory: Callable[[], Session],
    *,
    rows: Iterable[SearchOutbox],
    applied: list[SearchOutbox],
    failures: dict[int, str],
    now: datetime,
    token: str,
) -> None:
    """Deletes applied (and superseded) rows; schedules failed ones for a later try."""
    table = _table()
    failed_docs = {(r.index, r.document_id): failures[r.id or 0] for r in rows if r.id in failures}
    with session_factory() as session:
        for row in applied:
            session.execute(
                delete(table).where(
                    table.c.index == row.index,
                    table.c.document_id == row.document_id,
                    table.c.id <= row.id,
                    or_(
                        table.c.claim_token == token,
                        table.c.claimed_until.is_(None),
                        table.c.claimed_until < now,
                    ),
                )
            )
        for row in rows:
            error = failed_docs.get((row.index, row.document_id))
            if error is None:
                continue
            attempts = row.attempts + 1
            session.execute(
                update(table)
                .where(table.c.id == row.id, table.c.claim_token == token)
                .values(
                    attempts=attempts,
                    next_attempt_at=now + backoff(attempts),
                    last_error=error,
                    claim_token=None,
                    claimed_until=None,
                )
            )
        session.commit()


def reindex(
    *,
    backend: SearchBackend,
    experts: Iterable[Mapping[str, Any]] | None = None,
    needs: Iterable[Mapping[str, Any]] | None = None,
    progress: Callable[[str, int], None] | None = None,
    batch_size: int = 500,
) -> dict[str, int]:
    """Rebuilds the indexes of the given sources without emptying them first; returns counts.

    Documents are upserted in batches, then ids the source no longer has are deleted, so
    searches keep working during a rebuild. Nothing orders it against the outbox: for sources
    nothing changes meanwhile; the database's rebuild is `core.indexing.reindex_all`.
    """
    backend.ensure_indexes()
    sources: list[tuple[Iterable[Mapping[str, Any]], Callable[..., dict[str, Any]]]] = []
    rebuilt: list[str] = []
    if experts is not None:
        sources.append((experts, expert_documents))
        rebuilt += [EXPERTS_STAFF, EXPERTS_PUBLIC]
    if needs is not None:
        sources.append((needs, need_documents))
        rebuilt.append(NEEDS)
    seen: dict[str, set[int]] = {index: set() for index in rebuilt}
    buffers: dict[str, list[Document]] = {index: [] for index in rebuilt}

    def flush(index: str) -> None:
        if buffers[index]:
            backend.upsert(index, buffers[index])
            if progress is not None:
                progress(index, len(seen[index]))
            buffers[index] = []

    for items, mapper in sources:
        for item in items:
            for index, document in mapper(item).items():
                if document is None:
                    continue
                seen[index].add(int(document["id"]))
                buffers[index].append(document)
                if len(buffers[index]) >= batch_size:
                    flush(index)
    for index in rebuilt:
        flush(index)
        stale = sorted(backend.all_ids(index) - seen[index])
        for start in range(0, len(stale), batch_size):
            backend.delete(index, stale[start : start + batch_size])
    return {index: len(ids) for index, ids in seen.items()}
