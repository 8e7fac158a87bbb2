"""Side by side: two or three of a need's candidates, and what each brings to every part of it.

Nothing here judges a skill again: covered, related and missing come from the explanation as
`explanation_for_people` reads it, with the threshold the matcher and the pages share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.core.matching import COMMITTING
from service.core.needs import interested_experts
from service.core.proposals import review_page_rows
from service.errors import FieldErrors, NotFound
from service.i18n import N_
from service.models import Need, User
from service.repos import engagements as engagements_repo
from service.repos import needs as needs_repo

MIN_COMPARED, MAX_COMPARED = 2, 3
PICK_TWO_OR_THREE = N_("Tick two or three candidates to compare them.")
NOT_A_CANDIDATE = N_("Only this need's candidates can be compared.")
COVERED, RELATED, MISSING = "covered", "related", "missing"


@dataclass(frozen=True)
class SkillFit:
    """How one candidate meets one skill the need asks for."""

    asked: str
    status: str  # covered, related or missing
    found: str  # the profile skill that covers it or is related ("" when missing)


@dataclass(frozen=True)
class Load:
    """What a candidate has already promised: running engagements and their weekly hours."""

    engagements: int
    hours_per_week: float


@dataclass(frozen=True)
class Compared:
    """One column of the comparison: a ranked candidate and what the page shows of them."""

    rank: int
    row: dict[str, Any]
    skills: list[SkillFit]
    interested: bool
    load: Load


def chosen_ids(values: Sequence[str]) -> list[int]:
    """Reads the experts to compare from a form or a query: two or three distinct ids."""
    if not all(str(v).strip().isdigit() for v in values):
        raise FieldErrors({"expert": PICK_TWO_OR_THREE})
    ids = list(dict.fromkeys(int(str(v).strip()) for v in values))
    if not MIN_COMPARED <= len(ids) <= MAX_COMPARED:
        raise FieldErrors({"expert": PICK_TWO_OR_THREE})
    return ids


def skill_fits(asked: Sequence[str], explanation: dict[str, Any]) -> list[SkillFit]:
    """Says, for each skill asked, whether the explanation found it covered, related or missing."""

    def by_asked(name: str) -> dict[str, str]:
        return {
            str(s["required"]).casefold(): str(s["matched"]) for s in explanation.get(name) or []
        }

    covered, related = by_asked("covered_skills"), by_asked("related_skills")
    fits = []
    for skill in asked:
        key = skill.casefold()
        if key in covered:
            fits.append(SkillFit(skill, COVERED, covered[key]))
        elif key in related:
            fits.append(SkillFit(skill, RELATED, related[key]))
        else:
            fits.append(SkillFit(skill, MISSING, ""))
    return fits


def compare_candidates(
    session: Session, *, need_id: int, expert_ids: Sequence[int], reader: User
) -> tuple[Need, list[Compared]]:
    """Gets the chosen candidates of a need in rank order, each with their fit part by part."""
    need = needs_repo.get_need(session, need_id)
    if need is None:
        raise NotFound(N_("This need does not exist."))
    if not MIN_COMPARED <= len(set(expert_ids)) <= MAX_COMPARED:
        raise FieldErrors({"expert": PICK_TWO_OR_THREE})
    ranked = {
        row["proposal"].expert_id: (rank, row)
        for rank, row in enumerate(
            review_page_rows(session, need_id=need_id, reader=reader), start=1
        )
    }
    if any(expert_id not in ranked for expert_id in expert_ids):
        raise FieldErrors({"expert": NOT_A_CANDIDATE})
    interested = interested_experts(session, need_id=need_id)
    loads = engagements_repo.load_of_experts(
        session, expert_ids=list(expert_ids), statuses=list(COMMITTING)
    )
    columns = [
        Compared(
            rank=rank,
            row=row,
            skills=skill_fits(need.required_skills, row["explanation"]),
            interested=expert_id in interested,
            load=Load(*loads.get(expert_id, (0, 0.0))),
        )
        for expert_id, (rank, row) in ranked.items()
        if expert_id in expert_ids
    ]
    return need, sorted(columns, key=lambda c: c.rank)
