"""Engagements: the moves from offer to completion, who may make each, and what each side sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.core import changes, policy
from service.core.audit import record
from service.core.experts import view_for
from service.core.notifications import notify
from service.core.policy import Party
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


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    by: frozenset[Party]
    needs_reason: bool = False
    # The need must still be open (an offer for a filled or closed need is gone).
    need_open: bool = False


NOBODY: frozenset[Party] = frozenset()
MOVES: dict[str, Move] = {
    "accept": Move(
        frozenset({S.OFFERED}), S.ACCEPTED, frozenset({Party.EXPERT, Party.STAFF}), need_open=True
    ),
    "decline": Move(
        frozenset({S.OFFERED}), S.DECLINED, frozenset({Party.EXPERT, Party.STAFF}), True
    ),
    "confirm": Move(
        frozenset({S.ACCEPTED}),
        S.CONFIRMED,
        frozenset({Party.INSTITUTION, Party.STAFF}),
        need_open=True,
    ),
    "start": Move(frozenset({S.CONFIRMED}), S.ACTIVE, frozenset({Party.EXPERT, Party.STAFF})),
    # The expert reports the work done; it counts as completed once the institution agrees.
    "complete": Move(frozenset({S.ACTIVE}), S.DELIVERED, frozenset({Party.EXPERT, Party.STAFF})),
    "confirm_completion": Move(
        frozenset({S.DELIVERED}), S.COMPLETED, frozenset({Party.INSTITUTION, Party.STAFF})
    ),
    "cancel": Move(
        frozenset({S.OFFERED, S.ACCEPTED, S.CONFIRMED, S.ACTIVE, S.DELIVERED}),
        S.CANCELLED,
        frozenset({Party.INSTITUTION, Party.STAFF}),
        True,
    ),
    # Made by the clock, and by the need being filled or closed; never by a person.
    "expire": Move(frozenset({S.OFFERED}), S.EXPIRED, NOBODY),
    "withdraw": Move(frozenset({S.OFFERED, S.ACCEPTED}), S.CANCELLED, NOBODY),
}
# The moves a person makes (each has a button and an API route).
ACTIONS = tuple(action for action, spec in MOVES.items() if spec.by)
FINAL = frozenset({S.DECLINED, S.EXPIRED, S.COMPLETED, S.CANCELLED})
# An institution may withdraw until the work has begun; afterwards only a coordinator may.
INSTITUTION_CANCELLABLE = frozenset({S.OFFERED, S.ACCEPTED, S.CONFIRMED})
# From confirmation on, each side sees the other's contact details.
CONTACT_STATES = frozenset({S.CONFIRMED, S.ACTIVE, S.DELIVERED, S.COMPLETED})
# Each side says how it went once the engagement is completed (the institution agreed the
# work is done): not before, when there is nothing yet to judge.
FEEDBACK_STATES = frozenset({S.COMPLETED})
# The states before the work begins: an engagement in one of them has nothing to complete.
NOT_STARTED_STATES = frozenset({S.OFFERED, S.ACCEPTED, S.CONFIRMED})
# The moves that take the practical terms (dates, mode, hours) with them.
MOVES_WITH_TERMS = frozenset({"confirm", "start"})
# Who is waiting for whom, for the coordinator's queue of stale engagements.
WAITING_STATES = [S.OFFERED, S.ACCEPTED]
# A need that is filled or closed takes no more offers: its pending ones are withdrawn.
NEED_DONE = frozenset({NeedStatus.FILLED, NeedStatus.CLOSED})
WITHDRAWN_REASONS = {
    NeedStatus.FILLED: N_("The need was filled."),
    NeedStatus.CLOSED: N_("The need was closed."),
}

ACTION_LABELS = {
    "accept": N_("Accept"),
    "decline": N_("Decline"),
    "confirm": N_("Confirm"),
    "start": N_("Mark as started"),
    "complete": N_("Mark as completed"),
    "confirm_completion": N_("Confirm completion"),
    "cancel": N_("Cancel"),
}


def party_of(session: Session, *, engagement: Engagement, user: User) -> Party | None:
    """Tells in which capacity a user takes part in an engagement, if any (see the policy)."""
    expert = (
        experts_repo.get_expert(session, engagement.expert_id)
        if engagement.expert_id is not None
        else None
    )
    return policy.engagement_party(
        policy.reader_for(session, user),
        engagement,
        expert=expert,
        need=needs_repo.get_need(session, engagement.need_id),
    )


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


def not_before(
    engagement: Engagement, *, action: str, terms: EngagementTerms | None = None
) -> date | None:
    """Gets the first day a move may be made on the engagement's agreed dates (None: any day):
    the work starts, and can be reported done, on its start date at the earliest."""
    if action == "start":
        return (terms.start_date if terms else None) or engagement.start_date
    if action == "complete":
        return engagement.start_date
    return None


@dataclass(frozen=True)
class MovesNow:
    """The moves a party may make on an engagement: those open today, and those open later
    (each with the first day it may be made)."""

    actions: list[str]
    later: dict[str, date]


def moves_now(engagement: Engagement, party: Party | None, *, today: date) -> MovesNow:
    """Tells which moves this party may make today, and which only from a later day."""
    actions: list[str] = []
    later: dict[str, date] = {}
    for action in allowed_actions(engagement, party):
        first = not_before(engagement, action=action)
        if first is not None and today < first:
            later[action] = first
        else:
            actions.append(action)
    return MovesNow(actions=actions, later=later)


def _check_move(engagement: Engagement, *, action: str, party: Party | None) -> Move:
    move = MOVES.get(action)
    if move is None:
        raise NotFound("There is no such move.")
    if party is None or party not in move.by:
        raise NotAllowed(NOT_YOUR_MOVE, detail=f"You may not {action} this engagement.")
    if (
        action == "cancel"
        and party == Party.INSTITUTION
        and engagement.status not in INSTITUTION_CANCELLABLE
    ):
        raise NotAllowed(ONLY_STAFF_CANCEL)
    if engagement.status not in move.sources:
        raise _refusal(engagement, move)
    return move


# Why a move was refused, as a page says it (a page shows the engagement as it is now); the
# API's English detail names the states instead.
ALREADY_DONE = N_("This was already done: the engagement is shown as it is now.")
MOVED_ON = N_(
    "This engagement has moved on meanwhile, so that step is no longer possible: "
    "it is shown as it is now."
)
NOT_STARTED_YET = N_(
    "This engagement starts on %(date)s: it cannot be marked as started before then."
)
NOT_STARTED = N_(
    "This engagement has not started yet, so it cannot be marked as completed; if it will not "
    "take place, it can be cancelled instead."
)
NOT_STARTED_ON = N_(
    "This engagement starts on %(date)s: it cannot be marked as completed before it has "
    "started; if it will not take place, it can be cancelled instead."
)
TERMS_NOT_TAKEN = N_(
    "This move does not change the dates, mode or hours: leave them out, or set them on the "
    "engagement's page while it is confirmed."
)
TERMS_CLOSED = N_(
    "The dates, mode and hours can be changed only while the engagement is confirmed and has "
    "not started: it is shown as it is now."
)
NOT_YOUR_MOVE = N_("You may not make this move on this engagement.")
ONLY_STAFF_CANCEL = N_("Once an engagement has started or ended, only a coordinator can cancel it.")
FEEDBACK_NOT_OPEN = N_("Feedback opens once the engagement is completed.")


def _refusal(engagement: Engagement, spec: Move) -> InvalidTransition:
    """Why a move cannot be made from the engagement's current state (a double click, a race)."""
    status, target = str(engagement.status), str(spec.target)
    if target == S.DELIVERED and status in NOT_STARTED_STATES:
        return InvalidTransition(
            NOT_STARTED,
            detail=f"This engagement is {status}: it cannot move to {target}.",
            status=status,
            target=target,
        )
    if status == target:
        return InvalidTransition(
            ALREADY_DONE, detail=f"This engagement is already {status}.", status=status
        )
    return InvalidTransition(
        MOVED_ON,
        detail=f"This engagement is {status}: it cannot move to {target}.",
        status=status,
        target=target,
    )


