"""A hybrid query on a word most documents hold: every match counted, facets estimated from a
sample, neighbours by meaning first, and the page read in rank order."""

from __future__ import annotations

from datetime import date

import pytest

from service.search import fts5
from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF, expert_documents
from service.search.fts5 import Fts5Backend
from service.search.semantic import DENSE_DEPTH
from tests.search.factories import expert

TODAY = date(2025, 3, 10)


@pytest.fixture
def broad_backend(monkeypatch: pytest.MonkeyPatch) -> Fts5Backend:
    # Small thresholds keep the index small while taking the broad path.
    monkeypatch.setattr(fts5, "BROAD_MATCHES", 200)
    backend = Fts5Backend(path=":memory:")
    docs = []
    for i in range(1, 601):
        record = expert(
            i,
            languages=["fr"] if i % 3 == 0 else ["en"],
            embedding=[1.0, 0.0] if i != 7 else [0.0, 1.0],
        )
        doc = expert_documents(record)[EXPERTS_STAFF]
        assert doc is not None
        docs.append(doc)
    backend.upsert(EXPERTS_STAFF, docs)
    return backend


def test_a_broad_hybrid_query_counts_every_match_and_estimates_its_facets(
    broad_backend: Fts5Backend,
) -> None:
    query = SearchQuery(
        text="consultant", vector=[0.0, 1.0], facets=("languages",), per_page=5, today=TODAY
    )
    page = broad_backend.search(EXPERTS_STAFF, query)
    # Every match is counted; neighbours outside the 200-match sample are added again (they
    # match the word too), so the total may exceed it by at most DENSE_DEPTH.
    assert 600 <= page.total <= 600 + DENSE_DEPTH
    assert page.hits[0].id == 7  # the neighbour by meaning comes first
    counts = {f.value: f.count for f in page.facets["languages"]}
    assert abs(counts["en"] - 400) <= 40
    assert abs(counts["fr"] - 200) <= 40
    assert [h.document["id"] for h in page.hits] == [h.id for h in page.hits]


def test_a_broad_keyword_query_still_counts_every_facet_exactly(
    broad_backend: Fts5Backend,
) -> None:
    query = SearchQuery(text="consultant", facets=("languages",), today=TODAY)
    page = broad_backend.search(EXPERTS_STAFF, query)
    assert page.total == 600
    assert {f.value: f.count for f in page.facets["languages"]} == {"en": 400, "fr": 200}


def test_a_broad_query_whose_text_gets_no_vector_counts_every_match(
    broad_backend: Fts5Backend,
) -> None:
    # An embedder that gives no vector (the query model off or failing): the hybrid path's
    # sample is dropped for every match ranked by BM25, and every match is counted.
    query = SearchQuery(
        text="consultant", embed=lambda _text: None, facets=("languages",), today=TODAY
    )
    page = broad_backend.search(EXPERTS_STAFF, query)
    assert page.total == 600
    assert {f.value: f.count for f in page.facets["languages"]} == {"en": 400, "fr": 200}
    keyword_only = broad_backend.search(
        EXPERTS_STAFF, SearchQuery(text="consultant", facets=("languages",), today=TODAY)
    )
    assert [h.id for h in page.hits] == [h.id for h in keyword_only.hits]
