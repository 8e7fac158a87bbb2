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

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from service.errors import FieldErrors
from service.timezones import country_table_zones

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

# The CLDR locale whose conventions each interface language follows: figures, dates, percentages,
# plural rules and the names of countries and languages. The Portuguese catalogue is European and
# African Portuguese (Portugal, Angola, Mozambique, Cabo Verde...), so it writes 12 345,6 and
# 01/12/2026 as Portugal does, not 12.345,6 as Babel's "pt" (Brazil) would.
CLDR_LOCALES: Mapping[str, str] = {"pt": "pt_PT"}

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def cldr_locale(locale: str | None = None) -> str:
    """Gets the CLDR locale an interface language formats with ('pt' -> 'pt_PT')."""
    chosen = locale or current_locale.get()
    return CLDR_LOCALES.get(chosen, chosen)


def lang_tag(locale: str | None = None) -> str:
    """Gets the BCP 47 tag an interface language is marked with, in `lang` attributes and for
    `Intl` in scripts: its CLDR locale, hyphenated ('pt' -> 'pt-PT', 'fr' -> 'fr')."""
    return cldr_locale(locale).replace("_", "-")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:  # noqa: N802 - N_ with a context (msgctxt)
    """Marks a message and its context for extraction; it is translated where it is shown."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - N_ for a plural message
    """Marks a plural message (both forms) for extraction; it is translated, by count, where it
    is shown."""
    return singular, plural


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


def pgettext_(context: str, message: str) -> str:
    """Translates a message in its context ("To" of an email, "To" of a period)."""
    return translations_for(current_locale.get()).pgettext(context, message)


def ngettext_(singular: str, plural: str, n: float) -> str:
    """Translates a message with a plural into the current request's locale; `n` may be a
    fraction (1.5 h), which takes the plural form CLDR gives it."""
    locale = current_locale.get()
    return translations_for(locale).ngettext(singular, plural, plural_count(n, locale))


# Whole numbers that reach every CLDR plural category of the UI locales (zero, one, two, few,
# many, other), each standing for the form the catalogue's Plural-Forms gives it.
_PLURAL_PROBES = (0, 1, 2, 3, 11, 100, 1_000_000)


@cache
def _plural_rule(locale: str) -> Any:
    return Locale.parse(cldr_locale(locale)).plural_form


def plural_categories(locale: str | None = None) -> tuple[tuple[str, int], ...]:
    """Lists a locale's CLDR plural categories, each with a whole number of it (one: 1)."""
    rule = _plural_rule(locale or current_locale.get())
    found: dict[str, int] = {}
    for n in _PLURAL_PROBES:
        found.setdefault(str(rule(n)), n)
    return tuple(found.items())


def plural_count(value: float, locale: str | None = None) -> int:
    """Gets the whole number that picks a count's plural form from a catalogue: the count itself
    when whole; for a fraction, a whole number of its CLDR category (1.5 h: 'other' in Arabic
    and Portuguese, 'one' in French), since gettext's Plural-Forms only reads whole numbers."""
    if isinstance(value, int):
        return value
    if float(value).is_integer():
        return int(value)
    rule = _plural_rule(locale or current_locale.get())
    category = rule(value)
    return next((n for n in _PLURAL_PROBES if rule(n) == category), 2)


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


