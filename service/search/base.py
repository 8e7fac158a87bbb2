"""The search interface every backend implements, and the plain data it speaks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from matching.plausibility import plausible

Document = dict[str, Any]

# Markers that no user text contains: backends wrap matches in them, then `safe_highlight`
# escapes the text and turns them into <mark> tags, so highlights are safe HTML.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"


class SearchError(Exception):
    """Base class of every search failure."""


class UnknownIndex(SearchError, ValueError):  # noqa: N818
    """The index name is not one of the logical indexes."""


class BackendUnavailable(SearchError):  # noqa: N818
    """The search engine cannot be reached or did not answer in time (retry later)."""


class InvalidQuery(SearchError, ValueError):  # noqa: N818
    """A search parameter names something the index does not offer."""

    parameter = "query"

    def __init__(self, field: str, reason: str = "") -> None:
        self.field = field
        self.reason = reason or f"unknown {self.parameter} field {field!r}"
        super().__init__(self.reason)


class InvalidFilter(InvalidQuery):
    """A filter names an unknown field or carries a value of the wrong kind."""

    parameter = "filter"


class InvalidSort(InvalidQuery):
    """A sort key names a field that is not sortable."""

    parameter = "sort"


class InvalidFacet(InvalidQuery):
    """A facet names a field that is not facetable."""

    parameter = "facet"


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range filter; either bound may be open."""

    gte: int | None = None
    lte: int | None = None


FilterValue = str | int | bool | date | Range | Sequence[str | date]
# Embeds a search text for the semantic half of hybrid search (None: keywords only).
Embed = Callable[[str], Sequence[float] | None]


@dataclass(frozen=True)
class SearchQuery:
    """What a caller asks: text, filters, facets, sort, page, and optionally a query vector."""

    text: str = ""
    filters: Mapping[str, FilterValue] = field(default_factory=dict)
    facets: Sequence[str] = ()
    sort: Sequence[str] = ()
    page: int = 1
    per_page: int = 20
    highlight: bool = True
    vector: Sequence[float] | None = None
    # Without `vector`: embeds the text the backend ends up searching, once, when it knows it
    # (the correction of a typo, never the typo: an embedding costs more than the search).
    # Meilisearch embeds the typed text while its first request checks the words (on another
    # thread: the wait is the longer of the two, not their sum), then a typo's correction.
    embed: Embed | None = None
    semantic_ratio: float = 0.5
    today: date | None = None

    @property
    def semantic(self) -> bool:
        """Whether the query asks for the semantic half (a vector, or a text to embed)."""
        return self.vector is not None or self.embed is not None

    def vector_for(self, text: str) -> Sequence[float] | None:
        """Gets the query vector for the text searched: the one given, else the text embedded
        (None: keywords only, also when the text is not plausibly language: gibberish has
        neighbours by meaning too, `matching.plausibility`)."""
        if self.vector is not None:
            # A given vector is the typed text's (a caller embeds what was typed).
            return self.vector if plausible(self.text) else None
        if self.embed is None or not text.strip() or not plausible(text):
            return None
        return self.embed(text)


@dataclass(frozen=True)
class Hit:
    """One result: the stored document, a backend-specific score and safe-HTML highlights."""

    id: int
    document: Document
    score: float | None = None
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FacetCount:
    """How many matching documents carry one facet value."""

    value: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    """One page of results, the total number of matches and the requested facet counts."""

    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    # The query as corrected when the words typed matched nothing (a likely typo), else None.
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        """Counts the pages needed to show every match."""
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1


@runtime_checkable
class SearchBackend(Protocol):
    """A search engine holding the three logical indexes."""

    name: str
    # Set by `ensure_indexes` when it found an index in an older layout and started it empty:
    # its documents must be refilled from the database (the worker's `reindex_search` job).
    needs_reindex: bool

    def ensure_indexes(self) -> None:
        """Creates the indexes and applies their settings (idempotent)."""

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Adds or replaces index documents (already mapped by `documents.py`)."""

    def delete(self, index: str, ids: Sequence[int]) -> None:
        """Removes documents by id; unknown ids are ignored."""

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        """Runs a keyword (or hybrid) search with filters, facets, sort and pagination."""

    def lexical_scores(self, index: str, text: str, limit: int = 100) -> list[tuple[int, float]]:
        """Scores documents against any of the text's terms, best first (higher is better)."""

    def all_ids(self, index: str) -> set[int]:
        """Lists every document id held by an index."""

    def drop(self) -> None:
        """Removes every index and table this backend created."""

    def close(self) -> None:
        """Releases connections."""
