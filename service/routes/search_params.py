"""Reading ?q=, ?page= and repeated filter parameters into a search request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from service.core.search import SearchRequest
from service.errors import FieldErrors

RESERVED = frozenset({"q", "page", "size"})
MAX_FILTER_LENGTH = 100


async def get_search_request(
    request: Request,
    q: Annotated[str, Query(max_length=10_000)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchRequest:
    """Collects the text, the page and every other parameter as a filter (repeatable)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name in RESERVED or not value:
            continue
        if len(value) > MAX_FILTER_LENGTH:
            raise FieldErrors({name: f"at most {MAX_FILTER_LENGTH} characters"})
        params.setdefault(name, []).append(value)
    return SearchRequest(text=q, params=params, page=page, per_page=size)


SearchRequestDep = Annotated[SearchRequest, Depends(get_search_request)]