# Readable, translatable names of the values stored in the database, each in its kind's context:
# "Open" is a need's state here and a button elsewhere, "Business" a sector and a kind of
# institution, "Active" an engagement (feminine in Spanish and Portuguese) and an expert.
LABELS: dict[str, dict[str, str]] = {
    "sector": {
        "health": NP_("sector", "Health"),
        "education": NP_("sector", "Education"),
        "engineering": NP_("sector", "Engineering"),
        "agriculture": NP_("sector", "Agriculture"),
        "finance": NP_("sector", "Finance"),
        "law": NP_("sector", "Law"),
        "public_administration": NP_("sector", "Public administration"),
        "technology": NP_("sector", "Technology"),
        "energy": NP_("sector", "Energy"),
        "water": NP_("sector", "Water"),
        "business": NP_("sector", "Business"),
        "research": NP_("sector", "Research"),
        "architecture": NP_("sector", "Architecture"),
        "environment": NP_("sector", "Environment"),
    },
    "mode": {
        "remote": NP_("mode", "Remote"),
        "mission": NP_("mode", "Short on-site mission"),
        "hybrid": NP_("mode", "Hybrid"),
    },
    "level": {
        "native": NP_("level", "Native"),
        "fluent": NP_("level", "Fluent"),
        "professional": NP_("level", "Professional"),
        "basic": NP_("level", "Basic"),
    },
    "need_status": {
        "draft": NP_("need_status", "Draft"),
        "open": NP_("need_status", "Open"),
        "filled": NP_("need_status", "Filled"),
        "closed": NP_("need_status", "Closed"),
    },
    "support": {
        "travel": NP_("support", "Travel"),
        "per_diem": NP_("support", "Per diem"),
        "stipend": NP_("support", "Stipend"),
        "accommodation": NP_("support", "Accommodation"),
    },
    "institution_type": {
        "university": NP_("institution_type", "University"),
        "hospital": NP_("institution_type", "Hospital"),
        # Not "Business": that is the sector's name, which no catalogue may call a company.
        "business": NP_("institution_type", "Company"),
        "agency": NP_("institution_type", "Public agency"),
        "ngo": NP_("institution_type", "NGO"),
    },
    "role": {
        "expert": NP_("role", "Expert"),
        "institution": NP_("role", "Institution member"),
        "coordinator": NP_("role", "Coordinator"),
        "admin": NP_("role", "Administrator"),
    },
    "visibility": {
        "institutions": NP_("visibility", "Institutions and coordinators"),
        "coordinators": NP_("visibility", "Coordinators only"),
    },
    "engagement_status": {
        "offered": NP_("engagement_status", "Offered"),
        "accepted": NP_("engagement_status", "Accepted"),
        "declined": NP_("engagement_status", "Declined"),
        "expired": NP_("engagement_status", "Expired"),
        "confirmed": NP_("engagement_status", "Confirmed"),
        "active": NP_("engagement_status", "Active"),
        "delivered": NP_("engagement_status", "Done, awaiting confirmation"),
        "completed": NP_("engagement_status", "Completed"),
        "cancelled": NP_("engagement_status", "Cancelled"),
    },
    # An offer, to the expert who received it (the other readers see "engagement_status", where
    # "Offered" is an offer sent): not to be read as a matcher's proposal ("Proposed").
    "engagement_status_to_expert": {
        "offered": NP_("engagement_status_to_expert", "Offer received"),
    },
    "proposal_status": {
        "proposed": NP_("proposal_status", "Proposed"),
        "approved": NP_("proposal_status", "Approved"),
        "rejected": NP_("proposal_status", "Rejected"),
        "withdrawn": NP_("proposal_status", "Withdrawn"),
    },
    "tz_area": {
        "Africa": NP_("tz_area", "Africa"),
        "America": NP_("tz_area", "America"),
        "Antarctica": NP_("tz_area", "Antarctica"),
        "Arctic": NP_("tz_area", "Arctic"),
        "Asia": NP_("tz_area", "Asia"),
        "Atlantic": NP_("tz_area", "Atlantic"),
        "Australia": NP_("tz_area", "Australia"),
        "Europe": NP_("tz_area", "Europe"),
        "Indian": NP_("tz_area", "Indian Ocean"),
        "Pacific": NP_("tz_area", "Pacific"),
        "Other": NP_("tz_area", "Other"),
    },
}


def label(kind: str, value: object) -> str:
    """Gets the translated name of a stored value (a sector, a mode, a status...)."""
    text = LABELS.get(kind, {}).get(str(value))
    return pgettext_(kind, text) if text else str(value)


def engagement_status_label(status: object, reader: object = None) -> str:
    """Gets the translated name of an engagement's status for its reader (the engagement
    view's "as"): an offer is one received by its expert, one sent for everyone else."""
    if str(reader) == "expert" and str(status) in LABELS["engagement_status_to_expert"]:
        return label("engagement_status_to_expert", status)
    return label("engagement_status", status)


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
    N_("Too many wrong passwords. Please wait a few minutes and try again."),
    N_("Some fields are not valid."),
    N_("An account already uses this email. Log in instead."),
    N_("This is not your current password."),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("This institution is already verified."),
    # Field errors of the schemas (service/schemas), in sentence case like every error message.
    N_("This field is required."),
    N_("This password is too short."),
    N_("The two passwords differ. Type the same new password twice."),
    N_("Use a two-letter country code (ISO 3166), e.g. SN."),
    N_("Choose a country."),
    N_("Choose a country from the list."),
    N_("Enter a web address, like https://example.org."),
    N_("Use a two-letter language code (ISO 639-1), e.g. fr."),
    N_("Use a time zone name such as Europe/Paris or Africa/Dakar."),
    N_("Enter a valid email address, like name@example.org."),
    N_("Choose one of the languages in the list."),
    N_("The end of your availability must not be before its start."),
    N_("The latest start must not be before the earliest start."),
    N_("The end date must not be before the start date."),
    N_("Write the agreed hours as a number above 0, or leave the field empty."),
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


