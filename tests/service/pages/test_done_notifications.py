"""A notification that asks for a move (answer an offer, confirm an engagement, confirm its
completion) stops asking once the move is made, whoever or whatever made it; the expert's
offers are named alike in the menu, the page and the home card, and counted right; the
institution is told what it is to do, not about itself; a draft shows only what a draft does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.core.engagements import expire_offer, move
from service.models.types import utcnow
from tests.factories import make_member, make_need
from tests.service.pages.helpers import log_in_as, post_form, sentence_of, soup_of, text_of
from tests.service.pages.html_forms import HtmlForm
from tests.service.worlds import World, bring_to, build_world, offer

TITLE = "Co-enseigner un module d'épidémiologie à distance"


def _world(session: Session) -> World:
    world = build_world(session)
    world.need.title = TITLE
    session.add(world.need)
    session.commit()
    return world


def _cards(browser: TestClient) -> list[dict[str, object]]:
    page = soup_of(browser.get("/notifications"))
    return [
        {
            "title": text_of(card.h2),
            "text": text_of(card),
            "read": card["data-read"],
            "done": card.has_attr("data-done"),
        }
        for card in page.select("[data-notification]")
    ]


def _set_locale(session: Session, world: World, locale: str) -> None:
    for user in (world.expert_user, world.member):
        user.locale = locale
        session.add(user)
    session.commit()


def test_an_answered_offer_stops_asking_for_an_answer(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    [before] = _cards(expert)
    assert before["read"] == "no" and not before["done"]
    assert "Please accept or decline before" in str(before["text"])

    response = post_form(expert, f"/engagements/{engagement.id}/accept", {"from_status": "offered"})
    assert response.status_code == 303

    [after] = _cards(expert)
    assert after["read"] == "yes" and after["done"]
    assert "Please accept or decline" not in str(after["text"])
    assert f"The offer for “{TITLE}” has been answered or has closed" in str(after["text"])
    assert "Done on" in str(after["text"])
    page = soup_of(expert.get("/notifications"))
    assert page.select_one(".count-badge") is None  # nothing left unread in the menu either


def test_the_institution_confirm_requests_stop_asking_once_confirmed(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "accepted")
    member = log_in_as(make_client(), world.member.email)
    [accepted] = _cards(member)
    assert accepted["read"] == "no" and "Please confirm the engagement" in str(accepted["text"])

    response = post_form(
        member, f"/engagements/{engagement.id}/confirm", {"from_status": "accepted"}
    )
    assert response.status_code == 303
    [accepted] = _cards(member)
    assert accepted["done"] and accepted["read"] == "yes"
    assert "Please confirm" not in str(accepted["text"])

    session.refresh(engagement)
    for step in ("start", "complete"):
        move(
            session, engagement=engagement, actor=world.coordinator, action=step, settings=settings
        )
    session.commit()
    delivered = _cards(member)[0]
    assert delivered["read"] == "no" and "Please confirm it" in str(delivered["text"])
    post_form(
        member, f"/engagements/{engagement.id}/confirm_completion", {"from_status": "delivered"}
    )
    cards = _cards(member)
    delivered = next(c for c in cards if "Engagement done" in str(c["title"]))
    assert delivered["done"] and "to confirm" not in str(delivered["title"])
    assert delivered["read"] == "yes"
    # Whatever still asks for a move is gone: no card left says "Please confirm".
    assert not any("Please confirm" in str(c["text"]) for c in cards)


def test_an_offer_expired_by_the_clock_stops_asking_too(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = offer(session, world, settings)
    expire_offer(session, engagement=engagement, settings=settings, now=utcnow())
    session.commit()
    expert = log_in_as(make_client(), world.expert_user.email)
    expired, offered = _cards(expert)
    assert "expired" in str(expired["title"]) and expired["read"] == "no"
    assert offered["done"] and "Please accept" not in str(offered["text"])


def test_a_done_notification_reads_done_in_french(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    _set_locale(session, world, "fr")
    bring_to(session, world, settings, "confirmed")
    member = log_in_as(make_client(), world.member.email)
    accepted = next(c for c in _cards(member) if "L'expert a accepté" in str(c["title"]))
    assert accepted["done"]
    assert f"L’engagement pour « {TITLE} » a été confirmé" in str(accepted["text"])
    assert "Merci de confirmer" not in str(accepted["text"])
    assert "Fait le" in str(accepted["text"])


def test_the_offers_are_named_alike_and_counted_right(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    home = soup_of(expert.get("/expert"))
    assert text_of(home.select_one('nav a[href="/expert/proposals"]')) == "My offers"
    assert text_of(home.select_one('.link-cards a[href="/expert/proposals"]')) == "My offers"
    waiting = text_of(home.select_one("[data-offers-waiting]"))
    assert waiting.startswith("You have 1 engagement offer waiting for your answer.")

    page = soup_of(expert.get("/expert/proposals"))
    assert text_of(page.h1) == "My offers"
    assert text_of(page.title).startswith("My offers")
    assert "1 engagement offer waiting" in text_of(page.select_one("[data-offers-waiting]"))

    # Accepting leaves the offer listed (the institution is to confirm) but no longer waiting.
    response = post_form(
        expert,
        f"/engagements/{engagement.id}/accept",
        {"from_status": "offered", "next": "/expert/proposals"},
    )
    page = soup_of(expert.get(response.headers["location"]))
    assert text_of(page.h1) == "My offers"
    assert text_of(page.select_one("[data-offers-waiting]")) == "No offer waits for your answer."
    assert page.select_one(f'[data-engagement="{engagement.id}"]') is not None
    home = soup_of(expert.get("/expert"))
    assert home.select_one("[data-offers-waiting]") is None


@pytest.mark.parametrize(
    ("locale", "nav"), [("fr", "Mes offres"), ("es", "Mis ofertas"), ("ar", "عروضي")]
)
def test_the_offers_menu_reads_alike_in_other_languages(
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
    locale: str,
    nav: str,
) -> None:
    world = _world(session)
    _set_locale(session, world, locale)
    offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(expert.get("/expert/proposals"))
    assert text_of(page.select_one('nav a[href="/expert/proposals"]')) == nav
    assert text_of(page.h1) == nav


@pytest.mark.parametrize(
    ("status", "reader", "said", "not_said"),
    [
        (
            "delivered",
            "member",
            "merci d’en confirmer l’achèvement ci-dessous",
            "l’institution doit",
        ),
        ("accepted", "member", "merci de confirmer l’engagement ci-dessous", "l’institution doit"),
        ("delivered", "coordinator", "l’institution doit confirmer", "ci-dessous"),
        ("delivered", "expert", "l’institution va confirmer", "ci-dessous"),
    ],
)
def test_where_an_engagement_stands_is_said_to_its_reader(
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
    status: str,
    reader: str,
    said: str,
    not_said: str,
) -> None:
    world = _world(session)
    user = world.user(reader)
    user.locale = "fr"
    session.add(user)
    session.commit()
    engagement = bring_to(session, world, settings, status)
    base = {"member": "/institution", "coordinator": "/coordinator", "expert": "/expert"}[reader]
    browser = log_in_as(make_client(), user.email)
    page = soup_of(browser.get(f"{base}/engagements/{engagement.id}"))
    where = sentence_of(page.select_one("[data-facts] li"))
    assert said in where and not_said not in where


def test_a_draft_shows_only_what_a_draft_does(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, institution = make_member(session)
    draft = make_need(session, institution=institution, status="draft", title=TITLE)
    session.commit()
    browser = log_in_as(make_client(), member.email)
    page = soup_of(browser.get(f"/institution/needs/{draft.id}"))
    assert page.select_one('main a[href="/institution/proposals"]') is None
    assert page.select_one(f'form[action="/institution/needs/{draft.id}/close"]') is None
    assert page.select_one("[data-publish]") is not None  # kept: a verified draft publishes
    assert len(page.select(f'a[href="/institution/needs/{draft.id}/edit"]')) == 1
    open_need = make_need(session, institution=institution, title="Superviser deux thèses")
    session.commit()
    page = soup_of(browser.get(f"/institution/needs/{open_need.id}"))
    assert page.select_one('[data-need-actions] a[href="/institution/proposals"]') is not None
    assert page.select_one(f'form[action="/institution/needs/{open_need.id}/close"]') is not None


def test_an_unverified_institution_writes_a_draft_not_a_post(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, institution = make_member(session, verified=False)
    draft = make_need(session, institution=institution, status="draft", title=TITLE)
    session.commit()
    browser = log_in_as(make_client(), member.email)
    form = soup_of(browser.get("/institution/needs/new"))
    assert text_of(form.h1) == "Write a draft need"
    assert text_of(form.title).startswith("Write a draft need")
    home = soup_of(browser.get("/institution"))
    assert "Post a need" not in text_of(home.select_one("main"))
    page = soup_of(browser.get(f"/institution/needs/{draft.id}"))
    assert page.select_one('main a[href="/institution/proposals"]') is None
    assert page.select_one(f'form[action="/institution/needs/{draft.id}/close"]') is None
    assert page.select_one("[data-publish]") is None
    assert page.select_one(f'[data-need-actions] a[href="/institution/needs/{draft.id}/edit"]')


def test_a_request_for_more_information_stops_asking_once_the_institution_answers(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    member_user, institution = make_member(
        session, verified=False, name="Université Abdelmalek Essaâdi", country="MA"
    )
    other_user, _ = make_member(session, verified=False, name="جامعة القاضي عياض")
    world = build_world(session)
    coordinator = log_in_as(make_client(), world.coordinator.email)
    asked = post_form(
        coordinator,
        f"/coordinator/institutions/{institution.id}/review",
        {
            "decision": "info_requested",
            "reason": "Merci d’ajouter le site web de la faculté et l’adresse à Tétouan.",
        },
    )
    assert asked.status_code == 303, asked.text
    member = log_in_as(make_client(), member_user.email)
    [request] = _cards(member)
    assert request["read"] == "no" and not request["done"]
    assert "Please answer them on your institution's page" in str(request["text"])

    form = HtmlForm.of(member.get("/institution/profile"), "/institution/profile")
    form.type("website", "https://www.uae.ma")
    form.type("city", "Tétouan")
    assert form.submit(member).status_code == 303

    [request] = _cards(member)
    assert request["done"] and request["read"] == "yes"
    assert "Please answer" not in str(request["text"])
    assert "Université Abdelmalek Essaâdi answered this request (with a message or by saving" in (
        str(request["text"])
    )
    page = soup_of(member.get("/notifications"))
    assert page.select_one(".count-badge") is None
    # Another institution's members are not concerned.
    assert _cards(log_in_as(make_client(), other_user.email)) == []

    # Asked again: a new request asks, until it is answered in turn.
    post_form(
        coordinator,
        f"/coordinator/institutions/{institution.id}/review",
        {"decision": "info_requested", "reason": "Et le nom du doyen, s’il vous plaît."},
    )
    again, first = _cards(member)
    assert not again["done"] and first["done"]
