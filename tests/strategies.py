"""Hypothesis strategies of valid payloads with realistic values, and the suite's profile.

Every write schema has a strategy here that draws what a person could really type: text in
the scripts the programme's people write (Latin with accents, Arabic, Cyrillic, Greek,
Devanagari, Ge'ez, Chinese), dates and date ranges, every optional field filled or empty.
The expected value after a round trip is the drawn value after the documented normalisation
(surrounding whitespace stripped, duplicates dropped, codes in their canonical case).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from itertools import count
from typing import Any
from zoneinfo import available_timezones

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from service.i18n import country_names, language_names, timezone_groups
from service.models import InstitutionType, LanguageLevel, Mode, NeedStatus, Support, Visibility
from service.models.experts import SECTORS
from service.models.users import LOCALES

# Fixed seed (derandomize) and few examples, so `make test` stays fast and repeatable;
# HOMEWARD_HYPOTHESIS_PROFILE=thorough explores more when hunting.
settings.register_profile(
    "homeward",
    derandomize=True,
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HOMEWARD_HYPOTHESIS_PROFILE", "homeward"))

# Letters of each script (no emoji, no control characters): words are drawn from one script.
SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "accents": "éèêëàâäçîïôöùûüÿñáíóúãõœæßÉÈÀÇÔÑÁÍÓÚÃÕ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئةى",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМН",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘ",
    "devanagari": "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "ethiopic": "ሀሁሂሃሄህሆለሉሊላሌልሎመሙሚማሜምሞሰሱሲሳሴስሶበቡቢባቤብቦ",
    "han": "中文学医生教育工程农业金融法律研究环境能源水技术",
    "digits": "0123456789",
}
# Latin and accented letters are the most common, Arabic next, then the rest.
_WEIGHTED = ["latin", "latin", "accents", "arabic", "arabic", "cyrillic", "greek", "devanagari"]
_WEIGHTED += ["ethiopic", "han", "digits"]
PUNCTUATION = "'-.()/+&"

COUNTRIES = tuple(code for code, _ in country_names("en"))
LANGUAGES = tuple(code for code, _ in language_names("en"))
# The zones the profile form offers, and every zone the schema accepts (aliases included).
OFFERED_TIMEZONES = tuple(zone for _, zones in timezone_groups() for zone in zones)
ALL_TIMEZONES = tuple(sorted(available_timezones()))
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2034, 12, 31)

_unique = count(1)


@st.composite
def words(draw: st.DrawFn, *, max_size: int = 12) -> str:
    """A word in one script, sometimes with an inner apostrophe or hyphen."""
    script = SCRIPTS[draw(st.sampled_from(_WEIGHTED))]
    word = draw(st.text(alphabet=script, min_size=1, max_size=max_size))
    if len(word) > 2 and draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(1, len(word) - 1))
        word = word[:cut] + draw(st.sampled_from("'-")) + word[cut:]
    return word


@st.composite
def phrases(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 80, separators: str = " "
) -> str:
    """Words joined by single spaces, within min_size..max_size characters once stripped;
    often short, sometimes right at the longest the field allows."""
    short = min(max_size, max(min_size, 40))
    pick = draw(st.integers(0, 9))
    if pick == 0:
        target = max_size
    elif pick < 3:
        target = draw(st.integers(min_size, max_size))
    else:
        target = draw(st.integers(min_size, short))
    # A dozen words at most are drawn; a longer text repeats them (few draws, any length).
    parts: list[str] = []
    length = 0
    while length < target and len(parts) < 12:
        word = draw(words())
        if parts and draw(st.integers(0, 7)) == 0:
            word = draw(st.sampled_from(PUNCTUATION)) + word
        parts.append(word)
        length += len(word) + (1 if len(parts) > 1 else 0)
    while length < target:
        parts = [*parts, *parts]
        length = length * 2 + 1
    text = draw(st.sampled_from(separators)).join(parts)[:max_size].strip()
    if len(text) < min_size:
        text = (text + " " + "x" * min_size)[:max_size].strip()
    return text


def optional_text(*, max_size: int, separators: str = " ") -> st.SearchStrategy[str]:
    """Empty, or a phrase."""
    return st.one_of(st.just(""), phrases(max_size=max_size, separators=separators))


def paragraphs(*, min_size: int = 0, max_size: int = 800) -> st.SearchStrategy[str]:
    """Lines of text, as typed in a text area (newlines inside, none around)."""
    return phrases(min_size=min_size, max_size=max_size, separators="  \n")


def padded(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """The same text, sometimes with spaces around it as people paste it."""
    return st.tuples(st.sampled_from(["", " ", "  "]), strategy, st.sampled_from(["", " "])).map(
        "".join
    )


def skills(*, max_size: int = 8, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    """Skill labels without list separators, unique (the form splits on , ; and newlines)."""
    return st.lists(
        phrases(max_size=200), min_size=min_size, max_size=max_size, unique_by=str.strip
    )


def dates() -> st.SearchStrategy[date]:
    """A day in the programme's horizon."""
    return st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)


