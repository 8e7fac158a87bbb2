"""The coordinator's bar charts read in Arabic: each category's name stands left of its bar, as
in every other language, instead of running right under the bar (an SVG label anchored at its
"end" ends on the left in a right-to-left page)."""

from __future__ import annotations

from typing import Any

from service.models import Role

# Every label of every chart, with its bar: [label, label's right edge, bar's left edge].
LABELS_AND_BARS = """() => [...document.querySelectorAll('.chart svg g.bar')].map(g => {
  const label = g.querySelector('text').getBoundingClientRect();
  const bar = g.querySelector('rect').getBoundingClientRect();
  return [g.querySelector('text').textContent, label.right, bar.left];
})"""


def test_chart_labels_stand_beside_their_bars_in_arabic(signed_in: Any) -> None:
    person = signed_in(
        "coordinatrice.charts@homeward.test",
        Role.COORDINATOR,
        locale="ar",
        viewport={"width": 1280, "height": 900},
    )
    person.page.goto("/coordinator")
    assert person.page.get_attribute("html", "dir") == "rtl"
    pairs = person.page.evaluate(LABELS_AND_BARS)
    assert pairs, "the dashboard draws its charts"
    person.screenshot("charts/coordinator-dashboard-ar", of=".charts")
    overlapping = [label for label, right, left in pairs if right > left + 0.5]
    assert not overlapping, overlapping
