"""Engagements: the moves from offer to completion, who may make each, and what each side sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.core.audit import record
from service.core.experts import view_for
from service.core.notifications import notify
from service.errors import Conflict, FieldErrors, InvalidTransition, NotAllowed, NotFound
from service.i18n import N_
from service.models import (
    Engagement,
    EngagementFeedback,
    EngagementStatus,
    Need,
    NeedStatus,
    User,
)
from service.models.types import utcnow
from service.repos import engagements as engagements_repo
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.repos import proposals as proposals_repo
from service.repos import users as users_repo
from service.schemas.engagements import EngagementTerms, FeedbackWrite

S = EngagementStatus


class Party(StrEnum):
    EXPERT = "expert"
    INSTITUTION = "institution"
    STAFF = "staff"


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    by: frozenset[Party]
    needs_reason: bool = False


MOVES: dict[str, Move] = {
    "accept": Move(frozenset({S.OFFERED}), S.ACCEPTED, frozenset({Party.EXPERT, Party.STAFF})),
    "decline": Move(
        frozenset({S.OFFERED}), S.DECLINED, frozenset({Party.EXPERT, Party.STAFF}), True
    ),
    "confirm": Move(
        frozenset({S.ACCEPTED}), S.CONFIRMED, frozenset({Party.INSTITUTION, Party.STAFF})
    ),
    "start": Move(frozenset({S.CONFIRMED}), S.ACTIVE, frozenset({Party.EXPERT, Party.STAFF})),
    "complete": Move(frozenset({S.ACTIVE}), S.COMPLETED, frozenset({Party.EXPERT, Party.STAFF})),
    "cancel": Move(
        frozenset({S.OFFERED, S.ACCEPTED, S.CONFIRMED, S.ACTIVE}),
        S.CANCELLED,
        frozenset({Party.INSTITUTION, Party.STAFF}),
        True,
    ),
}
ACTIONS = tuple(MOVES)
FINAL = frozenset({S.DECLINED, S.EXPIRED, S.COMPLETED, S.CANCELLED})
# An institution may withdraw until the work has begun; afterwards only a coordinator may.
INSTITUTION_CANCELLABLE = frozenset({S.OFFERED, S.ACCEPTED, S.CONFIRMED})
# From confirmation on, each side sees the other's contact details.
CONTACT_STATES = frozenset({S.CONFIRMED, S.ACTIVE, S.COMPLETED})
FEEDBACK_STATES = frozenset({S.ACTIVE, S.COMPLETED})
# Who is waiting for whom, for the coordinator's queue of stale engagements.
WAITING_STATES = [S.OFFERED, S.ACCEPTED]

ACTION_LABELS = {
    "accept": N_("Accept"),
    "decline": N_("Decline"),
    "confirm": N_("Confirm"),
    "start": N_("Mark as started"),
    "complete": N_("Mark as completed"),
    "cancel": N_("Cancel"),
}


def party_of(session: Session, *, engagement: Engagement, user: User) -> Party | None:
    """Tells in which capacity a user takes part in an engagement, if any."""
    if user.is_staff:
        return Party.STAFF
    if engagement.expert_id is not None:
        expert = experts_repo.get_expert(session, engagement.expert_id)
        if expert is not None and expert.user_id is not None and expert.user_id == user.id:
            return Party.EXPERT
    need = needs_repo.get_need(session, engagement.need_id)
    institution = institutions_repo.get_institution_of_user(session, user.id or 0)
    if need is not None and institution is not None and institution.id == need.institution_id:
        return Party.INSTITUTION
    return None


def readable_engagement(
    session: Session, *, engagement_id: int, reader: User
) -> tuple[Engagement, Party]:
    """Gets an engagement the reader takes part in (or any, for staff), with their capacity."""
    engagement = engagements_repo.get_engagement(session, engagement_id)
    party = party_of(session, engagement=engagement, user=reader) if engagement else None
    if engagement is None or party is None:
        raise NotFound("This engagement does not exist.")
    return engagement, party


def allowed_actions(engagement: Engagement, party: Party | None) -> list[str]:
    """Lists the moves this party may make now."""
    if party is None:
        return []
    allowed = []
    for action, move in MOVES.items():
        if engagement.status not in move.sources or party not in move.by:
            continue
        if (
            action == "cancel"
            and party == Party.INSTITUTION
            and engagement.status not in INSTITUTION_CANCELLABLE
        ):
            continue
        allowed.append(action)
    return allowed


def _check_move(engagement: Engagement, *, action: str, party: Party | None) -> Move:
    move = MOVES.get(action)
    if move is None:
        raise NotFound("There is no such move.")
    if party is None or party not in move.by:
        raise NotAllowed(f"You may not {action} this engagement.")
    if (
        action == "cancel"
        and party == Party.INSTITUTION
        and engagement.status not in INSTITUTION_CANCELLABLE
    ):
        raise NotAllowed(
            "Once an engagement has started or ended, only a coordinator can cancel it."
        )
    if engagement.status not in move.sources:
        raise InvalidTransition(
            f"This engagement is {engagement.status}: it cannot move to {move.target}."
        )
    return move


def move(
    session: Session,
    *,
    engagement: Engagement,
    actor: User,
    action: str,
    settings: Settings,
    reason: str = "",
    terms: EngagementTerms | None = None,
    now: datetime | None = None,
) -> Engagement:
    """Makes a move if this actor may make it from the current state; refusals change nothing."""
    party = party_of(session, engagement=engagement, user=actor)
    if party is None:
        raise NotFound("This engagement does not exist.")
    spec = _check_move(engagement, action=action, party=party)
    reason = reason.strip()
    if spec.needs_reason and not reason:
        raise FieldErrors({"reason": "Please give a reason."})
    if terms is not None:
        _check_terms(engagement, terms)
    now = now or utcnow()
    previous = engagement.status
    engagement.status = spec.target
    engagement.updated_at = now
    if reason:
        engagement.reason = reason
    if terms is not None:
        _apply_terms(engagement, terms)
    if action in ("accept", "decline"):
        engagement.responded_at = now
    elif action == "confirm":
        engagement.confirmed_at = now
    elif action == "start":
        engagement.started_at = now
        if engagement.start_date is None:
            engagement.start_date = now.date()
    elif action in ("complete", "cancel"):
        engagement.closed_at = now
    session.add(engagement)
    record(
        session,
        actor=actor,
        action=f"engagement.{action}",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=previous,
        to_state=engagement.status,
        reason=reason,
        data={"as": str(party), **({"terms": terms.model_dump(mode="json")} if terms else {})},
    )
    need = needs_repo.get_need(session, engagement.need_id)
    if action == "confirm" and need is not None and need.status == NeedStatus.OPEN:
        _fill_need(session, need=need, actor=actor, engagement=engagement, now=now)
    _tell_parties(
        session, engagement=engagement, need=need, action=action, actor=actor, settings=settings
    )
    return engagement


def _check_terms(engagement: Engagement, terms: EngagementTerms) -> None:
    start = terms.start_date or engagement.start_date
    end = terms.end_date or engagement.end_date
    if start and end and end < start:
        raise FieldErrors({"end_date": "The end date must not be before the start date."})


def _apply_terms(engagement: Engagement, terms: EngagementTerms) -> None:
    if terms.start_date is not None:
        engagement.start_date = terms.start_date
    if terms.end_date is not None:
        engagement.end_date = terms.end_date
    if terms.mode is not None:
        engagement.mode = str(terms.mode)
    if terms.agreed_hours is not None:
        engagement.agreed_hours = terms.agreed_hours


def _fill_need(
    session: Session, *, need: Need, actor: User, engagement: Engagement, now: datetime
) -> None:
    need.status = NeedStatus.FILLED
    need.updated_at = now
    session.add(need)
    record(
        session,
        actor=actor,
        action="need.filled",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.OPEN,
        to_state=NeedStatus.FILLED,
        data={"engagement_id": engagement.id},
    )


def expert_user(session: Session, engagement: Engagement) -> User | None:
    """Gets the account of the engagement's expert (None once erased or without an account)."""
    if engagement.expert_id is None:
        return None
    expert = experts_repo.get_expert(session, engagement.expert_id)
    if expert is None or expert.user_id is None:
        return None
    return users_repo.get_user(session, expert.user_id)


