"""The JSON API: validation errors name the field, bad bodies never give a 500, roles hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import AuditEvent, Need, Role
from service.security import CSRF_COOKIE
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user


def _headers(client: TestClient) -> dict[str, str]:
    return {"x-csrf-token": client.cookies[CSRF_COOKIE]}


def _need(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "title": "Co-enseigner l'épidémiologie",
        "description": "Module à distance de six semaines pour les étudiants de troisième année.",
        "required_skills": ["épidémiologie", "épidémiologie", "biostatistique"],
        "mode": "remote",
        "languages": ["FR"],
        "sector": "health",
    }
    payload.update(overrides)
    return payload


def test_verified_member_posts_a_need(client: TestClient, session: Session) -> None:
    member, institution = make_member(session)
    login(client, member.email, PASSWORD)
    response = client.post("/api/needs", json=_need(), headers=_headers(client))
    assert response.status_code == 201
    body = response.json()
    assert body["institution_id"] == institution.id
    assert body["required_skills"] == ["épidémiologie", "biostatistique"]
    assert body["languages"] == ["fr"] and body["posted_at"] is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "need.posted")).one()
    assert event.actor_id == member.id and event.to_state == "open"


def test_unverified_member_cannot_post(client: TestClient, session: Session) -> None:
    member, _ = make_member(session, verified=False)
    login(client, member.email, PASSWORD)
    response = client.post("/api/needs", json=_need(), headers=_headers(client))
    assert response.status_code == 403
    assert "awaiting verification" in response.json()["detail"]
    assert session.exec(select(Need)).all() == []


def test_invalid_need_names_the_field(client: TestClient, session: Session) -> None:
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    response = client.post(
        "/api/needs", json=_need(mode="teleport", languages=["french"]), headers=_headers(client)
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"mode", "languages.0"} <= fields
    assert session.exec(select(Need)).all() == []


def test_malformed_json_is_a_422_not_a_500(client: TestClient, session: Session) -> None:
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    headers = {**_headers(client), "content-type": "application/json"}
    response = client.post("/api/needs", content=b'{"title": "x", ', headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_oversized_body_is_refused(client: TestClient, session: Session) -> None:
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    response = client.post(
        "/api/needs", json=_need(description="x" * 2_000_000), headers=_headers(client)
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_unknown_field_is_refused(client: TestClient, session: Session) -> None:
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    response = client.post("/api/needs", json=_need(institution_id=999), headers=_headers(client))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "institution_id"


@pytest.mark.parametrize("status", ["closed", "filled"])
def test_a_need_is_not_born_closed_or_filled(
    client: TestClient, session: Session, status: str
) -> None:
    member, _ = make_member(session, name="جامعة الجزائر 1 بن يوسف بن خدة")
    login(client, member.email, PASSWORD)
    body = _need(title="تدريس علم الأوبئة عن بعد", languages=["ar", "fr"], status=status)
    response = client.post("/api/needs", json=body, headers=_headers(client))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "status", "message": "Input should be 'open' or 'draft'"}
    ]
    assert session.exec(select(Need)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "need.posted")).all() == []


def test_a_need_is_born_open_or_a_draft(client: TestClient, session: Session) -> None:
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    for status in ("draft", "open"):
        response = client.post("/api/needs", json=_need(status=status), headers=_headers(client))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == status
    # Closing it later is an edit, as before.
    need_id = response.json()["id"]
    closed = client.put(
        f"/api/needs/{need_id}", json=_need(status="closed"), headers=_headers(client)
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_member_cannot_edit_another_institutions_need(client: TestClient, session: Session) -> None:
    _, institution = make_member(session)
    need = make_need(session, institution=institution)
    intruder, _ = make_member(session, name="Autre")
    login(client, intruder.email, PASSWORD)
    response = client.put(
        f"/api/needs/{need.id}", json=_need(title="Hijacked"), headers=_headers(client)
    )
    assert response.status_code == 404
    session.refresh(need)
    assert need.title != "Hijacked"


def test_coordinator_verifies_an_institution(client: TestClient, session: Session) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    _, institution = make_member(session, verified=False)
    login(client, coordinator.email, PASSWORD)
    response = client.post(f"/api/institutions/{institution.id}/verify", headers=_headers(client))
    assert response.status_code == 200 and response.json()["verified_at"]
    again = client.post(f"/api/institutions/{institution.id}/verify", headers=_headers(client))
    assert again.status_code == 409


def test_expert_cannot_verify(client: TestClient, session: Session) -> None:
    expert = make_user(session, role=Role.EXPERT)
    _, institution = make_member(session, verified=False)
    login(client, expert.email, PASSWORD)
    assert (
        client.post(
            f"/api/institutions/{institution.id}/verify", headers=_headers(client)
        ).status_code
        == 403
    )
    session.refresh(institution)
    assert not institution.verified


def test_institution_sees_no_contact_details(client: TestClient, session: Session) -> None:
    expert = make_expert(session)
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    body = client.get(f"/api/experts/{expert.id}").json()
    assert "email" not in body and "phone" not in body and "display_name" not in body
    assert body["skills"] == expert.skills


def test_coordinators_only_expert_is_hidden_from_institutions(
    client: TestClient, session: Session
) -> None:
    expert = make_expert(session, visibility="coordinators")
    member, _ = make_member(session)
    login(client, member.email, PASSWORD)
    assert client.get(f"/api/experts/{expert.id}").status_code == 404


def test_expert_updates_own_profile_and_bad_values_name_the_field(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user)
    login(client, user.email, PASSWORD)
    profile = client.get("/api/experts/me").json()
    payload = {
        k: profile[k]
        for k in (
            "display_name",
            "headline",
            "bio",
            "skills",
            "languages",
            "origin_country",
            "residence_country",
            "city",
            "timezone",
            "modes",
            "hours_per_month",
            "sectors",
        )
    }
    bad = client.put(
        "/api/experts/me", json={**payload, "timezone": "Mars/Olympus"}, headers=_headers(client)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "timezone"
    good = client.put(
        "/api/experts/me",
        json={**payload, "headline": "Senior epidemiologist"},
        headers=_headers(client),
    )
    assert good.status_code == 200 and good.json()["headline"] == "Senior epidemiologist"
