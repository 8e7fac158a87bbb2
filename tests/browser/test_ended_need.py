"""A filled need opened from an old link, in a real browser: the expert who was offered it reads
it with where their offer stands; an expert who never was gets a plain page saying it is
filled, in English and in Arabic, on a phone too."""

from __future__ import annotations

from typing import Any

import pytest

from service.models import ExpertProfile, Institution, Need, Role
from tests.browser.conftest import LiveSite
from tests.factories import make_engagement, make_expert, make_need

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
TITLE = "Télé-expertise en néonatologie — خبرة عن بعد في طب حديثي الولادة"
FILLED = {
    "en": "This need is filled: the institution is no longer looking for experts.",
    "ar": "تمت تلبية هذه الحاجة: لم تعد المؤسسة تبحث عن خبراء.",
}


@pytest.fixture(scope="module")
def filled_need(live_site: LiveSite) -> int:
    """A need filled by another expert's confirmed engagement."""
    with live_site.session() as session:
        institution = session.get_one(Institution, live_site.ids["institution"])
        need = make_need(session, institution=institution, title=TITLE, status="filled")
        other = make_expert(session, display_name="Mariama Ba", skills=["néonatologie"])
        make_engagement(session, need=need, expert=other, status="confirmed")
        return int(need.id or 0)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_expert_whose_offer_was_withdrawn_reads_the_filled_need(
    signed_in: Any, live_site: LiveSite, filled_need: int, locale: str
) -> None:
    expert = signed_in(f"withdrawn-{locale}@ended.example", Role.EXPERT, locale=locale)
    with live_site.session() as session:
        engagement = make_engagement(
            session,
            need=session.get_one(Need, filled_need),
            expert=session.get_one(ExpertProfile, expert.expert_id),
            status="cancelled",
        )
        engagement_id = engagement.id
    expert.page.goto(f"/expert/needs/{filled_need}")
    expert.screenshot(f"ended-need/offered-{locale}")
    assert expert.page.locator("[data-need-ended]").inner_text() == FILLED[locale]
    assert expert.page.locator("form[data-interest]").count() == 0
    expert.page.locator(f"[data-offer-state] a[href='/expert/engagements/{engagement_id}']").click()
    expert.page.wait_for_load_state()
    back = expert.page.locator("a[data-need-link]")
    assert back.get_attribute("href") == f"/expert/needs/{filled_need}"
    assert expert.errors == []


@pytest.mark.parametrize(("locale", "viewport"), [("en", None), ("ar", PHONE)])
def test_an_expert_never_offered_the_need_is_told_it_is_filled(
    signed_in: Any, filled_need: int, locale: str, viewport: Any
) -> None:
    options = {"viewport": viewport} if viewport else {}
    expert = signed_in(f"outsider-{locale}@ended.example", Role.EXPERT, locale=locale, **options)
    response = expert.page.goto(f"/expert/needs/{filled_need}")
    assert response is not None and response.status == 410
    expert.screenshot(f"ended-need/outsider-{locale}")
    assert expert.page.locator("h1").inner_text() == TITLE
    assert expert.page.locator("[data-ended-sentence]").inner_text() == FILLED[locale]
    assert expert.page.locator("[data-need-summary]").count() == 0
    expert.page.locator("main a.button").click()
    expert.page.wait_for_load_state()
    assert expert.page.url.endswith("/expert/needs")
    assert expert.page.evaluate(SIDEWAYS) <= 0
    # The 410 is the one resource the console reports.
    assert [e for e in expert.errors if "410" not in e] == []
