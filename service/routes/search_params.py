"""Reading ?q=, ?page= and repeated filter parameters into a search request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from service.core.search import SearchRequest
from service.errors import FieldErrors
from service.i18n import N_

RESERVED = frozenset({"q", "page", "size"})
MAX_FILTER_LENGTH = 100
MAX_TEXT_LENGTH = 10_000
MAX_PAGE = 1000
MAX_SIZE = 100
DEFAULT_SIZE = 20
# Why a search left a parameter out (a page) or refused it (the API's 422, naming it), in words
# the catalogue translates.
TOO_LONG = N_("This filter is too long.")
NOT_A_PAGE = N_("Choose a page number from the list.")


async def get_search_request(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_TEXT_LENGTH)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = DEFAULT_SIZE,
) -> SearchRequest:
    """Collects the text, the page and every other parameter as a filter (repeatable)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name in RESERVED or not value:
            continue
        if len(value) > MAX_FILTER_LENGTH:
            raise FieldErrors({name: TOO_LONG})
        params.setdefault(name, []).append(value)
    return SearchRequest(text=q, params=params, page=page, per_page=size)


async def get_search_page_request(request: Request) -> SearchRequest:
    """Collects a search page's request as `get_search_request` does, but leaves out what it
    cannot use (saying why) instead of refusing the page: a person sees the form again."""
    query = request.query_params
    rejected: dict[str, str] = {}
    params: dict[str, list[str]] = {}
    for name, value in query.multi_items():
        if name in RESERVED or not value:
            continue
        if len(value) > MAX_FILTER_LENGTH:
            rejected[name] = TOO_LONG
            continue
        params.setdefault(name, []).append(value)
    page = _number(query.get("page"), 1, MAX_PAGE)
    if page is None:
        rejected["page"] = NOT_A_PAGE
    return SearchRequest(
        text=query.get("q", "")[:MAX_TEXT_LENGTH],
        params=params,
        page=page or 1,
        per_page=_number(query.get("size"), DEFAULT_SIZE, MAX_SIZE) or DEFAULT_SIZE,
        rejected=rejected,
    )


def _number(value: str | None, default: int, high: int) -> int | None:
    """Reads a whole number from 1 to `high` (`default` when absent; None when not one)."""
    if not value:
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= high:
        return None
    return int(value)


SearchRequestDep = Annotated[SearchRequest, Depends(get_search_request)]
SearchPageRequestDep = Annotated[SearchRequest, Depends(get_search_page_request)]
