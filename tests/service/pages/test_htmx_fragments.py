"""Addresses htmx loads pieces from: htmx (the HX-Request header) gets the piece, a person who
opens the address directly gets the whole page around it, and the answer varies on the header
so that no cache serves one for the other."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from tests.factories import make_expert, make_proposal, make_user
from tests.service.pages.helpers import log_in_as, soup_of
from tests.service.pages.review import coordinator_browser
from tests.service.worlds import build_world

HTMX = {"HX-Request": "true"}


def _expert_browser(session: Session, make_client: Callable[[], TestClient]) -> TestClient:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user)
    session.commit()
    return log_in_as(make_client(), user.email)


@pytest.mark.parametrize("path", ["/expert/for-you", "/expert/for-you?limit=5"])
def test_needs_for_you_opened_directly_is_a_whole_page(
    path: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _expert_browser(session, make_client)
    page = browser.get(path)
    assert page.status_code == 200
    soup = soup_of(page)
    assert soup.select_one("html link[rel=stylesheet]") is not None
    assert soup.select_one("nav") is not None and soup.select_one("main") is not None
    assert soup.select_one("main section[data-for-you]") is not None
    assert soup.title is not None and "Needs for you" in soup.title.text
    assert "HX-Request" in page.headers["vary"]


def test_needs_for_you_asked_by_htmx_is_the_box_alone(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _expert_browser(session, make_client)
    fragment = browser.get("/expert/for-you", headers=HTMX)
    soup = soup_of(fragment)
    assert fragment.status_code == 200 and soup.select_one("html") is None
    assert soup.select_one("nav") is None and soup.select_one("section[data-for-you]") is not None
    assert "HX-Request" in fragment.headers["vary"]
    # htmx restoring a page from history after a cache miss wants the page, not the box.
    restored = browser.get(
        "/expert/for-you", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert soup_of(restored).select_one("nav") is not None


def test_a_comparison_opened_directly_is_a_whole_page_and_for_htmx_the_table(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    other = make_proposal(session, need=world.need, expert=make_expert(session), rank=2)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    url = f"/coordinator/needs/{world.need.id}/compare?expert={world.expert.id}&expert={other.expert_id}"
    page = soup_of(browser.get(url))
    assert page.select_one("nav") is not None
    assert page.select_one("main table[data-compare-table]") is not None
    fragment = browser.get(url, headers=HTMX)
    assert soup_of(fragment).select_one("nav") is None
    assert soup_of(fragment).select_one("table[data-compare-table]") is not None
    assert "HX-Request" in fragment.headers["vary"]