def _check_dates(
    engagement: Engagement, *, action: str, terms: EngagementTerms | None, now: datetime
) -> None:
    first = not_before(engagement, action=action, terms=terms)
    if first is not None and now.date() < first:
        raise InvalidTransition(
            NOT_STARTED_YET if action == "start" else NOT_STARTED_ON, date=first
        )
    if action != "complete":
        return
    if engagement.started_at is not None and now < engagement.started_at:
        raise InvalidTransition(NOT_STARTED)


def ended_on(engagement: Engagement, *, today: date) -> date:
    """Gets the day an engagement's work ended, marked done today: today when that is before
    the end agreed (it ended early), else the end agreed (marked done on time, or late)."""
    end = engagement.end_date
    return today if end is None or today < end else end


def completion_outcome(engagement: Engagement, *, today: date) -> tuple[str, date]:
    """Tells what marking the work done today records, as a code and its day: "early" (before
    the agreed end, given), "agreed_end" (on or after it: the agreed end is kept) or "today"
    (no end was agreed)."""
    end = ended_on(engagement, today=today)
    if engagement.end_date is None:
        return "today", end
    if end < engagement.end_date:
        return "early", engagement.end_date
    return "agreed_end", end


# The states in which the work is over (done, confirmed done), whatever its dates say.
WORK_OVER_STATES = frozenset({S.DELIVERED, S.COMPLETED})


