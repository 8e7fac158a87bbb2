"""`homeward seed`: the demo world loads with its stories, demo accounts log in, twice is once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col, func, select

from service.config import Settings
from service.core.seed import WORLD_DIR, load_accounts, seed_world
from service.models import (
    AuditEvent,
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    User,
)
from tests.conftest import login


def _counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def test_seed_loads_the_world_with_every_stage(session: Session, settings: Settings) -> None:
    report = seed_world(session, settings=settings)

    counts = _counts(session)
    assert (counts["expertprofile"], counts["institution"], counts["need"]) == (210, 40, 103)
    proposals = Counter(session.exec(select(MatchProposal.status)).all())
    assert proposals == {"approved": 34, "proposed": 8, "rejected": 3}
    engagements = Counter(session.exec(select(Engagement.status)).all())
    assert set(engagements) == {
        "offered",
        "accepted",
        "declined",
        "confirmed",
        "active",
        "completed",
        "cancelled",
    }
    assert sum(engagements.values()) == report.engagements_created == 30
    assert counts["engagementfeedback"] == 2 * engagements["completed"]

    coordinator = session.exec(select(User).where(User.role == "coordinator")).one()
    verified = session.exec(
        select(Institution).where(col(Institution.verified_at).is_not(None))
    ).all()
    assert len(verified) == 36 and {i.verified_by_id for i in verified} == {coordinator.id}
    rejected = session.exec(select(MatchProposal).where(MatchProposal.status == "rejected")).all()
    assert all(p.reason and p.decided_by_id == coordinator.id and p.decided_at for p in rejected)
    completed = session.exec(select(Engagement).where(Engagement.status == "completed")).all()
    for engagement in completed:
        assert engagement.offered_at < engagement.responded_at < engagement.confirmed_at  # type: ignore[operator]
        assert engagement.confirmed_at < engagement.started_at < engagement.closed_at  # type: ignore[operator]
    offered = session.exec(select(Engagement).where(Engagement.status == "offered")).all()
    assert all(e.offer_expires_at and e.agreed_hours for e in offered)
    actions = Counter(session.exec(select(AuditEvent.action)).all())
    assert actions["engagement.complete"] == engagements["completed"]
    assert actions["engagement.confirm_completion"] == engagements["completed"]
    assert actions["proposal.reject"] == 3 and actions["engagement.decline"] == 3


def test_accounts_have_unusable_passwords_except_the_demo_ones(
    session: Session, settings: Settings
) -> None:
    seed_world(session, settings=settings)
    demo = {a["email"] for a in load_accounts(WORLD_DIR)}
    users = session.exec(select(User)).all()
    members = sum(
        len(json.loads(line)["members"])
        for line in (WORLD_DIR / "institutions.jsonl").read_text(encoding="utf-8").splitlines()
    )
    assert len(users) == 210 + members + 2
    usable = {u.email for u in users if not u.password_hash.startswith("!")}
    assert usable == demo
    awa = session.exec(select(ExpertProfile).where(ExpertProfile.external_id == "exp-0001")).one()
    assert awa.user_id is not None and session.get(User, awa.user_id).locale == "fr"  # type: ignore[union-attr]


def test_demo_accounts_log_in_through_the_real_form(
    session: Session, settings: Settings, make_client: Callable[[], TestClient]
) -> None:
    seed_world(session, settings=settings)
    for account in load_accounts(WORLD_DIR):
        browser: TestClient = make_client()
        login(browser, account["email"], "homeward-demo")
        home = {
            "coordinator": "/coordinator",
            "admin": "/coordinator",
            "expert": "/expert",
            "institution": "/institution",
        }[account["role"]]
        assert browser.get(home).status_code == 200


def test_seeding_twice_changes_nothing(session: Session, settings: Settings) -> None:
    seed_world(session, settings=settings)
    before = _counts(session)
    hashes = dict(session.exec(select(User.email, User.password_hash)).all())
    needs = {n.external_id: n.updated_at for n in session.exec(select(Need)).all()}

    report = seed_world(session, settings=settings)

    assert _counts(session) == before
    assert report.proposals_created == report.engagements_created == report.accounts_created == 0
    assert all(r.created == r.updated == 0 for r in report.imports.values())
    session.expire_all()
    assert dict(session.exec(select(User.email, User.password_hash)).all()) == hashes
    assert {n.external_id: n.updated_at for n in session.exec(select(Need)).all()} == needs
    assert session.exec(select(func.count()).select_from(EngagementFeedback)).one() == 16
