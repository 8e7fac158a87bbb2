"""Background jobs, queued in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow

# Who waits on a job, the most urgent first: a person who just acted (a need posted, a profile
# saved), then work done in bulk (a seed, an import) that nobody watches job by job.
PRIORITY_PERSON = 0
PRIORITY_BULK = 10


class Job(SQLModel, table=True):
    # The worker's claim: pending jobs, most urgent first, then the oldest due.
    __table_args__ = (Index("ix_job_status_priority_run_at", "status", "priority", "run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60, index=True)
    # Jobs with the same key are one job: enqueueing twice is harmless.
    key: str = Field(max_length=200, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="pending", max_length=20, index=True)
    run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    priority: int = Field(default=PRIORITY_PERSON, sa_column_kwargs={"server_default": "0"})
    attempts: int = 0
    claimed_by: str = Field(default="", max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
