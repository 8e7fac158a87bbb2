"""What the PostgreSQL search takes from its vocabulary before matching (`postgres._Words`)
changes no page: a prefix only one word of the index starts with, matched as that word; a word
no document starts with, whose match is skipped; one word counted from the vocabulary; the
neighbours' ranks read with the page's documents; the neighbours worked out while the database
matches the words. Each page is compared with the same search
without those shortcuts (every statement run as before), for generated queries."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.search import postgres
from service.search.base import SearchPage, SearchQuery
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF, expert_documents
from service.search.postgres import PostgresBackend, _Words
from tests.search.conftest import DATABASE_URL, _drop_schema, _schema_engine
from tests.search.factories import expert

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")

TODAY = date(2025, 3, 10)
DIM = 8
SAMPLE = 40  # BROAD_MATCHES here, so that common words take the broad path
WORDS = ["data", "database", "finance", "hydrology", "santé", "research", "teaches", "clinic"]
# Whole words, prefixes of one word ("hydrol", "financ") or of several ("data", "dat"), typos,
# accents dropped, words no document holds, a synonym.
QUERY_WORDS = [
    *WORDS,
    "hydrol",
    "financ",
    "dat",
    "hyrdology",
    "fniance",
    "sante",
    "zzzz",
    "comptable",
    "ml",
    "expert",
]


def _roster() -> list[dict[str, Any]]:
    rng = random.Random(25)
    vectors = np.random.default_rng(25).standard_normal((160, DIM))
    roster = []
    for i in range(1, 161):
        record = expert(
            i,
            headline=rng.choice(["Consultant", "Data analyst", "Hydrology engineer"]),
            bio=" ".join(rng.choices(WORDS, k=rng.randint(2, 10))),
            skills=rng.sample(["finance", "hydrology", "machine learning", "data"], 2),
            languages=rng.sample(["fr", "en", "wo"], rng.randint(1, 2)),
            origin_country=rng.choice(["SN", "MA", "GH"]),
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
        for record in _roster():
            docs = expert_documents(record)
            for index in (EXPERTS_STAFF, EXPERTS_PUBLIC):
                doc = docs[index]
                if doc is not None:
                    pg.upsert(index, [doc])
        yield pg
    finally:
        engine.dispose()
        _drop_schema(admin, schema)


def _without_shortcuts(pg: PostgresBackend, index: str, query: SearchQuery) -> SearchPage:
    """The same search matching every word as typed, each statement run."""
    saved = (_Words.whole_last, _Words.match_nothing, _Words.count_one)
    flags = (postgres.PAGE_WITH_RANKS, postgres.OVERLAP)
    _Words.whole_last = lambda self: None  # type: ignore[method-assign]
    _Words.match_nothing = lambda self: False  # type: ignore[method-assign]
    _Words.count_one = lambda self: None  # type: ignore[method-assign]
    postgres.PAGE_WITH_RANKS = postgres.OVERLAP = False
    try:
        return pg.search(index, query)
    finally:
        _Words.whole_last, _Words.match_nothing, _Words.count_one = saved  # type: ignore[method-assign]
        postgres.PAGE_WITH_RANKS, postgres.OVERLAP = flags


def test_a_prefix_of_one_word_is_matched_as_that_word(backend: PostgresBackend) -> None:
    with backend.engine.connect() as conn:
        assert backend._read_words(conn, EXPERTS_STAFF, ["hydrol"]).whole_last() == "hydrology"
        assert backend._read_words(conn, EXPERTS_STAFF, ["dat"]).whole_last() is None
        words = backend._read_words(conn, EXPERTS_STAFF, ["data", "hyrdology"])
        assert words.match_nothing()
        assert words.known == frozenset({"data"})
        # The unknown word's correction candidates come with it (none for a known word).
        assert "hydrology" in dict(words.candidates["hyrdology"])
        assert "data" not in words.candidates


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3),
    filters=st.sampled_from([{}, {"languages": "fr"}, {"origin_country": ["SN", "GH"]}]),
    index=st.sampled_from([EXPERTS_STAFF, EXPERTS_PUBLIC]),
    hybrid=st.sampled_from(["keywords", "vector", "embed"]),
    page=st.sampled_from([1, 2, 3]),
    sort=st.sampled_from([(), ("hours_per_month",)]),
    seed=st.integers(0, 1000),
)
def test_the_pages_are_those_of_the_search_without_shortcuts(
    backend: PostgresBackend,
    words: list[str],
    filters: dict[str, Any],
    index: str,
    hybrid: str,
    page: int,
    sort: tuple[str, ...],
    seed: int,
) -> None:
    vector = np.random.default_rng(seed).standard_normal(DIM).tolist()
    embedded: list[str] = []

    def embed(text: str) -> list[float]:  # the web's query embedder: one vector per text
        embedded.append(text)
        rng = np.random.default_rng(abs(hash(text)) % 1000 + seed)
        return [float(x) for x in rng.standard_normal(DIM)]

    query = SearchQuery(
        text=" ".join(words),
        filters=filters,
        facets=("languages", "skills", "availability"),
        sort=sort,
        page=page,
        per_page=10,
        vector=vector if hybrid == "vector" else None,
        embed=embed if hybrid == "embed" else None,
        today=TODAY,
    )
    saved = postgres.BROAD_MATCHES
    postgres.BROAD_MATCHES = SAMPLE
    try:
        fast = backend.search(index, query)
        fast_embedded, embedded[:] = embedded[:], []
        slow = _without_shortcuts(backend, index, query)
    finally:
        postgres.BROAD_MATCHES = saved
    assert fast_embedded == embedded  # the text searched, once (a correction's, not the typo)
    assert [h.id for h in fast.hits] == [h.id for h in slow.hits]
    assert [h.score for h in fast.hits] == [h.score for h in slow.hits]
    assert [h.highlights for h in fast.hits] == [h.highlights for h in slow.hits]
    assert [h.document for h in fast.hits] == [h.document for h in slow.hits]
    assert (fast.total, fast.suggestion) == (slow.total, slow.suggestion)
    if fast.total <= SAMPLE:  # facets are exact counts (a broad search's are estimates)
        assert fast.facets == slow.facets
