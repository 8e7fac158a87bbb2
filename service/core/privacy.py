"""Personal data: export everything a user gave us, and erase their account on request."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import Session, col, select

from service.config import Settings
from service.core import changes, engagements, guesses, policy
from service.core.audit import record
from service.i18n import N_
from service.models import (
    ApiToken,
    AuditEvent,
    Embedding,
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    InstitutionMember,
    InstitutionReply,
    MatchProposal,
    Need,
    Notification,
    OutgoingEmail,
    SearchOutbox,
    User,
)
from service.models.types import utcnow
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import invitations as invitations_repo
from service.repos import needs as needs_repo
from service.repos import notifications as notifications_repo
from service.repos import proposals as proposals_repo
from service.repos import suggestions as suggestions_repo
from service.repos import users as users_repo
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF

# What replaces a piece of free text the person wrote, or their name in someone else's text;
# stored as it is, a page shows it in the reader's language (templating._escape).
ERASED = N_("[erased]")
# Shorter phrases (a two-letter name) would erase parts of unrelated words in others' text.
MIN_PHRASE = 3


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
        "sessions": [
            _dump(item, exclude={"id"})
            for item in users_repo.list_sessions(session, user_id=user.id or 0, now=utcnow())
        ],
        "notifications": [
            _dump(n)
            for n in notifications_repo.list_for_user(session, user.id or 0, limit=100_000)[0]
        ],
        "emails": [
            _dump(e)
            for e in notifications_repo.emails_of(session, user_id=user.id or 0, address=user.email)
        ],
        "audit_events": [
            _dump(event)
            for event in session.exec(
                select(AuditEvent)
                .where(AuditEvent.actor_id == user.id)
                .order_by(col(AuditEvent.id))
            ).all()
        ],
    }
    data["invitations"] = [
        _dump(invitation, exclude={"token_hash"})
        for invitation in invitations_repo.of_user(session, user_id=user.id or 0, email=user.email)
    ]
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
    # Their answers to the coordinators' questions about their institution (if they wrote any).
    replies = institutions_repo.replies_by(session, user.id or 0)
    if replies:
        data["institution_replies"] = [_dump(reply) for reply in replies]
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


def erasure_cancels(session: Session, *, user: User) -> list[tuple[Need, str]]:
    """Lists what closing an expert's account would cancel: each current engagement's need
    and institution's name, oldest first (nothing for a member)."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        return []
    found: list[tuple[Need, str]] = []
    for engagement in engagements.current_for_expert(session, expert.id or 0):
        row = needs_repo.get_need_with_institution(session, engagement.need_id)
        if row is not None:
            need, institution = row
            found.append((need, institution.name if institution else ""))
    return found


def delete_account(
    session: Session, *, user: User, password: str, settings: Settings, now: datetime | None = None
) -> User:
    """Erases an expert's or member's personal data; anonymised engagements stay for statistics.

    An expert's engagements whose work is not done are cancelled first, their institutions and
    coordinators told, and the needs they filled opened again (engagements.cancel_for_erasure).
    """
    policy.require(policy.reader_for(session, user), policy.Action.ERASE_OWN_ACCOUNT)
    guesses.confirm_password(
        session, user=user, password=password, field="password", settings=settings
    )
    now = now or utcnow()
    user_id = user.id or 0
    expert = experts_repo.get_expert_of_user(session, user_id)
    _erase_free_text(session, user=user, expert=expert)
    if expert is not None:
        # After the scrub of what they wrote: the reason given is the programme's words.
        engagements.cancel_for_erasure(
            session, expert_id=expert.id or 0, actor=user, settings=settings, now=now
        )
        _erase_expert(session, expert=expert)
    session.execute(delete(InstitutionMember).where(col(InstitutionMember.user_id) == user_id))
    invitations_repo.forget_user(session, user_id=user_id, email=user.email)
    notifications_repo.delete_for_user(session, user_id)
    # Those written to an address the account has since left go too (an email change's notice).
    notifications_repo.delete_emails_of(session, user_id=user_id, address=user.email)
    session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user_id))
    users_repo.delete_login_failures(
        session,
        keys=[
            f"email:{user.email}",
            *guesses.account_keys(user),
            *guesses.reset_keys(email=user.email, client_ip="")[:1],
            # Confirmation links mailed: counted against the account and the address mailed
            # (the current one once confirmed, or the one still waiting).
            *{
                key
                for address in (user.email, user.pending_email)
                if address
                for key in guesses.confirm_link_keys(user=user, email=address)
            },
        ],
    )
    user.email = f"deleted-{user_id}@invalid"
    user.pending_email = None
    user.password_hash = "!" + secrets.token_hex(32)  # not a hash: no password matches it
    user.display_name = ""
    user.active = False
    user.deleted_at = now
    user.email_prefs = {}
    session.add(user)
    users_repo.delete_sessions(session, user_id=user_id)
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
    suggestions_repo.delete_for_expert(session, expert_id)
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
    changes.expert_removed(session, expert_id)
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


