"""What only the PostgreSQL backend does: its vocabulary table catches up with older indexes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF
from service.search.postgres import GIN_PENDING_KB, STALE_STATISTICS_ROWS, PostgresBackend
from tests.search.conftest import DATABASE_URL, _drop_schema, _schema_engine
from tests.search.test_contract import ROSTER, TODAY, load

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")


@pytest.fixture
def engine_and_backend() -> Iterator[PostgresBackend]:
    engine, schema, admin = _schema_engine(DATABASE_URL)
    try:
        yield PostgresBackend(engine=engine)
    finally:
        engine.dispose()
        _drop_schema(admin, schema)


def test_an_index_built_before_the_vocabulary_existed_gets_one(
    engine_and_backend: PostgresBackend,
) -> None:
    backend = engine_and_backend
    load(backend, ROSTER)
    with backend.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {backend.vocab}"))
    restarted = PostgresBackend(engine=backend.engine)
    page = restarted.search(EXPERTS_STAFF, SearchQuery(text="cardiolgie", today=TODAY))
    assert [hit.id for hit in page.hits] == [3]
    assert page.suggestion == "cardiologie"


def test_the_vocabulary_counts_the_documents_holding_each_word(
    engine_and_backend: PostgresBackend,
) -> None:
    backend = engine_and_backend
    load(backend, ROSTER)
    load(backend, [{**ROSTER[0], "skills": ["cardiologie"]}])  # replaced, not added
    with backend.engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    f"SELECT term, ndoc FROM {backend.vocab} WHERE index_name = :i "
                    "AND term IN ('cardiologie', 'biostatistique')"
                ),
                {"i": EXPERTS_STAFF},
            ).all()
        )
    # Awa's bio still names biostatistique; her skills now say cardiologie, as Fatima's do.
    assert counts == {"cardiologie": 2, "biostatistique": 1}


def _last_analyze(backend: PostgresBackend) -> object:
    with backend.engine.connect() as conn:
        return conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relid = CAST(:t AS regclass)"),
            {"t": backend.docs},
        ).scalar_one()


def test_a_bulk_fill_refreshes_the_planner_statistics(
    engine_and_backend: PostgresBackend,
) -> None:
    """Right after a bulk fill the planner believed the tables empty and re-ran the text match
    once per facet row: a search at 2,000 documents took 50 s instead of 75 ms."""
    backend = engine_and_backend
    load(backend, ROSTER)  # a few documents: the planner's guess is left to autovacuum
    assert _last_analyze(backend) is None
    bulk = [
        {**ROSTER[n % len(ROSTER)], "id": 1000 + n}
        for n in range(STALE_STATISTICS_ROWS + len(ROSTER))
    ]
    backend.upsert(EXPERTS_STAFF, bulk)
    assert _last_analyze(backend) is not None
    with backend.engine.connect() as conn:
        believed = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
            {"t": backend.docs},
        ).scalar_one()
    assert believed >= len(bulk)


def test_documents_indexed_before_they_had_tags_get_them(
    engine_and_backend: PostgresBackend,
) -> None:
    """Keyword filters match the documents' facet tags: an index written before the tags
    existed gets them from its facet values when a process starts on it."""
    backend = engine_and_backend
    load(backend, ROSTER)
    with backend.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {backend.docs} DROP COLUMN tags"))
    restarted = PostgresBackend(engine=backend.engine)
    query = SearchQuery(filters={"languages": ["wo", "pt"]}, today=TODAY)
    assert sorted(hit.id for hit in restarted.search(EXPERTS_STAFF, query).hits) == [1, 4]
    load(restarted, [{**ROSTER[1], "languages": ["wo"]}])  # written with its tags
    assert sorted(hit.id for hit in restarted.search(EXPERTS_STAFF, query).hits) == [1, 2, 4]


def test_the_gin_indexes_keep_small_pending_lists(engine_and_backend: PostgresBackend) -> None:
    """A bulk fill left entries in a GIN index's pending list, which every scan reads whole:
    each typo's trigram lookup read most of the vocabulary."""
    backend = engine_and_backend
    backend.ensure_indexes()
    with backend.engine.begin() as conn:
        for name in backend._gin_indexes():
            conn.execute(text(f"ALTER INDEX {name} RESET (gin_pending_list_limit)"))
    PostgresBackend(engine=backend.engine).ensure_indexes()  # an index made before the limit
    with backend.engine.connect() as conn:
        options = {
            name: conn.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = to_regclass(:n)"), {"n": name}
            ).scalar()
            for name in backend._gin_indexes()
        }
    assert options == {
        name: [f"gin_pending_list_limit={GIN_PENDING_KB}"] for name in backend._gin_indexes()
    }
