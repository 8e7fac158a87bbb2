"""Translations: gettext catalogues (Babel .po files in web/translations), one per locale."""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"
UI_LOCALES = ("en", "fr", "es", "pt", "ar")
RTL_LOCALES = frozenset({"ar"})
DEFAULT_LOCALE = "en"
# Every language an account may choose, for the interface and its emails.
LOCALE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
}

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a message for extraction; it is translated where it is shown."""
    return message


@cache
def translations_for(locale: str) -> gettext.NullTranslations:
    """Loads a locale's catalogue, compiled in memory from its .po file."""
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext_(message: str) -> str:
    """Translates a message into the current request's locale."""
    return translations_for(current_locale.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    """Translates a message with a plural into the current request's locale."""
    return translations_for(current_locale.get()).ngettext(singular, plural, n)


def negotiate_locale(*candidates: str | None, accept_language: str = "") -> str:
    """Picks the first supported locale among explicit choices, then the Accept-Language header."""
    for candidate in candidates:
        if candidate in UI_LOCALES:
            return candidate
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in UI_LOCALES:
            return code
    return DEFAULT_LOCALE


# Readable, translatable names of the values stored in the database.
LABELS: dict[str, dict[str, str]] = {
    "sector": {
        "health": N_("Health"),
        "education": N_("Education"),
        "engineering": N_("Engineering"),
        "agriculture": N_("Agriculture"),
        "finance": N_("Finance"),
        "law": N_("Law"),
        "public_administration": N_("Public administration"),
        "technology": N_("Technology"),
        "energy": N_("Energy"),
        "water": N_("Water"),
        "business": N_("Business"),
        "research": N_("Research"),
        "architecture": N_("Architecture"),
        "environment": N_("Environment"),
    },
    "mode": {
        "remote": N_("Remote"),
        "mission": N_("Short on-site mission"),
        "hybrid": N_("Hybrid"),
    },
    "level": {
        "native": N_("Native"),
        "fluent": N_("Fluent"),
        "professional": N_("Professional"),
        "basic": N_("Basic"),
    },
    "need_status": {
        "draft": N_("Draft"),
        "open": N_("Open"),
        "filled": N_("Filled"),
        "closed": N_("Closed"),
    },
    "support": {
        "travel": N_("Travel"),
        "per_diem": N_("Per diem"),
        "stipend": N_("Stipend"),
        "accommodation": N_("Accommodation"),
    },
    "institution_type": {
        "university": N_("University"),
        "hospital": N_("Hospital"),
        "business": N_("Business"),
        "agency": N_("Public agency"),
        "ngo": N_("NGO"),
    },
    "role": {
        "expert": N_("Expert"),
        "institution": N_("Institution member"),
        "coordinator": N_("Coordinator"),
        "admin": N_("Administrator"),
    },
    "visibility": {
        "institutions": N_("Institutions and coordinators"),
        "coordinators": N_("Coordinators only"),
    },
    "engagement_status": {
        "offered": N_("Offered"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
        "expired": N_("Expired"),
        "confirmed": N_("Confirmed"),
        "active": N_("Active"),
        "delivered": N_("Done, awaiting confirmation"),
        "completed": N_("Completed"),
        "cancelled": N_("Cancelled"),
    },
    "proposal_status": {
        "proposed": N_("Proposed"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "withdrawn": N_("Withdrawn"),
    },
    "tz_area": {
        "Africa": N_("Africa"),
        "America": N_("America"),
        "Antarctica": N_("Antarctica"),
        "Arctic": N_("Arctic"),
        "Asia": N_("Asia"),
        "Atlantic": N_("Atlantic"),
        "Australia": N_("Australia"),
        "Europe": N_("Europe"),
        "Indian": N_("Indian Ocean"),
        "Pacific": N_("Pacific"),
        "Other": N_("Other"),
    },
}


def label(kind: str, value: object) -> str:
    """Gets the translated name of a stored value (a sector, a mode, a status...)."""
    text = LABELS.get(kind, {}).get(str(value))
    return gettext_(text) if text else str(value)


# Messages written in the core and shown on pages, kept here so that extraction finds them.
CORE_MESSAGES = (
    N_("Please log in to continue."),
    N_("You are not allowed to do that."),
    N_("This form has expired or did not come from this site. Please reload the page and retry."),
    N_("Not found."),
    N_("This is no longer available."),
    N_("That conflicts with the current state."),
    N_("That move is not possible from the current state."),
    N_("Too many attempts. Please wait a few minutes and try again."),
    N_("Some fields are not valid."),
    N_("An account already uses this email. Log in instead."),
    N_("This is not your current password."),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("This institution is already verified."),
    # Field errors of the schemas (service/schemas), in sentence case like every error message.
    N_("This field is required."),
    N_("This password is too short."),
    N_("Use a two-letter country code (ISO 3166), e.g. SN."),
    N_("Choose a country."),
    N_("Enter a web address, like https://example.org."),
    N_("Use a two-letter language code (ISO 639-1), e.g. fr."),
    N_("Use a time zone name such as Europe/Paris or Africa/Dakar."),
    N_("Enter a valid email address, like name@example.org."),
    N_("Choose one of the languages in the list."),
    N_("The end of your availability must not be before its start."),
    N_("The latest start must not be before the earliest start."),
    N_("The end date must not be before the start date."),
    N_("This date is out of range."),
    N_("Choose a sector from the list."),
    N_("Choose sectors from the list."),
    N_("A proposal cannot be both locked and excluded."),
    N_("Use an ISO date-time such as 2026-10-14T09:32:00Z."),
    N_("Add a time zone to the date-time, e.g. 2026-10-14T09:32:00Z."),
)
# Errors raised across the core and shown on error pages (404, 403, 409), in the reader's language.
ERROR_MESSAGES = (
    N_("This need does not exist."),
    N_("This proposal does not exist."),
    N_("This engagement does not exist."),
    N_("This institution does not exist."),
    N_("This notification does not exist."),
    N_("There is no such move."),
    N_("Your account is not attached to an institution."),
    N_("Your institution is awaiting verification by a coordinator."),
    N_("Only coordinators and institutions can search the roster."),
    N_("Only a coordinator can decide on proposals."),
    N_("This expert is no longer available."),
    N_("Feedback comes from the expert and the institution."),
    N_("You have already given your feedback on this engagement."),
    N_("Please give a reason for the rejection."),
)

# Pydantic's messages, with their numbers, read back into translatable templates.
_PYDANTIC_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Field required$"), N_("This field is required.")),
    (re.compile(r"^String should have at least 1 character$"), N_("This field is required.")),
    (
        re.compile(r"^String should have at least (?P<n>\d+) characters?$"),
        N_("Use at least %(n)s characters."),
    ),
    (
        re.compile(r"^String should have at most (?P<n>\d+) characters?$"),
        N_("Use at most %(n)s characters."),
    ),
    (
        re.compile(r"^Input should be greater than or equal to (?P<n>-?\d+)$"),
        N_("Enter a number of at least %(n)s."),
    ),
    (
        re.compile(r"^Input should be less than or equal to (?P<n>-?\d+)$"),
        N_("Enter a number of at most %(n)s."),
    ),
    (
        re.compile(r"^Input should be a valid integer.*$"),
        N_("Enter a whole number."),
    ),
    (re.compile(r"^Input should be a valid date.*$"), N_("Enter a date.")),
    (re.compile(r"^Input should be .*'.*$"), N_("Choose one of the options.")),
    (
        re.compile(r"^List should have at most (?P<n>\d+) items?.*$"),
        N_("Choose at most %(n)s."),
    ),
    (re.compile(r"^Extra inputs are not permitted$"), N_("This field is not expected here.")),
)


def translate_message(message: str, params: Mapping[str, Any] | None = None) -> str:
    """Translates a message shown to a person, including pydantic's validation messages;
    `params` fill a catalogue message's placeholders once it is in the reader's language,
    a date in the reader's words."""
    if not message:
        return ""
    translated = gettext_(message)
    if params:
        return translated % {name: _said_value(value) for name, value in params.items()}
    if translated != message:
        return translated
    for pattern, template in _PYDANTIC_PATTERNS:
        match = pattern.match(message)
        if match:
            return (
                gettext_(template) % match.groupdict() if match.groupdict() else gettext_(template)
            )
    return message


def _said_value(value: object) -> object:
    """A message's value as the reader writes it: a date in their words (10 déc. 2026)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, format="medium", locale=current_locale.get())
    return value


def fold(text: str) -> str:
    """Folds case and accents away, so that 'Épidémiologie' matches 'epidemio'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


@cache
def country_names(locale: str) -> tuple[tuple[str, str], ...]:
    """Lists (ISO code, name) of every country and territory, sorted by name in this locale."""
    territories = Locale.parse(locale).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: fold(pair[1])))


