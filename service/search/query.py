"""Backend-neutral query processing: term extraction, synonyms, filter and sort validation."""

from __future__ import annotations

import calendar
import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from service.search.base import (
    MARK_CLOSE,
    MARK_OPEN,
    FilterValue,
    InvalidFacet,
    InvalidFilter,
    InvalidSort,
    Range,
)
from service.search.documents import SYNONYM_GROUPS, IndexSchema

MAX_SEARCH_TERMS = 10
MAX_LEXICAL_TERMS = 48
MAX_TERM_CHARS = 48
MAX_PER_PAGE = 100
MAX_FACET_VALUES = 100
AVAILABILITY_MONTHS = 6

# Days since 0001-01-01 bounding an open interval.
OPEN_START = 0
OPEN_END = 10_000_000

_WORD = re.compile(r"[^\W_]+")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# Words too common to carry meaning, in the five product languages. Dropped from queries
# (unless nothing else is left) so that long need descriptions do not match everything.
STOPWORDS = frozenset(
    """
    a an and are as at be by for from has have in is it its of on or that the this to was
    were will with we our you your they their who which what can also not no
    au aux avec ce ces dans de des du elle en et est il ils je la le les leur lui mais me
    nous on ou par pas pour qui que sa se ses son sur ta te un une vous y d l qu c s n
    al con del el en es las los para por se su sus una uno unos y o lo como mas
    ao aos as com da das do dos em na nas no nos os para pela pelo que um uma e
    في من على إلى عن مع هذا هذه التي الذي و أو ان أن
    """.split()  # noqa: SIM905
)


def fold(text: str) -> str:
    """Lower-cases and strips diacritics, the way the indexes compare words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str, *, limit: int = MAX_SEARCH_TERMS) -> list[str]:
    """Extracts the distinct words of a query, without operators, quotes or stopwords."""
    words: list[str] = []
    seen: set[str] = set()
    # Only look at a bounded prefix: a 10 kB query must stay cheap.
    for match in _WORD.finditer(unicodedata.normalize("NFC", text[:20_000]).casefold()):
        word = match.group()[:MAX_TERM_CHARS]
        key = fold(word)
        if key and key not in seen:
            seen.add(key)
            words.append(word)
    meaningful = [w for w in words if fold(w) not in STOPWORDS and w not in STOPWORDS]
    return (meaningful or words)[:limit]


def _synonym_table() -> dict[str, tuple[str, ...]]:
    """Maps each single-word synonym to the other expressions of its group."""
    table: dict[str, tuple[str, ...]] = {}
    for group in SYNONYM_GROUPS:
        for member in group:
            if " " not in member:
                table[fold(member)] = tuple(m for m in group if m != member)
    return table


_SYNONYMS = _synonym_table()


def synonyms(term: str) -> tuple[str, ...]:
    """Gets the alternative expressions (possibly several words) of a query term."""
    return _SYNONYMS.get(fold(term), ())


def phrase_words(expression: str) -> list[str]:
    """Splits a synonym expression into index words."""
    return [m.group() for m in _WORD.finditer(expression.casefold())]


@dataclass(frozen=True)
class KeywordClause:
    """Matches documents whose field holds any of the (folded) keys."""

    field: str
    keys: tuple[str, ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class NumberClause:
    """Matches documents whose numeric field lies in an inclusive range."""

    field: str
    gte: int | None
    lte: int | None


@dataclass(frozen=True)
class BoolClause:
    """Matches documents whose boolean field has the value."""

    field: str
    value: bool


@dataclass(frozen=True)
class WindowClause:
    """Matches documents whose date window overlaps any of the day spans."""

    field: str
    spans: tuple[tuple[int, int], ...]


Clause = KeywordClause | NumberClause | BoolClause | WindowClause


def keyword_key(value: str) -> str:
    """Gives the comparison key of a facet value (case-insensitive, as Meilisearch does)."""
    return str(value).strip().casefold()


def compile_filters(
    schema: IndexSchema, filters: Mapping[str, FilterValue], *, today: date
) -> list[Clause]:
    """Validates filters against the schema and turns them into clauses."""
    clauses: list[Clause] = []
    for name, value in filters.items():
        if name in schema.keywords:
            values = _strings(name, value)
            clauses.append(KeywordClause(name, tuple(keyword_key(v) for v in values), values))
        elif name in schema.numbers:
            if isinstance(value, Range):
                clauses.append(NumberClause(name, value.gte, value.lte))
            elif isinstance(value, int) and not isinstance(value, bool):
                clauses.append(NumberClause(name, value, value))
            else:
                raise InvalidFilter(name, f"filter {name!r} expects a number or a Range")
        elif name in schema.booleans:
            if not isinstance(value, bool):
                raise InvalidFilter(name, f"filter {name!r} expects true or false")
            clauses.append(BoolClause(name, value))
        elif name == schema.window.name:
            items = [value] if isinstance(value, str | date) else value
            if not isinstance(items, Sequence):
                raise InvalidFilter(name, f"filter {name!r} expects 'now', YYYY-MM or a date")
            clauses.append(WindowClause(name, tuple(window_span(name, v, today) for v in items)))
        else:
            raise InvalidFilter(name)
    return clauses


def _strings(name: str, value: FilterValue) -> tuple[str, ...]:
    """Accepts one string or a list of strings for a keyword filter."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise InvalidFilter(name, f"filter {name!r} expects text or a list of text")


