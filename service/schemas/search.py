"""Payloads of search results: one page of hits with facet counts and a typo suggestion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SearchHit(BaseModel):
    """One result: the fields of the index document the reader may see, and highlights."""

    model_config = ConfigDict(extra="allow")

    id: int
    highlights: dict[str, str]


class FacetCount(BaseModel):
    value: str
    count: int


class SearchResults(BaseModel):
    """One page of results, the total, the facet counts, and the corrected query if any."""

    items: list[SearchHit]
    total: int
    page: int
    pages: int
    suggestion: str
    facets: dict[str, list[FacetCount]]