@cache
def _country_lookup(locale: str) -> dict[str, str]:
    return dict(country_names(locale))


def country_name(code: str, locale: str | None = None) -> str:
    """Gets a country's name in the current locale ('' for '')."""
    if not code:
        return ""
    return _country_lookup(locale or current_locale.get()).get(code, code)


# The country each time zone is in (CLDR's; "ZZ" where none is: Etc/GMT+1).
_ZONE_TERRITORIES: Mapping[str, str] = get_global("zone_territories")


@cache
def _timezone_words(zone: str, locale: str) -> tuple[str, str]:
    """Gets a time zone's city and where it is, in a locale's words (Dakar; Dakar (Sénégal)).

    Where it is reads as its city and country, not as CLDR's region format ("heure : Sénégal",
    "Canada (Toronto) Time"), which repeats the "Time zone" its label already says."""
    if "/" not in zone:
        return zone, zone  # UTC: Babel would call it an unknown region
    try:
        city = get_timezone_location(zone, locale=locale, return_city=True)
    except (LookupError, ValueError):
        fallback = zone.split("/", 1)[-1].replace("_", " ").replace("/", " – ")
        return fallback, zone
    territory = _ZONE_TERRITORIES.get(zone, "ZZ")
    country = _country_lookup(locale).get(territory, territory)
    if territory == "ZZ" or fold(country) == fold(city):
        return city, city  # Atlantic/Cape_Verde is "Cabo Verde", not "Cabo Verde (Cabo Verde)"
    return city, f"{city} ({country})"


