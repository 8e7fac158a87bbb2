"""What a walk through the site as new people found, in a real browser (CSS shows it only there)."""

from __future__ import annotations

from typing import Any

from service.models import Institution
from tests.browser.conftest import LiveSite
from tests.factories import make_need

PARAGRAPHS = (
    "Notre faculté cherche un·e expert·e pour co-enseigner un module d'économétrie.\n"
    "نبحث عن خبير في الاقتصاد القياسي لتدريس وحدة عن بعد."
)
LONG_WORD = "https://intranet.ucad.example/" + "économétrie-appliquée-" * 12


def test_a_description_keeps_its_lines_and_long_words_wrap_on_a_phone(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        institution = session.get_one(Institution, live_site.ids["institution"])
        need = make_need(
            session,
            institution=institution,
            title="Module d'économétrie",
            description=f"{PARAGRAPHS}\n{LONG_WORD}",
        )
    member = visitor_factory(viewport={"width": 390, "height": 844})
    member.log_in(live_site.emails["member"])
    member.page.goto(f"/institution/needs/{need.id}")
    description = member.page.locator("main .prose").first
    # Before, the two paragraphs the institution typed ran together as one line of text.
    assert description.inner_text().splitlines()[:2] == PARAGRAPHS.splitlines()
    width = member.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    member.screenshot("walk/need-description-phone")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"


def test_switching_language_half_way_through_a_form_asks_before_losing_it(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    member = visitor_factory()
    member.log_in(live_site.emails["member"])
    page = member.page
    # Untouched, the form (lists left on their first option included) switches without a word.
    page.goto("/institution/needs/new")
    with page.expect_navigation():
        page.select_option("#language-select", "es")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.goto("/institution/needs/new")
    page.fill("#title", "Co-teach econometrics")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.select_option("#language-select", "fr")
    # Before, the page reloaded in French at once and the title typed was gone.
    assert asked and "not saved yet" in asked[0]
    assert page.input_value("#title") == "Co-teach econometrics"
    assert page.input_value("#language-select") == "en"
    page.once("dialog", lambda dialog: dialog.accept())
    page.select_option("#language-select", "fr")
    page.wait_for_selector("html[lang=fr]")
    assert "Publier un besoin" in page.inner_text("main h1")