@st.composite
def date_ranges(draw: st.DrawFn) -> tuple[date | None, date | None]:
    """A (from, until) pair, each optional; when both are given, until is on or after from."""
    first = draw(st.none() | dates())
    if first is None:
        return None, draw(st.none() | dates())
    last = draw(st.none() | st.integers(0, 800).map(lambda days: first + timedelta(days=days)))
    return first, min(last, LAST_DAY) if last else None


def unique_email() -> st.SearchStrategy[str]:
    """An address never drawn before in this run, sometimes in capitals or with accents."""
    local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz.é_", min_size=1, max_size=12).filter(
        lambda text: not text.startswith(".")
    )
    domain = st.sampled_from(["example.org", "Example.ORG", "ucad.sn", "univ-alger.dz"])

    def build(parts: tuple[str, str, bool]) -> str:
        name, host, shout = parts
        address = f"{name}.{next(_unique)}@{host}"
        return address.upper() if shout else address

    return st.tuples(local, domain, st.booleans()).map(build)


# What a need may be born as (service.schemas.needs.NeedCreate); an edit may set any status.
NEW_NEED_STATUSES = ("open", "draft")


@st.composite
def need_payloads(
    draw: st.DrawFn, *, statuses: tuple[str, ...] = tuple(str(s) for s in NeedStatus)
) -> dict[str, Any]:
    """What an institution posts (`statuses=NEW_NEED_STATUSES`) or writes over a need, as JSON."""
    start_from, start_until = draw(date_ranges())
    return {
        "title": draw(padded(phrases(min_size=3, max_size=200))),
        "description": draw(paragraphs(min_size=10, max_size=1500)),
        "required_skills": draw(skills(max_size=10)),
        "sector": draw(st.sampled_from(("", *SECTORS))),
        "mode": draw(st.sampled_from([str(m) for m in Mode])),
        "duration_weeks": draw(st.integers(1, 104)),
        "hours_per_week": draw(st.integers(1, 60)),
        "start_from": start_from.isoformat() if start_from else None,
        "start_until": start_until.isoformat() if start_until else None,
        "languages": draw(st.lists(st.sampled_from(LANGUAGES), max_size=5, unique=True)),
        "city": draw(optional_text(max_size=120)),
        "support": draw(st.lists(st.sampled_from([str(s) for s in Support]), unique=True)),
        "live_sessions": draw(st.booleans()),
        "status": draw(st.sampled_from(statuses)),
    }


def expected_need(payload: dict[str, Any]) -> dict[str, Any]:
    """What a need payload reads back as: text stripped."""
    return {
        **payload,
        "title": payload["title"].strip(),
        "required_skills": [skill.strip() for skill in payload["required_skills"]],
    }


@st.composite
def language_skills(draw: st.DrawFn) -> list[dict[str, str]]:
    """An expert's working languages, each once, with a level."""
    codes = draw(st.lists(st.sampled_from(LANGUAGES), max_size=4, unique=True))
    return [
        {"code": code, "level": draw(st.sampled_from([str(v) for v in LanguageLevel]))}
        for code in codes
    ]


