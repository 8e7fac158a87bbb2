"""The decision pages in a browser, with screenshots: review in place, the offer, the header.

It runs after the journeys (file order): the experts it adds would change their ranking.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from service.config import Settings
from service.core.proposals import approve_proposal
from service.models import ExpertProfile, MatchProposal, Need, Role, User
from tests.browser.conftest import LiveSite, Visitor
from tests.factories import make_expert, make_proposal

NOTES = Path("/work/notes/screens")
FACTS = {
    "mode_fit": "accepted",
    "need_mode": "remote",
    "expert_modes": ["remote"],
    "free_hours": 3.0,
    "needed_hours": 4,
    "country": "SN",
}


def _explanation(covered: int) -> dict[str, Any]:
    skills = [
        {
            "required": "épidémiologie",
            "matched": "epidemiology",
            "similarity": 0.91,
            "how": "semantic",
        },
        {
            "required": "biostatistique",
            "matched": "biostatistics",
            "similarity": 0.88,
            "how": "semantic",
        },
    ]
    return {
        "covered_skills": skills[:covered],
        "missing_skills": ["biostatistique"] if covered < 2 else [],
        "related_skills": [],
        "closest_phrases": [
            {"text": "Field epidemiologist", "source": "headline", "similarity": 0.6}
        ],
        "shared_languages": ["fr"],
        "overlap_hours": 5.0,
        "country_tie": True,
        "facts": FACTS,
    }


@pytest.fixture
def candidates(live_site: LiveSite) -> Iterator[list[int]]:
    """Five ranked candidates for the site's need; retired afterwards, so that the other
    journeys' matching never ranks them."""
    ids = _candidates(live_site)
    yield ids
    with live_site.session() as session:
        for proposal_id in ids:
            proposal = session.get(MatchProposal, proposal_id)
            expert = session.get(ExpertProfile, proposal.expert_id) if proposal else None
            if expert is not None:
                expert.active = False
                session.add(expert)
        session.commit()


def _candidates(site: LiveSite) -> list[int]:
    """Gives the site's need five ranked candidates with explanations; their proposal ids."""
    ids = []
    with site.session() as session:
        need = session.get(Need, site.ids["need"])
        assert need is not None
        for i, name in enumerate(
            ("Aïssatou Ndiaye", "Moussa Sarr", "Khady Fall", "Omar Ba", "Binta Sy")
        ):
            expert = make_expert(session, display_name=name)
            proposal = make_proposal(
                session,
                need=need,
                expert=expert,
                score=6.5 - i * 1.2,
                rank=i + 1,
                explanation=_explanation(2 if i < 2 else 1),
                components={"use.document": 0.61, "e5.headline": 0.0, "lexical": 20.796},
            )
            ids.append(proposal.id or 0)
    return ids


def _keep(path: Path) -> None:
    NOTES.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, NOTES / path.name)


def test_review_decides_in_place_and_the_header_fits(
    live_site: LiveSite, browser: Any, candidates: list[int]
) -> None:
    ids = candidates
    visitor = Visitor(browser, live_site, viewport={"width": 1280, "height": 900})
    # Its own coordinator: this one switches to French, the other journeys read English.
    visitor.log_in(live_site.new_user("review-coordinator@homeward.test", Role.COORDINATOR))
    page = visitor.page
    page.goto(f"/coordinator/needs/{live_site.ids['need']}")
    _keep(visitor.screenshot("review-1280", full_page=True))
    # Internals stay folded; the reasons are words.
    assert not page.is_visible("[data-rank-summary]")
    assert page.locator("[data-components]").count() == 0  # raw figures: the JSON API only
    assert page.is_visible(f"#candidate-{ids[0]} [data-reasons]")
    # Reject without a reason, in place: the error shows beside the button, the page stays put.
    card = f"#candidate-{ids[3]}"
    page.locator(card).scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    page.click(f"{card} form[data-reject] button")
    page.wait_for_selector(f"#reason-{ids[3]}-error")
    assert page.evaluate("window.scrollY") == before
    page.fill(f"#reason-{ids[3]}", "Too far from the subject")
    page.click(f"{card} form[data-reject] button")
    page.wait_for_selector(f"{card} [data-proposal-status]:has-text('Rejected')")
    assert page.evaluate("window.scrollY") == before
    # Select all counts what is ticked.
    page.check("[data-select-all]")
    ticked = page.locator("input[data-pick]:checked").count()
    assert ticked == page.locator("input[data-pick]").count() >= 4
    assert page.inner_text("[data-selected-count]") == f"{ticked} selected"
    _keep(visitor.screenshot("review-after-reject-1280", full_page=False))

    # The French header stays on one row at 1280 px.
    page.goto("/account")
    with page.expect_navigation():
        page.select_option("#language-select", "fr")  # applies on change
    page.wait_for_load_state()
    page.goto("/coordinator/needs")
    height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    _keep(visitor.screenshot("header-fr-1280", full_page=False))
    assert height < 80, height
    # The browser logs the 422 of the reject without a reason; nothing else may fail.
    assert [e for e in visitor.errors if "422" not in e] == []
    visitor.context.close()


