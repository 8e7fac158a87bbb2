"""Searching the roster and the open needs, each reader in the index made for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.core import policy
from service.core.policy import ExpertView, Reader
from service.errors import FieldErrors
from service.search import EXPERTS_PUBLIC, EXPERTS_STAFF, NEEDS, SearchBackend, SearchQuery
from service.search.base import Embed, FilterValue, InvalidQuery

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


@dataclass(frozen=True)
class SearchRequest:
    text: str
    params: dict[str, list[str]]
    page: int
    per_page: int = 20


# The index built for each view of the roster the access policy gives a reader.
EXPERT_INDEXES = {ExpertView.PRIVATE: EXPERTS_STAFF, ExpertView.SUMMARY: EXPERTS_PUBLIC}


def expert_index_for(reader: Reader) -> str:
    """Gets the index made for the reader: staff search everything, verified institutions only
    what experts let them see; anyone else is refused."""
    policy.require(reader, policy.Action.BROWSE_ROSTER)
    return EXPERT_INDEXES[policy.roster_view(reader)]


def search_experts(
    backend: SearchBackend, *, reader: Reader, request: SearchRequest, embed: Embed | None = None
) -> dict[str, Any]:
    """Searches experts with facets and highlights, in the reader's index and with the fields
    the policy shows them; with `embed`, by meaning too (only among the documents of that
    index the filters keep)."""
    index = expert_index_for(reader)
    view = policy.roster_view(reader)
    results = _run(backend, index, request, EXPERT_PARAMS, EXPERT_FACETS, embed)
    results["items"] = [
        {
            **policy.project_expert(item, view),
            "highlights": policy.project_expert(item["highlights"], view),
        }
        for item in results["items"]
    ]
    return results


def search_needs(
    backend: SearchBackend, *, request: SearchRequest, embed: Embed | None = None
) -> dict[str, Any]:
    """Searches the open needs with facets and highlights; with `embed`, by meaning too (only
    among the open needs the filters keep)."""
    return _run(backend, NEEDS, request, NEED_PARAMS, NEED_FACETS, embed)


def _run(
    backend: SearchBackend,
    index: str,
    request: SearchRequest,
    params: dict[str, str],
    facets: tuple[str, ...],
    embed: Embed | None = None,
) -> dict[str, Any]:
    filters: dict[str, FilterValue] = {}
    for name, values in request.params.items():
        if name not in params:
            raise FieldErrors({name: "unknown filter"})
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
        raise FieldErrors({reverse.get(exc.field, exc.field): str(exc)}) from exc
    return {
        "items": [{**hit.document, "highlights": hit.highlights} for hit in page.hits],
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "suggestion": page.suggestion or "",
        "facets": {
            reverse.get(name, name): [{"value": f.value, "count": f.count} for f in counts]
            for name, counts in page.facets.items()
        },
    }
