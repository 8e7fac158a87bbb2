"""The SVG bar charts: accessible names, escaping, proportions and the data table."""

from __future__ import annotations

from bs4 import BeautifulSoup

from service.pages.charts import Bar, bar_chart


def _chart(bars: list[Bar]) -> BeautifulSoup:
    markup = bar_chart(
        chart_id="c",
        title="Engagements <by> country",
        description="Counts & more",
        bars=bars,
        value_heading="Engagements",
    )
    return BeautifulSoup(str(markup), "html.parser")


def test_chart_has_a_title_a_description_and_a_table() -> None:
    soup = _chart([Bar("Senegal", 4), Bar("Ghana", 2)])
    svg = soup.select_one("svg")
    assert svg is not None and svg["role"] == "img" and svg["aria-labelledby"] == "c-title c-desc"
    assert soup.select_one("#c-title").get_text() == "Engagements <by> country"  # type: ignore[union-attr]
    assert soup.select_one("#c-desc").get_text() == "Counts & more"  # type: ignore[union-attr]
    table = [(tr.th.get_text(), tr.td.get_text()) for tr in soup.select("tbody tr")]  # type: ignore[union-attr]
    assert table == [("Senegal", "4"), ("Ghana", "2")]


def test_bars_are_proportional() -> None:
    soup = _chart([Bar("A", 10), Bar("B", 5), Bar("C", 0)])
    widths = [float(rect["width"]) for rect in soup.select("rect")]  # type: ignore[arg-type]
    assert widths[0] == 2 * widths[1] and widths[2] == 0


def test_labels_are_escaped() -> None:
    soup = _chart([Bar('<script>alert("x")</script>', 1)])
    assert soup.find("script") is None
    assert '<script>alert("x")</script>' in soup.select_one("svg text").get_text()  # type: ignore[union-attr]


def test_no_inline_style() -> None:
    soup = _chart([Bar("A", 1)])
    assert soup.select("[style]") == [] and soup.find("style") is None
