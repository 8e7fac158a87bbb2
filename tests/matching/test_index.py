"""VectorIndex: incremental updates equal a rebuild; argpartition top-k equals brute force."""

from __future__ import annotations

import numpy as np

from matching.index import VectorIndex, top_k_indices


def _unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_incremental_updates_equal_rebuild() -> None:
    rng = np.random.default_rng(0)
    vectors = {f"e{i}": v for i, v in enumerate(_unit_rows(rng, 300, 16))}
    index = VectorIndex(16, capacity=4)  # small capacity forces several regrowths
    index.upsert(list(vectors), np.stack(list(vectors.values())))
    removed = [f"e{i}" for i in range(0, 300, 7)]
    assert index.remove(removed + ["unknown"]) == len(removed)
    replaced = {
        f"e{i}": v for i, v in zip(range(1, 300, 11), _unit_rows(rng, 28, 16), strict=False)
    }
    index.upsert(list(replaced), np.stack(list(replaced.values())))
    expected = {k: v for k, v in vectors.items() if k not in removed} | replaced

    rebuilt = VectorIndex(16)
    rebuilt.upsert(list(expected), np.stack(list(expected.values())))

    assert sorted(index.ids) == sorted(expected)
    for item_id, vector in expected.items():
        np.testing.assert_array_equal(index.vector(item_id), vector)
    query = _unit_rows(rng, 1, 16)[0]
    assert index.search(query, 10) == rebuilt.search(query, 10)


def test_removing_the_last_row_and_readding_works() -> None:
    index = VectorIndex(2)
    index.upsert(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    index.remove(["b"])
    assert list(index.ids) == ["a"]
    index.upsert(["b"], np.array([[0.6, 0.8]], dtype=np.float32))
    assert [i for i, _ in index.search(np.array([0, 1], dtype=np.float32), 2)] == ["b", "a"]


def test_top_k_equals_brute_force_sort() -> None:
    rng = np.random.default_rng(1)
    matrix = _unit_rows(rng, 5000, 32)
    for _ in range(20):
        query = _unit_rows(rng, 1, 32)[0]
        scores = matrix @ query
        reference = np.argsort(-scores, kind="stable")[:10]
        np.testing.assert_array_equal(top_k_indices(scores, 10), reference)


def test_top_k_breaks_ties_by_position_and_caps_k() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1], dtype=np.float32)
    assert list(top_k_indices(scores, 3)) == [1, 3, 0]
    assert list(top_k_indices(scores, 50)) == [1, 3, 0, 2, 4]
    assert list(top_k_indices(scores, 0)) == []


def test_search_respects_allowed_mask() -> None:
    index = VectorIndex(2)
    index.upsert(["a", "b", "c"], np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32))
    allowed = np.array([False, True, True])
    hits = index.search(np.array([1, 0], dtype=np.float32), 5, allowed=allowed)
    assert [i for i, _ in hits] == ["b", "c"]