def _erase_free_text(session: Session, *, user: User, expert: ExpertProfile | None) -> None:
    """Replaces what the person wrote, and their name and email in others' text, by "[erased]".

    Their decline and cancel reasons, their feedback comments and the reasons and details of
    audit events they made or that are about them go; the facts (states, dates, ratings,
    hours) stay, anonymised, for the programme's statistics.
    """
    user_id = user.id or 0
    expert_id = expert.id if expert is not None else None
    subject = [(col(AuditEvent.entity_type) == "user") & (col(AuditEvent.entity_id) == user_id)]
    if expert_id is not None:
        subject.append(
            (col(AuditEvent.entity_type) == "expert") & (col(AuditEvent.entity_id) == expert_id)
        )
    events = session.exec(
        select(AuditEvent).where(or_(col(AuditEvent.actor_id) == user_id, *subject))
    ).all()
    feedback = _feedback_written_by(session, user_id=user_id, expert_id=expert_id, events=events)
    phrases = {user.email, user.display_name, expert.display_name if expert else ""}
    phrases |= {expert.phone for expert in [expert] if expert is not None and expert.phone}
    phrases |= {event.reason for event in events if event.actor_id == user_id and event.reason}
    phrases |= {text for item in feedback for text in (item.delivered, item.impact) if text}
    # A member's answers to the coordinators' questions go too; the question stays. Nothing
    # copies an answer elsewhere, so it is not scrubbed from others' text (where a short one,
    # "Done.", would erase their words).
    replies = institutions_repo.replies_by(session, user_id)
    for reply in replies:
        reply.message = ERASED
        session.add(reply)
    for item in feedback:
        item.delivered = ERASED if item.delivered else ""
        item.impact = ERASED if item.impact else ""
        session.add(item)
    for event in events:
        event.reason = ERASED if event.reason else ""
        session.add(event)
    _scrub_everywhere(session, phrases=[p.strip() for p in phrases if len(p.strip()) >= MIN_PHRASE])
    for event in events:
        event.data = _scrub_json(event.data, _pattern(phrases))
        session.add(event)
    session.flush()


def _feedback_written_by(
    session: Session, *, user_id: int, expert_id: int | None, events: Iterable[AuditEvent]
) -> list[EngagementFeedback]:
    """The expert's side of their engagements, and the institution feedback this member gave
    (not the institution's side of an engagement this expert gave feedback on)."""
    given = {
        e.entity_id
        for e in events
        if e.action == "engagement.feedback"
        and e.actor_id == user_id
        and (e.data or {}).get("side") == "institution"
    }
    clauses: list[ColumnElement[bool]] = [
        (col(EngagementFeedback.engagement_id).in_([i for i in given if i is not None]))
        & (col(EngagementFeedback.side) == "institution")
    ]
    if expert_id is not None:
        mine = select(Engagement.id).where(Engagement.expert_id == expert_id)
        clauses.append(
            col(EngagementFeedback.engagement_id).in_(mine)
            & (col(EngagementFeedback.side) == "expert")
        )
    return list(session.exec(select(EngagementFeedback).where(or_(*clauses))).all())


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    kept = sorted(
        {p.strip() for p in phrases if len(p.strip()) >= MIN_PHRASE}, key=len, reverse=True
    )
    if not kept:
        return None
    return re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(p) for p in kept) + r")(?!\w)", re.IGNORECASE
    )


def _scrub_everywhere(session: Session, *, phrases: list[str]) -> None:
    """Replaces the phrases in every free-text column others' records may quote them in."""
    pattern = _pattern(phrases)
    if pattern is None:
        return
    columns: list[tuple[type[Any], tuple[str, ...]]] = [
        (Engagement, ("reason",)),
        (EngagementFeedback, ("delivered", "impact")),
        (AuditEvent, ("reason",)),
        (MatchProposal, ("reason",)),
        (InstitutionReply, ("message",)),
        (Notification, ("title", "body")),
        (OutgoingEmail, ("subject", "body")),
    ]
    for model, names in columns:
        matches = [
            col(getattr(model, name)).ilike(f"%{phrase}%") for name in names for phrase in phrases
        ]
        for row in session.exec(select(model).where(or_(*matches))).all():
            for name in names:
                setattr(row, name, pattern.sub(ERASED, getattr(row, name)))
            if isinstance(row, Notification) and row.params is not None:
                # A notification keeps only the params its words show: a phrase in them is
                # in its title or body too, so the rows found above are all there is to scrub.
                row.params = _scrub_json(row.params, pattern)
            session.add(row)


def _scrub_json(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """Replaces the phrases in every string of a JSON value."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub_json(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_json(item, pattern) for key, item in value.items()}
    return value
