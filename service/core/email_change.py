"""An email change waits for the new address to confirm it.

Asking (with the account's password) keeps the address in `User.pending_email` and mails a
link to it, and a notice to the address in use; the email itself does not change, so a typo
in the new address cuts no one off. The link carries a token made as the password reset's
is (itsdangerous, timed, signed with the site's secret) naming the account, the address
waiting and the fingerprint of the account's email and password hash: it dies when it expires
(`email_confirm_max_age_s`), once used (the email it was made for is gone), when the change is
cancelled or another address is asked for, and when the password changes. A new password
(changed or reset) cancels the change waiting outright (accounts._password_set): whoever
asked for it knew the old password, which the owner has just replaced, so the link is not
kept alive, and the account page, the flash and the link's page all say it is cancelled.
Confirming is one conditional update on the email and the address waiting; what follows is
today's email change (accounts.apply_email_change). Links mailed (asked or sent again) are
counted per account and per address, as password reset links are (service.core.guesses): too
many within the window are refused, so the account page cannot flood an inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.config import Settings
from service.core import accounts, guesses, notifications
from service.core.audit import record
from service.core.password_reset import account_of_token, fingerprint
from service.errors import FieldConflict, FieldErrors, TooManyAttempts
from service.i18n import N_
from service.models import User
from service.models.types import utcnow
from service.repos import audit as audit_repo
from service.repos import users as users_repo

SALT = "homeward.email-change"
LINK_INVALID = N_(
    "This confirmation link has expired, has already been used, or was replaced by a newer "
    "one. Ask for the change again from your account page."
)
CANCELLED_BY_PASSWORD = N_(
    "This email change was cancelled because the account's password was changed after it "
    "was asked. Ask for it again from your account page if you still want it."
)
NOTHING_WAITING = N_("No email change is waiting for confirmation.")
TOO_MANY_LINKS = N_(
    "Too many confirmation links were sent lately. Please wait before asking for another one; "
    "a link already sent still works until it expires."
)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def make_token(user: User, *, settings: Settings) -> str:
    """Makes the token of the confirmation link of an account's pending address."""
    return _serializer(settings).dumps(
        {"u": user.id, "e": user.pending_email, "f": fingerprint(user)}
    )


def confirm_link(token: str) -> str:
    """Gets the site path a confirmation link opens."""
    return f"/account/email/confirm?token={quote(token)}"


def _count_link(
    session: Session, *, user: User, email: str, settings: Settings, now: datetime
) -> None:
    """Counts one link mailed to an address for an account; too many lately: TooManyAttempts."""
    keys = guesses.confirm_link_keys(user=user, email=email)
    wait = guesses.retry_after_s(session, keys=keys, settings=settings, now=now)
    if wait is not None:
        raise TooManyAttempts(TOO_MANY_LINKS, retry_after_s=wait)
    guesses.note_attempt(session, keys=keys, now=now)


def _send_link(session: Session, *, user: User, settings: Settings, now: datetime) -> None:
    url = settings.public_base_url.rstrip("/") + confirm_link(make_token(user, settings=settings))
    expires = now + timedelta(seconds=settings.email_confirm_max_age_s)
    notifications.email_change_link(session, user=user, url=url, expires_at=expires)


def request_change(
    session: Session,
    *,
    user: User,
    password: str,
    email: str,
    settings: Settings,
    now: datetime | None = None,
) -> str | None:
    """Asks to change an account's email, once its password is given: the address waits and a
    confirmation link is mailed to it, a notice to the address in use. Returns the address
    waiting; None when it is the email already (any change waiting is dropped). An address
    another account uses: FieldConflict on `email`; too many links mailed lately for the account
    or to the address: TooManyAttempts."""
    guesses.confirm_password(
        session, user=user, password=password, field="password", settings=settings
    )
    email = users_repo.normalise_email(email)
    if email == user.email:
        user.pending_email = None
        session.add(user)
        return None
    if users_repo.email_taken(session, email):
        raise FieldConflict({"email": accounts.EMAIL_TAKEN})
    now = now or utcnow()
    _count_link(session, user=user, email=email, settings=settings, now=now)
    user.pending_email = email
    session.add(user)
    _send_link(session, user=user, settings=settings, now=now)
    notifications.email_change_asked(session, user=user, settings=settings, now=now)
    record(
        session,
        actor=user,
        action="user.email_change_requested",
        entity_type="user",
        entity_id=user.id,
    )
    return email


