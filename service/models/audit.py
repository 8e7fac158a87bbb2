"""The audit log: who moved what, when, from which state to which, and why. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=60, index=True)
    entity_type: str = Field(max_length=40)
    entity_id: int | None = Field(default=None, index=True)
    from_state: str = Field(default="", max_length=20)
    to_state: str = Field(default="", max_length=20)
    reason: str = Field(default="", max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
