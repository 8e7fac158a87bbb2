"""Queries on invitations to join an institution, and on the members they add."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, or_, update
from sqlmodel import Session, col, func, select

from service.models import AuditEvent, InstitutionInvitation, InstitutionMember, User

# The audit action of an invitation sent again (written by core.invitations.resend).
RESENT_ACTION = "institution.invitation_resent"


def _open() -> list[Any]:
    """Neither accepted nor revoked (an expired one is still open: it may be sent again)."""
    return [
        col(InstitutionInvitation.accepted_at).is_(None),
        col(InstitutionInvitation.revoked_at).is_(None),
    ]


def get_invitation(session: Session, invitation_id: int) -> InstitutionInvitation | None:
    """Gets an invitation by id."""
    return session.get(InstitutionInvitation, invitation_id)


def by_token_hash(session: Session, token_hash: str) -> InstitutionInvitation | None:
    """Gets the invitation whose link's token has this hash."""
    statement = select(InstitutionInvitation).where(InstitutionInvitation.token_hash == token_hash)
    return session.exec(statement).first()


def open_invitations(session: Session, institution_id: int) -> list[InstitutionInvitation]:
    """Lists an institution's invitations neither accepted nor revoked, newest first."""
    statement = (
        select(InstitutionInvitation)
        .where(InstitutionInvitation.institution_id == institution_id, *_open())
        .order_by(col(InstitutionInvitation.created_at).desc(), col(InstitutionInvitation.id))
    )
    return list(session.exec(statement).all())


def live_invitation_to(
    session: Session, *, institution_id: int, email: str, now: datetime
) -> InstitutionInvitation | None:
    """Gets an institution's invitation to an address that still opens (not expired)."""
    statement = select(InstitutionInvitation).where(
        InstitutionInvitation.institution_id == institution_id,
        InstitutionInvitation.email == email,
        col(InstitutionInvitation.expires_at) > now,
        *_open(),
    )
    return session.exec(statement).first()


def count_mailed_since(session: Session, *, institution_id: int, since: datetime) -> int:
    """Counts the invitation emails an institution sent since a moment: each invitation created
    and each one sent again (its audit event says so)."""
    created = (
        select(func.count())
        .select_from(InstitutionInvitation)
        .where(
            InstitutionInvitation.institution_id == institution_id,
            col(InstitutionInvitation.created_at) >= since,
        )
    )
    resent = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == RESENT_ACTION,
            AuditEvent.entity_type == "institution",
            AuditEvent.entity_id == institution_id,
            col(AuditEvent.at) >= since,
        )
    )
    return int(session.exec(created).one()) + int(session.exec(resent).one())


def members_joined(session: Session, institution_id: int) -> list[tuple[User, datetime]]:
    """Lists an institution's members with the moment each joined, first joined first."""
    statement = (
        select(User, InstitutionMember.created_at)
        .join(InstitutionMember, col(InstitutionMember.user_id) == col(User.id))
        .where(InstitutionMember.institution_id == institution_id)
        .order_by(col(InstitutionMember.created_at), col(User.id))
    )
    return [(user, joined) for user, joined in session.exec(statement).all()]


def has_member_with_email(session: Session, *, institution_id: int, email: str) -> bool:
    """Tells whether an account with this address is a member of the institution."""
    statement = (
        select(User.id)
        .join(InstitutionMember, col(InstitutionMember.user_id) == col(User.id))
        .where(InstitutionMember.institution_id == institution_id, User.email == email)
    )
    return session.exec(statement).first() is not None


def claim(session: Session, *, invitation_id: int, now: datetime) -> bool:
    """Marks an invitation accepted if it is still open and unexpired: one conditional update,
    so of two uses of one link, racing, only one gets True."""
    statement = (
        update(InstitutionInvitation)
        .where(
            col(InstitutionInvitation.id) == invitation_id,
            col(InstitutionInvitation.expires_at) > now,
            *_open(),
        )
        .values(accepted_at=now)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def set_accepted_by(session: Session, *, invitation_id: int, user_id: int) -> None:
    """Notes the account that accepted an invitation (once claimed)."""
    session.execute(
        update(InstitutionInvitation)
        .where(col(InstitutionInvitation.id) == invitation_id)
        .values(accepted_by_id=user_id)
    )


def revoke(session: Session, *, invitation_id: int, institution_id: int, now: datetime) -> bool:
    """Revokes an institution's open invitation; False when it is not (or no longer) open."""
    statement = (
        update(InstitutionInvitation)
        .where(
            col(InstitutionInvitation.id) == invitation_id,
            col(InstitutionInvitation.institution_id) == institution_id,
            *_open(),
        )
        .values(revoked_at=now)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def renew(
    session: Session,
    *,
    invitation_id: int,
    institution_id: int,
    token_hash: str,
    expires_at: datetime,
) -> bool:
    """Gives an open invitation a new link and expiry (the old link opens nothing more);
    False when it is not (or no longer) open."""
    statement = (
        update(InstitutionInvitation)
        .where(
            col(InstitutionInvitation.id) == invitation_id,
            col(InstitutionInvitation.institution_id) == institution_id,
            *_open(),
        )
        .values(token_hash=token_hash, expires_at=expires_at)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def _of_user(user_id: int, email: str) -> Any:
    """The invitations addressed to an account (by its address, or accepted by it)."""
    return or_(
        col(InstitutionInvitation.email) == email,
        col(InstitutionInvitation.accepted_by_id) == user_id,
    )


def of_user(session: Session, *, user_id: int, email: str) -> list[InstitutionInvitation]:
    """Lists the invitations an account sent or that are addressed to it, oldest first."""
    statement = (
        select(InstitutionInvitation)
        .where(or_(_of_user(user_id, email), col(InstitutionInvitation.invited_by_id) == user_id))
        .order_by(col(InstitutionInvitation.id))
    )
    return list(session.exec(statement).all())


def forget_user(session: Session, *, user_id: int, email: str) -> None:
    """Erases the invitations addressed to an account (by its address, or accepted by it) and
    unnames it as the sender of the others."""
    session.execute(delete(InstitutionInvitation).where(_of_user(user_id, email)))
    session.execute(
        update(InstitutionInvitation)
        .where(col(InstitutionInvitation.invited_by_id) == user_id)
        .values(invited_by_id=None)
    )
