"""The FastAPI application: `create_app(settings)` wires everything; nothing heavy at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.config import Settings, get_settings
from service.db import make_engine
from service.deps import verify_csrf
from service.errors import DomainError, FieldErrors, NotAuthenticated
from service.middleware import BodyLimitMiddleware, RequestContextMiddleware
from service.pages import router as pages_router
from service.routes import router as api_router
from service.search import BackendUnavailable
from service.search.factory import make_search_backend
from service.security import SessionSigner
from service.state import AppState
from service.templating import STATIC_DIR, render
from service.worker import matching_tasks, run_in_process

log = logging.getLogger(__name__)


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
    return AppState(
        settings=settings,
        engine=engine,
        signer=SessionSigner(settings.secret_key, max_age_s=settings.session_max_age_s),
        search=search,
    )


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> FastAPI:
    """Builds the application for these settings (or around an already-built state, in tests)."""
    settings = settings or (state.settings if state else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_state = state or build_state(settings)
        app.state.homeward = app_state
        worker = run_in_process(app_state) if settings.run_worker_in_process else None
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if state is None:
                app_state.search.close()
                app_state.engine.dispose()

    # Every change to an expert or a need schedules its re-matching (run by the worker).
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
    app.include_router(api_router)
    app.include_router(pages_router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            body: dict[str, object] = {"detail": exc.message}
            if isinstance(exc, FieldErrors):
                body["errors"] = exc.errors
            headers = {"www-authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if isinstance(exc, NotAuthenticated):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.message},
            status_code=exc.status_code,
        )

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
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": "Invalid request.", "errors": errors}, status_code=422)
        return render(
            request,
            "error.html",
            {"status": 422, "message": "; ".join(f"{e['field']}: {e['message']}" for e in errors)},
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)
        return render(request, "error.html", {"status": 500, "message": ""}, status_code=500)