def window_span(name: str, value: object, today: date) -> tuple[int, int]:
    """Turns 'now', a YYYY-MM month or a date into a span of days."""
    if isinstance(value, date):
        return value.toordinal(), value.toordinal()
    if value == "now":
        return today.toordinal(), today.toordinal()
    match = _MONTH.match(value) if isinstance(value, str) else None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= year <= 9999 and 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            return date(year, month, 1).toordinal(), date(year, month, last).toordinal()
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return day.toordinal(), day.toordinal()
    raise InvalidFilter(name, f"filter {name!r} expects 'now', YYYY-MM or YYYY-MM-DD")


def window_buckets(today: date) -> list[tuple[str, tuple[int, int]]]:
    """Lists the availability facet buckets: 'now', then this month and the next ones."""
    buckets = [("now", (today.toordinal(), today.toordinal()))]
    year, month = today.year, today.month
    for _ in range(AVAILABILITY_MONTHS):
        label = f"{year:04d}-{month:02d}"
        buckets.append((label, window_span("availability", label, today)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return buckets


def window_days(start: object, end: object) -> tuple[int, int]:
    """Turns a document's (possibly open) ISO date window into a span of days."""
    return _day(start, OPEN_START), _day(end, OPEN_END)


def _day(value: object, default: int) -> int:
    """Parses an ISO date into its ordinal, or returns the default when absent or invalid."""
    if isinstance(value, date):
        return value.toordinal()
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10]).toordinal()
        except ValueError:
            return default
    return default


@dataclass(frozen=True)
class SortKey:
    """One validated sort key."""

    field: str
    descending: bool


def parse_sort(schema: IndexSchema, sort: Sequence[str]) -> list[SortKey]:
    """Validates sort keys written 'field', '-field', 'field:asc' or 'field:desc'."""
    keys: list[SortKey] = []
    for raw in sort:
        name, descending = raw, False
        if raw.startswith("-"):
            name, descending = raw[1:], True
        elif ":" in raw:
            name, direction = raw.rsplit(":", 1)
            if direction not in ("asc", "desc"):
                raise InvalidSort(raw, f"sort direction must be asc or desc in {raw!r}")
            descending = direction == "desc"
        if name not in schema.sortable:
            raise InvalidSort(name)
        keys.append(SortKey(name, descending))
    return keys


def check_facets(schema: IndexSchema, facets: Sequence[str]) -> list[str]:
    """Validates the requested facet names."""
    for name in facets:
        if name not in schema.facetable:
            raise InvalidFacet(name)
    return list(dict.fromkeys(facets))


def check_page(page: int, per_page: int) -> tuple[int, int]:
    """Clamps pagination to sane bounds."""
    return max(1, int(page)), min(MAX_PER_PAGE, max(0, int(per_page)))


def safe_highlight(marked: str) -> str:
    """Escapes highlighted text for HTML and turns the match markers into <mark> tags."""
    escaped = html.escape(marked, quote=False)
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def strip_marks(text: str) -> str:
    """Removes marker characters a user may have typed, so they cannot forge highlights."""
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


def words_only(text: str) -> str:
    """Keeps only the words of a text, so a parser cannot glue them into emails or hosts."""
    return " ".join(_WORD.findall(text))


def searchable_text(value: object) -> str:
    """Renders a document field as indexable text (lists joined)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return strip_marks(" ; ".join(str(v) for v in value))
    return strip_marks(str(value))
