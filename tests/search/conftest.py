"""Fixtures for the search tests: every backend, fresh per test, and an outbox database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from service.models.search_outbox import SearchOutbox
from service.search.base import SearchBackend
from service.search.fts5 import Fts5Backend
from service.search.meili import MeiliBackend
from service.search.postgres import PostgresBackend
from tests.pg_schemas import fresh_schema

DATABASE_URL = os.environ.get("HOMEWARD_TEST_DATABASE_URL", "")
MEILI_URL = os.environ.get("HOMEWARD_TEST_MEILI_URL", "")
MEILI_KEY = os.environ.get("HOMEWARD_TEST_MEILI_KEY", "")
DIMENSIONS = 3


def _schema_engine(url: str) -> tuple[Engine, str, Engine]:
    """Creates a throwaway PostgreSQL schema and an engine whose search_path points at it."""
    schema = f"test_search_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        fresh_schema(conn, schema)
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema},public"})
    return engine, schema, admin


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drops a throwaway schema."""
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


BACKENDS = [
    pytest.param("fts5", id="fts5"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set"),
    ),
    pytest.param(
        "meilisearch",
        id="meilisearch",
        marks=pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set"),
    ),
]


@contextmanager
def fresh_backend(kind: str, *, dimensions: int) -> Iterator[SearchBackend]:
    """Makes a fresh, empty backend of a kind, whose vectors have these dimensions."""
    if kind == "fts5":
        fts = Fts5Backend(path=":memory:")
        yield fts
        fts.close()
    elif kind == "postgres":
        engine, schema, admin = _schema_engine(DATABASE_URL)
        pg = PostgresBackend(engine=engine)
        try:
            yield pg
        finally:
            engine.dispose()
            _drop_schema(admin, schema)
    else:
        meili = MeiliBackend(
            url=MEILI_URL,
            api_key=MEILI_KEY,
            index_prefix=f"test_{uuid.uuid4().hex[:10]}_",
            embedding_dimensions=dimensions,
        )
        try:
            yield meili
        finally:
            meili.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """Gives a fresh, empty backend of each kind available."""
    with fresh_backend(request.param, dimensions=DIMENSIONS) as made:
        yield made


@pytest.fixture
def outbox_engine() -> Iterator[Engine]:
    """Gives an in-memory SQLite database holding just the outbox table."""
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    SQLModel.metadata.create_all(engine, tables=[_outbox_table()])
    yield engine
    engine.dispose()


OUTBOX_DATABASES = [
    pytest.param("sqlite-file", id="sqlite-file"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set"),
    ),
]


@pytest.fixture(params=OUTBOX_DATABASES)
def shared_outbox_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """Gives an outbox database that separate connections really share (for concurrency)."""
    if request.param == "sqlite-file":
        engine = create_engine(
            f"sqlite:///{tmp_path / 'outbox.sqlite3'}",
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        SQLModel.metadata.create_all(engine, tables=[_outbox_table()])
        yield engine
        engine.dispose()
        return
    engine, schema, admin = _schema_engine(DATABASE_URL)
    SQLModel.metadata.create_all(engine, tables=[_outbox_table()])
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_schema(admin, schema)


def _outbox_table() -> Any:
    """Gets the outbox table object."""
    return SearchOutbox.__table__  # type: ignore[attr-defined]
