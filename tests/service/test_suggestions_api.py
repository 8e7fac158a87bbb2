"""POST /api/needs/{id}/suggestions: an institution suggests an expert of the roster for one of
its open needs, as the roster page's form does."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.privacy import delete_account
from service.models import ExpertProfile, ExpertSuggestion, Notification, Role, User
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user


def _bearer(session: Session, user: User) -> dict[str, str]:
    token = create_api_token(session, user=user)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_suggesting_answers_201_then_200_and_names_nobody(
    client: TestClient, session: Session
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    member, institution = make_member(session, name="Centre hospitalier de Ségou")
    need = make_need(session, institution=institution, title="تكوين الممرضين في طب الأطفال")
    make_need(session, institution=institution, title="Pédiatrie d'urgence")
    expert = make_expert(session, display_name="Chérif Touré", phone="+223 76 00 00 00")
    headers = _bearer(session, member)
    url = f"/api/needs/{need.id}/suggestions"

    first = client.post(url, json={"expert_id": expert.id}, headers=headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert set(body) == {"need_id", "expert_id", "suggested_at"}
    assert (body["need_id"], body["expert_id"]) == (need.id, expert.id)
    datetime.fromisoformat(body["suggested_at"])
    assert "Chérif" not in first.text and "+223" not in first.text

    again = client.post(url, json={"expert_id": expert.id}, headers=headers)
    assert again.status_code == 200 and again.json() == body
    session.expire_all()
    assert len(session.exec(select(ExpertSuggestion)).all()) == 1
    told = session.exec(select(Notification).where(Notification.kind == "need.suggestion")).all()
    assert [n.user_id for n in told] == [coordinator.id]


def test_a_need_not_theirs_or_an_expert_they_cannot_see_is_not_found(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session)
    _, elsewhere = make_member(session, name="Université de Bamako")
    theirs = make_need(session, institution=elsewhere)
    own = make_need(session, institution=institution)
    expert = make_expert(session)
    hidden = make_expert(session, display_name="Ana Sousa", visibility="coordinators")
    unconsenting = make_expert(session, display_name="João Brandão", consent_matching_at=None)
    headers = _bearer(session, member)

    for need_id, expert_id in [
        (theirs.id, expert.id),
        (2_000_000, expert.id),
        (own.id, hidden.id),
        (own.id, unconsenting.id),
        (own.id, 2_000_000),
    ]:
        response = client.post(
            f"/api/needs/{need_id}/suggestions", json={"expert_id": expert_id}, headers=headers
        )
        assert response.status_code == 404, (need_id, expert_id, response.text)
        assert "Ana Sousa" not in response.text
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


@pytest.mark.parametrize("status", ["closed", "filled", "draft"])
def test_a_need_not_open_is_a_conflict(client: TestClient, session: Session, status: str) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution, status=status)
    expert = make_expert(session)
    response = client.post(
        f"/api/needs/{need.id}/suggestions",
        json={"expert_id": expert.id},
        headers=_bearer(session, member),
    )
    assert response.status_code == 409
    assert status in response.json()["detail"]
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


@pytest.mark.parametrize(
    "body",
    [{}, {"expert_id": "Fatou"}, {"expert_id": 0}, {"expert_id": 2**40}, {"expert_id": 1, "x": 1}],
)
def test_a_bad_body_names_the_field(
    client: TestClient, session: Session, body: dict[str, object]
) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution)
    response = client.post(
        f"/api/needs/{need.id}/suggestions", json=body, headers=_bearer(session, member)
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields & {"expert_id", "x"}, fields


def test_an_unverified_institution_an_expert_and_staff_are_refused(
    client: TestClient, session: Session
) -> None:
    pending, institution = make_member(session, verified=False)
    need = make_need(session, institution=institution)
    expert_user = make_user(session)
    expert = make_expert(session, user=expert_user)
    coordinator = make_user(session, role=Role.COORDINATOR)
    url = f"/api/needs/{need.id}/suggestions"
    for user, said in [
        (pending, "awaiting verification"),
        (expert_user, "Only institutions suggest experts"),
        (coordinator, ""),
    ]:
        response = client.post(url, json={"expert_id": expert.id}, headers=_bearer(session, user))
        assert response.status_code == 403, user.role
        assert said in response.json()["detail"]
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


def test_an_expert_erasing_their_account_takes_their_suggestions_with_them(
    client: TestClient, session: Session, settings: Settings
) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution)
    expert_user = make_user(session)
    expert = make_expert(session, user=expert_user, display_name="Amadou Hampâté")
    response = client.post(
        f"/api/needs/{need.id}/suggestions",
        json={"expert_id": expert.id},
        headers=_bearer(session, member),
    )
    assert response.status_code == 201
    delete_account(session, user=expert_user, password=PASSWORD, settings=settings)
    session.commit()
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []
    assert session.get(ExpertProfile, expert.id) is None
