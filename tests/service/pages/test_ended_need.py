"""A need that is filled or closed, opened by an expert from an old link: those who were offered
it still read it, with where their engagement stands; others are told plainly that it ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Engagement, Role, User
from service.repos import experts as experts_repo
from tests.factories import make_expert, make_need, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import World, bring_to, build_world, offer

FILLED = "This need is filled: the institution is no longer looking for experts."
CLOSED = "This need is closed: the institution is no longer looking for experts."


@dataclass
class Filled:
    world: World
    confirmed: Engagement  # the offer the institution confirmed, which filled the need
    withdrawn: Engagement  # another expert's offer, withdrawn when the need was filled
    outsider: User  # an expert never offered it


@pytest.fixture
def filled(session: Session, settings: Settings) -> Filled:
    """Two experts offered one need; the institution confirms the first, which fills it."""
    world = build_world(session)
    second = experts_repo.get_expert_of_user(session, world.other_expert_user.id or 0)
    withdrawn = offer(session, world, settings, expert=second)
    confirmed = bring_to(session, world, settings, "confirmed")
    session.refresh(world.need)
    session.refresh(withdrawn)
    assert world.need.status == "filled" and withdrawn.status == "cancelled"
    outsider = make_user(session, role=Role.EXPERT)
    make_expert(session, user=outsider, display_name="Never Offered")
    return Filled(world, confirmed, withdrawn, outsider)


def test_the_expert_engaged_on_a_filled_need_still_reads_it_and_reaches_the_engagement(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    need = filled.world.need
    browser = log_in_as(make_client(), filled.world.expert_user.email)
    response = browser.get(f"/expert/needs/{need.id}")
    assert response.status_code == 200
    page = soup_of(response)
    assert text_of(page.select_one("h1")) == need.title
    assert text_of(page.select_one("[data-need-ended]")) == FILLED
    assert page.select_one("[data-need-summary]") is not None
    assert need.description in text_of(page.select_one("article"))
    state = page.select_one("[data-offer-state]")
    assert state is not None and state["data-offer-state"] == "confirmed"
    assert text_of(state.select_one("[data-offer-sentence]")).startswith(
        "The institution confirmed the engagement on"
    )
    links = [a["href"] for a in state.select("a")]
    assert f"/expert/engagements/{filled.confirmed.id}" in links
    # Nothing left to say about an ended need: no interest form, no buttons.
    assert page.select_one("form[data-interest]") is None
    assert page.select_one("[data-actions]") is None


def test_an_expert_whose_offer_was_withdrawn_reads_the_need_and_why(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    need = filled.world.need
    browser = log_in_as(make_client(), filled.world.other_expert_user.email)
    response = browser.get(f"/expert/needs/{need.id}")
    assert response.status_code == 200
    page = soup_of(response)
    assert text_of(page.select_one("[data-need-ended]")) == FILLED
    state = page.select_one("[data-offer-state]")
    assert state is not None and state["data-offer-state"] == "cancelled"
    assert text_of(state.select_one("[data-offer-sentence]")).startswith(
        "The engagement was cancelled on"
    )
    assert f"/expert/engagements/{filled.withdrawn.id}" in [a["href"] for a in state.select("a")]
    assert page.select_one("form[data-interest]") is None


def test_the_engagement_page_links_to_the_need_and_the_link_opens(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    browser = log_in_as(make_client(), filled.world.expert_user.email)
    page = soup_of(browser.get(f"/expert/engagements/{filled.confirmed.id}"))
    link = page.select_one("a[data-need-link]")
    assert link is not None and text_of(link) == "See the need"
    assert browser.get(str(link["href"])).status_code == 200


def test_an_expert_never_offered_a_filled_need_is_told_it_is_filled(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    need = filled.world.need
    browser = log_in_as(make_client(), filled.outsider.email)
    response = browser.get(f"/expert/needs/{need.id}")
    assert response.status_code == 410
    page = soup_of(response)
    assert text_of(page.select_one("h1")) == need.title
    assert text_of(page.select_one("[data-ended-sentence]")) == FILLED
    assert page.select_one("a.button[href='/expert/needs']") is not None
    # Only that it ended: not the need itself, and nothing to act on.
    assert page.select_one("[data-need-summary]") is None
    assert need.description not in response.text
    assert page.select_one("form[data-interest]") is None


def test_saying_interest_in_a_filled_need_says_it_is_filled(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    browser = log_in_as(make_client(), filled.outsider.email)
    response = post_form(browser, f"/expert/needs/{filled.world.need.id}/interest", {})
    assert response.status_code == 410
    page = soup_of(response)
    assert text_of(page.select_one("h1")) == "No longer available"
    assert FILLED in text_of(page.select_one(".error-page"))


def test_the_api_answers_gone_for_a_filled_need_the_expert_had_no_part_in(
    filled: Filled, make_client: Callable[[], TestClient]
) -> None:
    browser = log_in_as(make_client(), filled.outsider.email)
    response = browser.get(f"/api/needs/{filled.world.need.id}")
    assert response.status_code == 410
    assert response.json() == {"detail": FILLED}
    engaged = log_in_as(make_client(), filled.world.expert_user.email)
    assert engaged.get(f"/api/needs/{filled.world.need.id}").json()["status"] == "filled"


def test_a_closed_need_says_it_is_closed_in_the_experts_language(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.need.status = "closed"
    world.other_expert_user.locale = "fr"
    session.add_all([world.need, world.other_expert_user])
    session.commit()
    browser = log_in_as(make_client(), world.other_expert_user.email)
    response = browser.get(f"/expert/needs/{world.need.id}")
    assert response.status_code == 410
    page = soup_of(response)
    assert text_of(page.select_one("[data-ended-sentence]")) == (
        "Ce besoin est clos : l’institution ne cherche plus d’experts."
    )
    assert text_of(page.select_one("a.button")) == "Voir les besoins ouverts"


@pytest.mark.parametrize("locale", ["es", "ar"])
def test_the_ended_page_is_in_spanish_and_arabic(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    world = build_world(session)
    world.need.status = "filled"
    world.other_expert_user.locale = locale
    session.add_all([world.need, world.other_expert_user])
    session.commit()
    page = soup_of(
        log_in_as(make_client(), world.other_expert_user.email).get(
            f"/expert/needs/{world.need.id}"
        )
    )
    said = text_of(page.select_one("[data-ended-sentence]"))
    assert (
        said
        == {
            "es": "Esta necesidad está cubierta: la institución ya no busca expertos.",
            "ar": "تمت تلبية هذه الحاجة: لم تعد المؤسسة تبحث عن خبراء.",
        }[locale]
    )
    html = page.select_one("html")
    assert html is not None and html["dir"] == ("rtl" if locale == "ar" else "ltr")


def test_a_need_closed_before_it_was_ever_published_is_not_found(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    draft = make_need(
        session, institution=world.institution, title="Never shown", status="closed", posted_at=None
    )
    browser = log_in_as(make_client(), world.other_expert_user.email)
    response = browser.get(f"/expert/needs/{draft.id}")
    assert response.status_code == 404
    assert "Never shown" not in response.text
