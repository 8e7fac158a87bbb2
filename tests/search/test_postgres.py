"""What only the PostgreSQL backend does: its vocabulary table catches up with older indexes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF
from service.search.postgres import PostgresBackend
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
