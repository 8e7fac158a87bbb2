"""The same skill asked in several languages, as one group: greedy by frequency.

The most asked skill founds a group; every next skill joins the group whose founder it is
closest to, when that similarity reaches the threshold, or founds its own. Comparing with the
founder only (not with every member) keeps chains like A~B~C from merging A with C.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Phrase cosine (USE) from which two skill phrases are one skill, whatever their languages:
# precision 0.94, recall 0.23 on 10,569 cross-language ESCO pairs (bench/skill_merge_threshold.py,
# docs/matching.md). Recall is low because every negative pair is a close neighbour. The one rule
# for "the same skill": the skills-gap report merges by it and an explanation covers by it.
MERGE_THRESHOLD = 0.775


def same_skill(similarity: float) -> bool:
    """Tells whether two skill phrases at this cosine are one skill («épidémiologie» and
    "epidemiology", 0.79): the rule the skills-gap rows and the covered skills share."""
    return similarity >= MERGE_THRESHOLD


@dataclass(frozen=True)
class SkillGroup:
    """One skill: the label most asked, then its variants, most asked first."""

    canonical: str
    variants: tuple[str, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        return (self.canonical, *self.variants)


def group_skills(
    counts: Mapping[str, int],
    vectors: Mapping[str, npt.NDArray[np.float32]],
) -> list[SkillGroup]:
    """Groups skills that mean the same; a skill without a vector stays alone. Deterministic:
    the order is by count, then by label."""
    order = sorted(counts, key=lambda skill: (-counts[skill], skill))
    founders: list[str] = []
    founder_vectors: list[npt.NDArray[np.float32]] = []
    members: dict[str, list[str]] = {}
    for skill in order:
        vector = vectors.get(skill)
        if vector is not None and founder_vectors:
            similarities = np.stack(founder_vectors) @ np.asarray(vector, dtype=np.float32)
            best = int(np.argmax(similarities))
            if same_skill(float(similarities[best])):
                members[founders[best]].append(skill)
                continue
        members[skill] = []
        if vector is not None:
            founders.append(skill)
            founder_vectors.append(np.asarray(vector, dtype=np.float32))
    return [SkillGroup(skill, tuple(variants)) for skill, variants in members.items()]
