"""What a walk as new users found on an agreed engagement: contact details run together in one
line, names typed in Arabic (on the English page) and in Latin letters (on the Arabic page)
not kept in their own direction, and on a phone the dates of the figures broken mid-number
("2026" split into "20" and "26", which Arabic then read as another date)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveSite
from tests.scenes import FES_HOSPITAL, FES_NEED, RADIOLOGIST_SKILLS, make_fes_engagement

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Each contact's label and value on one row: [label, value, same row?, value after the label?]
CONTACT_ROWS = """() => [...document.querySelectorAll('main dl.contact dt')].map(dt => {
  const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
  const rtl = getComputedStyle(dt).direction === 'rtl';
  return [dt.innerText.trim(), dd.innerText.trim(), Math.abs(a.top - b.top) < 4,
          rtl ? b.right <= a.left + 1 : b.left >= a.right - 1];
})"""
# Each number written in the facts' sentences (a date's "2026", "18/12/2026", hours) and how many
# lines it is laid out on: a number broken across lines reads as two numbers.
NUMBER_LINES = r"""() => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('main [data-facts]'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/[0-9\u0660-\u0669]+(?:[\/.:,][0-9\u0660-\u0669]+)*/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = [];
      for (const r of range.getClientRects()) {
        if (r.width > 1 && !tops.some(t => Math.abs(t - r.top) < 4)) tops.push(r.top);
      }
      found.push([m[0], tops.length]);
    }
  }
  return found;
}"""
# The direction each isolated name or title is laid out in, and how it is isolated.
TYPED = """() => [...document.querySelectorAll('main bdi, main [dir=auto]')].map(el => {
  const style = getComputedStyle(el);
  return [el.innerText.trim(), style.direction, style.unicodeBidi];
})"""


@pytest.fixture(scope="module")
def engagement_id(live_site: LiveSite) -> int:
    """An agreed engagement: a hospital in Fès (Arabic name, two members) and a radiologist."""
    with live_site.session() as session:
        engagement = make_fes_engagement(
            session, skills=(*RADIOLOGIST_SKILLS, "IRM"), agreed_hours=80
        )
        return int(engagement.id or 0)


@pytest.mark.parametrize(
    ("locale", "viewport", "name"),
    [("en", WIDE, "wide"), ("en", PHONE, "phone"), ("ar", WIDE, "wide"), ("ar", PHONE, "phone")],
)
def test_contacts_read_as_a_grid_and_typed_words_keep_their_direction(
    signed_in: Any,
    engagement_id: int,
    locale: str,
    viewport: Any,
    name: str,
) -> None:
    email = f"walk-contacts-{locale}-{viewport['width']}@walk.example"
    visitor = signed_in(email, locale=locale, viewport=viewport)
    visitor.page.goto(f"/coordinator/engagements/{engagement_id}")
    visitor.screenshot(f"walk/engagement-contacts-{locale}-{name}")

    rows = visitor.page.evaluate(CONTACT_ROWS)
    values = [row[1] for row in rows]
    assert values == [
        "imane.berrada@courriel.example",
        "+32 470 12 34 56",
        "يوسف بنجلون",
        "y.benjelloun@chu-fes.example",
        "Nadia Alaoui",
        "n.alaoui@chu-fes.example",
    ]
    assert all(same_row and beside for _label, _value, same_row, beside in rows), rows

    # Dates, hours: no number broken across lines ("2026" is one number, not "20" and "26").
    numbers = visitor.page.evaluate(NUMBER_LINES)
    assert len(numbers) >= 5 and all(lines == 1 for _text, lines in numbers), numbers

    typed = {text: (direction, bidi) for text, direction, bidi in visitor.page.evaluate(TYPED)}
    # Names and titles: isolated in the direction most of their letters are written in.
    assert typed[FES_NEED] == ("rtl", "isolate")
    assert typed[FES_HOSPITAL] == ("rtl", "isolate")
    assert typed["يوسف بنجلون"] == ("rtl", "isolate")
    assert typed["Dr. Imane Berrada"] == ("ltr", "isolate")
    assert typed["Nadia Alaoui"] == ("ltr", "isolate")
    assert typed["التصوير الطبي"][0] == "rtl" and typed["IRM"][0] == "ltr"
    assert visitor.page.evaluate(SIDEWAYS) <= 0
    assert visitor.errors == []
