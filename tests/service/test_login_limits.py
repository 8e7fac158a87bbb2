"""The log-in's limits on wrong passwords (service.core.guesses): one account is guarded by its
own limit from any address, while an address shared by a whole hospital or university has a
separate, much higher limit, so one person's typos do not lock everybody else out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.security import SESSION_COOKIE
from service.state import AppState
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user
from tests.service.pages.helpers import soup_of, text_of

ALICE = "leila.haddad@chu-oran.dz"
BOB = "joao.conceicao@chu-oran.dz"
TYPOS = ["Oran2026", "leila1984", "Haddad!2025", "chu-oran-dz", "motdepasse", "كلمةالسر123"]
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."


@pytest.fixture
def browser_elsewhere(app_state: AppState) -> Iterator[TestClient]:
    """A browser on another network: another client address."""
    app = create_app(state=app_state)
    with TestClient(app, follow_redirects=False, client=("196.200.12.7", 50123)) as client:
        yield client


def _log_in(client: TestClient, email: str, password: str) -> object:
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def _refusal(response: object) -> str:
    return text_of(soup_of(response).select_one(".form-error"))  # type: ignore[arg-type]


def test_the_default_address_limit_is_far_above_the_account_limit() -> None:
    settings = Settings(environment="test", secret_key="x" * 40)
    assert settings.login_max_failures_per_ip >= 10 * settings.login_max_failures


def test_one_persons_typos_lock_their_account_but_not_a_colleague_on_the_same_address(
    client: TestClient, make_client: object, settings: Settings, session: object
) -> None:
    make_user(session, email=ALICE)  # type: ignore[arg-type]
    make_user(session, email=BOB)  # type: ignore[arg-type]
    for n in range(settings.login_max_failures):
        response = _log_in(client, ALICE, f"{TYPOS[n % len(TYPOS)]}{n}")
        assert response.status_code == 422  # type: ignore[attr-defined]
    # Alice herself is refused, her right password included, with how long to wait.
    refused = _log_in(client, ALICE, PASSWORD)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert _refusal(refused) == TOO_MANY
    wait = int(refused.headers["retry-after"])  # type: ignore[attr-defined]
    assert 0 < wait <= max(settings.login_window_s, settings.login_lockout_s)
    # Bob, in the next office behind the same address, logs in.
    colleague = make_client()  # type: ignore[operator]
    response = _log_in(colleague, BOB, PASSWORD)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert SESSION_COOKIE in colleague.cookies


def test_the_account_lock_holds_from_any_address(
    client: TestClient, browser_elsewhere: TestClient, settings: Settings, session: object
) -> None:
    make_user(session, email=ALICE)  # type: ignore[arg-type]
    for n in range(settings.login_max_failures):
        _log_in(client, ALICE, f"{TYPOS[n % len(TYPOS)]}{n}")
    refused = _log_in(browser_elsewhere, ALICE, PASSWORD)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert _refusal(refused) == TOO_MANY
    assert SESSION_COOKIE not in browser_elsewhere.cookies


def test_guessing_across_many_emails_from_one_address_is_refused_at_the_address_limit(
    client: TestClient, browser_elsewhere: TestClient, settings: Settings, session: object
) -> None:
    # A lower address limit than the default keeps the test short; the policy is the same.
    settings.login_max_failures_per_ip = 3 * settings.login_max_failures
    make_user(session, email=BOB)  # type: ignore[arg-type]
    for n in range(settings.login_max_failures_per_ip):
        # One or two guesses per email: no account reaches its own limit.
        email = f"personnel.{n // 2}@chu-oran.dz"
        response = _log_in(client, email, f"{TYPOS[n % len(TYPOS)]}{n}")
        assert response.status_code == 422, n  # type: ignore[attr-defined]
    refused = _log_in(client, BOB, PASSWORD)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert _refusal(refused) == TOO_MANY
    assert int(refused.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert SESSION_COOKIE not in client.cookies
    # Bob's account is not locked: from another address he logs in.
    assert _log_in(browser_elsewhere, BOB, PASSWORD).status_code == 303  # type: ignore[attr-defined]