def work_is_over(engagement: Engagement) -> bool:
    """Tells whether an engagement's work is over: reported done, or stopped after it began."""
    return (
        engagement.status in WORK_OVER_STATES
        or engagement.ended_on is not None
        or (engagement.status == S.CANCELLED and engagement.started_at is not None)
    )


def ended_early(engagement: Engagement) -> bool:
    """Tells whether an engagement's work ended before the end agreed."""
    return (
        engagement.ended_on is not None
        and engagement.end_date is not None
        and engagement.ended_on < engagement.end_date
    )


def _values(
    engagement: Engagement,
    *,
    action: str,
    reason: str,
    terms: EngagementTerms | None,
    now: datetime,
) -> dict[str, Any]:
    """The columns a move writes besides the status."""
    values: dict[str, Any] = {"updated_at": now}
    if reason:
        values["reason"] = reason
    if terms is not None:
        values.update(_terms_values(terms))
    if action in ("accept", "decline"):
        values["responded_at"] = now
    elif action == "confirm":
        values["confirmed_at"] = now
    elif action == "start":
        values["started_at"] = now
        if engagement.start_date is None and "start_date" not in values:
            values["start_date"] = now.date()
    elif action == "complete":
        values["ended_on"] = ended_on(engagement, today=now.date())
    elif action in ("confirm_completion", "cancel"):
        values["closed_at"] = now
    return values


def _lost(session: Session, engagement: Engagement, spec: Move) -> InvalidTransition:
    """The refusal for the loser of a race: the row moved since this request read it."""
    session.refresh(engagement)
    return _refusal(engagement, spec)


# A form drawn before the engagement moved (another tab, the other side): its page, shown
# again, says where it stands now.
ENGAGEMENT_CHANGED = N_(
    "This engagement changed meanwhile (in another tab, or by the other side): nothing was "
    "done. Here is where it stands now; please look at it again."
)
# Why an offer can no longer be answered or confirmed, as catalogue sentences.
OFFER_CLOSED: dict[str, str] = {
    NeedStatus.DRAFT: N_("This need is a draft again: this offer is no longer open."),
    NeedStatus.FILLED: N_("This need is filled: this offer is no longer open."),
    NeedStatus.CLOSED: N_("This need is closed: this offer is no longer open."),
}


def _offer_closed(need: Need | None) -> str:
    if need is None:
        return "This need does not exist."
    return OFFER_CLOSED.get(need.status, "")


def _claim_need(
    session: Session, *, engagement: Engagement, need: Need | None, action: str
) -> None:
    """Checks that the need still takes offers; for a confirmation, that a seat is left.

    The need's row is locked first by a conditional UPDATE on its being open, so two
    confirmations of one need run one after the other (PostgreSQL makes the second wait for
    the first's commit; SQLite has one writer); the confirmed engagements are then counted
    against the experts it asked for (the last seat taken fills it: see `fill_if_full`).
    """
    if need is None or need.status != NeedStatus.OPEN:
        raise InvalidTransition(_offer_closed(need))
    if action != "confirm":
        return
    locked = needs_repo.lock_open(session, need.id or 0)
    confirmed = engagements_repo.count_confirmed(session, need.id or 0) if locked else 0
    if not locked or confirmed >= need.experts_wanted:
        session.refresh(need)
        session.refresh(engagement)
        if engagement.status not in MOVES[action].sources:
            raise _lost(session, engagement, MOVES[action])
        raise InvalidTransition(_offer_closed(need) or OFFER_CLOSED[NeedStatus.FILLED])


