"""The outbox: writes never fail, nothing is lost during an outage, each row applies once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.models.search_outbox import SearchOutbox
from service.search import outbox as outbox_module
from service.search.base import (
    BackendUnavailable,
    Document,
    SearchBackend,
    SearchPage,
    SearchQuery,
)
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF
from service.search.fts5 import Fts5Backend
from service.search.meili import MeiliBackend
from service.search.outbox import (
    backoff,
    drain,
    drain_all,
    enqueue,
    pending,
    remove_expert,
    sync_expert,
)
from tests.search.factories import expert


@pytest.fixture
def now() -> datetime:
    """Gives the drain time: rows are due from the moment they are written."""
    return datetime.now(UTC) + timedelta(seconds=5)


class Switchable:
    """Wraps a real backend; while `down`, every call fails as an unreachable engine would."""

    def __init__(self, inner: SearchBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.down = False
        self.writes: Counter[tuple[str, int]] = Counter()
        self.delay_s = 0.0
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self.down:
            raise BackendUnavailable("search engine is down")

    def ensure_indexes(self) -> None:
        self._check()
        self.inner.ensure_indexes()

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        self._check()
        time.sleep(self.delay_s)
        with self._lock:
            self.writes.update((index, int(d["id"])) for d in documents)
        self.inner.upsert(index, documents)

    def delete(self, index: str, ids: Sequence[int]) -> None:
        self._check()
        with self._lock:
            self.writes.update((index, int(i)) for i in ids)
        self.inner.delete(index, ids)

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        self._check()
        return self.inner.search(index, query)

    def lexical_scores(self, index: str, text: str, limit: int = 100) -> list[tuple[int, float]]:
        self._check()
        return self.inner.lexical_scores(index, text, limit)

    def all_ids(self, index: str) -> set[int]:
        self._check()
        return self.inner.all_ids(index)

    def drop(self) -> None:
        self.inner.drop()

    def close(self) -> None:
        self.inner.close()


def sessions(engine: Engine) -> Callable[[], Session]:
    """Makes a session factory for an engine."""
    return lambda: Session(engine)


def write_experts(engine: Engine, records: Sequence[dict]) -> None:
    """Saves experts the way the application will: data change and outbox rows, one commit."""
    with Session(engine) as session:
        for record in records:
            sync_expert(session, expert=record)
        session.commit()


def hit_ids(backend: SearchBackend, index: str, text: str = "") -> list[int]:
    """Searches and lists the ids found."""
    return sorted(h.id for h in backend.search(index, SearchQuery(text=text, per_page=100)).hits)


def test_enqueue_belongs_to_the_callers_transaction(outbox_engine: Engine) -> None:
    with Session(outbox_engine) as session:
        enqueue(session, index=EXPERTS_STAFF, doc_id=1, op="delete")
        session.rollback()
    with Session(outbox_engine) as session:
        assert pending(session) == 0
        sync_expert(session, expert=expert(1))
        session.commit()
        assert pending(session) == 2


def test_drain_applies_and_removes_rows(
    backend: SearchBackend, outbox_engine: Engine, now: datetime
) -> None:
    write_experts(outbox_engine, [expert(1, skills=["geology"]), expert(2)])
    result = drain(sessions(outbox_engine), backend, now=now)
    assert (result.claimed, result.applied, result.failed) == (4, 4, 0)
    assert hit_ids(backend, EXPERTS_PUBLIC, "geology") == [1]
    with Session(outbox_engine) as session:
        assert pending(session) == 0
    assert drain(sessions(outbox_engine), backend, now=now).idle


def test_the_latest_change_of_a_document_wins(
    backend: SearchBackend, outbox_engine: Engine, now: datetime
) -> None:
    write_experts(outbox_engine, [expert(1, skills=["geology"])])
    write_experts(outbox_engine, [expert(1, skills=["botany"], visibility="coordinators")])
    drain_all(sessions(outbox_engine), backend, now=now)
    assert hit_ids(backend, EXPERTS_STAFF, "botany") == [1]
    assert hit_ids(backend, EXPERTS_STAFF, "geology") == []
    assert hit_ids(backend, EXPERTS_PUBLIC) == []
    with Session(outbox_engine) as session:
        remove_expert(session, expert_id=1)
        session.commit()
    drain_all(sessions(outbox_engine), backend, now=now)
    assert hit_ids(backend, EXPERTS_STAFF) == []


def test_outage_keeps_writes_and_recovers(
    backend: SearchBackend, outbox_engine: Engine, now: datetime
) -> None:
    flaky = Switchable(backend)
    flaky.down = True
    write_experts(outbox_engine, [expert(1, skills=["geology"]), expert(2)])  # never fails
    write_experts(outbox_engine, [expert(3, skills=["geology"])])

    result = drain(sessions(outbox_engine), flaky, now=now)
    assert (result.applied, result.failed) == (0, 6)
    with Session(outbox_engine) as session:
        rows = session.exec(select(SearchOutbox)).all()
        assert len(rows) == 6
        assert {r.attempts for r in rows} == {1}
        assert all("down" in (r.last_error or "") for r in rows)
        assert all(r.claim_token is None for r in rows)

    # Before the backoff has elapsed nothing is retried, even with the backend back.
    flaky.down = False
    assert drain(sessions(outbox_engine), flaky, now=now + timedelta(seconds=1)).idle
    flaky.down = True
    later = now + backoff(1)
    assert drain(sessions(outbox_engine), flaky, now=later).failed == 6
    with Session(outbox_engine) as session:
        row = session.exec(select(SearchOutbox)).first()
        assert row is not None and row.attempts == 2
        assert row.next_attempt_at.replace(tzinfo=UTC) == later + backoff(2)

    flaky.down = False
    result = drain_all(sessions(outbox_engine), flaky, now=later + backoff(2))
    assert result.applied == 6
    assert hit_ids(backend, EXPERTS_PUBLIC, "geology") == [1, 3]
    assert hit_ids(backend, EXPERTS_STAFF) == [1, 2, 3]
    with Session(outbox_engine) as session:
        assert pending(session) == 0


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(50) == timedelta(hours=1)


def test_meilisearch_at_a_closed_port_leaves_rows_pending(
    outbox_engine: Engine, now: datetime
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = MeiliBackend(url=f"http://127.0.0.1:{port}", api_key="k", timeout_s=2)
    write_experts(outbox_engine, [expert(1)])
    result = drain(sessions(outbox_engine), closed, now=now)
    assert result.failed == 2 and result.applied == 0
    with pytest.raises(BackendUnavailable):
        closed.search(EXPERTS_STAFF, SearchQuery(text="x"))
    with Session(outbox_engine) as session:
        assert pending(session) == 2


def test_an_expired_claim_is_taken_over(outbox_engine: Engine, now: datetime) -> None:
    backend = Fts5Backend()
    write_experts(outbox_engine, [expert(1)])
    with Session(outbox_engine) as session:
        for row in session.exec(select(SearchOutbox)).all():
            row.claim_token, row.claimed_until = "crashed-worker", now + timedelta(seconds=30)
            session.add(row)
        session.commit()
    assert drain(sessions(outbox_engine), backend, now=now).idle  # still held
    result = drain(sessions(outbox_engine), backend, now=now + timedelta(minutes=1))
    assert result.applied == 2
    assert hit_ids(backend, EXPERTS_STAFF) == [1]


def test_concurrent_drains_apply_each_row_once(
    shared_outbox_engine: Engine, tmp_path, now: datetime
) -> None:
    inner = Fts5Backend(path=str(tmp_path / "search.sqlite3"))
    counting = Switchable(inner)
    counting.delay_s = 0.02
    write_experts(shared_outbox_engine, [expert(i) for i in range(1, 41)])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while not drain(sessions(shared_outbox_engine), counting, now=now, batch=7).idle:
                pass
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert set(counting.writes.values()) == {1}
    assert len(counting.writes) == 80
    with Session(shared_outbox_engine) as session:
        assert pending(session) == 0
    assert hit_ids(inner, EXPERTS_STAFF) == list(range(1, 41))
    inner.close()


def test_a_change_committed_after_the_claim_is_not_undone(
    backend: SearchBackend, outbox_engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An expert withdraws (and the request takes them out of the index) while a worker holds
    an older upsert of theirs: the worker does not put them back."""
    write_experts(outbox_engine, [expert(1, skills=["geology"])])
    real_claim = outbox_module._claim

    def claim_then_withdraw(*args: Any, **kwargs: Any) -> list[SearchOutbox]:
        rows = real_claim(*args, **kwargs)
        if rows:
            write_experts(outbox_engine, [expert(1, skills=["geology"], visibility="coordinators")])
            backend.delete(EXPERTS_PUBLIC, [1])
        return rows

    monkeypatch.setattr(outbox_module, "_claim", claim_then_withdraw)
    drain(sessions(outbox_engine), backend, now=now)
    assert hit_ids(backend, EXPERTS_PUBLIC) == []
    monkeypatch.undo()
    drain_all(sessions(outbox_engine), backend, now=now)
    assert hit_ids(backend, EXPERTS_PUBLIC) == [] and hit_ids(backend, EXPERTS_STAFF) == [1]
    with Session(outbox_engine) as session:
        assert pending(session) == 0
