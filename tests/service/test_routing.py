"""The operations are added to the application flat, exactly as nested routers would add them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from service import pages, routes
from service.deps import verify_csrf


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
    # The pages keep their own dependencies: the unread count and the reader, after the CSRF check.
    review = next(op for op in flat if op[0] == "/coordinator/needs/{need_id}")
    assert review[4][:3] == [verify_csrf, *(d.dependency for d in pages.DEPENDENCIES)]


def test_the_openapi_document_is_the_nested_routers_one(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    flat = app.openapi()
    nested = _nested_app().openapi()
    assert list(flat["paths"]) == list(nested["paths"])
    assert flat["paths"] == nested["paths"]
    assert flat["components"] == nested["components"]
    assert "/api/experts" in flat["paths"] and "/coordinator" not in flat["paths"]
