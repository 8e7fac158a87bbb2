"""A need a coordinator suggested to the expert is an offer: it leaves "Needs for you" (whose
empty state then points to the offers), and the need's page says where the offer stands."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.core.needs_for_you import needs_for_you
from service.models import ProposalStatus
from service.pages import reasons
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import World, bring_to, build_world, offer

TITLE = "Surveillance épidémiologique à Saint-Louis — مراقبة وبائية"


def _world(session: Session, locale: str = "en") -> World:
    world = build_world(session)
    world.need.title = TITLE
    world.expert_user.locale = locale
    session.add(world.need)
    session.add(world.expert_user)
    session.commit()
    return world


def _for_you_titles(browser: TestClient) -> list[str]:
    box = soup_of(browser.get("/expert")).select_one("section[data-for-you]")
    assert box is not None
    return [text_of(card.h3) for card in box.select(".need-card")]


def test_the_approved_proposal_is_an_offer_and_nothing_else_decides_it() -> None:
    from service.core.proposals import NOT_FOR_YOU, SUGGESTED_TO_EXPERT

    assert ProposalStatus.APPROVED in SUGGESTED_TO_EXPERT
    assert SUGGESTED_TO_EXPERT <= NOT_FOR_YOU
    assert ProposalStatus.PROPOSED not in NOT_FOR_YOU


def test_an_offered_need_leaves_needs_for_you_and_the_empty_list_points_to_the_offers(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    browser = log_in_as(make_client(), world.expert_user.email)
    assert _for_you_titles(browser) == [TITLE]

    offer(session, world, settings)

    assert _for_you_titles(browser) == []
    assert needs_for_you(session, expert=world.expert).offers_waiting == 1
    for address in ("/expert", "/expert/needs", "/expert/for-you"):
        box = soup_of(browser.get(address)).select_one("section[data-for-you]")
        assert box is not None, address
        waiting = box.select_one("[data-offers-waiting]")
        assert waiting is not None, address
        assert text_of(waiting).startswith("You have 1 engagement offer waiting for your answer.")
        assert waiting.a is not None and waiting.a["href"] == "/expert/proposals"
    offers = soup_of(browser.get("/expert/proposals"))
    assert TITLE in text_of(offers.select_one("[data-engagement] h2"))


def test_the_need_page_says_the_offer_waits_then_that_it_was_accepted(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = offer(session, world, settings)
    browser = log_in_as(make_client(), world.expert_user.email)
    address = f"/expert/needs/{world.need.id}"
    page = soup_of(browser.get(address))
    state = page.select_one("[data-offer-state]")
    assert state is not None and state["data-offer-state"] == "offered"
    deadline = reasons.day((engagement.offer_expires_at or engagement.offered_at).date())
    assert text_of(state.select_one("[data-offer-sentence]")) == (
        f"A coordinator has offered you this need — accept or decline below, before {deadline}."
    )
    assert page.select_one("form[data-interest]") is None  # an offer, not a need to flag
    accept = state.select_one("form.move-accept")
    assert accept is not None and accept.select_one("input[name=next]")["value"] == address  # type: ignore[index]

    response = post_form(browser, f"/engagements/{engagement.id}/accept", {"next": address})
    assert response.status_code == 303 and response.headers["location"] == address
    page = soup_of(browser.get(address))
    state = page.select_one("[data-offer-state]")
    assert state is not None and state["data-offer-state"] == "accepted"
    session.refresh(engagement)
    accepted_on = reasons.day(engagement.responded_at.date())  # type: ignore[union-attr]
    assert text_of(state.select_one("[data-offer-sentence]")) == (
        f"You accepted on {accepted_on}; the institution will confirm."
    )
    assert state.select_one("form.move-accept") is None


@pytest.mark.parametrize(
    ("status", "locale", "said"),
    [
        ("declined", "en", "You declined this offer on"),
        ("expired", "en", "This offer expired on"),
        ("accepted", "en", "You accepted on"),
        ("offered", "fr", "Un coordinateur vous a proposé ce besoin"),
        ("accepted", "ar", "قبلت في"),
        ("cancelled", "es", "El compromiso se canceló el"),
    ],
)
def test_the_need_page_says_every_state_in_the_experts_language(
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
    status: str,
    locale: str,
    said: str,
) -> None:
    world = _world(session, locale)
    engagement = bring_to(session, world, settings, status)
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get(f"/expert/needs/{world.need.id}"))
    state = page.select_one("[data-offer-state]")
    assert state is not None and state["data-offer-state"] == status
    sentence = text_of(state.select_one("[data-offer-sentence]"))
    assert said in sentence
    assert "%(" not in sentence and "None" not in sentence
    assert str(engagement.id) in state.select_one("a")["href"]  # type: ignore[index]
    # An offer declined, expired or cancelled is not shown as a success.
    tone = {"offered": "message-info", "accepted": "message-success"}.get(status, "message-ended")
    assert tone in state.select_one("[data-offer-sentence]")["class"]  # type: ignore[index]
