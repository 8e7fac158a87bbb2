"""ASGI middleware: body size limit, locale, CSRF token, security and caching headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.i18n import current_locale, negotiate_locale
from service.security import CSRF_COOKIE, SESSION_COOKIE, new_csrf_token, session_csrf_token

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


HSTS = "max-age=31536000; includeSubDomains"
NO_STORE = "no-store"


class RequestContextMiddleware:
    """Sets the request's locale and CSRF token, and adds the cookie and security headers.

    A browser with a session echoes a token bound to that session; one without, a random
    token kept in a cookie. Responses to a request carrying credentials are personal: they
    are marked `no-store`, so that no browser or proxy cache keeps them.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        secure_cookies: bool,
        trust_forwarded_proto: bool = False,
    ) -> None:
        self.app = app
        self.secret_key = secret_key
        self.secure_cookies = secure_cookies
        self.trust_forwarded_proto = trust_forwarded_proto

    def _is_https(self, scope: Scope, headers: dict[str, str]) -> bool:
        if self.secure_cookies or scope.get("scheme") == "https":
            return True
        forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return self.trust_forwarded_proto and forwarded == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # Starlette's parser, as `request.cookies` reads them: it skips a malformed cookie
        # (another application's on the same domain) where SimpleCookie drops every one after
        # it, the session's and the CSRF token's among them.
        cookies = cookie_parser(headers.get("cookie", ""))
        locale = negotiate_locale(
            cookies.get(LOCALE_COOKIE), accept_language=headers.get("accept-language", "")
        )
        token_cookie = cookies.get(CSRF_COOKIE)
        session_cookie = cookies.get(SESSION_COOKIE)
        if session_cookie:
            csrf_token = session_csrf_token(self.secret_key, session_cookie)
        else:
            csrf_token = token_cookie or new_csrf_token()
        https = self._is_https(scope, headers)
        personal = bool(session_cookie or "authorization" in headers) and not scope[
            "path"
        ].startswith("/static/")
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csrf_token"] = csrf_token
        state["locale"] = locale
        reset = current_locale.set(locale)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if https:
                    response_headers.setdefault("strict-transport-security", HSTS)
                if personal:
                    response_headers["cache-control"] = NO_STORE
                # Log-in and log-out set the token of the session they open or close.
                sets_token = any(
                    value.startswith(f"{CSRF_COOKIE}=")
                    for value in response_headers.getlist("set-cookie")
                )
                if token_cookie != csrf_token and not sets_token:
                    response_headers.append(
                        "set-cookie", csrf_cookie(csrf_token, secure=self.secure_cookies)
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            current_locale.reset(reset)


def csrf_cookie(token: str, *, secure: bool) -> str:
    """Gets the Set-Cookie value that hands a browser its CSRF token."""
    return f"{CSRF_COOKIE}={token}; Path=/; SameSite=Lax; HttpOnly" + ("; Secure" if secure else "")
