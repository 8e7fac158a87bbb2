"""The in-memory vectors of hybrid search: neighbours among the allowed documents only, exact
or shortlisted by sign bits, and kept in step with additions, replacements and removals."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.search import semantic
from service.search.documents import EXPERTS_STAFF, NEEDS
from service.search.semantic import VectorMirror, to_blob


def clustered(n: int, dim: int = 32, seed: int = 3) -> np.ndarray:
    """Unit vectors around a few centres, as a model's vectors of related profiles are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dim))
    rows = centres[rng.integers(0, 8, n)] + 0.3 * rng.standard_normal((n, dim))
    rows += 2.0  # a direction every vector shares, as with real models
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def mirror_of(vectors: np.ndarray) -> VectorMirror:
    mirror = VectorMirror()
    mirror.apply((i + 1, 1, to_blob(v)) for i, v in enumerate(vectors))
    return mirror


def exact(vectors: np.ndarray, query: np.ndarray, ids: list[int], k: int) -> list[int]:
    scores = {i: float(vectors[i - 1] @ query) for i in ids}
    return sorted(scores, key=lambda i: -scores[i])[:k]


@pytest.mark.parametrize("exact_rows", [10_000, 50])
def test_neighbours_are_the_closest_allowed_documents(
    monkeypatch: pytest.MonkeyPatch, exact_rows: int
) -> None:
    monkeypatch.setattr(semantic, "EXACT_ROWS", exact_rows)
    vectors = clustered(2_000)
    mirror = mirror_of(vectors)
    query = vectors[41]
    everyone = list(range(1, 2_001))
    found = mirror.nearest(query, None, k=10)
    assert found[0] == 42
    assert len(set(found) & set(exact(vectors, query, everyone, 10))) >= 9
    allowed = set(range(1, 2_001, 3))
    kept = mirror.nearest(query, allowed, k=10)
    assert set(kept) <= allowed
    assert len(set(kept) & set(exact(vectors, query, sorted(allowed), 10))) >= 9


def test_removed_and_replaced_vectors_are_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "EXACT_ROWS", 50)
    vectors = clustered(500)
    mirror = mirror_of(vectors)
    query = vectors[9]
    # 500 rows > 50: this search derives the sign bits, which must then follow each change.
    assert mirror.nearest(query, None, k=1) == [10]
    # Document 10 leaves (the last row moves into its place); 500 takes its vector.
    mirror.apply([(10, 2, None), (500, 2, to_blob(query))])
    assert mirror.nearest(query, None, k=1) == [500]
    assert 10 not in mirror.nearest(query, None, k=100)
    assert mirror.nearest(query, {10, 11}, k=5) == [11]
    # An id never seen, or far beyond every known one, is simply not there.
    assert mirror.nearest(query, {10, 10**9}, k=5) == []


def test_a_query_of_another_dimension_finds_nothing() -> None:
    mirror = mirror_of(clustered(20))
    assert mirror.nearest([1.0, 0.0], None) == []


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    floor=st.floats(-1.0, 1.0),
    needs_floor=st.floats(-1.0, 1.0),
    k=st.integers(1, 60),
)
def test_each_index_returns_the_exact_top_k_that_clear_its_own_floor(
    seed: int, floor: float, needs_floor: float, k: int
) -> None:
    """Whatever the query: an experts' index returns exactly the nearest k whose cosine is at
    least DENSE_FLOOR, in order, and the needs' index those at least NEEDS_FLOOR."""
    vectors = clustered(300, seed=seed % 1000)
    query = np.random.default_rng(seed).standard_normal(32).astype(np.float32)
    unit = query / np.linalg.norm(query)
    ids = list(range(1, 301))
    nearest = exact(vectors, unit, ids, k)
    cosine = {i: float(vectors[i - 1] @ unit) for i in ids}
    staff, needs = VectorMirror(EXPERTS_STAFF), VectorMirror(NEEDS)
    for mirror in (staff, needs):
        mirror.apply((i + 1, 1, to_blob(v)) for i, v in enumerate(vectors))
    with (
        patch.object(semantic, "DENSE_FLOOR", floor),
        patch.object(semantic, "NEEDS_FLOOR", needs_floor),
    ):
        assert staff.nearest(query, None, k=k) == [i for i in nearest if cosine[i] >= floor]
        assert needs.nearest(query, None, k=k) == [i for i in nearest if cosine[i] >= needs_floor]
