"""Password reset: a link sent by email that works once, for a limited time.

The link carries a token signed with the site's secret (itsdangerous, timed) that names the
account and a fingerprint of its current email and password hash; nothing is stored. So the
token dies when it expires (`password_reset_max_age_s`), once it has been used (the password
hash it was made for is gone), when the password is changed any other way, and when the
account's email changes (a link sent to the address left opens nothing). Nothing secret sits
in the database for a leak to reveal, and erasing an account has nothing more to erase.
Setting the password is one conditional update on the hash the token was made for: of two
uses of one link, racing, one wins and the other finds the link spent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlmodel import Session

from service.config import Settings
from service.core import accounts, guesses, notifications
from service.core.audit import record
from service.errors import FieldErrors, TooManyAttempts
from service.i18n import N_
from service.models import User
from service.models.types import utcnow
from service.repos import users as users_repo

SALT = "homeward.password-reset"
LINK_INVALID = N_(
    "This password reset link has expired or has already been used. Ask for a new one."
)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def fingerprint(user: User) -> str:
    """A digest of an account's email and password hash: a token that carries it dies when
    either changes (used here and by the email change's confirmation link)."""
    # A digest, so the token shows nothing of the password hash; it changes with either value.
    return hashlib.sha256(f"{user.email}\x00{user.password_hash}".encode()).hexdigest()[:32]


def make_token(user: User, *, settings: Settings) -> str:
    """Makes the token of a reset link for an account as it is now."""
    return _serializer(settings).dumps({"u": user.id, "f": fingerprint(user)})


def reset_link(token: str) -> str:
    """Gets the site path a reset link opens."""
    return f"/password/reset?token={quote(token)}"


def request_reset(
    session: Session, *, email: str, client_ip: str, settings: Settings, now: datetime | None = None
) -> None:
    """Sends a reset link to the account of an email, if it has an active one; says nothing
    either way. Too many requests for the email or from the address: TooManyAttempts."""
    now = now or utcnow()
    keys = guesses.reset_keys(email=email, client_ip=client_ip)
    wait = guesses.retry_after_s(session, keys=keys, settings=settings, now=now)
    if wait is not None:
        raise TooManyAttempts(retry_after_s=wait)
    guesses.note_attempt(session, keys=keys, now=now)
    user = users_repo.get_user_by_email(session, email)
    if user is None or not user.active or user.deleted_at is not None:
        return
    expires = now + timedelta(seconds=settings.password_reset_max_age_s)
    notifications.password_reset_link(
        session,
        user=user,
        url=settings.public_base_url.rstrip("/") + reset_link(make_token(user, settings=settings)),
        expires_at=expires,
    )
    # Anyone may ask for an account's link: the request is nobody's act but the audit's note.
    record(
        session,
        actor=None,
        action="user.password_reset_requested",
        entity_type="user",
        entity_id=user.id,
    )


def account_of_token(
    session: Session, *, serializer: URLSafeTimedSerializer, token: str, max_age_s: int
) -> tuple[User, dict[str, Any]] | None:
    """Reads a signed account token (this module's, or the email change's): the active account
    it names and what it carries, while it bears that account's current fingerprint; None when
    it is forged, expired, or made before the account's email or password last changed."""
    try:
        data: Any = serializer.loads(token, max_age=max_age_s)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = users_repo.get_user(session, data["u"])
    if user is None or not user.active or user.deleted_at is not None:
        return None
    return (user, data) if data.get("f") == fingerprint(user) else None


def user_for_token(session: Session, *, token: str, settings: Settings) -> User | None:
    """Finds the active account a reset token still opens; None when it is forged, expired,
    spent, or made before the account's email or password last changed."""
    found = account_of_token(
        session,
        serializer=_serializer(settings),
        token=token,
        max_age_s=settings.password_reset_max_age_s,
    )
    return found[0] if found else None


def reset_password(
    session: Session, *, token: str, new: str, settings: Settings
) -> accounts.PasswordSet:
    """Sets a new password through a reset link: the link is spent, every session of the
    account ends, its API tokens are revoked, an email change waiting is cancelled and its
    address is told, as after a password change; the wrong passwords counted against its
    email are forgotten. A dead link: FieldErrors on `token`."""
    user = user_for_token(session, token=token, settings=settings)
    done = (
        None
        if user is None
        else accounts.set_forgotten_password(session, user=user, new=new, settings=settings)
    )
    if done is None:
        raise FieldErrors({"token": LINK_INVALID})
    guesses.forget_wrong_passwords(session, email=done.user.email)
    return done