def approving_coordinator(session: Session, engagement: Engagement) -> User | None:
    """Gets the coordinator who approved the proposal behind an engagement."""
    proposal = proposals_repo.get_proposal(session, engagement.proposal_id)
    if proposal is None or proposal.decided_by_id is None:
        return None
    return users_repo.get_user(session, proposal.decided_by_id)


def _members(session: Session, need: Need | None) -> list[User]:
    return institutions_repo.list_members(session, need.institution_id) if need else []


def _params(session: Session, engagement: Engagement, need: Need | None) -> dict[str, Any]:
    institution = institutions_repo.get_institution(session, need.institution_id) if need else None
    deadline = engagement.offer_expires_at
    return {
        "need": need.title if need else "",
        "institution": institution.name if institution else "",
        "deadline": deadline.strftime("%Y-%m-%d") if deadline else "",
        "reason": engagement.reason or "-",
    }


def _tell_parties(
    session: Session,
    *,
    engagement: Engagement,
    need: Need | None,
    action: str,
    actor: User | None,
    settings: Settings,
) -> None:
    expert = expert_user(session, engagement)
    coordinator = approving_coordinator(session, engagement)
    members = _members(session, need)
    kind = {
        "accept": "engagement.accepted",
        "decline": "engagement.declined",
        "confirm": "engagement.confirmed",
        "start": "engagement.started",
        "complete": "engagement.completed",
        "cancel": "engagement.cancelled",
    }[action]
    audience: list[User | None]
    if action == "accept":
        audience = [*members, coordinator]
    elif action == "decline":
        audience = [coordinator]
    else:
        audience = [expert, *members, coordinator]
    params = _params(session, engagement, need)
    seen: set[int] = set()
    for user in audience:
        if user is None or user.id in seen or (actor is not None and user.id == actor.id):
            continue
        seen.add(user.id or 0)
        notify(
            session,
            user=user,
            kind=kind,
            params=params,
            link=link_for(user, engagement),
            settings=settings,
        )


