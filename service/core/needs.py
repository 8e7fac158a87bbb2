"""Needs: posting and editing them, and who may read which."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from service.config import Settings
from service.core import policy
from service.core.audit import record
from service.core.changes import need_changed, need_edited
from service.core.engagements import dates_over, fill_if_full, reopen_for_more, withdraw_pending
from service.errors import Conflict, FieldErrors, Gone, NotAllowed, NotFound
from service.i18n import N_, NN_
from service.models import AuditEvent, ExpertProfile, Institution, Need, NeedStatus, User
from service.models.types import utcnow
from service.repos import audit as audit_repo
from service.repos import engagements as engagements_repo
from service.repos import needs as needs_repo
from service.schemas.needs import NeedCreate, NeedWrite


def need_columns(data: NeedWrite | NeedCreate) -> dict[str, Any]:
    """Gets a need's columns from what was written: dates stay dates, choices plain strings."""
    # A JSON-mode dump would hand the Date columns ISO strings, which SQLite refuses.
    values = data.model_dump()
    values["mode"] = str(data.mode)
    values["status"] = str(data.status)
    values["support"] = [str(item) for item in data.support]
    return values


def post_need(
    session: Session, *, institution: Institution, author: User, data: NeedCreate
) -> Need:
    """Creates a need, open or a draft (only drafts while the institution awaits verification)."""
    reader = policy.reader_for(session, author)
    policy.require(reader, policy.Action.WRITE_DRAFT_NEED)
    policy.require_need_status(reader, data.status)
    need = Need(
        institution_id=institution.id or 0,
        created_by_id=author.id,
        **need_columns(data),
    )
    if need.status == NeedStatus.OPEN:
        need.posted_at = utcnow()
    session.add(need)
    session.flush()
    record(
        session,
        actor=author,
        action="need.posted",
        entity_type="need",
        entity_id=need.id,
        to_state=need.status,
    )
    need_changed(session, need)
    return need


NEED_CHANGED = N_(
    "This need was changed (in another tab, or by someone else) after you opened this form, "
    "so your changes were not saved. They are still in the form below: compare them with the "
    "need's page, then save again to keep them."
)


def edit_need(
    session: Session,
    *,
    need: Need,
    actor: User,
    data: NeedWrite,
    settings: Settings,
    seen: datetime | None = None,
) -> Need:
    """Saves changes to a need; once filled or closed, its pending offers are withdrawn.

    An institution awaiting verification may not publish it. Given the version a form was
    drawn from (`seen`, the need's `updated_at` then), a need changed since is left as it is
    (409): of two people editing at once, the second is told instead of undoing the first.
    It may not ask for fewer experts than are confirmed (422 on `experts_wanted`); asking for
    as many fills it, as the last confirmation would. A filled need asked for more experts
    than are confirmed (and kept filled or open) opens again, as a seat freed opens it; one
    whose dates are over cannot take more (422 on `experts_wanted`).
    """
    policy.require_need_status(policy.reader_for(session, actor), data.status)
    # Locked first, as a confirmation locks it: the seats counted stay as counted.
    needs_repo.lock_needs(session, ids=[need.id or 0])
    _check_seats(session, need=need, data=data)
    now = utcnow()
    more = _asks_for_more(session, need=need, data=data, now=now)
    if seen is not None and not needs_repo.stamp_if_unchanged(
        session, need.id or 0, seen=seen, now=now
    ):
        raise Conflict(NEED_CHANGED)
    previous = need.status
    before = need.model_dump()
    for name, value in need_columns(data).items():
        setattr(need, name, value)
    if more:
        # Saved filled, then opened by the one conditional move that records and tells it.
        need.status = NeedStatus.FILLED
    if need.status == NeedStatus.OPEN and need.posted_at is None:
        need.posted_at = now
    need.updated_at = now
    session.add(need)
    record(
        session,
        actor=actor,
        action="need.edited",
        entity_type="need",
        entity_id=need.id,
        from_state=previous,
        to_state=need.status,
    )
    session.flush()
    if more:
        reopen_for_more(session, need=need, actor=actor, settings=settings, now=now)
    elif not fill_if_full(session, need=need, actor=actor, settings=settings, now=now):
        withdraw_pending(session, need=need, actor=actor, settings=settings, now=now)
    need_edited(session, need, before=before, actor=actor, settings=settings)
    return need