def fill_if_full(
    session: Session,
    *,
    need: Need,
    actor: User | None,
    settings: Settings,
    now: datetime,
    engagement_id: int | None = None,
) -> bool:
    """Marks an open need filled once as many experts are confirmed as it asked for (one
    conditional move), and withdraws its pending proposals and offers; tells whether it did.

    The caller's transaction holds the need's row (a confirmation, an edit of the need).
    """
    if need.status != NeedStatus.OPEN:
        return False
    confirmed, wanted = confirmed_seats(session, need)
    if confirmed < wanted or not needs_repo.move_status(
        session,
        need.id or 0,
        source=NeedStatus.OPEN,
        target=NeedStatus.FILLED,
        values={"updated_at": now},
    ):
        return False
    session.refresh(need)
    record(
        session,
        actor=actor,
        action="need.filled",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.OPEN,
        to_state=NeedStatus.FILLED,
        data={"engagement_id": engagement_id} if engagement_id else {"confirmed": confirmed},
    )
    withdraw_pending(session, need=need, actor=actor, settings=settings, now=now)
    return True


def reopen_if_seat_freed(
    session: Session,
    *,
    need: Need,
    engagement: Engagement,
    actor: User | None,
    settings: Settings,
    now: datetime,
) -> bool:
    """Opens a need again when the engagement just ended early took one of the seats that had
    filled it, unless the need's dates are over (one conditional move); re-matching is queued
    and the institution and the approving coordinator are told. Tells whether it did.

    The caller's transaction holds the need's row, locked before the engagement moved.
    """
    if need.status != NeedStatus.FILLED or dates_over(need, today=now.date()):
        return False
    confirmed, wanted = confirmed_seats(session, need)
    # Filled by hand with seats left (confirmed + 1 < wanted): the institution's choice stands.
    if confirmed + 1 != wanted or not needs_repo.move_status(
        session,
        need.id or 0,
        source=NeedStatus.FILLED,
        target=NeedStatus.OPEN,
        values={"updated_at": now},
    ):
        return False
    session.refresh(need)
    record(
        session,
        actor=actor,
        action="need.reopened",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.FILLED,
        to_state=NeedStatus.OPEN,
        data={"engagement_id": engagement.id, "confirmed": confirmed, "wanted": wanted},
    )
    changes.need_reopened(
        session,
        need,
        confirmed=confirmed,
        told=[*_members(session, need), approving_coordinator(session, engagement)],
        settings=settings,
        now=now,
    )
    return True


def reopen_for_more(
    session: Session, *, need: Need, actor: User | None, settings: Settings, now: datetime
) -> bool:
    """Opens a filled need again once it asks for more experts than are confirmed (one
    conditional move), unless its dates are over; re-matching is queued, and the coordinators
    of the need and its institution's members (but the one who asked) are told. Tells whether
    it did.

    The caller's transaction holds the need's row (an edit of the need).
    """
    if need.status != NeedStatus.FILLED or dates_over(need, today=now.date()):
        return False
    confirmed, wanted = confirmed_seats(session, need)
    if confirmed >= wanted or not needs_repo.move_status(
        session,
        need.id or 0,
        source=NeedStatus.FILLED,
        target=NeedStatus.OPEN,
        values={"updated_at": now},
    ):
        return False
    session.refresh(need)
    record(
        session,
        actor=actor,
        action="need.reopened",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.FILLED,
        to_state=NeedStatus.OPEN,
        data={"confirmed": confirmed, "wanted": wanted},
    )
    coordinators = users_repo.coordinators_of_need(
        session, need_id=need.id or 0, institution_id=need.institution_id
    )
    told = [*_members(session, need), *coordinators]
    changes.need_reopened(
        session,
        need,
        confirmed=confirmed,
        told=[user for user in told if actor is None or user.id != actor.id],
        settings=settings,
        now=now,
        kind="need.reopened.more",
    )
    return True


