"""The query embedder of hybrid search remembers the vectors of recent texts, and a search
embeds only the text it searches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.config import Settings
from service.core.policy import Reader, ReaderKind
from service.core.search import SearchRequest, search_experts
from service.core.search_vectors import (
    MAX_QUERY_WORDS,
    QueryEmbedder,
    _embedder,
    query_embedder,
    search_embed,
)
from service.search.base import SearchPage, SearchQuery
from service.search.documents import EXPERTS_STAFF, expert_documents
from service.search.fts5 import Fts5Backend
from tests.search.factories import expert


class CountingEncoder:
    """Stands in for the query model and counts how often it is asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.calls.extend(texts)
        return np.array([[float(len(t)), 1.0, 0.0] for t in texts], dtype=np.float32)


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> tuple[QueryEmbedder, CountingEncoder]:
    encoder = CountingEncoder()
    monkeypatch.setattr("service.core.search_vectors.load_encoder", lambda *a, **k: encoder)
    return QueryEmbedder("e5", enabled=True, cached=2), encoder


def test_the_same_text_is_embedded_once(embedder: tuple[QueryEmbedder, Any]) -> None:
    model, encoder = embedder
    first = model.embed("pediatrician")
    again = model.embed("  pediatrician ")
    assert first == again == [12.0, 1.0, 0.0]
    assert encoder.calls == ["pediatrician"]


def test_a_changed_copy_leaves_the_remembered_vector_alone(
    embedder: tuple[QueryEmbedder, Any],
) -> None:
    model, _ = embedder
    vector = model.embed("nurse")
    assert vector is not None
    vector[0] = -1.0
    assert model.embed("nurse") == [5.0, 1.0, 0.0]


def test_the_least_recent_text_is_forgotten_first(embedder: tuple[QueryEmbedder, Any]) -> None:
    model, encoder = embedder
    for text in ("a b", "c d", "a b", "e f", "a b", "c d"):
        model.embed(text)
    # "c d" was forgotten when "e f" came (two remembered, "a b" used more recently).
    assert encoder.calls == ["a b", "c d", "e f", "c d"]


def test_no_vector_when_hybrid_search_is_off(embedder: tuple[QueryEmbedder, Any]) -> None:
    _, encoder = embedder
    assert QueryEmbedder("e5", enabled=False).embed("nurse") is None
    assert encoder.calls == []


def test_only_the_first_words_of_a_long_text_are_embedded(
    embedder: tuple[QueryEmbedder, Any],
) -> None:
    model, encoder = embedder
    words = [f"w{i}" for i in range(MAX_QUERY_WORDS + 10)]
    model.embed(" ".join(words))
    model.embed(" ".join([*words[:MAX_QUERY_WORDS], "other", "ending"]))
    assert encoder.calls == [" ".join(words[:MAX_QUERY_WORDS])]


def test_a_failing_model_turns_meaning_off_and_search_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("model file missing")

    monkeypatch.setattr("service.core.search_vectors.load_encoder", broken)
    model = QueryEmbedder("e5", enabled=True)
    assert model.embed("nurse") is None
    assert model.enabled is False
    assert model.embed("doctor") is None


class CountingBackend(Fts5Backend):
    """The embedded backend, counting the searches it runs."""

    searches = 0

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        self.searches += 1
        return super().search(index, query)


def test_a_misspelled_search_embeds_only_its_correction_in_one_search() -> None:
    backend = CountingBackend(path=":memory:")
    docs = [
        expert_documents(expert(1, headline="Pediatrician", embedding=[0.0, 1.0, 0.0])),
        expert_documents(expert(2, headline="Hydrologist", embedding=[1.0, 0.0, 0.0])),
    ]
    backend.upsert(EXPERTS_STAFF, [doc[EXPERTS_STAFF] for doc in docs if doc[EXPERTS_STAFF]])
    embedded: list[str] = []

    def embed(text: str) -> list[float]:
        embedded.append(text)
        return [0.0, 1.0, 0.0]

    results = search_experts(
        backend,
        reader=Reader(ReaderKind.COORDINATOR, user_id=1),
        request=SearchRequest(text="pediatrcian", params={}, page=1),
        embed=embed,
    )
    assert results["suggestion"] == "pediatrician"
    assert [item["id"] for item in results["items"]][0] == 1
    assert embedded == ["pediatrician"]  # the typo is never embedded
    assert backend.searches == 1


def test_the_query_model_computes_in_the_configured_precision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The web's query vectors and the worker's stored ones are named by one setting."""
    loads: list[dict[str, Any]] = []

    def load(*args: Any, **kwargs: Any) -> CountingEncoder:
        loads.append(kwargs)
        return CountingEncoder()

    monkeypatch.setattr("service.core.search_vectors.load_encoder", load)
    settings = Settings(embedding_precision="float32", secret_key="k" * 48)
    try:
        assert query_embedder(settings).embed("pédiatre") is not None
    finally:
        _embedder.cache_clear()  # the process's embedder now holds the counting encoder
    assert loads == [{"threads": 1, "precision": "float32"}]


def test_a_search_gets_no_embedder_while_the_query_model_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Off: the search takes the keyword path from the start (no embedder to call); on: the
    process's embedder, which embeds."""
    monkeypatch.setattr(
        "service.core.search_vectors.load_encoder", lambda *_a, **_k: CountingEncoder()
    )
    try:
        assert search_embed(Settings(load_encoder=False, secret_key="k" * 48)) is None
        embed = search_embed(Settings(load_encoder=True, secret_key="k" * 48))
        assert embed is not None
        assert embed("pédiatre") is not None
    finally:
        _embedder.cache_clear()