SEATS_TAKEN = NN_(
    "%(num)s expert is already confirmed for this need; ask for at least %(num)s.",
    "%(num)s experts are already confirmed for this need; ask for at least %(num)s.",
)


def _check_seats(session: Session, *, need: Need, data: NeedWrite) -> None:
    """Refuses fewer experts than are confirmed; a number kept as it was (written before this
    rule) is let through, so the need can still be closed or reworded."""
    if data.experts_wanted == need.experts_wanted:
        return
    confirmed = engagements_repo.count_confirmed(session, need.id or 0)
    if data.experts_wanted < confirmed:
        singular, plural = SEATS_TAKEN
        raise FieldErrors(
            {"experts_wanted": singular},
            params={"experts_wanted": {"num": confirmed}},
            plurals={"experts_wanted": plural},
        )


DATES_OVER = N_(
    "The dates of this need are over, so it cannot open again for more experts: move its "
    "start dates later as well, or post a new need."
)


def _asks_for_more(session: Session, *, need: Need, data: NeedWrite, now: datetime) -> bool:
    """Tells whether an edit asks a filled need for more experts than are confirmed, keeping it
    filled or open (then it opens again); refuses it when the dates written are over."""
    if need.status != NeedStatus.FILLED or data.status not in (NeedStatus.FILLED, NeedStatus.OPEN):
        return False
    if data.experts_wanted <= need.experts_wanted:
        return False
    if data.experts_wanted <= engagements_repo.count_confirmed(session, need.id or 0):
        return False
    if dates_over(Need(**need_columns(data)), today=now.date()):
        raise FieldErrors({"experts_wanted": DATES_OVER})
    return True


def open_offer_count(session: Session, *, need: Need) -> int:
    """Counts the experts with an open offer on a need (they are told when it changes)."""
    offers = engagements_repo.open_offers_for_need(session, need.id or 0)
    return len({engagement.expert_id for engagement in offers})


class NeedSaved(StrEnum):
    """What saving a need did, as its institution is told (the pages word each one)."""

    PUBLISHED = "published"  # opened for the first time: the matcher ranks experts for it
    REOPENED = "reopened"  # open again after it was filled or closed
    DRAFTED = "drafted"  # kept as a draft: only its institution sees it
    SAVED = "saved"  # changed, and still open
    FILLED = "filled"
    CLOSED = "closed"


def is_posted(need: Need | None) -> bool:
    """Tells whether a need was published (experts are ranked for it): not new, not a draft."""
    return need is not None and need.status != NeedStatus.DRAFT


class NeedStage(StrEnum):
    """Where the work for a need stands, for its institution."""

    DRAFT = "draft"
    # Published, no expert confirmed yet: matching, review and offers come next.
    MATCHING = "matching"
    # An expert is confirmed, and their work is not over.
    UNDER_WAY = "under_way"
    # Every confirmed engagement is completed.
    DONE = "done"
    # Filled or closed with no engagement confirmed.
    ENDED = "ended"


WORK_IN_PROGRESS = frozenset({"confirmed", "active", "delivered"})


def need_stage(session: Session, *, need: Need) -> NeedStage:
    """Tells where the work for a need stands, from its status and its engagements'."""
    if need.status == NeedStatus.DRAFT:
        return NeedStage.DRAFT
    statuses = engagements_repo.statuses_for_need(session, need.id or 0)
    if statuses & WORK_IN_PROGRESS:
        return NeedStage.UNDER_WAY
    if "completed" in statuses:
        return NeedStage.DONE
    if need.status == NeedStatus.OPEN:
        return NeedStage.MATCHING
    return NeedStage.ENDED


