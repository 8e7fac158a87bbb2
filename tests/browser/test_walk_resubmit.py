"""A second click on a form's button while the next page loads sends nothing (stop 25 walk)."""

from __future__ import annotations

from typing import Any

from service.models import Institution, Need
from tests.browser.conftest import LiveSite
from tests.factories import make_need

# Records, for each submit event of the page, whether the page's own handlers stopped it.
RECORD_SUBMITS = """() => {
  window.__submits = [];
  window.addEventListener("submit", (e) => window.__submits.push(e.defaultPrevented));
}"""


def test_the_second_submit_is_stopped_and_the_form_says_it_is_on_its_way(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    member = visitor_factory()
    member.log_in(live_site.emails["member"])
    page = member.page
    page.goto("/institution/needs/new")
    page.evaluate(RECORD_SUBMITS)
    # Two submits in a row; the page then stops loading, so the test reads the form as it is
    # while the next page would be on its way.
    submits, busy = page.evaluate(
        """() => { const f = document.querySelector("main form[method=post]");
                   f.requestSubmit(); f.requestSubmit();
                   const busy = f.getAttribute("aria-busy");
                   window.stop();
                   return [window.__submits, busy]; }"""
    )
    # Before, the second went through as well: a slow answer made two needs of one.
    assert submits == [False, True]
    assert busy == "true"


def test_a_declined_confirmation_leaves_the_form_free_to_send(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        institution = session.get(Institution, live_site.ids["institution"])
        assert institution is not None
        need = make_need(session, institution=institution, title="Besoin à fermer")
    member = visitor_factory()
    member.log_in(live_site.emails["member"])
    page = member.page
    page.goto(f"/institution/needs/{need.id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("main button.danger")
    assert page.locator("main form[data-sending]").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("main button.danger")
    # The shared member may read in another language (an earlier test switched it): the need says.
    assert len(member.flash()) == 1
    with live_site.session() as session:
        closed = session.get(Need, need.id)
        assert closed is not None and closed.status == "closed"
