"""Wide tables on a 390 px phone, in English and in Arabic: they scroll sideways inside their
box (never the page), a caption says so and the edge that hides columns fades; scrolled to
the other end, the fade moves to the other edge. Before, they overflowed with no hint."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from service.models import User
from service.repos import imports as imports_repo
from tests.browser.conftest import LiveSite
from tests.factories import make_institution

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# What a person sees of one wide table: does its box overflow, is the caption shown, which
# edges fade (the mask), and does the region have a name a screen reader says.
STATE = """(wrap) => {
  const box = wrap.querySelector('.table-scroll');
  const hint = wrap.querySelector('.scroll-hint');
  return {
    overflows: box.scrollWidth > box.clientWidth + 1,
    hint: getComputedStyle(hint).display !== 'none' ? hint.innerText.trim() : '',
    mask: getComputedStyle(box).maskImage || getComputedStyle(box).webkitMaskImage || 'none',
    atStart: wrap.hasAttribute('data-at-start'),
    atEnd: wrap.hasAttribute('data-at-end'),
    region: box.getAttribute('role') + ':' + (box.getAttribute('aria-label') || ''),
    focusable: box.tabIndex === 0,
  };
}"""
TO_THE_END = """(wrap) => {
  const box = wrap.querySelector('.table-scroll');
  const rtl = getComputedStyle(box).direction === 'rtl';
  box.scrollLeft = rtl ? -box.scrollWidth : box.scrollWidth;
  box.dispatchEvent(new Event('scroll'));
}"""
HINTS = {
    "en": "Scroll sideways to see the whole table.",
    "ar": "مرّر الجدول أفقيًا لرؤيته كاملًا.",
}


def _import_report(site: LiveSite, email: str) -> str:
    with site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        user_id = user.id or 0
    header = (
        "external_id,email,display_name,skills,languages,origin_country,residence_country,"
        "modes,hours_per_month,available_from,available_until,active"
    )
    rows = [
        "exp-1,awa@example.org,Awa,épidémiologie,fr,SN,CA,remote,12.0,01/12/2026,,maybe",
        "exp-1,bob@example.org,Bob,biostatistics,en,SN,FR,remote,8,2026-13-01,,yes",
    ]
    upload = imports_repo.save_upload(
        site.settings.data_dir,
        kind="experts",
        filename="roster-ucad-2026.csv",
        user_id=user_id,
        content=("\n".join([header, *rows]) + "\n").encode(),
    )
    return f"/coordinator/import?token={upload.token}"


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_wide_tables_scroll_in_their_box_with_a_hint_on_a_phone(
    locale: str, signed_in: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        for name in ("Université Cheikh Anta Diop de Dakar", "جامعة وهران 1 أحمد بن بلة"):
            make_institution(session, name=f"{name} ({locale})", country="SN", verified=False)
    email = f"wide-{locale}@walk.example"
    coordinator = signed_in(email, locale=locale, viewport=PHONE)
    pages = {
        "institutions": "/coordinator/institutions",
        "engagements": "/coordinator/engagements",
        "import-report": _import_report(live_site, email),
    }
    for name, url in pages.items():
        coordinator.page.goto(url)
        wrap = coordinator.page.locator("[data-table-wrap]").first
        wrap.scroll_into_view_if_needed()
        before = wrap.evaluate(STATE)
        coordinator.screenshot(f"wide-tables/{name}-phone-{locale}")
        assert coordinator.page.evaluate(SIDEWAYS) <= 0, name  # the page itself never scrolls
        assert before["region"].startswith("region:") and len(before["region"]) > 7
        if name == "import-report" and not before["overflows"]:
            # Three columns may fit a phone: then no caption and no fade say otherwise.
            assert before["hint"] == "" and before["mask"] == "none", before
            continue
        assert before["overflows"], name
        assert before["hint"].endswith(HINTS[locale]), (name, before)
        assert before["focusable"]
        # At the start, only the end edge fades: right in English, left in Arabic.
        assert before["atStart"] and not before["atEnd"], (name, before)
        towards_end, towards_start = (
            ("to left", "to right") if locale == "ar" else ("to right", "to left")
        )
        assert before["mask"].startswith(f"linear-gradient({towards_end},"), before["mask"]
        wrap.evaluate(TO_THE_END)
        coordinator.page.wait_for_function(
            "(wrap) => wrap.hasAttribute('data-at-end')", arg=wrap.element_handle()
        )
        after = wrap.evaluate(STATE)
        coordinator.screenshot(f"wide-tables/{name}-phone-{locale}-scrolled", full_page=False)
        assert after["atEnd"] and not after["atStart"]
        assert after["mask"].startswith(f"linear-gradient({towards_start},"), after["mask"]
    # The report of a bad file answers 422 (as it should); no script failed.
    assert [e for e in coordinator.errors if "status of 422" not in e] == []


def test_a_table_that_fits_has_no_hint_and_no_fade(signed_in: Any) -> None:
    coordinator = signed_in("wide-desktop@walk.example", viewport={"width": 1280, "height": 900})
    coordinator.page.goto("/coordinator/engagements")
    state = coordinator.page.locator("[data-table-wrap]").first.evaluate(STATE)
    assert not state["overflows"] and state["hint"] == "" and state["mask"] == "none"
