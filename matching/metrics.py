"""Ranking metrics for the need -> expert benchmark, and a TREC qrels loader."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# need_id -> profile_id -> grade (2 = the occupation asked for, 1 = a neighbouring one).
Qrels = dict[str, dict[str, int]]
RELEVANT = 2


def load_qrels(path: str | Path) -> Qrels:
    """Reads TREC qrels lines `need_id 0 profile_id grade`."""
    qrels: Qrels = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        need_id, _, profile_id, grade = parts
        qrels.setdefault(need_id, {})[profile_id] = int(grade)
    return qrels


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (the grade itself) and a log2 discount."""
    dcg = sum(grades.get(pid, 0) / math.log2(rank + 2) for rank, pid in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """Share of the grade-2 profiles found in the top k."""
    relevant = {pid for pid, grade in grades.items() if grade >= RELEVANT}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 100) -> float:
    """Reciprocal rank of the first grade-2 profile within the top k (0 if none)."""
    for rank, pid in enumerate(ranked[:k]):
        if grades.get(pid, 0) >= RELEVANT:
            return 1.0 / (rank + 1)
    return 0.0


@dataclass(frozen=True)
class Scores:
    """Benchmark metrics averaged over needs."""

    ndcg10: float
    recall10: float
    recall50: float
    mrr100: float
    n_needs: int

    def to_dict(self) -> dict[str, float]:
        """Returns the metrics as a plain dict."""
        return {
            "ndcg@10": self.ndcg10,
            "recall@10": self.recall10,
            "recall@50": self.recall50,
            "mrr@100": self.mrr100,
            "needs": float(self.n_needs),
        }


def evaluate(run: Mapping[str, Sequence[str]], qrels: Qrels) -> Scores:
    """Averages every metric over the needs that have judgements."""
    needs = [need for need in qrels if need in run]
    missing = [need for need in qrels if need not in run]
    # A need with no ranking counts as zero, so a crashed method cannot look good.
    all_needs = needs + missing
    n = len(all_needs)
    if n == 0:
        return Scores(0.0, 0.0, 0.0, 0.0, 0)
    totals = [0.0, 0.0, 0.0, 0.0]
    for need in needs:
        ranked, grades = run[need], qrels[need]
        totals[0] += ndcg_at_k(ranked, grades, 10)
        totals[1] += recall_at_k(ranked, grades, 10)
        totals[2] += recall_at_k(ranked, grades, 50)
        totals[3] += mrr_at_k(ranked, grades, 100)
    ndcg, r10, r50, mrr = (t / n for t in totals)
    return Scores(ndcg, r10, r50, mrr, n_needs=n)
