"""Shared fixtures: one migrated database per backend, emptied between tests; an app and clients."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import service.models  # noqa: F401  (registers every table)
import tests.strategies  # noqa: F401  (loads the hypothesis profile)
from matching.encoders import Encoder, load_encoder
from service.config import Settings
from service.db import make_engine, migrate
from service.main import create_app
from service.search import SearchBackend
from service.search.factory import make_search_backend
from service.security import CSRF_COOKIE, SessionSigner
from service.state import AppState
from tests.pg_schemas import fresh_schema

PG_URL = os.environ.get("HOMEWARD_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _worker() -> str:
    return re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))


def _pg_engine_for_worker() -> Engine:
    # One schema per checkout and worker: several checkouts may test against one server at once.
    checkout = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
    schema = f"hw_test_{checkout}_{_worker()}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        fresh_schema(connection, schema)
    admin.dispose()
    separator = "&" if "?" in PG_URL else "?"
    return make_engine(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database migrated to head once per backend and test worker."""
    if request.param == "postgresql":
        engine = _pg_engine_for_worker()
    else:
        path = tmp_path_factory.mktemp("db") / "homeward.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated database, empty at the start of each test."""
    _empty_all_tables(migrated_engine)
    yield migrated_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Test settings: a throwaway data folder and a fixed secret."""
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        load_encoder=False,
    )


@pytest.fixture
def search_backend(settings: Settings, engine: Engine) -> Iterator[SearchBackend]:
    """The embedded search backend of the test database, empty at the start of each test."""
    backend = make_search_backend(settings, engine)
    backend.drop()
    backend.ensure_indexes()
    yield backend
    backend.close()


@pytest.fixture
def app_state(settings: Settings, engine: Engine, search_backend: SearchBackend) -> AppState:
    """The application state around the test database."""
    return AppState(
        settings=settings,
        engine=engine,
        signer=SessionSigner(settings.secret_key, max_age_s=settings.session_max_age_s),
        search=search_backend,
    )


@pytest.fixture
def client(app_state: AppState) -> Iterator[TestClient]:
    """An anonymous browser on the site."""
    app = create_app(state=app_state)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def make_client(app_state: AppState) -> Iterator[Callable[[], TestClient]]:
    """Makes more browsers on the same site (one per user in a journey)."""
    clients: list[TestClient] = []

    def factory() -> TestClient:
        test_client = TestClient(create_app(state=app_state), follow_redirects=False)
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield factory
    for test_client in clients:
        test_client.__exit__(None, None, None)


def csrf_token(client: TestClient) -> str:
    """Gets the browser's CSRF token, visiting the site first if it has none yet."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/")
    return client.cookies[CSRF_COOKIE]


def login(client: TestClient, email: str, password: str) -> None:
    """Logs a browser in through the real form."""
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303, response.text


@pytest.fixture(scope="session")
def hashing() -> Encoder:
    """The bundled hashing encoder: deterministic and instant, for tests of what the service
    does with vectors rather than of their quality."""
    return load_encoder("hashing")
