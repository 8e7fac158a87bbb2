"""Benchmark metrics against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from matching.metrics import evaluate, load_qrels, mrr_at_k, ndcg_at_k, recall_at_k

GRADES = {"a": 2, "b": 1, "c": 2}


def test_ndcg_hand_computed() -> None:
    # ranked: x(0) a(2) b(1); ideal: 2, 2, 1
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(["x", "a", "b"], GRADES, 10) == pytest.approx(dcg / idcg)


def test_ndcg_perfect_and_empty() -> None:
    assert ndcg_at_k(["a", "c", "b"], GRADES, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], GRADES, 10) == 0.0
    assert ndcg_at_k(["a"], {}, 10) == 0.0


def test_ndcg_only_counts_top_k() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at_k(ranked, GRADES, 10) == 0.0


def test_recall_counts_grade_two_only() -> None:
    assert recall_at_k(["b", "a"], GRADES, 10) == pytest.approx(0.5)
    assert recall_at_k(["a", "x", "c"], GRADES, 2) == pytest.approx(0.5)
    assert recall_at_k(["a", "c"], GRADES, 2) == pytest.approx(1.0)


def test_mrr_first_grade_two() -> None:
    assert mrr_at_k(["b", "x", "c"], GRADES, 100) == pytest.approx(1 / 3)
    assert mrr_at_k(["b", "x", "c"], GRADES, 2) == 0.0


def test_evaluate_averages_and_counts_missing_needs_as_zero(tmp_path: Path) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text("n1 0 a 2\nn1 0 b 1\nn2 0 c 2\n")
    qrels = load_qrels(path)
    assert qrels == {"n1": {"a": 2, "b": 1}, "n2": {"c": 2}}
    scores = evaluate({"n1": ["a", "b"]}, qrels)
    assert scores.n_needs == 2
    assert scores.ndcg10 == pytest.approx(0.5)
    assert scores.recall10 == pytest.approx(0.5)
    assert scores.mrr100 == pytest.approx(0.5)
