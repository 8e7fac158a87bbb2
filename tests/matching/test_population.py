"""The spread of the index along a query, kept in step with changes, equals a fresh scan."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from matching.index import VectorIndex
from matching.matcher import Matcher
from matching.population import BlockMoments
from matching.records import ExpertRecord, NeedRecord

BLOCKS = ((0, 8), (8, 20), (24, 30))


def _rows(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal((n, 32)).astype(np.float32)


def _scan(index: VectorIndex, block: int, query: np.ndarray) -> tuple[float, float]:
    scores = index.block_rows(np.arange(len(index)), block).astype(np.float64) @ query
    return float(scores.mean()), float(scores.std())


@pytest.mark.parametrize("storage", ["int8", "float32"])
def test_moments_follow_upserts_and_removals(storage: str) -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex(32, blocks=BLOCKS, storage=storage)  # type: ignore[arg-type]
    index.upsert([f"e{i}" for i in range(50)], _rows(rng, 50))
    moments = BlockMoments(index)
    # Replacements (some repeated in one batch), additions and removals, counted as they happen.
    ids = ["e3", "e7", "e3", "new1", "new2"]
    rows = np.array(sorted({index.row(i) for i in ids if i in index}))
    moments.add(rows, -1.0)
    index.upsert(ids, _rows(rng, len(ids)))
    moments.add(np.array(sorted({index.row(i) for i in ids})))
    for gone in ("e0", "new1", "e49"):
        moments.add(np.array([index.row(gone)]), -1.0)
        index.remove([gone])
    assert moments.count == len(index) == 49
    for block, (start, stop) in enumerate(BLOCKS):
        query = rng.standard_normal(stop - start)
        mean, std = moments.mean_std(block, query)
        expected_mean, expected_std = _scan(index, block, query)
        assert mean == pytest.approx(expected_mean, abs=1e-6)
        assert std == pytest.approx(expected_std, rel=1e-5)


def test_rank_needs_scores_equal_a_fresh_matcher_after_changes(
    make_matcher: Callable[[list[ExpertRecord]], Matcher],
) -> None:
    experts = [
        ExpertRecord(f"x{i}", headline, skills=skills)
        for i, (headline, skills) in enumerate(
            [
                ("Epidemiologist", ["epidemiology", "biostatistics"]),
                ("Civil engineer", ["bridges", "concrete"]),
                ("Agronomist", ["soil", "irrigation"]),
                ("Nurse educator", ["nursing", "teaching"]),
                ("Data engineer", ["python", "databases"]),
            ]
        )
    ]
    needs = [
        NeedRecord("n1", "Teach epidemiology", "Epidemiology and biostatistics course"),
        NeedRecord("n2", "Irrigation plan", "Soil and irrigation for a farm"),
    ]
    live = make_matcher(experts)
    live.rank_needs(experts[0], needs)  # builds the moments, then keeps them in step
    changed = ExpertRecord("x1", "Bridge and irrigation engineer", skills=["irrigation"])
    live.index_experts([changed, ExpertRecord("x9", "Statistician", skills=["statistics"])])
    live.remove("x4")
    world = [changed if e.expert_id == "x1" else e for e in experts if e.expert_id != "x4"]
    fresh = make_matcher([*world, ExpertRecord("x9", "Statistician", skills=["statistics"])])
    for expert in world:
        got = live.rank_needs(expert, needs, explain=False)
        expected = fresh.rank_needs(expert, needs, explain=False)
        assert [c.need_id for c in got] == [c.need_id for c in expected]
        for a, b in zip(got, expected, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)


@pytest.mark.parametrize("storage", ["int8", "float32"])
def test_joint_moments_give_the_spread_of_queries_across_blocks(storage: str) -> None:
    rng = np.random.default_rng(5)
    index = VectorIndex(32, blocks=BLOCKS, storage=storage)  # type: ignore[arg-type]
    # Correlated blocks: the spread of a sum across blocks is not the sum of the spreads.
    base = _rows(rng, 60)
    base[:, 8:16] += 2.0 * base[:, 0:8]
    index.upsert([f"e{i}" for i in range(60)], base)
    moments = BlockMoments(index, joint=True)
    moments.add(np.array([index.row("e5")]), -1.0)
    index.upsert(["e5", "new"], _rows(rng, 2))
    moments.add(np.array(sorted({index.row("e5"), index.row("new")})))
    moments.add(np.array([index.row("e9")]), -1.0)
    index.remove(["e9"])
    stored = np.concatenate(
        [index.block_rows(np.arange(len(index)), b) for b in range(len(BLOCKS))], axis=1
    ).astype(np.float64)
    query = rng.standard_normal(stored.shape[1])
    mean, std = moments.mean_std_of(query)
    assert mean == pytest.approx(float((stored @ query).mean()), abs=1e-6)
    assert std == pytest.approx(float((stored @ query).std()), rel=1e-5)
    # Each block's own moments are the joint ones' diagonal blocks.
    for block, (start, stop) in enumerate(BLOCKS):
        part = rng.standard_normal(stop - start)
        expected_mean, expected_std = _scan(index, block, part)
        got_mean, got_std = moments.mean_std(block, part)
        assert got_mean == pytest.approx(expected_mean, abs=1e-6)
        assert got_std == pytest.approx(expected_std, rel=1e-5)


def test_block_moments_do_not_answer_for_queries_across_blocks() -> None:
    index = VectorIndex(32, blocks=BLOCKS)
    index.upsert(["a"], np.ones((1, 32), dtype=np.float32))
    with pytest.raises(ValueError):
        BlockMoments(index).mean_std_of(np.ones(26))
