"""A hybrid query on a word most documents hold, on PostgreSQL: as on FTS5, its neighbours by
meaning come first and its matches are not all ranked, but every match is counted, exactly (from
the vocabulary for one word, else by counting), and its facets are estimated from a sample."""

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

from service.search import postgres
from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF, expert_documents
from service.search.postgres import PostgresBackend
from service.search.semantic import DENSE_DEPTH
from tests.search.conftest import DATABASE_URL, _drop_schema, _schema_engine
from tests.search.factories import expert

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")

TODAY = date(2025, 3, 10)
DIM = 8
SAMPLE = 60  # BROAD_MATCHES in these tests: small, so a small roster takes the broad path
WORDS = ["consultant", "consulting", "research", "teaches", "hospital", "santé", "données"]
SKILLS = ["epidemiology", "pediatrics", "cardiologie", "finance", "python"]


def _roster() -> list[dict[str, Any]]:
    """Three hundred generated experts: every one a consultant, most words held by many."""
    rng = random.Random(24)
    vectors = np.random.default_rng(24).standard_normal((300, DIM))
    roster = []
    for i in range(1, 301):
        skills = rng.sample(SKILLS, rng.randint(0, 2))
        record = expert(
            i,
            headline=rng.choice(["Consultant", "Consultant in health", "Data consultant"]),
            bio=" ".join(rng.choices(WORDS + skills, k=rng.randint(3, 12))),
            skills=skills,
            languages=rng.sample(["fr", "en", "ar", "wo"], rng.randint(1, 2)),
            origin_country=rng.choice(["SN", "MA", "GH"]),
            sectors=rng.sample(["health", "education", "technology"], rng.randint(1, 2)),
        )
        if rng.random() < 0.9:
            record["embedding"] = vectors[i - 1].tolist()
        roster.append(record)
    return roster


@pytest.fixture(scope="module")
def backend() -> Iterator[PostgresBackend]:
    engine, schema, admin = _schema_engine(DATABASE_URL)
    try:
        pg = PostgresBackend(engine=engine)
        roster = _roster()
        docs = [expert_documents(r)[EXPERTS_STAFF] for r in roster]
        pg.upsert(EXPERTS_STAFF, [d for d in docs if d is not None])
        # Edits and deletions after the fill: the vocabulary's counts follow them.
        edited = expert_documents({**roster[0], "bio": "Retired.", "headline": "Retired"})
        assert edited[EXPERTS_STAFF] is not None
        pg.upsert(EXPERTS_STAFF, [edited[EXPERTS_STAFF]])
        pg.delete(EXPERTS_STAFF, [2, 3, 999])
        yield pg
    finally:
        engine.dispose()
        _drop_schema(admin, schema)


def _exact(pg: PostgresBackend, query: SearchQuery) -> Any:
    """The same search with every match ranked (no broad path)."""
    saved = postgres.BROAD_MATCHES
    postgres.BROAD_MATCHES = 10**9
    try:
        return pg.search(EXPERTS_STAFF, query)
    finally:
        postgres.BROAD_MATCHES = saved


def _broad(pg: PostgresBackend, query: SearchQuery) -> Any:
    saved = postgres.BROAD_MATCHES
    postgres.BROAD_MATCHES = SAMPLE
    try:
        return pg.search(EXPERTS_STAFF, query)
    finally:
        postgres.BROAD_MATCHES = saved


def test_a_common_word_puts_its_neighbours_first_and_counts_every_match(
    backend: PostgresBackend,
) -> None:
    vector = np.random.default_rng(5).standard_normal(DIM).tolist()
    query = SearchQuery(
        text="consultant", vector=vector, facets=("languages",), per_page=20, today=TODAY
    )
    broad = _broad(backend, query)
    exact = _exact(backend, query)
    assert exact.total > SAMPLE  # the word is broad here
    # Every match is counted, and the neighbours by meaning the word misses once: exactly.
    assert broad.total == exact.total
    # The first page is the nearest neighbours, as the exact search ranks them by meaning alone.
    by_meaning = _exact(backend, dataclasses.replace(query, semantic_ratio=1.0))
    assert [h.id for h in broad.hits] == [h.id for h in by_meaning.hits]
    assert [h.document for h in broad.hits] == [h.document for h in by_meaning.hits]
    assert [h.highlights for h in broad.hits] == [h.highlights for h in by_meaning.hits]
    assert [h.score for h in broad.hits] == [h.score for h in by_meaning.hits]
    # Facets are estimated from the sample: near the exact counts, same values.
    estimated = {f.value: f.count for f in broad.facets["languages"]}
    counted = {f.value: f.count for f in exact.facets["languages"]}
    assert set(estimated) == set(counted)
    for value, count in counted.items():
        assert abs(estimated[value] - count) <= 0.25 * exact.total


def test_pages_after_the_neighbours_list_the_sample_by_rank(backend: PostgresBackend) -> None:
    vector = np.random.default_rng(6).standard_normal(DIM).tolist()
    query = SearchQuery(text="consultant", vector=vector, per_page=20, today=TODAY)
    seen: list[int] = []
    for page in (1, 2, 3, 4):
        hits = _broad(backend, dataclasses.replace(query, page=page)).hits
        seen += [h.id for h in hits]
    assert len(seen) == len(set(seen)) == 80
    after = _broad(backend, dataclasses.replace(query, page=3, per_page=20)).hits
    tail = [h for h in after if h.id not in seen[:DENSE_DEPTH]]
    scores = [h.score or 0.0 for h in tail]
    assert scores == sorted(scores, reverse=True)


def test_a_common_word_without_a_vector_ranks_every_match(backend: PostgresBackend) -> None:
    # The query model off or failing: nothing to put first, so the words rank every match.
    query = SearchQuery(
        text="consultant", embed=lambda _text: None, facets=("languages",), today=TODAY
    )
    keyword_only = dataclasses.replace(query, embed=None)
    assert _broad(backend, query) == _exact(backend, keyword_only)


@settings(max_examples=25, deadline=None)
@given(
    text=st.sampled_from(
        [
            "consultant",
            "consult",  # a prefix two words start with: counted, not read from the vocabulary
            "research",
            "teaches",
            "sante",
            "donnees",
            "consultant research",
            "health",
            "consultnt",  # corrected, then broad
            "ml",  # a synonym: counted
        ]
    ),
    filters=st.sampled_from([{}, {"languages": "fr"}, {"sectors": ["health", "education"]}]),
    seed=st.integers(0, 1000),
)
def test_a_broad_search_counts_what_ranking_every_match_counts(
    backend: PostgresBackend, text: str, filters: dict[str, Any], seed: int
) -> None:
    vector = np.random.default_rng(seed).standard_normal(DIM).tolist()
    query = SearchQuery(text=text, filters=filters, vector=vector, today=TODAY)
    broad, exact = _broad(backend, query), _exact(backend, query)
    assert broad.total == exact.total
    assert broad.suggestion == exact.suggestion
