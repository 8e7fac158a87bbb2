"""Match proposals: the matcher's ranked candidates for a need, awaiting a coordinator."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    # The matcher no longer ranks this expert for the need; kept for the record.
    WITHDRAWN = "withdrawn"


class ProposalOrigin(StrEnum):
    # Ranked among the experts for a need (what coordinators review).
    NEED = "need"
    # Ranked among the open needs for an expert ("Needs for you").
    EXPERT = "expert"


class MatchProposal(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("need_id", "expert_id"),
        # Added by migration i14_pages_indexes: the coordinator's counts and queues.
        Index("ix_matchproposal_status_created_at", "status", "created_at"),
        Index("ix_matchproposal_need_id_status", "need_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    expert_id: int = Field(foreign_key="expertprofile.id", index=True)
    rank: int = 0
    score: float = 0.0
    components: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    model_version: str = Field(default="", max_length=200)
    status: str = Field(default=ProposalStatus.PROPOSED, max_length=20, index=True)
    origin: str = Field(default=ProposalOrigin.NEED, max_length=10)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
