"""The offer journey as an expert lives it: a need ranked for them is suggested by a coordinator,
leaves "Needs for you" for the offers, and its page says where the offer stands; in English and
in Arabic, with a refused profile form showing what to correct at its top."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from service.core.proposals import approve_proposal
from service.middleware import LOCALE_COOKIE
from service.models import Institution, Role, User
from tests.browser.conftest import LiveSite
from tests.factories import make_expert, make_need, make_proposal, make_user

TITLE = "Formation en biostatistique — تدريب في الإحصاء الحيوي"


def test_an_offer_leaves_needs_for_you_and_its_page_says_where_it_stands(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        institution = session.get_one(Institution, live_site.ids["institution"])
        need = make_need(session, institution=institution, title=TITLE)
        user = make_user(session, role=Role.EXPERT, email="aicha.diop@example.org")
        expert = make_expert(session, user=user, display_name="Aïcha Diop")
        proposal = make_proposal(session, need=need, expert=expert)
        coordinator = session.exec(
            select(User).where(User.email == live_site.coordinator_email)
        ).one()

    person = visitor_factory()
    person.log_in(user.email)
    person.page.goto("/expert")
    assert person.page.locator("#for-you-box .need-card", has_text=TITLE).count() == 1

    with live_site.session() as session:
        approve_proposal(
            session,
            proposal=session.merge(proposal),
            coordinator=session.merge(coordinator),
            settings=live_site.settings,
        )
        session.commit()

    person.page.goto("/expert")
    assert person.page.locator("#for-you-box .need-card").count() == 0
    waiting = person.page.locator("[data-offers-waiting]")
    assert "You have 1 engagement offer waiting for your answer" in waiting.inner_text()
    person.screenshot("offers/for-you-empty-en")
    waiting.locator("a").click()
    person.page.wait_for_load_state()
    assert person.page.url.endswith("/expert/proposals")
    assert TITLE in person.page.locator("[data-engagement] h2").first.inner_text()

    person.page.goto(f"/expert/needs/{need.id}")
    state = person.page.locator("[data-offer-sentence]")
    assert state.inner_text().startswith("A coordinator has offered you this need")
    person.screenshot("offers/need-offered-en")
    person.page.locator("[data-offer-state] form.move-accept button").click()
    person.page.wait_for_load_state()
    assert person.page.url.endswith(f"/expert/needs/{need.id}")
    assert person.page.locator("[data-offer-sentence]").inner_text().startswith("You accepted on")
    person.screenshot("offers/need-accepted-en")

    live_site.set_locale(user.email, "ar")
    # As the language menu does: the interface language is kept in a cookie.
    person.context.add_cookies([{"name": LOCALE_COOKIE, "value": "ar", "url": live_site.base_url}])
    person.page.goto(f"/expert/needs/{need.id}")
    assert person.page.locator("html").get_attribute("dir") == "rtl"
    assert person.page.locator("[data-offer-sentence]").inner_text().startswith("قبلت في")
    person.screenshot("offers/need-accepted-ar")
    person.page.locator("[data-offer-state] a").first.click()
    person.page.wait_for_load_state()
    assert person.page.locator("[data-facts] li").count() >= 3
    person.screenshot("offers/engagement-ar")

    # A refused profile, in Arabic: what to correct at the top, digits left to right.
    person.page.goto("/expert/profile")
    person.page.fill("#hours_per_month", "-4")
    person.page.fill("#available_from", "2027-03-10")
    person.page.fill("#available_until", "2027-03-01")
    person.page.locator("form.profile-form button[type=submit]").click()
    person.page.wait_for_load_state()
    summary = person.page.locator("[data-error-summary]")
    assert summary.locator("a").count() == 2
    hours = person.page.locator("#hours_per_month")
    assert hours.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert hours.input_value() == "-4"
    assert person.page.locator("#available_until").input_value() == "2027-03-01"
    person.screenshot("offers/profile-refused-ar")
    person.screenshot("offers/availability-ar", of="#availability")
    person.screenshot("offers/error-summary-ar", of="[data-error-summary]")
    summary.locator("a[href='#available_until']").click()
    assert person.page.evaluate("() => location.hash") == "#available_until"
    # The refused form's 422 is the one resource the console reports.
    assert [e for e in person.errors if "422" not in e] == []
