"""The coordinator's review of a need, as its page tests see it: a stored explanation to show,
a coordinator's browser on the page, and a candidate's card as a person reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.worlds import World

FACTS = {
    "mode_fit": "accepted",
    "need_mode": "remote",
    "expert_modes": ["remote"],
    "window_days": 42,
    "covered_days": 42,
    "window_start": "2026-12-01",
    "window_end": "2027-01-11",
    "free_hours": 3.0,
    "needed_hours": 4.5,
    "country": "SN",
}
EXPLANATION = {
    "covered_skills": [
        {
            "required": "épidémiologie",
            "matched": "epidemiology",
            "similarity": 0.91,
            "how": "semantic",
        }
    ],
    "related_skills": [
        {
            "required": "biostatistique",
            "matched": "forensic pathology",
            "similarity": 0.73,
            "how": "related",
        }
    ],
    "missing_skills": ["biostatistique"],
    "shared_languages": ["fr"],
    "overlap_hours": 4.61,
    "country_tie": True,
    "facts": FACTS,
}


def coordinator_browser(
    session: Session,
    make_client: Callable[[], TestClient],
    world: World,
    *,
    locale: str | None = None,
) -> TestClient:
    """A browser logged in as the world's coordinator, who reads in `locale` if given."""
    if locale is not None:
        world.coordinator.locale = locale
        session.add(world.coordinator)
        session.commit()
    return log_in_as(make_client(), world.coordinator.email)


def review_page(browser: TestClient, world: World) -> BeautifulSoup:
    """The review page of the world's need."""
    return soup_of(browser.get(f"/coordinator/needs/{world.need.id}"))


def card_text(page: BeautifulSoup, proposal_id: int | None) -> str:
    """What a person reads on a candidate's card, its folded details left out."""
    card = page.select_one(f"#candidate-{proposal_id}")
    assert card is not None
    for details in card.select("details"):
        details.extract()
    return text_of(card)


def post_in_place(browser: TestClient, url: str, page: BeautifulSoup, data: dict[str, Any]) -> Any:
    """Posts a form of the page as htmx does, asking for the fragment that replaces it."""
    field = page.select_one("[name=csrf_token]")
    assert field is not None
    return browser.post(
        url, data={**data, "csrf_token": str(field["value"])}, headers={"HX-Request": "true"}
    )
