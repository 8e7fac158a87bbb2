"""Personal API tokens: named, expiring, listed with their last use, revocable; no token mints one."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.core.accounts import create_api_token
from service.models import ApiToken
from service.models.types import utcnow
from service.security import CSRF_COOKIE
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user


def _csrf(client: TestClient) -> dict[str, str]:
    return {"x-csrf-token": client.cookies[CSRF_COOKIE]}


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_create_list_use_and_revoke_through_the_api(client: TestClient, session: Session) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    created = client.post(
        "/api/tokens",
        json={"name": "Partner CRM", "expires_at": expires.isoformat()},
        headers=_csrf(client),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Partner CRM" and body["token"].startswith("hw_")
    assert datetime.fromisoformat(body["expires_at"]) == expires
    assert body["last_used_at"] is None
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/me", headers=_bearer(body["token"])).json()["email"] == user.email
    listed = client.get("/api/tokens").json()
    assert [(t["id"], t["name"]) for t in listed] == [(body["id"], "Partner CRM")]
    assert listed[0]["last_used_at"] is not None and "token" not in listed[0]
    assert "token_hash" not in listed[0]
    revoked = client.delete(f"/api/tokens/{body['id']}", headers=_csrf(client))
    assert revoked.status_code == 204
    assert anonymous.get("/api/me", headers=_bearer(body["token"])).status_code == 401
    assert client.get("/api/tokens").json() == []
    again = client.delete(f"/api/tokens/{body['id']}", headers=_csrf(client))
    assert again.status_code == 404


def test_a_token_cannot_mint_another(client: TestClient, session: Session) -> None:
    user = make_user(session)
    token = create_api_token(session, user=user, name="partner")
    session.commit()
    response = client.post("/api/tokens", json={"name": "child"}, headers=_bearer(token))
    assert response.status_code == 403
    page = client.post("/account/tokens", data={"name": "child"}, headers=_bearer(token))
    assert page.status_code == 403
    assert [t.name for t in session.exec(select(ApiToken)).all()] == ["partner"]
    # Listing and revoking its own kind is allowed.
    assert [t["name"] for t in client.get("/api/tokens", headers=_bearer(token)).json()] == [
        "partner"
    ]


def test_an_expired_token_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(session)
    token = create_api_token(
        session, user=user, name="short", expires_at=utcnow() + timedelta(hours=1)
    )
    session.commit()
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    row = session.exec(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    response = client.get("/api/me", headers=_bearer(token))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_an_expiry_in_the_past_is_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    login(client, user.email, PASSWORD)
    past = client.post(
        "/api/tokens",
        json={"name": "old", "expires_at": "2020-01-01T00:00:00Z"},
        headers=_csrf(client),
    )
    assert past.status_code == 422
    assert [e["field"] for e in past.json()["errors"]] == ["expires_at"]
    nameless = client.post("/api/tokens", json={"name": "  "}, headers=_csrf(client))
    assert nameless.status_code == 422
    assert [e["field"] for e in nameless.json()["errors"]] == ["name"]
    huge = client.post(
        "/api/tokens",
        json={"name": "far", "expires_at": "9999-12-31T23:00:00-05:00"},
        headers=_csrf(client),
    )
    assert huge.status_code == 422
    assert session.exec(select(ApiToken)).all() == []


def test_someone_elses_token_cannot_be_revoked(client: TestClient, session: Session) -> None:
    owner = make_user(session, email="owner@example.org")
    token = create_api_token(session, user=owner, name="theirs")
    session.commit()
    token_id = session.exec(select(ApiToken)).one().id
    intruder = make_user(session, email="intruder@example.org")
    login(client, intruder.email, PASSWORD)
    assert client.delete(f"/api/tokens/{token_id}", headers=_csrf(client)).status_code == 404
    assert TestClient(client.app).get("/api/me", headers=_bearer(token)).status_code == 200


def test_account_page_creates_lists_and_revokes_tokens(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    on = (utcnow() + timedelta(days=10)).date()
    created = client.post(
        "/account/tokens",
        data={"name": "Reporting", "expires_on": on.isoformat(), "csrf_token": csrf_token(client)},
    )
    assert created.status_code == 200
    page = BeautifulSoup(created.text, "html.parser")
    secret = page.select_one("[data-token]")
    assert secret is not None and secret.get_text().startswith("hw_")
    row = page.select_one("[data-tokens] tbody tr")
    assert row is not None
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert (
        cells[0] == "Reporting"
        and cells[2] == "Never"
        and cells[3] == format_date(on, "medium", locale="en")
    )
    TestClient(client.app).get("/api/me", headers=_bearer(secret.get_text()))
    page = BeautifulSoup(client.get("/account").text, "html.parser")
    cells = [td.get_text(" ", strip=True) for td in page.select("[data-tokens] tbody tr td")]
    assert cells[2] != "Never" and secret.get_text() not in page.text
    token_id = session.exec(select(ApiToken)).one().id
    revoked = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client)}
    )
    assert revoked.status_code == 303
    assert (
        TestClient(client.app).get("/api/me", headers=_bearer(secret.get_text())).status_code == 401
    )
    page = BeautifulSoup(client.get("/account").text, "html.parser")
    assert page.select("[data-tokens] tbody tr") == []


def test_account_page_keeps_the_form_on_a_bad_expiry(client: TestClient, session: Session) -> None:
    user = make_user(session)
    login(client, user.email, PASSWORD)
    response = client.post(
        "/account/tokens",
        data={"name": "Reporting", "expires_on": "2001-02-03", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#name")["value"] == "Reporting"  # type: ignore[index]
    assert page.select_one("#expires_on")["value"] == "2001-02-03"  # type: ignore[index]
    assert "future" in page.select_one("#expires_on-error").get_text()  # type: ignore[union-attr]
    assert session.exec(select(ApiToken)).all() == []


def test_password_change_revokes_every_token(client: TestClient, session: Session) -> None:
    user = make_user(session, email="awa@example.org")
    token = create_api_token(session, user=user, name="partner")
    session.commit()
    login(client, user.email, PASSWORD)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 303
    assert TestClient(client.app).get("/api/me", headers=_bearer(token)).status_code == 401
    assert client.get("/api/me").status_code == 200


def test_a_token_id_beyond_the_database_range_is_a_422(
    client: TestClient, session: Session
) -> None:
    login(client, make_user(session).email, PASSWORD)
    response = client.delete("/api/tokens/99999999999999", headers=_csrf(client))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["token_id"]
