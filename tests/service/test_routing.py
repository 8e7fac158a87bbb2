"""The operations are added to the application flat, exactly as nested routers would add them."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from service import pages, routes
from service.deps import verify_csrf
from service.main import FlatRoute


def _nested_app() -> FastAPI:
    """The operations under the application as `include_router` nests them: the API's routers
    inside one router declaring the error bodies, the pages' inside one with their
    dependencies, both under the application's CSRF check."""
    app = FastAPI(dependencies=[Depends(verify_csrf)])
    api = APIRouter(responses=routes.API_ERRORS)
    for router in routes.API_ROUTERS:
        api.include_router(router)
    outer = APIRouter()
    for router in routes.ROUTERS:
        outer.include_router(router)
    outer.include_router(api)
    html = APIRouter(include_in_schema=False, dependencies=pages.DEPENDENCIES)
    for router in pages.ROUTERS:
        html.include_router(router)
    app.include_router(outer)
    app.include_router(html)
    return app


def _operations(app: FastAPI) -> list[tuple[Any, ...]]:
    """What decides how each operation answers, in the order they are matched."""
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        found.append(
            (
                context.path,
                sorted(context.methods or ()),
                context.name,
                context.endpoint,
                [depends.dependency for depends in context.dependencies],
                [dependency.call for dependency in context.dependant.dependencies],
                context.include_in_schema,
                context.response_class,
                context.status_code,
                context.unique_id,
            )
        )
    return found


def test_every_operation_is_a_plain_route_of_the_application(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    # Nothing nested: beside the docs and the static files, each route is an operation.
    others = [route.path for route in app.routes if not isinstance(route, APIRoute)]
    assert sorted(others) == [
        "/docs",
        "/docs/oauth2-redirect",
        "/openapi.json",
        "/redoc",
        "/static",
    ]
    operations = [route for route in app.routes if isinstance(route, APIRoute)]
    assert len(operations) == len(_operations(_nested_app()))


def test_flat_operations_answer_as_nested_routers_would(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    flat = _operations(app)
    nested = _operations(_nested_app())
    assert flat == nested
    # The pages keep their own dependency (the user, reader and unread count) after the CSRF check.
    review = next(op for op in flat if op[0] == "/coordinator/needs/{need_id}")
    assert review[4][:2] == [verify_csrf, *(d.dependency for d in pages.DEPENDENCIES)]


def test_the_openapi_document_is_the_nested_routers_one(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    flat = app.openapi()
    nested = _nested_app().openapi()
    assert list(flat["paths"]) == list(nested["paths"])
    assert flat["paths"] == nested["paths"]
    assert flat["components"] == nested["components"]
    assert "/api/experts" in flat["paths"] and "/coordinator" not in flat["paths"]


def _probe_paths(app: FastAPI) -> list[str]:
    """Each operation's path with its parameters filled in, and near misses of it."""
    paths = {"/", "", "/api", "/api/", "/coordinator/", "/static/app.css", "/x"}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for value in ("1", "x", "1/2"):
            path = re.sub(r"{[^}]*}", value, route.path)
            paths.update({path, path + "/", path.rstrip("/"), path[:-1], path + "x"})
    return sorted(paths)


def test_a_flat_route_turns_away_only_what_its_pattern_would(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    flat = [route for route in app.routes if isinstance(route, FlatRoute)]
    assert len(flat) == len([route for route in app.routes if isinstance(route, APIRoute)])
    for path in _probe_paths(app):
        for method in ("GET", "POST"):
            for root_path in ("", "/prefix"):
                scope = {
                    "type": "http",
                    "method": method,
                    "path": root_path + path,
                    "root_path": root_path,
                }
                for route in flat:
                    assert route.matches(dict(scope)) == APIRoute.matches(route, dict(scope)), (
                        route.path,
                        path,
                    )
