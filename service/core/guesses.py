"""Password guessing: one limit on every check of a password.

The log-in counts wrong passwords per email and per client address (its caller is unknown);
an action a logged-in person confirms with their password (changing the email or the
password, deleting the account) counts them per account, the caller being known: a stolen
session or API token guesses no faster than the log-in form. An email or an account with
`login_max_failures` wrong passwords within the window is refused until the lock-out period
after them has passed, a right password included, and the refusal says how long to wait.

An address has its own, much higher limit (`login_max_failures_per_ip`): a hospital or a
university reaches the site from one shared address, and one person's typos must not lock
the whole building out. The address limit only stops one machine from guessing across many
accounts; guessing one account is stopped by that account's own limit, from any address.

The same counting, under other keys and limits, refuses too many requests for a password
reset link (`reset_keys`) and too many email-confirmation links (`confirm_link_keys`): neither
form can be used to flood someone's inbox.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel import Session

from service.config import Settings
from service.errors import FieldErrors, TooManyWrongPasswords
from service.i18n import N_
from service.models import User
from service.models.types import utcnow
from service.repos import users as users_repo
from service.security import verify_password

WRONG_PASSWORD = N_("This is not your current password.")


IP_PREFIX = "ip:"
RESET_EMAIL_PREFIX = "reset-email:"
RESET_IP_PREFIX = "reset-ip:"
CONFIRM_USER_PREFIX = "confirm-user:"
CONFIRM_EMAIL_PREFIX = "confirm-email:"


def login_keys(*, email: str, client_ip: str) -> list[str]:
    """Gets what a log-in's wrong passwords count against: the email and the address."""
    return [f"email:{users_repo.normalise_email(email)}", f"{IP_PREFIX}{client_ip}"]


def account_keys(user: User) -> list[str]:
    """Gets what a logged-in person's wrong passwords count against: their account."""
    return [f"user:{user.id}"]


def reset_keys(*, email: str, client_ip: str) -> list[str]:
    """Gets what a request for a password reset link counts against: the email and the address."""
    return [
        f"{RESET_EMAIL_PREFIX}{users_repo.normalise_email(email)}",
        f"{RESET_IP_PREFIX}{client_ip}",
    ]


def confirm_link_keys(*, user: User, email: str) -> list[str]:
    """Gets what mailing an email-confirmation link counts against: the account asking and
    the address it is mailed to (several accounts could aim at one inbox)."""
    return [
        f"{CONFIRM_USER_PREFIX}{user.id}",
        f"{CONFIRM_EMAIL_PREFIX}{users_repo.normalise_email(email)}",
    ]


def _limit_and_hold(key: str, settings: Settings) -> tuple[int, timedelta]:
    """Gets how many counts a key may hold, and for how long each one counts."""
    # Links mailed to one inbox, whichever kind, are limited alike.
    if key.startswith((RESET_EMAIL_PREFIX, CONFIRM_USER_PREFIX, CONFIRM_EMAIL_PREFIX)):
        return settings.password_reset_max_per_email, timedelta(
            seconds=settings.password_reset_window_s
        )
    if key.startswith(RESET_IP_PREFIX):
        return settings.password_reset_max_per_ip, timedelta(
            seconds=settings.password_reset_window_s
        )
    # Refused while the limit-th latest failure is within the window, and for the lock-out
    # period after it even once the window has moved on.
    hold = timedelta(seconds=max(settings.login_window_s, settings.login_lockout_s))
    if key.startswith(IP_PREFIX):
        return settings.login_max_failures_per_ip, hold
    return settings.login_max_failures, hold


def retry_after_s(
    session: Session, *, keys: list[str], settings: Settings, now: datetime
) -> int | None:
    """Gets how many seconds checks on these keys stay refused (each key under its own limit);
    None when they are not."""
    until = None
    for key in keys:
        limit, hold = _limit_and_hold(key, settings)
        at = users_repo.nth_latest_login_failure(
            session, key=key, n=max(1, limit), since=now - hold
        )
        if at is not None and (until is None or at + hold > until):
            until = at + hold
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def note_attempt(session: Session, *, keys: list[str], now: datetime) -> None:
    """Counts one attempt (a wrong password, a link asked for) against each key (the caller
    commits)."""
    users_repo.add_login_failures(session, keys=keys, at=now)


def forget_wrong_passwords(session: Session, *, email: str) -> None:
    """Forgets the wrong passwords counted against an email: a reset proved who holds it."""
    users_repo.delete_login_failures(session, keys=login_keys(email=email, client_ip="")[:1])


def confirm_password(
    session: Session,
    *,
    user: User,
    password: str,
    field: str,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """Checks the password a logged-in person confirms an action with, named by `field` when
    refused: while their account has too many recent wrong ones, TooManyWrongPasswords (a
    right one included); a wrong one is counted, committed at once, and is a FieldErrors."""
    now = now or utcnow()
    keys = account_keys(user)
    wait = retry_after_s(session, keys=keys, settings=settings, now=now)
    if wait is not None:
        raise TooManyWrongPasswords(field, retry_after_s=wait)
    if verify_password(user.password_hash, password):
        return
    note_attempt(session, keys=keys, now=now)
    # The refusal rolls the request back: the guess must be counted all the same.
    session.commit()
    raise FieldErrors({field: WRONG_PASSWORD})
