"""What an institution asked for is shown back: the number of experts it wants, on its own need
page and on the coordinator's review (the walk found it asked for and then shown nowhere), and
names in another script keep their order (an Arabic name ending in a digit)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_member, make_need
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.pages.review import coordinator_browser
from tests.service.worlds import build_world


def test_the_institution_sees_how_many_experts_its_need_asks_for(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, institution = make_member(session, name="جامعة وهران 1")
    need = make_need(session, institution=institution, experts_wanted=2)
    session.commit()
    page = soup_of(log_in_as(make_client(), member.email).get(f"/institution/needs/{need.id}"))
    details = {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in page.select("dl dt")}
    assert details["Number of experts wanted"] == "2"
    assert text_of(page.select_one("h1 > bdi")) == need.title  # isolated from the page around


def test_the_coordinator_sees_how_many_experts_the_need_asks_for(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.need.experts_wanted = 3
    world.institution.name = "جامعة وهران 1"
    session.add_all([world.need, world.institution])
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    page = soup_of(browser.get(f"/coordinator/needs/{world.need.id}"))
    assert "Number of experts wanted: 3" in text_of(page.select_one("details.need-text"))
    meta = page.select_one("article.review > p.meta")
    assert meta is not None and text_of(meta.bdi) == "جامعة وهران 1"


@pytest.mark.parametrize(
    ("mode", "city", "shown"),
    [
        ("remote", "Saint-Louis", None),  # the form's default city says nothing of remote work
        ("mission", "Saint-Louis", "Saint-Louis"),
        ("hybrid", "", "Thiès"),  # no city of its own: where the institution is
    ],
)
def test_a_need_says_where_work_takes_place_in_person_only(
    session: Session, make_client: Callable[[], TestClient], mode: str, city: str, shown: str | None
) -> None:
    world = build_world(session)
    world.need.mode, world.need.city = mode, city
    world.institution.city = "Thiès"
    session.add_all([world.need, world.institution])
    session.commit()
    expert_page = soup_of(
        log_in_as(make_client(), world.expert_user.email).get(f"/expert/needs/{world.need.id}")
    )
    summary = expert_page.select_one("[data-need-summary]")
    assert summary is not None
    said = {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in summary.select("dt")}
    assert said.get("City") == shown
    member = log_in_as(make_client(), world.member.email)
    own = soup_of(member.get(f"/institution/needs/{world.need.id}"))
    details = {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in own.select("dl dt")}
    assert details["Location"] == (city if mode != "remote" and city else "—")
