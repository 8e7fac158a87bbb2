"""States agree with each other: a need that is filled or closed takes no more offers, an
engagement starts on its date at the earliest, and completion counts once it is confirmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from babel.dates import format_date
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import ACTIONS, MOVES, move
from service.core.reports import impact_report
from service.errors import InvalidTransition
from service.models import AuditEvent, Engagement, MatchProposal, Need, Notification, Role
from service.models.types import utcnow
from service.routes.engagements import Action
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_proposal, make_user
from tests.service.worlds import World, bearer, bring_to, build_world, need_body, offer


def three_offers(session: Session, world: World, settings: Settings) -> dict[str, Engagement]:
    """On the world's need: an offer, an accepted offer (another expert), and a proposal."""
    offered = offer(session, world, settings)
    french_user = make_user(session, role=Role.EXPERT, locale="fr")
    french = make_expert(session, user=french_user, display_name="Expert Francophone")
    accepted = offer(session, world, settings, expert=french)
    move(session, engagement=accepted, actor=french_user, action="accept", settings=settings)
    session.commit()
    return {"offered": offered, "accepted": accepted}


def test_a_filled_need_withdraws_its_offers_and_proposals_and_tells_the_experts(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    offers = three_offers(session, world, settings)
    waiting = make_proposal(
        session, need=world.need, expert=make_expert(session, display_name="Third")
    )
    member = bearer(session, world.member)
    response = client.put(
        f"/api/needs/{world.need.id}", json=need_body(world.need, "filled"), headers=member
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    for engagement in offers.values():
        stored = session.get(Engagement, engagement.id)
        assert stored is not None
        assert (stored.status, stored.reason) == ("cancelled", "The need was filled.")
        assert stored.closed_at is not None
    assert session.get(MatchProposal, waiting.id).status == "withdrawn"  # type: ignore[union-attr]
    trail = session.exec(
        select(AuditEvent.entity_id, AuditEvent.from_state, AuditEvent.to_state)
        .where(AuditEvent.action == "engagement.withdraw")
        .order_by(col(AuditEvent.entity_id))
    ).all()
    assert trail == [
        (offers["offered"].id, "offered", "cancelled"),
        (offers["accepted"].id, "accepted", "cancelled"),
    ]
    told = session.exec(
        select(Notification)
        .where(Notification.kind == "offer.withdrawn")
        .order_by(col(Notification.id))
    ).all()
    assert len(told) == 2
    english, french = told
    assert english.title == f"Offer withdrawn: {world.need.title}"
    assert french.title == f"Proposition retirée : {world.need.title}"
    assert "votre proposition est donc retirée" in french.body
    # The expert whose offer is gone cannot take it any more: a clear 409.
    expert = bearer(session, world.expert_user)
    refused = client.post(f"/api/engagements/{offers['offered'].id}/accept", headers=expert)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "This engagement is cancelled: it cannot move to accepted."
    # Saving the filled need again withdraws nothing more and tells nobody twice.
    again = client.put(
        f"/api/needs/{world.need.id}", json=need_body(world.need, "filled"), headers=member
    )
    assert again.status_code == 200
    assert (
        len(session.exec(select(Notification).where(Notification.kind == "offer.withdrawn")).all())
        == 2
    )


def test_an_offer_left_open_on_a_filled_need_cannot_be_accepted(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    # Written before needs withdrew their offers: the need is filled, the offer still open.
    world.need.status = "filled"
    session.add(world.need)
    session.commit()
    response = client.post(
        f"/api/engagements/{engagement.id}/accept", headers=bearer(session, world.expert_user)
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "This need is filled: this offer is no longer open."
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "offered"  # type: ignore[union-attr]


def test_closing_a_need_on_its_page_withdraws_the_offer(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    browser = make_client()
    login(browser, world.member.email, PASSWORD)
    response = browser.post(
        f"/institution/needs/{world.need.id}/close",
        data={"csrf_token": csrf_token(browser), "confirmed": "yes"},
    )
    assert response.status_code == 303
    session.expire_all()
    stored = session.get(Engagement, engagement.id)
    assert stored is not None and (stored.status, stored.reason) == (
        "cancelled",
        "The need was closed.",
    )
    expert = make_client()
    login(expert, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(expert.get(f"/expert/engagements/{engagement.id}").text, "html.parser")
    assert page.select_one("[data-status]").get_text(strip=True) == "Cancelled"  # type: ignore[union-attr]
    assert "The need was closed." in page.get_text(" ", strip=True)
    assert not page.select("form[action$='/accept']")


def test_confirming_one_expert_withdraws_the_other_accepted_offer(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    offers = three_offers(session, world, settings)
    move(
        session,
        engagement=offers["offered"],
        actor=world.expert_user,
        action="accept",
        settings=settings,
    )
    session.commit()
    response = client.post(
        f"/api/engagements/{offers['offered'].id}/confirm", headers=bearer(session, world.member)
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    other = session.get(Engagement, offers["accepted"].id)
    assert other is not None and (other.status, other.reason) == (
        "cancelled",
        "The need was filled.",
    )
    assert session.get(Need, world.need.id).status == "filled"  # type: ignore[union-attr]


def test_an_engagement_starts_on_its_date_at_the_earliest_on_the_page(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    later = utcnow().date() + timedelta(days=10)
    response = browser.post(
        f"/engagements/{engagement.id}/start",
        data={"csrf_token": csrf_token(browser), "start_date": later.isoformat()},
    )
    assert response.status_code == 409
    alert = BeautifulSoup(response.text, "html.parser").select_one("[role=alert]")
    assert alert is not None
    # The date as the reader writes it (the API's detail keeps the ISO date).
    assert alert.get_text(strip=True) == (
        f"This engagement starts on {format_date(later, format='medium', locale='en')}: "
        "it cannot be marked as started before then."
    )
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "confirmed"  # type: ignore[union-attr]
    today = browser.post(
        f"/engagements/{engagement.id}/start",
        data={"csrf_token": csrf_token(browser), "start_date": utcnow().date().isoformat()},
    )
    assert today.status_code == 303


def test_completion_counts_once_the_institution_confirms_it(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "active")
    expert, member = bearer(session, world.expert_user), bearer(session, world.member)
    # Not before it started, and not by the institution (its word is the confirmation).
    assert (
        client.post(f"/api/engagements/{engagement.id}/complete", headers=member).status_code == 403
    )
    done = client.post(f"/api/engagements/{engagement.id}/complete", headers=expert)
    assert done.status_code == 200 and done.json()["status"] == "delivered"
    assert done.json()["actions"] == []
    session.expire_all()
    report = impact_report(session)
    assert (report["completed"], report["by_status"]["delivered"]) == (0, 1)
    told = session.exec(
        select(Notification.user_id).where(Notification.kind == "engagement.delivered")
    ).all()
    assert set(told) == {world.member.id, world.coordinator.id}
    view = client.get(f"/api/engagements/{engagement.id}", headers=member).json()
    assert view["actions"] == ["confirm_completion"]
    assert (
        client.post(
            f"/api/engagements/{engagement.id}/confirm_completion", headers=expert
        ).status_code
        == 403
    )
    confirmed = client.post(f"/api/engagements/{engagement.id}/confirm_completion", headers=member)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"
    session.expire_all()
    report = impact_report(session)
    assert (report["completed"], report["by_status"]["delivered"]) == (1, 0)
    again = client.post(f"/api/engagements/{engagement.id}/confirm_completion", headers=member)
    assert again.status_code == 409
    assert again.json()["detail"] == "This engagement is already completed."


def test_the_api_offers_exactly_the_moves_of_the_table() -> None:
    assert set(Action.__args__) == set(ACTIONS)  # type: ignore[attr-defined]
    assert {"expire", "withdraw"} <= set(MOVES) and not {"expire", "withdraw"} & set(ACTIONS)


def test_an_engagement_cannot_be_completed_before_it_started(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    expert = bearer(session, world.expert_user)
    # Not while only confirmed (the table), nor at a moment before it was started (the clock).
    early = client.post(f"/api/engagements/{engagement.id}/complete", headers=expert)
    assert early.status_code == 409
    assert early.json()["detail"] == "This engagement is confirmed: it cannot move to delivered."
    started = move(
        session, engagement=engagement, actor=world.expert_user, action="start", settings=settings
    )
    session.commit()
    # An hour before the start falls on the day before it between 00:00 and 01:00 UTC: the refusal
    # then names the start date instead; both say the engagement has not started.
    with pytest.raises(InvalidTransition, match="has not started|before it has started"):
        move(
            session,
            engagement=started,
            actor=world.expert_user,
            action="complete",
            settings=settings,
            now=(started.started_at or utcnow()) - timedelta(hours=1),
        )
    session.rollback()
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "active"  # type: ignore[union-attr]