def timezone_city(zone: str, locale: str | None = None) -> str:
    """Gets the city a time zone is named after, in the current locale (Dakar / داكار)."""
    return _timezone_words(zone, locale or current_locale.get())[0] if zone else ""


def timezone_name(zone: str, locale: str | None = None) -> str:
    """Gets a time zone as a person reads it, in the current locale (Dakar (Senegal))."""
    return _timezone_words(zone, locale or current_locale.get())[1] if zone else ""


@cache
def language_names(locale: str) -> tuple[tuple[str, str], ...]:
    """Lists (ISO 639-1 code, name) of the languages people write, sorted by name."""
    languages = Locale.parse(locale).languages
    pairs = [
        (code, name[:1].upper() + name[1:])
        for code, name in languages.items()
        if len(code) == 2 and code.isalpha() and code.islower()
    ]
    return tuple(sorted(pairs, key=lambda pair: fold(pair[1])))


@cache
def _language_lookup(locale: str) -> dict[str, str]:
    return dict(language_names(locale))


def language_name(code: str, locale: str | None = None) -> str:
    """Gets a language's name in the current locale."""
    return _language_lookup(locale or current_locale.get()).get(code, code)


@cache
def timezone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Groups the IANA time zones by area (Africa, America...), leaving legacy aliases out."""
    groups: dict[str, list[str]] = {}
    for name in available_timezones():
        area, _, rest = name.partition("/")
        if not rest or area in ("Etc", "SystemV", "US", "Canada", "Brazil", "Mexico", "Chile"):
            continue
        groups.setdefault(area, []).append(name)
    ordered = sorted(groups.items())
    return (("Other", ("UTC",)), *((area, tuple(sorted(names))) for area, names in ordered))
