"""Payloads of the assignment plan."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.models.experts import SECTORS
from service.schemas.common import CountryCode

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
            raise ValueError(f"proposal {min(both)} cannot be both locked and excluded")
        return self


class PlanApproval(BaseModel):
    """The offers of a plan to approve at once: the whole plan, or one need's."""

    model_config = ConfigDict(extra="forbid")

    proposal_ids: list[ProposalId] = Field(min_length=1, max_length=1000)
