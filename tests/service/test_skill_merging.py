"""The skills-gap report counts the same skill asked in several languages once: real phrase
vectors (USE, the matcher's phrase model), embedded by the worker's job, read by the report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching.encoders import Encoder, load_encoder
from matching.skill_groups import SkillGroup, group_skills
from service.core.changes import need_changed
from service.core.jobs import EMBED_SKILLS
from service.core.matching import MatchingEngine
from service.core.reports import skills_gap, skills_gap_csv
from service.models import Role
from service.models.types import utcnow
from service.repos.jobs import PENDING, get_job_by_key
from service.state import AppState
from service.worker import Worker
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_institution, make_need, make_user

MODEL = "use"


@pytest.fixture(scope="module")
def phrases() -> Encoder:
    """The matcher's phrase model alone (what `homeward-fused` explains skills with)."""
    return load_encoder(MODEL)


def _pair(encoder: Encoder, a: str, b: str) -> list[SkillGroup]:
    vectors = dict(zip((a, b), encoder.encode_phrases([a, b]), strict=True))
    return group_skills({a: 2, b: 1}, vectors)


@pytest.mark.parametrize(
    ("asked", "other"),
    [
        ("levée de fonds", "fundraising"),
        ("épidémiologie", "epidemiology"),
        ("epidemiología", "epidemiology"),
        ("gestion de projet", "project management"),
        ("santé publique", "public health"),
    ],
)
def test_the_same_skill_in_two_languages_merges(phrases: Encoder, asked: str, other: str) -> None:
    assert _pair(phrases, asked, other) == [SkillGroup(asked, (other,))]


@pytest.mark.parametrize(
    ("asked", "other"),
    [
        ("forensic pathology", "epidemiology"),
        ("pediatric surgery", "paediatrics"),
        ("microbiology", "virology"),
        ("biostatistique", "epidemiology"),
        ("fundraising", "financial management"),
    ],
)
def test_near_but_different_skills_stay_apart(phrases: Encoder, asked: str, other: str) -> None:
    assert _pair(phrases, asked, other) == [SkillGroup(asked), SkillGroup(other)]


@pytest.fixture
def worker_state(app_state: AppState, phrases: Encoder) -> Iterator[AppState]:
    """The application state with the matcher on the phrase model the tests load once."""
    app_state.settings = app_state.settings.model_copy(update={"embedding_model": MODEL})
    app_state.matching = MatchingEngine(phrases)
    yield app_state
    app_state.matching = None


def _world(session: Session, state: AppState) -> Worker:
    """Needs posted the way every writer posts them (their change schedules the work)."""
    worker = Worker(state)  # installs what follows a change, as the application does
    dakar = make_institution(session, name="UCAD", country="SN")
    make_expert(session, skills=["fundraising", "epidemiology"])
    for skills in (
        ["levée de fonds", "comptabilité"],
        ["Levée de fonds"],
        ["fundraising", "forensic pathology"],
        ["épidémiologie"],
        ["epidemiology", "fundraising"],
    ):
        need_changed(session, make_need(session, institution=dakar, required_skills=skills))
    session.commit()
    return worker


def test_the_report_merges_rows_once_the_worker_embedded_the_skills(
    session: Session, engine: Engine, worker_state: AppState
) -> None:
    worker = _world(session, worker_state)
    before = skills_gap(session, model=MODEL)
    assert len(before["skills"]) == 6  # nothing embedded yet: one row per key, as before
    job = get_job_by_key(session, EMBED_SKILLS)
    assert job is not None and job.status == PENDING
    worker.run_due(now=utcnow() + timedelta(seconds=1))
    session.expire_all()
    rows = {row["skill"]: row for row in skills_gap(session, model=MODEL)["skills"]}
    # Two needs ask each label: the tie goes to the label first in order, stable run to run.
    assert set(rows) == {"fundraising", "epidemiology", "comptabilité", "forensic pathology"}
    funds = rows["fundraising"]
    assert funds["variants"] == ["levée de fonds"]
    # Needs 1, 2, 3 and 5 ask for it; need 5 asks both variants and counts once.
    assert funds["open_needs"] == 4 and funds["active_experts"] == 1
    assert rows["epidemiology"]["variants"] == ["épidémiologie"]
    assert rows["epidemiology"]["open_needs"] == 2 and rows["epidemiology"]["active_experts"] == 1
    assert rows["forensic pathology"]["variants"] == []
    assert "fundraising,4,4,1,3,levée de fonds" in skills_gap_csv(skills_gap(session, model=MODEL))


def test_the_page_shows_the_label_and_its_variants(
    session: Session, engine: Engine, worker_state: AppState, client: TestClient
) -> None:
    _world(session, worker_state).run_due(now=utcnow() + timedelta(seconds=1))
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    soup = BeautifulSoup(client.get("/coordinator/skills-gap").text, "html.parser")
    row = soup.select_one("tr[data-skill='fundraising']")
    assert row is not None, soup.select("tr[data-skill]")
    variants = row.select_one("[data-variants]")
    assert variants is not None and "levée de fonds" in variants.get_text()
    assert soup.select_one("tr[data-skill='levee de fond']") is None
