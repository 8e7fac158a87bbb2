"""The assignment plan: who to offer to whom across open needs, within every expert's
capacity, beside the greedy "top candidate of each need"; and teams for needs one expert
cannot cover. The solving is `matching.assignment`'s; this module feeds it stored proposals.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from matching.assignment import (
    AssignmentProblem,
    Capacity,
    InfeasibleLocks,
    Pair,
    Plan,
    SkillCover,
    SkillEvidence,
    Team,
    greedy_plan,
    overloaded,
    propose_team,
    solve_plan,
)
from service.config import Settings
from service.core.audit import record
from service.core.experts import view_for
from service.core.matching import WEEKS_PER_MONTH, committed_hours
from service.core.proposals import approve_proposal, explanation_for_people
from service.errors import Conflict, NotAllowed, NotFound
from service.i18n import N_
from service.models import (
    Engagement,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    ProposalStatus,
    User,
)
from service.models.types import utcnow
from service.repos import assignment as assignment_repo
from service.repos import proposals as proposals_repo


@dataclass
class PlannedOffer:
    """One offer of a plan, with what a coordinator checks before approving it."""

    proposal: MatchProposal
    expert: dict[str, Any]
    explanation: dict[str, Any]
    locked: bool = False


@dataclass
class NeedPlan:
    """A need in the plan: its free seats, the plan's offers and the greedy's."""

    need: Need
    institution: Institution
    seats: int
    planned: list[PlannedOffer] = field(default_factory=list)
    greedy: list[PlannedOffer] = field(default_factory=list)


@dataclass
class AssignmentView:
    """The plan beside the greedy baseline, need by need."""

    plan: Plan
    greedy: Plan
    needs: list[NeedPlan]
    locked: list[int]
    excluded: list[int]
    unsatisfiable_locks: list[int] = field(default_factory=list)

    @property
    def proposal_ids(self) -> list[int]:
        """The proposals the plan would approve."""
        return [o.proposal.id or 0 for n in self.needs for o in n.planned]


def _require_staff(user: User) -> None:
    if not user.is_staff:
        raise NotAllowed("Only a coordinator can plan assignments.")


def _capacity(
    experts: dict[int, ExpertProfile],
    committed: dict[int, float],
    offers: dict[int, int],
    settings: Settings,
) -> dict[str, Capacity]:
    """What each expert can still take: free weekly hours (declared minus committed), offers."""
    out = {}
    for expert_id, expert in experts.items():
        declared = expert.hours_per_month / WEEKS_PER_MONTH if expert.hours_per_month else None
        out[str(expert_id)] = Capacity(
            free_hours=None if declared is None else declared - committed.get(expert_id, 0.0),
            open_offers=offers.get(expert_id, 0),
            max_open_offers=settings.assignment_max_open_offers if expert.active else 0,
        )
    return out


def _problem(
    session: Session,
    proposals: list[MatchProposal],
    needs: dict[int, Need],
    settings: Settings,
    *,
    locked: Collection[int] = (),
    excluded: Collection[int] = (),
) -> AssignmentProblem:
    """The solver's input from stored proposals and the current load of their experts."""
    need_ids = list(needs)
    expert_ids = sorted({p.expert_id for p in proposals})
    taken = assignment_repo.seats_taken(session, need_ids)
    key = {p.id: (str(p.need_id), str(p.expert_id)) for p in proposals}
    return AssignmentProblem(
        pairs=[
            Pair(str(p.need_id), str(p.expert_id), p.score, float(needs[p.need_id].hours_per_week))
            for p in proposals
        ],
        capacity=_capacity(
            assignment_repo.experts_by_id(session, expert_ids),
            committed_hours(session),
            assignment_repo.open_offers(session, expert_ids),
            settings,
        ),
        seats={str(n): max(0, needs[n].experts_wanted - taken.get(n, 0)) for n in need_ids},
        locked=frozenset(key[i] for i in locked if i in key),
        excluded=frozenset(key[i] for i in excluded if i in key),
    )


