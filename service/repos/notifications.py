"""Queries on in-app notifications and the outgoing email table."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, or_, update
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import Notification, OutgoingEmail


def get_notification(session: Session, notification_id: int) -> Notification | None:
    """Gets a notification by id."""
    return session.get(Notification, notification_id)


def list_for_user(
    session: Session, user_id: int, *, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> tuple[list[Notification], int]:
    """Lists a user's notifications, newest first, with the total."""
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        statement = statement.where(col(Notification.read_at).is_(None))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(
        statement.order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


@functools.cache
def _unread() -> SelectOfScalar[int]:
    """The statement of `count_unread` (every page's header runs it), built once with the user
    as a parameter: building a statement cost more than running it."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == bindparam("user_id"), col(Notification.read_at).is_(None))
    )


def count_unread(session: Session, user_id: int) -> int:
    """Counts a user's unread notifications."""
    return int(session.execute(_unread(), {"user_id": user_id}).scalar_one())


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> None:
    """Marks every notification of a user as read."""
    session.execute(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now)
    )


def mark_done(session: Session, *, engagement_id: int, kinds: list[str], now: datetime) -> None:
    """Marks the notifications of these kinds about an engagement as done (and so read)."""
    session.execute(
        update(Notification)
        .where(
            col(Notification.engagement_id) == engagement_id,
            col(Notification.kind).in_(kinds),
            col(Notification.done_at).is_(None),
        )
        .values(done_at=now, read_at=func.coalesce(col(Notification.read_at), now))
    )


def mark_done_for_users(
    session: Session, *, user_ids: list[int], kinds: list[str], now: datetime
) -> None:
    """Marks these users' notifications of these kinds as done (and so read), in one UPDATE."""
    if not user_ids:
        return
    session.execute(
        update(Notification)
        .where(
            col(Notification.user_id).in_(user_ids),
            col(Notification.kind).in_(kinds),
            col(Notification.done_at).is_(None),
        )
        .values(done_at=now, read_at=func.coalesce(col(Notification.read_at), now))
    )


def delete_for_user(session: Session, user_id: int) -> None:
    """Deletes a user's notifications."""
    session.execute(delete(Notification).where(col(Notification.user_id) == user_id))


def pending_emails(session: Session, *, limit: int = 100) -> list[OutgoingEmail]:
    """Lists the emails waiting to be sent, oldest first."""
    return list(
        session.exec(
            select(OutgoingEmail)
            .where(OutgoingEmail.status == "pending")
            .order_by(col(OutgoingEmail.id))
            .limit(limit)
        ).all()
    )


def list_emails(
    session: Session, *, offset: int = 0, limit: int = 50
) -> tuple[list[OutgoingEmail], int]:
    """Lists outgoing emails, newest first, with the total."""
    total = session.exec(select(func.count()).select_from(OutgoingEmail)).one()
    rows = session.exec(
        select(OutgoingEmail).order_by(col(OutgoingEmail.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def _written_to(user_id: int, address: str) -> ColumnElement[bool]:
    # By the account, and by its address for the rows written before emails named it.
    return or_(col(OutgoingEmail.user_id) == user_id, col(OutgoingEmail.to_address) == address)


def emails_of(session: Session, *, user_id: int, address: str) -> list[OutgoingEmail]:
    """Lists the emails written to an account, at any address it had, or to its address."""
    return list(
        session.exec(
            select(OutgoingEmail)
            .where(_written_to(user_id, address))
            .order_by(col(OutgoingEmail.id))
        ).all()
    )


def delete_emails_of(session: Session, *, user_id: int, address: str) -> None:
    """Deletes the emails written to an account, at any address it had, or to its address."""
    session.execute(delete(OutgoingEmail).where(_written_to(user_id, address)))
