"""An embedded index left in an older layout is started empty at start-up and refilled from
the database by the worker: an upgrade never leaves search finding nobody."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.core.jobs import REINDEX_SEARCH
from service.main import build_state
from service.repos import jobs as jobs_repo
from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF
from service.search.fts5 import SCHEMA_VERSION
from service.worker.runner import Worker
from tests.factories import make_expert


def test_an_index_in_an_older_layout_is_refilled_by_the_worker(
    settings: Settings, engine: Engine, session: Session
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only the embedded backend has layout versions")
    expert = make_expert(session, headline="Épidémiologiste, santé publique")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.search_path) as old:  # what the release before left
        old.execute("CREATE TABLE experts_staff_docs (id INTEGER PRIMARY KEY, doc TEXT)")
        old.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    url = engine.url.render_as_string(hide_password=False)
    state = build_state(settings.model_copy(update={"database_url": url}))
    try:
        queued = jobs_repo.get_job_by_key(session, REINDEX_SEARCH)
        assert queued is not None and queued.status == "pending"
        found = state.search.search(EXPERTS_STAFF, SearchQuery(text="épidémiologiste"))
        assert found.total == 0  # started empty, as the new layout must
        Worker(state).tick()
        found = state.search.search(EXPERTS_STAFF, SearchQuery(text="épidémiologiste"))
        assert [hit.id for hit in found.hits] == [expert.id]
        session.expire_all()
        done = jobs_repo.get_job_by_key(session, REINDEX_SEARCH)
        assert done is not None and done.status == "done"
    finally:
        state.search.close()
        state.engine.dispose()


def test_a_current_index_queues_no_rebuild(
    settings: Settings, engine: Engine, session: Session
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    state = build_state(settings.model_copy(update={"database_url": url}))
    try:
        assert not state.search.needs_reindex
        assert jobs_repo.get_job_by_key(session, REINDEX_SEARCH) is None
    finally:
        state.search.close()
        state.engine.dispose()
