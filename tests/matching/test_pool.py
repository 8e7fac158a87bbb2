"""Ranking from a candidate pool scores as the full scan does; the pool filter excludes whom
`assess` would exclude."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from matching.constraints import MatchPolicy, assess
from matching.encoders import Encoder
from matching.matcher import Matcher
from matching.pool import (
    PoolFilter,
    PoolRanker,
    indexed_pool_vectors,
    partition_roster,
    pool_fields,
    pool_filter,
    pool_vector,
)
from matching.records import ExpertRecord, NeedRecord
from tests.fusion_weights import with_feedback
from tests.matching.conftest import TODAY

WORDS = [
    "water",
    "health",
    "school",
    "roads",
    "energy",
    "farming",
    "teaching",
    "surgery",
    "nursing",
    "finance",
]


def _passes(fields: dict[str, object], constraints: PoolFilter) -> bool:
    """The filter as a store applies it (the Meilisearch expression, in Python)."""
    modes = set(fields["modes"])  # type: ignore[call-overload]
    languages = set(fields["languages"])  # type: ignore[call-overload]
    return (
        bool(fields["eligible"])
        and (constraints.modes is None or bool(modes & set(constraints.modes)))
        and (not constraints.any_mode or bool(modes))
        and (not constraints.languages or bool(languages & set(constraints.languages)))
        and int(fields["until_day"]) >= constraints.available_on  # type: ignore[call-overload]
        and int(fields["confirmed_day"]) >= constraints.confirmed_since  # type: ignore[call-overload]
        and (
            constraints.window is None
            or (
                int(fields["until_day"]) >= constraints.window[0]  # type: ignore[call-overload]
                and int(fields["from_day"]) <= constraints.window[1]  # type: ignore[call-overload]
            )
        )
    )


class NumpyPool:
    """An exact candidate pool: cosine over every expert's pool vector, then the filter."""

    def __init__(self, matcher: Matcher, experts: list[ExpertRecord]) -> None:
        self.ids = [e.expert_id for e in experts]
        self.fields = [pool_fields(e) for e in experts]
        rows = [pool_vector(matcher, matcher.index.vector(e.expert_id)) for e in experts]
        self.matrix = np.stack(rows)
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True)

    def candidates(
        self, query: np.ndarray, constraints: PoolFilter | None, *, limit: int
    ) -> list[str]:
        order = np.argsort(-(self.matrix @ query), kind="stable")
        chosen = [
            self.ids[i]
            for i in order
            if constraints is None or _passes(self.fields[i], constraints)
        ]
        return chosen[:limit]


def _experts(n: int) -> list[ExpertRecord]:
    rng = np.random.default_rng(3)
    experts = []
    for i in range(n):
        dated = i % 4 == 0
        start = TODAY + timedelta(days=int(rng.integers(-60, 60)))
        experts.append(
            ExpertRecord(
                expert_id=str(i),
                headline=" ".join(rng.choice(WORDS, 2)),
                skills=list(rng.choice(WORDS, 3, replace=False)),
                bio=" ".join(rng.choice(WORDS, 8)),
                languages=list(rng.choice(["en", "fr", "es"], int(rng.integers(1, 3)), False)),
                modes=list(rng.choice(["remote", "mission", "hybrid"], 1)),
                available_from=start if dated else None,
                available_until=start + timedelta(days=90) if dated else None,
                active=i % 13 != 0,
                availability_confirmed_on=TODAY - timedelta(days=int(rng.integers(0, 120))),
            )
        )
    return experts


def _needs() -> list[NeedRecord]:
    return [
        NeedRecord("a", "Water and health", "Water for the school", ["water"], ["en"], "remote"),
        NeedRecord("b", "Teaching surgery", "Surgery and nursing", ["surgery"], ["fr"], "hybrid"),
        NeedRecord(
            "c",
            "Energy for farming",
            "Roads and energy",
            ["energy"],
            [],
            "mission",
            widen_modes=True,
            start=TODAY + timedelta(days=10),
            end=TODAY + timedelta(days=80),
        ),
    ]


@pytest.fixture
def matcher(hashing: Encoder) -> Matcher:
    made = Matcher(hashing, weights_for=with_feedback(0.1), today=lambda: TODAY)
    made.index_experts(_experts(150))
    return made


def test_a_pool_of_everyone_ranks_as_the_full_scan(matcher: Matcher) -> None:
    experts = [matcher._experts[i] for i in matcher.index.ids]
    ranker = PoolRanker(matcher, NumpyPool(matcher, experts), size=1000)
    for need in _needs():
        lexical = {"3": 2.0, "7": 1.0}
        expected = matcher.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
        found = ranker.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
        assert [c.expert_id for c in found] == [c.expert_id for c in expected]
        assert [c.score for c in found] == pytest.approx([c.score for c in expected], abs=1e-4)