def need_saved(previous: str | None, current: str) -> NeedSaved:
    """Tells what saving a need did from its status before (None: a new need) and after."""
    if current == NeedStatus.OPEN:
        if previous in (None, NeedStatus.DRAFT):
            return NeedSaved.PUBLISHED
        return NeedSaved.SAVED if previous == NeedStatus.OPEN else NeedSaved.REOPENED
    return {
        NeedStatus.DRAFT: NeedSaved.DRAFTED,
        NeedStatus.FILLED: NeedSaved.FILLED,
        NeedStatus.CLOSED: NeedSaved.CLOSED,
    }.get(NeedStatus(current), NeedSaved.SAVED)


NOT_A_DRAFT = N_(
    "This need is no longer a draft, so it cannot be published from here: open it to see where "
    "it stands."
)


def publish_need(session: Session, *, need: Need, actor: User) -> Need:
    """Publishes a draft as it stands, in one conditional move (of two clicks, one publishes
    and the other is told); the matcher then ranks experts for it."""
    reader = policy.reader_for(session, actor)
    policy.require_need_status(reader, NeedStatus.OPEN)
    if not policy.may_edit_need(reader, need):
        raise NotAllowed()
    now = utcnow()
    won = need.status == NeedStatus.DRAFT and needs_repo.move_status(
        session,
        need.id or 0,
        source=NeedStatus.DRAFT,
        target=NeedStatus.OPEN,
        values={"posted_at": need.posted_at or now, "updated_at": now},
    )
    if not won:
        raise Conflict(NOT_A_DRAFT)
    session.refresh(need)
    record(
        session,
        actor=actor,
        action="need.published",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.DRAFT,
        to_state=NeedStatus.OPEN,
    )
    need_changed(session, need)
    return need


NOT_A_DRAFT_TO_DISCARD = N_(
    "This need is no longer a draft, so it cannot be discarded: open it to see where it stands."
)


def discard_draft(session: Session, *, need: Need, actor: User) -> Need:
    """Discards a draft its institution no longer wants: closed in one conditional move (of two
    clicks, one discards and the other is told). Nobody else ever saw it and no expert was
    proposed for it, so unlike closing an open need there are no offers to withdraw."""
    reader = policy.reader_for(session, actor)
    policy.require(reader, policy.Action.DISCARD_DRAFT)
    if not policy.may_edit_need(reader, need):
        raise NotAllowed()
    won = need.status == NeedStatus.DRAFT and needs_repo.move_status(
        session,
        need.id or 0,
        source=NeedStatus.DRAFT,
        target=NeedStatus.CLOSED,
        values={"updated_at": utcnow()},
    )
    if not won:
        raise Conflict(NOT_A_DRAFT_TO_DISCARD)
    session.refresh(need)
    record(
        session,
        actor=actor,
        action="need.discarded",
        entity_type="need",
        entity_id=need.id,
        from_state=NeedStatus.DRAFT,
        to_state=NeedStatus.CLOSED,
    )
    need_changed(session, need)
    return need


# What an expert is told of a need that is no longer open.
NEED_ENDED: dict[str, str] = {
    NeedStatus.FILLED: N_("This need is filled: the institution is no longer looking for experts."),
    NeedStatus.CLOSED: N_("This need is closed: the institution is no longer looking for experts."),
}


def seen_need(session: Session, *, need_id: int, reader: User) -> tuple[Need, policy.NeedView]:
    """Gets a need with what this reader sees of it (see policy.need_view); hidden ones are not
    found."""
    need = needs_repo.get_need(session, need_id)
    if need is None:
        raise NotFound("This need does not exist.")
    who = policy.reader_for(session, reader)
    # Only an expert reading a need that is no longer open needs to know whether it was theirs.
    engaged = (
        who.kind == policy.ReaderKind.EXPERT
        and who.expert_id is not None
        and need.status != NeedStatus.OPEN
        and engagements_repo.offered_to(session, need_id=need_id, expert_id=who.expert_id)
    )
    view = policy.need_view(who, need, engaged=engaged)
    if view == policy.NeedView.HIDDEN:
        raise NotFound("This need does not exist.")
    return need, view


