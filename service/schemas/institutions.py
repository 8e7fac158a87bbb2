"""Payloads of institutions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from service.models import InstitutionType
from service.schemas.common import City, CountryCode, LongText, Name, Required, UTCMoment, Website


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
    """What its own members see: where its verification stands, and the coordinator's note
    (asked when, answered when)."""

    review: str
    review_note: str
    asked_at: datetime | None = None
    answered_at: datetime | None = None


class ReviewReply(BaseModel):
    """A member's answer to the coordinator's request for more information."""

    model_config = ConfigDict(extra="forbid")

    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Required
    ]
    # When the question answered was asked (`asked_at` of GET /api/institutions/mine): if
    # another was asked since, the answer is refused (409) rather than given to it.
    asked_at: UTCMoment = None


class ReviewReplyPublic(BaseModel):
    """An answer as recorded: the question it answers, when, and where the review now stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    question: str
    message: str
    created_at: datetime
    review: str


class ReviewDecision(BaseModel):
    """A coordinator asks an institution awaiting verification for more, or declines it."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["info_requested", "declined"]
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Required
    ]
