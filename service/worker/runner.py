"""The worker: schedules periodic jobs, claims due ones, runs them, retries failures."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from service.models.types import utcnow
from service.repos import jobs as jobs_repo
from service.state import AppState
from service.worker.queue import JobContext, handlers

log = logging.getLogger("homeward.worker")

LEASE = timedelta(minutes=5)
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
KEEP_DONE = timedelta(days=7)


def backoff(attempts: int) -> timedelta:
    """Gets the wait before retrying a job that failed `attempts` times: doubling, capped."""
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def slot_start(now: datetime, every_s: float) -> tuple[int, datetime]:
    """Gets the periodic slot a moment falls in, and when that slot began."""
    slot = int(now.timestamp() // every_s)
    return slot, datetime.fromtimestamp(slot * every_s, UTC)


class Worker:
    """Runs jobs from the database queue; several workers may share one queue."""

    def __init__(self, state: AppState, *, name: str | None = None, batch: int = 20) -> None:
        import service.worker.tasks  # noqa: F401  (registers the built-in handlers)
        from service.worker import matching_tasks

        matching_tasks.install()

        self.state = state
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch = batch

    def _session(self) -> Session:
        return Session(self.state.engine, expire_on_commit=False)

    def schedule(self, *, now: datetime) -> None:
        """Queues the current slot of each periodic job (the key makes it once per slot)."""
        periodic = [r for r in handlers().values() if r.every_s]
        if not periodic:
            return
        with self._session() as session:
            for registration in periodic:
                slot, start = slot_start(now, registration.every_s or 1.0)
                jobs_repo.insert_if_absent(
                    session,
                    kind=registration.kind,
                    key=f"{registration.kind}@{slot}",
                    payload={},
                    run_at=start,
                )
            session.commit()

    def run_due(self, *, now: datetime) -> int:
        """Claims and runs the due jobs, batch after batch; returns how many it ran."""
        ran = 0
        while True:
            with self._session() as session:
                ids = jobs_repo.claim_due(
                    session,
                    now=now,
                    worker=self.name,
                    lease=LEASE,
                    limit=self.batch,
                    kinds=list(handlers()),
                )
            if not ids:
                return ran
            for job_id in ids:
                self._run(job_id, now=now)
                ran += 1

    def tick(self, *, now: datetime | None = None) -> int:
        """Schedules periodic jobs, then runs everything due at `now`."""
        now = now or utcnow()
        self.schedule(now=now)
        return self.run_due(now=now)

    def _run(self, job_id: int, *, now: datetime) -> None:
        with self._session() as session:
            job = jobs_repo.get_job(session, job_id)
            registration = handlers().get(job.kind) if job else None
            if job is None or registration is None:
                return
            attempts = job.attempts
            context = JobContext(
                session=session,
                now=now,
                settings=self.state.settings,
                state=self.state,
                kind=job.kind,
                key=job.key,
                payload=dict(job.payload),
            )
            try:
                registration.fn(context)
                if jobs_repo.mark_done(session, job_id=job_id, worker=self.name, now=now):
                    session.commit()
                    log.info("job %s %s done by %s", job_id, context.key, self.name)
                else:  # the job was claimed again or re-queued meanwhile: that run wins
                    session.rollback()
                    log.info("job %s %s discarded by %s", job_id, context.key, self.name)
                return
            except Exception as exc:  # noqa: BLE001 - any failure is retried with backoff
                session.rollback()
                error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s (%s) failed: %s", job_id, registration.kind, error)
                log.debug("%s", traceback.format_exc())
        retry_at = now + backoff(attempts) if attempts < registration.max_attempts else None
        with self._session() as session:
            jobs_repo.mark_failed(
                session,
                job_id=job_id,
                worker=self.name,
                error=error,
                retry_at=retry_at,
                now=now,
            )
            session.commit()


class WorkerThread(threading.Thread):
    """A worker running in the web process, as a daemon thread; `stop()` ends it."""

    def __init__(self, state: AppState, *, poll_s: float = 5.0) -> None:
        super().__init__(name="homeward-worker", daemon=True)
        self.worker = Worker(state)
        self.poll_s = poll_s
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.worker.tick()
            except Exception:  # noqa: BLE001 - the loop must survive a bad tick
                log.exception("worker tick failed")
            self._stopping.wait(self.poll_s)

    def stop(self, timeout: float = 10.0) -> None:
        """Asks the loop to end and waits for it."""
        self._stopping.set()
        self.join(timeout)


def run_in_process(state: AppState, *, poll_s: float = 5.0) -> WorkerThread:
    """Starts the worker as a background thread of the web process (small deployments)."""
    thread = WorkerThread(state, poll_s=poll_s)
    thread.start()
    return thread


def run_forever(state: AppState, *, poll_s: float = 5.0) -> None:
    """Runs the worker loop in this thread until interrupted."""
    worker = Worker(state)
    stopping = threading.Event()
    log.info("worker %s started", worker.name)
    while not stopping.is_set():
        try:
            worker.tick()
        except Exception:  # noqa: BLE001 - the loop must survive a bad tick
            log.exception("worker tick failed")
        stopping.wait(poll_s)
