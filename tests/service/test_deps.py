"""Dependencies: the request parsers that do no I/O run on the event loop (no thread hop);
templates are read once outside development's --reload."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from service.config import Settings
from service.main import create_app
from service.routes.pagination import get_page
from service.routes.search_params import get_search_page_request, get_search_request
from service.state import AppState
from service.templating import templates


@pytest.mark.parametrize(
    "dependency",
    [get_page, get_search_request, get_search_page_request],
)
def test_dependencies_that_do_no_io_run_on_the_loop(dependency: Callable[..., Any]) -> None:
    assert inspect.iscoroutinefunction(dependency)


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
