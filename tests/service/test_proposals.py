"""Proposals: coordinators approve or reject them, one by one or in bulk; the review pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.models import AuditEvent, Engagement, MatchProposal, Notification, OutgoingEmail
from service.models.types import utcnow
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_need, make_proposal
from tests.service.worlds import bearer, build_world, offer


def test_approving_offers_the_engagement_with_a_deadline(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    headers = bearer(session, world.coordinator)
    before = utcnow()
    response = client.post(
        f"/api/proposals/{world.proposal.id}/approve",
        json={"reason": "Strong fit"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "offered" and body["expert"]["display_name"] == "Awa Diallo"
    engagement = session.exec(select(Engagement)).one()
    assert engagement.expert_id == world.expert.id and engagement.mode == "remote"
    assert engagement.offer_expires_at is not None
    days = (engagement.offer_expires_at - before).total_seconds() / 86400
    assert settings.offer_expiry_days - 0.01 < days < settings.offer_expiry_days + 0.01
    session.expire_all()
    proposal = session.get(MatchProposal, world.proposal.id)
    assert proposal is not None
    assert (proposal.status, proposal.decided_by_id, proposal.reason) == (
        "approved",
        world.coordinator.id,
        "Strong fit",
    )
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.action).like("%.%")).order_by(col(AuditEvent.id))
    ).all()
    decided = [e for e in events if e.action in ("proposal.approve", "engagement.offer")]
    assert [(e.action, e.from_state, e.to_state) for e in decided] == [
        ("proposal.approve", "proposed", "approved"),
        ("engagement.offer", "", "offered"),
    ]
    note = session.exec(
        select(Notification).where(Notification.user_id == world.expert_user.id)
    ).one()
    assert note.kind == "offer.new" and world.need.title in note.title
    email = session.exec(select(OutgoingEmail)).one()
    assert email.to_address == world.expert_user.email and email.status == "pending"
    assert (
        client.post(f"/api/proposals/{world.proposal.id}/approve", headers=headers).status_code
        == 409
    )


def test_only_coordinators_decide(session: Session, client: TestClient) -> None:
    world = build_world(session)
    for user in (world.member, world.expert_user):
        headers = bearer(session, user)
        assert (
            client.post(f"/api/proposals/{world.proposal.id}/approve", headers=headers).status_code
            == 403
        )
        response = client.post(
            f"/api/proposals/{world.proposal.id}/reject", json={"reason": "no"}, headers=headers
        )
        assert response.status_code == 403
    session.expire_all()
    assert session.get(MatchProposal, world.proposal.id).status == "proposed"  # type: ignore[union-attr]
    assert session.exec(select(Engagement)).all() == []


def test_rejecting_needs_a_reason_which_is_kept(session: Session, client: TestClient) -> None:
    world = build_world(session)
    headers = bearer(session, world.coordinator)
    url = f"/api/proposals/{world.proposal.id}/reject"
    response = client.post(url, json={"reason": " "}, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]
    session.expire_all()
    assert session.get(MatchProposal, world.proposal.id).status == "proposed"  # type: ignore[union-attr]
    response = client.post(url, json={"reason": "Not available in March"}, headers=headers)
    assert response.status_code == 200 and response.json()["reason"] == "Not available in March"
    event_ = session.exec(select(AuditEvent).where(AuditEvent.action == "proposal.reject")).one()
    assert (event_.from_state, event_.to_state, event_.reason) == (
        "proposed",
        "rejected",
        "Not available in March",
    )
    assert (
        client.post(f"/api/proposals/{world.proposal.id}/approve", headers=headers).status_code
        == 409
    )


def test_bulk_decisions_are_all_or_nothing(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    others = [make_expert(session, display_name=f"Expert {i}") for i in range(3)]
    proposals = [world.proposal] + [
        make_proposal(session, need=world.need, expert=e, score=0.5) for e in others
    ]
    headers = bearer(session, world.coordinator)
    ids = [p.id for p in proposals]
    # One already rejected: nothing at all changes.
    client.post(f"/api/proposals/{ids[3]}/reject", json={"reason": "weak"}, headers=headers)
    before = [snapshot_proposal(session, i) for i in ids[:3]]
    response = client.post(
        "/api/proposals/bulk",
        json={"need_id": world.need.id, "proposal_ids": ids, "action": "approve", "reason": ""},
        headers=headers,
    )
    assert response.status_code == 409 and f"Proposal {ids[3]}" in response.json()["detail"]
    assert [snapshot_proposal(session, i) for i in ids[:3]] == before
    assert session.exec(select(Engagement)).all() == []
    # A proposal of another need: not found, nothing changes.
    other_need = make_need(session, institution=world.institution, title="Another need")
    stray = make_proposal(session, need=other_need, expert=world.expert)
    response = client.post(
        "/api/proposals/bulk",
        json={
            "need_id": world.need.id,
            "proposal_ids": [ids[0], stray.id],
            "action": "reject",
            "reason": "x",
        },
        headers=headers,
    )
    assert response.status_code == 404
    assert [snapshot_proposal(session, i) for i in ids[:3]] == before
    # Rejecting needs the one reason.
    response = client.post(
        "/api/proposals/bulk",
        json={"need_id": world.need.id, "proposal_ids": ids[:2], "action": "reject", "reason": ""},
        headers=headers,
    )
    assert response.status_code == 422
    response = client.post(
        "/api/proposals/bulk",
        json={
            "need_id": world.need.id,
            "proposal_ids": ids[:3],
            "action": "approve",
            "reason": "Queue",
        },
        headers=headers,
    )
    assert response.status_code == 200
    assert [item["status"] for item in response.json()["items"]] == ["approved"] * 3
    assert len(session.exec(select(Engagement)).all()) == 3


def snapshot_proposal(session: Session, proposal_id: int | None) -> dict[str, Any]:
    session.expire_all()
    proposal = session.get(MatchProposal, proposal_id)
    assert proposal is not None
    return proposal.model_dump()


def _form(browser: TestClient, url: str, data: dict[str, Any]) -> Any:
    return browser.post(url, data={**data, "csrf_token": csrf_token(browser)})


def test_review_page_explains_each_proposal_and_decides_in_bulk(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_proposal(
        session,
        need=world.need,
        expert=make_expert(session, display_name="Jean Martin"),
        score=0.41,
        explanation={},
    )
    browser = make_client()
    login(browser, world.coordinator.email, PASSWORD)
    page = BeautifulSoup(browser.get(f"/coordinator/needs/{world.need.id}").text, "html.parser")
    cards = page.select("[data-proposal]")
    assert [c["data-proposal"] for c in cards] == [
        str(world.proposal.id),
        str(second.id),
    ]  # best first
    first = cards[0]
    name = first.select_one("h3 a")
    assert name is not None and name.get_text(strip=True) == world.expert.display_name
    assert name["href"] == f"/coordinator/experts/{world.expert.id}"
    assert first.select_one("[data-match]").get_text(strip=True) == "Fair match"  # type: ignore[union-attr]
    details = first.select_one("details[data-matcher-details]")
    assert details is not None
    # The raw score components stay in the JSON API; the page shows none of them.
    assert not details.select("[data-components]")
    assert "semantic" not in details.get_text() and "0.7" not in details.get_text()
    details.extract()
    reasons = [li.get_text(" ", strip=True) for li in first.select("[data-reasons] li")]
    assert reasons[0] == "Covers 1 of 2 skills asked: épidémiologie (close match: epidemiology)"
    assert reasons[1:] == [
        "Speaks French (native)",
        "4 h a day inside the institution's working hours",
        "Has ties to Senegal",
    ]
    text = first.get_text(" ", strip=True)
    assert "biostatistique" in text  # the missing skill
    for internal in ("0.91", "semantic", "Field epidemiologist"):
        assert internal not in text  # internals stay behind "Matcher details"
    assert first.select_one("form[data-approve]") and first.select_one("form[data-reject]")

    response = _form(
        browser, f"/coordinator/needs/{world.need.id}/bulk", {"action": "reject", "reason": ""}
    )
    assert response.status_code == 422 and "Tick at least one" in response.text
    response = browser.post(
        f"/coordinator/needs/{world.need.id}/bulk",
        data={
            "proposal_ids": [str(world.proposal.id), str(second.id)],
            "action": "reject",
            "reason": "",
            "csrf_token": csrf_token(browser),
        },
    )
    assert response.status_code == 422 and "reason" in response.text
    response = browser.post(
        f"/coordinator/needs/{world.need.id}/bulk",
        data={
            "proposal_ids": [str(world.proposal.id), str(second.id)],
            "action": "reject",
            "reason": "Need rewritten",
            "csrf_token": csrf_token(browser),
        },
    )
    assert response.status_code == 303
    session.expire_all()
    rows = session.exec(select(MatchProposal).order_by(col(MatchProposal.id))).all()
    assert [(r.status, r.reason) for r in rows] == [("rejected", "Need rewritten")] * 2
    page = BeautifulSoup(browser.get(f"/coordinator/needs/{world.need.id}").text, "html.parser")
    assert not page.select("form[data-approve]")


def test_queue_lists_needs_without_approval_and_stale_waits(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    waiting = make_need(session, institution=world.institution, title="Besoin en attente")
    old = make_proposal(
        session,
        need=waiting,
        expert=world.expert,
        created_at=utcnow() - timedelta(days=settings.proposal_stale_days + 1),
    )
    browser = make_client()
    login(browser, world.coordinator.email, PASSWORD)
    page = BeautifulSoup(browser.get("/coordinator/needs").text, "html.parser")
    assert {row["data-need"] for row in page.select("[data-queue] [data-need]")} == {
        str(world.need.id),
        str(waiting.id),
    }
    assert page.select_one(f"[data-stale-proposals] a[href='/coordinator/needs/{waiting.id}']")
    assert str(old.id) in page.select_one("[data-stale-proposals]").get_text()  # type: ignore[union-attr]
    engagement = offer(session, world, settings)
    engagement.updated_at = utcnow() - timedelta(days=settings.proposal_stale_days + 2)
    session.add(engagement)
    session.commit()
    page = BeautifulSoup(browser.get("/coordinator/needs").text, "html.parser")
    assert {row["data-need"] for row in page.select("[data-queue] [data-need]")} == {
        str(waiting.id)
    }
    assert page.select_one(
        f"[data-stale-engagements] a[href='/coordinator/engagements/{engagement.id}']"
    )


def test_one_click_still_available(session: Session, make_client: Callable[[], TestClient]) -> None:
    world = build_world(session)
    world.expert.availability_confirmed_at = utcnow() - timedelta(days=200)
    session.add(world.expert)
    session.commit()
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(browser.get("/expert/proposals").text, "html.parser")
    assert "not proposed for new needs" in page.select_one("[data-availability]").get_text()  # type: ignore[union-attr]
    assert _form(browser, "/expert/availability", {}).status_code == 303
    session.expire_all()
    confirmed = session.get(type(world.expert), world.expert.id).availability_confirmed_at  # type: ignore[union-attr]
    assert confirmed is not None and utcnow() - confirmed < timedelta(minutes=1)
    assert session.exec(
        select(AuditEvent).where(AuditEvent.action == "expert.availability_confirmed")
    ).one()
    page = BeautifulSoup(browser.get("/expert/proposals").text, "html.parser")
    assert "not proposed" not in page.select_one("[data-availability]").get_text()  # type: ignore[union-attr]
