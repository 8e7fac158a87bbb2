"""An expert who closes their account gives back the seats they held: each engagement whose
work is not done (offered, accepted, confirmed, active) is cancelled as a coordinator's cancel
is (one move each, recorded), a need they filled opens again and is ranked again, and each
institution's members and coordinator are told in their language. A delivered engagement (the
work done) is kept; every engagement stays, anonymised, for the statistics. The account page
says beforehand which engagements deleting it would cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import EXPERT_LEFT, move
from service.core.jobs import need_rematch_key
from service.models import AuditEvent, Engagement, Job, Need, Notification, OutgoingEmail
from service.models.types import utcnow
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_need
from tests.service.pages.helpers import sentence_of, soup_of, text_of
from tests.service.test_seats_freed import TITLE, confirmed_expert, second_member
from tests.service.worlds import World, bearer, bring_to, build_world, offer

LEILA = "Dr Leïla Haddad — ليلى حداد"
UNIVERSITY = "Université Gaston-Berger — جامعة غاستون بيرجيه"
OFFERED_TITLE = "Évaluer le programme de vaccination à Kaolack — تقييم برنامج التلقيح"
DELIVERED_TITLE = "Réviser le cursus de santé publique — مراجعة منهج الصحة العامة"


def _world(session: Session, settings: Settings) -> tuple[World, dict[str, Engagement], Need]:
    """Dr Leïla Haddad, confirmed on a need for two (filled with Dr Awa Ndiaye), offered
    another need, and with the work of a third delivered."""
    world = build_world(session)
    world.expert_user.display_name = world.expert.display_name = LEILA
    world.expert_user.locale = "ar"
    world.institution.name = UNIVERSITY
    session.add_all([world.expert_user, world.expert, world.institution])
    session.commit()
    start = utcnow().date() + timedelta(days=20)
    team = make_need(
        session,
        institution=world.institution,
        title=TITLE,
        experts_wanted=2,
        start_from=start,
        start_until=start + timedelta(days=30),
    )
    confirmed = offer(session, world, settings, team, expert=world.expert)
    move(session, engagement=confirmed, actor=world.expert_user, action="accept", settings=settings)
    move(session, engagement=confirmed, actor=world.member, action="confirm", settings=settings)
    session.commit()
    awa = confirmed_expert(session, world, settings, team, "Dr Awa Ndiaye")
    session.refresh(team)
    assert team.status == "filled"
    offered = offer(
        session,
        world,
        settings,
        make_need(session, institution=world.institution, title=OFFERED_TITLE),
        expert=world.expert,
    )
    delivered = offer(
        session,
        world,
        settings,
        make_need(session, institution=world.institution, title=DELIVERED_TITLE),
        expert=world.expert,
    )
    for actor, action in (
        (world.expert_user, "accept"),
        (world.member, "confirm"),
        (world.expert_user, "start"),
        (world.expert_user, "complete"),
    ):
        move(session, engagement=delivered, actor=actor, action=action, settings=settings)
    session.commit()
    engagements = {"confirmed": confirmed, "offered": offered, "delivered": delivered, "awa": awa}
    return world, engagements, team


def _delete(browser: TestClient) -> int:
    response = browser.post(
        "/account/delete", data={"password": PASSWORD, "csrf_token": csrf_token(browser)}
    )
    return response.status_code


def test_closing_an_account_cancels_current_engagements_and_opens_the_filled_need(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, engagements, team = _world(session, settings)
    colleague = second_member(session, world, locale="fr")
    world.member.locale = "ar"
    session.add(world.member)
    session.execute(delete(Job))
    session.commit()
    ids = {name: engagement.id for name, engagement in engagements.items()}
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)

    assert _delete(browser) == 303

    session.expire_all()
    found = {name: session.get(Engagement, engagement_id) for name, engagement_id in ids.items()}
    for name in ("confirmed", "offered"):
        engagement = found[name]
        assert engagement is not None
        assert (engagement.status, engagement.reason) == ("cancelled", EXPERT_LEFT), name
        assert engagement.closed_at is not None and engagement.expert_id is None
    # The work delivered stays as it is, anonymised; Dr Awa Ndiaye keeps her seat.
    assert (found["delivered"].status, found["delivered"].expert_id) == ("delivered", None)  # type: ignore[union-attr]
    assert found["awa"].status == "confirmed"  # type: ignore[union-attr]
    reopened = session.get(Need, team.id)
    assert reopened is not None and reopened.status == "open"
    # One move each, recorded with the reason; the need's reopening too.
    cancels = session.exec(
        select(AuditEvent).where(AuditEvent.action == "engagement.cancel").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_id, e.from_state, e.to_state, e.reason) for e in cancels] == [
        (ids["confirmed"], "confirmed", "cancelled", EXPERT_LEFT),
        (ids["offered"], "offered", "cancelled", EXPERT_LEFT),
    ]
    assert all(e.data.get("account_closed") is True for e in cancels)
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "need.reopened", AuditEvent.entity_id == team.id
        )
    ).one()
    assert (event.from_state, event.to_state) == ("filled", "open")
    assert event.data == {"engagement_id": ids["confirmed"], "confirmed": 1, "wanted": 2}
    # Both needs left open are ranked again.
    for engagement in (found["confirmed"], found["offered"]):
        assert engagement is not None
        job = session.exec(select(Job).where(Job.key == need_rematch_key(engagement.need_id))).one()
        assert job.status == "pending"
    # Each institution member and the coordinator learn of each cancellation, in their language.
    left = session.exec(
        select(Notification).where(col(Notification.kind) == "engagement.expert_left")
    ).all()
    assert sorted((n.user_id, n.engagement_id) for n in left) == sorted(
        (user.id, ids[name])
        for user in (world.member, colleague, world.coordinator)
        for name in ("confirmed", "offered")
    )
    mine = {(n.user_id, n.engagement_id): n for n in left}
    french = mine[(colleague.id, ids["offered"])]
    assert french.title == f"Un expert a fermé son compte : {OFFERED_TITLE}"
    assert french.link == f"/institution/engagements/{ids['offered']}"
    arabic = mine[(world.member.id, ids["confirmed"])]
    assert arabic.title.startswith("أغلق خبير حسابه")
    assert mine[(world.coordinator.id, ids["confirmed"])].link == (
        f"/coordinator/engagements/{ids['confirmed']}"
    )
    assert "closed their account" in mine[(world.coordinator.id, ids["confirmed"])].body
    emails = session.exec(
        select(OutgoingEmail).where(col(OutgoingEmail.kind) == "engagement.expert_left")
    ).all()
    assert {email.to_address for email in emails} == {
        world.member.email,
        colleague.email,
        world.coordinator.email,
    }
    reopened_told = session.exec(
        select(Notification).where(col(Notification.kind) == "need.reopened")
    ).all()
    assert {n.user_id for n in reopened_told} == {
        world.member.id,
        colleague.id,
        world.coordinator.id,
    }
    # Nothing of the expert is left in what the others were told.
    for note in [*left, *reopened_told]:
        assert "Leïla" not in note.title + note.body and "ليلى" not in note.title + note.body


def test_the_account_page_lists_the_engagements_deleting_it_would_cancel(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, _, _ = _world(session, settings)
    world.expert_user.locale = "fr"
    session.add(world.expert_user)
    session.commit()
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)

    page = soup_of(browser.get("/account/data"))

    warning = page.select_one("[data-erasure-cancels]")
    assert warning is not None
    assert text_of(warning).startswith(
        "Vos 2 engagements en cours seront annulés, et leurs institutions et coordinateurs prévenus"
    )
    listed = [sentence_of(item) for item in page.select("[data-erasure-engagement]")]
    assert listed == [
        f"« {TITLE} » avec {UNIVERSITY}",
        f"« {OFFERED_TITLE} » avec {UNIVERSITY}",
    ]
    # The work delivered is not cancelled, so not listed.
    assert DELIVERED_TITLE not in text_of(page)
    # A wrong password shows the same warning beside the error.
    refused = browser.post(
        "/account/delete", data={"password": "pas le bon", "csrf_token": csrf_token(browser)}
    )
    assert refused.status_code == 422
    assert len(soup_of(refused).select("[data-erasure-engagement]")) == 2


def test_one_current_engagement_is_said_in_the_singular(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    offer(session, world, settings)
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = soup_of(browser.get("/account/data"))
    assert text_of(page.select_one("[data-erasure-cancels]")).startswith(
        "Your current engagement will be cancelled, and its institution and coordinator told:"
    )


def test_an_expert_with_nothing_current_and_a_member_see_no_warning(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    for user in (world.expert_user, world.member):
        browser = make_client()
        login(browser, user.email, PASSWORD)
        page = soup_of(browser.get("/account/data"))
        assert page.select_one("form[data-delete]") is not None
        assert page.select_one("[data-erasure-cancels]") is None


@pytest.mark.parametrize(
    ("status", "after"),
    [
        ("offered", "cancelled"),
        ("accepted", "cancelled"),
        ("confirmed", "cancelled"),
        ("active", "cancelled"),
        ("delivered", "delivered"),
        ("completed", "completed"),
        ("declined", "declined"),
        ("expired", "expired"),
    ],
)
def test_erasure_over_the_api_cancels_only_work_not_done(
    status: str, after: str, session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, status)
    reason = engagement.reason
    headers = bearer(session, world.expert_user)

    response = client.post("/api/me/delete", json={"password": PASSWORD}, headers=headers)

    assert response.status_code == 200, response.text
    session.expire_all()
    kept = session.get(Engagement, engagement.id)
    assert kept is not None and (kept.status, kept.expert_id) == (after, None)
    assert kept.reason == (EXPERT_LEFT if after == "cancelled" else reason)
    told = session.exec(
        select(Notification).where(col(Notification.kind) == "engagement.expert_left")
    ).all()
    expected = {world.member.id, world.coordinator.id} if after == "cancelled" else set()
    assert {note.user_id for note in told} == expected
