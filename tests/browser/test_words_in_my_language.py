"""A new user's walk: a notification follows the language the reader switches to, and the
sign-up form says a short password's error once beside its help (phone width)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from service.config import Settings
from service.core.notifications import notify
from service.models import User
from tests.browser.conftest import LiveSite

PHONE = {"width": 390, "height": 844}


def test_a_notification_written_in_english_reads_in_french_after_switching(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    email = live_site.emails["expert"]
    with live_site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        user.locale = "en"
        notify(
            session,
            user=user,
            kind="offer.reminder",
            params={"need": "Épidémiologie de terrain", "deadline": "2026-12-09"},
            link="/expert/proposals",
            settings=Settings(environment="test", load_encoder=False),
        )
        session.commit()
    expert = visitor_factory(viewport=PHONE, locale="en-GB")
    expert.log_in(email)
    expert.page.goto("/notifications")
    first = expert.page.locator("[data-notification]").first
    assert "Reminder: an offer awaits your answer" in first.inner_text()
    expert.page.click("[data-menu-button]")  # on a phone the language menu is in the menu
    with expert.page.expect_navigation():  # choosing a language submits it
        expert.page.select_option("#language-select", "fr")
    expert.page.goto("/notifications")
    text = expert.page.locator("[data-notification]").first.inner_text()
    expert.screenshot("words/notifications-after-switching-fr")
    assert "Rappel" in text and "9 déc. 2026" in text, text
    assert "Reminder" not in text


def test_a_short_password_says_its_error_once_beside_its_help(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    for locale in ("en", "ar"):
        visitor = visitor_factory(viewport=PHONE, locale=locale)
        visitor.page.goto("/register/expert")
        visitor.page.fill("#display_name", "Awa")
        visitor.page.fill("#email", f"awa-{locale}@walk.example")
        visitor.page.fill("#password", "short")
        visitor.page.click("main button[type=submit]")
        visitor.page.wait_for_load_state()
        field = visitor.page.locator("#password")
        assert field.get_attribute("aria-describedby") == "password-error password-help"
        box = visitor.page.locator(".field:has(#password)")
        said = box.inner_text()
        help_text = visitor.page.locator("#password-help").inner_text()
        error = visitor.page.locator("#password-error").inner_text()
        assert said.count(help_text) == 1 and said.count(error) == 1 and help_text != error
        visitor.page.locator("#password").scroll_into_view_if_needed()
        visitor.screenshot(f"words/short-password-{locale}", full_page=False)
