"""Queries on institutions and their members."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, bindparam, update
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import Institution, InstitutionMember, InstitutionReply, User


def get_institution(session: Session, institution_id: int) -> Institution | None:
    """Gets an institution by id."""
    return session.get(Institution, institution_id)


def get_institution_of_user(session: Session, user_id: int) -> Institution | None:
    """Gets the institution a user is a member of."""
    return session.exec(_of_user(), params={"user_id": user_id}).first()


@functools.cache
def _of_user() -> SelectOfScalar[Institution]:
    """The statement of `get_institution_of_user` (every page a member opens runs it, to know
    the reader), built once with the user as a parameter: building it cost more than running
    it."""
    return (
        select(Institution)
        .join(InstitutionMember, col(InstitutionMember.institution_id) == col(Institution.id))
        .where(InstitutionMember.user_id == bindparam("user_id"))
    )


def list_members(session: Session, institution_id: int) -> list[User]:
    """Lists the users who act for an institution."""
    statement = (
        select(User)
        .join(InstitutionMember, col(InstitutionMember.user_id) == col(User.id))
        .where(InstitutionMember.institution_id == institution_id)
        .order_by(col(User.id))
    )
    return list(session.exec(statement).all())


def list_institutions(
    session: Session,
    *,
    state: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Institution], int]:
    """Lists institutions, newest first, optionally in one verification state ("pending": the
    verification queue, declined ones left out; "declined"; "verified"); with the total."""
    count, page = _listing(state)
    total = session.execute(count).scalar_one()
    rows = session.exec(page, params={"offset": offset, "limit": limit}).all()
    return list(rows), int(total)


@functools.cache
def _listing(state: str | None) -> tuple[Select[Any], SelectOfScalar[Institution]]:
    """The statements of `list_institutions` (the dashboard runs them on every request), the
    count and the page, built once for each verification state with the page's bounds as
    parameters: building and keying them cost more than running them."""
    where: list[Any] = []
    if state == "verified":
        where.append(col(Institution.verified_at).is_not(None))
    elif state == "pending":
        where.append(col(Institution.verified_at).is_(None))
        where.append(col(Institution.declined_at).is_(None))
    elif state == "declined":
        where.append(col(Institution.verified_at).is_(None))
        where.append(col(Institution.declined_at).is_not(None))
    count = select(func.count()).select_from(Institution).where(*where)
    page = (
        select(Institution)
        .where(*where)
        .order_by(col(Institution.created_at).desc(), col(Institution.id).desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return count, page


def resubmit_declined(session: Session, institution_id: int) -> bool:
    """Sends a declined institution back to the verification queue, in one conditional UPDATE;
    tells whether this call moved it."""
    statement = (
        update(Institution)
        .where(
            col(Institution.id) == institution_id,
            col(Institution.verified_at).is_(None),
            col(Institution.declined_at).is_not(None),
        )
        .values(declined_at=None)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def review_unverified(session: Session, institution_id: int, values: dict[str, Any]) -> bool:
    """Writes a coordinator's review on an institution still awaiting verification, in one
    UPDATE; tells whether this call won (False once another coordinator verified it)."""
    statement = (
        update(Institution)
        .where(col(Institution.id) == institution_id, col(Institution.verified_at).is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def mark_answered(
    session: Session,
    institution_id: int,
    *,
    question: str,
    asked_at: datetime | None,
    now: datetime,
) -> bool:
    """Marks an institution as having answered this question, asked at that moment, in one
    conditional UPDATE; tells whether it still awaited that answer (not verified, declined or
    asked again meanwhile, even in the same words)."""
    statement = (
        update(Institution)
        .where(
            col(Institution.id) == institution_id,
            col(Institution.verified_at).is_(None),
            col(Institution.declined_at).is_(None),
            col(Institution.review_note) != "",
            col(Institution.review_note) == question,
            col(Institution.asked_at).is_(None)
            if asked_at is None
            else col(Institution.asked_at) == asked_at,
        )
        .values(answered_at=now)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def list_replies(session: Session, institution_id: int) -> list[InstitutionReply]:
    """Lists an institution's answers to the coordinators' questions, oldest first."""
    statement = (
        select(InstitutionReply)
        .where(InstitutionReply.institution_id == institution_id)
        .order_by(col(InstitutionReply.created_at), col(InstitutionReply.id))
    )
    return list(session.exec(statement).all())


def replies_by(session: Session, user_id: int) -> list[InstitutionReply]:
    """Lists the answers a member wrote to the coordinators' questions, oldest first."""
    statement = (
        select(InstitutionReply)
        .where(InstitutionReply.author_id == user_id)
        .order_by(col(InstitutionReply.id))
    )
    return list(session.exec(statement).all())
