"""Ranking from a candidate pool: an outside vector store proposes experts, the matcher
re-ranks them with its full scoring.

The matcher's dense relevance is a weighted sum of z-scored dot products, one per signal
(model block x profile section); each z-score is linear in the expert's stored row, so the
whole dense part is one dot product of the row with a composite query (`PoolQueries`). A
store holding the rows (`pool_vector`, made cosine-safe by one padding column) and
filtering on the hard constraints (`PoolFilter`) returns the experts that score best; the
feedback stage is linear too, so the final pool is fetched with the second-stage query.

Population statistics (mean, deviation over every indexed expert) are exact, without a pass
over the index per need: every score the matcher standardises is linear in the row, so its
spread follows from the index's joint moments (`Matcher.population(joint=True)`: row sums
and outer-product sums across all blocks, kept in step by the matcher as experts change);
lexical and skill scores, sparse, are standardised over the whole population exactly. The
scores therefore equal those of `Matcher.rank_experts` on the experts the pool holds (to
float rounding), and stay so across refreshes with nothing to re-sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from matching.constraints import MatchPolicy
from matching.fusion import FusionWeights, detect_language
from matching.index import VectorIndex, tie_key, top_k_indices
from matching.matcher import _SIGNAL_PAIRS, Matcher, Scores
from matching.partitions import TRAINING_SAMPLE, Partitions, groups_for, train_partitions
from matching.population import BlockMoments
from matching.records import Candidate, ExpertRecord, NeedRecord
from matching.texts import QUERY_SIDES, need_query_text

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.intp]

FIRST_STAGE = 100  # candidates fetched to find the feedback stage's best few
# Candidates re-ranked (Meilisearch returns at most its maxTotalHits): with exact searches,
# 1,000 held 0.970 of the scan's top-100 at 100,000 experts, 2,000 held 1.000 (docs/deploy.md).
POOL = 2000
SKILL_POOL = 1000  # experts added for sharing skills with the first stage's best
NEVER = 10**7  # a day ordinal past any real date: "no end", "never confirmed"


@dataclass(frozen=True)
class PoolFilter:
    """The hard constraints of a need, as plain values a store can filter on.

    Each field narrows the pool only when set: `modes`, the engagement modes of which an
    expert must accept one; `any_mode`, that the expert must accept at least one;
    `languages`, of which the expert must speak one; `available_on`, a day ordinal the
    expert's availability must not have ended before; `confirmed_since`, the oldest
    availability confirmation still current; `window`, the need's (first, last) day ordinals
    the expert's availability must overlap.
    """

    modes: tuple[str, ...] | None
    any_mode: bool
    languages: tuple[str, ...]
    available_on: int
    confirmed_since: int
    window: tuple[int, int] | None


def pool_filter(need: NeedRecord, policy: MatchPolicy, today: date) -> PoolFilter:
    """Gets the hard constraints `assess` would exclude an expert on, for a store to filter."""
    modes: tuple[str, ...] | None = None
    if need.mode != "hybrid" and not need.widen_modes:
        modes = (need.mode, "hybrid")
    window = None
    if need.start is not None and need.end is not None:
        window = (need.start.toordinal(), need.end.toordinal())
    return PoolFilter(
        modes=modes,
        any_mode=need.mode == "hybrid",
        languages=tuple(sorted({lang.lower() for lang in need.languages})),
        available_on=today.toordinal(),
        confirmed_since=(today - timedelta(days=policy.stale_after_days)).toordinal(),
        window=window,
    )


def pool_fields(expert: ExpertRecord) -> dict[str, Any]:
    """Gets the filterable fields of an expert's pool document (see `PoolFilter`)."""
    confirmed = expert.availability_confirmed_on
    return {
        "eligible": expert.active and not expert.opted_out,
        "modes": sorted(set(expert.modes)),
        "languages": sorted({lang.lower() for lang in expert.languages}),
        "from_day": expert.available_from.toordinal() if expert.available_from else 0,
        "until_day": expert.available_until.toordinal() if expert.available_until else NEVER,
        # Unknown confirmation is not stale (as in `expert_exclusion`).
        "confirmed_day": confirmed.toordinal() if confirmed else NEVER,
    }


