"""Payloads of institutions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from service.models import InstitutionType
from service.schemas.common import City, CountryCode, LongText, Name, Required, Website


class InstitutionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    type: InstitutionType
    country: CountryCode
    city: City = ""
    website: Website = ""
    description: LongText = ""


class InstitutionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: str
    country: str
    city: str
    website: str
    description: str
    verified_at: datetime | None
    created_at: datetime


class InstitutionOwn(InstitutionPublic):
    """What its own members see: where its verification stands, and the coordinator's note."""

    review: str
    review_note: str


class ReviewDecision(BaseModel):
    """A coordinator asks an institution awaiting verification for more, or declines it."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["info_requested", "declined"]
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Required
    ]