def readable_need(session: Session, *, need_id: int, reader: User) -> Need:
    """Gets a need this reader may read in full; one that ended is gone (410), others are not
    found."""
    need, view = seen_need(session, need_id=need_id, reader=reader)
    if view == policy.NeedView.ENDED:
        raise Gone(NEED_ENDED.get(need.status, ""))
    return need


def editable_need(session: Session, *, need_id: int, editor: User) -> Need:
    """Gets a need this user may edit: staff, or a member of its institution."""
    need = readable_need(session, need_id=need_id, reader=editor)
    if not policy.may_edit_need(policy.reader_for(session, editor), need):
        raise NotAllowed()
    return need


def set_widen_modes(session: Session, *, need: Need, coordinator: User, widen: bool) -> Need:
    """Lets experts of other engagement modes be proposed for a need (ranked down), or not."""
    if need.widen_modes == widen:
        return need
    need.widen_modes = widen
    need.updated_at = utcnow()
    session.add(need)
    record(
        session,
        actor=coordinator,
        action="need.modes_widened" if widen else "need.modes_narrowed",
        entity_type="need",
        entity_id=need.id,
    )
    need_changed(session, need)
    return need


INTEREST = "need.interest"
INTEREST_WITHDRAWN = "need.interest_withdrawn"


def express_interest(session: Session, *, need: Need, expert: ExpertProfile, actor: User) -> bool:
    """Records that an expert is interested in an open need (once); tells whether it is new."""
    if need.status != NeedStatus.OPEN:
        raise Gone(NEED_ENDED.get(need.status, ""))
    if (expert.id or 0) in interested_experts(session, need_id=need.id or 0):
        return False
    record(
        session,
        actor=actor,
        action=INTEREST,
        entity_type="need",
        entity_id=need.id,
        data={"expert_id": expert.id},
    )
    return True


def withdraw_interest(session: Session, *, need: Need, expert: ExpertProfile, actor: User) -> bool:
    """Withdraws an expert's interest in an open need; tells whether they had said it."""
    if need.status != NeedStatus.OPEN:
        raise Gone(NEED_ENDED.get(need.status, ""))
    if (expert.id or 0) not in interested_experts(session, need_id=need.id or 0):
        return False
    record(
        session,
        actor=actor,
        action=INTEREST_WITHDRAWN,
        entity_type="need",
        entity_id=need.id,
        data={"expert_id": expert.id},
    )
    return True


def interested_experts(session: Session, *, need_id: int) -> set[int]:
    """Gets the ids of the experts who said they are interested in a need."""
    return _interested(audit_repo.events_about(session, entity_type="need", entity_ids=[need_id]))


def _interested(need_events: Sequence[AuditEvent | Row[Any]]) -> set[int]:
    """The experts whose latest word on the need (the events come newest first) is their
    interest, not its withdrawal."""
    said: dict[int, bool] = {}
    for e in need_events:
        if e.action in (INTEREST, INTEREST_WITHDRAWN) and isinstance(e.data.get("expert_id"), int):
            said.setdefault(int(e.data["expert_id"]), e.action == INTEREST)
    return {expert_id for expert_id, interested in said.items() if interested}


def review_history(
    session: Session, *, need_id: int, proposal_ids: list[int]
) -> tuple[set[int], list[Row[Any]]]:
    """Gets what the review page shows of a need's events, reading them once: the experts
    interested in it (as `interested_experts`) and its history with its proposals' approvals
    and rejections, newest first (plain rows, in one query)."""
    need_events, proposal_events = audit_repo.need_history(
        session, need_id=need_id, proposal_ids=proposal_ids
    )
    events = sorted(need_events + proposal_events, key=lambda e: e.id or 0, reverse=True)
    return _interested(need_events), events
