"""Background jobs, queued in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60, index=True)
    # Jobs with the same key are one job: enqueueing twice is harmless.
    key: str = Field(max_length=200, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="pending", max_length=20, index=True)
    run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    attempts: int = 0
    claimed_by: str = Field(default="", max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
