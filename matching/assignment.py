"""Fair assignment across open needs, and teams for needs one expert cannot cover.

Both are integer programs solved by HiGHS through `scipy.optimize.milp`; this module only
builds the programs from plain data and reads the answers back.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

Key = tuple[str, str]  # (need_id, expert_id)
DEFAULT_MAX_OPEN_OFFERS = 3
DEFAULT_TIME_LIMIT_S = 20.0
MAX_TEAM = 3
# A team member must add at least this much skill evidence to be worth one more person.
TEAM_MEMBER_COST = 0.05


@dataclass(frozen=True)
class Pair:
    """One candidate the matcher ranked: an expert for a need, with its score and hours."""

    need_id: str
    expert_id: str
    score: float
    hours: float = 0.0  # weekly hours the engagement would take

    @property
    def key(self) -> Key:
        """The (need, expert) pair this candidate is about."""
        return (self.need_id, self.expert_id)


@dataclass(frozen=True)
class Capacity:
    """What an expert can still take on: free weekly hours (None: not declared) and offers."""

    free_hours: float | None
    open_offers: int = 0
    max_open_offers: int = DEFAULT_MAX_OPEN_OFFERS

    @property
    def free_offers(self) -> int:
        """Offers the expert may still receive."""
        return max(0, self.max_open_offers - self.open_offers)


@dataclass
class AssignmentProblem:
    """Candidates, capacities, seats per need, and the coordinator's locks and exclusions."""

    pairs: Sequence[Pair]
    capacity: Mapping[str, Capacity]
    seats: Mapping[str, int]  # experts still wanted per need
    locked: frozenset[Key] = frozenset()
    excluded: frozenset[Key] = frozenset()

    def usable(self) -> list[Pair]:
        """Candidates the plan may use: not excluded, for a need with a seat, one per key."""
        seen: dict[Key, Pair] = {}
        for pair in self.pairs:
            if pair.key in self.excluded or self.seats.get(pair.need_id, 0) <= 0:
                continue
            if pair.key not in seen or pair.score > seen[pair.key].score:
                seen[pair.key] = pair
        return list(seen.values())


@dataclass(frozen=True)
class PlanSummary:
    """What a coordinator compares between two plans."""

    needs: int
    needs_covered: int  # every seat filled
    seats: int
    seats_filled: int
    mean_score: float | None
    min_score: float | None
    max_offers: int  # the most-loaded expert's open offers once the plan is made
    over_capacity: int  # experts the plan would overload (hours or offers)

    def to_dict(self) -> dict[str, float | int | None]:
        """Returns a JSON-serialisable dict."""
        return dict(self.__dict__)


@dataclass
class Plan:
    """Who to offer to whom, how it was found and how long it took."""

    pairs: list[Pair]
    method: str  # "optimal", "time_limit" or "greedy"
    seconds: float = 0.0
    summary: PlanSummary | None = None
    notes: list[str] = field(default_factory=list)


class InfeasibleLocks(ValueError):
    """Locked pairs that cannot all hold: they overload an expert or a need."""

    def __init__(self, keys: Sequence[Key]) -> None:
        super().__init__(f"locked pairs over capacity: {sorted(keys)}")
        self.keys = list(keys)


def overloaded(pairs: Iterable[Pair], problem: AssignmentProblem) -> list[str]:
    """Experts the pairs push over their free hours or their free offers."""
    hours: dict[str, float] = defaultdict(float)
    offers: dict[str, int] = defaultdict(int)
    for pair in pairs:
        hours[pair.expert_id] += pair.hours
        offers[pair.expert_id] += 1
    out = []
    for expert_id, count in offers.items():
        cap = problem.capacity.get(expert_id, Capacity(free_hours=0.0, max_open_offers=0))
        too_many_hours = cap.free_hours is not None and hours[expert_id] > cap.free_hours + 1e-6
        if count > cap.free_offers or too_many_hours:
            out.append(expert_id)
    return sorted(out)


def summarise(pairs: Sequence[Pair], problem: AssignmentProblem) -> PlanSummary:
    """Needs covered, mean and minimum score, the most-loaded expert's offers."""
    filled: dict[str, int] = defaultdict(int)
    offers: dict[str, int] = defaultdict(int)
    for pair in pairs:
        filled[pair.need_id] += 1
        offers[pair.expert_id] += 1
    wanted = {n: s for n, s in problem.seats.items() if s > 0}
    scores = [p.score for p in pairs]
    loads = [
        count + problem.capacity.get(e, Capacity(None)).open_offers for e, count in offers.items()
    ]
    return PlanSummary(
        needs=len(wanted),
        needs_covered=sum(1 for n, s in wanted.items() if filled[n] >= s),
        seats=sum(wanted.values()),
        seats_filled=sum(min(filled[n], s) for n, s in wanted.items()),
        mean_score=float(np.mean(scores)) if scores else None,
        min_score=float(min(scores)) if scores else None,
        max_offers=max(loads, default=0),
        over_capacity=len(overloaded(pairs, problem)),
    )


