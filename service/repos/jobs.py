"""Queries on the job queue: idempotent inserts, conditional claims, settling."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, or_, select, update
from sqlmodel import Session, col, func
from sqlmodel import select as sqlmodel_select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import Job
from service.models.jobs import PRIORITY_BULK, PRIORITY_PERSON
from service.models.types import utcnow
from service.repos.upserts import table_of, upsert

PENDING, DONE, FAILED = "pending", "done", "failed"


def _table() -> Table:
    return table_of(Job)


def insert_if_absent(
    session: Session,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    run_at: datetime,
    priority: int = PRIORITY_PERSON,
) -> None:
    """Inserts a job unless one with this key exists (in the caller's transaction)."""
    values = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "status": PENDING,
        "run_at": run_at,
        "priority": priority,
        "attempts": 0,
        "claimed_by": "",
        "last_error": "",
        "created_at": utcnow(),
    }
    upsert(session, Job, [values], keys=["key"])


def raise_priority(session: Session, *, key: str, priority: int) -> None:
    """Makes the waiting job with this key at least this urgent (in the caller's transaction)."""
    table = _table()
    session.execute(
        update(table)
        .where(table.c.key == key, table.c.status == PENDING, table.c.priority > priority)
        .values(priority=priority)
    )


def reschedule(
    session: Session,
    *,
    key: str,
    payload: dict[str, Any],
    run_at: datetime,
    priority: int = PRIORITY_PERSON,
) -> None:
    """Puts the job with this key back in the queue, whatever its state (in the caller's
    transaction): a finished job runs again; a running one loses its claim, so its outcome is
    discarded (`mark_done` finds the claim gone) and it runs again on the new state.

    The row lock this UPDATE takes keeps claimers (`FOR UPDATE SKIP LOCKED`) off the job until
    the caller's change commits, so no run can read the state from before that change and
    still count as the run that follows it. A job still waiting keeps the more urgent of its
    priority and this one: a person's change queued before a bulk one is not pushed back.
    """
    table = _table()
    waiting_more_urgent = and_(table.c.status == PENDING, table.c.priority < priority)
    session.execute(
        update(table)
        .where(table.c.key == key)
        .values(
            status=PENDING,
            priority=case((waiting_more_urgent, table.c.priority), else_=priority),
            payload=payload,
            run_at=run_at,
            attempts=0,
            claimed_by="",
            claimed_until=None,
            last_error="",
            finished_at=None,
        )
    )


def get_job_by_key(session: Session, key: str) -> Job | None:
    """Gets a job by its idempotency key."""
    return session.exec(_by_key(), params={"key": key}).first()


@functools.cache
def _by_key() -> SelectOfScalar[Job]:
    """The statement of `get_job_by_key` (an expert's "needs for you" asks whether a ranking
    is pending), built once with the key as a parameter: building it cost more than running it."""
    return sqlmodel_select(Job).where(Job.key == bindparam("key"))


def get_job(session: Session, job_id: int) -> Job | None:
    """Gets a job by id."""
    return session.get(Job, job_id)


def claim_due(
    session: Session,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    kinds: list[str],
) -> list[int]:
    """Claims due jobs for a worker with a conditional UPDATE; returns the ids it won.

    A job is free when it is pending and nobody holds a live claim on it; a crashed
    worker's claim expires after `lease`. PostgreSQL skips rows another claimer has locked.
    The most urgent come first (then the oldest due), and a batch holds one priority; bulk
    jobs are claimed one at a time, so a person's job queued behind a seed or an import waits
    for one of them at most, not for a whole batch.
    """
    table = _table()
    free = or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)
    due = (
        select(table.c.id, table.c.priority)
        .where(table.c.status == PENDING, table.c.run_at <= now, free, table.c.kind.in_(kinds))
        .order_by(table.c.priority, table.c.run_at, table.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = [(int(row[0]), int(row[1])) for row in session.execute(due)]
    first = rows[0][1] if rows else None
    batch = [job_id for job_id, priority in rows if priority == first]
    if first is not None and first >= PRIORITY_BULK:
        batch = batch[:1]
    won: list[int] = []
    for job_id in batch:
        result = session.execute(
            update(table)
            .where(table.c.id == job_id, table.c.status == PENDING, free)
            .values(
                claimed_by=worker,
                claimed_until=now + lease,
                attempts=table.c.attempts + 1,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(job_id)
    session.commit()
    return won


def mark_done(session: Session, *, job_id: int, worker: str, now: datetime) -> bool:
    """Marks a claimed job done, if this worker still holds it."""
    table = _table()
    result = session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.claimed_by == worker, table.c.status == PENDING)
        .values(status=DONE, finished_at=now, claimed_until=None, last_error="")
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_failed(
    session: Session,
    *,
    job_id: int,
    worker: str,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Releases a failed job for a later try, or gives up on it when `retry_at` is None."""
    table = _table()
    values: dict[str, Any] = {"claimed_until": None, "last_error": error[:2000]}
    if retry_at is None:
        values.update(status=FAILED, finished_at=now)
    else:
        values.update(run_at=retry_at)
    session.execute(
        update(table).where(table.c.id == job_id, table.c.claimed_by == worker).values(**values)
    )


def prune_finished(session: Session, *, before: datetime) -> int:
    """Deletes jobs done before a moment; failed ones are kept for inspection."""
    table = _table()
    result = session.execute(
        delete(table).where(table.c.status == DONE, table.c.finished_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_jobs(
    session: Session, *, status: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[Job], int]:
    """Lists jobs, newest first, with the total."""
    statement = sqlmodel_select(Job)
    if status is not None:
        statement = statement.where(Job.status == status)
    total = session.exec(sqlmodel_select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(statement.order_by(col(Job.id).desc()).offset(offset).limit(limit)).all()
    return list(rows), total
