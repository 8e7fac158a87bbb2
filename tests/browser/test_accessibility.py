"""Accessibility of the main pages: axe-core finds no serious or critical violation, headings are
in order, every control has a label, and the keyboard reaches everything."""

from __future__ import annotations

from typing import Any

import pytest

from service.models import Role
from tests.browser.conftest import AXE, LiveSite

PUBLIC_PAGES = {
    "landing": "/",
    "login": "/login",
    "register": "/register",
    "register-expert": "/register/expert",
    "register-institution": "/register/institution",
    "privacy": "/privacy",
    "forgot-password": "/password/forgot",
    "reset-link-sent": "/password/forgot/sent",
    "reset-link-dead": "/password/reset?token=expired",
    "invitation-link-dead": "/join?token=expired",
    "error-404": "/no-such-page",
}
# The public pages that answer with an error status, the page still for a person to read.
PUBLIC_STATUS = {"error-404": 404, "reset-link-dead": 400, "invitation-link-dead": 400}
ROLE_PAGES = {
    "expert": {
        "expert-home": "/expert",
        "expert-profile-form": "/expert/profile",
        "account": "/account",
    },
    "member": {
        "institution-home": "/institution",
        "institution-profile": "/institution/profile",
        "need-new": "/institution/needs/new",
        "need": "/institution/needs/{need}",
        "institution-team": "/institution/team",
    },
    "coordinator": {
        "coordinator-dashboard-a11y": "/coordinator",
        "coordinator-institutions": "/coordinator/institutions",
        "coordinator-institution": "/coordinator/institutions/{institution}",
        "coordinator-expert": "/coordinator/experts/{expert}",
    },
}

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""

HEADINGS = """() => Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"))
  .filter(h => !h.closest("[hidden]"))
  .map(h => Number(h.tagName[1]))"""

UNLABELLED = """() => Array.from(document.querySelectorAll(
    "input:not([type=hidden]), select, textarea"))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                && !el.getAttribute("aria-labelledby"))
  .map(el => el.outerHTML.slice(0, 120))"""

UNREACHABLE = """() => Array.from(document.querySelectorAll("a[href], button, input, select, textarea"))
  .filter(el => el.type !== "hidden" && !el.hidden && el.getAttribute("tabindex") === "-1")
  .map(el => el.outerHTML.slice(0, 120))"""

IMAGES_WITHOUT_ALT = """() => Array.from(document.querySelectorAll("img:not([alt]), svg[role=img]"))
  .filter(el => el.tagName === "IMG" || !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
  .map(el => el.outerHTML.slice(0, 120))"""


def _check_page(visitor: Any, name: str, path: str, *, status: int = 200) -> list[str]:
    response = visitor.page.goto(path)
    assert response is not None and response.status == status, (path, response and response.status)
    return page_problems(visitor, name)


def page_problems(visitor: Any, name: str) -> list[str]:
    """Checks the page the visitor is on (axe, headings, labels, keyboard, images) and keeps a
    screenshot of it; gives the problems found."""
    page = visitor.page
    problems: list[str] = []
    for violation in page.evaluate(AXE_RUN):
        problems.append(
            f"{name}: axe {violation['impact']} {violation['id']}: {violation['help']} {violation['nodes']}"
        )
    levels = page.evaluate(HEADINGS)
    if levels[:1] != [1] or levels.count(1) != 1:
        problems.append(f"{name}: one h1 first, got {levels}")
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"{name}: heading level jumps from h{before} to h{after}")
    problems += [f"{name}: unlabelled {html}" for html in page.evaluate(UNLABELLED)]
    problems += [f"{name}: not reachable by keyboard {html}" for html in page.evaluate(UNREACHABLE)]
    problems += [
        f"{name}: image without a text alternative {html}"
        for html in page.evaluate(IMAGES_WITHOUT_ALT)
    ]
    visitor.screenshot(name)
    return problems


def _axe_visitor(visitor_factory: Any, **options: Any) -> Any:
    visitor = visitor_factory(**options)
    # An init script is injected by the browser itself, so the strict CSP of the pages stays on.
    visitor.context.add_init_script(path=str(AXE))
    return visitor


def test_public_pages_have_no_serious_violation(visitor_factory: Any) -> None:
    visitor = _axe_visitor(visitor_factory)
    problems: list[str] = []
    for name, path in PUBLIC_PAGES.items():
        problems += _check_page(visitor, name, path, status=PUBLIC_STATUS.get(name, 200))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_role_pages_have_no_serious_violation(
    role: str, visitor_factory: Any, live_site: LiveSite
) -> None:
    visitor = _axe_visitor(visitor_factory)
    email = live_site.coordinator_email if role == "coordinator" else live_site.emails[role]
    visitor.log_in(email)
    problems: list[str] = []
    for name, path in ROLE_PAGES[role].items():
        problems += _check_page(visitor, name, path.format(**live_site.ids))
    assert not problems, "\n".join(problems)


def test_french_pages_have_no_serious_violation(visitor_factory: Any, live_site: LiveSite) -> None:
    visitor = _axe_visitor(visitor_factory)
    visitor.log_in(live_site.new_user("coordinateur@homeward.test", Role.COORDINATOR))
    # The language switcher in the header, as a person would use it.
    with visitor.page.expect_navigation():
        visitor.page.select_option("#language-select", "fr")  # applies on change
    visitor.page.wait_for_load_state()
    assert visitor.page.locator("h1").inner_text() == "Tableau de bord du coordinateur"
    problems = _check_page(visitor, "coordinator-dashboard-fr", "/coordinator")
    assert visitor.page.locator("html").get_attribute("lang") == "fr"
    assert not problems, "\n".join(problems)


def test_the_log_in_page_leads_to_a_reset_link(visitor_factory: Any) -> None:
    visitor = visitor_factory()
    visitor.page.goto("/login")
    visitor.page.click("main a[href='/password/forgot']")
    visitor.page.wait_for_load_state()
    visitor.page.fill("#email", "leila.haddad@univ-alger.dz")
    visitor.page.click("main button[type=submit]")
    visitor.page.wait_for_load_state()
    assert visitor.page.url.endswith("/password/forgot/sent")
    assert "we have sent it a link" in visitor.page.inner_text("[data-reset-sent]")


def test_keyboard_starts_with_the_skip_link(visitor_factory: Any) -> None:
    visitor = visitor_factory()
    page = visitor.page
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_keyboard_can_register(visitor_factory: Any) -> None:
    """Fills and sends the registration form with the keyboard alone."""
    visitor = visitor_factory()
    page = visitor.page
    page.goto("/register/expert")
    page.focus("#display_name")
    page.keyboard.type("Keyboard User")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-enough-password")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "consent_terms":
            break
    page.keyboard.press("Space")
    # The consent's label links to the privacy page (opened in a new tab): one stop, then send.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/privacy"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url("**/expert/profile")
