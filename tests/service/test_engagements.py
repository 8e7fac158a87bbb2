"""Engagements: every move for every role, refusals that change nothing, audit, visibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.engagements import move
from service.core.reports import impact_report
from service.models import (
    AuditEvent,
    Engagement,
    EngagementFeedback,
    Need,
    Notification,
    OutgoingEmail,
)
from service.models.types import utcnow
from tests.conftest import csrf_token, login
from tests.factories import (
    PASSWORD,
    make_expert,
    make_need,
    make_proposal,
)
from tests.service.worlds import bring_to, build_world, offer

ROLES = ("expert", "other_expert", "member", "other_member", "coordinator")
STATUSES = (
    "offered",
    "accepted",
    "declined",
    "expired",
    "confirmed",
    "active",
    "delivered",
    "completed",
    "cancelled",
)
ACTIONS = ("accept", "decline", "confirm", "start", "complete", "confirm_completion", "cancel")

# The legal moves, written out by hand: (from, action, role) -> to.
LEGAL: dict[tuple[str, str, str], str] = {
    ("offered", "accept", "expert"): "accepted",
    ("offered", "accept", "coordinator"): "accepted",
    ("offered", "decline", "expert"): "declined",
    ("offered", "decline", "coordinator"): "declined",
    ("accepted", "confirm", "member"): "confirmed",
    ("accepted", "confirm", "coordinator"): "confirmed",
    ("confirmed", "start", "expert"): "active",
    ("confirmed", "start", "coordinator"): "active",
    ("active", "complete", "expert"): "delivered",
    ("active", "complete", "coordinator"): "delivered",
    ("delivered", "confirm_completion", "member"): "completed",
    ("delivered", "confirm_completion", "coordinator"): "completed",
    ("offered", "cancel", "member"): "cancelled",
    ("accepted", "cancel", "member"): "cancelled",
    ("confirmed", "cancel", "member"): "cancelled",
    ("offered", "cancel", "coordinator"): "cancelled",
    ("accepted", "cancel", "coordinator"): "cancelled",
    ("confirmed", "cancel", "coordinator"): "cancelled",
    ("active", "cancel", "coordinator"): "cancelled",
    ("delivered", "cancel", "coordinator"): "cancelled",
}
# Who may ever make a move; others taking part are refused with 403 whatever the state.
MAY: dict[str, set[str]] = {
    "accept": {"expert", "coordinator"},
    "decline": {"expert", "coordinator"},
    "confirm": {"member", "coordinator"},
    "start": {"expert", "coordinator"},
    "complete": {"expert", "coordinator"},
    "confirm_completion": {"member", "coordinator"},
    "cancel": {"member", "coordinator"},
}


def expected(status: str, action: str, role: str) -> int | str:
    """The outcome the table says: the new state, or the refusal's status code."""
    if (status, action, role) in LEGAL:
        return LEGAL[(status, action, role)]
    if role in ("other_expert", "other_member"):
        return 404  # not a party: the engagement is not even visible
    if role not in MAY[action]:
        return 403
    if action == "cancel" and role == "member" and status not in ("offered", "accepted"):
        return 403  # an institution may cancel only until the work has begun
    return 409


