"""A change re-queues its re-matching job whatever the job is doing: the interleavings of a
need's edit with a worker's run of that need's job, forced one by one (SQLite and PostgreSQL).

Whatever the order, the run that counts is one that read the need after the edit committed:
a run that read it before is discarded and the job runs again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from service.core import changes
from service.core.jobs import REMATCH_NEED, need_rematch_key
from service.models import Job, Need
from service.models.types import utcnow
from service.repos import jobs as jobs_repo
from service.state import AppState
from service.worker import JobContext, Worker, register_handler
from service.worker.matching_tasks import install
from tests.factories import make_member, make_need


@pytest.fixture
def reads() -> Iterator[list[tuple[str, str]]]:
    """Replaces the need re-matching handler by one that records (need title read, outcome)
    and runs the test's hook after its read; the real handler comes back afterwards."""
    seen: list[tuple[str, str]] = []
    yield seen
    install()


def _probe(reads: list[tuple[str, str]], after_read: Callable[[], None]) -> None:
    def handler(context: JobContext) -> None:
        need = context.session.get(Need, int(context.payload["need_id"]))
        assert need is not None
        reads.append((context.key, need.title))
        after_read()

    register_handler(REMATCH_NEED, handler)


def _edit(engine: Engine, need_id: int, title: str) -> None:
    """What a web request editing the need does: the row and its re-matching job, one commit."""
    with Session(engine, expire_on_commit=False) as session:
        need = session.get_one(Need, need_id)
        need.title = title
        need.updated_at = utcnow()
        session.add(need)
        session.flush()
        changes.queue_need_rematch(session, need_id=need_id)
        session.commit()


def _job(engine: Engine, need_id: int) -> Job:
    with Session(engine) as session:
        job = jobs_repo.get_job_by_key(session, need_rematch_key(need_id))
        assert job is not None
        return job


@pytest.fixture
def need_id(session: Session, engine: Engine) -> int:
    _, institution = make_member(session)
    need = make_need(session, institution=institution, title="Before")
    session.commit()
    _edit(engine, need.id or 0, "Before")  # queues the job, as posting a need does
    return need.id or 0


def test_an_edit_committed_while_the_job_runs_discards_that_run(
    app_state: AppState, engine: Engine, need_id: int, reads: list[tuple[str, str]]
) -> None:
    worker = Worker(app_state, name="w1")
    edited: list[str] = []

    def edit_once() -> None:
        if not edited:
            edited.append("After")
            _edit(engine, need_id, "After")

    _probe(reads, edit_once)
    later = utcnow() + timedelta(seconds=1)
    worker.run_due(now=later)
    key = need_rematch_key(need_id)
    # The first run read "Before" and was discarded; the job ran again and read "After".
    assert reads == [(key, "Before"), (key, "After")]
    assert _job(engine, need_id).status == "done"


def test_a_run_done_before_an_edit_is_queued_again_by_it(
    app_state: AppState, engine: Engine, need_id: int, reads: list[tuple[str, str]]
) -> None:
    worker = Worker(app_state, name="w1")
    _probe(reads, lambda: None)
    worker.run_due(now=utcnow() + timedelta(seconds=1))
    assert _job(engine, need_id).status == "done"
    _edit(engine, need_id, "After")
    assert _job(engine, need_id).status == "pending"
    worker.run_due(now=utcnow() + timedelta(seconds=1))
    key = need_rematch_key(need_id)
    assert reads == [(key, "Before"), (key, "After")]


def test_a_job_another_worker_claimed_again_is_not_marked_done_by_the_first(
    app_state: AppState, engine: Engine, need_id: int, reads: list[tuple[str, str]]
) -> None:
    first, second = Worker(app_state, name="w1"), Worker(app_state, name="w2")
    later = utcnow() + timedelta(seconds=1)
    edited: list[str] = []

    def edit_then_second_worker_runs() -> None:
        # While w1 runs on "Before": the edit, then w2 claims the job and runs it to the end.
        if not edited:
            edited.append("After")
            _edit(engine, need_id, "After")
            assert second.run_due(now=later + timedelta(seconds=1)) == 1

    _probe(reads, edit_then_second_worker_runs)
    first.run_due(now=later)
    key = need_rematch_key(need_id)
    assert reads[:2] == [(key, "Before"), (key, "After")]
    job = _job(engine, need_id)
    assert (job.status, job.claimed_by) == ("done", "w2")