def dates_over(need: Need, *, today: date) -> bool:
    """Tells whether the work a need asks for would have ended by now (see Need.ends_on): such a
    need does not open again."""
    ends_on = need.ends_on()
    return ends_on is not None and ends_on < today


def confirmed_seats(session: Session, need: Need) -> tuple[int, int]:
    """Counts a need's confirmed experts against the number it asked for."""
    return engagements_repo.count_confirmed(session, need.id or 0), need.experts_wanted


def confirmed_among(engagements: Iterable[Engagement | None]) -> int:
    """Counts the confirmed engagements among a need's (what `confirmed_seats` counts, from
    engagements a page has already read)."""
    return sum(1 for e in engagements if e is not None and e.status in CONTACT_STATES)


def move(
    session: Session,
    *,
    engagement: Engagement,
    actor: User,
    action: str,
    settings: Settings,
    reason: str = "",
    terms: EngagementTerms | None = None,
    seen: str | None = None,
    now: datetime | None = None,
) -> Engagement:
    """Makes a move if this actor may make it from the current state; refusals change nothing.

    The move is one conditional UPDATE on the status the actor saw (`seen`, else the one this
    request read): of two requests racing, one wins and the other gets InvalidTransition
    (409), with nothing recorded.
    """
    party = party_of(session, engagement=engagement, user=actor)
    if party is None:
        raise NotFound("This engagement does not exist.")
    spec = _check_move(engagement, action=action, party=party)
    if seen is not None and engagement.status != seen:
        raise InvalidTransition(ENGAGEMENT_CHANGED)
    reason = reason.strip()
    if spec.needs_reason and not reason:
        raise FieldErrors({"reason": N_("Please give a reason.")})
    if terms is not None:
        if action not in MOVES_WITH_TERMS:
            given = terms.model_dump(exclude_none=True)
            raise FieldErrors({name: TERMS_NOT_TAKEN for name in given})
        _check_terms(engagement, terms)
    now = now or utcnow()
    _check_dates(engagement, action=action, terms=terms, now=now)
    data = {"as": str(party), **({"terms": terms.model_dump(mode="json")} if terms else {})}
    need = _apply(
        session,
        engagement=engagement,
        action=action,
        actor=actor,
        reason=reason,
        terms=terms,
        data=data,
        settings=settings,
        now=now,
    )
    _tell_parties(
        session, engagement=engagement, need=need, action=action, actor=actor, settings=settings
    )
    return engagement


