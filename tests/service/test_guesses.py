"""Password guessing (service.core.guesses): every operation that checks a logged-in person's
password (the email and password changes, the account's deletion, on the site and over the
API) counts wrong ones per account under the log-in's limit; past it the operation is refused
beside the password's field (a page: 429, as the log-in page; the API: 429 with Retry-After),
a right password included, until the lock-out has passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import Settings
from service.core import guesses
from service.core.accounts import create_api_token
from service.errors import FieldErrors, TooManyWrongPasswords
from service.models import LoginFailure, Role, User
from service.models.types import utcnow
from service.schemas.errors import InvalidRequestBody
from service.security import verify_password
from tests.factories import PASSWORD, make_expert, make_user
from tests.service.pages.helpers import error_beside, log_in_as, post_form, soup_of, text_of

OLD = "aminata.toure@hopital-bamako.ml"
NEW = "a.toure@sante-sahel.org"
NEW_PASSWORD = "Kayes-Niger-2026!"
WRONG = ["Bamako2025", "aminata1987", "hopital-bamako", "Toure!2026", "motdepasse123"]
TOO_MANY_FR = "Trop de mots de passe erronés. Patientez quelques minutes et réessayez."
TOO_MANY_EN = "Too many wrong passwords. Please wait a few minutes and try again."
WRONG_FR = "Ce n'est pas votre mot de passe actuel."


def _expert(session: Session, *, email: str = OLD) -> User:
    user = make_user(session, role=Role.EXPERT, email=email, locale="fr")
    make_expert(
        session,
        user=user,
        display_name="Aminata Touré",
        headline="Médecin urgentiste, organisation des services d'urgence",
        skills=["médecine d'urgence", "triage"],
        origin_country="ML",
        residence_country="FR",
    )
    session.commit()
    return user


def _guess(n: int) -> str:
    return f"{WRONG[n % len(WRONG)]}-{n}"


def _outlive_the_lockout(session: Session, settings: Settings) -> None:
    """Moves every counted wrong password back past the lock-out, as time would."""
    hold = timedelta(seconds=max(settings.login_window_s, settings.login_lockout_s) + 1)
    for failure in session.exec(select(LoginFailure)).all():
        failure.at -= hold
        session.add(failure)
    session.commit()


def _reloaded(session: Session, user: User) -> User:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found


# The account page: the email and password forms.


def test_the_email_form_is_refused_beside_the_password_after_too_many_wrong_ones(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _expert(session)
    log_in_as(client, OLD)
    for n in range(settings.login_max_failures):
        response = post_form(client, "/account/email", {"email": NEW, "password": _guess(n)})
        assert response.status_code == 422
        assert error_beside(response, "password") == WRONG_FR
    response = post_form(client, "/account/email", {"email": NEW, "password": PASSWORD})
    assert response.status_code == 429
    assert error_beside(response, "password") == TOO_MANY_FR
    soup = soup_of(response)
    assert soup.select_one("#email")["value"] == NEW  # type: ignore[index]
    summary = soup.select_one("form[action='/account/email'] .error-summary")
    assert TOO_MANY_FR in text_of(summary)
    assert _reloaded(session, user).email == OLD

    _outlive_the_lockout(session, settings)
    response = post_form(client, "/account/email", {"email": NEW, "password": PASSWORD})
    assert response.status_code == 303
    # Let through, the change waits for the new address to confirm it.
    assert (_reloaded(session, user).email, _reloaded(session, user).pending_email) == (OLD, NEW)


def test_the_password_form_is_refused_beside_the_current_password(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _expert(session)
    log_in_as(client, OLD)
    for n in range(settings.login_max_failures):
        response = post_form(
            client,
            "/account/password",
            {"current_password": _guess(n), "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 422
    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 429
    assert error_beside(response, "current_password") == TOO_MANY_FR
    assert verify_password(_reloaded(session, user).password_hash, PASSWORD)

    _outlive_the_lockout(session, settings)
    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert verify_password(_reloaded(session, user).password_hash, NEW_PASSWORD)


def test_the_deletion_form_is_refused_beside_the_password(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _expert(session)
    log_in_as(client, OLD)
    for n in range(settings.login_max_failures):
        response = post_form(client, "/account/delete", {"password": _guess(n)})
        assert response.status_code == 422
        assert error_beside(response, "password") == WRONG_FR
    response = post_form(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 429
    assert error_beside(response, "password") == TOO_MANY_FR
    assert _reloaded(session, user).active

    _outlive_the_lockout(session, settings)
    assert post_form(client, "/account/delete", {"password": PASSWORD}).status_code == 303
    erased = _reloaded(session, user)
    assert not erased.active
    # Erasing the account forgets its wrong passwords too.
    assert session.exec(select(LoginFailure)).all() == []


# The API, with a personal token.


def _bearer(session: Session, user: User) -> dict[str, str]:
    token = create_api_token(session, user=user, name="Tableau de garde")
    session.commit()
    return {"authorization": f"Bearer {token}"}


def _assert_refused_naming_password(response: Any, settings: Settings) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= max(settings.login_window_s, settings.login_lockout_s)
    body = InvalidRequestBody.model_validate(response.json())
    assert [(e.field, e.message) for e in body.errors] == [("password", TOO_MANY_EN)]
    assert body.detail == f"password: {TOO_MANY_EN}"


def test_the_api_email_change_answers_429_with_retry_after(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _expert(session)
    headers = _bearer(session, user)
    for n in range(settings.login_max_failures):
        response = client.post(
            "/api/me/email", json={"email": NEW, "password": _guess(n)}, headers=headers
        )
        assert response.status_code == 422
        assert "retry-after" not in response.headers
    response = client.post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=headers
    )
    _assert_refused_naming_password(response, settings)
    assert _reloaded(session, user).email == OLD

    _outlive_the_lockout(session, settings)
    response = client.post(
        "/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 202 and response.json() == {"pending_email": NEW}


def test_the_api_deletion_answers_429_with_retry_after(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _expert(session)
    headers = _bearer(session, user)
    for n in range(settings.login_max_failures):
        response = client.post("/api/me/delete", json={"password": _guess(n)}, headers=headers)
        assert response.status_code == 422
    response = client.post("/api/me/delete", json={"password": PASSWORD}, headers=headers)
    _assert_refused_naming_password(response, settings)
    assert _reloaded(session, user).active

    _outlive_the_lockout(session, settings)
    response = client.post("/api/me/delete", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 200 and response.json() == {"status": "deleted"}


def test_the_api_declares_the_429_of_the_operations_that_check_a_password(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    # Changing the email mails a link too: its 429 may name no field (TooManyBody).
    bodies = {"/api/me/email": "TooManyBody", "/api/me/delete": "InvalidRequestBody"}
    for path, body in bodies.items():
        refused = paths[path]["post"]["responses"]["429"]
        schema = refused["content"]["application/json"]["schema"]["$ref"]
        assert schema == f"#/components/schemas/{body}", path
        assert "Retry-After" in refused["headers"], path


# One count per account, whichever operation guesses.


def test_guesses_count_per_account_across_every_operation(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _expert(session)
    other = _expert(session, email="moussa.keita@univ-segou.ml")
    browser = log_in_as(make_client(), OLD)
    headers = _bearer(session, user)
    for n in range(settings.login_max_failures):
        if n % 3 == 0:
            status = post_form(browser, "/account/delete", {"password": _guess(n)}).status_code
        elif n % 3 == 1:
            status = (
                make_client()
                .post("/api/me/email", json={"email": NEW, "password": _guess(n)}, headers=headers)
                .status_code
            )
        else:
            status = post_form(
                browser,
                "/account/password",
                {"current_password": _guess(n), "new_password": NEW_PASSWORD},
            ).status_code
        assert status == 422
    response = post_form(browser, "/account/email", {"email": NEW, "password": PASSWORD})
    assert response.status_code == 429
    # Another account is not held back, and the log-in, counted apart, still lets the person in.
    other_browser = log_in_as(make_client(), other.email)
    assert (
        post_form(other_browser, "/account/email", {"email": NEW, "password": PASSWORD}).status_code
        == 303
    )
    log_in_as(make_client(), OLD)


# The rule itself, at given moments.


def test_the_wait_runs_from_the_oldest_of_the_counted_guesses(
    session: Session, settings: Settings
) -> None:
    user = _expert(session)
    start = utcnow()
    for n in range(settings.login_max_failures):
        with pytest.raises(FieldErrors) as wrong:
            guesses.confirm_password(
                session,
                user=user,
                password=_guess(n),
                field="password",
                settings=settings,
                now=start + timedelta(seconds=5 * n),
            )
        assert wrong.value.errors == {"password": "This is not your current password."}
    last = start + timedelta(seconds=5 * (settings.login_max_failures - 1))
    with pytest.raises(TooManyWrongPasswords) as refused:
        guesses.confirm_password(
            session,
            user=user,
            password=PASSWORD,
            field="password",
            settings=settings,
            now=last + timedelta(seconds=10),
        )
    hold = max(settings.login_window_s, settings.login_lockout_s)
    assert refused.value.retry_after_s == hold - 5 * (settings.login_max_failures - 1) - 10
    # Just past it, the right password is accepted.
    guesses.confirm_password(
        session,
        user=user,
        password=PASSWORD,
        field="password",
        settings=settings,
        now=start + timedelta(seconds=hold + 1),
    )