class CandidatePool(Protocol):
    """A vector store of experts' rows: the best experts for a query, under a filter."""

    def candidates(
        self, query: FloatArray, constraints: PoolFilter | None, *, limit: int
    ) -> list[str]:
        """Gets up to `limit` expert ids, best first, by cosine with `query` (among those who
        pass `constraints`, when given)."""
        ...


def stored_layout(matcher: Matcher) -> list[tuple[int, int]]:
    """Where each stored block of a row lives in a pool vector (the blocks side by side)."""
    offsets = np.cumsum([0] + [stop - start for start, stop in matcher.index.blocks])
    return [(int(lo), int(hi)) for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)]


def pool_dimensions(matcher: Matcher) -> int:
    """The dimension of a pool vector: the stored columns of a row, plus one padding column."""
    return matcher.index.stored_dim + 1


def pool_vector(matcher: Matcher, row: NDArray[np.floating]) -> FloatArray:
    """An expert's pool vector: the stored blocks of its row, padded to one common norm so
    that the store's cosine orders experts as the dot product does."""
    vectors: FloatArray = pool_vectors(matcher, np.asarray(row)[None, :])
    return np.asarray(vectors[0], dtype=np.float32)


def pool_vectors(matcher: Matcher, rows: NDArray[np.floating]) -> FloatArray:
    """The pool vectors of several rows (one each), as `pool_vector`."""
    values = np.asarray(rows, dtype=np.float32)
    blocks = [values[:, start:stop] for start, stop in matcher.index.blocks]
    body = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(values), 0), np.float32)
    return _padded(body, len(blocks))


def indexed_pool_vectors(matcher: Matcher, expert_ids: Sequence[str]) -> FloatArray:
    """The pool vectors of indexed experts, read from the matcher's index (as `pool_vector`
    of each one's row, without building the full rows)."""
    rows = np.array([matcher.index.row(expert_id) for expert_id in expert_ids], dtype=np.intp)
    return _padded(matcher.index.stored_rows(rows), len(matcher.index.blocks))


def partition_roster(
    matcher: Matcher, *, seed: int = 0, sample: int = TRAINING_SAMPLE
) -> Partitions:
    """Trains the partitions of the matcher's indexed experts: `groups_for(n)` centroids over
    a sample of their pool vectors. Deterministic: the sample is drawn from the ids in sorted
    order with `seed`, so two processes holding the same roster train the same centroids
    (the same `version`), whatever order their indexes were filled in."""
    ids = sorted(matcher.index.ids)
    if not ids:
        raise ValueError("partitions need indexed experts")
    if len(ids) > sample:
        picked = np.sort(np.random.default_rng(seed).choice(len(ids), sample, replace=False))
        ids = [ids[i] for i in picked]
    vectors = indexed_pool_vectors(matcher, ids)
    return train_partitions(vectors, groups_for(len(matcher.index)), seed=seed, sample=sample)


def _padded(body: FloatArray, blocks: int) -> FloatArray:
    """Stored blocks side by side, and the padding column that gives them one common norm."""
    # Each block is unit-normed (or empty), so no row is longer than sqrt(blocks).
    ceiling = math.sqrt(blocks) * 1.01
    squared = np.einsum("ij,ij->i", body, body, dtype=np.float64)
    pad = np.sqrt(np.maximum(0.0, ceiling**2 - squared)).astype(np.float32)
    return np.concatenate([body, pad[:, None]], axis=1)


@dataclass
class _Signal:
    name: str
    slot: int
    query: FloatArray
    weight: float


