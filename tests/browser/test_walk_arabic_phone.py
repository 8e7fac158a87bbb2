"""What a walk in Arabic on a 390 px phone found: pages that scrolled sideways, words broken
letter by letter in tables and buttons, addresses typed right to left, a checkbox's error
squeezed beside its label."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveSite
from tests.factories import make_expert, make_institution, make_need, make_proposal

PHONE = {"width": 390, "height": 844}
# Each button's and table cell's text on as many lines as it has words at most: a word broken
# across lines ("Ve/rif/y", "رف/ض") gives more lines than words.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const el of document.querySelectorAll('main button, main th, main td, main .badge')) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const tops = [];
    let words = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest('.visually-hidden')) continue;
      words += node.textContent.trim().split(/\\s+/).length;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.width > 1 && !tops.some(t => Math.abs(t - r.top) < 4)) tops.push(r.top);
      }
    }
    if (words && tops.length > words) broken.push([el.innerText.trim(), tops.length, words]);
  }
  return broken;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_institutions_list_fits_a_phone_in_arabic_with_whole_words(
    signed_in: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        make_institution(session, name="جامعة وهران 1", country="DZ", verified=False)
    coordinator = signed_in("ar-list@walk.example", locale="ar", viewport=PHONE)
    coordinator.page.goto("/coordinator/institutions")
    coordinator.screenshot("walk/institutions-phone-ar")
    # Before, the hidden caption and "Actions" header sat outside the scrolling table.
    assert coordinator.page.evaluate(SIDEWAYS) <= 0
    assert coordinator.page.evaluate(BROKEN_WORDS) == []


def test_the_review_buttons_keep_their_words_on_a_phone_in_arabic(
    signed_in: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        institution = make_institution(session, name="مستشفى وهران الجامعي", country="DZ")
        need = make_need(session, institution=institution, title="تدريس علم الأوبئة")
        make_proposal(session, need=need, expert=make_expert(session, display_name="سلمى"))
        session.commit()
        need_id = need.id
    coordinator = signed_in("ar-review@walk.example", locale="ar", viewport=PHONE)
    coordinator.page.goto(f"/coordinator/needs/{need_id}")
    coordinator.screenshot("walk/review-phone-ar")
    assert coordinator.page.evaluate(SIDEWAYS) <= 0
    assert coordinator.page.evaluate(BROKEN_WORDS) == []


def test_a_registration_in_arabic_types_addresses_left_to_right(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    visitor = visitor_factory(viewport=PHONE, locale="ar")
    page = visitor.page
    page.goto("/register/institution")
    assert page.locator("html").get_attribute("dir") == "rtl"
    for field in ("#email", "#password", "#website"):
        assert page.eval_on_selector(field, "el => getComputedStyle(el).direction") == "ltr"
    # A name typed in Latin letters runs left to right in its box; Arabic right to left.
    assert page.get_attribute("#institution_name", "dir") == "auto"
    page.fill("#display_name", " ")
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    visitor.screenshot("walk/register-errors-phone-ar")
    # The consent's error sits on its own line, under the checkbox and its label.
    box = page.locator("#consent_terms").bounding_box()
    label = page.locator("label[for=consent_terms]").bounding_box()
    error = page.locator("#consent_terms-error").bounding_box()
    assert box is not None and label is not None and error is not None
    assert error["y"] >= label["y"] + label["height"] - 1
    # ... and the label stays beside its checkbox, on the same line.
    assert label["y"] < box["y"] + box["height"]
    assert page.locator("#display_name-error").inner_text() == "هذا الحقل مطلوب."
