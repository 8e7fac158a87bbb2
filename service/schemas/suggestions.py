"""An institution's suggestion of an expert for one of its needs, over the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.schemas.common import EntityId


class SuggestionCreate(BaseModel):
    """The expert (as the roster gives their id) an institution suggests for its need."""

    model_config = ConfigDict(extra="forbid")

    expert_id: EntityId


class SuggestionPublic(BaseModel):
    """A suggestion as the institution sees it: which expert, for which need, since when."""

    model_config = ConfigDict(from_attributes=True)

    need_id: int
    expert_id: int
    suggested_at: datetime