class PoolRanker:
    """Ranks experts for a need from a candidate pool, scoring as `Matcher.rank_experts`."""

    def __init__(
        self,
        matcher: Matcher,
        pool: CandidatePool,
        *,
        size: int = POOL,
        skills: int = SKILL_POOL,
        first: int = FIRST_STAGE,
    ) -> None:
        self.matcher = matcher
        self.pool = pool
        self.size = size
        self.skills = skills
        self.first = first

    def prepare(self) -> None:
        """Builds the index's joint moments now (one pass) rather than on the first ranking."""
        self.matcher.prepare_population(joint=True)

    def rank_experts(
        self,
        need: NeedRecord,
        *,
        lexical_scores: Mapping[str, float] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
        query_vectors: FloatArray | None = None,
        explain: bool = True,
    ) -> list[Candidate]:
        """Top-k eligible experts for a need, best first, from the pool's candidates."""
        if len(self.matcher.index) == 0 or k <= 0:
            return []
        vectors = query_vectors if query_vectors is not None else self.matcher.embed_need(need)
        scoring = self._scoring(need, vectors, lexical_scores)
        rows = self._candidates(need, scoring)
        return self._rank_rows(need, rows, scoring, k, set(exclude), vectors, explain)

    def _scoring(
        self, need: NeedRecord, vectors: FloatArray, lexical_scores: Mapping[str, float] | None
    ) -> _Scoring:
        weights = self.matcher.weights_for(detect_language(need_query_text(need)))
        return _Scoring(self.matcher, vectors, weights, lexical_scores)

    def candidate_rows(
        self,
        need: NeedRecord,
        *,
        lexical_scores: Mapping[str, float] | None = None,
        query_vectors: FloatArray | None = None,
        limit: int | None = None,
    ) -> IntArray:
        """Index rows of the pool for a need: the store's best, plus the lexical hits."""
        if len(self.matcher.index) == 0:
            return np.zeros(0, dtype=np.intp)
        vectors = query_vectors if query_vectors is not None else self.matcher.embed_need(need)
        return self._candidates(need, self._scoring(need, vectors, lexical_scores), limit)

    def _candidates(
        self, need: NeedRecord, scoring: _Scoring, limit: int | None = None
    ) -> IntArray:
        constraints = pool_filter(need, self.matcher.policy, self.matcher.today())
        lexical_rows = scoring.lexical_rows
        # The feedback stage starts from the most relevant experts, eligible or not (as the
        # full scan does): the first search has no filter.
        first = self._fetch(scoring.first_query(), None, self.first)
        seen = np.union1d(first, lexical_rows)
        top = scoring.feedback_top(seen)
        fetched = self._fetch(scoring.second_query(top), constraints, limit or self.size)
        # The skill feedback is not in the store's order: its best experts join the pool.
        return np.union1d(np.union1d(fetched, seen), scoring.skill_rows(top, self.skills))

    def _fetch(self, query: FloatArray, constraints: PoolFilter | None, limit: int) -> IntArray:
        index = self.matcher.index
        ids = self.pool.candidates(query, constraints, limit=limit)
        return np.array([index.row(i) for i in ids if i in index], dtype=np.intp)

    def _rank_rows(
        self,
        need: NeedRecord,
        rows: IntArray,
        scoring: _Scoring,
        k: int,
        skip: set[str],
        vectors: FloatArray,
        explain: bool,
    ) -> list[Candidate]:
        matcher = self.matcher
        if rows.size == 0:
            return []
        relevance, signals, lexical, extra = scoring.score(rows)
        ids = matcher.index.ids
        # As `rank_experts`: constraints on the most relevant, widened until k pass.
        passed = matcher.eligible(
            need, relevance, lambda position: matcher.kept(ids[int(rows[position])]), k, skip
        )
        # Equal scores by expert id, as the full scan does.
        passed.sort(key=lambda item: (-item[0], tie_key(ids[int(rows[item[1]])])))
        return matcher.candidates(
            need,
            passed[:k],
            lambda position: ids[int(rows[position])],
            Scores(signals, lexical, extra, relevance),
            explain=explain,
        )


