"""The query embedder of hybrid search remembers the vectors of recent texts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.core.search_vectors import QueryEmbedder


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
