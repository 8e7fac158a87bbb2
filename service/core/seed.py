"""The demo world: staff accounts, the roster (through the import), and engagement stories.

Everything is keyed (emails, external ids, one proposal per need and expert), so seeding
twice changes nothing. Dates in the world files are kept as they are; the moments they do
not give (when a proposal was decided, an offer answered...) are derived from the world's
"today", 2026-11-20, so that the story reads in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from service.config import Settings
from service.core.audit import record
from service.core.imports import ImportReport, import_file
from service.errors import DomainError
from service.models import (
    Engagement,
    EngagementFeedback,
    EngagementStatus,
    ExpertProfile,
    InstitutionMember,
    MatchProposal,
    Need,
    ProposalStatus,
    Role,
    User,
)
from service.repos import imports as imports_repo
from service.repos import users as users_repo
from service.schemas.imports import KINDS
from service.security import hash_password, verify_password

WORLD_DIR = Path(__file__).resolve().parents[2] / "seed_data" / "world"
WORLD_TODAY = date(2026, 11, 20)
PROPOSAL_STAGES = frozenset({"proposed", "approved", "rejected"})
S = EngagementStatus
SeedProgress = Callable[[str, int, int], None]  # (step, done, total)


class SeedFailed(DomainError):
    """The demo world does not load."""


@dataclass
class SeedReport:
    """What seeding created; a second run creates nothing."""

    accounts_created: int = 0
    passwords_set: int = 0
    imports: dict[str, ImportReport] = field(default_factory=dict)
    proposals_created: int = 0
    engagements_created: int = 0
    feedback_created: int = 0

    def lines(self) -> list[str]:
        """Says what happened, one line per step."""
        return [
            f"accounts: {self.accounts_created} created, {self.passwords_set} demo passwords set",
            *(report.summary() for report in self.imports.values()),
            f"scenarios: {self.proposals_created} proposals, {self.engagements_created} "
            f"engagements, {self.feedback_created} feedback created",
        ]


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_accounts(world_dir: Path) -> list[dict[str, Any]]:
    """Reads the demo accounts."""
    data = json.loads((world_dir / "accounts.json").read_text(encoding="utf-8"))
    accounts: list[dict[str, Any]] = data["accounts"]
    return accounts


def _staff_accounts(session: Session, accounts: list[dict[str, Any]], report: SeedReport) -> User:
    coordinator: User | None = None
    for account in accounts:
        if account["role"] not in (Role.COORDINATOR, Role.ADMIN):
            continue
        user = users_repo.get_user_by_email(session, account["email"])
        if user is None:
            user = User(
                email=users_repo.normalise_email(account["email"]),
                password_hash=hash_password(account["password"]),
                role=account["role"],
                display_name=account.get("display_name", ""),
                locale=account.get("locale", "en"),
                created_at=_at(WORLD_TODAY - timedelta(days=400)),
            )
            session.add(user)
            session.flush()
            report.accounts_created += 1
        if account["role"] == Role.COORDINATOR and coordinator is None:
            coordinator = user
    if coordinator is None:
        raise SeedFailed("accounts.json has no coordinator")
    return coordinator


def _demo_passwords(session: Session, accounts: list[dict[str, Any]], report: SeedReport) -> None:
    """Gives the demo expert and institution their published password, once."""
    for account in accounts:
        if account["role"] not in (Role.EXPERT, Role.INSTITUTION):
            continue
        user = users_repo.get_user_by_email(session, account["email"])
        if user is None:
            raise SeedFailed(f"demo account {account['email']} was not imported")
        if not verify_password(user.password_hash, account["password"]):
            user.password_hash = hash_password(account["password"])
            session.add(user)
            report.passwords_set += 1


def seed_world(
    session: Session,
    *,
    settings: Settings,
    world_dir: Path = WORLD_DIR,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Loads the demo world, idempotently; commits."""
    report = SeedReport()
    accounts = load_accounts(world_dir)
    coordinator = _staff_accounts(session, accounts, report)
    session.commit()
    for kind in KINDS:
        path = world_dir / f"{kind}.jsonl"

        def step(_phase: str, done: int, total: int, kind: str = kind) -> None:
            if progress is not None:
                progress(kind, done, total)

        result = import_file(session, kind=kind, path=path, actor=coordinator, progress=step)
        report.imports[kind] = result
        if not result.ok:
            raise SeedFailed("; ".join(result.lines()[:10]))
    _demo_passwords(session, accounts, report)
    scenarios = _read_jsonl(world_dir / "engagements.jsonl")
    for done, scenario in enumerate(scenarios, 1):
        _scenario(session, scenario, coordinator=coordinator, settings=settings, report=report)
        if progress is not None:
            progress("engagements", done, len(scenarios))
    session.commit()
    return report


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass(frozen=True)
class _Timeline:
    proposed: datetime
    decided: datetime
    offered: datetime
    responded: datetime
    confirmed: datetime
    started: datetime
    closed: datetime


