"""Experts with equal scores rank by expert id, whatever order the index holds them in.

Two processes hold the same experts in different index rows: a fresh one loads them in id
order, a long-running worker appends re-embedded experts and `VectorIndex.remove` moves the
last row into the hole. Profiles that say the same thing (or nothing the need asks for) score
alike, and such ties fall inside the top 10; both processes must still propose the same
experts in the same order, through the full scan, the feedback stage and the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.encoders import Encoder
from matching.fusion import FusionWeights
from matching.index import Storage, VectorIndex, top_k_indices
from matching.matcher import Matcher
from matching.pool import PoolRanker
from matching.records import ExpertRecord, NeedRecord
from tests.fusion_weights import document_and_lexical, with_feedback
from tests.matching.conftest import TODAY
from tests.matching.test_pool import NumpyPool

# A few kinds of profile, each held by several experts: many exactly equal scores.
PROFILES = [
    ("Water engineer", ["water", "irrigation", "hydrology"]),
    ("Nurse and midwife", ["nursing", "midwifery", "triage"]),
    ("Accountant", ["accounting", "audit", "finance"]),
    ("Software developer", ["software", "networks", "databases"]),
    ("Secondary school teacher", ["teaching", "mathematics", "curriculum"]),
]
EXPERTS = 24

NEEDS = [
    NeedRecord(
        "n1", "Irrigation for our farms", "Water and irrigation advice", ["irrigation"], ["en"]
    ),
    NeedRecord("n2", "Nursing training", "Train nurses in triage", ["nursing"], ["en"]),
    # Nobody's profile says anything about it: everyone ties.
    NeedRecord("n3", "Port logistics", "Customs and shipping schedules", ["logistics"], ["en"]),
]


def _experts() -> list[ExpertRecord]:
    experts = []
    for number in range(EXPERTS):
        headline, skills = PROFILES[number % len(PROFILES)]
        experts.append(
            ExpertRecord(
                expert_id=str(number + 1),
                headline=headline,
                skills=skills,
                bio=f"Twenty years of {skills[0]} and {skills[1]}.",
                languages=["en"],
                modes=["remote"],
                availability_confirmed_on=TODAY - timedelta(days=5),
            )
        )
    return experts


def _matcher(
    encoder: Encoder, weights: Callable[[str], FusionWeights], storage: Storage
) -> Matcher:
    return Matcher(encoder, weights_for=weights, today=lambda: TODAY, storage=storage)


def _in_id_order(
    encoder: Encoder, weights: Callable[[str], FusionWeights], storage: Storage
) -> Matcher:
    """The fresh process: every expert indexed in id order."""
    matcher = _matcher(encoder, weights, storage)
    matcher.index_experts(_experts())
    return matcher


def _shuffled(
    encoder: Encoder,
    weights: Callable[[str], FusionWeights],
    storage: Storage,
    order: list[int],
    moved: list[int],
) -> Matcher:
    """The long-running process: experts indexed in another order, then some removed and
    indexed again (their rows move to the end; the last rows fill the holes)."""
    experts = _experts()
    matcher = _matcher(encoder, weights, storage)
    matcher.index_experts([experts[i] for i in order])
    for i in moved:
        matcher.remove(experts[i].expert_id)
    matcher.index_experts([experts[i] for i in moved])
    return matcher


def _ranking(matcher: Matcher, need: NeedRecord) -> list[tuple[str, float]]:
    lexical = {"1": 2.0, "6": 2.0, "2": 1.0} if need.need_id == "n1" else {}
    ranked = matcher.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
    return [(c.expert_id, round(c.score, 4)) for c in ranked]


orders = st.permutations(list(range(EXPERTS)))
removals = st.lists(st.integers(0, EXPERTS - 1), max_size=8, unique=True)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("storage", ["int8", "float32"])
@pytest.mark.parametrize(
    "weights", [document_and_lexical, with_feedback(0.5)], ids=["plain", "feedback"]
)
@SETTINGS
@given(order=orders, moved=removals)
def test_tied_experts_rank_alike_in_any_index_order(
    hashing: Encoder,
    storage: Storage,
    weights: Callable[[str], FusionWeights],
    order: list[int],
    moved: list[int],
) -> None:
    fresh = _in_id_order(hashing, weights, storage)
    worker = _shuffled(hashing, weights, storage, order, moved)
    for need in NEEDS:
        expected = _ranking(fresh, need)
        assert len({score for _, score in expected}) < len(expected)  # ties in the top 10
        assert _ranking(worker, need) == expected


def test_the_cut_between_tied_experts_goes_by_id(hashing: Encoder) -> None:
    """Equal scores in id order, numeric ids in number order ("2" before "10"), and the ten
    kept are the first ten of the whole ranking, however the rows lie."""
    worker = _shuffled(
        hashing, document_and_lexical, "int8", list(reversed(range(EXPERTS))), [0, 3, 9]
    )
    for need in NEEDS:
        everyone = worker.rank_experts(need, k=EXPERTS, explain=False)
        assert len(everyone) == EXPERTS
        keys = [(-c.score, len(c.expert_id), c.expert_id) for c in everyone]
        assert keys == sorted(keys)
        top = worker.rank_experts(need, k=10, explain=False)
        assert [c.expert_id for c in top] == [c.expert_id for c in everyone[:10]]


@SETTINGS
@given(order=orders, moved=removals)
def test_the_pool_ranks_tied_experts_as_a_fresh_process(
    hashing: Encoder, order: list[int], moved: list[int]
) -> None:
    weights = with_feedback(0.5)
    fresh = _in_id_order(hashing, weights, "int8")
    worker = _shuffled(hashing, weights, "int8", order, moved)
    experts = _experts()
    for need in NEEDS:
        ranker = PoolRanker(worker, NumpyPool(worker, experts), size=12, skills=6)
        ranked = ranker.rank_experts(need, k=10, explain=False, lexical_scores={})
        expected = _ranking_without_lexical(fresh, need)
        assert [(c.expert_id, round(c.score, 4)) for c in ranked] == expected


def _ranking_without_lexical(matcher: Matcher, need: NeedRecord) -> list[tuple[str, float]]:
    ranked = matcher.rank_experts(need, lexical_scores={}, k=10, explain=False)
    return [(c.expert_id, round(c.score, 4)) for c in ranked]


@settings(max_examples=50, deadline=None)
@given(
    order=st.permutations(list(range(12))),
    moved=st.lists(st.integers(0, 11), max_size=5, unique=True),
    k=st.integers(1, 12),
    storage=st.sampled_from(["int8", "float32"]),
)
def test_search_returns_tied_rows_by_id(
    order: list[int], moved: list[int], k: int, storage: Storage
) -> None:
    """Three distinct vectors, four ids each: top-k by score, then by id."""
    basis = np.eye(3, dtype=np.float32)
    vectors = {str(n + 1): basis[n % 3] * (1.0 + 0.5 * (n % 3)) for n in range(12)}
    ids = sorted(vectors, key=lambda i: (len(i), i))
    index = VectorIndex(3, capacity=2, storage=storage)
    index.upsert([ids[i] for i in order], np.stack([vectors[ids[i]] for i in order]))
    index.remove([ids[i] for i in moved])
    if moved:
        index.upsert([ids[i] for i in moved], np.stack([vectors[ids[i]] for i in moved]))
    query = np.ones(3, dtype=np.float32)
    expected = sorted(ids, key=lambda i: (-float(vectors[i] @ query), len(i), i))[:k]
    assert [item_id for item_id, _ in index.search(query, k)] == expected


def test_top_k_takes_tied_rows_across_the_cut_by_id() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1, 0.5], dtype=np.float32)
    ids = ["f", "a", "e", "b", "z", "c"]
    best = top_k_indices(scores, 3, ids.__getitem__)
    assert [ids[i] for i in best] == ["a", "b", "c"]
