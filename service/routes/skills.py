"""Skills already in use, for autocompletion in the profile and need editors."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from service.deps import CurrentUser, SessionDep, StateDep
from service.i18n import fold
from service.repos import stats as stats_repo
from service.state import AppState

router = APIRouter(prefix="/api/skills", tags=["skills"])

CACHE_KEY = "skills_in_use"
CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class SkillCount:
    skill: str
    folded: str
    words: tuple[str, ...]
    count: int


def _count_skills(session: Session) -> list[SkillCount]:
    """Counts every skill of every profile and need; the most common spelling names each."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for skills in stats_repo.skill_lists(session):
        for raw in skills:
            skill = " ".join(str(raw).split())
            if not skill:
                continue
            key = fold(skill)
            counts[key] += 1
            spellings.setdefault(key, Counter())[skill] += 1
    return [
        SkillCount(
            skill=spellings[key].most_common(1)[0][0],
            folded=key,
            words=tuple(key.replace("-", " ").replace("/", " ").split()),
            count=count,
        )
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def skills_in_use(state: AppState, session: Session) -> list[SkillCount]:
    """Gets the skills in use, most used first; recounted at most once a minute."""
    cached = state.extras.get(CACHE_KEY)
    now = time.monotonic()
    if cached is not None and now - cached[0] < CACHE_TTL_S:
        skills: list[SkillCount] = cached[1]
        return skills
    skills = _count_skills(session)
    state.extras[CACHE_KEY] = (now, skills)
    return skills


def matching_skills(skills: list[SkillCount], q: str, limit: int) -> list[SkillCount]:
    """Keeps the skills whose name or one of its words starts with q, ignoring accents."""
    prefix = fold(q)
    if not prefix:
        return skills[:limit]
    found = [
        s
        for s in skills
        if s.folded.startswith(prefix) or any(w.startswith(prefix) for w in s.words)
    ]
    # Most used first; among equals, a name that starts with q before one where a word does.
    found.sort(key=lambda s: (-s.count, not s.folded.startswith(prefix), s.folded))
    return found[:limit]


class SkillInUse(BaseModel):
    skill: str
    count: int


class SkillSuggestions(BaseModel):
    q: str
    items: list[SkillInUse]


@router.get("", response_model=SkillSuggestions)
def suggest_skills(
    user: CurrentUser,
    state: StateDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Lists the most used skills that start with q (accent- and case-insensitive)."""
    found = matching_skills(skills_in_use(state, session), q, limit)
    return {"q": q, "items": [{"skill": s.skill, "count": s.count} for s in found]}
