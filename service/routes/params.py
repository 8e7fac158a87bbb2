"""Bounded id parameters: an id past what the database holds is a 422, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from service.schemas.common import MAX_ID

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
OptionalQueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

__all__ = ["MAX_ID", "Id", "OptionalQueryId", "QueryId"]
