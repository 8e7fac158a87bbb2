"""Server-rendered bar charts: inline SVG with a title and a description, and a data table.

No script and no inline style (the CSP forbids both): colours are SVG attributes, the rest is CSS.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from service.i18n import gettext_

WIDTH = 440
LABEL_WIDTH = 150
VALUE_WIDTH = 44
BAR_HEIGHT = 22
GAP = 8
BAR_COLOUR = "#0b6e4f"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def bar_chart(
    *, chart_id: str, title: str, description: str, bars: list[Bar], value_heading: str
) -> Markup:
    """Draws a horizontal bar chart, followed by its data as a table."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    heading = f'<h3 id="{chart_id}-heading">{escape(title)}</h3>'
    if not bars:
        empty = escape(gettext_("Nothing to show yet."))
        return Markup(  # noqa: S704 - every text inside is escaped
            f'<figure class="chart" id="{chart_id}">{heading}<p class="meta">{empty}</p></figure>'
        )
    top = max(bar.value for bar in bars) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(2, round(plot * bar.value / top)) if bar.value else 0
        middle = y + BAR_HEIGHT / 2
        parts.append(
            f'<g class="bar"><text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="13" fill="#1d2430">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" rx="3" '
            f'fill="{BAR_COLOUR}"><title>{escape(bar.label)}: {bar.value}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" dominant-baseline="middle" '
            f'font-size="13" fill="#1d2430">{bar.value}</text></g>'
        )
    parts.append("</svg>")
    show, category = escape(gettext_("Show the data")), escape(gettext_("Category"))
    rows = "".join(
        f'<tr><th scope="row">{escape(bar.label)}</th><td>{bar.value}</td></tr>' for bar in bars
    )
    table = (
        f'<details class="chart-data"><summary>{show}</summary>'
        f"<table><caption>{escape(title)}</caption><thead><tr>"
        f'<th scope="col">{category}</th>'
        f'<th scope="col">{escape(value_heading)}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></details>"
    )
    return Markup(  # noqa: S704 - every text inside is escaped
        f'<figure class="chart" id="{chart_id}" aria-labelledby="{chart_id}-heading">'
        f"{heading}{''.join(parts)}{table}</figure>"
    )
