"""The same skill asked in several languages: the worker embeds what needs ask, the skills-gap
report groups it (`matching.skill_groups`) from the stored vectors, never embedding itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from matching.skill_groups import SkillGroup, group_skills
from service.repos import skill_vectors as skill_vectors_repo

EMBED_BATCH = 256
Encode = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def embed_asked_skills(session: Session, *, model: str, encode: Encode) -> int:
    """Embeds the skills open needs ask that have no vector yet; returns how many (no commit)."""
    asked = skill_vectors_repo.skills_of_open_needs(session)
    known = skill_vectors_repo.vectors_for(session, texts=asked, model=model)
    missing = sorted(asked - known.keys())
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        vectors = encode(batch)
        skill_vectors_repo.add_vectors(
            session, model=model, vectors=dict(zip(batch, vectors, strict=True))
        )
    return len(missing)


def skill_groups(session: Session, *, counts: Mapping[str, int], model: str) -> list[SkillGroup]:
    """Groups the skills asked (label -> how often) that mean the same, from stored vectors."""
    vectors = skill_vectors_repo.vectors_for(session, texts=counts.keys(), model=model)
    return group_skills(counts, vectors)
