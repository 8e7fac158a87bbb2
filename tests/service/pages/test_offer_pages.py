"""What the expert and the institution read before deciding: the whole need and the reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from tests.service.pages.helpers import flash_messages, log_in_as, post_form, soup_of, text_of
from tests.service.worlds import build_world, offer


def test_an_offer_shows_the_whole_need_and_why_before_accept_or_decline(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.need.start_from = date(2026, 12, 1)
    world.need.start_until = date(2027, 1, 15)
    world.need.support = ["travel", "stipend"]
    world.need.city = "Dakar"
    world.need.mode = "hybrid"  # partly in person: where is part of the offer
    session.add(world.need)
    session.commit()
    engagement = offer(session, world, settings)
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get("/expert/proposals"))
    card = page.select_one(f"[data-engagement='{engagement.id}']")
    assert card is not None
    summary = text_of(card.select_one("[data-need-summary]"))
    for fact in (
        "Dakar",
        "4 h/week",
        "6 weeks",
        "Dec 1, 2026",
        "Jan 15, 2027",
        "Travel",
        "Stipend",
    ):
        assert fact in summary, fact
    assert world.need.description in text_of(card)
    said = [text_of(li) for li in card.select("[data-reasons] li")]
    assert said[0].startswith("Covers 1 of 2 skills asked")
    accept = card.select_one("form.move-accept button")
    decline = card.select_one("form.move-decline button")
    assert accept is not None and text_of(accept) == "Accept"
    assert decline is not None and "danger" in (decline.get("class") or [])
    assert "danger" not in (accept.get("class") or [])


def test_french_offer_and_confirm_buttons_are_in_french(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.expert_user.locale = "fr"
    world.member.locale = "fr"
    session.add(world.expert_user)
    session.add(world.member)
    session.commit()
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    card = soup_of(expert.get("/expert/proposals")).select_one(
        f"[data-engagement='{engagement.id}']"
    )
    assert card is not None
    buttons = [text_of(b) for b in card.select("[data-actions] button")]
    assert buttons == ["Accepter", "Décliner"]
    # The reason asked sits beside Accept: it says it is the reason for declining.
    reason = card.select_one("form.move-decline label")
    assert reason is not None and text_of(reason).startswith("Motif du refus")
    assert "1 des 2 compétences" in text_of(card.select_one("[data-reasons]"))
    post_form(expert, f"/engagements/{engagement.id}/accept", {"next": "/expert/proposals"})
    member = log_in_as(make_client(), world.member.email)
    page = soup_of(member.get("/institution/proposals"))
    card = page.select_one(f"[data-engagement='{engagement.id}']")
    assert card is not None
    assert "Confirmer" in [text_of(b) for b in card.select("[data-actions] button")]
    assert "Couvre 1 des 2 compétences demandées" in text_of(card.select_one("[data-reasons]"))


def test_an_expert_opens_a_need_says_interested_and_the_coordinator_sees_it(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get(f"/expert/needs/{world.need.id}"))
    assert text_of(page.select_one("h1")) == world.need.title
    assert page.select_one("[data-need-summary]") is not None
    assert page.select_one("[data-reasons]") is not None  # ranked for this expert: why
    response = post_form(browser, f"/expert/needs/{world.need.id}/interest", {})
    assert response.status_code == 303
    page = soup_of(browser.get(response.headers["location"]))
    assert page.select_one("[data-interested]") is not None
    assert page.select_one("form[data-interest]") is None
    post_form(browser, f"/expert/needs/{world.need.id}/interest", {})  # twice is once

    coordinator = log_in_as(make_client(), world.coordinator.email)
    page = soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}"))
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None and card.select_one("[data-interested]") is not None
    history = [text_of(li) for li in page.select("[data-history] li")]
    named = f"{world.expert.display_name} said they are interested"
    assert sum(named in line for line in history) == 1


def test_needs_for_you_says_why_the_list_is_empty(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.expert_id = world.expert.id or 0
    session.delete(world.proposal)
    session.commit()
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get("/expert/needs"))
    box = page.select_one("[data-for-you-empty]")
    assert box is not None
    assert "Needs for you" in text_of(box) and len(text_of(box)) > 40


def test_an_expert_withdraws_their_interest_and_may_say_it_again(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.expert.display_name = "Hélène Ndiaye-Benali"
    session.add(world.expert)
    session.commit()
    browser = log_in_as(make_client(), world.expert_user.email)
    need_page = f"/expert/needs/{world.need.id}"
    post_form(browser, f"{need_page}/interest", {})
    response = post_form(browser, f"{need_page}/interest/withdraw", {})
    assert response.status_code == 303 and response.headers["location"] == need_page
    page = soup_of(browser.get(need_page))
    assert page.select_one("[data-interested]") is None
    assert page.select_one("form[data-interest]") is not None
    assert "Your interest in this need is withdrawn." in text_of(page)
    # Withdrawn, the coordinators no longer see it on the card; the history says both.
    coordinator = log_in_as(make_client(), world.coordinator.email)
    page = soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}"))
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None and card.select_one("[data-interested]") is None
    history = [text_of(li) for li in page.select("[data-history] li")]
    assert any("An expert withdrew their interest" in line for line in history), history
    # Said again, it counts again; withdrawing twice is once.
    post_form(browser, f"{need_page}/interest", {})
    page = soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}"))
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None and card.select_one("[data-interested]") is not None
    post_form(browser, f"{need_page}/interest/withdraw", {})
    post_form(browser, f"{need_page}/interest/withdraw", {})
    # The second click (another tab) is told where things stand, not thanked again.
    assert flash_messages(browser.get(need_page))[-2:] == [
        "Your interest in this need is withdrawn.",
        "The coordinators do not see you as interested in this need.",
    ]
    history = [
        text_of(li)
        for li in soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}")).select(
            "[data-history] li"
        )
    ]
    assert sum("withdrew their interest" in line for line in history) == 2, history
    # Withdrawn again, they are listed no more: the history names no one (only listed experts).
    assert sum("Hélène Ndiaye-Benali said they are interested" in line for line in history) == 0
