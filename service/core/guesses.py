"""Password guessing: one limit on every check of a password.

The log-in counts wrong passwords per email and per client address (its caller is unknown);
an action a logged-in person confirms with their password (changing the email or the
password, deleting the account) counts them per account, the caller being known: a stolen
session or API token guesses no faster than the log-in form. Either way a key with
`login_max_failures` wrong passwords within the window is refused until the lock-out period
after them has passed, a right password included, and the refusal says how long to wait.
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


def login_keys(*, email: str, client_ip: str) -> list[str]:
    """Gets what a log-in's wrong passwords count against: the email and the address."""
    return [f"email:{users_repo.normalise_email(email)}", f"ip:{client_ip}"]


def account_keys(user: User) -> list[str]:
    """Gets what a logged-in person's wrong passwords count against: their account."""
    return [f"user:{user.id}"]


def retry_after_s(
    session: Session, *, keys: list[str], settings: Settings, now: datetime
) -> int | None:
    """Gets how many seconds password checks on these keys stay refused; None when they are not."""
    limit = max(1, settings.login_max_failures)
    # Refused while the limit-th latest failure is within the window, and for the lock-out
    # period after it even once the window has moved on.
    hold = timedelta(seconds=max(settings.login_window_s, settings.login_lockout_s))
    until = None
    for key in keys:
        at = users_repo.nth_latest_login_failure(session, key=key, n=limit, since=now - hold)
        if at is not None and (until is None or at + hold > until):
            until = at + hold
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def note_wrong_password(session: Session, *, keys: list[str], now: datetime) -> None:
    """Counts one wrong password against each key (the caller commits)."""
    users_repo.add_login_failures(session, keys=keys, at=now)


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
    note_wrong_password(session, keys=keys, now=now)
    # The refusal rolls the request back: the guess must be counted all the same.
    session.commit()
    raise FieldErrors({field: WRONG_PASSWORD})
