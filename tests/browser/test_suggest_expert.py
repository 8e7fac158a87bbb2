"""Suggesting an expert of the roster in Chromium, in Arabic: the form on the card (outside the
search form, which it names) posts the chosen need (sent without one, the roster comes back
with why beside the card), the roster comes back with the message, and the coordinator finds
the expert on the need's review page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from service.core.accounts import create_user
from service.core.indexing import reindex_all
from service.db import make_engine
from service.models import ExpertSuggestion, Role
from service.search.factory import make_search_backend
from tests.browser.conftest import CHROMIUM, HOW_TO_RUN, LiveSite, Visitor, serve_site
from tests.factories import PASSWORD, make_expert, make_member, make_need

COORDINATOR = "suggest.coordinator@homeward.test"
TITLE = "تدريس مقرر علم الأوبئة عن بعد"


@pytest.fixture(scope="module")
def suggest_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """A site with a coordinator, a verified institution with two open needs and an expert."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(tmp_path_factory.mktemp("suggest-site")) as site:
        with site.session() as session:
            create_user(session, email=COORDINATOR, password=PASSWORD, role=Role.COORDINATOR)
            session.commit()
            member, institution = make_member(session, name="جامعة وهران")
            need = make_need(session, institution=institution, title=TITLE)
            make_need(session, institution=institution, title="Encadrement de thèses")
            expert = make_expert(
                session,
                display_name="Fatou Sarr",
                headline="عالمة أوبئة",
                skills=["épidémiologie", "biostatistique"],
            )
            site.ids.update(need=need.id or 0, expert=expert.id or 0)
            site.emails.update(member=member.email)
        engine = make_engine(site.settings.database_url)
        backend = make_search_backend(site.settings, engine)
        reindex_all(engine, backend)
        backend.close()
        engine.dispose()
        yield site


def test_an_institution_suggests_an_expert_in_arabic(browser: Any, suggest_site: LiveSite) -> None:
    site = suggest_site
    visitor = Visitor(browser, site, locale="ar", viewport={"width": 1280, "height": 900})
    try:
        visitor.log_in(site.emails["member"])
        visitor.context.add_cookies(
            [{"name": "homeward_locale", "value": "ar", "url": site.base_url}]
        )
        visitor.page.goto("/institution/experts?q=épidémiologie")
        card = f"[data-suggest='{site.ids['expert']}']"
        # Sent without a need: the roster comes back (422) with why beside the card's form,
        # the search kept.
        with visitor.page.expect_response(lambda r: "/suggest" in r.url) as answer:
            visitor.page.click(f"{card} button")
        assert answer.value.status == 422
        visitor.page.wait_for_load_state()
        error = visitor.page.locator(f"#suggest-need-{site.ids['expert']}-error")
        assert error.is_visible()
        assert error.inner_text() == "اختر إحدى حاجاتك المفتوحة لاقتراح هذا الخبير لها."
        assert visitor.page.input_value("form[role=search] input[name=q]") == "épidémiologie"
        visitor.screenshot("suggest/roster-refused-ar", of=".expert-card")
        visitor.page.select_option(f"{card} select", str(site.ids["need"]))
        visitor.screenshot("suggest/roster-card-ar", of=".expert-card")
        assert "Fatou Sarr" not in visitor.page.content()
        visitor.page.click(f"{card} button")
        visitor.page.wait_for_load_state()
        assert visitor.page.url.endswith("/institution/experts?q=%C3%A9pid%C3%A9miologie")
        shown = visitor.flash()
        assert any("سيراجع المنسق اقتراحك" in m for m in shown), shown
        visitor.screenshot("suggest/roster-after-ar", full_page=False)
        # The refusal answered 422, as meant; nothing else went wrong in the page.
        assert [e for e in visitor.errors if "status of 422" not in e] == []
    finally:
        visitor.close()
    with site.session() as session:
        suggestion = session.exec(select(ExpertSuggestion)).one()
        assert (suggestion.need_id, suggestion.expert_id) == (site.ids["need"], site.ids["expert"])

    staff = Visitor(browser, site, viewport={"width": 1280, "height": 900})
    try:
        staff.log_in(COORDINATOR)
        staff.page.goto(f"/coordinator/needs/{site.ids['need']}")
        item = staff.page.locator(f"[data-interested-expert='{site.ids['expert']}']")
        assert "Fatou Sarr" in item.inner_text()
        assert "Suggested by the institution" in item.inner_text()
        staff.screenshot("suggest/review-en", of="#interested")
    finally:
        staff.close()
