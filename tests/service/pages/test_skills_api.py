"""GET /api/skills: the most used skills starting with what was typed, accents and case aside."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from tests.factories import make_expert, make_member, make_need, make_user
from tests.service.pages.helpers import log_in_as


def _suggest(client: TestClient, q: str, **params: object) -> list[tuple[str, int]]:
    response = client.get("/api/skills", params={"q": q, **params})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return [(item["skill"], item["count"]) for item in response.json()["items"]]


def _world(session: Session) -> None:
    make_expert(session, skills=["Épidémiologie", "Public health"])
    make_expert(session, skills=["épidémiologie", "Epidemiology"])
    make_expert(session, skills=["Épidémiologie", "Epidemiology", "Biostatistics"])
    make_expert(session, skills=["Epidemiology", "Hydrology"])
    make_expert(session, skills=["Epidemiology", "Secret skill"], active=False)
    _, institution = make_member(session)
    make_need(session, institution=institution, required_skills=["Health economics"])


def test_most_used_first_accent_and_case_insensitive(client: TestClient, session: Session) -> None:
    _world(session)
    log_in_as(client, make_user(session, role=Role.EXPERT).email)

    # The three spellings of épidémiologie are one skill, named by its most common spelling.
    assert sorted(_suggest(client, "epi")) == [("Epidemiology", 3), ("Épidémiologie", 3)]
    assert _suggest(client, "ÉPIDÉ") == _suggest(client, "epide")


def test_matches_the_start_of_any_word(client: TestClient, session: Session) -> None:
    _world(session)
    log_in_as(client, make_user(session, role=Role.EXPERT).email)
    assert [skill for skill, _ in _suggest(client, "hea")] == ["Health economics", "Public health"]
    assert _suggest(client, "ealth") == []


def test_inactive_profiles_are_not_suggested(client: TestClient, session: Session) -> None:
    _world(session)
    log_in_as(client, make_user(session, role=Role.EXPERT).email)
    assert _suggest(client, "secret") == []


def test_limit_and_empty_query(client: TestClient, session: Session) -> None:
    _world(session)
    log_in_as(client, make_user(session, role=Role.EXPERT).email)
    top = _suggest(client, "", limit=2)
    assert len(top) == 2 and {count for _, count in top} == {3}


def test_requires_an_account(client: TestClient) -> None:
    assert client.get("/api/skills", params={"q": "epi"}).status_code == 401


def test_query_is_bounded(client: TestClient, session: Session) -> None:
    log_in_as(client, make_user(session, role=Role.EXPERT).email)
    assert client.get("/api/skills", params={"q": "x" * 81}).status_code == 422
    assert client.get("/api/skills", params={"q": "x", "limit": 51}).status_code == 422