def greedy_plan(problem: AssignmentProblem) -> Plan:
    """The baseline: each need offered to its top candidates, whatever their load."""
    started = time.perf_counter()
    by_need: dict[str, list[Pair]] = defaultdict(list)
    for pair in problem.usable():
        by_need[pair.need_id].append(pair)
    chosen: list[Pair] = []
    for need_id, pairs in by_need.items():
        pairs.sort(key=lambda p: (p.key not in problem.locked, -p.score, p.expert_id))
        chosen.extend(pairs[: problem.seats[need_id]])
    chosen.sort(key=lambda p: (p.need_id, -p.score))
    plan = Plan(chosen, "greedy", time.perf_counter() - started)
    plan.summary = summarise(chosen, problem)
    return plan


def solve_plan(problem: AssignmentProblem, *, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Plan:
    """The plan that covers the most needs within every capacity, then has the best total score.

    Two integer programs, both solved by HiGHS: the first finds the most needs (then seats)
    that can be covered, the second keeps that coverage and maximises the sum of scores.
    Raises `InfeasibleLocks` if the locked pairs alone overload an expert or a need.
    """
    started = time.perf_counter()
    pairs = problem.usable()
    locked = [p for p in pairs if p.key in problem.locked]
    too_full = [
        p.key
        for p in locked
        if p.expert_id in overloaded(locked, problem)
        or sum(q.need_id == p.need_id for q in locked) > problem.seats[p.need_id]
    ]
    if too_full:
        raise InfeasibleLocks(too_full)
    # A pair that alone breaks its expert's capacity can never be chosen.
    pairs = [p for p in pairs if p.key in problem.locked or not overloaded([p], problem)]
    if not pairs:
        plan = Plan([], "optimal", time.perf_counter() - started)
        plan.summary = summarise([], problem)
        return plan
    needs = sorted({p.need_id for p in pairs})
    experts = sorted({p.expert_id for p in pairs})
    n_pairs, n_needs = len(pairs), len(needs)
    need_row = {n: i for i, n in enumerate(needs)}
    expert_row = {e: i for i, e in enumerate(experts)}
    y = np.arange(n_needs) + n_pairs  # column of "need fully covered"
    seats = np.array([problem.seats[n] for n in needs], dtype=float)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def constraint(entries: Iterable[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(lower)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lower.append(lo)
        upper.append(hi)

    by_need: dict[int, list[int]] = defaultdict(list)
    by_expert: dict[int, list[int]] = defaultdict(list)
    for j, p in enumerate(pairs):
        by_need[need_row[p.need_id]].append(j)
        by_expert[expert_row[p.expert_id]].append(j)
    for i, js in by_need.items():
        constraint(((j, 1.0) for j in js), 0.0, seats[i])  # no more experts than seats
        # covered only when every seat is filled
        constraint([*((j, 1.0) for j in js), (int(y[i]), -seats[i])], 0.0, np.inf)
    for e, js in by_expert.items():
        cap = problem.capacity.get(experts[e], Capacity(free_hours=0.0, max_open_offers=0))
        constraint(((j, 1.0) for j in js), 0.0, float(cap.free_offers))
        if cap.free_hours is not None and any(pairs[j].hours > 0 for j in js):
            constraint(((j, pairs[j].hours) for j in js), 0.0, cap.free_hours + 1e-6)

    n_vars = n_pairs + n_needs
    matrix = coo_array((vals, (rows, cols)), shape=(len(lower), n_vars)).tocsr()
    base = LinearConstraint(matrix, np.array(lower), np.array(upper))
    lo_bounds = np.zeros(n_vars)
    for j, p in enumerate(pairs):
        if p.key in problem.locked:
            lo_bounds[j] = 1.0
    bounds = Bounds(lo_bounds, np.ones(n_vars))
    integrality = np.ones(n_vars)
    deadline = started + time_limit_s

    # Phase 1: most needs covered, then most seats filled (integer weights, exact).
    weight = float(seats.sum() + 1)
    coverage = np.concatenate([np.ones(n_pairs), np.full(n_needs, weight)])
    first = milp(
        -coverage,
        constraints=[base],
        bounds=bounds,
        integrality=integrality,
        options={"time_limit": max(1.0, deadline - time.perf_counter())},
    )
    if first.x is None:
        raise RuntimeError(f"the solver found no plan: {first.message}")
    best = float(np.round(coverage @ first.x))
    # Phase 2: keep that coverage, maximise the total score.
    keep = LinearConstraint(coverage.reshape(1, -1), best - 0.5, np.inf)
    scores = np.concatenate([np.array([p.score for p in pairs]), np.zeros(n_needs)])
    second = milp(
        -scores,
        constraints=[base, keep],
        bounds=bounds,
        integrality=integrality,
        options={"time_limit": max(1.0, deadline - time.perf_counter()), "mip_rel_gap": 1e-6},
    )
    answer = second if second.x is not None else first
    timed_out = first.status == 1 or second.status == 1
    chosen = [p for j, p in enumerate(pairs) if answer.x[j] > 0.5]
    chosen.sort(key=lambda p: (p.need_id, -p.score))
    plan = Plan(chosen, "time_limit" if timed_out else "optimal", time.perf_counter() - started)
    plan.summary = summarise(chosen, problem)
    return plan


# --- teams ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkillCover:
    """One required skill an expert covers, through which profile skill, how closely."""

    required: str
    matched: str
    similarity: float


@dataclass(frozen=True)
class SkillEvidence:
    """The matcher's skill evidence for one candidate of a need."""

    expert_id: str
    score: float
    covers: Sequence[SkillCover]

    def share(self, required: Sequence[str]) -> float:
        """Share of the required skills this candidate covers alone."""
        mine = {c.required for c in self.covers}
        return sum(1 for s in required if s in mine) / len(required) if required else 1.0


@dataclass(frozen=True)
class TeamMember:
    """An expert of a proposed team and the required skills they bring."""

    expert_id: str
    score: float
    covers: list[SkillCover]


@dataclass(frozen=True)
class Team:
    """Up to three experts who together cover more of a need's skills than anyone alone."""

    members: list[TeamMember]
    covered: list[str]
    missing: list[str]
    share: float  # required skills covered by the team
    best_single: str | None  # the candidate who covers most alone
    best_single_share: float


def best_single(required: Sequence[str], evidence: Sequence[SkillEvidence]) -> SkillEvidence | None:
    """The candidate covering the most required skills (ties: closer evidence, higher score)."""
    if not evidence:
        return None
    return max(
        evidence,
        key=lambda e: (e.share(required), sum(c.similarity for c in e.covers), e.score),
    )


def propose_team(
    required: Sequence[str],
    evidence: Sequence[SkillEvidence],
    *,
    max_size: int = MAX_TEAM,
    member_cost: float = TEAM_MEMBER_COST,
) -> Team | None:
    """A weighted cover of the required skills by at most `max_size` candidates.

    Each required skill counts once, weighted by the similarity of the profile skill that
    covers it; every member costs `member_cost`, so a member is added only for what they bring.
    None when no single candidate misses a skill a team could bring.
    """
    required = list(dict.fromkeys(s for s in required if s))
    single = best_single(required, evidence)
    if single is None or not required or single.share(required) >= 1.0:
        return None
    candidates = [e for e in evidence if any(c.required in required for c in e.covers)]
    if len(candidates) < 2:
        return None
    links = [
        (k, skill_row, cover)
        for k, cand in enumerate(candidates)
        for cover in cand.covers
        if (skill_row := required.index(cover.required) if cover.required in required else -1) >= 0
    ]
    n_x = len(candidates)
    n_vars = n_x + len(links)
    scores = np.array([c.score for c in candidates], dtype=float)
    spread = float(scores.max() - scores.min()) or 1.0
    # Cheaper members are those the matcher ranked higher: ties go to the better match.
    cost = member_cost * (1.0 + 0.5 * (scores.max() - scores) / spread)
    objective = np.concatenate([cost, [-cover.similarity for _, _, cover in links]])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for skill_row in range(len(required)):
        for j, (_, s, _) in enumerate(links):
            if s == skill_row:
                rows.append(len(lower))
                cols.append(n_x + j)
                vals.append(1.0)
        lower.append(0.0)
        upper.append(1.0)  # a skill is credited to one member
    for j, (k, _, _) in enumerate(links):
        r = len(lower)
        rows += [r, r]
        cols += [n_x + j, k]
        vals += [1.0, -1.0]  # credited only to a member of the team
        lower.append(-np.inf)
        upper.append(0.0)
    r = len(lower)
    for k in range(n_x):
        rows.append(r)
        cols.append(k)
        vals.append(1.0)
    lower.append(0.0)
    upper.append(float(max_size))
    matrix = coo_array((vals, (rows, cols)), shape=(len(lower), n_vars)).tocsr()
    result = milp(
        objective,
        constraints=[LinearConstraint(matrix, np.array(lower), np.array(upper))],
        bounds=Bounds(np.zeros(n_vars), np.ones(n_vars)),
        integrality=np.ones(n_vars),
        options={"time_limit": 5.0},
    )
    if result.x is None:
        return None
    covers_of: dict[int, list[SkillCover]] = defaultdict(list)
    for j, (k, _, cover) in enumerate(links):
        if result.x[n_x + j] > 0.5:
            covers_of[k].append(cover)
    members = [
        TeamMember(candidates[k].expert_id, candidates[k].score, covers_of[k])
        for k in sorted(covers_of, key=lambda k: -len(covers_of[k]))
    ]
    covered = [s for s in required if any(c.required == s for m in members for c in m.covers)]
    share = len(covered) / len(required)
    if len(members) < 2 or share <= single.share(required):
        return None
    return Team(
        members=members,
        covered=covered,
        missing=[s for s in required if s not in covered],
        share=share,
        best_single=single.expert_id,
        best_single_share=single.share(required),
    )
