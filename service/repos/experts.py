"""Queries on expert profiles."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from service.models import ExpertProfile, User


def get_expert(session: Session, expert_id: int) -> ExpertProfile | None:
    """Gets an expert profile by id."""
    return session.get(ExpertProfile, expert_id)


def get_experts_with_emails(
    session: Session, expert_ids: list[int]
) -> dict[int, tuple[ExpertProfile, str]]:
    """Gets expert profiles by id with their account's email ('' when none), in one query."""
    if not expert_ids:
        return {}
    rows = session.exec(_with_emails(), params={"expert_ids": expert_ids}).all()
    return {expert.id or 0: (expert, email or "") for expert, email in rows}


@functools.cache
def _with_emails() -> Select[ExpertProfile, str]:
    """The statement of `get_experts_with_emails` (the review page's), built once with the
    experts as a parameter: building a statement cost more than running it."""
    return (
        select(ExpertProfile, User.email)
        .outerjoin(User, col(User.id) == col(ExpertProfile.user_id))
        .where(col(ExpertProfile.id).in_(bindparam("expert_ids", expanding=True)))
    )


def lock_experts(
    session: Session, *, ids: list[int] | None = None, after: int = 0, limit: int = 500
) -> list[ExpertProfile]:
    """Gets experts in id order (those of `ids`, else the next `limit` after id `after`),
    locked until the transaction ends against saves and the worker's document builds, which
    lock them too (FOR NO KEY UPDATE; a no-op on SQLite)."""
    statement = select(ExpertProfile).order_by(col(ExpertProfile.id)).limit(limit)
    if ids is not None:
        statement = statement.where(col(ExpertProfile.id).in_(ids))
    else:
        statement = statement.where(col(ExpertProfile.id) > after)
    locked = statement.with_for_update(key_share=True).execution_options(populate_existing=True)
    return list(session.exec(locked).all())


def get_expert_of_user(session: Session, user_id: int) -> ExpertProfile | None:
    """Gets the profile of an expert's account."""
    return session.exec(_of_user(), params={"user_id": user_id}).first()


@functools.cache
def _of_user() -> SelectOfScalar[ExpertProfile]:
    """The statement of `get_expert_of_user` (every page an expert opens runs it, to know the
    reader), built once with the user as a parameter: building it cost more than running it."""
    return select(ExpertProfile).where(ExpertProfile.user_id == bindparam("user_id"))


def get_expert_email(session: Session, expert: ExpertProfile) -> str:
    """Gets the email of the account behind a profile ('' once erased or imported without one)."""
    if expert.user_id is None:
        return ""
    user = session.get(User, expert.user_id)
    return user.email if user else ""


def list_experts(
    session: Session, *, offset: int = 0, limit: int = 50
) -> tuple[list[ExpertProfile], int]:
    """Lists expert profiles by name, with the total."""
    total = session.exec(select(func.count()).select_from(ExpertProfile)).one()
    rows = session.exec(
        select(ExpertProfile)
        .order_by(col(ExpertProfile.display_name), col(ExpertProfile.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total