def _apply(
    session: Session,
    *,
    engagement: Engagement,
    action: str,
    actor: User | None,
    reason: str,
    terms: EngagementTerms | None,
    data: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> Need | None:
    """Makes a move already allowed, as one conditional UPDATE on the state read, with what
    follows it (recorded; a seat taken fills the need, a seat freed may open it again); the
    loser of a race gets InvalidTransition. Returns the engagement's need."""
    spec = MOVES[action]
    need = needs_repo.get_need(session, engagement.need_id)
    previous = engagement.status
    # The need is locked first (confirming takes a seat, cancelling a confirmed engagement
    # frees one), so racing moves never deadlock and count the seats one after the other.
    if spec.need_open:
        _claim_need(session, engagement=engagement, need=need, action=action)
    frees_seat = action == "cancel" and previous in engagements_repo.CONFIRMED_STATES
    if frees_seat and need is not None:
        needs_repo.lock_needs(session, ids=[need.id or 0])
    values = _values(engagement, action=action, reason=reason, terms=terms, now=now)
    won = engagements_repo.move_status(
        session, engagement.id or 0, sources=[previous], target=spec.target, values=values
    )
    if not won:
        raise _lost(session, engagement, spec)
    session.refresh(engagement)
    changes.engagement_moved(session, engagement_id=engagement.id or 0, previous=previous, now=now)
    record(
        session,
        actor=actor,
        action=f"engagement.{action}",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=previous,
        to_state=engagement.status,
        reason=reason,
        data=data,
    )
    if action == "confirm" and need is not None:
        fill_if_full(
            session,
            need=need,
            actor=actor,
            settings=settings,
            now=now,
            engagement_id=engagement.id,
        )
    elif frees_seat and need is not None:
        reopen_if_seat_freed(
            session, need=need, engagement=engagement, actor=actor, settings=settings, now=now
        )
    return need


EXPERT_LEFT = N_("The expert closed their account.")
# What an expert's closing their account cancels: the engagements whose work is not done. A
# delivered one (the work done, the institution's agreement awaited) is kept, as are those
# that ended: they stay, anonymised, for the programme's statistics.
CANCELLED_ON_ERASURE = (S.OFFERED, S.ACCEPTED, S.CONFIRMED, S.ACTIVE)


def current_for_expert(session: Session, expert_id: int) -> list[Engagement]:
    """Lists the engagements an expert closing their account would cancel, oldest first."""
    return engagements_repo.list_for_expert(session, expert_id, statuses=CANCELLED_ON_ERASURE)


def cancel_for_erasure(
    session: Session, *, expert_id: int, actor: User, settings: Settings, now: datetime
) -> list[int]:
    """Cancels, for an expert closing their account, each engagement whose work is not done,
    as a coordinator's cancel does (one conditional move each, recorded; a seat freed opens a
    filled need again); tells each institution's members and the approving coordinator, and
    queues the ranking of the needs left open. Returns the ids cancelled."""
    cancelled: list[int] = []
    needs: dict[int, Need] = {}
    for engagement in current_for_expert(session, expert_id):
        # Moved meanwhile by someone else (confirmed, started): cancelled from where it is now
        # (each try that loses saw it move forward, so there are at most as many as states).
        for _ in CANCELLED_ON_ERASURE:
            if engagement.status not in CANCELLED_ON_ERASURE:
                break
            try:
                need = _apply(
                    session,
                    engagement=engagement,
                    action="cancel",
                    actor=actor,
                    reason=EXPERT_LEFT,
                    terms=None,
                    data={"as": str(Party.EXPERT), "account_closed": True},
                    settings=settings,
                    now=now,
                )
            except InvalidTransition:
                continue
            cancelled.append(engagement.id or 0)
            if need is not None:
                needs[need.id or 0] = need
                _tell_expert_left(
                    session, engagement=engagement, need=need, settings=settings, now=now
                )
            break
    for need in needs.values():
        if need.status == NeedStatus.OPEN:
            changes.queue_need_rematch(session, need_id=need.id or 0)
    return cancelled


def _tell_expert_left(
    session: Session, *, engagement: Engagement, need: Need, settings: Settings, now: datetime
) -> None:
    params = _params(session, engagement, need)
    seen: set[int] = set()
    for user in [*_members(session, need), approving_coordinator(session, engagement)]:
        if user is None or user.id in seen:
            continue
        seen.add(user.id or 0)
        notify(
            session,
            user=user,
            kind="engagement.expert_left",
            params=params,
            link=link_for(user, engagement),
            settings=settings,
            now=now,
            engagement_id=engagement.id,
        )


def withdraw_pending(
    session: Session,
    *,
    need: Need,
    actor: User | None,
    settings: Settings,
    now: datetime | None = None,
) -> list[int]:
    """Withdraws a filled or closed need's pending proposals and offers; tells those experts.

    Returns the ids of the offers withdrawn. Runs in the transaction that changed the need.
    """
    if need.status not in NEED_DONE:
        return []
    now = now or utcnow()
    spec = MOVES["withdraw"]
    reason = WITHDRAWN_REASONS[NeedStatus(need.status)]
    proposal_ids = proposals_repo.withdraw_pending_for_need(session, need.id or 0, now=now)
    if proposal_ids:
        record(
            session,
            actor=actor,
            action="need.proposals_withdrawn",
            entity_type="need",
            entity_id=need.id,
            to_state=need.status,
            data={"proposal_ids": proposal_ids},
        )
    # In the order of the flow: an offer accepted meanwhile is caught by the next statement.
    moved = engagements_repo.move_all_for_need(
        session,
        need.id or 0,
        sources=[status for status in S if status in spec.sources],
        target=spec.target,
        values={"updated_at": now, "closed_at": now, "reason": reason},
    )
    for engagement_id, previous in moved:
        engagement = engagements_repo.get_engagement(session, engagement_id, fresh=True)
        if engagement is None:
            continue
        changes.engagement_moved(session, engagement_id=engagement_id, previous=previous, now=now)
        record(
            session,
            actor=actor,
            action="engagement.withdraw",
            entity_type="engagement",
            entity_id=engagement_id,
            from_state=previous,
            to_state=spec.target,
            reason=reason,
            data={"need_status": need.status},
        )
        expert = expert_user(session, engagement)
        if expert is not None:
            notify(
                session,
                user=expert,
                kind="offer.withdrawn",
                params=_params(session, engagement, need),
                link=link_for(expert, engagement),
                settings=settings,
                now=now,
                engagement_id=engagement_id,
            )
    return [engagement_id for engagement_id, _ in moved]


END_BEFORE_START = N_("The end date must not be before the start date.")


def _check_terms(engagement: Engagement, terms: EngagementTerms) -> None:
    start = terms.start_date or engagement.start_date
    end = terms.end_date or engagement.end_date
    if start and end and end < start:
        raise FieldErrors({"end_date": END_BEFORE_START})


def set_terms(
    session: Session,
    *,
    engagement: Engagement,
    actor: User,
    terms: EngagementTerms,
    settings: Settings,
    seen: str | None = None,
    now: datetime | None = None,
) -> Engagement:
    """Sets an engagement's dates, mode and agreed hours, which its two sides (or a coordinator)
    agree once it is confirmed, until the work begins; the others are told (one side alone
    must not move what both agreed unseen).

    One conditional UPDATE on the state read: if the engagement started (or was cancelled)
    meanwhile, nothing changes and the caller gets InvalidTransition (409).
    """
    party = party_of(session, engagement=engagement, user=actor)
    if party is None:
        raise NotFound("This engagement does not exist.")
    if not policy.may_set_engagement_terms(party):
        raise NotAllowed(NOT_YOUR_MOVE)
    if seen is not None and engagement.status != seen:
        raise InvalidTransition(ENGAGEMENT_CHANGED)
    if not policy.engagement_terms_open(engagement):
        raise _terms_closed(engagement)
    _check_terms(engagement, terms)
    now = now or utcnow()
    status = str(engagement.status)
    values = {**_terms_values(terms), "updated_at": now}
    if not engagements_repo.move_status(
        session, engagement.id or 0, sources=[status], target=status, values=values
    ):
        session.refresh(engagement)
        raise _terms_closed(engagement)
    session.refresh(engagement)
    record(
        session,
        actor=actor,
        action="engagement.terms",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=status,
        to_state=status,
        data={"as": str(party), "terms": terms.model_dump(mode="json", exclude_none=True)},
    )
    need = needs_repo.get_need(session, engagement.need_id)
    _tell_parties(
        session, engagement=engagement, need=need, action="terms", actor=actor, settings=settings
    )
    return engagement


def _terms_closed(engagement: Engagement) -> InvalidTransition:
    status = str(engagement.status)
    return InvalidTransition(
        TERMS_CLOSED,
        detail=f"This engagement is {status}: its terms are set while it is confirmed.",
        status=status,
    )


def _terms_values(terms: EngagementTerms) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if terms.start_date is not None:
        values["start_date"] = terms.start_date
    if terms.end_date is not None:
        values["end_date"] = terms.end_date
    if terms.mode is not None:
        values["mode"] = str(terms.mode)
    if terms.agreed_hours is not None:
        values["agreed_hours"] = terms.agreed_hours
    return values


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
        "complete": "engagement.delivered",
        "confirm_completion": "engagement.completed",
        "cancel": "engagement.cancelled",
        "terms": "engagement.terms",
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
            engagement_id=engagement.id,
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
    """Records one side's feedback, once, once the engagement is completed."""
    party = party_of(session, engagement=engagement, user=actor)
    if party is None:
        raise NotFound("This engagement does not exist.")
    policy.require(policy.reader_for(session, actor), policy.Action.GIVE_FEEDBACK)
    if engagement.status not in FEEDBACK_STATES:
        raise InvalidTransition(
            FEEDBACK_NOT_OPEN,
            detail=(
                f"This engagement is {engagement.status}: feedback opens once it is completed."
            ),
            status=str(engagement.status),
        )
    if engagements_repo.get_feedback(session, engagement.id or 0, str(party)) is not None:
        raise Conflict("You have already given your feedback on this engagement.")
    stored = engagements_repo.add_feedback_once(
        session,
        EngagementFeedback(
            engagement_id=engagement.id or 0,
            side=str(party),
            created_at=now or utcnow(),
            **data.model_dump(),
        ),
    )
    if stored is None:  # sent twice at once: the other request stored it
        raise Conflict("You have already given your feedback on this engagement.")
    feedback = stored
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
    spec = MOVES["expire"]
    if engagement.status not in spec.sources:
        raise InvalidTransition(f"This engagement is {engagement.status}: it cannot expire.")
    previous = engagement.status
    won = engagements_repo.move_status(
        session,
        engagement.id or 0,
        sources=[previous],
        target=spec.target,
        values={"updated_at": now, "closed_at": now},
    )
    if not won:
        raise _lost(session, engagement, spec)
    session.refresh(engagement)
    changes.engagement_moved(session, engagement_id=engagement.id or 0, previous=previous, now=now)
    record(
        session,
        actor=None,
        action="engagement.expire",
        entity_type="engagement",
        entity_id=engagement.id,
        from_state=previous,
        to_state=spec.target,
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
            engagement_id=engagement.id,
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
            engagement_id=engagement.id,
        )
    return engagement


def expire_due_offers(session: Session, *, settings: Settings, now: datetime) -> int:
    """Expires every offer whose answer time is over; returns how many."""
    expired = 0
    for engagement in engagements_repo.offers_to_expire(session, now=now):
        try:
            expire_offer(session, engagement=engagement, settings=settings, now=now)
        except InvalidTransition:
            continue  # answered (or withdrawn) meanwhile: the answer stands
        expired += 1
    return expired


def remind_due_offers(session: Session, *, settings: Settings, now: datetime) -> int:
    """Reminds experts of offers that expire within `offer_reminder_days`, once each."""
    until = now + timedelta(days=settings.offer_reminder_days)
    reminded = 0
    for engagement in engagements_repo.offers_to_remind(session, now=now, until=until):
        if not engagements_repo.mark_reminded(session, engagement.id or 0, now=now):
            continue  # another worker reminded it, or it was answered meanwhile
        session.refresh(engagement)
        reminded += 1
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
            engagement_id=engagement.id,
        )
    return reminded


