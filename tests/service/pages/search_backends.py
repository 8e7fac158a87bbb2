"""Pages on every search backend: the database's own (FTS5 or PostgreSQL) and, when a server is
there (HOMEWARD_TEST_MEILI_URL), Meilisearch; a module overrides its `search_backend` fixture
with `params=SEARCH_BACKENDS`, yielding from `search_backend_of`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from service.config import Settings
from service.search import SearchBackend
from service.search.factory import make_search_backend
from service.search.meili import MeiliBackend

MEILI_URL = os.environ.get("HOMEWARD_TEST_MEILI_URL", "")
SEARCH_BACKENDS = [
    pytest.param("database", id="database-search"),
    pytest.param(
        "meilisearch",
        id="meilisearch",
        marks=pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set"),
    ),
]


def search_backend_of(kind: str, settings: Settings, engine: Engine) -> Iterator[SearchBackend]:
    """Gives a fresh backend of a kind for the test database (Meilisearch beside SQLite only)."""
    if kind == "database":
        backend = make_search_backend(settings, engine)
        backend.drop()
    elif engine.dialect.name != "sqlite":
        pytest.skip("the Meilisearch pages run once, beside SQLite")
    else:
        backend = MeiliBackend(
            url=MEILI_URL,
            api_key=os.environ.get("HOMEWARD_TEST_MEILI_KEY", ""),
            index_prefix=f"pages_{uuid.uuid4().hex[:10]}_",
        )
    backend.ensure_indexes()
    yield backend
    if kind == "meilisearch":
        backend.drop()
    backend.close()
