"""HSTS under https; personal responses are never stored by a cache, public pages may be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.core.accounts import create_api_token
from service.main import create_app
from service.state import AppState
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def test_hsts_is_sent_under_https_only(app_state: AppState) -> None:
    app = create_app(state=app_state)
    with TestClient(app, base_url="https://homeward.example") as secure:
        assert "max-age=" in secure.get("/").headers["strict-transport-security"]
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/").headers
        # A client cannot claim https through a header the proxy is not trusted to set.
        spoofed = plain.get("/", headers={"x-forwarded-proto": "https"})
        assert "strict-transport-security" not in spoofed.headers


@pytest.fixture
def behind_proxy(app_state: AppState) -> Iterator[TestClient]:
    settings = app_state.settings.model_copy(update={"trust_forwarded_proto": True})
    state = AppState(
        settings=settings, engine=app_state.engine, signer=app_state.signer, search=app_state.search
    )
    with TestClient(create_app(state=state)) as client:
        yield client


def test_hsts_behind_a_trusted_proxy(behind_proxy: TestClient) -> None:
    response = behind_proxy.get("/", headers={"x-forwarded-proto": "https"})
    assert "max-age=" in response.headers["strict-transport-security"]
    assert "strict-transport-security" not in behind_proxy.get("/").headers


@pytest.mark.parametrize(
    "path", ["/account", "/account/data", "/account/data.json", "/api/me", "/api/me/data"]
)
def test_personal_responses_are_not_stored(client: TestClient, session: Session, path: str) -> None:
    user = make_user(session, email="awa@example.org")
    login(client, user.email, PASSWORD)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_api_token_responses_are_not_stored(client: TestClient, session: Session) -> None:
    token = create_api_token(session, user=make_user(session), name="t")
    session.commit()
    response = client.get("/api/me/data", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"


def test_public_pages_stay_cacheable(client: TestClient, session: Session) -> None:
    for path in ("/", "/login", "/static/css/homeward.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("cache-control", ""), path
    login(client, make_user(session).email, PASSWORD)
    assert "no-store" not in client.get("/static/css/homeward.css").headers.get("cache-control", "")
