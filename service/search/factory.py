"""Picks the search backend the settings and the database call for."""

from __future__ import annotations

from sqlalchemy import Engine

from matching.encoders import member_block
from service.config import Settings
from service.search.base import SearchBackend
from service.search.fts5 import Fts5Backend
from service.search.meili import MeiliBackend
from service.search.postgres import PostgresBackend


def make_search_backend(
    settings: Settings, engine: Engine, *, embedding_dimensions: int | None = None
) -> SearchBackend:
    """Makes the backend: Meilisearch when configured, else full-text search in the database."""
    if settings.search_backend == "meilisearch":
        if embedding_dimensions is None:
            # The documents carry the query model's block of the stored vectors.
            block = member_block(settings.embedding_model, settings.search_query_model)
            embedding_dimensions = block.stop - block.start if block else None
        return MeiliBackend(
            url=settings.meili_url,
            api_key=settings.meili_key,
            index_prefix=settings.meili_index_prefix,
            embedding_dimensions=embedding_dimensions,
        )
    if engine.dialect.name == "postgresql":
        return PostgresBackend(engine=engine)
    return Fts5Backend(path=settings.search_path)
