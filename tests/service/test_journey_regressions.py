"""Regressions found by the browser journey (tests/browser/test_full_journey.py): the forms are
posted here exactly as a browser would post them, every field and the clicked button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Engagement
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_proposal
from tests.service.worlds import build_world, offer


def _submit(browser: TestClient, form: Tag, button: Tag) -> Any:
    """Posts a form as a browser does when `button` is clicked: its fields, and the button's
    own name and value if it has them."""
    data: dict[str, list[str]] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        checkable = field.name == "input" and field.get("type") in ("checkbox", "radio")
        if checkable and not field.has_attr("checked"):
            continue
        value = field.get_text() if field.name == "textarea" else str(field.get("value", ""))
        data.setdefault(str(field["name"]), []).append(value)
    if button.get("name"):
        data.setdefault(str(button["name"]), []).append(str(button.get("value", "")))
    return browser.post(str(form["action"]), data=data)


def test_each_reject_reason_on_the_review_page_has_its_own_labelled_field(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_proposal(
        session, need=world.need, expert=make_expert(session, display_name="Jean Martin")
    )
    browser = make_client()
    login(browser, world.coordinator.email, PASSWORD)
    page = BeautifulSoup(browser.get(f"/coordinator/needs/{world.need.id}").text, "html.parser")
    fields = page.select("form[data-reject] input[name=reason]")
    ids = [str(field["id"]) for field in fields]
    assert ids == [f"reason-{world.proposal.id}", f"reason-{second.id}"]
    for field_id in ids:
        labels = page.select(f"label[for='{field_id}']")
        assert [label.get_text(strip=True) for label in labels] == ["Reason for rejecting"]

    response = browser.post(
        f"/coordinator/proposals/{second.id}/reject",
        data={"reason": "", "csrf_token": csrf_token(browser)},
    )
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    field = page.select_one(f"#reason-{second.id}")
    assert field is not None and field.get("aria-describedby") == f"reason-{second.id}-error"
    error = page.select_one(f"#reason-{second.id}-error")
    assert error is not None and "reason" in error.get_text()
    assert page.select_one(f"#reason-{world.proposal.id}-error") is None


def test_the_move_buttons_of_the_pages_work_as_a_browser_clicks_them(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    expert, institution = make_client(), make_client()
    login(expert, world.expert_user.email, PASSWORD)
    login(institution, world.member.email, PASSWORD)

    page = BeautifulSoup(expert.get("/expert/proposals").text, "html.parser")
    form = page.select_one(f"form[action='/engagements/{engagement.id}/accept']")
    assert form is not None
    button = form.select_one("button[type=submit]")
    assert button is not None and button.get_text(strip=True) == "Accept"
    response = _submit(expert, form, button)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/expert/proposals"

    page = BeautifulSoup(institution.get("/institution/proposals").text, "html.parser")
    form = page.select_one(f"form[action='/engagements/{engagement.id}/confirm']")
    assert form is not None
    button = form.select_one("button[type=submit]")
    assert button is not None
    response = _submit(institution, form, button)
    assert response.status_code == 303, response.text
    session.expire_all()
    moved = session.get(Engagement, engagement.id)
    assert moved is not None and moved.status == "confirmed"


def test_two_offers_on_the_expert_proposals_page_have_distinct_labelled_fields(
    session: Session, settings: Settings, make_client: Callable[[], TestClient]
) -> None:
    from tests.factories import make_need

    world = build_world(session)
    offer(session, world, settings)
    offer(
        session,
        world,
        settings,
        need=make_need(session, institution=world.institution, title="Second need"),
    )
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(browser.get("/expert/proposals").text, "html.parser")
    ids = [str(tag["id"]) for tag in page.select("[id]")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    reasons = page.select("textarea[name=reason]")
    assert len(reasons) == 2
    for field in reasons:
        assert page.select_one(f"label[for='{field['id']}']") is not None