def snapshot(session: Session, engagement_id: int, need_id: int) -> dict[str, Any]:
    """Everything a refused move must leave unchanged."""
    session.expire_all()
    engagement = session.get(Engagement, engagement_id)
    need = session.get(Need, need_id)
    assert engagement is not None and need is not None
    return {
        "engagement": engagement.model_dump(),
        "need": need.model_dump(),
        "audit": session.exec(select(func.count()).select_from(AuditEvent)).one(),
        "notifications": session.exec(select(func.count()).select_from(Notification)).one(),
        "emails": session.exec(select(func.count()).select_from(OutgoingEmail)).one(),
        "feedback": session.exec(select(func.count()).select_from(EngagementFeedback)).one(),
    }


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_move_for_every_role(
    status: str, action: str, session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    tokens = {role: create_api_token(session, user=world.user(role)) for role in ROLES}
    session.commit()
    for role in ROLES:
        need = make_need(session, institution=world.institution, title=f"{status} {action} {role}")
        engagement = bring_to(session, world, settings, status, need)
        before = snapshot(session, engagement.id or 0, need.id or 0)
        response = client.post(
            f"/api/engagements/{engagement.id}/{action}",
            json={"reason": "a reason"},
            headers={"authorization": f"Bearer {tokens[role]}"},
        )
        outcome = expected(status, action, role)
        if isinstance(outcome, str):
            assert response.status_code == 200, (status, action, role, response.text)
            assert response.json()["status"] == outcome
            session.expire_all()
            assert session.get(Engagement, engagement.id).status == outcome  # type: ignore[union-attr]
            last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
            # Confirming also fills the need, cancelling a confirmed engagement opens it
            # again: each recorded after.
            if action in ("confirm", "cancel"):
                last = session.exec(
                    select(AuditEvent)
                    .where(AuditEvent.entity_type == "engagement")
                    .order_by(col(AuditEvent.id).desc())
                ).first()
            assert last is not None
            assert (last.action, last.from_state, last.to_state) == (
                f"engagement.{action}",
                status,
                outcome,
            )
            assert last.actor_id == world.user(role).id
        else:
            assert response.status_code == outcome, (status, action, role, response.text)
            assert response.json()["detail"]
            assert snapshot(session, engagement.id or 0, need.id or 0) == before, (
                status,
                action,
                role,
            )


def test_decline_and_cancel_need_a_reason_and_keep_it(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    token = create_api_token(session, user=world.expert_user)
    session.commit()
    headers = {"authorization": f"Bearer {token}"}
    before = snapshot(session, engagement.id or 0, world.need.id or 0)
    response = client.post(f"/api/engagements/{engagement.id}/decline", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "reason", "message": "Please give a reason."}]
    assert snapshot(session, engagement.id or 0, world.need.id or 0) == before
    response = client.post(
        f"/api/engagements/{engagement.id}/decline",
        json={"reason": "Teaching abroad that term"},
        headers=headers,
    )
    assert response.status_code == 200
    session.expire_all()
    event_ = session.exec(select(AuditEvent).where(AuditEvent.action == "engagement.decline")).one()
    assert (event_.from_state, event_.to_state, event_.reason) == (
        "offered",
        "declined",
        "Teaching abroad that term",
    )
    assert event_.actor_id == world.expert_user.id
    assert session.get(Engagement, engagement.id).reason == "Teaching abroad that term"  # type: ignore[union-attr]


def test_confirming_fills_the_need_and_withdraws_its_other_proposals(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    other = make_expert(session, display_name="Second Choice")
    second = make_proposal(session, need=world.need, expert=other, score=0.6)
    bring_to(session, world, settings, "confirmed")
    session.expire_all()
    need = session.get(Need, world.need.id)
    assert need is not None and need.status == "filled"
    filled = session.exec(select(AuditEvent).where(AuditEvent.action == "need.filled")).one()
    assert (filled.from_state, filled.to_state) == ("open", "filled")
    token = create_api_token(session, user=world.coordinator)
    session.commit()
    response = client.post(
        f"/api/proposals/{second.id}/approve", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 409
    assert "filled" in response.json()["detail"]
    listed = client.get(
        f"/api/proposals?need_id={world.need.id}", headers={"authorization": f"Bearer {token}"}
    ).json()
    assert {item["id"]: item["status"] for item in listed["items"]}[second.id or 0] == "withdrawn"


def test_feedback_once_per_side_once_completed(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    tokens = {
        r: create_api_token(session, user=world.user(r))
        for r in ("expert", "member", "coordinator")
    }
    session.commit()
    body = {
        "rating": 5,
        "delivered": "Six lectures",
        "hours": 30,
        "would_repeat": True,
        "impact": "40 students",
    }

    def post(role: str, payload: dict[str, Any]) -> Any:
        return client.post(
            f"/api/engagements/{engagement.id}/feedback",
            json=payload,
            headers={"authorization": f"Bearer {tokens[role]}"},
        )

    # Not while confirmed, under way, or done but not yet confirmed done: nothing to judge yet.
    for step, state in (("", "confirmed"), ("start", "active"), ("complete", "delivered")):
        if step:
            move(
                session,
                engagement=engagement,
                actor=world.coordinator,
                action=step,
                settings=settings,
            )
            session.commit()
        refused = post("expert", body)
        assert refused.status_code == 409, state
        assert refused.json()["detail"] == (
            f"This engagement is {state}: feedback opens once it is completed."
        )
    move(
        session,
        engagement=engagement,
        actor=world.member,
        action="confirm_completion",
        settings=settings,
    )
    session.commit()
    assert post("coordinator", body).status_code == 403
    assert post("expert", {**body, "rating": 6}).status_code == 422
    created = post("expert", body)
    assert created.status_code == 201 and created.json()["side"] == "expert"
    assert post("expert", body).status_code == 409
    assert post("member", {**body, "rating": 4, "hours": 25}).status_code == 201
    rows = session.exec(select(EngagementFeedback).order_by(col(EngagementFeedback.id))).all()
    assert [(r.side, r.rating, r.hours) for r in rows] == [
        ("expert", 5, 30),
        ("institution", 4, 25),
    ]
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "engagement.feedback")).all()
    assert [a.data["side"] for a in audit] == ["expert", "institution"]


def _text(response: Any) -> str:
    return BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)


def test_name_and_contact_appear_only_at_their_stage(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    institution_browser = make_client()
    login(institution_browser, world.member.email, PASSWORD)
    expert_browser = make_client()
    login(expert_browser, world.expert_user.email, PASSWORD)
    name, phone, email = world.expert.display_name, world.expert.phone, world.expert_user.email

    # Proposed only: neither side sees anything of the other.
    page = _text(institution_browser.get("/institution/proposals"))
    assert name not in page
    assert world.need.title not in _text(expert_browser.get("/expert/proposals"))
    assert expert_browser.get("/api/engagements").json()["total"] == 0

    # Approved (offered): the institution sees the name and summary, not the contact.
    engagement = offer(session, world, settings)
    page = _text(institution_browser.get("/institution/proposals"))
    assert name in page and world.expert.headline in page
    assert email not in page and phone not in page
    data = institution_browser.get(f"/api/engagements/{engagement.id}").json()
    assert data["expert"]["display_name"] == name
    assert "email" not in data["expert"] and "phone" not in data["expert"]
    assert world.need.title in _text(expert_browser.get("/expert/proposals"))

    # Accepted: still no contact.
    move(
        session, engagement=engagement, actor=world.expert_user, action="accept", settings=settings
    )
    session.commit()
    detail = _text(institution_browser.get(f"/institution/engagements/{engagement.id}"))
    assert name in detail and email not in detail and phone not in detail
    assert world.member.email not in _text(
        expert_browser.get(f"/expert/engagements/{engagement.id}")
    )

    # Confirmed: each side sees the other's contact details.
    move(session, engagement=engagement, actor=world.member, action="confirm", settings=settings)
    session.commit()
    detail = _text(institution_browser.get(f"/institution/engagements/{engagement.id}"))
    assert email in detail and phone in detail
    data = institution_browser.get(f"/api/engagements/{engagement.id}").json()
    assert data["expert"]["email"] == email and data["expert"]["phone"] == phone
    assert world.member.email in _text(expert_browser.get(f"/expert/engagements/{engagement.id}"))

    # Outsiders never see it.
    outsider = make_client()
    login(outsider, world.other_member.email, PASSWORD)
    assert outsider.get(f"/institution/engagements/{engagement.id}").status_code == 404
    assert outsider.get("/api/engagements").json()["total"] == 0


def _form(browser: TestClient, url: str, data: dict[str, Any] | None = None) -> Any:
    return browser.post(url, data={**(data or {}), "csrf_token": csrf_token(browser)})


def test_the_whole_journey_through_the_pages(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    coordinator, expert, institution = make_client(), make_client(), make_client()
    login(coordinator, world.coordinator.email, PASSWORD)
    login(expert, world.expert_user.email, PASSWORD)
    login(institution, world.member.email, PASSWORD)

    review = BeautifulSoup(
        coordinator.get(f"/coordinator/needs/{world.need.id}").text, "html.parser"
    )
    assert review.select_one(f"[data-proposal='{world.proposal.id}'] form[data-approve]")
    response = _form(coordinator, f"/coordinator/proposals/{world.proposal.id}/approve")
    assert response.status_code == 303
    engagement = session.exec(select(Engagement)).one()

    offers = BeautifulSoup(expert.get("/expert/proposals").text, "html.parser")
    assert offers.select_one(f"form[action='/engagements/{engagement.id}/accept']")
    assert offers.select_one(f"form[action='/engagements/{engagement.id}/decline']")
    response = _form(expert, f"/engagements/{engagement.id}/accept", {"next": "/expert/proposals"})
    assert response.status_code == 303 and response.headers["location"] == "/expert/proposals"

    page = BeautifulSoup(institution.get("/institution/proposals").text, "html.parser")
    assert page.select_one(f"form[action='/engagements/{engagement.id}/confirm']")
    assert _form(institution, f"/engagements/{engagement.id}/confirm").status_code == 303
    # The institution may not start it: the form is absent and the post refused.
    detail = BeautifulSoup(
        institution.get(f"/institution/engagements/{engagement.id}").text, "html.parser"
    )
    assert not detail.select_one(f"form[action='/engagements/{engagement.id}/start']")
    assert _form(institution, f"/engagements/{engagement.id}/start").status_code == 403

    start, end = utcnow().date(), utcnow().date() + timedelta(days=41)
    response = _form(
        expert,
        f"/engagements/{engagement.id}/start",
        {"start_date": start.isoformat(), "end_date": end.isoformat(), "agreed_hours": "24"},
    )
    assert response.status_code == 303
    # Completing asks first (the page's script, or the page itself): answered, it is done.
    completed = _form(expert, f"/engagements/{engagement.id}/complete", {"confirmed": "yes"})
    assert completed.status_code == 303
    # Done, but it counts only once the institution confirms it: the button is theirs.
    detail = BeautifulSoup(
        institution.get(f"/institution/engagements/{engagement.id}").text, "html.parser"
    )
    assert detail.select_one("[data-status]").get_text(strip=True) == (  # type: ignore[union-attr]
        "Done, awaiting confirmation"
    )
    button = detail.select_one(
        f"form[action='/engagements/{engagement.id}/confirm_completion'] button"
    )
    assert button is not None and button.get_text(strip=True) == "Confirm completion"
    assert impact_report(session)["completed"] == 0
    response = _form(institution, f"/engagements/{engagement.id}/confirm_completion")
    assert response.status_code == 303
    session.expire_all()
    assert impact_report(session)["completed"] == 1
    response = _form(
        expert,
        f"/engagements/{engagement.id}/feedback",
        {
            "rating": "5",
            "delivered": "Six sessions",
            "hours": "26",
            "would_repeat": "on",
            "impact": "A new course",
        },
    )
    assert response.status_code == 303
    response = _form(institution, f"/engagements/{engagement.id}/feedback", {"rating": "9"})
    assert response.status_code == 422
    assert "rating" in BeautifulSoup(response.text, "html.parser").select_one(".field-error").get(
        "id", ""
    )  # type: ignore[union-attr]
    response = _form(
        institution, f"/engagements/{engagement.id}/feedback", {"rating": "4", "hours": "20"}
    )
    assert response.status_code == 303

    session.expire_all()
    done = session.get(Engagement, engagement.id)
    assert done is not None and done.status == "completed"
    assert (done.start_date, done.end_date, done.agreed_hours) == (start, end, 24)
    page = BeautifulSoup(
        coordinator.get(f"/coordinator/engagements/{engagement.id}").text, "html.parser"
    )
    assert {n["data-feedback"] for n in page.select("[data-feedback]") if n.name == "div"} == {
        "expert",
        "institution",
    }
    assert page.select_one("[data-status]").get_text(strip=True) == "Completed"  # type: ignore[union-attr]
    audit = BeautifulSoup(
        coordinator.get("/coordinator/audit?entity_type=engagement").text, "html.parser"
    )
    moves = [row["data-action"] for row in audit.select("[data-event]")]
    said = [row.find_all("td")[2].get_text(" ", strip=True) for row in audit.select("[data-event]")]
    assert said[2] == f"Completion confirmed · Engagement {engagement.id}", said
    assert not any("engagement." in words for words in said)  # sentences, not codes
    assert moves == [
        "engagement.feedback",
        "engagement.feedback",
        "engagement.confirm_completion",
        "engagement.complete",
        "engagement.start",
        "engagement.confirm",
        "engagement.accept",
        "engagement.offer",
    ]


def test_a_missing_reason_on_a_page_shows_the_error_and_changes_nothing(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    response = _form(browser, f"/engagements/{engagement.id}/decline", {"reason": "  "})
    assert response.status_code == 422
    assert "Please give a reason." in _text(response)
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "offered"  # type: ignore[union-attr]


def test_no_route_can_change_the_audit_log(
    session: Session, make_client: Callable[[], TestClient], engine: Engine, settings: Settings
) -> None:
    routes = _flatten(make_client().app.routes)  # type: ignore[attr-defined]
    assert {"/api/audit", "/coordinator/audit"} <= {r.path for r in routes}
    writers = [
        (r.path, sorted(r.methods))
        for r in routes
        if "audit" in r.path and set(r.methods) - {"GET", "HEAD"}
    ]
    assert writers == []

    statements: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", spy)
    try:
        test_the_whole_journey_through_the_pages(session, make_client, settings)
        expert = make_client()
        login(expert, build_world(session).expert_user.email, PASSWORD)
        assert _form(expert, "/account/delete", {"password": PASSWORD}).status_code == 303
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert any("insert into auditevent" in s for s in statements)
    touching = [
        s for s in statements if ("update auditevent" in s or "delete from auditevent" in s)
    ]
    assert touching == []


def _flatten(routes: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            flat.extend(_flatten(original.routes))
        elif getattr(route, "methods", None):
            flat.append(route)
    return flat


def test_zero_agreed_hours_are_refused_by_the_api_naming_the_field(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    token = create_api_token(session, user=world.expert_user)
    session.commit()
    before = snapshot(session, engagement.id or 0, world.need.id or 0)
    response = client.post(
        f"/api/engagements/{engagement.id}/start",
        json={"start_date": "2027-02-01", "end_date": "2027-03-12", "agreed_hours": 0},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "agreed_hours" in response.text and "above 0" in response.text
    assert snapshot(session, engagement.id or 0, world.need.id or 0) == before


def test_terms_are_checked_before_anything_moves(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    token = create_api_token(session, user=world.expert_user)
    session.commit()
    before = snapshot(session, engagement.id or 0, world.need.id or 0)
    response = client.post(
        f"/api/engagements/{engagement.id}/start",
        json={"start_date": "2026-05-01", "end_date": "2026-04-01"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert snapshot(session, engagement.id or 0, world.need.id or 0) == before
    response = client.post(
        f"/api/engagements/{engagement.id}/start",
        json={
            "start_date": "2026-05-01",
            "end_date": "2027-06-30",
            "mode": "hybrid",
            "agreed_hours": 40,
        },
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (
        body["status"],
        body["start_date"],
        body["end_date"],
        body["mode"],
        body["agreed_hours"],
    ) == (
        "active",
        "2026-05-01",
        "2027-06-30",
        "hybrid",
        40,
    )
