"""A person's change is not queued behind bulk work: the jobs of a seed or an import yield to
the jobs of people's changes, whenever each was queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service.core import changes
from service.core.imports import import_file
from service.core.jobs import REMATCH_NEED, need_rematch_key
from service.models import Job
from service.models.jobs import PRIORITY_BULK, PRIORITY_PERSON
from service.repos import jobs as jobs_repo
from service.state import AppState
from service.worker import JobContext, Worker, enqueue, register_handler, unregister_handler
from service.worker.runner import LEASE
from tests.factories import make_member, make_need

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "world"


@pytest.fixture
def ran() -> Iterator[list[str]]:
    """Registers an `ordered` job kind that records the keys it runs, in order."""
    keys: list[str] = []

    def ordered(context: JobContext) -> None:
        keys.append(context.key)

    register_handler("ordered", ordered)
    yield keys
    unregister_handler("ordered")


def _priority(session: Session, key: str) -> int:
    session.expire_all()
    job = jobs_repo.get_job_by_key(session, key)
    assert job is not None
    return job.priority


def test_a_persons_job_runs_before_the_bulk_jobs_queued_earlier(
    session: Session, app_state: AppState, ran: list[str]
) -> None:
    for n in range(30):
        enqueue(session, kind="ordered", key=f"seed:{n}", run_at=T0, bulk=True)
    enqueue(session, kind="ordered", key="posted", run_at=T0 + timedelta(minutes=5))
    session.commit()
    assert Worker(app_state).run_due(now=T0 + timedelta(minutes=5)) == 31
    assert ran[0] == "posted"
    assert ran[1:] == [f"seed:{n}" for n in range(30)]  # the bulk keeps its own order


def test_bulk_jobs_are_claimed_one_at_a_time_so_a_person_waits_for_one_at_most(
    session: Session, app_state: AppState, ran: list[str]
) -> None:
    for n in range(30):
        enqueue(session, kind="ordered", key=f"seed:{n}", run_at=T0, bulk=True)
    session.commit()
    busy = jobs_repo.claim_due(
        session, now=T0, worker="busy", lease=LEASE, limit=20, kinds=["ordered"]
    )
    assert len(busy) == 1
    # While the busy worker runs its one seed job, a person posts a need.
    enqueue(session, kind="ordered", key="posted", run_at=T0 + timedelta(seconds=1))
    enqueue(session, kind="ordered", key="saved", run_at=T0 + timedelta(seconds=2))
    session.commit()
    people = jobs_repo.claim_due(
        session,
        now=T0 + timedelta(seconds=2),
        worker="other",
        lease=LEASE,
        limit=20,
        kinds=["ordered"],
    )
    keys = [job.key for job in session.exec(select(Job).where(Job.id.in_(people))).all()]  # type: ignore[union-attr]
    assert sorted(keys) == ["posted", "saved"]  # a batch of people's jobs, no bulk with them


def test_a_waiting_job_keeps_the_more_urgent_priority(session: Session) -> None:
    enqueue(session, kind="ordered", key="need:1", run_at=T0, again=True)
    enqueue(session, kind="ordered", key="need:1", run_at=T0, again=True, bulk=True)
    assert _priority(session, "need:1") == PRIORITY_PERSON  # an import does not push it back
    enqueue(session, kind="ordered", key="need:2", run_at=T0, bulk=True)
    enqueue(session, kind="ordered", key="need:2", run_at=T0)
    assert _priority(session, "need:2") == PRIORITY_PERSON  # a person's change hurries it
    enqueue(session, kind="ordered", key="need:3", run_at=T0, bulk=True)
    enqueue(session, kind="ordered", key="need:3", run_at=T0, again=True)
    assert _priority(session, "need:3") == PRIORITY_PERSON


def test_a_finished_job_queued_again_in_bulk_is_bulk(
    session: Session, app_state: AppState, ran: list[str]
) -> None:
    enqueue(session, kind="ordered", key="need:1", run_at=T0)
    session.commit()
    Worker(app_state).run_due(now=T0)
    enqueue(session, kind="ordered", key="need:1", run_at=T0, again=True, bulk=True)
    assert _priority(session, "need:1") == PRIORITY_BULK


def test_an_import_queues_bulk_work_and_a_posted_need_queues_a_persons(
    session: Session,
) -> None:
    _, institution = make_member(session)
    imported = make_need(session, institution=institution)
    posted = make_need(session, institution=institution)
    changes.experts_added(session)  # what an import of experts queues
    assert _priority(session, need_rematch_key(imported.id or 0)) == PRIORITY_BULK
    changes.need_changed(session, posted)  # what posting or editing a need queues
    assert _priority(session, need_rematch_key(posted.id or 0)) == PRIORITY_PERSON
    # The need the import queued, then edited by its institution, is a person's job now.
    changes.need_changed(session, imported)
    assert _priority(session, need_rematch_key(imported.id or 0)) == PRIORITY_PERSON


def test_the_demo_worlds_needs_are_queued_in_bulk(session: Session) -> None:
    for kind in ("institutions", "needs"):
        report = import_file(session, kind=kind, path=WORLD / f"{kind}.jsonl", actor=None)
        assert report.ok
    queued = session.exec(select(Job.priority).where(Job.kind == REMATCH_NEED)).all()
    assert queued and set(queued) == {PRIORITY_BULK}
