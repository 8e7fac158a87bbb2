"""Fusing dense (one per model) and lexical (BM25) scores into one relevance score."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

# A handful of very frequent function words per language: enough to tell the languages
# Homeward serves apart on a need's title and description, at no cost.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words("the and of to in for with on is are a an by or from their they as at this"),
    "fr": _words(
        "le la les des et du de un une pour dans en sur est sont avec par qui au aux leur"
    ),
    "es": _words("el la los las y de del un una para en con por que es son su sus o al como se"),
    "pt": _words(
        "o a os as e de do da dos das um uma para em com por que é são seu sua ou no na ao nos nas"
    ),
}
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str) -> str:
    """Guesses en/fr/es/pt/ar from the script and stopword counts (defaults to en)."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(1 for c in letters if _ARABIC.match(c)) > len(letters) / 3:
        return "ar"
    words = [w.lower() for w in _WORD.findall(text)]
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] > 0 else "en"


@dataclass(frozen=True)
class FusionWeights:
    """Weights of each signal, applied to per-need z-scores, and of the feedback stage.

    Dense signal names are "<model>.<pair>": `document` (need text vs whole profile),
    `headline` (need text vs headline), `title_headline` (need title vs headline).
    Feedback: the `feedback_depth` best experts of the first stage stand for what the need
    means; experts close to them (by the `feedback_dense` models, and by shared skills) rank up.
    """

    dense: Mapping[str, float] = field(default_factory=dict)
    lexical: float = 0.0
    feedback_depth: int = 0
    feedback_dense: Mapping[str, float] = field(default_factory=dict)
    feedback_dense_weight: float = 0.0
    feedback_skills_weight: float = 0.0

    @staticmethod
    def for_language(language: str) -> FusionWeights:
        """Weights tuned on the dev split; MiniLM and BM25 only understand English."""
        if language == "en":
            return ENGLISH_WEIGHTS
        return OTHER_LANGUAGE_WEIGHTS

    @property
    def uses_feedback(self) -> bool:
        """Tells whether the feedback stage runs."""
        return self.feedback_depth > 0 and (
            self.feedback_dense_weight > 0 or self.feedback_skills_weight > 0
        )


# Tuned on the dev split (docs/matching.md): coordinate search over z-score weights per
# language group, then the feedback stage.
ENGLISH_WEIGHTS = FusionWeights(
    dense={
        "use.document": 0.75,
        "use.headline": 0.125,
        "use.title_headline": 0.125,
        "minilm.document": 2.0,
        "e5.document": 2.0,
    },
    # Measured through the application's FTS5 index (homeward eval, desc_en): 0 gave 0.802,
    # 0.02 gave 0.803, 0.04-0.125 gave 0.800-0.801. Small, since BM25 scores are sharp.
    lexical=0.02,
    feedback_depth=3,
    feedback_dense={"use": 1.0, "e5": 1.0},
    feedback_dense_weight=1.0,
    feedback_skills_weight=0.5,
)
OTHER_LANGUAGE_WEIGHTS = FusionWeights(
    dense={
        "use.document": 1.0,
        "use.headline": 0.5,
        "use.title_headline": 0.25,
        "minilm.document": 0.125,
        "e5.document": 2.0,
    },
    lexical=0.0,
    feedback_depth=3,
    feedback_dense={"use": 1.0, "e5": 1.0},
    feedback_dense_weight=0.5,
    feedback_skills_weight=0.5,
)


# Bands of a final score (z units over the roster, plus the constraints' adjustments), read
# from the demo world, where top proposals score 2-10: from GOOD_SCORE a profile reads clearly
# closer to the need than most of the roster; from STRONG_SCORE, closer than almost all of it.
GOOD_SCORE = 3.0
STRONG_SCORE = 5.0


def zscore(scores: NDArray[np.floating]) -> FloatArray:
    """Standardises scores over the experts of one need (0 when they are all equal)."""
    values = np.asarray(scores, dtype=np.float32)
    if values.size == 0:
        return values
    std = float(values.std())
    if std < 1e-9:
        return np.zeros_like(values)
    return np.asarray((values - float(values.mean())) / std, dtype=np.float32)


def fuse_scores(
    *,
    dense: Mapping[str, NDArray[np.floating]],
    lexical: NDArray[np.floating] | None,
    weights: FusionWeights,
) -> FloatArray:
    """Weighted mean of z-scored signals over the same experts; one value per expert."""
    total: FloatArray | None = None
    weight_sum = 0.0
    parts: list[tuple[float, NDArray[np.floating]]] = [
        (weights.dense.get(name, 0.0), scores) for name, scores in dense.items()
    ]
    if lexical is not None:
        parts.append((weights.lexical, lexical))
    for weight, scores in parts:
        if weight <= 0.0:
            continue
        contribution = np.float32(weight) * zscore(scores)
        total = contribution if total is None else total + contribution
        weight_sum += weight
    if total is None:
        size = next(iter(dense.values())).shape[0] if dense else 0
        return np.zeros(size, dtype=np.float32)
    return np.asarray(total / np.float32(weight_sum), dtype=np.float32)


def reciprocal_rank_fusion(
    signals: Mapping[str, NDArray[np.floating]], weights: Mapping[str, float], k: int = 60
) -> FloatArray:
    """Weighted reciprocal-rank fusion, sum of w / (k + rank); kept for comparison."""
    total: FloatArray | None = None
    for name, scores in signals.items():
        weight = weights.get(name, 0.0)
        if weight <= 0.0:
            continue
        order = np.argsort(-np.asarray(scores), kind="stable")
        ranks = np.empty(order.shape[0], dtype=np.float32)
        ranks[order] = np.arange(1, order.shape[0] + 1, dtype=np.float32)
        contribution = np.float32(weight) / (np.float32(k) + ranks)
        total = contribution if total is None else total + contribution
    if total is None:
        size = next(iter(signals.values())).shape[0] if signals else 0
        return np.zeros(size, dtype=np.float32)
    return total