def resend(session: Session, *, user: User, settings: Settings, now: datetime | None = None) -> str:
    """Mails the confirmation link again to the address waiting; returns it. Nothing waiting:
    FieldErrors on `email`; too many links mailed lately for the account or to the address:
    TooManyAttempts."""
    if user.pending_email is None:
        raise FieldErrors({"email": NOTHING_WAITING})
    now = now or utcnow()
    _count_link(session, user=user, email=user.pending_email, settings=settings, now=now)
    _send_link(session, user=user, settings=settings, now=now)
    return user.pending_email


def cancel(session: Session, *, user: User) -> None:
    """Drops the change waiting, if any: its link opens nothing any more."""
    if user.pending_email is not None:
        user.pending_email = None
        session.add(user)
        record(
            session,
            actor=user,
            action="user.email_change_cancelled",
            entity_type="user",
            entity_id=user.id,
        )


def user_for_token(session: Session, *, token: str, settings: Settings) -> User | None:
    """Finds the active account whose waiting address a token still confirms; None when it is
    forged, expired, spent, replaced or cancelled, or the password changed since."""
    found = account_of_token(
        session,
        serializer=_serializer(settings),
        token=token,
        max_age_s=settings.email_confirm_max_age_s,
    )
    if found is None:
        return None
    user, data = found
    if user.pending_email is None or data.get("e") != user.pending_email:
        return None
    return user


def confirm(
    session: Session,
    *,
    token: str,
    settings: Settings,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> User:
    """Makes the waiting address the account's email through its link, with what follows an
    email change. A dead link: FieldErrors on `token`; an address another account took
    meanwhile: FieldConflict on `email` (nothing changes, the change still waits)."""
    user = user_for_token(session, token=token, settings=settings)
    if user is None or user.pending_email is None:
        raise FieldErrors({"token": dead_link_message(session, token=token, settings=settings)})
    new = user.pending_email
    if users_repo.email_taken(session, new):
        raise FieldConflict({"email": accounts.EMAIL_TAKEN})
    previous = user.email
    try:
        # A savepoint: another account taking the address in the same instant is a conflict.
        with session.begin_nested():
            taken = users_repo.take_pending_email(
                session, user_id=user.id or 0, old=previous, new=new
            )
    except IntegrityError:
        raise FieldConflict({"email": accounts.EMAIL_TAKEN}) from None
    if not taken:
        raise FieldErrors({"token": LINK_INVALID})
    session.refresh(user)
    accounts.apply_email_change(
        session, user=user, previous=previous, settings=settings, keep_session=keep_session, now=now
    )
    return user


_CHANGE_ACTIONS = [
    "user.email_change_requested",
    "user.email_change_cancelled",
    "user.email_changed",
]
_PASSWORD_ACTIONS = ("user.password_changed", "user.password_reset")


def dead_link_message(session: Session, *, token: str, settings: Settings) -> str:
    """Says why a confirmation link opens nothing: the change it confirms was cancelled by a
    new password (the latest thing that befell the change, asked no later than the link was
    made), or else the general words (expired, used, replaced, cancelled, forged)."""
    try:
        data, issued = _serializer(settings).loads(
            token, max_age=settings.email_confirm_max_age_s, return_timestamp=True
        )
    except BadData:
        return LINK_INVALID
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return LINK_INVALID
    user = users_repo.get_user(session, data["u"])
    if user is None or not user.active or user.pending_email is not None:
        return LINK_INVALID
    events = audit_repo.latest_actions(
        session, entity_type="user", entity_id=user.id or 0, actions=_CHANGE_ACTIONS
    )
    if not events or events[0].data.get("by") not in _PASSWORD_ACTIONS:
        return LINK_INVALID
    asked = next((e for e in events if e.action == "user.email_change_requested"), None)
    # A link made before the change last asked was replaced by that one, not cancelled.
    if asked is None or issued < asked.at - timedelta(seconds=1):
        return LINK_INVALID
    return CANCELLED_BY_PASSWORD