def plan_assignments(
    session: Session,
    *,
    reader: User,
    settings: Settings,
    country: str | None = None,
    sector: str | None = None,
    locked: list[int] | None = None,
    excluded: list[int] | None = None,
) -> AssignmentView:
    """Solves the plan over the open needs (of one country or sector) and the greedy beside it.

    Locks that cannot all hold are dropped and reported; the plan is solved without them.
    """
    _require_staff(reader)
    rows = assignment_repo.open_needs(session, country=country, sector=sector)
    needs = {n.id or 0: n for n, _ in rows}
    proposals = assignment_repo.pending_proposals(session, list(needs))
    by_id = {p.id or 0: p for p in proposals}
    locks = {i for i in locked or [] if i in by_id}
    exclusions = {i for i in excluded or [] if i in by_id} - locks
    problem = _problem(session, proposals, needs, settings, locked=locks, excluded=exclusions)
    unsatisfiable: list[int] = []
    try:
        plan = solve_plan(problem, time_limit_s=settings.assignment_time_limit_s)
    except InfeasibleLocks as exc:
        bad = set(exc.keys)
        unsatisfiable = sorted(
            i for i in locks if (str(by_id[i].need_id), str(by_id[i].expert_id)) in bad
        )
        locks -= set(unsatisfiable)
        problem.locked = frozenset(k for k in problem.locked if k not in bad)
        plan = solve_plan(problem, time_limit_s=settings.assignment_time_limit_s)
    greedy = greedy_plan(problem)
    by_key = {(str(p.need_id), str(p.expert_id)): p for p in proposals}
    experts = assignment_repo.experts_by_id(session, sorted({p.expert_id for p in proposals}))

    def offer(pair: Pair) -> PlannedOffer:
        proposal = by_key[pair.key]
        expert = experts.get(proposal.expert_id)
        return PlannedOffer(
            proposal=proposal,
            expert=view_for(session, expert, reader=reader) if expert else {},
            explanation=explanation_for_people(proposal.explanation),
            locked=(proposal.id or 0) in locks,
        )

    plans = {
        n.id or 0: NeedPlan(n, i, problem.seats[str(n.id)])
        for n, i in rows
        if problem.seats[str(n.id)] > 0
    }
    for pair in plan.pairs:
        plans[int(pair.need_id)].planned.append(offer(pair))
    for pair in greedy.pairs:
        plans[int(pair.need_id)].greedy.append(offer(pair))
    return AssignmentView(
        plan=plan,
        greedy=greedy,
        needs=list(plans.values()),
        locked=sorted(locks),
        excluded=sorted(exclusions),
        unsatisfiable_locks=unsatisfiable,
    )


def approve_plan(
    session: Session,
    *,
    proposal_ids: list[int],
    coordinator: User,
    settings: Settings,
    now: datetime | None = None,
) -> list[Engagement]:
    """Approves the offers of a plan, whole or for one need: all of them, or none.

    Each goes through the normal approval (its audit and notification); the plan is checked
    again against the experts' current load and the needs' free seats, and audited as one.
    """
    _require_staff(coordinator)
    wanted = sorted(set(proposal_ids))
    proposals = proposals_repo.get_proposals(session, wanted)
    missing = sorted(set(wanted) - {p.id for p in proposals})
    if missing:
        raise NotFound(f"No proposal {missing[0]}.")
    needs = {n.id or 0: n for n in (_need_of(session, p) for p in proposals)}
    problem = _problem(session, proposals, needs, settings)
    pairs = [
        Pair(str(p.need_id), str(p.expert_id), p.score, float(needs[p.need_id].hours_per_week))
        for p in proposals
    ]
    over = overloaded(pairs, problem)
    if over:
        raise Conflict(N_("The plan is out of date: an expert no longer has the capacity for it."))
    for need_id in needs:
        if sum(p.need_id == need_id for p in proposals) > problem.seats[str(need_id)]:
            raise Conflict(N_("The plan is out of date: a need has no free seat left for it."))
    now = now or utcnow()
    engagements = []
    for proposal in proposals:
        try:
            engagements.append(
                approve_proposal(
                    session, proposal=proposal, coordinator=coordinator, settings=settings, now=now
                )
            )
        except Conflict as exc:
            raise type(exc)(
                exc.message, detail=f"Proposal {proposal.id}: {exc.detail}", **exc.params
            ) from exc
    record(
        session,
        actor=coordinator,
        action="assignment.approve",
        entity_type="assignment",
        entity_id=None,
        data={
            "proposal_ids": wanted,
            "engagement_ids": [e.id for e in engagements],
            "need_ids": sorted(needs),
        },
    )
    return engagements


def _need_of(session: Session, proposal: MatchProposal) -> Need:
    """Gets the need of a proposal."""
    need = session.get(Need, proposal.need_id)
    if need is None:
        raise NotFound("This need does not exist.")
    return need


class PendingProposal(Protocol):
    """What a team is made from: a proposal (a model, or the row a page holds)."""

    @property
    def id(self) -> int | None: ...
    @property
    def expert_id(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def status(self) -> str: ...


@dataclass
class TeamView:
    """A proposed team and the pending proposals to approve for it, in member order."""

    team: Team
    proposals: list[PendingProposal]


def team_for_need(
    session: Session,
    *,
    need: Need,
    proposals: Sequence[tuple[PendingProposal, dict[str, Any]]] | None = None,
) -> TeamView | None:
    """Proposes up to three experts whose skills together cover what no candidate covers alone,
    from the skill evidence of the need's pending proposals (read here, or taken from the
    need's `proposals` a page already holds, each with its explanation as
    `explanation_for_people` gives it)."""
    candidates: Sequence[tuple[PendingProposal, dict[str, Any]]] = (
        [
            (p, explanation_for_people(p.explanation))
            for p in assignment_repo.pending_proposals(session, [need.id or 0])
        ]
        if proposals is None
        else proposals
    )
    pending = sorted(
        (c for c in candidates if c[0].status == ProposalStatus.PROPOSED),
        key=lambda c: c[0].id or 0,
    )
    by_expert = {str(p.expert_id): p for p, _ in pending}
    evidence = [
        SkillEvidence(
            str(p.expert_id),
            p.score,
            [
                SkillCover(s["required"], s["matched"], s["similarity"] or 0.0)
                for s in explanation["covered_skills"]
            ],
        )
        for p, explanation in pending
    ]
    team = propose_team(list(need.required_skills), evidence)
    if team is None:
        return None
    return TeamView(team, [by_expert[m.expert_id] for m in team.members])
