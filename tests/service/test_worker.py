"""The worker: an idempotent database queue, safe claims, retries, periodic deadlines."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings, get_settings
from service.db import make_engine
from service.models import AuditEvent, Engagement, Job, Notification, OutgoingEmail
from service.repos import jobs as jobs_repo
from service.state import AppState
from service.worker import (
    JobContext,
    Worker,
    enqueue,
    register_handler,
    run_in_process,
    unregister_handler,
)
from service.worker.runner import LEASE
from tests.service.worlds import build_world, offer

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def calls() -> Iterator[Counter[str]]:
    """Registers a `count` job kind whose runs are counted by key, and a `flaky` one."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def count(context: JobContext) -> None:
        with lock:
            seen[context.key] += 1

    def flaky(context: JobContext) -> None:
        with lock:
            seen[context.key] += 1
            tries = seen[context.key]
        if tries <= int(context.payload.get("fail_times", 0)):
            raise RuntimeError(f"try {tries} failed")

    register_handler("count", count)
    register_handler("flaky", flaky, max_attempts=3)
    yield seen
    unregister_handler("count")
    unregister_handler("flaky")


def _job(session: Session, key: str) -> Job:
    session.expire_all()
    job = jobs_repo.get_job_by_key(session, key)
    assert job is not None
    return job


