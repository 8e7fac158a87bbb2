"""Rows of roster imports: the site's own rules for each record, plus what a roster row adds.

Each row model extends the payload the site validates (`ExpertProfileUpdate`, `NeedWrite`,
`InstitutionUpdate`), so an import accepts exactly what a person could enter in the forms,
with the roster's identifiers and accounts on top (docs/import.md is the contract).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from service.models import Mode
from service.schemas.common import Email, LanguageCode, Locale, Required, Skill
from service.schemas.experts import ExpertProfileUpdate, LanguageSkill
from service.schemas.institutions import InstitutionUpdate
from service.schemas.needs import NeedWrite

Kind = Literal["experts", "institutions", "needs"]
KINDS: tuple[Kind, ...] = ("institutions", "experts", "needs")

ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Required
]
TextLang = Literal["", "en", "fr", "es", "pt", "ar"]


def _moment(value: Any) -> Any:
    """Reads a date-time with a time zone; a date alone means midnight UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError("Use an ISO date-time such as 2026-10-14T09:32:00Z.") from None
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("Use an ISO date-time such as 2026-10-14T09:32:00Z.") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("Add a time zone to the date-time, e.g. 2026-10-14T09:32:00Z.")
        return value.astimezone(UTC)
    return value


Moment = Annotated[datetime, BeforeValidator(_moment)]


class MemberRow(BaseModel):
    """A person who acts for an institution."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    locale: Locale = "en"


class InstitutionRow(InstitutionUpdate):
    """One institution of a roster."""

    external_id: ExternalId
    verified: bool = False
    members: list[MemberRow] = Field(default_factory=list, max_length=50)


class ExpertRow(ExpertProfileUpdate):
    """One expert of a roster: the profile an expert edits, their sign-in and roster facts."""

    external_id: ExternalId
    email: Email
    locale: Locale = "en"
    skills: list[Skill] = Field(min_length=1, max_length=50)
    languages: list[LanguageSkill] = Field(min_length=1, max_length=20)
    modes: list[Mode] = Field(min_length=1, max_length=3)
    availability_confirmed_at: Moment | None = None
    text_lang: TextLang = ""
    active: bool = True


class NeedRow(NeedWrite):
    """One need of a roster, attached to an institution by its external id."""

    external_id: ExternalId
    institution: ExternalId
    # Many real needs are only a title ("Comptable", "Data engineer"): a roster may omit it.
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)] = ""
    sector: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), Required]
    languages: list[LanguageCode] = Field(min_length=1, max_length=10)
    text_lang: TextLang = ""
    posted_at: Moment | None = None


ROW_MODELS: dict[str, type[BaseModel]] = {
    "institutions": InstitutionRow,
    "experts": ExpertRow,
    "needs": NeedRow,
}

# Column -> how a CSV cell is read. The order is the order of export.
CellType = Literal["text", "list", "languages", "members", "bool", "int", "date", "datetime"]
COLUMNS: dict[str, dict[str, CellType]] = {
    "institutions": {
        "external_id": "text",
        "name": "text",
        "type": "text",
        "country": "text",
        "city": "text",
        "website": "text",
        "description": "text",
        "verified": "bool",
        "members": "members",
    },
    "experts": {
        "external_id": "text",
        "email": "text",
        "display_name": "text",
        "locale": "text",
        "headline": "text",
        "bio": "text",
        "skills": "list",
        "languages": "languages",
        "origin_country": "text",
        "residence_country": "text",
        "city": "text",
        "timezone": "text",
        "modes": "list",
        "hours_per_month": "int",
        "available_from": "date",
        "available_until": "date",
        "availability_confirmed_at": "datetime",
        "sectors": "list",
        "years_experience": "int",
        "education": "text",
        "visibility": "text",
        "phone": "text",
        "text_lang": "text",
        "active": "bool",
    },
    "needs": {
        "external_id": "text",
        "institution": "text",
        "title": "text",
        "description": "text",
        "required_skills": "list",
        "sector": "text",
        "mode": "text",
        "duration_weeks": "int",
        "hours_per_week": "int",
        "start_from": "date",
        "start_until": "date",
        "languages": "list",
        "city": "text",
        "support": "list",
        "live_sessions": "bool",
        "status": "text",
        "text_lang": "text",
        "posted_at": "datetime",
    },
}
