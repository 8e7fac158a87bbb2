"""Fusion weights for the hashing encoder (the model-free encoder the tests run on).

The tuned weights name the bundled models' signals, so a matcher on the hashing encoder needs
its own: `document_and_lexical` (the whole document and the keyword score alike),
`document_and_headline` (meaning only, the headline counting half), and `with_feedback(lexical)`
(a few signals and the pseudo-relevance feedback over the top 3, the pool's ranking path).
Each is a `weights_for`: it takes the query's language and ignores it.
"""

from __future__ import annotations

from collections.abc import Callable

from matching.fusion import FusionWeights


def document_and_lexical(language: str) -> FusionWeights:
    return FusionWeights(dense={"hashing.document": 1.0}, lexical=1.0)


def document_and_headline(language: str) -> FusionWeights:
    return FusionWeights(dense={"hashing.document": 1.0, "hashing.headline": 0.5})


def with_feedback(lexical: float) -> Callable[[str], FusionWeights]:
    weights = FusionWeights(
        dense={"hashing.document": 1.0, "hashing.headline": 0.25, "hashing.title_headline": 0.25},
        lexical=lexical,
        feedback_depth=3,
        feedback_dense={"hashing": 1.0},
        feedback_dense_weight=1.0,
        feedback_skills_weight=0.5,
    )
    return lambda language: weights
