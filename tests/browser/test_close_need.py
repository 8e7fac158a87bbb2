"""Closing a need in a real browser: asked first in a dialog (declined, nothing changes), or,
without JavaScript, by the page itself with a button that confirms (in French and Arabic, on a
phone too)."""

from __future__ import annotations

from typing import Any

import pytest

from service.models import Need
from tests.browser.conftest import LiveSite, Visitor
from tests.factories import make_member, make_need

PHONE = {"width": 390, "height": 844}
TITLE = "Former l'équipe d'épidémiologie à l'analyse de survie — تحليل البقاء"
ASKED = {
    "fr": "Clore ce besoin ? Plus aucun expert ne sera proposé.",
    "ar": "إغلاق هذه الحاجة؟ لن يُقترح لها خبراء بعد الآن.",
}
CLOSED = {"fr": "Votre besoin est clos.", "ar": "أُغلقت حاجتكم."}


def _member_with_need(site: LiveSite, locale: str) -> tuple[str, int]:
    with site.session() as session:
        user, institution = make_member(session, name=f"Université d'Oran ({locale})")
        user.locale = locale
        session.add(user)
        need = make_need(session, institution=institution, title=TITLE)
        session.commit()
        return user.email, int(need.id or 0)


def _status(site: LiveSite, need_id: int) -> str:
    with site.session() as session:
        return str(session.get_one(Need, need_id).status)


@pytest.mark.parametrize("locale", ["fr"])
def test_closing_is_asked_in_a_dialog_first(
    visitor_factory: Any, live_site: LiveSite, locale: str
) -> None:
    email, need_id = _member_with_need(live_site, locale)
    member: Visitor = visitor_factory(locale=locale)
    member.log_in(email)
    member.page.goto(f"/institution/needs/{need_id}")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        (dialog.accept if len(asked) > 1 else dialog.dismiss)()

    member.page.on("dialog", answer)
    close = member.page.locator(f"form[action='/institution/needs/{need_id}/close'] button")
    close.click()
    assert asked == [ASKED[locale]]
    assert _status(live_site, need_id) == "open"
    close.click()
    member.page.wait_for_url(f"**/institution/needs/{need_id}")
    assert member.flash() == [CLOSED[locale]]
    assert _status(live_site, need_id) == "closed"
    # Answered in the dialog: the page does not ask again.
    assert member.page.locator("[data-asking]").count() == 0
    assert member.errors == []


@pytest.mark.parametrize(("locale", "viewport"), [("fr", None), ("ar", PHONE)])
def test_without_javascript_the_page_asks_before_closing(
    visitor_factory: Any, live_site: LiveSite, locale: str, viewport: Any
) -> None:
    email, need_id = _member_with_need(live_site, locale)
    options = {"viewport": viewport} if viewport else {}
    member: Visitor = visitor_factory(locale=locale, java_script_enabled=False, **options)
    member.log_in(email)
    member.page.goto(f"/institution/needs/{need_id}")
    member.page.locator(f"form[action='/institution/needs/{need_id}/close'] button").click()
    question = member.page.locator("[data-asking='close']")
    assert " ".join(question.locator("p").inner_text().split()) == ASKED[locale]
    assert _status(live_site, need_id) == "open"
    member.screenshot(f"close-need/asked-without-script-{locale}")
    question.locator("a").click()  # "Not now": the need as it was
    assert member.page.locator("[data-asking]").count() == 0
    assert _status(live_site, need_id) == "open"

    member.page.locator(f"form[action='/institution/needs/{need_id}/close'] button").click()
    member.page.locator("[data-asking='close'] button").click()
    assert member.flash() == [CLOSED[locale]]
    assert _status(live_site, need_id) == "closed"
