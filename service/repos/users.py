"""Queries on users, their sessions and API tokens, and failed log-ins."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import bindparam, delete, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from service.models import (
    ApiToken,
    Institution,
    LoginFailure,
    MatchProposal,
    Role,
    User,
    UserSession,
)


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


def get_live_token(session: Session, *, token_hash: str, now: datetime) -> ApiToken | None:
    """Gets an API token by its hash, unless revoked or expired."""
    statement = select(ApiToken).where(
        ApiToken.token_hash == token_hash,
        col(ApiToken.revoked_at).is_(None),
        or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > now),
    )
    return session.exec(statement).first()


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """Lists a user's tokens not revoked, newest first (expired ones included)."""
    statement = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(session.exec(statement).all())


def revoke_token(session: Session, *, user_id: int, token_id: int, now: datetime) -> bool:
    """Revokes one of a user's live tokens; False when they have no such token."""
    result = session.execute(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            col(ApiToken.user_id) == user_id,
            col(ApiToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_tokens(session: Session, *, user_id: int, now: datetime) -> int:
    """Revokes every live token of a user; returns how many."""
    result = session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _live_session() -> Select[UserSession, User]:
    """The statement of `get_live_session` (every request runs it), built once with its values
    as parameters: building a statement cost more than running it (about 0.3 ms a request)."""
    return (
        select(UserSession, User)
        .join(User, col(User.id) == col(UserSession.user_id))
        .where(
            col(UserSession.id) == bindparam("session_id"),
            col(UserSession.expires_at) > bindparam("now"),
            col(User.active).is_(True),
        )
    )


def get_live_session(
    session: Session, *, session_id: str, now: datetime
) -> tuple[UserSession, User] | None:
    """Gets an unexpired session of an active user, with the user, in one indexed query."""
    row = session.execute(_live_session(), {"session_id": session_id, "now": now}).first()
    return (row[0], row[1]) if row else None


def touch_session(session: Session, *, session_id: str, now: datetime, before: datetime) -> None:
    """Notes a session's use, at most once per period (one conditional UPDATE)."""
    session.execute(
        update(UserSession)
        .where(col(UserSession.id) == session_id, col(UserSession.last_seen_at) < before)
        .values(last_seen_at=now)
    )


def list_sessions(session: Session, *, user_id: int, now: datetime) -> list[UserSession]:
    """Lists a user's unexpired sessions, most recently seen first."""
    statement = (
        select(UserSession)
        .where(UserSession.user_id == user_id, col(UserSession.expires_at) > now)
        .order_by(col(UserSession.last_seen_at).desc())
    )
    return list(session.exec(statement).all())


def delete_sessions(session: Session, *, user_id: int, keep: str | None = None) -> int:
    """Ends every session of a user, but the one kept; returns how many ended."""
    statement = delete(UserSession).where(col(UserSession.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(UserSession.id) != keep)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def delete_session(session: Session, session_id: str) -> None:
    """Ends one session."""
    session.execute(delete(UserSession).where(col(UserSession.id) == session_id))


def forget_expired_sessions(session: Session, *, before: datetime) -> None:
    """Deletes sessions that expired before a moment."""
    session.execute(delete(UserSession).where(col(UserSession.expires_at) < before))


def replace_password_hash(session: Session, *, user_id: int, old: str, new: str) -> bool:
    """Sets an account's password hash if it is still `old`; False when it is not (a race)."""
    result = session.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.password_hash) == old)
        .values(password_hash=new)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def take_pending_email(session: Session, *, user_id: int, old: str, new: str) -> bool:
    """Makes an account's pending address its email if its email is still `old` and `new` is
    still the one waiting; False when it is not (a race, or a change cancelled meanwhile)."""
    result = session.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.email) == old, col(User.pending_email) == new)
        .values(email=new, pending_email=None)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def nth_latest_login_failure(
    session: Session, *, key: str, n: int, since: datetime
) -> datetime | None:
    """Gets when the n-th most recent wrong password of a key since a moment was given; None
    when the key has fewer."""
    statement = (
        select(LoginFailure.at)
        .where(LoginFailure.key == key, col(LoginFailure.at) >= since)
        .order_by(col(LoginFailure.at).desc())
        .offset(max(0, n - 1))
        .limit(1)
    )
    return session.exec(statement).first()


def add_login_failures(session: Session, *, keys: list[str], at: datetime) -> None:
    """Notes one wrong password against each key."""
    session.add_all([LoginFailure(key=key, at=at) for key in keys])


def delete_login_failures(session: Session, *, keys: list[str]) -> None:
    """Forgets the wrong passwords noted against these keys."""
    session.execute(delete(LoginFailure).where(col(LoginFailure.key).in_(keys)))


def forget_login_failures(session: Session, *, before: datetime) -> None:
    """Deletes failed log-ins older than a moment."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < before))


def coordinators_of_need(session: Session, *, need_id: int, institution_id: int) -> list[User]:
    """Gets the active coordinators who decided a proposal of a need or verified its
    institution; every active coordinator when there are none, by id."""
    deciders = select(MatchProposal.decided_by_id).where(col(MatchProposal.need_id) == need_id)
    verifier = select(Institution.verified_by_id).where(col(Institution.id) == institution_id)
    staff = select(User).where(
        col(User.role) == Role.COORDINATOR,
        col(User.active).is_(True),
        col(User.deleted_at).is_(None),
    )
    involved = session.exec(
        staff.where(or_(col(User.id).in_(deciders), col(User.id).in_(verifier))).order_by(
            col(User.id)
        )
    ).all()
    return list(involved) or list(session.exec(staff.order_by(col(User.id))).all())


def staff_to_tell(session: Session, *, asker_id: int | None) -> list[User]:
    """Gets the staff member who asked something (`asker_id`) while their account is active;
    otherwise every active coordinator, by id."""
    if asker_id is not None:
        asker = session.exec(
            select(User).where(
                col(User.id) == asker_id,
                col(User.role).in_((Role.COORDINATOR, Role.ADMIN)),
                col(User.active).is_(True),
                col(User.deleted_at).is_(None),
            )
        ).first()
        if asker is not None:
            return [asker]
    staff = select(User).where(
        col(User.role) == Role.COORDINATOR,
        col(User.active).is_(True),
        col(User.deleted_at).is_(None),
    )
    return list(session.exec(staff.order_by(col(User.id))).all())
