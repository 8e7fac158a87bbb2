"""ASGI middleware: body size limit, locale, CSRF cookie, security headers."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.i18n import current_locale, negotiate_locale
from service.security import CSRF_COOKIE, new_csrf_token

LOCALE_COOKIE = "homeward_locale"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
}


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over a size with a 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_413(send, self.max_bytes)


async def _send_413(send: Send, max_bytes: int) -> None:
    body = json.dumps({"detail": f"Request body too large (limit {max_bytes} bytes)."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Sets the request's locale and CSRF token, and adds the cookie and security headers."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _parse_cookies(headers.get("cookie", ""))
        locale = negotiate_locale(
            cookies.get(LOCALE_COOKIE), accept_language=headers.get("accept-language", "")
        )
        token_cookie = cookies.get(CSRF_COOKIE)
        csrf_token = token_cookie or new_csrf_token()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csrf_token"] = csrf_token
        state["locale"] = locale
        reset = current_locale.set(locale)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if token_cookie is None:
                    flags = "; Path=/; SameSite=Lax; HttpOnly" + (
                        "; Secure" if self.secure_cookies else ""
                    )
                    response_headers.append("set-cookie", f"{CSRF_COOKIE}={csrf_token}{flags}")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            current_locale.reset(reset)


def _parse_cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed cookie header is treated as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