def _timeline(scenario: dict[str, Any], need: Need) -> _Timeline:
    """Derives the moments of a story that the world file leaves out, all before 'today'."""
    today = _at(WORLD_TODAY)
    stage = scenario["stage"]
    start = date.fromisoformat(scenario["start_date"]) if scenario.get("start_date") else None
    end = date.fromisoformat(scenario["end_date"]) if scenario.get("end_date") else None
    posted = need.posted_at or today - timedelta(days=40)
    if stage == "offered":
        offered = today - timedelta(days=2)
    else:
        offered = min(posted + timedelta(days=4), today - timedelta(days=10))
        if start is not None:
            offered = min(offered, _at(start) - timedelta(days=21))
    decided = offered
    proposed = min(posted + timedelta(days=1), decided - timedelta(days=2))
    responded = min(offered + timedelta(days=2), today - timedelta(days=1))
    confirmed = min(responded + timedelta(days=3), today)
    started = _at(start) if start else confirmed
    if stage == "completed" and end is not None:
        closed = _at(end, 17)
    elif stage == "cancelled":
        closed = min(max(started, confirmed) + timedelta(days=28), today - timedelta(days=6))
    else:
        closed = today
    return _Timeline(proposed, decided, offered, responded, confirmed, started, closed)


def _scenario(
    session: Session,
    scenario: dict[str, Any],
    *,
    coordinator: User,
    settings: Settings,
    report: SeedReport,
) -> None:
    need = imports_repo.by_external_ids(session, Need, [scenario["need"]]).get(scenario["need"])
    expert = imports_repo.by_external_ids(session, ExpertProfile, [scenario["expert"]]).get(
        scenario["expert"]
    )
    if need is None or expert is None:
        raise SeedFailed(f"engagement {scenario['need']}/{scenario['expert']}: unknown need/expert")
    existing = session.exec(
        select(MatchProposal).where(
            MatchProposal.need_id == need.id, MatchProposal.expert_id == expert.id
        )
    ).first()
    if existing is not None:
        return
    stage: str = scenario["stage"]
    reason: str = scenario.get("reason") or ""
    when = _timeline(scenario, need)
    rank = 1 + len(
        session.exec(select(MatchProposal.id).where(MatchProposal.need_id == need.id)).all()
    )
    status = stage if stage in PROPOSAL_STAGES else ProposalStatus.APPROVED
    proposal = MatchProposal(
        need_id=need.id or 0,
        expert_id=expert.id or 0,
        rank=rank,
        model_version="seed",
        status=status,
        decided_by_id=coordinator.id if status != ProposalStatus.PROPOSED else None,
        decided_at=when.decided if status != ProposalStatus.PROPOSED else None,
        reason=reason if stage == "rejected" else "",
        created_at=when.proposed,
        updated_at=when.decided if status != ProposalStatus.PROPOSED else when.proposed,
    )
    session.add(proposal)
    session.flush()
    report.proposals_created += 1
    if status == ProposalStatus.PROPOSED:
        return

    def audit(actor: User | None, action: str, at: datetime, **kwargs: Any) -> None:
        event = record(session, actor=actor, action=action, **kwargs)
        event.at = at

    audit(
        coordinator,
        "proposal.approve" if status == ProposalStatus.APPROVED else "proposal.reject",
        when.decided,
        entity_type="proposal",
        entity_id=proposal.id,
        from_state=ProposalStatus.PROPOSED,
        to_state=status,
        reason=proposal.reason,
        data={"need_id": need.id},
    )
    if stage in PROPOSAL_STAGES:
        return
    _engagement(
        session, scenario, need, expert, proposal, when, coordinator, settings, report, audit
    )


