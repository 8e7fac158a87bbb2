"""Validated field types shared by forms and the JSON API."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from service.models.users import LOCALES

# The largest id a caller may send: what the id columns hold (INTEGER, 32 bits signed, on
# PostgreSQL; SQLite holds 64). Past it, a 422 naming the field, never a 500 from the database.
MAX_ID = 2**31 - 1
# A row's id in a body.
EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TIMEZONES = frozenset(available_timezones())


def _country(value: str) -> str:
    value = value.strip().upper()
    if not value:
        # A form's country list left on its prompt: the code format means nothing to a person.
        raise ValueError("Choose a country")
    if not _COUNTRY.match(value):
        raise ValueError("use a two-letter country code (ISO 3166), e.g. SN")
    return value


def _language(value: str) -> str:
    value = value.strip().lower()
    if not _LANGUAGE.match(value):
        raise ValueError("use a two-letter language code (ISO 639-1), e.g. fr")
    return value


def _timezone(value: str) -> str:
    value = value.strip()
    if value not in _TIMEZONES:
        raise ValueError("use a time zone name such as Europe/Paris or Africa/Dakar")
    return value


# A web address as people type it: with or without http(s)://, a dotted host, no spaces.
_WEBSITE = re.compile(r"^(https?://)?[^\s/:@.]+(\.[^\s/:@.]+)+(:\d+)?([/?#]\S*)?$", re.IGNORECASE)


def _website(value: str) -> str:
    if value and not _WEBSITE.match(value):
        raise ValueError("enter a web address, like https://example.org")
    return value


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise ValueError(f"choose one of: {', '.join(LOCALES)}")
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    # Deliberately simple: one @, a dot in the domain, no spaces. Delivery proves the rest.
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) or len(value) > 254:
        raise ValueError("enter a valid email address, like name@example.org")
    return value


def _password(value: str) -> str:
    if len(value) < 10:
        raise ValueError("use at least 10 characters")
    if len(value) > 200:
        raise ValueError("use at most 200 characters")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_website)
]
LanguageCode = Annotated[str, AfterValidator(_language)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Locale = Annotated[str, AfterValidator(_locale)]
Email = Annotated[str, AfterValidator(_email)]
Password = Annotated[str, AfterValidator(_password)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
# Skill labels from real taxonomies (ESCO) reach 150 characters.
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
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