def test_the_same_job_enqueued_twice_runs_once(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    enqueue(session, kind="count", key="k1", payload={"n": 1}, run_at=T0)
    enqueue(session, kind="count", key="k1", payload={"n": 2}, run_at=T0)
    session.commit()
    assert len(session.exec(select(Job).where(Job.kind == "count")).all()) == 1
    worker = Worker(app_state)
    worker.run_due(now=T0)
    worker.run_due(now=T0 + timedelta(minutes=1))
    assert calls["k1"] == 1 and _job(session, "k1").status == "done"
    enqueue(session, kind="count", key="k1", run_at=T0)
    session.commit()
    worker.run_due(now=T0 + timedelta(minutes=2))
    assert calls["k1"] == 1
    # Work that must follow changes (re-matching) asks to run again.
    enqueue(session, kind="count", key="k1", run_at=T0, again=True)
    session.commit()
    worker.run_due(now=T0 + timedelta(minutes=3))
    assert calls["k1"] == 2


def test_a_job_does_not_run_before_its_time(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    enqueue(session, kind="count", key="later", run_at=T0 + timedelta(hours=1))
    session.commit()
    worker = Worker(app_state)
    assert worker.run_due(now=T0) == 0 and calls["later"] == 0
    assert worker.run_due(now=T0 + timedelta(hours=1)) == 1 and calls["later"] == 1


def test_two_workers_on_one_queue_run_each_job_once(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    keys = [f"job-{i}" for i in range(60)]
    for key in keys:
        enqueue(session, kind="count", key=key, run_at=T0)
    session.commit()
    workers = [Worker(app_state, name=f"w{i}", batch=5) for i in range(2)]
    barrier = threading.Barrier(len(workers))
    ran: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            barrier.wait()
            ran[worker.name] = worker.run_due(now=T0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert {key: calls[key] for key in keys} == dict.fromkeys(keys, 1)
    assert sum(ran.values()) == len(keys)
    session.expire_all()
    jobs = session.exec(select(Job).where(Job.kind == "count")).all()
    assert {job.status for job in jobs} == {"done"}
    assert {job.claimed_by for job in jobs} <= {"w0", "w1"}


def test_failures_are_retried_with_backoff_then_given_up(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    enqueue(session, kind="flaky", key="twice", payload={"fail_times": 2}, run_at=T0)
    enqueue(session, kind="flaky", key="always", payload={"fail_times": 99}, run_at=T0)
    session.commit()
    worker = Worker(app_state)
    worker.run_due(now=T0)
    job = _job(session, "twice")
    assert (job.status, job.attempts, job.run_at) == ("pending", 1, T0 + timedelta(seconds=30))
    assert "try 1 failed" in job.last_error
    worker.run_due(now=T0 + timedelta(seconds=10))
    assert calls["twice"] == 1  # still backing off
    worker.run_due(now=T0 + timedelta(seconds=30))
    assert _job(session, "twice").run_at == T0 + timedelta(seconds=30 + 60)
    worker.run_due(now=T0 + timedelta(seconds=90))
    assert calls["twice"] == 3 and _job(session, "twice").status == "done"
    gave_up = _job(session, "always")
    assert (gave_up.status, gave_up.attempts, calls["always"]) == ("failed", 3, 3)
    worker.run_due(now=T0 + timedelta(days=1))
    assert calls["always"] == 3


def test_a_crashed_workers_claim_expires(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    enqueue(session, kind="count", key="orphan", run_at=T0)
    session.commit()
    won = jobs_repo.claim_due(
        session, now=T0, worker="crashed", lease=LEASE, limit=10, kinds=["count"]
    )
    assert len(won) == 1  # ... and the worker dies before running it
    survivor = Worker(app_state, name="survivor")
    assert survivor.run_due(now=T0 + LEASE - timedelta(seconds=1)) == 0
    assert survivor.run_due(now=T0 + LEASE + timedelta(seconds=1)) == 1
    job = _job(session, "orphan")
    assert (job.status, job.claimed_by, job.attempts, calls["orphan"]) == ("done", "survivor", 2, 1)


def test_periodic_jobs_run_once_per_slot_whatever_the_number_of_workers(
    session: Session, app_state: AppState
) -> None:
    first, second = Worker(app_state, name="a"), Worker(app_state, name="b")
    first.tick(now=T0)
    second.tick(now=T0 + timedelta(seconds=5))
    jobs = session.exec(select(Job).where(Job.kind == "expire_offers")).all()
    assert [(j.key, j.status) for j in jobs] == [
        (f"expire_offers@{int(T0.timestamp()) // 600}", "done")
    ]
    second.tick(now=T0 + timedelta(minutes=10))
    assert len(session.exec(select(Job).where(Job.kind == "expire_offers")).all()) == 2


def test_offers_are_reminded_then_expire_and_the_coordinator_is_told(
    session: Session, app_state: AppState, settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    offered_at = engagement.offered_at
    worker = Worker(app_state)

    def notes(kind: str) -> list[Notification]:
        session.expire_all()
        return list(session.exec(select(Notification).where(Notification.kind == kind)).all())

    worker.tick(now=offered_at + timedelta(days=10))
    assert notes("offer.reminder") == []
    reminder_time = offered_at + timedelta(
        days=settings.offer_expiry_days - settings.offer_reminder_days, hours=1
    )
    worker.tick(now=reminder_time)
    worker.tick(now=reminder_time + timedelta(hours=2))
    reminders = notes("offer.reminder")
    assert [n.user_id for n in reminders] == [world.expert_user.id]
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "offered"  # type: ignore[union-attr]

    expiry_time = offered_at + timedelta(days=settings.offer_expiry_days, minutes=11)
    worker.tick(now=expiry_time)
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "expired"  # type: ignore[union-attr]
    assert [n.user_id for n in notes("offer.expired.coordinator")] == [world.coordinator.id]
    assert [n.user_id for n in notes("offer.expired")] == [world.expert_user.id]
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "engagement.expire")).one()
    assert (audit.actor_id, audit.from_state, audit.to_state) == (None, "offered", "expired")
    worker.tick(now=expiry_time + timedelta(days=1))
    assert len(notes("offer.expired.coordinator")) == 1
    # Without an SMTP server, the emails were "sent" to the log and kept in the outbox.
    emails = session.exec(select(OutgoingEmail).order_by(col(OutgoingEmail.id))).all()
    assert {e.status for e in emails} == {"logged"}
    assert [e.kind for e in emails] == [
        "offer.new",
        "offer.reminder",
        "offer.expired",
        "offer.expired.coordinator",
    ]


def test_an_accepted_offer_does_not_expire(
    session: Session, app_state: AppState, settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    from service.core.engagements import move

    move(
        session, engagement=engagement, actor=world.expert_user, action="accept", settings=settings
    )
    session.commit()
    Worker(app_state).tick(now=engagement.offered_at + timedelta(days=60))
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "accepted"  # type: ignore[union-attr]


def test_experts_are_asked_to_reconfirm_their_availability_once_per_period(
    session: Session, app_state: AppState, settings: Settings
) -> None:
    world = build_world(session)
    days = settings.availability_reconfirm_days
    world.expert.availability_confirmed_at = T0 - timedelta(days=days - 1)
    session.add(world.expert)
    session.commit()
    worker = Worker(app_state)

    def reminders() -> list[int]:
        session.expire_all()
        rows = session.exec(
            select(Notification).where(
                Notification.kind == "availability.reminder",
                Notification.user_id == world.expert_user.id,
            )
        ).all()
        return [n.user_id for n in rows]

    worker.tick(now=T0)
    assert reminders() == []
    worker.tick(now=T0 + timedelta(days=2))
    worker.tick(now=T0 + timedelta(days=3))
    assert reminders() == [world.expert_user.id]
    worker.tick(now=T0 + timedelta(days=days + 2))
    assert reminders() == [world.expert_user.id] * 2
    # Once reconfirmed, no more reminders.
    world.expert.availability_confirmed_at = T0 + timedelta(days=days + 3)
    session.add(world.expert)
    session.commit()
    worker.tick(now=T0 + timedelta(days=days + 10))
    assert len(reminders()) == 2


def test_the_worker_runs_in_the_web_process(
    session: Session, app_state: AppState, calls: Counter[str]
) -> None:
    thread = run_in_process(app_state, poll_s=0.05)
    try:
        enqueue(session, kind="count", key="in-process")
        session.commit()
        deadline = time.monotonic() + 20
        while calls["in-process"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
    assert calls["in-process"] == 1 and not thread.is_alive()


def test_worker_command_runs_due_jobs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        result = runner.invoke(cli, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "Ran" in result.output
        with Session(make_engine(url)) as check:
            kinds = {job.kind for job in check.exec(select(Job)).all()}
        assert {"expire_offers", "remind_offers", "send_emails"} <= kinds
    finally:
        get_settings.cache_clear()