def test_phone_has_a_menu_and_nothing_overflows(live_site: LiveSite, browser: Any) -> None:
    visitor = Visitor(browser, live_site, viewport={"width": 390, "height": 844})
    visitor.log_in(live_site.new_user("phone-coordinator@homeward.test", Role.COORDINATOR))
    page = visitor.page
    page.goto(f"/coordinator/needs/{live_site.ids['need']}")
    assert page.is_visible("[data-menu-button]")
    assert not page.is_visible("#main-nav")
    width = page.evaluate("document.documentElement.scrollWidth")
    _keep(visitor.screenshot("review-390", full_page=False))
    assert width <= 390, width
    page.click("[data-menu-button]")
    assert page.is_visible("#main-nav")
    _keep(visitor.screenshot("menu-open-390", full_page=False))
    visitor.context.close()


def test_the_offer_shows_the_need_and_why(live_site: LiveSite, browser: Any) -> None:
    email = live_site.new_user("offer-expert@homeward.test", Role.EXPERT)
    coordinator = live_site.new_user("offer-coordinator@homeward.test", Role.COORDINATOR)
    with live_site.session() as session:
        need = session.get(Need, live_site.ids["need"])
        user = session.exec(select(User).where(User.email == email)).one()
        staff = session.exec(select(User).where(User.email == coordinator)).one()
        assert need is not None
        expert = make_expert(session, user=user, display_name="Ndeye Offer")
        proposal = make_proposal(session, need=need, expert=expert, explanation=_explanation(1))
        approve_proposal(
            session, proposal=proposal, coordinator=staff, settings=Settings(load_encoder=False)
        )
        session.commit()
        expert_id = expert.id
    try:
        for width in (1280, 390):
            visitor = Visitor(browser, live_site, viewport={"width": width, "height": 900})
            visitor.log_in(email)
            page = visitor.page
            page.goto("/expert/proposals")
            assert page.is_visible("[data-need-summary]")
            assert page.is_visible(".offer [data-reasons]")
            _keep(visitor.screenshot(f"offer-{width}", full_page=True))
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            visitor.context.close()
    finally:
        with live_site.session() as session:
            retired = session.get(ExpertProfile, expert_id)
            assert retired is not None
            retired.active = False
            session.add(retired)
            session.commit()


def test_arabic_pages_read_right_to_left(live_site: LiveSite, browser: Any) -> None:
    email = live_site.new_user("arabic-coordinator@homeward.test", Role.COORDINATOR)
    visitor = Visitor(browser, live_site, viewport={"width": 1280, "height": 900})
    visitor.log_in(email)
    page = visitor.page
    page.goto(f"/coordinator/needs/{live_site.ids['need']}")
    with page.expect_navigation():
        page.select_option("#language-select", "ar")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("h2").first.inner_text().startswith("الاقتراحات المرتبة")
    height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    _keep(visitor.screenshot("review-ar-1280", full_page=False))
    assert height < 80, height
    # The brand sits at the right edge, the way Arabic reads.
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["x"] > 640
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _keep(visitor.screenshot("review-ar-390", full_page=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("[data-menu-button]")
    _keep(visitor.screenshot("menu-ar-390", full_page=False))
    visitor.context.close()
