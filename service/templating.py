"""The one Jinja environment: filters, globals, translations and flash messages."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer

from service.i18n import RTL_LOCALES, UI_LOCALES, current_locale, gettext_, ngettext_
from service.security import CSRF_FIELD

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
FLASH_COOKIE = "homeward_flash"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
assert templates.env.autoescape, "templates must autoescape"
_env = templates.env
_env.add_extension("jinja2.ext.i18n")
_env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]


def _format_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


_env.filters["date"] = _format_date
_env.globals["UI_LOCALES"] = UI_LOCALES
_env.globals["CSRF_FIELD"] = CSRF_FIELD


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.homeward.settings.secret_key, salt="homeward.flash")


def flash(response: Response, request: Request, message: str, category: str = "info") -> None:
    """Adds a message shown once on the next page."""
    messages = _read_flash(request) + [{"message": message, "category": category}]
    response.set_cookie(
        FLASH_COOKIE,
        _flash_serializer(request).dumps(messages),
        httponly=True,
        samesite="lax",
        secure=request.app.state.homeward.settings.cookie_secure,
    )
    request.state.flash_consumed = False


def _read_flash(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = _flash_serializer(request).loads(raw)
    except BadSignature:
        return []
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Renders a page with the context every page needs; shown flash messages are cleared."""
    locale = current_locale.get()
    full_context: dict[str, Any] = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "locale": locale,
        "text_direction": "rtl" if locale in RTL_LOCALES else "ltr",
        "messages": _read_flash(request),
        "unread_count": getattr(request.state, "unread_count", 0),
    }
    full_context.update(context or {})
    response = templates.TemplateResponse(request, template, full_context, status_code=status_code)
    if full_context["messages"]:
        response.delete_cookie(FLASH_COOKIE)
    return response


def to_json(value: Any) -> str:
    """Serialises for embedding in a page's data attribute."""
    return json.dumps(value, default=str)
