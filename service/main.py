"""The FastAPI application: `create_app(settings)` wires everything; nothing heavy at import."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from service import pages, routes
from service.config import Settings, get_settings
from service.core import jobs
from service.db import make_engine
from service.deps import verify_csrf
from service.errors import Conflict, DomainError, FieldErrors, NotAuthenticated
from service.i18n import N_, field_messages
from service.middleware import BodyLimitMiddleware, RequestContextMiddleware
from service.models import User
from service.search import BackendUnavailable
from service.search.factory import make_search_backend
from service.security import SessionSigner
from service.state import AppState
from service.templating import STATIC_DIR, flash, render, sent_from, templates
from service.unreadable_query import (
    UNREADABLE,
    path_unreadable,
    without_unreadable,
)
from service.worker import matching_tasks, run_in_process

log = logging.getLogger(__name__)


# PostgreSQL's serialization_failure and deadlock_detected.
RACE_SQLSTATES = frozenset({"40001", "40P01"})
RACE_MESSAGE = N_(
    "Someone else changed this at the same moment; nothing was saved. "
    "Please reload the page and try again."
)


def _reload_user(request: Request) -> None:
    """Reads the request's user again: the failed transaction expired the copy the page needs."""
    user = getattr(request.state, "user", None)
    if user is None:
        return
    identity = inspect(user).identity
    with Session(request.app.state.homeward.engine, expire_on_commit=False) as session:
        request.state.user = session.get(User, identity[0]) if identity else None


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/openapi.json")


def build_state(settings: Settings) -> AppState:
    """Opens the database and the search backend once for the application's lifetime."""
    engine = make_engine(settings.database_url)
    search = make_search_backend(settings, engine)
    try:
        search.ensure_indexes()
    except BackendUnavailable:
        # Every backend also creates its indexes on first use; the outbox absorbs the outage.
        log.warning("search backend unavailable at start-up; writes queue in the outbox")
    if search.needs_reindex:
        # An index in an older layout was started empty: the worker refills it.
        log.warning("search index layout changed; queued a rebuild from the database")
        with Session(engine) as session:
            jobs.enqueue(session, kind=jobs.REINDEX_SEARCH, key=jobs.REINDEX_SEARCH, again=True)
            session.commit()
    return AppState(
        settings=settings,
        engine=engine,
        signer=SessionSigner(settings.secret_key, max_age_s=settings.session_max_age_s),
        search=search,
    )


def _freeze_startup_heap() -> None:
    """Moves what start-up built (modules, templates, catalogues, the database engine) out of
    the garbage collector's reach, so each collection during a request scans only what
    requests made: `bench/page_profile.py` measured 10.2 → 5.7 ms for the landing page and
    28.4 → 18.0 ms for the need review (docs in bench/README.md)."""
    gc.collect()
    gc.freeze()


