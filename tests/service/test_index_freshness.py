"""What the indexes hold follows the database: renames reach the needs index, and a privacy
change takes the expert out of the institutions' search before the response leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.indexing import drain_outbox, reindex_all
from service.core.jobs import REMATCH_NEED, enqueue
from service.models import ExpertProfile, Institution, Role
from service.search import SearchBackend, outbox
from service.security import CSRF_COOKIE
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user

PROFILE_FIELDS = (
    "display_name",
    "headline",
    "bio",
    "languages",
    "origin_country",
    "residence_country",
    "timezone",
    "modes",
    "hours_per_month",
    "sectors",
    "skills",
    "visibility",
)


def test_renaming_an_institution_renames_it_in_the_needs_index(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    member, institution = make_member(session, name="Institut Pasteur de Dakar")
    make_need(session, institution=institution, title="Former des biostatisticiens")
    reindex_all(engine, search_backend)
    login(client, member.email, PASSWORD)
    assert client.get("/api/needs", params={"q": "Pasteur"}).json()["total"] == 1
    response = client.post(
        "/institution/profile",
        data={
            "name": "Institut de santé Léopold",
            "type": institution.type,
            "country": institution.country,
            "city": institution.city,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 303
    drain_outbox(engine, search_backend)
    assert client.get("/api/needs", params={"q": "Pasteur"}).json()["total"] == 0
    found = client.get("/api/needs", params={"q": "Léopold"}).json()["items"]
    assert [item["institution_name"] for item in found] == ["Institut de santé Léopold"]


@pytest.fixture
def visible_expert(
    session: Session, engine: Engine, search_backend: SearchBackend
) -> tuple[Any, ExpertProfile]:
    user = make_user(session, role=Role.EXPERT)
    expert = make_expert(
        session, user=user, display_name="Samir Oufkir", skills=["hydrogéologie", "forages"]
    )
    reindex_all(engine, search_backend)
    return user, expert


def _institution_finds(browser: TestClient) -> list[int]:
    body = browser.get("/api/experts", params={"q": "hydrogeologie"}).json()
    return [item["id"] for item in body["items"]]


def _backlog(session: Session, institution: Institution) -> None:
    """Slow re-matching jobs queued ahead, as when many needs changed a moment ago."""
    for n in range(20):
        need = make_need(session, institution=institution, title=f"Need {n}")
        enqueue(session, kind=REMATCH_NEED, key=f"{REMATCH_NEED}:{need.id}", payload={})
    session.commit()


@pytest.mark.parametrize(
    "change", [{"visibility": "coordinators"}, {"consent_matching": False}], ids=str
)
def test_a_privacy_change_takes_effect_for_institutions_at_once(
    make_client: Callable[[], TestClient],
    session: Session,
    visible_expert: tuple[Any, ExpertProfile],
    change: dict[str, Any],
) -> None:
    user, expert = visible_expert
    member, institution = make_member(session, name="Université de Bamako")
    _backlog(session, institution)
    reader = make_client()
    login(reader, member.email, PASSWORD)
    assert _institution_finds(reader) == [expert.id]
    browser = make_client()
    login(browser, user.email, PASSWORD)
    profile = browser.get("/api/experts/me").json()
    payload = {**{k: profile[k] for k in PROFILE_FIELDS}, **change}
    response = browser.put(
        "/api/experts/me", json=payload, headers={"x-csrf-token": browser.cookies[CSRF_COOKIE]}
    )
    assert response.status_code == 200
    # Nothing drained the outbox, and the re-matching jobs are still queued: yet it is gone.
    assert outbox.pending(session) > 0
    assert _institution_finds(reader) == []
    staff = make_client()
    login(staff, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    assert [i["id"] for i in staff.get("/api/experts", params={"q": "Oufkir"}).json()["items"]] == [
        expert.id
    ]


def test_the_outbox_still_withdraws_when_the_backend_is_down_at_that_moment(
    make_client: Callable[[], TestClient],
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    visible_expert: tuple[Any, ExpertProfile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, expert = visible_expert
    member, _ = make_member(session)
    reader = make_client()
    login(reader, member.email, PASSWORD)
    browser = make_client()
    login(browser, user.email, PASSWORD)
    profile = browser.get("/api/experts/me").json()
    real_delete = search_backend.delete

    def down(index: str, ids: Any) -> None:
        raise ConnectionError("search backend down")

    monkeypatch.setattr(search_backend, "delete", down)
    response = browser.put(
        "/api/experts/me",
        json={**{k: profile[k] for k in PROFILE_FIELDS}, "visibility": "coordinators"},
        headers={"x-csrf-token": browser.cookies[CSRF_COOKIE]},
    )
    assert response.status_code == 200
    monkeypatch.setattr(search_backend, "delete", real_delete)
    assert _institution_finds(reader) == [expert.id]
    drain_outbox(engine, search_backend)
    assert _institution_finds(reader) == []
