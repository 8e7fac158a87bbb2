"""Personal data: export everything a user gave us, and erase their account on request."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from service.core import policy
from service.core.audit import record
from service.errors import FieldErrors
from service.models import (
    ApiToken,
    AuditEvent,
    Embedding,
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    InstitutionMember,
    LoginFailure,
    MatchProposal,
    Need,
    SearchOutbox,
    User,
)
from service.models.types import utcnow
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import notifications as notifications_repo
from service.repos import proposals as proposals_repo
from service.search import outbox
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF
from service.security import verify_password


def _dump(row: Any, *, exclude: set[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = row.model_dump(mode="json", exclude=exclude or set())
    return data


def export_user_data(session: Session, *, user: User) -> dict[str, Any]:
    """Gathers every record about a user: account, profile, proposals, engagements, messages."""
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "account": _dump(user, exclude={"password_hash"}),
        "api_tokens": [
            _dump(token, exclude={"token_hash"})
            for token in session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).all()
        ],
        "notifications": [
            _dump(n)
            for n in notifications_repo.list_for_user(session, user.id or 0, limit=100_000)[0]
        ],
        "emails": [_dump(e) for e in notifications_repo.emails_to(session, user.email)],
        "audit_events": [
            _dump(event)
            for event in session.exec(
                select(AuditEvent)
                .where(AuditEvent.actor_id == user.id)
                .order_by(col(AuditEvent.id))
            ).all()
        ],
    }
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is not None:
        engagements = session.exec(
            select(Engagement).where(Engagement.expert_id == expert.id).order_by(col(Engagement.id))
        ).all()
        data["expert_profile"] = _dump(expert)
        data["proposals"] = [
            _dump(p) for p in proposals_repo.list_for_expert(session, expert.id or 0)
        ]
        data["engagements"] = [
            {**_dump(e), "feedback": _feedback(session, e.id or 0)} for e in engagements
        ]
    institution = institutions_repo.get_institution_of_user(session, user.id or 0)
    if institution is not None:
        data["institution"] = _dump(institution)
        data["needs_created"] = [
            _dump(need)
            for need in session.exec(
                select(Need).where(Need.created_by_id == user.id).order_by(col(Need.id))
            ).all()
        ]
    return data


def _feedback(session: Session, engagement_id: int) -> list[dict[str, Any]]:
    return [
        _dump(item)
        for item in session.exec(
            select(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement_id)
        ).all()
    ]


def delete_account(
    session: Session, *, user: User, password: str, now: datetime | None = None
) -> User:
    """Erases an expert's or member's personal data; anonymised engagements stay for statistics."""
    policy.require(policy.reader_for(session, user), policy.Action.ERASE_OWN_ACCOUNT)
    if not verify_password(user.password_hash, password):
        raise FieldErrors({"password": "This is not your password."})
    now = now or utcnow()
    user_id = user.id or 0
    expert = experts_repo.get_expert_of_user(session, user_id)
    if expert is not None:
        _erase_expert(session, expert=expert)
    session.execute(delete(InstitutionMember).where(col(InstitutionMember.user_id) == user_id))
    notifications_repo.delete_for_user(session, user_id)
    notifications_repo.delete_emails_to(session, user.email)
    session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user_id))
    session.execute(delete(LoginFailure).where(col(LoginFailure.key) == f"email:{user.email}"))
    user.email = f"deleted-{user_id}@invalid"
    user.password_hash = "!" + secrets.token_hex(32)  # not a hash: no password matches it
    user.display_name = ""
    user.active = False
    user.deleted_at = now
    user.email_prefs = {}
    user.session_version += 1
    session.add(user)
    record(
        session,
        actor=user,
        action="user.deleted",
        entity_type="user",
        entity_id=user_id,
        from_state="active",
        to_state="deleted",
    )
    return user


def _erase_expert(session: Session, *, expert: ExpertProfile) -> None:
    """Removes a profile; one that engagements still point at through proposals is blanked."""
    expert_id = expert.id or 0
    session.execute(
        update(Engagement).where(col(Engagement.expert_id) == expert_id).values(expert_id=None)
    )
    proposals_repo.delete_unengaged_for_expert(session, expert_id)
    # Explanations quote the profile's own phrases: they go too.
    session.execute(
        update(MatchProposal)
        .where(col(MatchProposal.expert_id) == expert_id)
        .values(explanation={}, reason="")
    )
    session.execute(
        delete(Embedding).where(
            col(Embedding.owner_type) == "expert", col(Embedding.owner_id) == expert_id
        )
    )
    # Pending upserts carry the profile itself; the delete enqueued next supersedes them.
    session.execute(
        delete(SearchOutbox).where(
            col(SearchOutbox.index).in_([EXPERTS_STAFF, EXPERTS_PUBLIC]),
            col(SearchOutbox.document_id) == expert_id,
            col(SearchOutbox.op) == "upsert",
        )
    )
    outbox.remove_expert(session, expert_id=expert_id)
    session.flush()
    remaining = proposals_repo.list_for_expert(session, expert_id)
    if not remaining:
        session.delete(expert)
        return
    blank = ExpertProfile(display_name="", id=expert_id)
    for name in ExpertProfile.model_fields:
        if name not in ("id", "created_at"):
            setattr(expert, name, getattr(blank, name))
    expert.active = False
    session.add(expert)