@st.composite
def expert_payloads(
    draw: st.DrawFn, *, timezones: tuple[str, ...] = ALL_TIMEZONES
) -> dict[str, Any]:
    """What an expert writes on their profile, as JSON."""
    available_from, available_until = draw(date_ranges())
    return {
        "display_name": draw(padded(phrases(max_size=120))),
        "headline": draw(optional_text(max_size=200)),
        "bio": draw(st.just("") | paragraphs(max_size=1000)),
        "skills": draw(skills(max_size=12)),
        "languages": draw(language_skills()),
        "origin_country": draw(st.sampled_from(COUNTRIES)),
        "residence_country": draw(st.sampled_from(COUNTRIES)),
        "city": draw(optional_text(max_size=120)),
        "timezone": draw(st.sampled_from(timezones)),
        "modes": draw(st.lists(st.sampled_from([str(m) for m in Mode]), unique=True)),
        "hours_per_month": draw(st.integers(0, 200)),
        "available_from": available_from.isoformat() if available_from else None,
        "available_until": available_until.isoformat() if available_until else None,
        "sectors": draw(st.lists(st.sampled_from(SECTORS), max_size=4, unique=True)),
        "years_experience": draw(st.none() | st.integers(0, 70)),
        "education": draw(optional_text(max_size=200)),
        "phone": draw(
            st.just("") | st.from_regex(r"\+[1-9][0-9]{1,3}( [0-9]{2,4}){2,4}", fullmatch=True)
        ),
        "visibility": draw(st.sampled_from([str(v) for v in Visibility])),
        "consent_matching": draw(st.booleans()),
    }


def expected_expert(payload: dict[str, Any]) -> dict[str, Any]:
    """What an expert payload reads back as (consent is a moment, not a field)."""
    values = {key: value for key, value in payload.items() if key != "consent_matching"}
    values["display_name"] = payload["display_name"].strip()
    return values


@st.composite
def institution_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """What a member writes on their organisation's profile, as JSON."""
    return {
        "name": draw(padded(phrases(max_size=120))),
        "type": draw(st.sampled_from([str(t) for t in InstitutionType])),
        "country": draw(st.sampled_from(COUNTRIES)),
        "city": draw(optional_text(max_size=120)),
        "website": draw(
            st.just("")
            | st.from_regex(r"https://[a-z]{2,12}\.(org|sn|dz|edu)(/[a-z]{1,8})?", fullmatch=True)
        ),
        "description": draw(st.just("") | paragraphs(max_size=1000)),
    }


def expected_institution(payload: dict[str, Any]) -> dict[str, Any]:
    """What an institution payload reads back as."""
    return {**payload, "name": payload["name"].strip()}


@st.composite
def expert_registrations(draw: st.DrawFn) -> dict[str, Any]:
    """The expert registration form, as typed."""
    return {
        "display_name": draw(padded(phrases(max_size=120))),
        "email": draw(unique_email()),
        "password": draw(phrases(min_size=10, max_size=60)),
        "locale": draw(st.sampled_from(LOCALES)),
        "consent_matching": draw(st.booleans()),
    }


@st.composite
def institution_registrations(draw: st.DrawFn) -> dict[str, Any]:
    """The institution registration form, as typed."""
    institution = draw(institution_payloads())
    return {
        "display_name": draw(padded(phrases(max_size=120))),
        "email": draw(unique_email()),
        "password": draw(phrases(min_size=10, max_size=60)),
        "locale": draw(st.sampled_from(LOCALES)),
        "institution_name": institution["name"],
        "institution_type": institution["type"],
        "country": institution["country"],
        "city": institution["city"],
        "website": institution["website"],
    }


@st.composite
def engagement_terms(draw: st.DrawFn, *, started_by: date | None = None) -> dict[str, Any]:
    """The terms given with a move: dates (the start on or before `started_by`), mode, hours."""
    start, end = draw(date_ranges())
    if started_by is not None and start is not None and start > started_by:
        start, end = started_by, (max(end, started_by) if end else None)
    return {
        "start_date": start.isoformat() if start else None,
        "end_date": end.isoformat() if end else None,
        "mode": draw(st.none() | st.sampled_from([str(m) for m in Mode])),
        "agreed_hours": draw(st.none() | st.integers(1, 5000)),
    }


@st.composite
def feedback_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """One side's feedback, as JSON."""
    return {
        "rating": draw(st.integers(1, 5)),
        "delivered": draw(st.just("") | paragraphs(max_size=600)),
        "hours": draw(st.integers(0, 10000)),
        "would_repeat": draw(st.booleans()),
        "impact": draw(st.just("") | paragraphs(max_size=600)),
    }
