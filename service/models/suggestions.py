"""Experts an institution suggested for one of its needs, from the roster, for a coordinator
to review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class ExpertSuggestion(SQLModel, table=True):
    __tablename__ = "expert_suggestion"
    # One suggestion per need and expert: suggesting again changes nothing.
    __table_args__ = (UniqueConstraint("need_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    expert_id: int = Field(foreign_key="expertprofile.id", index=True)
    suggested_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
