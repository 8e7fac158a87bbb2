"""Session cookies (signed, HttpOnly, expiring) and CSRF refusal."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.models import Need, Role, User, UserSession
from service.models.types import utcnow
from service.security import CSRF_COOKIE, SESSION_COOKIE, SessionSigner
from service.state import AppState
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_member, make_user


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


def test_expired_session_cookie_is_refused() -> None:
    signer = SessionSigner("k" * 40, max_age_s=1)
    cookie = signer.dumps("a-session-token")
    assert signer.loads(cookie) == "a-session-token"
    time.sleep(2.1)
    assert signer.loads(cookie) is None


def test_expired_session_redirects_to_login(
    client: TestClient, session: Session, app_state: object
) -> None:
    user = make_user(session)
    login(client, user.email, PASSWORD)
    assert client.get("/api/me").status_code == 200
    # The session ends on the server at its expiry, whatever the cookie says.
    session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get("/expert")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert client.get("/api/me").status_code == 401


def test_forged_session_cookie_is_ignored(
    client: TestClient, session: Session, app_state: AppState
) -> None:
    user = make_user(session)
    login(client, user.email, PASSWORD)
    token = app_state.signer.loads(client.cookies[SESSION_COOKIE])
    assert token is not None and client.get("/api/me").status_code == 200
    # The live session's own token, signed with another key, opens nothing.
    forged = SessionSigner("another-secret-key-entirely-000000", max_age_s=3600).dumps(token)
    client.cookies.clear()
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
        "/api/tokens",
        json={"name": "partner"},
        headers={"x-csrf-token": client.cookies[CSRF_COOKIE]},
    ).json()["token"]
    anonymous = TestClient(client.app)
    response = anonymous.post(
        "/api/needs", json=_need_payload(), headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    assert anonymous.get("/api/me", headers={"authorization": "Bearer hw_wrong"}).status_code == 401


def test_logout_ends_the_session_on_the_server(client: TestClient, session: Session) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    stolen = client.cookies[SESSION_COOKIE]
    assert client.get("/api/me").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert session.exec(select(UserSession)).all() == []
    # Someone who copied the cookie before the log-out gets nothing with it.
    replay = TestClient(client.app)
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert replay.get("/api/me").status_code == 401
    assert replay.get("/account", follow_redirects=False).status_code == 303


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_account_lists_sessions_and_logs_out_everywhere(
    client: TestClient, make_client: Callable[[], TestClient], session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    phone = make_client()
    phone.headers["user-agent"] = IPHONE_SAFARI
    login(phone, user.email, PASSWORD)
    client.headers["user-agent"] = WINDOWS_FIREFOX
    login(client, user.email, PASSWORD)
    page = BeautifulSoup(client.get("/account").text, "html.parser")
    rows = page.select("[data-sessions] tbody tr")
    assert len(rows) == 2
    current = page.select_one("[data-sessions] tr[data-current]")
    # Each browser as its owner knows it; the raw header only in the cell's title.
    assert current is not None and "Firefox on Windows" in current.get_text()
    assert current.td is not None and current.td["title"] == WINDOWS_FIREFOX
    assert any("Safari on iPhone" in row.get_text() for row in rows)
    assert "Mozilla" not in page.select_one("[data-sessions]").get_text()  # type: ignore[union-attr]
    response = client.post("/account/sessions/end", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert phone.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401
    assert session.exec(select(UserSession)).all() == []


def test_deactivated_user_loses_every_session(client: TestClient, session: Session) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    user.active = False
    session.add(user)
    session.commit()
    assert client.get("/api/me").status_code == 401


def test_session_lookup_is_one_query_on_an_index(
    client: TestClient, session: Session, engine: Engine
) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "usersession" in statement.lower():
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/me").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # One select by primary key (joined with the user); "last seen" is not written each time.
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


def test_csrf_token_is_renewed_at_login_and_bound_to_the_session(
    client: TestClient, make_client: Callable[[], TestClient], session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    before = csrf_token(client)
    login(client, user.email, PASSWORD)
    after = client.cookies[CSRF_COOKIE]
    assert after != before
    page = BeautifulSoup(client.get("/account").text, "html.parser")
    field = page.select_one("input[name=csrf_token]")
    assert field is not None and field["value"] == after
    # The token from before the log-in no longer works.
    stale = client.post("/account/locale", data={"locale": "fr", "csrf_token": before})
    assert stale.status_code == 403
    # Nor does the token of another session of the same user.
    other = make_client()
    login(other, user.email, PASSWORD)
    foreign = client.post(
        "/account/locale", data={"locale": "fr", "csrf_token": other.cookies[CSRF_COOKIE]}
    )
    assert foreign.status_code == 403
    session.refresh(user)
    assert user.locale == "en"
    own = client.post("/account/locale", data={"locale": "fr", "csrf_token": after})
    assert own.status_code == 303
    # Log-out hands out a fresh token, bound to no session.
    client.post("/logout", data={"csrf_token": after})
    assert client.cookies[CSRF_COOKIE] not in (before, after)


def test_a_planted_csrf_cookie_does_not_pass_with_a_session(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    client.cookies.set(CSRF_COOKIE, "planted-by-an-attacker", domain="testserver.local")
    response = client.post(
        "/account/locale", data={"locale": "fr", "csrf_token": "planted-by-an-attacker"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "third_party",
    ["other=a b", "bad]name=2", 'prefs={"theme": "dark"}', 'quoted="a b; c"'],
)
def test_a_malformed_cookie_from_another_application_keeps_the_session(
    client: TestClient, session: Session, third_party: str
) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    # Another application on the same domain set a cookie this site would never write; the
    # browser sends it first, before ours.
    ours = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    header = {"cookie": f"{third_party}; {ours}"}
    response = client.post(
        "/account/locale",
        data={"locale": "fr", "csrf_token": client.cookies[CSRF_COOKIE]},
        headers=header,
    )
    assert response.status_code == 303
    # The browser's token is kept: no fresh one replaces it.
    assert not any(h.startswith(f"{CSRF_COOKIE}=") for h in response.headers.get_list("set-cookie"))
    session.refresh(user)
    assert user.locale == "fr"
    account = client.get("/account", headers=header)
    assert account.status_code == 200
    assert account.headers["cache-control"] == "no-store"


def test_logging_in_again_replaces_the_browsers_session(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    first = client.cookies[SESSION_COOKIE]
    login(client, user.email, PASSWORD)
    assert client.cookies[SESSION_COOKIE] != first
    assert len(session.exec(select(UserSession)).all()) == 1
    replay = TestClient(client.app)
    replay.cookies.set(SESSION_COOKIE, first)
    assert replay.get("/api/me").status_code == 401


def test_data_export_lists_the_sessions_without_their_ids(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="awa@example.org")
    client.headers["user-agent"] = "LaptopBrowser/2.0"
    login(client, user.email, PASSWORD)
    sessions = client.get("/api/me/data").json()["sessions"]
    assert [s["user_agent"] for s in sessions] == ["LaptopBrowser/2.0"]
    assert "id" not in sessions[0] and sessions[0]["expires_at"]


def test_a_form_sent_after_the_session_ended_says_nothing_was_saved_and_leads_back(
    client: TestClient, session: Session, app_state: object
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="fr")
    make_expert(session, user=user)
    login(client, user.email, PASSWORD)
    token = csrf_token(client)
    session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.post(
        "/expert/profile",
        data={"csrf_token": token, "display_name": "Awa"},
        headers={"referer": "http://testserver/expert/profile?from=walk"},
    )
    # Before, the log-in page came back without a word, and would have led to the address the
    # form posted to (a POST-only one for an offer's answer) once logged in.
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/expert/profile%3Ffrom%3Dwalk"
    page = client.get(response.headers["location"])
    told = [
        m.get_text(" ", strip=True)
        for m in BeautifulSoup(page.text, "html.parser").select(".messages .message")
    ]
    assert told == [
        "Votre session avait pris fin : ce que vous avez envoyé n'a donc pas été enregistré. "
        "Reconnectez-vous, puis envoyez-le de nouveau."
    ]
