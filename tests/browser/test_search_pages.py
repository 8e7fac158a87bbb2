"""The search pages in Chromium: the search box is one row at the top, the filters a narrow
column beside the results (folded away on a phone), in English and in Arabic; filters apply
as they are ticked and clear in one click, also when nothing matches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.core.accounts import create_user
from service.core.indexing import reindex_all
from service.db import make_engine
from service.models import Role
from service.search.factory import make_search_backend
from tests.browser.conftest import AXE, CHROMIUM, HOW_TO_RUN, LiveSite, Visitor, serve_site
from tests.browser.test_accessibility import page_problems
from tests.factories import PASSWORD, make_expert

COORDINATOR = "search.coordinator@homeward.test"
ROSTER = "/coordinator/roster"


@pytest.fixture(scope="module")
def search_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """A site with a coordinator and three experts, indexed."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(tmp_path_factory.mktemp("search-site")) as site:
        with site.session() as session:
            create_user(session, email=COORDINATOR, password=PASSWORD, role=Role.COORDINATOR)
            session.commit()
            make_expert(session, display_name="Awa Diallo", skills=["épidémiologie"])
            make_expert(
                session,
                display_name="Lucía Gómez",
                headline="Ingeniera civil",
                skills=["ingeniería civil", "irrigación"],
                origin_country="CO",
                residence_country="ES",
                languages=[{"code": "es", "level": "native"}],
            )
            make_expert(
                session,
                display_name="كريم العمراني",
                headline="جراح الجهاز الهضمي",
                skills=["الجراحة بالمنظار"],
                origin_country="MA",
                residence_country="FR",
                languages=[{"code": "ar", "level": "native"}, {"code": "fr", "level": "fluent"}],
            )
        engine = make_engine(site.settings.database_url)
        backend = make_search_backend(site.settings, engine)
        reindex_all(engine, backend)
        backend.close()
        engine.dispose()
        yield site


def _coordinator(browser: Any, site: LiveSite, *, locale: str, width: int) -> Visitor:
    visitor = Visitor(browser, site, locale=locale, viewport={"width": width, "height": 844})
    visitor.log_in(COORDINATOR)
    visitor.context.add_cookies(
        [{"name": "homeward_locale", "value": locale[:2], "url": site.base_url}]
    )
    return visitor


def _box(visitor: Visitor, selector: str) -> dict[str, float]:
    box = visitor.page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


@pytest.mark.parametrize("locale", ["en-GB", "ar"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_search_box_is_one_row_above_the_results(
    browser: Any, search_site: LiveSite, locale: str, width: int
) -> None:
    visitor = _coordinator(browser, search_site, locale=locale, width=width)
    try:
        visitor.page.goto(ROSTER)
        rtl = locale == "ar"
        assert visitor.page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
        field, button = _box(visitor, "input#q"), _box(visitor, ".search-box button")
        main = _box(visitor, "main section")
        # A text box one line high, as wide as the row allows, its button beside it.
        assert field["height"] < 56
        assert field["width"] > min(main["width"] * 0.5, 600) - 80
        assert abs((field["y"] + field["height"] / 2) - (button["y"] + button["height"] / 2)) < 4
        # The box starts where the reader starts reading; the button follows it.
        if rtl:
            assert abs((field["x"] + field["width"]) - (main["x"] + main["width"])) < 2
            assert button["x"] < field["x"]
            # Empty, the box's hint reads right to left; what is typed takes its own direction.
            direction = "el => getComputedStyle(el).direction"
            assert visitor.page.eval_on_selector("#q", direction) == "rtl"
            visitor.page.fill("#q", "pediatre")
            assert visitor.page.eval_on_selector("#q", direction) == "ltr"
            visitor.page.fill("#q", "")
        else:
            assert abs(field["x"] - main["x"]) < 2
            assert button["x"] > field["x"]
        card = _box(visitor, ".expert-card")
        filters = _box(visitor, ".search-filters")
        if width >= 1024:
            # A narrow column of filters beside the results, on the reading side.
            assert filters["width"] <= 13 * 16 + 1
            assert (card["x"] < filters["x"]) if rtl else (card["x"] > filters["x"])
            assert visitor.page.locator(".facet").first.is_visible()
        else:
            # On a phone the filters fold under one line, so the first result shows at once.
            assert not visitor.page.locator(".facet").first.is_visible()
            assert card["y"] < 844
            visitor.page.locator(".search-filters summary").click()
            assert visitor.page.locator(".facet").first.is_visible()
        name = f"search/roster-{locale[:2]}-{width}"
        assert Path(visitor.screenshot(name, full_page=False)).exists()
        assert visitor.errors == []
    finally:
        visitor.close()


def test_filters_apply_when_ticked_and_a_search_that_finds_nothing_keeps_them(
    browser: Any, search_site: LiveSite
) -> None:
    visitor = _coordinator(browser, search_site, locale="en-GB", width=1280)
    page = visitor.page
    try:
        page.goto(ROSTER)
        assert page.locator(".expert-card").count() == 3
        page.get_by_label("Senegal").check()  # applied at once: no button to press
        page.wait_for_url("**country=SN**")
        assert page.locator(".expert-card h2").all_inner_texts() == ["Awa Diallo"]
        page.fill("#q", "irrigation")
        page.press("#q", "Enter")
        page.wait_for_url("**q=irrigation**")
        assert page.locator(".expert-card").count() == 0
        # Nothing matches, yet every filter is there and a way out is offered.
        assert page.locator(".facet legend").count() >= 4
        assert page.get_by_label("Senegal").is_checked()
        visitor.screenshot("search/roster-nothing-found", full_page=False)
        page.get_by_role("link", name="Clear the filters: 1 expert").click()
        page.wait_for_load_state()
        assert page.locator(".expert-card h2").all_inner_texts() == ["Lucía Gómez"]
        assert "country" not in page.url and "q=irrigation" in page.url
        assert visitor.errors == []
    finally:
        visitor.close()


@pytest.mark.parametrize(("locale", "width"), [("en-GB", 1280), ("ar", 390)])
def test_search_pages_have_no_serious_violation(
    browser: Any, search_site: LiveSite, locale: str, width: int
) -> None:
    visitor = _coordinator(browser, search_site, locale=locale, width=width)
    visitor.context.add_init_script(path=str(AXE))
    problems: list[str] = []
    try:
        for name, path, status in [
            ("results", ROSTER, 200),
            ("nothing-found", f"{ROSTER}?q=zzzqx&country=SN", 200),
            ("bad-filter", f"{ROSTER}?available=someday&page=x", 422),
        ]:
            response = visitor.page.goto(path)
            assert response is not None and response.status == status
            problems += page_problems(visitor, f"search/a11y-{name}-{locale[:2]}-{width}")
        assert not problems, "\n".join(problems)
    finally:
        visitor.close()