class FlatRoute(APIRoute):
    """An operation added flat, that turns a request away on its path's fixed start first.

    The application tries its routes in order, and a page comes after about a hundred others:
    Starlette tries each route's pattern (about 1.5 µs) where a string's `startswith` does
    (0.2 µs). A path that does not begin with the part of the route's path before its first
    parameter cannot match the pattern, so the answer is the one the pattern would give.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.fixed_start = self.path_format.partition("{")[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.fixed_start):
            return Match.NONE, {}
        return super().matches(scope)


def _include_flat(
    app: FastAPI,
    router: APIRouter,
    *,
    dependencies: Sequence[DependsParam] = (),
    responses: dict[int | str, dict[str, Any]] | None = None,
    include_in_schema: bool = True,
) -> None:
    """Adds a router's operations to the application's own list of routes.

    `app.include_router` keeps an included router as one route that walks its own routes on
    every request, twice (to match, then to handle), one level per nested router: a page was
    matched only after about a hundred API operations had been tried that way. Added here, each
    operation is matched once, as a plain route, with the same dependencies (the application's,
    then `dependencies`, then the router's and the operation's own), responses, tags and
    operation id, so the OpenAPI document is the same (tests/service/test_routing.py).
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"only operations can be added flat, not {route!r}")
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=[*dependencies, *route.dependencies],
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses={**(responses or {}), **route.responses},
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema and include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            route_class_override=FlatRoute,
        )


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> FastAPI:
    """Builds the application for these settings (or around an already-built state, in tests)."""
    settings = settings or (state.settings if state else get_settings())
    templates.env.auto_reload = settings.template_reload

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_state = state or build_state(settings)
        app.state.homeward = app_state
        if state is None:
            _freeze_startup_heap()
        worker = run_in_process(app_state) if settings.run_worker_in_process else None
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if state is None:
                app_state.search.close()
                app_state.engine.dispose()

    # The handlers of the matching jobs that changes queue (service.core.changes), for the
    # worker of this process if it runs one.
    matching_tasks.install()
    app = FastAPI(
        title="Homeward",
        version="0.1.0",
        summary="Virtual return: diaspora experts matched to needs in their country of origin.",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
    )
    if state is not None:
        app.state.homeward = state
    app.add_middleware(
        RequestContextMiddleware,
        secret_key=settings.secret_key,
        secure_cookies=settings.cookie_secure,
        trust_forwarded_proto=settings.trust_forwarded_proto,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for router in routes.ROUTERS:
        _include_flat(app, router)
    for router in routes.API_ROUTERS:
        _include_flat(app, router, responses=routes.API_ERRORS)
    for router in pages.ROUTERS:
        _include_flat(app, router, dependencies=pages.DEPENDENCIES, include_in_schema=False)
    _install_error_handlers(app)
    return app


# The log-in page marks this message, so the site's script keeps what the form held.
SESSION_ENDED_CATEGORY = "session-ended"
SESSION_ENDED = N_(
    "Your session had ended, so what you sent was not saved. Log in again, then send it once more."
)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            body: dict[str, object] = {"detail": exc.detail}
            if isinstance(exc, FieldErrors):
                # The same shape as a request FastAPI refuses: one entry per field.
                # Each message in the reader's language (English unless they asked for another).
                body["errors"] = [
                    {"field": field, "message": message}
                    for field, message in field_messages(exc).items()
                ]
            headers = {"www-authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else {}
            retry_after_s = getattr(exc, "retry_after_s", None)
            if retry_after_s is not None:
                headers["retry-after"] = str(retry_after_s)
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if isinstance(exc, NotAuthenticated):
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            # A form sent after the session ended: back to the page it came from once logged
            # in (the address it posted to answers no GET), and told that nothing was saved.
            came_from = sent_from(request)
            target = f"/login?next={quote(came_from)}" if came_from else "/login"
            response = RedirectResponse(target, status_code=303)
            flash(response, request, SESSION_ENDED, SESSION_ENDED_CATEGORY)
            return response
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.message, "params": exc.params},
            status_code=exc.status_code,
        )

    @app.exception_handler(DBAPIError)
    async def database_race(request: Request, exc: DBAPIError) -> Response:
        # A unique constraint met by a racing request, or PostgreSQL giving up one of two
        # deadlocked / serialisation-conflicting transactions: the loser of a race, a 409.
        code = getattr(exc.orig, "sqlstate", None)
        if isinstance(exc, IntegrityError) or code in RACE_SQLSTATES:
            log.info("race lost on %s: %s", request.url.path, exc.orig)
            _reload_user(request)
            return await domain_error(request, Conflict(RACE_MESSAGE))
        log.exception("database error on %s", request.url.path, exc_info=exc)
        return await server_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": str(exc.detail)},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [
                {
                    "field": ".".join(str(part) for part in error["loc"][1:])
                    or str(error["loc"][0]),
                    "message": error["msg"],
                }
                for error in exc.errors()
            ]
            return JSONResponse({"detail": "Invalid request.", "errors": errors}, status_code=422)
        if path_unreadable(exc.errors()):
            return render(request, "error.html", {"status": 404, "message": ""}, status_code=404)
        readable = without_unreadable(request, exc.errors())
        if readable is not None:
            return RedirectResponse(readable, status_code=303)
        return render(
            request, "error.html", {"status": 422, "message": UNREADABLE}, status_code=422
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)
        return render(request, "error.html", {"status": 500, "message": ""}, status_code=500)