def _engagement(
    session: Session,
    scenario: dict[str, Any],
    need: Need,
    expert: ExpertProfile,
    proposal: MatchProposal,
    when: _Timeline,
    coordinator: User,
    settings: Settings,
    report: SeedReport,
    audit: Callable[..., None],
) -> None:
    stage: str = scenario["stage"]
    reason: str = scenario.get("reason") or ""
    started = stage in ("active", "completed") or (
        stage == "cancelled" and when.started.date() < WORLD_TODAY
    )
    confirmed = started or stage in ("confirmed", "cancelled")
    engagement = Engagement(
        proposal_id=proposal.id or 0,
        need_id=need.id or 0,
        expert_id=expert.id,
        status=stage,
        mode=scenario.get("mode") or need.mode,
        agreed_hours=scenario.get("agreed_hours"),
        start_date=date.fromisoformat(scenario["start_date"])
        if scenario.get("start_date")
        else None,
        end_date=date.fromisoformat(scenario["end_date"]) if scenario.get("end_date") else None,
        # A completed scenario ran to the end agreed.
        ended_on=date.fromisoformat(scenario["end_date"])
        if stage == "completed" and scenario.get("end_date")
        else None,
        offered_at=when.offered,
        offer_expires_at=when.offered + timedelta(days=settings.offer_expiry_days),
        responded_at=when.responded if stage != "offered" else None,
        confirmed_at=when.confirmed if confirmed else None,
        started_at=when.started if started else None,
        closed_at=when.closed if stage in ("completed", "cancelled") else None,
        reason=reason if stage in ("declined", "cancelled") else "",
        created_at=when.offered,
        updated_at=when.closed if stage in ("completed", "cancelled") else when.offered,
    )
    session.add(engagement)
    session.flush()
    report.engagements_created += 1
    expert_user = session.get(User, expert.user_id) if expert.user_id else None
    member = session.exec(
        select(User)
        .join(InstitutionMember, col(InstitutionMember.user_id) == col(User.id))
        .where(InstitutionMember.institution_id == need.institution_id)
        .order_by(col(InstitutionMember.id))
    ).first()
    target = {"entity_type": "engagement", "entity_id": engagement.id}
    audit(
        coordinator,
        "engagement.offer",
        when.offered,
        to_state=S.OFFERED,
        data={"proposal_id": proposal.id},
        **target,
    )
    if stage == "offered":
        return
    if stage == "declined":
        audit(
            expert_user,
            "engagement.decline",
            when.responded,
            from_state=S.OFFERED,
            to_state=S.DECLINED,
            reason=reason,
            data={"as": "expert"},
            **target,
        )
        return
    moves = [("accept", S.OFFERED, S.ACCEPTED, expert_user, "expert", when.responded)]
    if confirmed:
        moves.append(("confirm", S.ACCEPTED, S.CONFIRMED, member, "institution", when.confirmed))
    if started:
        moves.append(("start", S.CONFIRMED, S.ACTIVE, expert_user, "expert", when.started))
    if stage == "completed":
        moves.append(("complete", S.ACTIVE, S.DELIVERED, expert_user, "expert", when.closed))
        moves.append(
            (
                "confirm_completion",
                S.DELIVERED,
                S.COMPLETED,
                member,
                "institution",
                when.closed,
            )
        )
    if stage == "cancelled":
        source = S.ACTIVE if started else S.CONFIRMED
        moves.append(("cancel", source, S.CANCELLED, coordinator, "staff", when.closed))
    for action, source, target_state, actor, party, at in moves:
        audit(
            actor,
            f"engagement.{action}",
            at,
            from_state=source,
            to_state=target_state,
            reason=reason if action == "cancel" else "",
            data={"as": party},
            **target,
        )
    if stage != "completed":
        return
    for side, actor, delay in (("expert", expert_user, 2), ("institution", member, 4)):
        feedback = scenario.get(f"{side}_feedback")
        if not feedback:
            continue
        at = min(when.closed + timedelta(days=delay), _at(WORLD_TODAY))
        session.add(
            EngagementFeedback(
                engagement_id=engagement.id or 0,
                side=side,
                rating=feedback["rating"],
                delivered=feedback.get("delivered", ""),
                hours=feedback.get("hours", 0),
                would_repeat=feedback.get("would_repeat", True),
                impact=feedback.get("impact", ""),
                created_at=at,
            )
        )
        report.feedback_created += 1
        audit(
            actor,
            "engagement.feedback",
            at,
            from_state=S.COMPLETED,
            to_state=S.COMPLETED,
            data={"side": side, "rating": feedback["rating"], "hours": feedback.get("hours", 0)},
            **target,
        )
