"""Dependencies: those that do no I/O run on the event loop, so a page pays few thread hops;
templates are read once outside development's --reload."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service import deps
from service.config import Settings
from service.main import create_app
from service.models import Role
from service.routes.pagination import get_page
from service.routes.search_params import get_search_request
from service.state import AppState
from service.templating import templates
from tests.conftest import login
from tests.factories import PASSWORD, make_user


@pytest.mark.parametrize(
    "dependency",
    [
        deps.get_state,
        deps.get_current_user,
        deps.get_session_user,
        deps.get_session_id,
        deps.get_reader,
        get_page,
        get_search_request,
    ],
)
def test_dependencies_that_do_no_io_run_on_the_loop(dependency: Callable[..., Any]) -> None:
    assert inspect.iscoroutinefunction(dependency)


def test_a_page_pays_four_thread_hops(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user and reader, the unread count, the page itself, and closing the session: nine
    # before, one per sync dependency.
    coordinator = make_user(session, role=Role.COORDINATOR)
    login(client, coordinator.email, PASSWORD)
    hops = 0
    run_sync = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await run_sync(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    assert client.get("/coordinator").status_code == 200
    assert hops == 4


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