def test_a_small_pool_keeps_the_scans_best(matcher: Matcher) -> None:
    experts = [matcher._experts[i] for i in matcher.index.ids]
    ranker = PoolRanker(matcher, NumpyPool(matcher, experts), size=30, skills=10)
    for need in _needs():
        expected = [c.expert_id for c in matcher.rank_experts(need, k=5, explain=False)]
        found = [c.expert_id for c in ranker.rank_experts(need, k=5, explain=False)]
        assert found == expected


def test_the_filter_excludes_whom_assess_excludes_on_those_fields() -> None:
    policy = MatchPolicy()
    for need in _needs():
        constraints = pool_filter(need, policy, TODAY)
        for expert in _experts(150):
            if _passes(pool_fields(expert), constraints):
                continue
            assert not assess(expert, need, policy, TODAY).eligible, expert.expert_id


def test_unknown_confirmation_and_open_availability_pass() -> None:
    expert = ExpertRecord("1", "Nurse", languages=["en"], modes=["remote"])
    need = NeedRecord("n", "Nursing", languages=["en"], mode="remote")
    assert _passes(pool_fields(expert), pool_filter(need, MatchPolicy(), date(2026, 3, 2)))


def test_after_one_expert_changes_the_ranking_equals_a_fresh_rankers(
    hashing: Encoder,
) -> None:
    experts = _experts(150)
    live = Matcher(hashing, weights_for=with_feedback(0.1), today=lambda: TODAY)
    live.index_experts(experts)
    ranker = PoolRanker(live, NumpyPool(live, experts), size=1000)
    for need in _needs():
        ranker.rank_experts(need, k=10, explain=False)  # builds the moments and skill weights
    # One expert rewritten (text and skills), one removed, one added: the matcher keeps the
    # moments and skill weights in step; nothing is re-sampled.
    changed = ExpertRecord(
        "7", "surgery nursing", skills=["surgery", "nursing"], bio="surgery surgery nursing"
    )
    added = ExpertRecord("new", "water energy", skills=["water", "energy"], bio="water roads")
    live.index_experts([changed, added])
    live.remove("12")
    world = [changed if e.expert_id == "7" else e for e in experts if e.expert_id != "12"]
    world.append(added)
    ranker.pool = NumpyPool(live, world)
    fresh = Matcher(hashing, weights_for=with_feedback(0.1), today=lambda: TODAY)
    fresh.index_experts(world)
    fresh_ranker = PoolRanker(fresh, NumpyPool(fresh, world), size=1000)
    for need in _needs():
        lexical = {"7": 2.0, "new": 1.0}
        got = ranker.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
        expected = fresh_ranker.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
        assert [c.expert_id for c in got] == [c.expert_id for c in expected]
        assert [c.score for c in got] == pytest.approx([c.score for c in expected], abs=1e-4)
        # ... and the full scan of the changed matcher agrees too.
        scan = live.rank_experts(need, lexical_scores=lexical, k=10, explain=False)
        assert [c.expert_id for c in got] == [c.expert_id for c in scan]


def test_indexed_pool_vectors_are_the_rows_pool_vectors(matcher: Matcher) -> None:
    ids = ["7", "0", "149", "42"]
    expected = np.stack([pool_vector(matcher, matcher.index.vector(i)) for i in ids])
    np.testing.assert_allclose(indexed_pool_vectors(matcher, ids), expected, rtol=1e-6)


def test_partitioning_a_roster_ignores_the_order_it_was_indexed_in(hashing: Encoder) -> None:
    """Two workers that read the same experts in another order train the same centroids."""
    experts = _experts(150)
    forward = Matcher(hashing, today=lambda: TODAY)
    forward.index_experts(experts)
    backward = Matcher(hashing, today=lambda: TODAY)
    backward.index_experts(experts[::-1])
    assert list(forward.index.ids) != list(backward.index.ids)
    # A sample smaller than the roster: the draw itself must not follow the index order.
    made = partition_roster(forward, seed=0, sample=100)
    assert len(made) == 12  # round(sqrt(150))
    assert made.version == partition_roster(backward, seed=0, sample=100).version
    assert made.version != partition_roster(forward, seed=1, sample=100).version
    groups = made.assign(indexed_pool_vectors(forward, list(forward.index.ids)))
    assert len(set(groups.tolist())) > 1


def test_partitioning_an_empty_roster_is_refused(hashing: Encoder) -> None:
    with pytest.raises(ValueError):
        partition_roster(Matcher(hashing, today=lambda: TODAY))