class _Scoring:
    """The matcher's scoring of one need over some rows, standardised on the population."""

    def __init__(
        self,
        matcher: Matcher,
        vectors: FloatArray,
        weights: FusionWeights,
        lexical_scores: Mapping[str, float] | None,
    ) -> None:
        self.matcher = matcher
        self.index = matcher.index
        self.weights = weights
        self.n = len(self.index)
        self.moments: BlockMoments = matcher.population(joint=True)
        self.layout = self.moments.layout
        self.signals: list[_Signal] = []
        for block in matcher.encoder.blocks:
            for pair, side, section in _SIGNAL_PAIRS:
                slot = matcher.slot(section, block.name)
                if slot is None:
                    continue
                query = np.asarray(
                    vectors[QUERY_SIDES.index(side), block.start : block.stop], dtype=np.float32
                )
                name = f"{block.name}.{pair}"
                self.signals.append(_Signal(name, slot, query, weights.dense.get(name, 0.0)))
        # As `fuse_scores`: every weighted signal counts, even one the index has no slot for.
        names = {f"{b.name}.{pair}" for b in matcher.encoder.blocks for pair, _, _ in _SIGNAL_PAIRS}
        self.weight_sum = sum(w for name, w in weights.dense.items() if name in names and w > 0) + (
            weights.lexical if lexical_scores is not None and weights.lexical > 0 else 0.0
        )
        self.lexical: dict[int, float] | None = None
        self.lexical_rows = np.zeros(0, dtype=np.intp)
        self.lexical_stats = (0.0, 0.0)
        if lexical_scores is not None:
            self.lexical = {
                self.index.row(i): float(s) for i, s in lexical_scores.items() if i in self.index
            }
            self.lexical_rows = np.array(sorted(self.lexical), dtype=np.intp)
            hits = np.fromiter(self.lexical.values(), dtype=np.float64, count=len(self.lexical))
            mean = float(hits.sum()) / max(1, self.n)
            variance = max(0.0, float((hits**2).sum()) / max(1, self.n) - mean**2)
            self.lexical_stats = (mean, math.sqrt(variance))
        # Each signal's spread over the population, from the moments of its block.
        self.stats = {s.name: self.moments.mean_std(s.slot, s.query) for s in self.signals}
        # Every signal's query in its block's columns: one product scores all signals.
        self.signal_queries = np.zeros((self.index.stored_dim, len(self.signals)), np.float32)
        for column, signal in enumerate(self.signals):
            lo, hi = self.layout[signal.slot]
            self.signal_queries[lo:hi, column] = signal.query
        self.composite = self._dense_composite()
        self.offset = sum(
            s.weight * self.stats[s.name][0] / self.stats[s.name][1]
            for s in self.signals
            if self._used(s)
        )
        self.first_stats = self._first_stage_stats()
        self._skills: tuple[bytes, FloatArray] | None = None
        self._feedback: tuple[bytes, tuple[NDArray[np.float64], float, float] | None] | None = None

    def gather(self, rows: IntArray) -> FloatArray:
        """The stored rows, dequantised."""
        return gather(self.index, rows)

    def _used(self, signal: _Signal) -> bool:
        return signal.weight > 0 and self.stats[signal.name][1] >= 1e-9

    def _dense_composite(self) -> NDArray[np.float64]:
        """A stored-width vector q with `row . q` the dense part of the first stage, times
        the weight sum, less a constant."""
        query = np.zeros(self.index.stored_dim, dtype=np.float64)
        for signal in self.signals:
            if not self._used(signal):
                continue
            lo, hi = self.layout[signal.slot]
            query[lo:hi] += (signal.weight / self.stats[signal.name][1]) * signal.query
        return query

    def _first_stage_stats(self) -> tuple[float, float]:
        """Mean and deviation of the first stage (`first_stage`) over the population: of a
        linear function of the row, plus the lexical z-score, whose covariance with it comes
        from the lexical hits alone (everyone else scores 0)."""
        composite, offset = self.composite, self.offset
        mean, std = self.moments.mean_std_of(composite)
        mean -= offset
        variance = std * std
        lexical_mean, lexical_std = self.lexical_stats
        if self.lexical is not None and self.weights.lexical > 0 and lexical_std >= 1e-9:
            scale = self.weights.lexical / lexical_std
            hits = self.lexical_rows
            dense = self.gather(hits) @ composite - offset
            values = np.fromiter((self.lexical[int(r)] for r in hits), np.float64, len(hits))
            covariance = float(values @ dense) / self.n - lexical_mean * mean
            variance += scale * scale * lexical_std * lexical_std + 2 * scale * covariance
        total = self.weight_sum or 1.0
        return mean / total, math.sqrt(max(variance, 0.0)) / total

    # --- queries for the store ------------------------------------------------------------

    def first_query(self) -> FloatArray:
        """A pool query whose dot product orders rows as the dense part of the first stage."""
        query = np.zeros(self.index.stored_dim + 1, dtype=np.float32)
        query[:-1] = self.composite
        return query

    def feedback_top(self, rows: IntArray) -> IntArray | None:
        """The best few of `rows` by the first stage, that the feedback stage starts from
        (None when there is no feedback stage)."""
        weights = self.weights
        if not (weights.uses_feedback and self.n > weights.feedback_depth) or rows.size == 0:
            return None
        relevance = self.first_stage(rows, self.gather(rows))
        return rows[top_k_indices(relevance, weights.feedback_depth, self._id_at(rows))]

    def second_query(self, top: IntArray | None) -> FloatArray:
        """A pool query for the combined score: first stage plus dense feedback from `top`
        (the skill feedback, sparse, is not in the store's order)."""
        first = self.first_query()
        weights = self.weights
        if top is None:
            return first
        first_std = self.first_stats[1] or 1.0
        query = first / np.float32(first_std * (self.weight_sum or 1.0))
        if weights.feedback_dense_weight > 0:
            feedback = self._feedback_composite(top)
            if feedback is not None:
                composite, _, dense_std = feedback
                scale = weights.feedback_dense_weight / (dense_std or 1.0)
                query[:-1] += (scale * composite).astype(np.float32)
        return query

    def skill_rows(self, top: IntArray | None, limit: int) -> IntArray:
        """The rows the skill feedback from `top` ranks highest."""
        if top is None or self.weights.feedback_skills_weight <= 0:
            return np.zeros(0, dtype=np.intp)
        scores = self._skill_feedback(top)
        return np.sort(top_k_indices(scores, limit, self.index.ids.__getitem__))

    def _skill_feedback(self, top: IntArray) -> FloatArray:
        """The matcher's skill feedback from `top`, computed once per set of top rows."""
        key = np.asarray(top, dtype=np.intp).tobytes()
        if self._skills is None or self._skills[0] != key:
            self._skills = (key, self.matcher.skill_feedback(top))
        return self._skills[1]

    # --- scores over rows -----------------------------------------------------------------

    def score(
        self, rows: IntArray
    ) -> tuple[FloatArray, dict[str, FloatArray], FloatArray | None, dict[str, FloatArray]]:
        """Relevance of `rows` (as `rank_experts` computes it), the raw signals, the lexical
        scores and the feedback stage's parts."""
        matrix = self.gather(rows)
        values = matrix @ self.signal_queries
        computed = {s.name: values[:, c] for c, s in enumerate(self.signals)}
        zeros = np.zeros(len(rows), dtype=np.float32)
        signals = {
            f"{block.name}.{pair}": computed.get(f"{block.name}.{pair}", zeros)
            for block in self.matcher.encoder.blocks
            for pair, _, _ in _SIGNAL_PAIRS
        }
        lexical = self._lexical(rows) if self.lexical is not None else None
        relevance = self.first_stage(rows, matrix)
        extra: dict[str, FloatArray] = {}
        weights = self.weights
        if weights.uses_feedback and self.n > weights.feedback_depth:
            top = rows[top_k_indices(relevance, weights.feedback_depth, self._id_at(rows))]
            combined = _standardise(relevance, *self.first_stats)
            extra["first_stage"] = combined
            if weights.feedback_dense_weight > 0:
                feedback = self._feedback_composite(top)
                if feedback is not None:
                    composite, mean, std = feedback
                    dense = _standardise(matrix @ composite.astype(np.float32), mean, std)
                    extra["feedback_dense"] = dense
                    combined = combined + np.float32(weights.feedback_dense_weight) * dense
            if weights.feedback_skills_weight > 0:
                everyone = self._skill_feedback(top)
                skills = _standardise(
                    everyone[rows], float(np.mean(everyone)), float(np.std(everyone))
                )
                extra["feedback_skills"] = skills
                combined = combined + np.float32(weights.feedback_skills_weight) * skills
            relevance = np.asarray(combined, dtype=np.float32)
        return relevance, signals, lexical, extra

    def _id_at(self, rows: IntArray) -> Callable[[int], str]:
        """The expert id at a position of `rows` (equal scores are ordered by it)."""
        ids = self.index.ids
        return lambda position: ids[int(rows[position])]

    def _lexical(self, rows: IntArray) -> FloatArray:
        scores = self.lexical or {}
        return np.array([scores.get(int(row), 0.0) for row in rows], dtype=np.float32)

    def first_stage(self, rows: IntArray, matrix: FloatArray) -> FloatArray:
        """Fused relevance before feedback: weighted mean of population z-scores (of the
        dense signals, one product with their composite, and of the lexical score)."""
        total = matrix @ self.composite.astype(np.float32) - np.float32(self.offset)
        if self.lexical is not None and self.weights.lexical > 0:
            mean, std = self.lexical_stats
            if std >= 1e-9:
                total += (
                    np.float32(self.weights.lexical)
                    * (self._lexical(rows) - np.float32(mean))
                    / np.float32(std)
                )
        return np.asarray(total / np.float32(self.weight_sum or 1.0), dtype=np.float32)

    def _feedback_composite(self, top: IntArray) -> tuple[NDArray[np.float64], float, float] | None:
        """A stored-width vector f with `row . f` the dense feedback before its final
        standardisation (less a constant): per model, the weighted similarity to the top
        rows' centroid over its population deviation; with the mean and deviation of
        `row . f` over the population. None when no model has feedback. Computed once per
        set of top rows."""
        key = np.asarray(top, dtype=np.intp).tobytes()
        if self._feedback is None or self._feedback[0] != key:
            self._feedback = (key, self._feedback_of(top))
        return self._feedback[1]

    def _feedback_of(self, top: IntArray) -> tuple[NDArray[np.float64], float, float] | None:
        composite = np.zeros(self.index.stored_dim, dtype=np.float64)
        used = False
        for block in self.matcher.encoder.blocks:
            weight = self.weights.feedback_dense.get(block.name, 0.0)
            slot = self.matcher.slot("document", block.name)
            if weight <= 0.0 or slot is None:
                continue
            centroid = self.index.block_rows(top, slot).mean(axis=0)
            std = self.moments.mean_std(slot, centroid)[1]
            if std < 1e-9:
                continue  # zscore of a constant is 0
            lo, hi = self.layout[slot]
            composite[lo:hi] += (weight / std) * centroid
            used = True
        if not used:
            return None
        mean, std = self.moments.mean_std_of(composite)
        return composite, mean, std


def gather(index: VectorIndex, rows: IntArray) -> FloatArray:
    """The stored rows of an index (blocks side by side), dequantised."""
    return index.stored_rows(rows)


def _standardise(values: NDArray[np.floating], mean: float, std: float) -> FloatArray:
    """Z-scores of `values` against a population's mean and deviation."""
    if std < 1e-9:
        return np.zeros(len(values), dtype=np.float32)
    return np.asarray((np.asarray(values, dtype=np.float64) - mean) / std, dtype=np.float32)


__all__ = [
    "POOL",
    "SKILL_POOL",
    "CandidatePool",
    "PoolFilter",
    "PoolRanker",
    "pool_dimensions",
    "pool_fields",
    "pool_filter",
    "pool_vector",
    "pool_vectors",
]