def link_for(user: User, engagement: Engagement) -> str:
    """Gets the page where a user follows an engagement."""
    if user.is_staff:
        return f"/coordinator/engagements/{engagement.id}"
    if user.role == "institution":
        return f"/institution/engagements/{engagement.id}"
    if engagement.status == S.OFFERED:
        return "/expert/proposals"
    return f"/expert/engagements/{engagement.id}"


def give_feedback(
    session: Session,
    *,
    engagement: Engagement,
    actor: User,
    data: FeedbackWrite,
    now: datetime | None = None,
) -> EngagementFeedback:
    """Records one side's feedback, once, while the engagement is active or completed."""
    party = party_of(session, engagement=engagement, user=actor)
    if party is None:
        raise NotFound("This engagement does not exist.")
    if party == Party.STAFF:
        raise NotAllowed("Feedback comes from the expert and the institution.")
    if engagement.status not in FEEDBACK_STATES:
        raise InvalidTransition(
            f"This engagement is {engagement.status}: feedback opens once it is active."
        )
    if engagements_repo.get_feedback(session, engagement.id or 0, str(party)) is not None:
        raise Conflict("You have already given your feedback on this engagement.")
    feedback = EngagementFeedback(
        engagement_id=engagement.id or 0,
        side=str(party),
        created_at=now or utcnow(),
        **data.model_dump(),
    )
    session.add(feedback)
    session.flush()
    record(
        session,
        actor=actor,
        action="engagement.feedback",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=engagement.status,
        to_state=engagement.status,
        data={"side": str(party), "rating": data.rating, "hours": data.hours},
    )
    return feedback


