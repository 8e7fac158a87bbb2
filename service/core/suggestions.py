"""Experts an institution suggests, from the roster, for one of its open needs: recorded once,
and the coordinators are told, who may offer the engagement from the need's review page. The
institution learns nothing more of the expert than the roster showed it."""

from __future__ import annotations

from sqlmodel import Session

from service.config import Settings
from service.core import changes, policy
from service.core.audit import record
from service.errors import Conflict, NotFound
from service.i18n import N_
from service.models import ExpertSuggestion, NeedStatus, User
from service.models.types import utcnow
from service.repos import experts as experts_repo
from service.repos import needs as needs_repo
from service.repos import suggestions as suggestions_repo

SUGGESTED = "need.suggestion"
NEED_NOT_FOUND = N_("This need does not exist.")
EXPERT_NOT_FOUND = N_("This expert is no longer in the roster you can see.")
NEED_NOT_OPEN: dict[str, str] = {
    NeedStatus.DRAFT: N_("This need is a draft: publish it before suggesting experts for it."),
    NeedStatus.FILLED: N_("This need is filled: it takes no more suggestions."),
    NeedStatus.CLOSED: N_("This need is closed: it takes no more suggestions."),
}


def suggest_expert(
    session: Session,
    *,
    reader: policy.Reader,
    actor: User,
    need_id: int,
    expert_id: int,
    settings: Settings,
) -> tuple[ExpertSuggestion, bool]:
    """Records that an institution suggests an expert it found in the roster for one of its
    needs (once) and tells the coordinators; gets the suggestion and whether it is new. A need not
    the institution's, or an expert it cannot see, is not found; a need not open is a 409."""
    policy.require(reader, policy.Action.SUGGEST_EXPERT)
    need = needs_repo.get_need(session, need_id)
    if need is None or reader.institution_id != need.institution_id:
        raise NotFound(NEED_NOT_FOUND)
    expert = experts_repo.get_expert(session, expert_id)
    if expert is None or policy.expert_view(reader, expert) == policy.ExpertView.HIDDEN:
        raise NotFound(EXPERT_NOT_FOUND)
    if not policy.may_suggest_for(reader, need):
        raise Conflict(NEED_NOT_OPEN.get(need.status, ""))
    now = utcnow()
    new = suggestions_repo.add(
        session, need_id=need_id, expert_id=expert_id, suggested_by_id=actor.id, now=now
    )
    suggestion = suggestions_repo.get_pair(session, need_id=need_id, expert_id=expert_id)
    if suggestion is None:  # pragma: no cover - inserted or found just above
        raise NotFound(EXPERT_NOT_FOUND)
    if not new:
        return suggestion, False
    record(
        session,
        actor=actor,
        action=SUGGESTED,
        entity_type="need",
        entity_id=need_id,
        data={"expert_id": expert_id},
    )
    changes.expert_suggested(session, need=need, actor=actor, settings=settings, now=now)
    return suggestion, True


def suggested_count(session: Session, *, need_id: int) -> int:
    """Counts the experts an institution suggested for its need (what its page says, no names)."""
    return suggestions_repo.count_for_need(session, need_id)
