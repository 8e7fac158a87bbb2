"""Payloads of the assignment plan."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.models.experts import SECTORS
from service.schemas.common import CountryCode
from service.schemas.engagements import EngagementRead

ProposalId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Sector = Literal[SECTORS]  # type: ignore[valid-type]


class PlanRequest(BaseModel):
    """Which open needs to plan for, and the pairs the coordinator locked or excluded."""

    model_config = ConfigDict(extra="forbid")

    country: CountryCode | None = None
    sector: Sector | None = None
    locked: list[ProposalId] = Field(default_factory=list, max_length=1000)
    excluded: list[ProposalId] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _check(self) -> Self:
        both = set(self.locked) & set(self.excluded)
        if both:
            raise ValueError("A proposal cannot be both locked and excluded.")
        return self


class PlanApproval(BaseModel):
    """The offers of a plan to approve at once: the whole plan, or one need's."""

    model_config = ConfigDict(extra="forbid")

    proposal_ids: list[ProposalId] = Field(min_length=1, max_length=1000)


class PlanFigures(BaseModel):
    """What a coordinator compares between the plan and the greedy baseline."""

    method: str
    seconds: float
    needs: int | None = None
    needs_covered: int | None = None
    seats: int | None = None
    seats_filled: int | None = None
    mean_score: float | None = None
    min_score: float | None = None
    max_offers: int | None = None
    over_capacity: int | None = None


class PlannedOfferRead(BaseModel):
    """One offer a plan would make, with the matcher's reasons."""

    proposal_id: int
    expert_id: int
    display_name: str
    score: float
    locked: bool
    explanation: dict[str, Any]


class NeedPlanRead(BaseModel):
    """One need's offers under the plan and under the greedy baseline."""

    need_id: int
    title: str
    country: str
    sector: str
    seats: int
    planned: list[PlannedOfferRead]
    greedy: list[PlannedOfferRead]


class AssignmentPlanRead(BaseModel):
    """The plan beside the greedy baseline, need by need."""

    plan: PlanFigures
    greedy: PlanFigures
    needs: list[NeedPlanRead]
    proposal_ids: list[int]
    locked: list[int]
    excluded: list[int]
    unsatisfiable_locks: list[int]


class ApprovedOffers(BaseModel):
    """The engagements a plan's approval offered."""

    items: list[EngagementRead]
    total: int


class SkillCoverRead(BaseModel):
    """One required skill a team member covers, through which profile skill."""

    required: str
    matched: str
    similarity: float


class TeamMemberRead(BaseModel):
    """A member of a proposed team and what they bring."""

    proposal_id: int
    expert_id: int
    covers: list[SkillCoverRead]


class TeamRead(BaseModel):
    """Up to three experts who together cover more of a need's skills than anyone alone."""

    members: list[TeamMemberRead]
    covered: list[str]
    missing: list[str]
    share: float
    best_single_share: float


class TeamAnswer(BaseModel):
    """The team proposed for a need, or none when no team helps."""

    need_id: int
    team: TeamRead | None
