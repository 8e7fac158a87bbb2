"""Passwords, session cookies, CSRF tokens and personal API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SessionData:
    user_id: int
    version: int


class SessionSigner:
    """Signs and reads session cookies; a cookie older than `max_age_s` is refused."""

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="homeward.session")
        self.max_age_s = max_age_s

    def dumps(self, data: SessionData) -> str:
        """Gets the cookie value for a session."""
        return self._serializer.dumps({"uid": data.user_id, "v": data.version})

    def loads(self, value: str) -> SessionData | None:
        """Reads a cookie value; None when forged, malformed or expired."""
        try:
            raw: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(raw, dict):
            return None
        uid, version = raw.get("uid"), raw.get("v")
        if not isinstance(uid, int) or not isinstance(version, int):
            return None
        return SessionData(user_id=uid, version=version)


def new_csrf_token() -> str:
    """Makes a random CSRF token (double-submit: kept in a cookie, echoed by forms)."""
    return secrets.token_urlsafe(32)


def csrf_tokens_match(cookie_token: str | None, submitted: str | None) -> bool:
    """Compares the cookie's token with the submitted one in constant time."""
    if not cookie_token or not submitted:
        return False
    return hmac.compare_digest(cookie_token.encode(), submitted.encode())


def new_api_token() -> tuple[str, str]:
    """Makes a personal API token; returns (token shown once, hash stored)."""
    token = "hw_" + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    """Hashes an API token for storage and look-up (tokens are long and random: no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
