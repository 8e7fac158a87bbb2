"""VectorIndex: incremental updates equal a rebuild; argpartition top-k equals brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.index import Storage, VectorIndex, top_k_indices


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


# --- compact (int8) storage -------------------------------------------------------------------

# One int8 step is 1/127 of a block's largest value; rounding errors average out over a block,
# so a dot product of unit blocks of a few hundred dimensions moves by about 1e-3 at most
# per block (three blocks here).
SCORE_TOLERANCE = 4e-3
BLOCKS = ((0, 384), (384, 768), (800, 1312))


def _block_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows normalised block by block, zero outside the blocks, like the matcher's."""
    rows = np.zeros((n, 1312), dtype=np.float32)
    for start, stop in BLOCKS:
        rows[:, start:stop] = _unit_rows(rng, n, stop - start)
    return rows


def test_int8_top_10_equals_float32_top_10_within_tolerance() -> None:
    rng = np.random.default_rng(7)
    rows = _block_rows(rng, 4000)
    ids = [f"e{i}" for i in range(len(rows))]
    exact = VectorIndex(1312, blocks=BLOCKS, storage="float32")
    compact = VectorIndex(1312, blocks=BLOCKS, storage="int8")
    exact.upsert(ids, rows)
    compact.upsert(ids, rows)
    identical = 0
    for query in _block_rows(rng, 50):
        reference = exact.scores(query)
        np.testing.assert_allclose(compact.scores(query), reference, atol=SCORE_TOLERANCE)
        wanted = [i for i, _ in exact.search(query, 10)]
        got = [i for i, _ in compact.search(query, 10)]
        identical += set(got) == set(wanted)
        # Any expert that differs is within the tolerance of the float32 10th best score...
        tenth = reference[exact.row(wanted[-1])]
        for item_id in set(got) ^ set(wanted):
            assert abs(reference[exact.row(item_id)] - tenth) <= 2 * SCORE_TOLERANCE
        # ...and the order only swaps experts whose float32 scores are that close.
        exact_scores = [reference[exact.row(i)] for i in got]
        for better, worse in zip(exact_scores, exact_scores[1:], strict=False):
            assert worse <= better + 2 * SCORE_TOLERANCE
    assert identical >= 40  # random rows crowd the top; real profiles spread out more


def test_int8_row_costs_a_byte_per_stored_column_plus_a_scale_per_block() -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex(1312, blocks=BLOCKS, storage="int8")
    exact = VectorIndex(1312, blocks=BLOCKS, storage="float32")
    assert index.bytes_per_row == 384 + 384 + 512 + 3 * 4
    assert exact.bytes_per_row == 4 * (384 + 384 + 512)
    rows = _block_rows(rng, 1000)
    index.upsert([f"e{i}" for i in range(1000)], rows)
    assert index.nbytes == 1000 * index.bytes_per_row
    # The columns between blocks are not stored and come back as zeros.
    vector = index.vector("e5")
    assert not vector[768:800].any()
    np.testing.assert_allclose(vector, rows[5], atol=rows[5].max() / 127)


def test_int8_updates_removals_and_repeated_ids() -> None:
    rng = np.random.default_rng(5)
    rows = _block_rows(rng, 6)
    index = VectorIndex(1312, capacity=2, blocks=BLOCKS, storage="int8")
    index.upsert(["a", "b", "c", "a"], rows[:4])  # a repeated id keeps its last vector
    assert list(index.ids) == ["a", "b", "c"]
    np.testing.assert_allclose(index.vector("a"), rows[3], atol=0.01)
    index.remove(["a"])
    np.testing.assert_allclose(index.vector("c"), rows[2], atol=0.01)
    assert [i for i, _ in index.search(rows[1], 1)] == ["b"]
    zero = np.zeros((1, 1312), dtype=np.float32)
    index.upsert(["z"], zero)  # an all-zero row scores 0, not NaN
    assert index.scores(rows[1])[index.row("z")] == 0.0


@settings(max_examples=25, deadline=None)
@given(
    reserved=st.integers(min_value=0, max_value=120),
    batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5),
    storage=st.sampled_from(["int8", "float32"]),
)
def test_a_reserved_index_fills_in_place_and_ranks_as_a_grown_one(
    reserved: int, batches: list[int], storage: Storage
) -> None:
    rng = np.random.default_rng(reserved)
    blocks = ((0, 8), (12, 24))
    grown = VectorIndex(24, capacity=1, blocks=blocks, storage=storage)
    index = VectorIndex(24, capacity=1, blocks=blocks, storage=storage)
    index.reserve(reserved)
    allocated = index._codes
    start = 0
    for size in batches:
        ids = [f"e{i}" for i in range(start, start + size)]
        rows = _unit_rows(rng, size, 24)
        grown.upsert(ids, rows)
        index.upsert(ids, rows)
        start += size
    # Rows up to the reserved count never move the array (no old-and-new copy at once).
    assert (index._codes is allocated) == (start <= max(reserved, 1))
    query = _unit_rows(rng, 1, 24)[0]
    assert list(index.ids) == list(grown.ids)
    assert index.search(query, 10) == grown.search(query, 10)
    np.testing.assert_array_equal(index.stored, grown.stored)
