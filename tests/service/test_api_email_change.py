"""An account's email changed through the API (POST /api/me/email, then the token of the link
mailed to the new address), by the same core rule as the account page: the password asked,
nothing changed until the link is followed, both addresses told, every API token revoked (the one
that sent the request included), every other session ended (a cookie request's own continues);
a wrong password or an invalid address is a 422 naming its field, an address in use a 409."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from hypothesis import given, settings
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.indexing import drain_outbox, reindex_all
from service.models import ApiToken, AuditEvent, OutgoingEmail, Role, User
from service.search import SearchBackend
from service.security import CSRF_COOKIE
from tests.factories import PASSWORD, make_expert, make_user
from tests.service.email_links import confirm_by_api, confirm_in_browser, confirmation_token
from tests.service.pages.helpers import log_in_as
from tests.strategies import unique_email

OLD = "nadia.benali@chu-oran.dz"
NEW = "n.benali@sante-maghreb.org"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _csrf(client: TestClient) -> dict[str, str]:
    return {"x-csrf-token": client.cookies[CSRF_COOKIE]}


def _account(session: Session) -> tuple[User, str]:
    user = make_user(session, role=Role.EXPERT, email=OLD, locale="fr")
    make_expert(
        session,
        user=user,
        display_name="Nadia Benali",
        headline="Épidémiologiste, surveillance des maladies infectieuses",
        skills=["épidémiologie", "biostatistique"],
        origin_country="DZ",
        residence_country="CA",
    )
    token = create_api_token(session, user=user, name="Tableur du réseau")
    session.commit()
    return user, token


def _email_of(session: Session, user: User) -> str:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found.email


def _notices(session: Session) -> list[str]:
    rows = session.exec(select(OutgoingEmail).where(OutgoingEmail.kind == "account.email_changed"))
    return sorted(row.to_address for row in rows)


def test_a_token_changes_the_email_and_every_token_ends_its_own_included(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user, token = _account(session)
    other = create_api_token(session, user=user, name="Rapports")
    session.commit()
    browser = log_in_as(make_client(), OLD)
    api = make_client()

    asked = api.post(
        "/api/me/email",
        json={"email": f" {NEW.upper()} ", "password": PASSWORD},
        headers=_bearer(token),
    )
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"pending_email": NEW}
    # Asked, not changed: the email, the tokens and the sessions are as they were.
    assert _email_of(session, user) == OLD
    assert api.get("/api/me", headers=_bearer(token)).status_code == 200
    assert _notices(session) == []

    response = confirm_by_api(make_client(), confirmation_token(session, to=NEW))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": user.id,
        "email": NEW,
        "role": "expert",
        "display_name": user.display_name,
        "locale": "fr",
    }
    assert _email_of(session, user) == NEW
    # The calling token is revoked with the others: a token cannot outlive the log-in it was
    # granted under, whoever holds it.
    assert api.get("/api/me", headers=_bearer(token)).status_code == 401
    assert api.get("/api/me", headers=_bearer(other)).status_code == 401
    assert all(row.revoked_at is not None for row in session.exec(select(ApiToken)).all())
    # Made with a token, the request is in no site session: every session ends.
    gone = browser.get("/account")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert _notices(session) == sorted([OLD, NEW])
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == user.id))
    assert "user.email_changed" in set(actions)
    log_in_as(make_client(), NEW)


def test_a_site_session_changes_the_email_and_continues_while_the_others_end(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user, token = _account(session)
    elsewhere = log_in_as(make_client(), OLD)
    browser = log_in_as(make_client(), OLD)

    response = browser.post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=_csrf(browser)
    )
    assert response.status_code == 202, response.text
    assert response.json()["pending_email"] == NEW
    # The link followed in the browser that asked: its session continues.
    assert confirm_in_browser(browser, confirmation_token(session)).status_code == 303
    assert browser.get("/api/me").json()["email"] == NEW
    assert elsewhere.get("/api/me").status_code == 401
    assert make_client().get("/api/me", headers=_bearer(token)).status_code == 401


def test_a_cookie_request_without_its_csrf_token_is_refused(
    client: TestClient, session: Session
) -> None:
    user, _token = _account(session)
    log_in_as(client, OLD)
    response = client.post("/api/me/email", json={"email": NEW, "password": PASSWORD})
    assert response.status_code == 403
    assert _email_of(session, user) == OLD


def test_a_wrong_password_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    user, token = _account(session)
    response = client.post(
        "/api/me/email",
        json={"email": NEW, "password": "pas-mon-mot-de-passe"},
        headers=_bearer(token),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "password", "message": "This is not your current password."}
    ]
    assert _email_of(session, user) == OLD
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    assert _notices(session) == []


def test_an_invalid_email_is_a_422_naming_it(client: TestClient, session: Session) -> None:
    user, token = _account(session)
    response = client.post(
        "/api/me/email", json={"email": "nadia@", "password": PASSWORD}, headers=_bearer(token)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert _email_of(session, user) == OLD


def test_an_unknown_field_is_refused(client: TestClient, session: Session) -> None:
    user, token = _account(session)
    response = client.post(
        "/api/me/email",
        json={"email": NEW, "password": PASSWORD, "role": "admin"},
        headers=_bearer(token),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["role"]
    assert _email_of(session, user) == OLD


def test_an_address_another_account_uses_is_a_409_naming_the_field(
    client: TestClient, session: Session
) -> None:
    user, token = _account(session)
    make_user(session, role=Role.INSTITUTION, email=NEW)
    response = client.post(
        "/api/me/email", json={"email": NEW.upper(), "password": PASSWORD}, headers=_bearer(token)
    )
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": "email", "message": "Another account already uses this email."}
    ]
    assert _email_of(session, user) == OLD
    # Refused, nothing follows: the token still works and nobody is written to.
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    assert _notices(session) == []


def test_the_current_email_changes_nothing_and_ends_nothing(
    client: TestClient, session: Session
) -> None:
    user, token = _account(session)
    response = client.post(
        "/api/me/email", json={"email": OLD, "password": PASSWORD}, headers=_bearer(token)
    )
    assert response.status_code == 202 and response.json() == {"pending_email": None}
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    assert _notices(session) == []


def test_a_revoked_or_unknown_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=_bearer("hw_nope")
    )
    assert response.status_code == 401


def test_the_roster_finds_the_new_address(
    make_client: Callable[[], TestClient],
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
) -> None:
    user, token = _account(session)
    reindex_all(engine, search_backend)
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR).email)
    response = make_client().post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=_bearer(token)
    )
    assert response.status_code == 202
    assert confirm_by_api(make_client(), confirmation_token(session)).status_code == 200
    drain_outbox(engine, search_backend)
    found = staff.get("/api/experts", params={"q": "epidemiologie"}).json()["items"]
    assert [item["email"] for item in found] == [NEW]


@settings(max_examples=8, deadline=None)
@given(email=unique_email())
def test_any_valid_email_is_saved_and_opens_the_account(
    make_client: Callable[[], TestClient], session: Session, email: str
) -> None:
    user = make_user(session)
    token = create_api_token(session, user=user)
    session.commit()
    response = make_client().post(
        "/api/me/email", json={"email": email, "password": PASSWORD}, headers=_bearer(token)
    )
    assert response.status_code == 202, response.text
    assert response.json()["pending_email"] == email.strip().lower()
    confirmed = confirm_by_api(make_client(), confirmation_token(session))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == email.strip().lower() == _email_of(session, user)
    log_in_as(make_client(), email)
    assert session.exec(select(User).where(col(User.email) == email.lower())).one().id == user.id


def _links_to(session: Session, address: str) -> int:
    session.expire_all()
    kind = OutgoingEmail.kind == "account.email_change_link"
    return len(
        session.exec(select(OutgoingEmail).where(kind, OutgoingEmail.to_address == address)).all()
    )


def test_the_link_is_sent_again_until_the_limit_then_a_429_with_retry_after(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, token = _account(session)
    nothing = client.post("/api/me/email/resend", headers=_bearer(token))
    assert nothing.status_code == 422
    assert [e["field"] for e in nothing.json()["errors"]] == ["email"]
    asked = client.post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=_bearer(token)
    )
    assert asked.status_code == 202
    limit = settings.password_reset_max_per_email
    for _ in range(limit - 1):
        again = client.post("/api/me/email/resend", headers=_bearer(token))
        assert again.status_code == 202 and again.json() == {"pending_email": NEW}
    refused = client.post("/api/me/email/resend", headers=_bearer(token))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= settings.password_reset_window_s
    assert _links_to(session, NEW) == limit
    # Asking for another address mails a link too: refused alike, and nothing changes.
    other = client.post(
        "/api/me/email",
        json={"email": "nadia@exemple.ma", "password": PASSWORD},
        headers=_bearer(token),
    )
    assert other.status_code == 429 and "retry-after" in other.headers
    assert _links_to(session, "nadia@exemple.ma") == 0
    assert client.get("/api/me", headers=_bearer(token)).json()["email"] == OLD
