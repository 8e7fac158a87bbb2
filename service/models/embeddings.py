"""Stored vectors, with the model that made them and a hash of the text they embed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class Embedding(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "model"),
        # The matcher's refresh reads the vectors of one kind and model stored since a moment;
        # led by the stamp alone, SQLite preferred the unique index on owner_type and read every
        # row (10 kB each, past the vector to the stamp).
        Index("ix_embedding_owner_type_model_updated_at", "owner_type", "model", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=20)  # "expert" or "need"
    owner_id: int = Field(index=True)
    model: str = Field(max_length=200)
    model_version: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)
    dim: int
    vector: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SkillVector(SQLModel, table=True):
    """A skill's phrase vector, as needs ask it: the skills-gap report merges the same skill
    asked in several languages with these (embedded by the worker, read by the report)."""

    __tablename__ = "skill_vector"
    __table_args__ = (UniqueConstraint("text", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=200)
    model: str = Field(max_length=200)
    dim: int
    vector: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