def state_since(engagement: Engagement) -> datetime:
    """Says when an engagement came to its present state."""
    return {
        S.OFFERED: engagement.offered_at,
        S.ACCEPTED: engagement.responded_at,
        S.DECLINED: engagement.responded_at,
        S.CONFIRMED: engagement.confirmed_at,
        S.ACTIVE: engagement.started_at,
        S.EXPIRED: engagement.closed_at,
        S.COMPLETED: engagement.closed_at,
        S.CANCELLED: engagement.closed_at,
    }.get(S(engagement.status)) or engagement.updated_at


def engagement_view(
    session: Session,
    *,
    engagement: Engagement,
    reader: User,
    party: Party | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Gets what a reader may see of an engagement: the expert's contact only once confirmed,
    the moves open to them today, and those open from a later day."""
    party = party or party_of(session, engagement=engagement, user=reader)
    moves = moves_now(engagement, party, today=today or utcnow().date())
    need = needs_repo.get_need(session, engagement.need_id)
    institution = institutions_repo.get_institution(session, need.institution_id) if need else None
    expert_data: dict[str, Any] | None = None
    if engagement.expert_id is not None:
        expert = experts_repo.get_expert(session, engagement.expert_id)
        if expert is not None:
            expert_data = view_for(
                session,
                expert,
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
        "actions": moves.actions,
        "actions_later": {action: day.isoformat() for action, day in moves.later.items()},
        "can_set_terms": policy.may_set_engagement_terms(party)
        and policy.engagement_terms_open(engagement),
        "ended_early": ended_early(engagement),
        "can_give_feedback": (
            party in (Party.EXPERT, Party.INSTITUTION)
            and engagement.status in FEEDBACK_STATES
            and all(item.side != str(party) for item in feedback)
        ),
    }
