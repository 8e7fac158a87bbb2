"""An expert's "Needs for you" follows a saved profile: the save queues the ranking of every open
need for them, their home says matching is in progress until the worker has run it, then lists
the best needs with reasons, or says why there is none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.encoders import Encoder
from service.core.jobs import rematch_key
from service.core.matching import MatchingEngine
from service.models import MatchProposal, Role
from service.models.types import utcnow
from service.repos.jobs import PENDING, get_job_by_key
from service.state import AppState
from service.worker import Worker
from tests.conftest import csrf_token
from tests.factories import make_expert, make_institution, make_need, make_proposal, make_user
from tests.fusion_weights import document_and_lexical
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of


@pytest.fixture
def worker(app_state: AppState, hashing: Encoder) -> Iterator[Worker]:
    """The worker, with a matcher on the small hashing encoder (real embedding, no model load)."""
    app_state.matching = MatchingEngine(hashing, weights_for=document_and_lexical)
    yield Worker(app_state)
    app_state.matching = None


def _profile_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Moussa Ndiaye",
        "headline": "Epidemiologist and biostatistician",
        "bio": "Twelve years of outbreak surveillance and survey analysis in West Africa.",
        "skills": ["epidemiology", "biostatistics", "survey design"],
        "lang_code_0": "fr",
        "lang_level_0": "native",
        "lang_code_1": "en",
        "lang_level_1": "fluent",
        "origin_country": "SN",
        "residence_country": "FR",
        "timezone": "Europe/Paris",
        "modes": ["remote"],
        "hours_per_month": "16",
        "sectors": ["health"],
        "visibility": "institutions",
        "consent_matching": "on",
    }
    data.update(overrides)
    return data


def _new_expert(session: Session, make_client: Callable[[], TestClient]) -> tuple[TestClient, int]:
    user = make_user(session, role=Role.EXPERT)
    expert = make_expert(
        session, user=user, headline="", bio="", skills=[], languages=[], consent_matching_at=None
    )
    return log_in_as(make_client(), user.email), expert.id or 0


def test_a_saved_profile_shows_matching_in_progress_then_the_needs_with_reasons(
    session: Session, make_client: Callable[[], TestClient], worker: Worker
) -> None:
    dakar = make_institution(session, name="UCAD", country="SN")
    wanted = make_need(
        session,
        institution=dakar,
        title="Surveillance épidémiologique",
        required_skills=["epidemiology", "biostatistics"],
        languages=["fr"],
    )
    make_need(session, institution=dakar, title="Hydrologie", required_skills=["hydrology"])
    browser, expert_id = _new_expert(session, make_client)
    home = soup_of(browser.get("/expert"))
    assert home.select_one("[data-for-you-pending]") is None
    assert home.select_one("[data-for-you-empty]")["data-for-you-empty"] in (  # type: ignore[index]
        "no_consent",
        "incomplete",
    )

    assert post_form(browser, "/expert/profile", _profile_form()).status_code == 303
    job = get_job_by_key(session, rematch_key(expert_id))
    assert job is not None and job.status == PENDING
    home = soup_of(browser.get("/expert"))
    box = home.select_one("section[data-for-you]")
    assert box is not None and box.has_attr("data-for-you-pending")
    assert box["hx-get"] == "/expert/for-you?limit=5" and "every" in box["hx-trigger"]
    assert "Matching is in progress" in text_of(box.select_one("[data-matching-in-progress]"))
    # No need-side proposal exists: nothing depends on the expert being in a need's top 10.
    assert session.exec(select(MatchProposal)).all() == []

    worker.run_due(now=utcnow() + timedelta(seconds=1))

    fragment = browser.get("/expert/for-you?limit=5", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and soup_of(fragment).select_one("html") is None
    box = soup_of(browser.get("/expert")).select_one("section[data-for-you]")
    assert box is not None and not box.has_attr("data-for-you-pending")  # the polling stops
    cards = box.select(".need-card")
    titles = [text_of(card.h3) for card in cards]
    assert titles[0] == "Surveillance épidémiologique" and "Hydrologie" in titles
    assert cards[0].h3.a["href"] == f"/expert/needs/{wanted.id}"  # type: ignore[union-attr]
    said = [text_of(li) for li in cards[0].select("[data-reasons] li")]
    assert said[0] == "Covers 2 of 2 skills asked: epidemiology, biostatistics"
    assert "Speaks French (native)" in said


def test_saving_through_the_api_queues_the_ranking_too(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    make_need(session, institution=make_institution(session))
    browser, expert_id = _new_expert(session, make_client)
    body = {
        "display_name": "Moussa Ndiaye",
        "headline": "Epidemiologist",
        "skills": ["epidemiology"],
        "languages": [{"code": "fr", "level": "native"}],
        "modes": ["remote"],
        "origin_country": "SN",
        "residence_country": "FR",
        "consent_matching": True,
    }
    response = browser.put(
        "/api/experts/me", json=body, headers={"x-csrf-token": csrf_token(browser)}
    )
    assert response.status_code == 200, response.text
    job = get_job_by_key(session, rematch_key(expert_id))
    assert job is not None and job.status == PENDING
    box = soup_of(browser.get("/expert/for-you")).select_one("[data-for-you-pending]")
    assert box is not None and "Matching is in progress" in text_of(box)


def test_an_empty_list_says_which_open_needs_were_set_aside_and_why(
    session: Session, make_client: Callable[[], TestClient], worker: Worker
) -> None:
    dakar = make_institution(session, name="UCAD", country="SN")
    make_need(session, institution=dakar, title="En français", languages=["fr"])
    make_need(session, institution=dakar, title="On site", languages=["en"], mode="mission")
    browser, _ = _new_expert(session, make_client)
    form = _profile_form(lang_code_0="en", lang_level_0="native", lang_code_1="")
    assert post_form(browser, "/expert/profile", form).status_code == 303
    worker.run_due(now=utcnow() + timedelta(seconds=1))

    box = soup_of(browser.get("/expert")).select_one("section[data-for-you]")
    assert box is not None and box["data-for-you-empty"] == "all_set_aside"
    assert "None of the open needs fits your profile yet." in text_of(box)
    assert "Of the 2 open needs:" in text_of(box)
    assert [text_of(li) for li in box.select("[data-set-aside] li")] == [
        "1 asks for a language you have not listed",
        "1 asks for an engagement mode you do not offer",
    ]


def test_with_no_open_need_the_list_says_so(
    session: Session, make_client: Callable[[], TestClient], worker: Worker
) -> None:
    browser, _ = _new_expert(session, make_client)
    post_form(browser, "/expert/profile", _profile_form())
    worker.run_due(now=utcnow() + timedelta(seconds=1))
    box = soup_of(browser.get("/expert")).select_one("section[data-for-you]")
    assert box is not None and box["data-for-you-empty"] == "no_open_needs"


def test_the_needs_page_reads_the_profile_once_and_the_ranked_needs_in_one_query(
    session: Session, engine: Engine, make_client: Callable[[], TestClient]
) -> None:
    # Counted, not timed: working out the reader loads the expert's profile, which the page
    # then uses (no second read), and the ranked needs come with their proposals in one query.
    user = make_user(session, role=Role.EXPERT)
    expert = make_expert(session, user=user)
    dakar = make_institution(session, name="UCAD", country="SN")
    for title in ("Surveillance", "Biostatistique", "Enquêtes"):
        need = make_need(session, institution=dakar, title=title)
        make_proposal(session, need=need, expert=expert, origin="expert")
    browser = log_in_as(make_client(), user.email)
    assert browser.get("/expert/needs").status_code == 200
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.lower().split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = soup_of(browser.get("/expert/needs"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.select(".need-card")) == 3
    assert len([s for s in statements if "from expertprofile " in s]) == 1
    assert len([s for s in statements if "from matchproposal " in s]) == 1
