"""Validated field types shared by forms and the JSON API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from service.i18n import is_country
from service.models.users import LOCALES

# The largest id a caller may send: what the id columns hold (INTEGER, 32 bits signed, on
# PostgreSQL; SQLite holds 64). Past it, a 422 naming the field, never a 500 from the database.
MAX_ID = 2**31 - 1
# A row's id in a body.
EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]


def utc_moment(value: datetime | None) -> datetime | None:
    """A moment without a zone is read as UTC; every moment is kept in UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("This date is out of range.") from exc


# A moment sent by a client, with or without its zone (none: UTC).
UTCMoment = Annotated[datetime | None, AfterValidator(utc_moment)]

# A text a person must give, left empty: the one message for it, whatever the field's minimum
# length ("use at least 3 characters" read as if the title were too short, not missing).
REQUIRED = "This field is required."


def _required(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticCustomError("required", REQUIRED)
    return value


# Put on every text field that must be given (after its StringConstraints): a blank value is
# refused as missing before any length or format check runs.
Required = BeforeValidator(_required)

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TIMEZONES = frozenset(available_timezones())


def _country(value: str) -> str:
    value = value.strip().upper()
    if not value:
        # A form's country list left on its prompt: the code format means nothing to a person.
        raise ValueError("Choose a country.")
    if not _COUNTRY.match(value):
        raise ValueError("Use a two-letter country code (ISO 3166), e.g. SN.")
    if not is_country(value):
        raise ValueError("Choose a country from the list.")
    return value


def _language(value: str) -> str:
    value = value.strip().lower()
    if not _LANGUAGE.match(value):
        raise ValueError("Use a two-letter language code (ISO 639-1), e.g. fr.")
    return value


def _timezone(value: str) -> str:
    value = value.strip()
    if value not in _TIMEZONES:
        raise ValueError("Use a time zone name such as Europe/Paris or Africa/Dakar.")
    return value


# A web address as people type it: with or without http(s)://, a dotted host, no spaces.
_WEBSITE = re.compile(r"^(https?://)?[^\s/:@.]+(\.[^\s/:@.]+)+(:\d+)?([/?#]\S*)?$", re.IGNORECASE)


def _website(value: str) -> str:
    if value and not _WEBSITE.match(value):
        raise ValueError("Enter a web address, like https://example.org.")
    return value


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise ValueError("Choose one of the languages in the list.")
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    # Deliberately simple: one @, a dot in the domain, no spaces. Delivery proves the rest.
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) or len(value) > 254:
        raise ValueError("Enter a valid email address, like name@example.org.")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_website)
]
LanguageCode = Annotated[str, AfterValidator(_language)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Locale = Annotated[str, AfterValidator(_locale)]
Email = Annotated[str, AfterValidator(_email), Required]
PASSWORD_MIN_LENGTH = 10
# Says what is wrong, not the rule again: the field's help already says "At least 10
# characters." beside it ("Use at least 10 characters." under it read as the help twice).
PASSWORD_TOO_SHORT = "This password is too short."  # noqa: S105 - a message, not a password


def _long_enough(value: object) -> object:
    if isinstance(value, str) and value.strip() and len(value) < PASSWORD_MIN_LENGTH:
        raise PydanticCustomError(
            "string_too_short", PASSWORD_TOO_SHORT, {"min_length": PASSWORD_MIN_LENGTH}
        )
    return value


# Kept as typed: spaces may be part of a password. The length is checked by `_long_enough`
# first (for its message); the constraint stays for the API's schema.
Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=200),
    BeforeValidator(_long_enough),
    Required,
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), Required
]
# Skill labels from real taxonomies (ESCO) reach 150 characters.
Skill = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Required
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
# The city columns hold 120 characters; a longer one must be refused here, not by the database.
City = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def not_before(start: str, message: str) -> AfterValidator:
    """The check of a closing date against the opening one declared before it, on the closing
    field itself: it runs whatever else is wrong with the form, and its error sits beside the
    field (a form-level check ran only once every other field was valid, and named no field)."""

    def check(value: date | None, info: ValidationInfo) -> date | None:
        opening = info.data.get(start)
        if value is not None and isinstance(opening, date) and value < opening:
            raise ValueError(message)
        return value

    return AfterValidator(check)
