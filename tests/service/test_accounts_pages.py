"""Registration, log-in, log-out and password change through the real forms."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.i18n import translations_for
from service.models import ExpertProfile, Institution, LoginFailure, User, UserSession
from service.security import SESSION_COOKIE
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user


def _register(client: TestClient, path: str, **fields: str) -> Any:
    data = {
        "password": "a-long-password",
        "locale": "fr",
        "consent_terms": "on",
        "csrf_token": csrf_token(client),
    }
    data.update(fields)
    return client.post(path, data=data)


def _register_expert(client: TestClient, **overrides: str) -> Any:
    expert = {"display_name": "Awa Diallo", "email": "awa@example.org", "consent_matching": "on"}
    return _register(client, "/register/expert", **{**expert, **overrides})


def _register_institution(client: TestClient, **overrides: str) -> Any:
    institution = {
        "display_name": "Moussa Ndiaye",
        "email": "moussa@ucad.example",
        "institution_name": "Faculté de médecine, UCAD",
        "institution_type": "university",
        "country": "sn",
        "city": "Dakar",
    }
    return _register(client, "/register/institution", **{**institution, **overrides})


def _error_beside(html: str, field: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    error = soup.select_one(f"#{field}-error")
    assert error is not None, f"no error shown beside {field}"
    # The error first, then the field's help if it has one.
    described = soup.select_one(f"#{field}")["aria-describedby"].split()  # type: ignore[index, union-attr]
    assert described[0] == f"{field}-error" and set(described[1:]) <= {f"{field}-help"}
    return error.get_text()


def test_expert_registers_and_lands_on_profile(client: TestClient, session: Session) -> None:
    response = _register_expert(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/expert/profile"
    user = session.exec(select(User).where(User.email == "awa@example.org")).one()
    assert user.role == "expert" and user.locale == "fr"
    assert user.password_hash.startswith("$argon2id$")
    profile = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
    assert profile.consent_terms_at is not None and profile.consent_matching_at is not None
    page = client.get("/expert/profile")
    assert page.status_code == 200
    assert "Awa Diallo" in page.text


def test_taken_email_is_refused_beside_the_field(client: TestClient, session: Session) -> None:
    make_user(session, email="awa@example.org")
    response = _register_expert(client, email="AWA@example.org ")
    assert response.status_code == 422
    assert "already uses this email" in _error_beside(response.text, "email")
    assert len(session.exec(select(User)).all()) == 1


def test_malformed_email_and_short_password_are_refused(
    client: TestClient, session: Session
) -> None:
    response = _register_expert(client, email="not-an-email", password="short")
    assert response.status_code == 422
    assert "valid email" in _error_beside(response.text, "email")
    assert _error_beside(response.text, "password") == "This password is too short."
    assert session.exec(select(User)).all() == []
    # What was typed comes back, except the password.
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("#display_name")["value"] == "Awa Diallo"  # type: ignore[index]
    assert soup.select_one("#password").get("value") is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "overrides",
    [{"consent_terms": ""}, {"consent_terms": "", "password": "short"}],
    ids=["consent-only", "with-other-errors"],
)
def test_registration_needs_consent(
    client: TestClient, session: Session, overrides: dict[str, str]
) -> None:
    response = _register_expert(client, **overrides)
    assert response.status_code == 422
    # Named with the other errors at once: before, the unticked box was only named once every
    # other field was right, a second refusal.
    assert "privacy" in _error_beside(response.text, "consent_terms")
    if "password" in overrides:
        assert "too short" in _error_beside(response.text, "password")
    assert session.exec(select(User)).all() == []


def test_institution_left_without_a_country_is_asked_to_choose_one(
    client: TestClient, session: Session
) -> None:
    client.headers["Accept-Language"] = "fr"
    response = _register_institution(client, country="", consent_terms="")
    assert response.status_code == 422
    # In the reader's language, and not about ISO codes: the list was left on its prompt.
    assert _error_beside(response.text, "country").strip() == "Choisissez un pays."
    assert "confidentialité" in _error_beside(response.text, "consent_terms")
    assert session.exec(select(Institution)).all() == []


def test_institution_registers_pending_verification(client: TestClient, session: Session) -> None:
    response = _register_institution(client)
    assert response.status_code == 303
    institution = session.exec(select(Institution)).one()
    assert institution.country == "SN" and not institution.verified
    home = client.get("/institution")
    soup = BeautifulSoup(home.text, "html.parser")
    assert "En attente de vérification" in soup.get_text()  # registered in French
    # No "Post a need" button yet: a pending institution writes drafts, and is told so.
    assert soup.find("a", class_="button", href="/institution/needs/new") is None
    assert soup.select_one("[data-review=pending] a[href='/institution/needs/new']") is not None
    form = BeautifulSoup(client.get("/institution/needs/new").text, "html.parser")
    # A new need is open or a draft, and only a verified institution publishes.
    assert [o["value"] for o in form.select("select[name=status] option")] == ["draft"]
    assert client.get("/institution/experts").status_code == 403


def test_login_and_logout(client: TestClient, session: Session) -> None:
    make_user(session, email="awa@example.org")
    login(client, "awa@example.org", PASSWORD)
    assert client.get("/api/me").json()["email"] == "awa@example.org"
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_wrong_password_and_unknown_email_read_the_same(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="awa@example.org")
    wrong = client.post(
        "/login",
        data={
            "email": "awa@example.org",
            "password": "nope-nope-nope",
            "csrf_token": csrf_token(client),
        },
    )
    unknown = client.post(
        "/login",
        data={
            "email": "nobody@example.org",
            "password": "nope-nope-nope",
            "csrf_token": csrf_token(client),
        },
    )
    assert wrong.status_code == unknown.status_code == 422
    texts = [
        BeautifulSoup(r.text, "html.parser").select_one(".form-error").get_text()
        for r in (wrong, unknown)
    ]  # type: ignore[union-attr]
    assert texts[0] == texts[1] == "Wrong email or password."
    assert SESSION_COOKIE not in client.cookies


def test_ten_failures_lock_the_account_out(client: TestClient, session: Session) -> None:
    make_user(session, email="awa@example.org")
    for _ in range(10):
        client.post(
            "/login",
            data={
                "email": "awa@example.org",
                "password": "wrong-password",
                "csrf_token": csrf_token(client),
            },
        )
    response = client.post(
        "/login",
        data={"email": "awa@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in client.cookies
    # An unknown email is locked out the same way: the lock reveals nothing.
    for _ in range(10):
        client.post(
            "/login",
            data={
                "email": "nobody@example.org",
                "password": "x" * 12,
                "csrf_token": csrf_token(client),
            },
        )
    other = client.post(
        "/login",
        data={
            "email": "nobody@example.org",
            "password": "x" * 12,
            "csrf_token": csrf_token(client),
        },
    )
    assert other.status_code == 429
    assert "Too many attempts" in other.text
    # Each wrong password counted against its email and against the address.
    assert len(session.exec(select(LoginFailure)).all()) == 40


def test_password_change_ends_other_sessions(
    client: TestClient, make_client: object, session: Session
) -> None:
    make_user(session, email="awa@example.org")
    other = make_client()  # type: ignore[operator]
    login(client, "awa@example.org", PASSWORD)
    login(other, "awa@example.org", PASSWORD)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 200
    assert other.get("/api/me").status_code == 401


def test_password_change_with_wrong_current_password(client: TestClient, session: Session) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, "awa@example.org", PASSWORD)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not-the-password",
            "new_password": "a-brand-new-password",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 422
    assert "not your current password" in _error_beside(response.text, "current_password")
    assert client.get("/api/me").status_code == 200
    assert len(session.exec(select(UserSession).where(UserSession.user_id == user.id)).all()) == 1


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
@pytest.mark.parametrize("path", ["/register/expert", "/register/institution"])
def test_a_short_password_shows_its_help_once_and_its_error_once(
    locale: str, path: str, client: TestClient
) -> None:
    data = {
        "display_name": "Awa Diallo",
        "email": "awa@example.org",
        "password": "short",
        "consent_terms": "on",
        "csrf_token": csrf_token(client),
    }
    response = client.post(path, data=data, headers={"accept-language": locale})
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    field = soup.select_one("#password")
    assert field is not None and field.parent is not None
    help_text = soup.select_one("#password-help").get_text(strip=True)  # type: ignore[union-attr]
    error = soup.select_one("#password-error").get_text(strip=True)  # type: ignore[union-attr]
    assert field["aria-describedby"] == "password-error password-help"
    assert field["aria-invalid"] == "true"
    catalogue = translations_for(locale)
    assert help_text == catalogue.gettext("At least 10 characters.")
    assert error == catalogue.gettext("This password is too short.")
    # Each said once in the field: the error does not repeat the help, nor the help the error.
    said = field.parent.get_text(" ", strip=True)
    assert said.count(help_text) == 1 and said.count(error) == 1
    assert help_text not in error and "10" not in error