# Pydantic's length messages: their unit agrees with the number (Arabic: 3 أحرف, 11 حرفًا).
_PYDANTIC_LENGTH = re.compile(
    r"^String should have (?P<bound>at least|at most) (?P<n>\d+) characters?$"
)


def _length_words(bound: str, n: int) -> str:
    if bound == "at least":
        words = ngettext_("Use at least %(n)s character.", "Use at least %(n)s characters.", n)
    else:
        words = ngettext_("Use at most %(n)s character.", "Use at most %(n)s characters.", n)
    return words % {"n": n}


def field_messages(problems: FieldErrors) -> dict[str, str]:
    """Says each field's problem of a refusal in the reader's language, its placeholders
    filled and a count in the reader's plural form."""
    said = {}
    for field, message in problems.errors.items():
        params = problems.field_params.get(field)
        plural = problems.plurals.get(field, "")
        count = (params or {}).get("num", 0)
        said[field] = translate_message(message, params, plural=plural, count=count)
    return said


def translate_message(
    message: str,
    params: Mapping[str, Any] | None = None,
    *,
    plural: str = "",
    count: float = 0,
) -> str:
    """Translates a message shown to a person, including pydantic's validation messages;
    `params` fill a catalogue message's placeholders once it is in the reader's language,
    a date in the reader's words. With `plural`, the message is a count's singular and
    `count` picks the reader's plural form."""
    if not message:
        return ""
    translated = ngettext_(message, plural, count) if plural else gettext_(message)
    if params:
        return translated % {name: _said_value(value) for name, value in params.items()}
    if translated != message:
        return translated
    if message != "String should have at least 1 character":  # a missing value: "required"
        length = _PYDANTIC_LENGTH.match(message)
        if length:
            return _length_words(length["bound"], int(length["n"]))
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
        return format_date(value, format="medium", locale=cldr_locale())
    return value


def fold(text: str) -> str:
    """Folds case and accents away, so that 'Épidémiologie' matches 'epidemio'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


# CLDR codes that are no place a person lives in or comes from: groupings and unknowns (EU, UN,
# QO "Outlying Oceania", ZZ), pseudo-locales (XA, XB), CLDR-only parts of other countries (AC, CP,
# CQ, DG, EA, IC, TA) and uninhabited territories (AQ, BV, GS, HM, IO, TF, UM). They are not offered
# nor accepted; a row stored with one before still shows its name.
_NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
    | {"AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
    | {"AQ", "BV", "GS", "HM", "IO", "TF", "UM"}
)


def _territories(locale: str) -> dict[str, str]:
    """Every CLDR territory with a two-letter code, by code, in a locale's words."""
    territories = Locale.parse(cldr_locale(locale)).territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}


@cache
def country_names(locale: str) -> tuple[tuple[str, str], ...]:
    """Lists (ISO code, name) of the countries and inhabited territories a person can choose,
    sorted by name in this locale."""
    pairs = [
        (code, name) for code, name in _territories(locale).items() if code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: fold(pair[1])))


def is_country(code: str) -> bool:
    """Tells whether a code is one of the countries a person can choose (SN yes, AQ no)."""
    return code in _country_choices()


@cache
def _country_choices() -> frozenset[str]:
    return frozenset(code for code, _ in country_names("en"))


@cache
def _country_lookup(locale: str) -> dict[str, str]:
    return _territories(locale)


def country_name(code: str, locale: str | None = None) -> str:
    """Gets a country's name in the current locale ('' for ''), also for a code no longer
    offered (AQ: Antarctica), so that old rows keep their words."""
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
        city = get_timezone_location(zone, locale=cldr_locale(locale), return_city=True)
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
    languages = Locale.parse(cldr_locale(locale)).languages
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


def timezone_groups(locale: str | None = None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Groups the IANA time zones by area (Africa, America...), each area's zones in the order
    of their cities' names in the current locale."""
    return _timezone_groups(locale or current_locale.get())


@cache
def _timezone_groups(locale: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    # Only the zones of the IANA country table: the others are legacy aliases (Europe/Kiev,
    # Asia/Chongqing) that read as the same city as their zone, so the list said "Kyiv" 4 times.
    groups: dict[str, list[str]] = {}
    for name in sorted(country_table_zones()):
        groups.setdefault(name.partition("/")[0], []).append(name)
    return (
        ("Other", ("UTC",)),
        *(
            (area, tuple(sorted(names, key=lambda zone: fold(timezone_city(zone, locale)))))
            for area, names in sorted(groups.items())
        ),
    )
