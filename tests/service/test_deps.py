"""Dependencies: those that do no I/O run on the event loop (no thread hop), the user, reader
and unread count are looked up in one worker-thread call, every request hands its database
connection back; templates are read once outside development's --reload."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service import deps
from service.config import Settings
from service.core.policy import Action
from service.main import create_app
from service.models import Role
from service.routes.pagination import get_page
from service.routes.search_params import get_search_page_request, get_search_request
from service.security import SESSION_COOKIE, SessionSigner
from service.state import AppState
from service.templating import templates
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_user


def _allowed_dependency() -> Callable[..., Any]:
    depends: Any = deps.allowed(Action.COORDINATE)
    dependency: Callable[..., Any] = depends.dependency
    return dependency


@pytest.mark.parametrize(
    "dependency",
    [
        get_page,
        get_search_request,
        get_search_page_request,
        deps.get_state,
        deps.get_optional_user,
        deps.get_current_user,
        deps.get_session_user,
        deps.get_session_id,
        deps.get_reader,
        deps.load_page_frame,
        deps.verify_csrf,
        _allowed_dependency(),
    ],
)
def test_dependencies_that_do_no_io_run_on_the_loop(dependency: Callable[..., Any]) -> None:
    assert inspect.iscoroutinefunction(dependency)


def test_the_database_session_opens_and_closes_on_the_loop() -> None:
    assert inspect.isasyncgenfunction(deps.get_session)


def _closing(engine: Engine) -> list[str]:
    """A database server's rollback at the session's end is a round trip: a worker thread's."""
    return [] if engine.dialect.name == "sqlite" else ["close"]


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the calls the identity dependencies hand to a worker thread."""
    calls: list[str] = []
    handed = run_in_threadpool

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(func.__name__)
        return await handed(func, *args, **kwargs)

    monkeypatch.setattr(deps, "run_in_threadpool", counted)
    return calls


def test_a_page_looks_up_user_reader_and_unread_count_in_one_call(
    client: TestClient, session: Session, engine: Engine, hops: list[str]
) -> None:
    user = make_user(session)
    make_expert(session, user=user)
    login(client, user.email, PASSWORD)
    hops.clear()
    response = client.get("/expert/needs")
    assert response.status_code == 200
    assert hops == ["_look_up", *_closing(engine)]


def test_an_api_call_looks_up_user_and_reader_in_one_call(
    client: TestClient, session: Session, engine: Engine, hops: list[str]
) -> None:
    user = make_user(session, role=Role.COORDINATOR)
    login(client, user.email, PASSWORD)
    hops.clear()
    assert client.get("/api/experts?q=anything").status_code == 200
    assert hops == ["_look_up", *_closing(engine)]


def test_a_visitor_without_a_valid_session_costs_no_look_up(
    client: TestClient, session: Session, engine: Engine, app_state: AppState, hops: list[str]
) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/expert").status_code == 303
    # The landing page's figures are a query: its session ends with a rollback.
    assert hops == _closing(engine)
    user = make_user(session)
    login(client, user.email, PASSWORD)
    token = app_state.signer.loads(client.cookies[SESSION_COOKIE])
    assert token is not None
    forged = SessionSigner("another-secret-key-entirely-000000", max_age_s=3600).dumps(token)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged)
    hops.clear()
    assert client.get("/").status_code == 200
    assert client.get("/api/me").status_code == 401
    assert hops == _closing(engine)


def test_every_request_hands_its_connection_back(
    client: TestClient, session: Session, engine: Engine
) -> None:
    user = make_user(session)
    make_expert(session, user=user)
    login(client, user.email, PASSWORD)
    moves: list[str] = []

    def checked_out(*_: Any) -> None:
        moves.append("out")

    def checked_in(*_: Any) -> None:
        moves.append("in")

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
    try:
        assert client.get("/expert").status_code == 200
        assert client.get("/notifications").status_code == 200
        assert client.get("/api/me").status_code == 200
        assert client.get("/coordinator").status_code == 403
        assert client.get("/nowhere").status_code == 404
        refused = client.post("/notifications/read-all", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        done = client.post("/notifications/read-all", data={"csrf_token": csrf_token(client)})
        assert done.status_code == 303
    finally:
        event.remove(engine, "checkout", checked_out)
        event.remove(engine, "checkin", checked_in)
    assert moves and moves.count("out") == moves.count("in")


def test_templates_are_read_once_unless_reloading_is_asked(app_state: AppState) -> None:
    before = templates.env.auto_reload
    try:
        create_app(state=app_state)
        assert templates.env.auto_reload is False
        reloading = Settings(**{**app_state.settings.model_dump(), "template_reload": True})
        create_app(settings=reloading, state=app_state)
        assert templates.env.auto_reload is True
    finally:
        templates.env.auto_reload = before
