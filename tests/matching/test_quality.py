"""Match quality with the real bundled models (slow: loads them once per session)."""

from __future__ import annotations

import pytest

from matching.encoders import Encoder
from matching.explain import match_skills
from matching.matcher import Matcher
from matching.records import ExpertRecord, NeedRecord, SkillMatch

from .conftest import TODAY

pytestmark = pytest.mark.slow

PROFILES = [
    ExpertRecord(
        "epi",
        "Epidemiologist",
        ["epidemiology", "biostatistics", "public health surveillance", "teaching"],
        "I teach epidemiology at a school of public health and run outbreak investigations.",
        languages=["en", "fr"],
    ),
    ExpertRecord(
        "civil",
        "Civil engineer",
        ["structural analysis", "bridge design", "concrete"],
        "I design bridges and supervise construction sites.",
        languages=["en", "fr"],
    ),
    ExpertRecord(
        "accountant",
        "Chartered accountant",
        ["financial statements", "auditing", "tax law"],
        "I audit companies and prepare financial statements.",
        languages=["en", "fr"],
    ),
    ExpertRecord(
        "nurse",
        "Nurse",
        ["patient care", "wound care", "triage"],
        "I work in an emergency department.",
        languages=["en", "fr"],
    ),
    ExpertRecord(
        "dev",
        "Software developer",
        ["Python", "web development", "databases"],
        "I build web applications.",
        languages=["en", "fr"],
    ),
]

NEED = NeedRecord(
    "fr-epi",
    "Co-enseignement d'un module d'épidémiologie",
    "Notre faculté de médecine cherche une personne pour co-enseigner à distance un module "
    "d'épidémiologie et de biostatistique pendant six semaines, en français.",
    required_skills=["épidémiologie", "biostatistique", "génie logiciel"],
    languages=["fr"],
)


@pytest.fixture(scope="module")
def matcher(fused_encoder: Encoder) -> Matcher:
    built = Matcher(fused_encoder, today=lambda: TODAY)
    built.index_experts(PROFILES)
    return built


def test_french_need_ranks_english_epidemiologist_first(matcher: Matcher) -> None:
    ranked = matcher.rank_experts(NEED, k=3)
    assert ranked[0].expert_id == "epi"
    assert ranked[0].score > ranked[1].score


def test_explanation_names_covered_and_missing_skills(matcher: Matcher) -> None:
    top = matcher.rank_experts(NEED, k=1)[0]
    covered = {m.required: m.matched for m in top.explanation.covered_skills}
    related = {m.required: m.matched for m in top.explanation.related_skills}
    # USE puts the translation at 0.79: the same skill by the skills-gap report's rule (0.775),
    # so it is covered, as the report merges it.
    assert covered.get("épidémiologie") == "epidemiology"
    assert covered.get("biostatistique") == "biostatistics"
    assert "génie logiciel" in top.explanation.missing_skills
    assert "génie logiciel" not in related
    # Phrases are verbatim profile text, never generated.
    expert = PROFILES[0]
    verbatim = {expert.headline, *expert.skills, expert.bio}
    assert top.explanation.closest_phrases
    assert all(p.text in verbatim for p in top.explanation.closest_phrases)
    assert top.explanation.shared_languages == ["fr"]
    assert set(top.to_dict()["components"]) >= {"relevance", "score", "use.document"}


def test_a_neighbouring_skill_is_not_called_covering(matcher: Matcher) -> None:
    related: list[SkillMatch] = []
    covered, missing = match_skills(
        ["epidemiology", "project management"],
        ["forensic pathology", "gestión de proyectos"],
        matcher.encode_phrases,
        related=related,
    )
    assert [(m.required, m.matched) for m in covered] == [
        ("project management", "gestión de proyectos")
    ]
    assert missing == ["epidemiology"]  # 0.73: a neighbouring field, not the skill
    assert [(m.required, m.matched) for m in related] == [("epidemiology", "forensic pathology")]


def test_rank_needs_puts_the_matching_need_first(matcher: Matcher) -> None:
    other = NeedRecord(
        "fr-pont",
        "Conception de ponts",
        "Un ministère cherche un ingénieur pour revoir la conception d'un pont en béton.",
        languages=["fr"],
    )
    ranked = matcher.rank_needs(PROFILES[0], [other, NEED], k=2)
    assert [c.need_id for c in ranked] == ["fr-epi", "fr-pont"]
