"""What a re-matching job spends its time on: phrases embedded in one call, skill weights kept
while skills stay, the heap trimmed once; the results equal those of the plain path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pytest

from matching import matcher as matcher_module
from matching.constraints import assess
from matching.encoders import Encoder
from matching.explain import build_explanation
from matching.fusion import FusionWeights
from matching.matcher import Matcher
from matching.records import ExpertRecord, NeedRecord
from matching.texts import need_query_text

from .conftest import TODAY

EXPERTS = [
    ExpertRecord(
        f"x{i}",
        headline,
        skills=skills,
        bio=f"{headline} for {i} years. I teach and I advise.",
        languages=["en"],
    )
    for i, (headline, skills) in enumerate(
        [
            ("Epidemiologist", ["epidemiology", "biostatistics", "teaching"]),
            ("Civil engineer", ["bridges", "concrete"]),
            ("Agronomist", ["soil", "irrigation", "teaching"]),
            ("Statistician", ["biostatistics", "surveys"]),
            ("Nurse", ["triage", "patient care"]),
            ("Public health officer", ["epidemiology", "surveillance"]),
        ]
        * 3
    )
]
NEEDS = [
    NeedRecord(
        "n1",
        "Epidemiology course",
        "Teach epidemiology and biostatistics to students.",
        required_skills=["epidemiology", "survey design"],
        languages=["en"],
    ),
    NeedRecord(
        "n2",
        "Irrigation advice",
        "Advise farmers on soil and irrigation.",
        required_skills=["irrigation"],
        languages=["en"],
    ),
]


def feedback_weights(language: str) -> FusionWeights:
    """The hashing encoder's document signal with skill feedback on."""
    return FusionWeights(
        dense={"hashing.document": 1.0},
        lexical=0.0,
        feedback_depth=3,
        feedback_skills_weight=0.5,
    )


class CountingEncoder:
    """Counts the encoder's phrase calls (explanations' embeddings)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.calls = 0
        self.original = encoder.encode_phrases

    def __call__(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        return self.original(texts, batch_size=batch_size)


@pytest.fixture
def counting(hashing: Encoder, monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    counter = CountingEncoder(hashing)
    monkeypatch.setattr(hashing, "encode_phrases", counter)
    return counter


def _matcher(encoder: Encoder) -> Matcher:
    matcher = Matcher(encoder, weights_for=feedback_weights, today=lambda: TODAY)
    matcher.index_experts(EXPERTS)
    return matcher


def test_a_need_rankings_phrases_are_embedded_in_one_call(
    hashing: Encoder, counting: CountingEncoder
) -> None:
    matcher = _matcher(hashing)
    ranked = matcher.rank_experts(NEEDS[0], k=5)
    assert len(ranked) == 5
    # Before: two calls per candidate (its phrases, then the need's text), more with skills.
    assert counting.calls == 1
    # The explanations are those built phrase by phrase, with a fresh cache.
    fresh = Matcher(hashing, weights_for=feedback_weights, today=lambda: TODAY)
    for candidate in ranked:
        expert = matcher.record(candidate.expert_id)
        assessment = assess(expert, NEEDS[0], matcher.policy, TODAY)
        expected = build_explanation(
            expert, NEEDS[0], assessment, fresh.encode_phrases, need_query_text(NEEDS[0])
        )
        assert candidate.explanation == expected


def test_needs_for_you_phrases_are_embedded_in_one_call(
    hashing: Encoder, counting: CountingEncoder
) -> None:
    matcher = _matcher(hashing)
    ranked = matcher.rank_needs(EXPERTS[0], NEEDS, k=2)
    assert len(ranked) == 2
    assert counting.calls == 1


def test_the_heap_is_trimmed_once_not_once_a_need(
    make_matcher: Callable[[list[ExpertRecord]], Matcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(matcher_module, "release_freed_memory", lambda: trims.append(1))
    matcher = make_matcher(EXPERTS)
    needs = [replace(NEEDS[0], need_id=f"n{i}", title=f"Course {i}") for i in range(20)]
    matcher.rank_needs(EXPERTS[0], needs, k=3)
    matcher.rank_needs(EXPERTS[1], needs, k=3)
    assert len(trims) == 1


def test_skill_weights_are_kept_while_skills_stay_and_follow_a_change(
    hashing: Encoder,
) -> None:
    matcher = _matcher(hashing)
    top = np.arange(3)
    matcher.skill_feedback(top)
    state = matcher._skill_state
    # A refresh reads a row again (its headline reworded, skills alike): weights are kept.
    reworded = replace(EXPERTS[4], headline="Senior nurse")
    matcher.index_experts([reworded])
    matcher.skill_feedback(top)
    assert matcher._skill_state == state
    # Changed skills: recomputed, and equal to a matcher that read everything afresh.
    changed = replace(EXPERTS[4], skills=["triage", "epidemiology"])
    matcher.index_experts([changed])
    kept = matcher.skill_feedback(top)
    assert matcher._skill_state != state
    fresh = Matcher(hashing, weights_for=feedback_weights, today=lambda: TODAY)
    fresh.index_experts([changed if e.expert_id == changed.expert_id else e for e in EXPERTS])
    assert fresh.index.ids == matcher.index.ids
    np.testing.assert_array_equal(kept, fresh.skill_feedback(top))
    # Ranking with feedback matches too.
    for need in NEEDS:
        assert [c.to_dict() for c in matcher.rank_experts(need, k=5)] == [
            c.to_dict() for c in fresh.rank_experts(need, k=5)
        ]


@pytest.mark.slow
def test_a_needs_phrase_vector_is_cut_from_its_query_vectors(fused_encoder: Encoder) -> None:
    text = need_query_text(NEEDS[0])
    cut = fused_encoder.phrases_within(fused_encoder.encode_queries([text, NEEDS[0].title]))
    assert cut is not None
    # The phrase model's own vectors, to float32 rounding (batches differ by ~1e-7 anyway).
    np.testing.assert_allclose(cut[0], fused_encoder.encode_phrases([text])[0], atol=1e-6)
    matcher = Matcher(fused_encoder, today=lambda: TODAY)
    matcher.embed_need(NEEDS[0])
    assert text in matcher._phrases
