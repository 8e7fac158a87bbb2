"""Session cookies (signed, HttpOnly, expiring) and CSRF refusal."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import Need, User
from service.security import CSRF_COOKIE, SESSION_COOKIE, SessionData, SessionSigner
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_member, make_user


def test_session_cookie_is_httponly_and_samesite(client: TestClient, session: Session) -> None:
    make_user(session, email="awa@example.org")
    response = client.post(
        "/login",
        data={"email": "awa@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in header and "SameSite=lax" in header and "Max-Age=" in header


def test_expired_session_is_refused() -> None:
    signer = SessionSigner("k" * 40, max_age_s=1)
    cookie = signer.dumps(SessionData(user_id=1, version=1))
    assert signer.loads(cookie) == SessionData(user_id=1, version=1)
    time.sleep(2.1)
    assert signer.loads(cookie) is None


def test_expired_session_redirects_to_login(
    client: TestClient, session: Session, app_state: object
) -> None:
    user = make_user(session)
    short = SessionSigner(app_state.settings.secret_key, max_age_s=1)  # type: ignore[attr-defined]
    client.cookies.set(SESSION_COOKIE, short.dumps(SessionData(user_id=user.id or 0, version=1)))
    assert client.get("/api/me").status_code == 200
    app_state.signer = short  # type: ignore[attr-defined]
    time.sleep(2.1)
    response = client.get("/expert")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_forged_session_cookie_is_ignored(client: TestClient, session: Session) -> None:
    make_user(session)
    forged = SessionSigner("another-secret-key-entirely-000000", max_age_s=3600).dumps(
        SessionData(user_id=1, version=1)
    )
    client.cookies.set(SESSION_COOKIE, forged)
    assert client.get("/api/me").status_code == 401


def test_form_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    client.get("/")
    response = client.post(
        "/register/expert",
        data={
            "display_name": "X",
            "email": "x@example.org",
            "password": "a-long-password",
            "consent_terms": "on",
        },
    )
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert session.exec(select(User)).all() == []


def test_form_with_wrong_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, email="awa@example.org")
    client.get("/")
    response = client.post(
        "/login", data={"email": "awa@example.org", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_cross_site_request_is_refused_even_with_token(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="awa@example.org")
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": "awa@example.org", "password": PASSWORD, "csrf_token": token},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403


def _need_payload() -> dict[str, object]:
    return {
        "title": "Teach epidemiology",
        "description": "A remote module for third-year students.",
        "mode": "remote",
    }


def test_api_call_with_session_needs_csrf_header(client: TestClient, session: Session) -> None:
    user, _ = make_member(session)
    login(client, user.email, PASSWORD)
    refused = client.post("/api/needs", json=_need_payload())
    assert refused.status_code == 403
    assert session.exec(select(Need)).all() == []
    accepted = client.post(
        "/api/needs", json=_need_payload(), headers={"x-csrf-token": client.cookies[CSRF_COOKIE]}
    )
    assert accepted.status_code == 201


def test_api_call_with_bearer_token_needs_no_csrf(client: TestClient, session: Session) -> None:
    user, _ = make_member(session)
    login(client, user.email, PASSWORD)
    token = client.post(
        "/api/me/tokens",
        json={"name": "partner"},
        headers={"x-csrf-token": client.cookies[CSRF_COOKIE]},
    ).json()["token"]
    anonymous = TestClient(client.app)
    response = anonymous.post(
        "/api/needs", json=_need_payload(), headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    assert anonymous.get("/api/me", headers={"authorization": "Bearer hw_wrong"}).status_code == 401
