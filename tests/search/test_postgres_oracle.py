"""The PostgreSQL search, which matches the words once, returns exactly the page the former SQL
(one matches CTE re-evaluated per count, facet and page; kept in tests/search/pg_oracle.py)
returned: hits in order with their scores, highlights and documents, the total, the facets and
the suggestion, for generated queries over one generated roster."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.search.base import Range, SearchQuery
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF, expert_documents
from service.search.postgres import PostgresBackend
from tests.search.conftest import DATABASE_URL, _drop_schema, _schema_engine
from tests.search.factories import expert
from tests.search.pg_oracle import OldSqlSearch

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")

TODAY = date(2025, 3, 10)
DIM = 8
SKILLS = [
    "épidémiologie",
    "biostatistique",
    "cardiologie",
    "pediatrics",
    "python",
    "machine learning",
    "irrigation",
    "comptabilité",
    "finance",
    "droit constitutionnel",
]
WORDS = ["teaches", "research", "hospital", "université", "santé", "data", "field", "clinic"]
# Query words: known ones, prefixes, typos (first letters too), accents dropped, unknown ones.
QUERY_WORDS = [
    *WORDS,
    "cardio",
    "cardiolgie",
    "acrdiologie",
    "epidemiologie",
    "pyhton",
    "financ",
    "universite",
    "zzzz",
    "expert",
    "lyon",
    "FR",
]
LANGUAGES = ["fr", "en", "ar", "wo", "pt"]
COUNTRIES = ["SN", "MA", "GH", "ML"]


def _roster() -> list[dict[str, Any]]:
    """Sixty generated experts, some without a vector, some unavailable, mixed cases."""
    rng = random.Random(13)
    vectors = np.random.default_rng(13).standard_normal((60, DIM))
    roster = []
    for i in range(1, 61):
        skills = rng.sample(SKILLS, rng.randint(0, 3))
        month = rng.randint(1, 12)
        record = expert(
            i,
            display_name=f"Expert {rng.choice(['Diop', 'Mensah', 'Benali', 'Ba'])} {i}",
            headline=rng.choice(["Consultant", "Cardiologue", "Data scientist", "Juriste"]),
            bio=" ".join(rng.choices(WORDS + skills, k=rng.randint(3, 30))),
            skills=skills,
            languages=rng.sample(LANGUAGES, rng.randint(1, 3)),
            origin_country=rng.choice(COUNTRIES),
            residence_country=rng.choice(["FR", "fr", "US", "CA"]),
            city=rng.choice(["Lyon", "Paris", "Dakar"]),
            sectors=rng.sample(["health", "education", "technology"], rng.randint(1, 2)),
            modes=rng.sample(["remote", "mission"], rng.randint(1, 2)),
            available_from=f"2025-{month:02d}-01" if rng.random() < 0.7 else None,
            available_until=f"2025-{month:02d}-28" if rng.random() < 0.3 else None,
            hours_per_month=rng.choice([5, 10, 20, 40]),
            active=rng.random() < 0.9,
        )
        if rng.random() < 0.8:
            record["embedding"] = vectors[i - 1].tolist()
        roster.append(record)
    return roster


@pytest.fixture(scope="module")
def backends() -> Iterator[tuple[PostgresBackend, OldSqlSearch]]:
    engine, schema, admin = _schema_engine(DATABASE_URL)
    try:
        backend = PostgresBackend(engine=engine)
        roster = _roster()
        for index in (EXPERTS_STAFF, EXPERTS_PUBLIC):
            docs = [expert_documents(r)[index] for r in roster]
            backend.upsert(index, [d for d in docs if d is not None])
        # Edits and deletions after the first fill (tombstones, replaced facet values).
        edited = expert_documents({**roster[0], "languages": ["ha"]})[EXPERTS_STAFF]
        assert edited is not None
        backend.upsert(EXPERTS_STAFF, [edited])
        backend.delete(EXPERTS_STAFF, [2, 3, 999])
        yield backend, OldSqlSearch(backend)
    finally:
        engine.dispose()
        _drop_schema(admin, schema)


filters = st.fixed_dictionaries(
    {},
    optional={
        "languages": st.lists(st.sampled_from([*LANGUAGES, "ha"]), min_size=1, max_size=2),
        "origin_country": st.sampled_from(COUNTRIES),
        "availability": st.sampled_from(["now", "2025-05", "2025-09"]),
        "hours_per_month": st.builds(
            Range, st.sampled_from([None, 5, 10]), st.sampled_from([None, 20, 40])
        ),
        "active": st.booleans(),
    },
)
queries = st.builds(
    SearchQuery,
    text=st.lists(st.sampled_from(QUERY_WORDS), max_size=3).map(" ".join),
    filters=filters,
    facets=st.lists(
        st.sampled_from(["languages", "origin_country", "residence_country", "availability"]),
        unique=True,
        max_size=4,
    ),
    sort=st.sampled_from([(), (), ("-hours_per_month",), ("available_from",)]),
    page=st.integers(1, 3),
    per_page=st.sampled_from([5, 20]),
    vector=st.one_of(
        st.none(),
        st.lists(st.floats(-1, 1, allow_nan=False), min_size=DIM, max_size=DIM),
    ),
    semantic_ratio=st.sampled_from([0.0, 0.5, 1.0]),
    today=st.just(TODAY),
)


@settings(max_examples=60, deadline=None)
@given(index=st.sampled_from([EXPERTS_STAFF, EXPERTS_PUBLIC]), query=queries)
def test_the_search_returns_what_the_former_sql_did(
    backends: tuple[PostgresBackend, OldSqlSearch], index: str, query: SearchQuery
) -> None:
    backend, oracle = backends
    if index == EXPERTS_PUBLIC and "active" in query.filters:
        query = dataclasses.replace(query, filters={})  # not a public filter
    assert backend.search(index, query) == oracle.search(index, query)
