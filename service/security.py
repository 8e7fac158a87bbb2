"""Passwords, session cookies, CSRF tokens and personal API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_COOKIE = "homeward_session"
CSRF_COOKIE = "homeward_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# A hash of a random password, verified against when an email is unknown, so that a failed
# log-in takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Hashes a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Checks a password against its hash, in constant time whether or not there is a hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tells whether a hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


class SessionSigner:
    """Signs session cookies around a random session token; one older than `max_age_s` is refused.

    The session itself lives in the database (so that it can be ended); the signature lets a
    forged cookie be turned away without a query.
    """

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="homeward.session")
        self.max_age_s = max_age_s

    def dumps(self, token: str) -> str:
        """Gets the cookie value for a session token."""
        return self._serializer.dumps({"sid": token})

    def loads(self, value: str) -> str | None:
        """Reads a cookie value's session token; None when forged, malformed or expired."""
        try:
            raw: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired):
            return None
        token = raw.get("sid") if isinstance(raw, dict) else None
        return token if isinstance(token, str) and token else None


def new_session_token() -> tuple[str, str]:
    """Makes a session token; returns (token for the cookie, hash stored as the session id)."""
    token = secrets.token_urlsafe(32)
    return token, hash_session_token(token)


def hash_session_token(token: str) -> str:
    """Hashes a session token into the session's id."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    """Makes a random CSRF token for a visitor without a session (kept in a cookie)."""
    return secrets.token_urlsafe(32)


def session_csrf_token(secret_key: str, session_cookie: str) -> str:
    """Gets the CSRF token bound to one session cookie: another session's token never fits."""
    key = hashlib.sha256(b"homeward.csrf|" + secret_key.encode()).digest()
    return hmac.new(key, session_cookie.encode(), hashlib.sha256).hexdigest()


def csrf_tokens_match(expected: str | None, submitted: str | None) -> bool:
    """Compares the expected token with the submitted one in constant time."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def new_api_token() -> tuple[str, str]:
    """Makes a personal API token; returns (token shown once, hash stored)."""
    token = "hw_" + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    """Hashes an API token for storage and look-up (tokens are long and random: no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
