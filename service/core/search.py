"""Searching the roster and the open needs, each reader in the index made for them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from service.core import policy
from service.core.policy import ExpertView, Reader
from service.errors import FieldErrors
from service.i18n import N_
from service.search import EXPERTS_PUBLIC, EXPERTS_STAFF, NEEDS, SearchBackend, SearchQuery
from service.search.base import Embed, FilterValue, InvalidFilter, InvalidQuery
from service.search.query import window_span

EXPERT_FACETS = (
    "origin_country",
    "residence_country",
    "languages",
    "sectors",
    "modes",
    "availability",
)
NEED_FACETS = ("country", "languages", "sector", "mode", "start")
# Query parameter -> index field.
EXPERT_PARAMS = {
    "country": "origin_country",
    "residence": "residence_country",
    "language": "languages",
    "sector": "sectors",
    "mode": "modes",
    "available": "availability",
}
NEED_PARAMS = {
    "country": "country",
    "language": "languages",
    "sector": "sector",
    "mode": "mode",
    "start": "start",
}
# The filters that take 'now', a YYYY-MM month or a date.
WHEN_PARAMS = frozenset({"available", "start"})
# Why a search page left a parameter out, in words the page translates.
UNKNOWN_FILTER = N_("This search has no such filter.")
BAD_WHEN = N_("Choose “now”, a month such as 2027-01 or a date such as 2027-01-15.")
BAD_FILTER = N_("This value cannot be used as a filter.")


@dataclass(frozen=True)
class SearchRequest:
    text: str
    params: dict[str, list[str]]
    page: int
    per_page: int = 20
    # Parameters a search page could not use and left out, each with why (catalogue words).
    rejected: dict[str, str] = field(default_factory=dict)


def usable_request(request: SearchRequest, *, needs: bool) -> SearchRequest:
    """Leaves out the filters a search of experts (or of needs) cannot use, saying why, so that
    a page still searches with the rest."""
    known = NEED_PARAMS if needs else EXPERT_PARAMS
    rejected = dict(request.rejected)
    params: dict[str, list[str]] = {}
    for name, values in request.params.items():
        if name not in known:
            rejected[name] = UNKNOWN_FILTER
        elif name in WHEN_PARAMS and not all(_is_when(v) for v in values):
            rejected[name] = BAD_WHEN
        else:
            params[name] = values
    return replace(request, params=params, rejected=rejected)


def _is_when(value: str) -> bool:
    try:
        window_span("when", value, date.today())
    except InvalidFilter:
        return False
    return True


# The index built for each view of the roster the access policy gives a reader.
EXPERT_INDEXES = {ExpertView.PRIVATE: EXPERTS_STAFF, ExpertView.SUMMARY: EXPERTS_PUBLIC}


def expert_index_for(reader: Reader) -> str:
    """Gets the index made for the reader: staff search everything, verified institutions only
    what experts let them see; anyone else is refused."""
    policy.require(reader, policy.Action.BROWSE_ROSTER)
    return EXPERT_INDEXES[policy.roster_view(reader)]


def search_experts(
    backend: SearchBackend,
    *,
    reader: Reader,
    request: SearchRequest,
    embed: Embed | None = None,
    broaden: bool = False,
) -> dict[str, Any]:
    """Searches experts with facets and highlights, in the reader's index and with the fields
    the policy shows them; with `embed`, by meaning too (only among the documents of that
    index the filters keep); with `broaden`, says what a search that finds nothing would find
    with less (see `_broader`)."""
    index = expert_index_for(reader)
    view = policy.roster_view(reader)
    results = _run(backend, index, request, EXPERT_PARAMS, EXPERT_FACETS, embed, broaden)
    results["items"] = [
        {
            **policy.project_expert(item, view),
            "highlights": policy.project_expert(item["highlights"], view),
        }
        for item in results["items"]
    ]
    return results


def search_needs(
    backend: SearchBackend,
    *,
    request: SearchRequest,
    embed: Embed | None = None,
    broaden: bool = False,
) -> dict[str, Any]:
    """Searches the open needs with facets and highlights; with `embed`, by meaning too (only
    among the open needs the filters keep); with `broaden`, as `search_experts`."""
    return _run(backend, NEEDS, request, NEED_PARAMS, NEED_FACETS, embed, broaden)


def _run(
    backend: SearchBackend,
    index: str,
    request: SearchRequest,
    params: dict[str, str],
    facets: tuple[str, ...],
    embed: Embed | None = None,
    broaden: bool = False,
) -> dict[str, Any]:
    filters: dict[str, FilterValue] = {}
    for name, values in request.params.items():
        if name not in params:
            raise FieldErrors({name: UNKNOWN_FILTER})
        filters[params[name]] = values[0] if len(values) == 1 else values
    reverse = {field: name for name, field in params.items()}
    text = request.text[:500]
    query = SearchQuery(
        text=text,
        filters=filters,
        facets=facets,
        page=request.page,
        per_page=request.per_page,
        # The backend embeds the text it searches: a corrected typo's correction, not the typo.
        embed=embed if text.strip() else None,
    )
    try:
        page = backend.search(index, query)
    except InvalidQuery as exc:
        # The backend's own words (English, naming its fields) stay in the traceback.
        name = reverse.get(exc.field, exc.field)
        raise FieldErrors({name: BAD_WHEN if name in WHEN_PARAMS else BAD_FILTER}) from exc
    results: dict[str, Any] = {
        "items": [{**hit.document, "highlights": hit.highlights} for hit in page.hits],
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "suggestion": page.suggestion or "",
        "facets": {
            reverse.get(name, name): [{"value": f.value, "count": f.count} for f in counts]
            for name, counts in page.facets.items()
        },
        "broader": None,
    }
    if broaden and not page.total and (text.strip() or filters):
        broader = _broader(backend, index, query)
        results["facets"] = {
            reverse.get(name, name): counts for name, counts in broader.pop("facets").items()
        }
        results["broader"] = broader
    return results


def _broader(backend: SearchBackend, index: str, query: SearchQuery) -> dict[str, Any]:
    """For a search that found nothing: how many documents there are, how many it finds without
    its filters and without its words, and every facet value with what ticking it would find
    (zero, unless it joins a value ticked in the same facet)."""
    # Only counts are read: one hit a page.
    query = replace(query, page=1, per_page=1)
    every = backend.search(index, replace(query, text="", filters={}, embed=None))
    words, filters = bool(query.text.strip()), dict(query.filters)
    without_filters = without_words = None
    if filters:
        without_filters = (
            backend.search(index, replace(query, filters={})).total if words else every.total
        )
    if words:
        without_words = (
            backend.search(index, replace(query, text="", embed=None)).total
            if filters
            else every.total
        )
    counts = {name: {f.value: 0 for f in values} for name, values in every.facets.items()}
    for name in filters:
        if name in counts:
            others = {k: v for k, v in filters.items() if k != name}
            alone = backend.search(index, replace(query, filters=others))
            counts[name].update({f.value: f.count for f in alone.facets.get(name, [])})
    return {
        "every": every.total,
        "without_filters": without_filters,
        "without_words": without_words,
        "facets": {
            name: [{"value": value, "count": count} for value, count in values.items()]
            for name, values in counts.items()
        },
    }
