"""Races: several real clients make conflicting moves at the same instant; exactly one wins.

Each racer is its own browser on its own copy of the app (as several web processes would be),
with its own database session; a barrier releases them together. On PostgreSQL
(HOMEWARD_TEST_DATABASE_URL) the requests truly overlap; on SQLite the single writer
serialises them, and the same answers are expected.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from service.config import Settings
from service.core.engagements import expire_offer, move
from service.errors import InvalidTransition
from service.models import (
    AuditEvent,
    Engagement,
    EngagementFeedback,
    InstitutionMember,
    MatchProposal,
    Need,
    Notification,
    User,
)
from service.models.types import utcnow
from tests.conftest import csrf_token, login
from tests.factories import (
    PASSWORD,
    make_expert,
    make_institution,
    make_need,
    make_proposal,
    make_user,
)
from tests.service.worlds import World, bring_to, build_world, need_body, offer, token_for

ROUNDS = 3
Call = Callable[[TestClient], httpx.Response]


def race(make_client: Callable[[], TestClient], calls: list[Call]) -> list[httpx.Response]:
    """Sends every call at the same instant, each from its own client; answers in call order."""
    return race_with([make_client() for _ in calls], calls)


def race_with(clients: list[TestClient], calls: list[Call]) -> list[httpx.Response]:
    """Sends every call at the same instant, each from the client at its place."""
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return calls[index](clients[index])

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))


def post(path: str, token: str, body: dict[str, Any] | None = None) -> Call:
    """A call that posts JSON with a bearer token."""
    return lambda client: client.post(path, json=body, headers={"authorization": f"Bearer {token}"})


def form(path: str, data: dict[str, str]) -> Call:
    """A call that posts a form of the site."""
    return lambda client: client.post(path, data=data)


def put(path: str, token: str, body: dict[str, Any]) -> Call:
    """A call that puts JSON with a bearer token."""
    return lambda client: client.put(path, json=body, headers={"authorization": f"Bearer {token}"})


def audit_actions(session: Session, entity_type: str, entity_id: int | None) -> list[str]:
    """The audit log of one row, oldest first."""
    session.expire_all()
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(col(AuditEvent.id))
        ).all()
    )


def notes(session: Session, kind: str) -> Counter[int]:
    """How many notifications of a kind each user got."""
    session.expire_all()
    rows = session.exec(select(Notification.user_id).where(Notification.kind == kind)).all()
    return Counter(rows)


def one_winner(responses: list[httpx.Response], ok: int = 200) -> int:
    """Checks that exactly one request won and every other got a 409 with a reason; never 500."""
    codes = [r.status_code for r in responses]
    assert sorted(codes) == sorted([ok] + [409] * (len(codes) - 1)), [
        r.text[:300] for r in responses
    ]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["detail"], response.text
    return codes.index(ok)


def fresh_world(session: Session, world: World, title: str) -> tuple[Need, MatchProposal]:
    """A new open need of the world's institution with a proposal for the world's expert."""
    need = make_need(session, institution=world.institution, title=title)
    return need, make_proposal(session, need=need, expert=world.expert)


def test_two_coordinators_approve_and_reject_one_proposal_at_once(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_user(session, role=world.coordinator.role)
    approver, rejecter = token_for(session, world.coordinator), token_for(session, second)
    winners = []
    for round_ in range(ROUNDS):
        need, proposal = fresh_world(session, world, f"Race {round_}")
        responses = race(
            make_client,
            [
                post(f"/api/proposals/{proposal.id}/approve", approver, {"reason": "Fits"}),
                post(f"/api/proposals/{proposal.id}/reject", rejecter, {"reason": "No"}),
            ],
        )
        winner = ["approve", "reject"][one_winner(responses)]
        winners.append(winner)
        assert "already" in responses[1 - ["approve", "reject"].index(winner)].json()["detail"]
        assert audit_actions(session, "proposal", proposal.id) == [f"proposal.{winner}"]
        stored = session.get(MatchProposal, proposal.id)
        assert stored is not None
        assert stored.status == {"approve": "approved", "reject": "rejected"}[winner]
        engagements = session.exec(select(Engagement).where(Engagement.need_id == need.id)).all()
        offers = notes(session, "offer.new")
        if winner == "approve":
            assert len(engagements) == 1
            assert audit_actions(session, "engagement", engagements[0].id) == ["engagement.offer"]
            assert stored.decided_by_id == world.coordinator.id
        else:
            assert engagements == [] and stored.decided_by_id == second.id
        assert offers[world.expert_user.id or 0] == winners.count("approve")


def test_an_expert_double_clicking_accept_accepts_once(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    token = token_for(session, world.expert_user)
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Double click {round_}")
        engagement = offer(session, world, settings, need)
        url = f"/api/engagements/{engagement.id}/accept"
        responses = race(make_client, [post(url, token) for _ in range(4)])
        one_winner(responses)
        assert all(
            "already accepted" in r.json()["detail"] for r in responses if r.status_code == 409
        )
        assert audit_actions(session, "engagement", engagement.id) == [
            "engagement.offer",
            "engagement.accept",
        ]
        told = notes(session, "engagement.accepted")
        assert told[world.member.id or 0] == round_ + 1
        assert told[world.coordinator.id or 0] == round_ + 1
        assert told[world.expert_user.id or 0] == 0


def test_an_expert_accepts_while_the_institution_cancels(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    expert, member = token_for(session, world.expert_user), token_for(session, world.member)
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Accept or cancel {round_}")
        engagement = offer(session, world, settings, need)
        before = Counter(notes(session, "engagement.accepted")) + Counter(
            notes(session, "engagement.cancelled")
        )
        responses = race(
            make_client,
            [
                post(
                    f"/api/engagements/{engagement.id}/accept",
                    expert,
                    {"from_status": "offered"},
                ),
                post(
                    f"/api/engagements/{engagement.id}/cancel",
                    member,
                    {"reason": "Budget", "from_status": "offered"},
                ),
            ],
        )
        winner = ["accept", "cancel"][one_winner(responses)]
        session.expire_all()
        stored = session.get(Engagement, engagement.id)
        assert stored is not None
        assert stored.status == {"accept": "accepted", "cancel": "cancelled"}[winner]
        assert audit_actions(session, "engagement", engagement.id) == [
            "engagement.offer",
            f"engagement.{winner}",
        ]
        after = Counter(notes(session, "engagement.accepted")) + Counter(
            notes(session, "engagement.cancelled")
        )
        told = after - before
        if winner == "accept":
            assert told == Counter({world.member.id: 1, world.coordinator.id: 1})
        else:
            assert told == Counter({world.expert_user.id: 1, world.coordinator.id: 1})


def test_feedback_posted_twice_at_once_is_kept_once(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    token = token_for(session, world.expert_user)
    body = {"rating": 5, "delivered": "Six lectures", "hours": 30, "would_repeat": True}
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Feedback {round_}")
        engagement = bring_to(session, world, settings, "completed", need)
        url = f"/api/engagements/{engagement.id}/feedback"
        one_winner(race(make_client, [post(url, token, body) for _ in range(3)]), ok=201)
        rows = session.exec(
            select(func.count())
            .select_from(EngagementFeedback)
            .where(EngagementFeedback.engagement_id == engagement.id)
        ).one()
        assert rows == 1
        assert audit_actions(session, "engagement", engagement.id).count("engagement.feedback") == 1


def test_closing_a_need_while_the_expert_accepts_leaves_no_offer_open(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    expert, member = token_for(session, world.expert_user), token_for(session, world.member)
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Closing {round_}")
        engagement = offer(session, world, settings, need)
        responses = race(
            make_client,
            [
                post(f"/api/engagements/{engagement.id}/accept", expert),
                put(f"/api/needs/{need.id}", member, need_body(need, "closed")),
            ],
        )
        accept, close = (r.status_code for r in responses)
        assert close == 200, responses[1].text
        assert accept in (200, 409), responses[0].text
        session.expire_all()
        stored = session.get(Engagement, engagement.id)
        assert stored is not None
        # Whoever came first, the offer of a closed need ends withdrawn, and the expert is told.
        assert stored.status == "cancelled" and stored.reason == "The need was closed."
        trail = audit_actions(session, "engagement", engagement.id)
        assert trail == ["engagement.offer"] + (["engagement.accept"] if accept == 200 else []) + [
            "engagement.withdraw"
        ]
        assert notes(session, "offer.withdrawn")[world.expert_user.id or 0] == round_ + 1


def test_two_accepted_experts_confirmed_at_once_fill_the_need_once(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    second_member = make_user(session, role=world.member.role)
    session.add(
        InstitutionMember(user_id=second_member.id or 0, institution_id=world.institution.id or 0)
    )
    session.commit()
    tokens = [token_for(session, world.member), token_for(session, second_member)]
    other_user = make_user(session)
    other = make_expert(session, user=other_user, display_name="Second Expert")
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Two confirms {round_}")
        first = offer(session, world, settings, need)
        second = offer(session, world, settings, need, expert=other)
        for engagement in (first, second):
            move(
                session,
                engagement=engagement,
                actor=world.coordinator,
                action="accept",
                settings=settings,
            )
        session.commit()
        responses = race(
            make_client,
            [
                post(f"/api/engagements/{e.id}/confirm", t)
                for e, t in zip((first, second), tokens, strict=True)
            ],
        )
        winner = one_winner(responses)
        session.expire_all()
        statuses = [session.get(Engagement, e.id).status for e in (first, second)]  # type: ignore[union-attr]
        assert statuses[winner] == "confirmed" and statuses[1 - winner] == "cancelled"
        assert audit_actions(session, "need", need.id).count("need.filled") == 1
        stored = session.get(Need, need.id)
        assert stored is not None and stored.status == "filled"


def test_two_confirmations_at_once_for_the_last_seat_of_a_team_need_one_wins(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    tokens = [token_for(session, world.member), token_for(session, world.member)]
    names = ("Dr Modou Mbaye", "Dr Awa Ndiaye", "Ousmane Diop")
    experts = [make_expert(session, user=make_user(session), display_name=n) for n in names]
    for round_ in range(ROUNDS):
        need = make_need(
            session,
            institution=world.institution,
            title=f"Encadrer trois mémoires de master {round_}",
            experts_wanted=2,
        )
        first, second, third = (offer(session, world, settings, need, expert=e) for e in experts)
        for engagement in (first, second, third):
            move(
                session,
                engagement=engagement,
                actor=world.coordinator,
                action="accept",
                settings=settings,
            )
        move(
            session, engagement=first, actor=world.coordinator, action="confirm", settings=settings
        )
        session.commit()
        responses = race(
            make_client,
            [
                post(f"/api/engagements/{e.id}/confirm", t)
                for e, t in zip((second, third), tokens, strict=True)
            ],
        )
        winner = one_winner(responses)
        session.expire_all()
        statuses = [session.get(Engagement, e.id).status for e in (second, third)]  # type: ignore[union-attr]
        assert statuses[winner] == "confirmed" and statuses[1 - winner] == "cancelled"
        assert audit_actions(session, "need", need.id).count("need.filled") == 1
        stored = session.get(Need, need.id)
        assert stored is not None and stored.status == "filled"


def test_the_loser_of_a_race_on_a_page_sees_the_page_again_with_why(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    browsers = [make_client(), make_client()]
    for browser in browsers:
        login(browser, world.expert_user.email, PASSWORD)
    tokens = [csrf_token(browser) for browser in browsers]
    barrier = threading.Barrier(2)

    def click(index: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return browsers[index].post(
            f"/engagements/{engagement.id}/accept",
            data={"csrf_token": tokens[index], "from_status": "offered"},
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(click, range(2)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [303, 409]
    lost = next(r for r in responses if r.status_code == 409)
    page = BeautifulSoup(lost.text, "html.parser")
    alert = page.select_one("[role=alert]")
    # Said in the reader's words (the API's detail names the states); the status shows which.
    assert alert is not None and "already done" in alert.get_text()
    status = page.select_one("[data-status]")
    assert status is not None and status.get_text(strip=True) == "Accepted"
    assert audit_actions(session, "engagement", engagement.id).count("engagement.accept") == 1


@pytest.mark.parametrize("days", [1, 30])
def test_an_engagement_cannot_start_before_its_start_date(
    days: int, session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    engagement.start_date = utcnow().date() + timedelta(days=days)
    session.add(engagement)
    session.commit()
    token = token_for(session, world.expert_user)
    response = client.post(
        f"/api/engagements/{engagement.id}/start", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 409
    assert engagement.start_date.isoformat() in response.json()["detail"]
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "confirmed"  # type: ignore[union-attr]


def test_an_offer_answered_while_the_clock_expires_it_stays_answered(
    session: Session, engine: Any, settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    late = (engagement.offer_expires_at or utcnow()) + timedelta(hours=1)
    # The worker has read the due offers; the expert's accept commits before it writes.
    with Session(engine, expire_on_commit=False) as worker:
        due = list(worker.exec(select(Engagement).where(Engagement.status == "offered")).all())
        with Session(engine) as web:
            mine = web.get(Engagement, engagement.id)
            assert mine is not None
            move(web, engagement=mine, actor=world.expert_user, action="accept", settings=settings)
            web.commit()
        with pytest.raises(InvalidTransition, match="accepted"):
            expire_offer(worker, engagement=due[0], settings=settings, now=late)
        worker.commit()
        assert due[0].status == "accepted"  # the worker's copy is refreshed, not overwritten
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "accepted"  # type: ignore[union-attr]
    assert audit_actions(session, "engagement", engagement.id) == [
        "engagement.offer",
        "engagement.accept",
    ]
    assert notes(session, "offer.expired") == Counter()


def test_a_coordinator_deciding_a_proposal_already_decided_sees_the_review_again(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    stale = make_client()
    login(stale, world.coordinator.email, PASSWORD)
    stale.get(f"/coordinator/needs/{world.need.id}")
    # Another coordinator rejects it first, through the API.
    other = make_user(session, role=world.coordinator.role)
    rejected = race(
        make_client,
        [
            post(
                f"/api/proposals/{world.proposal.id}/reject",
                token_for(session, other),
                {"reason": "No"},
            )
        ],
    )
    assert rejected[0].status_code == 200
    response = stale.post(
        f"/coordinator/proposals/{world.proposal.id}/approve",
        data={"csrf_token": csrf_token(stale)},
    )
    assert response.status_code == 409
    page = BeautifulSoup(response.text, "html.parser")
    alert = page.select_one("[role=alert]")
    assert alert is not None and alert.get_text(strip=True) == "This proposal is already rejected."
    assert session.exec(select(func.count()).select_from(Engagement)).one() == 0


def test_a_bulk_approval_racing_a_single_rejection_is_all_or_nothing(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_user(session, role=world.coordinator.role)
    bulk_token, single_token = token_for(session, world.coordinator), token_for(session, second)
    for round_ in range(ROUNDS):
        need, first = fresh_world(session, world, f"Bulk {round_}")
        other = make_proposal(
            session, need=need, expert=make_expert(session, display_name=f"Other {round_}")
        )
        responses = race(
            make_client,
            [
                post(
                    "/api/proposals/bulk",
                    bulk_token,
                    {"need_id": need.id, "proposal_ids": [first.id, other.id], "action": "approve"},
                ),
                post(f"/api/proposals/{other.id}/reject", single_token, {"reason": "No"}),
            ],
        )
        winner = one_winner(responses)
        session.expire_all()
        statuses = [session.get(MatchProposal, p.id).status for p in (first, other)]  # type: ignore[union-attr]
        offers = session.exec(select(Engagement).where(Engagement.need_id == need.id)).all()
        if winner == 0:
            assert statuses == ["approved", "approved"] and len(offers) == 2
        else:
            # The bulk approval failed on the rejected one, so it approved none.
            assert statuses == ["proposed", "rejected"] and offers == []
            assert responses[0].json()["detail"].startswith(f"Proposal {other.id}:")


def test_feedback_sent_twice_at_once_from_the_page_is_never_a_server_error(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    for round_ in range(ROUNDS):
        need = make_need(session, institution=world.institution, title=f"Page feedback {round_}")
        engagement = bring_to(session, world, settings, "completed", need)
        browsers = [make_client(), make_client()]
        for browser in browsers:
            login(browser, world.expert_user.email, PASSWORD)
        url = f"/engagements/{engagement.id}/feedback"
        responses = race_with(
            browsers,
            [
                form(url, {"csrf_token": csrf_token(b), "rating": "5", "hours": "3"})
                for b in browsers
            ],
        )
        assert sorted(r.status_code for r in responses) == [303, 409]
        lost = next(r for r in responses if r.status_code == 409)
        text = BeautifulSoup(lost.text, "html.parser").get_text(" ", strip=True)
        assert (
            "You have already given your feedback on this engagement." in text
            or "Someone else changed this at the same moment" in text
        )
        rows = session.exec(
            select(func.count())
            .select_from(EngagementFeedback)
            .where(EngagementFeedback.engagement_id == engagement.id)
        ).one()
        assert rows == 1


def test_one_email_registered_twice_at_once_is_one_account_and_a_409(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    for round_ in range(ROUNDS):
        browsers = [make_client(), make_client()]
        email = f"twice{round_}@example.org"
        calls = [
            form(
                "/register/expert",
                {
                    "display_name": "Awa Diallo",
                    "email": email,
                    "password": "a-long-password",
                    "consent_terms": "on",
                    "consent_matching": "on",
                    "csrf_token": csrf_token(browser),
                },
            )
            for browser in browsers
        ]
        responses = race_with(browsers, calls)
        codes = sorted(r.status_code for r in responses)
        # The second either sees the first account (the form says so, 422) or meets the
        # unique index a moment later (409, the page says what happened): never a 500.
        assert codes in ([303, 409], [303, 422]), [r.text[:200] for r in responses]
        lost = next(r for r in responses if r.status_code != 303)
        if lost.status_code == 409:
            text = BeautifulSoup(lost.text, "html.parser").get_text(" ", strip=True)
            assert "Someone else changed this at the same moment" in text
        session.expire_all()
        assert len(session.exec(select(User).where(User.email == email)).all()) == 1


def test_two_coordinators_verifying_and_declining_one_institution_at_once_one_wins(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_user(session, role=world.coordinator.role)
    verifier, decliner = token_for(session, world.coordinator), token_for(session, second)
    for round_ in range(ROUNDS):
        member = make_user(session, role=world.member.role)
        institution = make_institution(
            session, verified=False, member=member, name=f"Hôpital régional {round_}"
        )
        responses = race(
            make_client,
            [
                post(f"/api/institutions/{institution.id}/verify", verifier),
                post(
                    f"/api/institutions/{institution.id}/review",
                    decliner,
                    {"decision": "declined", "reason": "Registre introuvable"},
                ),
            ],
        )
        codes = [r.status_code for r in responses]
        # A decline may come first and the verification after it (a declined institution can
        # still be verified); a verification first leaves the decline nothing to decide.
        assert codes in ([200, 409], [200, 200]), [r.text[:300] for r in responses]
        session.expire_all()
        stored = session.get(type(institution), institution.id)
        assert stored is not None and stored.verified_at is not None
        actions = audit_actions(session, "institution", institution.id)
        expected = ["institution.verified"]
        if codes == [200, 200]:
            expected = ["institution.declined", "institution.verified"]
        else:
            assert "already verified" in responses[1].json()["detail"]
        assert actions == expected
        assert notes(session, "institution.verified")[member.id or 0] == 1


def test_two_coordinators_verifying_one_institution_at_once_verify_it_once(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_user(session, role=world.coordinator.role)
    tokens = [token_for(session, world.coordinator), token_for(session, second)]
    for round_ in range(ROUNDS):
        member = make_user(session, role=world.member.role)
        institution = make_institution(session, verified=False, member=member, name=f"ENS {round_}")
        responses = race(
            make_client,
            [post(f"/api/institutions/{institution.id}/verify", token) for token in tokens],
        )
        one_winner(responses)
        assert audit_actions(session, "institution", institution.id) == ["institution.verified"]
        assert notes(session, "institution.verified")[member.id or 0] == 1


def test_two_confirmed_experts_cancelled_at_once_open_their_filled_need_once(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    tokens = [token_for(session, world.member), token_for(session, world.coordinator)]
    names = ("Dr Modou Mbaye", "Dr Awa Ndiaye")
    experts = [make_expert(session, user=make_user(session), display_name=n) for n in names]
    for round_ in range(ROUNDS):
        need = make_need(
            session,
            institution=world.institution,
            title=f"Encadrer deux mémoires de master {round_}",
            experts_wanted=2,
        )
        pair = [offer(session, world, settings, need, expert=e) for e in experts]
        for engagement in pair:
            for action in ("accept", "confirm"):
                move(
                    session,
                    engagement=engagement,
                    actor=world.coordinator,
                    action=action,
                    settings=settings,
                )
        session.commit()
        responses = race(
            make_client,
            [
                post(f"/api/engagements/{e.id}/cancel", t, {"reason": "Mission annulée"})
                for e, t in zip(pair, tokens, strict=True)
            ],
        )
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert audit_actions(session, "need", need.id).count("need.reopened") == 1
        stored = session.get(Need, need.id)
        assert stored is not None and stored.status == "open"
