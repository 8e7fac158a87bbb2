"""A page's address whose query holds a value the page cannot read (`?page=abc`, a status ten
thousand letters long): the same page without those values, each of which has a default, as a
person who edited the address or followed a mangled link would expect; a message in the reader's
language when that cannot be done (a form's field missing or mangled). An address
whose path cannot be read (`/institution/needs/abc`) names no page: "Page not found"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from service.i18n import N_

# Said when neither can be done: the names of the fields refused are the code's, not the page's.
UNREADABLE = N_("This page could not read what was sent. Please go back and try again.")


def path_unreadable(errors: Sequence[Any]) -> bool:
    """Tells whether FastAPI refused a part of the address's path (an id that is no number)."""
    return any(error["loc"][0] == "path" for error in errors)


def without_unreadable(request: Request, errors: Sequence[Any]) -> str | None:
    """The address of the same page without the query values it refused, when every refusal is
    of a value given in the query (not one missing, not a body's); None otherwise."""
    if request.method not in ("GET", "HEAD"):
        return None
    refused: set[str] = set()
    for error in errors:
        loc = error["loc"]
        if len(loc) < 2 or loc[0] != "query" or error["type"] == "missing":
            return None
        refused.add(str(loc[1]))
    given = request.query_params.multi_items()
    kept = [(name, value) for name, value in given if name not in refused]
    if len(kept) == len(given):
        return None  # nothing to drop: going back there would answer the same
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")
