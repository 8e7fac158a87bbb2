"""Match proposals over the API: coordinators approve or reject them, one by one or in bulk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from service.core import policy
from service.core.engagements import engagement_view
from service.core.proposals import (
    approve_proposal,
    decide_in_bulk,
    reconfirm_availability,
    reject_proposal,
    review_rows,
)
from service.deps import RequireExpert, RequireStaff, SessionDep, StateDep
from service.errors import NotFound
from service.models import MatchProposal
from service.repos import experts as experts_repo
from service.repos import needs as needs_repo
from service.repos import proposals as proposals_repo
from service.routes.params import Id, QueryId
from service.schemas.engagements import BulkDecision, Decision, EngagementRead, ProposalList

router = APIRouter(prefix="/api", tags=["proposals"])


class DecidedProposals(BaseModel):
    items: list[MatchProposal]


class AvailabilityConfirmed(BaseModel):
    availability_confirmed_at: datetime | None


def _proposal(session: SessionDep, proposal_id: int) -> MatchProposal:
    proposal = proposals_repo.get_proposal(session, proposal_id)
    if proposal is None:
        raise NotFound("This proposal does not exist.")
    return proposal


@router.get("/proposals", response_model=ProposalList, response_model_exclude_unset=True)
def list_proposals(user: RequireStaff, session: SessionDep, need_id: QueryId) -> dict[str, Any]:
    """Lists a need's proposals, best first, with their scores and explanations."""
    if needs_repo.get_need(session, need_id) is None:
        raise NotFound("This need does not exist.")
    figures = policy.may(policy.reader_for(session, user), policy.Action.READ_MATCHER_FIGURES)
    items = [
        {
            **row["proposal"].model_dump(mode="json"),
            **({} if figures else {"components": {}}),
            "expert": row["expert"],
            "engagement_id": row["engagement"].id if row["engagement"] else None,
        }
        for row in review_rows(session, need_id=need_id, reader=user)
    ]
    return {"items": items, "total": len(items)}


@router.post("/proposals/bulk", response_model=DecidedProposals)
def bulk(body: BulkDecision, user: RequireStaff, session: SessionDep, state: StateDep) -> Any:
    """Approves or rejects several proposals of one need at once: all of them, or none."""
    proposals = decide_in_bulk(
        session,
        need_id=body.need_id,
        proposal_ids=body.proposal_ids,
        action=body.action,
        reason=body.reason,
        coordinator=user,
        settings=state.settings,
    )
    session.commit()
    return {"items": proposals}


@router.post(
    "/proposals/{proposal_id}/approve",
    response_model=EngagementRead,
    response_model_exclude_unset=True,
)
def approve(
    proposal_id: Id,
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    body: Decision | None = None,
) -> dict[str, Any]:
    """Approves a proposal: the expert is offered the engagement."""
    engagement = approve_proposal(
        session,
        proposal=_proposal(session, proposal_id),
        coordinator=user,
        settings=state.settings,
        reason=body.reason if body else "",
    )
    session.commit()
    return engagement_view(session, engagement=engagement, reader=user)


@router.post("/proposals/{proposal_id}/reject", response_model=MatchProposal)
def reject(
    proposal_id: Id, body: Decision, user: RequireStaff, session: SessionDep
) -> MatchProposal:
    """Rejects a proposal with a reason."""
    proposal = reject_proposal(
        session, proposal=_proposal(session, proposal_id), coordinator=user, reason=body.reason
    )
    session.commit()
    return proposal


@router.post("/experts/me/availability", response_model=AvailabilityConfirmed)
def still_available(user: RequireExpert, session: SessionDep) -> dict[str, Any]:
    """Confirms that the current expert is still available."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    reconfirm_availability(session, expert=expert, actor=user)
    session.commit()
    return {"availability_confirmed_at": expert.availability_confirmed_at}
