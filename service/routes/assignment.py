"""The assignment plan over the API: solve it with locks and exclusions, approve it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.core.assignment import (
    AssignmentView,
    PlannedOffer,
    approve_plan,
    plan_assignments,
    team_for_need,
)
from service.core.engagements import engagement_view
from service.deps import RequireStaff, SessionDep, StateDep
from service.errors import NotFound
from service.repos import needs as needs_repo
from service.routes.params import QueryId
from service.schemas.assignment import (
    ApprovedOffers,
    AssignmentPlanRead,
    PlanApproval,
    PlanRequest,
    TeamAnswer,
)

router = APIRouter(prefix="/api/assignment", tags=["assignment"])


def _offer(offer: PlannedOffer) -> dict[str, Any]:
    proposal = offer.proposal
    return {
        "proposal_id": proposal.id,
        "expert_id": proposal.expert_id,
        "display_name": offer.expert.get("display_name", ""),
        "score": proposal.score,
        "locked": offer.locked,
        "explanation": offer.explanation,
    }


def _view(view: AssignmentView) -> dict[str, Any]:
    def plan(name: str) -> dict[str, Any]:
        solved = view.plan if name == "plan" else view.greedy
        summary = solved.summary.to_dict() if solved.summary else {}
        return {**summary, "method": solved.method, "seconds": round(solved.seconds, 3)}

    return {
        "plan": plan("plan"),
        "greedy": plan("greedy"),
        "needs": [
            {
                "need_id": n.need.id,
                "title": n.need.title,
                "country": n.institution.country,
                "sector": n.need.sector,
                "seats": n.seats,
                "planned": [_offer(o) for o in n.planned],
                "greedy": [_offer(o) for o in n.greedy],
            }
            for n in view.needs
        ],
        "proposal_ids": view.proposal_ids,
        "locked": view.locked,
        "excluded": view.excluded,
        "unsatisfiable_locks": view.unsatisfiable_locks,
    }


def _solve(body: PlanRequest, user: RequireStaff, session: SessionDep, state: StateDep) -> Any:
    return _view(
        plan_assignments(
            session,
            reader=user,
            settings=state.settings,
            country=body.country,
            sector=body.sector,
            locked=body.locked,
            excluded=body.excluded,
        )
    )


@router.get("", response_model=AssignmentPlanRead)
def get_plan(
    user: RequireStaff,
    session: SessionDep,
    state: StateDep,
    query: Annotated[PlanRequest, Query()],
) -> dict[str, Any]:
    """Solves the plan over the open needs (?country= ?sector= ?locked= ?excluded=), beside
    the greedy "top candidate of each need"."""
    result: dict[str, Any] = _solve(query, user, session, state)
    return result


@router.post("/solve", response_model=AssignmentPlanRead)
def solve(
    body: PlanRequest, user: RequireStaff, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    """Solves the plan again with the pairs the coordinator locked or excluded."""
    result: dict[str, Any] = _solve(body, user, session, state)
    return result


@router.post("/approve", response_model=ApprovedOffers)
def approve(
    body: PlanApproval, user: RequireStaff, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    """Approves the offers of a plan, whole or one need's: all of them or none (409)."""
    engagements = approve_plan(
        session, proposal_ids=body.proposal_ids, coordinator=user, settings=state.settings
    )
    session.commit()
    items = [engagement_view(session, engagement=e, reader=user) for e in engagements]
    return {"items": items, "total": len(items)}


@router.get("/team", response_model=TeamAnswer)
def team(user: RequireStaff, session: SessionDep, need_id: QueryId) -> dict[str, Any]:
    """Proposes a team for a need no single candidate covers (null team when none helps)."""
    need = needs_repo.get_need(session, need_id)
    if need is None:
        raise NotFound("This need does not exist.")
    found = team_for_need(session, need=need)
    if found is None:
        return {"need_id": need_id, "team": None}
    t = found.team
    return {
        "need_id": need_id,
        "team": {
            "members": [
                {
                    "proposal_id": p.id,
                    "expert_id": p.expert_id,
                    "covers": [c.__dict__ for c in m.covers],
                }
                for m, p in zip(t.members, found.proposals, strict=True)
            ],
            "covered": t.covered,
            "missing": t.missing,
            "share": t.share,
            "best_single_share": t.best_single_share,
        },
    }
