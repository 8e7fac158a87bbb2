"""Payloads of institutions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.models import InstitutionType
from service.schemas.common import City, CountryCode, LongText, Name, ShortText


class InstitutionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    type: InstitutionType
    country: CountryCode
    city: City = ""
    website: ShortText = ""
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
