"""Pagination parameters and envelope shared by list endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

PAGE_SIZE = 20

Item = TypeVar("Item")


class Page(BaseModel):
    number: int
    size: int

    @property
    def offset(self) -> int:
        """Gets the index of the page's first row."""
        return (self.number - 1) * self.size


async def get_page(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
) -> Page:
    """Reads ?page= and ?size=."""
    return Page(number=page, size=size)


PageDep = Annotated[Page, Depends(get_page)]


class PageOf(BaseModel, Generic[Item]):
    """One page of a list: past the last page, no items and still the total."""

    items: list[Item]
    total: int
    page: int
    size: int


def envelope(items: list[Any], *, total: int, page: Page) -> dict[str, Any]:
    """Wraps a page of results with the figures a client needs to page through them."""
    return {"items": items, "total": total, "page": page.number, "size": page.size}
