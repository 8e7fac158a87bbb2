"""Pending changes to the search indexes, written in the same transaction as the data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class SearchOutbox(SQLModel, table=True):
    """One document to upsert into (or delete from) one search index."""

    __tablename__ = "search_outbox"
    __table_args__ = (
        Index("ix_search_outbox_due", "next_attempt_at", "id"),
        Index("ix_search_outbox_document", "index", "document_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    index: str = Field(max_length=64)
    document_id: int
    op: str = Field(max_length=16)
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A worker owns the row until claimed_until; a crashed worker's claim simply expires.
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
