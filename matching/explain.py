"""Explanations a coordinator can check: covered and missing skills, closest profile phrases."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from matching.constraints import Assessment
from matching.fusion import GOOD_SCORE, STRONG_SCORE
from matching.records import ExpertRecord, Explanation, NeedRecord, Phrase, SkillMatch
from matching.skill_groups import same_skill
from matching.texts import normalise_skill

# Texts in, L2-normalised rows out (short phrases, compared with each other).
PhraseEncoder = Callable[[Sequence[str]], NDArray[np.float32]]

# Whether a profile skill covers a skill asked is `skill_groups.same_skill`, the rule by which
# the skills-gap report merges «épidémiologie» with "epidemiology" (USE cosine 0.775): one answer
# to "is this the same skill?" on every page (docs/matching.md). Above this floor, but not the
# same skill, a profile skill is shown as related, never as covering: «forensic pathology» is
# 0.73 from "epidemiology".
SKILL_RELATED_THRESHOLD = 0.70
PHRASE_FLOOR = 0.25
MAX_PHRASES = 3
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+|\n+")

# How strong a proposal reads to a person, weakest first (docs/matching.md, "Match strength").
MatchStrength = Literal["weak", "fair", "good", "strong"]
STRENGTHS: tuple[MatchStrength, ...] = ("weak", "fair", "good", "strong")


def match_strength(
    score: float,
    *,
    asked: int,
    covered: int,
    related: int = 0,
    cap: MatchStrength = "strong",
) -> MatchStrength:
    """Gets a proposal's strength: its score's band, capped by the skills asked it covers and
    by `cap` (what the caller's concerns allow: hours already promised, dates not free).

    The score says how much closer the profile reads to the need than the rest of the roster;
    the skills say what a person reads first. A strong match covers every skill asked, a good
    one at least one, a fair one at least a related one; one that covers none, not even a
    related one, is weak whatever its score. A need that asks no skill leaves the score alone.
    Only the label: the ranking (scores, order) does not change.
    """
    band: MatchStrength = (
        "strong" if score >= STRONG_SCORE else "good" if score >= GOOD_SCORE else "fair"
    )
    if asked <= 0:
        return min(band, cap, key=STRENGTHS.index)
    skills: MatchStrength = (
        "strong"
        if covered >= asked
        else "good"
        if covered > 0
        else "fair"
        if related > 0
        else "weak"
    )
    return min(band, skills, cap, key=STRENGTHS.index)


def strength_order(strengths: Sequence[MatchStrength]) -> list[int]:
    """Gets the positions of a list ranked by score (best first) in the order a person reads it:
    strongest label first, the score's order kept among equal labels.

    The score is how close the profile reads; the label also counts the skills asked and the
    concerns, which the score does not, so in score order "Fair" could follow "Weak". Ordering
    by label first keeps every label the candidate's own (none lowered for a neighbour's sake,
    none raised) and labels never go up as the rank goes down (docs/matching.md).
    """
    return sorted(range(len(strengths)), key=lambda i: -STRENGTHS.index(strengths[i]))


def profile_phrases(expert: ExpertRecord) -> list[tuple[str, str]]:
    """Verbatim phrases of a profile with their source: headline, skills, bio sentences."""
    phrases: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(text: str, source: str) -> None:
        text = text.strip()
        key = normalise_skill(text)
        if text and key and key not in seen:
            seen.add(key)
            phrases.append((text, source))

    add(expert.headline, "headline")
    for skill in expert.skills:
        add(skill, "skill")
    for sentence in _SENTENCE_END.split(expert.bio):
        add(sentence, "bio")
    return phrases


def match_skills(
    required: Sequence[str],
    offered: Sequence[str],
    encode: PhraseEncoder,
    related: list[SkillMatch] | None = None,
) -> tuple[list[SkillMatch], list[str]]:
    """Matches each required skill to the closest profile skill: exact first, then the same
    skill in other words or another language (`same_skill`, the skills-gap report's rule).

    A required skill whose closest profile skill is only related stays missing; the pair is
    added to `related` when a list is given.
    """
    covered: list[SkillMatch] = []
    missing: list[str] = []
    if not required:
        return covered, missing
    by_norm = {normalise_skill(s): s for s in offered}
    pending = []
    for skill in required:
        exact = by_norm.get(normalise_skill(skill))
        if exact is not None:
            covered.append(SkillMatch(skill, exact, 1.0, "exact"))
        else:
            pending.append(skill)
    if pending and offered:
        sims = encode(pending) @ encode(offered).T
        for row, skill in enumerate(pending):
            best = int(np.argmax(sims[row]))
            similarity = float(sims[row, best])
            if same_skill(similarity):
                covered.append(SkillMatch(skill, offered[best], round(similarity, 3), "semantic"))
            else:
                missing.append(skill)
                if related is not None and similarity >= SKILL_RELATED_THRESHOLD:
                    related.append(
                        SkillMatch(skill, offered[best], round(similarity, 3), "related")
                    )
    else:
        missing.extend(pending)
    order = {skill: i for i, skill in enumerate(required)}
    covered.sort(key=lambda m: order[m.required])
    return covered, missing


def closest_phrases(
    need_text: str, expert: ExpertRecord, encode: PhraseEncoder, limit: int = MAX_PHRASES
) -> list[Phrase]:
    """The profile phrases most similar to the need's text, with their cosine similarity."""
    phrases = profile_phrases(expert)
    if not phrases or not need_text.strip():
        return []
    sims = encode([t for t, _ in phrases]) @ encode([need_text])[0]
    order = np.argsort(-sims, kind="stable")[:limit]
    return [
        Phrase(phrases[i][0], phrases[i][1], round(float(sims[i]), 3))
        for i in order
        if sims[i] >= PHRASE_FLOOR
    ]


def phrases_to_embed(expert: ExpertRecord, need: NeedRecord, need_text: str) -> list[str]:
    """Every text `build_explanation` embeds for this pair, so a caller can embed the texts of
    several pairs in one call beforehand (one encoder call, not two per pair)."""
    texts = [t for t, _ in profile_phrases(expert)]
    if need_text.strip():
        texts.append(need_text)
    offered = {normalise_skill(s) for s in expert.skills}
    pending = [s for s in need.required_skills if normalise_skill(s) not in offered]
    if pending and expert.skills:
        texts.extend(pending)
        texts.extend(expert.skills)
    return texts


def build_explanation(
    expert: ExpertRecord,
    need: NeedRecord,
    assessment: Assessment,
    encode: PhraseEncoder,
    need_text: str,
) -> Explanation:
    """Assembles the checkable facts behind one proposal."""
    related: list[SkillMatch] = []
    covered, missing = match_skills(need.required_skills, expert.skills, encode, related=related)
    notes = list(assessment.exclusions)
    return Explanation(
        covered_skills=covered,
        missing_skills=missing,
        related_skills=related,
        closest_phrases=closest_phrases(need_text, expert, encode),
        shared_languages=assessment.shared_languages,
        missing_languages=assessment.missing_languages,
        mode=assessment.mode,
        availability=assessment.availability,
        timezone=assessment.timezone,
        overlap_hours=assessment.overlap_hours,
        country_tie=assessment.country_tie,
        notes=notes,
        facts=dict(assessment.facts),
    )
