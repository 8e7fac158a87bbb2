"""Queries on users, API tokens and failed log-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from service.models import ApiToken, LoginFailure, User


def normalise_email(email: str) -> str:
    """Emails are stored and compared trimmed and lower-cased."""
    return email.strip().lower()


def get_user(session: Session, user_id: int) -> User | None:
    """Gets a user by id."""
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    """Gets a user by email, case-insensitively."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def email_taken(session: Session, email: str) -> bool:
    """Tells whether an account already uses this email."""
    return get_user_by_email(session, email) is not None


def get_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """Gets a live API token by its hash."""
    statement = select(ApiToken).where(
        ApiToken.token_hash == token_hash,
        ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
    )
    return session.exec(statement).first()


def count_login_failures(session: Session, *, keys: list[str], since: datetime) -> int:
    """Counts the failed log-ins for the most-failing of these keys since a moment."""
    statement = (
        select(LoginFailure.key, func.count())
        .where(LoginFailure.key.in_(keys), LoginFailure.at >= since)  # type: ignore[attr-defined]
        .group_by(LoginFailure.key)
    )
    counts = [count for _key, count in session.exec(statement).all()]
    return max(counts, default=0)


def forget_login_failures(session: Session, *, before: datetime) -> None:
    """Deletes failed log-ins older than a moment."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < before))