def expire_offer(
    session: Session, *, engagement: Engagement, settings: Settings, now: datetime
) -> Engagement:
    """Expires an unanswered offer; the expert and the approving coordinator are told."""
    if engagement.status != S.OFFERED:
        raise InvalidTransition(f"This engagement is {engagement.status}: it cannot expire.")
    engagement.status = S.EXPIRED
    engagement.closed_at = now
    engagement.updated_at = now
    session.add(engagement)
    record(
        session,
        actor=None,
        action="engagement.expire",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=S.OFFERED,
        to_state=S.EXPIRED,
        reason=f"No answer within {settings.offer_expiry_days} days.",
    )
    need = needs_repo.get_need(session, engagement.need_id)
    params = _params(session, engagement, need)
    expert = expert_user(session, engagement)
    if expert is not None:
        notify(
            session,
            user=expert,
            kind="offer.expired",
            params=params,
            link="/expert/engagements",
            settings=settings,
            now=now,
        )
    coordinator = approving_coordinator(session, engagement)
    if coordinator is not None:
        notify(
            session,
            user=coordinator,
            kind="offer.expired.coordinator",
            params=params,
            link=f"/coordinator/needs/{engagement.need_id}",
            settings=settings,
            now=now,
        )
    return engagement


def expire_due_offers(session: Session, *, settings: Settings, now: datetime) -> int:
    """Expires every offer whose answer time is over; returns how many."""
    offers = engagements_repo.offers_to_expire(session, now=now)
    for engagement in offers:
        expire_offer(session, engagement=engagement, settings=settings, now=now)
    return len(offers)


def remind_due_offers(session: Session, *, settings: Settings, now: datetime) -> int:
    """Reminds experts of offers that expire within `offer_reminder_days`, once each."""
    until = now + timedelta(days=settings.offer_reminder_days)
    offers = engagements_repo.offers_to_remind(session, now=now, until=until)
    for engagement in offers:
        engagement.reminded_at = now
        session.add(engagement)
        expert = expert_user(session, engagement)
        if expert is None:
            continue
        need = needs_repo.get_need(session, engagement.need_id)
        notify(
            session,
            user=expert,
            kind="offer.reminder",
            params=_params(session, engagement, need),
            link="/expert/proposals",
            settings=settings,
            now=now,
        )
    return len(offers)


def engagement_view(
    session: Session, *, engagement: Engagement, reader: User, party: Party | None = None
) -> dict[str, Any]:
    """Gets what a reader may see of an engagement: the expert's contact only once confirmed."""
    party = party or party_of(session, engagement=engagement, user=reader)
    need = needs_repo.get_need(session, engagement.need_id)
    institution = institutions_repo.get_institution(session, need.institution_id) if need else None
    expert_data: dict[str, Any] | None = None
    if engagement.expert_id is not None:
        expert = experts_repo.get_expert(session, engagement.expert_id)
        if expert is not None:
            expert_data = view_for(
                expert,
                email=experts_repo.get_expert_email(session, expert),
                reader=reader,
                named=True,
                contact=engagement.status in CONTACT_STATES,
            )
    contacts: list[dict[str, str]] = []
    if need is not None and engagement.status in CONTACT_STATES:
        contacts = [
            {"name": member.display_name, "email": member.email}
            for member in institutions_repo.list_members(session, need.institution_id)
        ]
    feedback = engagements_repo.list_feedback(session, engagement.id or 0)
    return {
        **engagement.model_dump(mode="json"),
        "need": {
            "id": need.id if need else None,
            "title": need.title if need else "",
            "sector": need.sector if need else "",
            "mode": need.mode if need else "",
            "institution": institution.name if institution else "",
            "country": institution.country if institution else "",
        },
        "expert": expert_data,
        "institution_contacts": contacts,
        "feedback": [item.model_dump(mode="json") for item in feedback],
        "as": str(party) if party else None,
        "actions": allowed_actions(engagement, party),
        "can_give_feedback": (
            party in (Party.EXPERT, Party.INSTITUTION)
            and engagement.status in FEEDBACK_STATES
            and all(item.side != str(party) for item in feedback)
        ),
    }
