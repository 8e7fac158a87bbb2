"""What follows a change to an expert, a need or an institution: indexes and matcher catch up,
and an expert institutions may no longer be proposed (consent withdrawn, "coordinators only",
deactivated, erased) leaves no proposal pending and no offer open.

Both are recorded in the caller's transaction (an outbox row, a job queued here with
service.core.jobs, whichever process makes the change), so a change is never lost and never
waits on the search engine or the encoder. One thing does not wait for the queue: an expert
who leaves the institutions' index (coordinators only, consent withdrawn, deactivated) is
removed from it as soon as the change commits, by the request itself, when its session
carries the search backend (`SEARCH_KEY`, set by `service.deps.get_session`).
The outbox row stays as the reliable path, should the backend be down at that moment.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from service.config import Settings
from service.core import notifications, policy
from service.core.audit import record
from service.core.jobs import (
    EMBED_SKILLS,
    REMATCH_EXPERT,
    REMATCH_NEED,
    enqueue,
    need_rematch_key,
    rematch_key,
)
from service.core.public_vectors import need_document_vector, public_document_vector
from service.core.search_vectors import document_vector
from service.i18n import N_
from service.models import (
    EngagementStatus,
    ExpertProfile,
    Institution,
    InstitutionInvitation,
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
from service.search import SearchBackend, outbox
from service.search.documents import EXPERTS_PUBLIC, expert_documents

log = logging.getLogger(__name__)
# session.info keys: the search backend a request's session may write to, and the experts
# to take out of the institutions' index once the transaction commits.
SEARCH_KEY = "homeward.search"
_WITHDRAW_KEY = "homeward.withdraw_public"


def expert_document(session: Session, expert: ExpertProfile) -> dict[str, Any]:
    """Maps an expert to the fields the search documents are projected from."""
    return {
        **expert.model_dump(mode="json"),
        "languages": expert.language_codes,
        "email": experts_repo.get_expert_email(session, expert),
        "active": policy.in_matching(
            active=expert.active, consenting=expert.consent_matching_at is not None
        ),
        "embedding": document_vector(session, expert.id) if expert.id else None,
        "public_embedding": public_document_vector(session, expert.id) if expert.id else None,
    }


def need_document(session: Session, need: Need) -> dict[str, Any]:
    """Maps a need to the fields its search document is projected from."""
    institution = institutions_repo.get_institution(session, need.institution_id)
    return {
        **need.model_dump(mode="json"),
        "skills": need.required_skills,
        "country": institution.country if institution else "",
        "institution_name": institution.name if institution else "",
        "need_embedding": need_document_vector(session, need.id) if need.id else None,
    }


WITHDRAWN_FROM_MATCHING = N_("The expert withdrew from matching.")


def _withdraw_from_matching(session: Session, expert_id: int) -> None:
    """Withdraws an expert's pending proposals and cancels the offers they have not answered."""
    now = utcnow()
    proposals_repo.withdraw_pending_for_expert(session, expert_id, now=now)
    cancelled = engagements_repo.withdraw_offers_for_expert(
        session, expert_id, reason=WITHDRAWN_FROM_MATCHING, now=now
    )
    for engagement_id in cancelled:
        engagement_moved(
            session, engagement_id=engagement_id, previous=EngagementStatus.OFFERED, now=now
        )
        record(
            session,
            actor=None,
            action="engagement.cancel",
            entity_type="engagement",
            entity_id=engagement_id,
            from_state=EngagementStatus.OFFERED,
            to_state=EngagementStatus.CANCELLED,
            reason=WITHDRAWN_FROM_MATCHING,
        )


def engagement_moved(
    session: Session, *, engagement_id: int, previous: str, now: datetime | None = None
) -> None:
    """What follows an engagement's move out of `previous`, whoever made it (a person, the clock,
    a filled need, a withdrawn expert): the notifications that asked for a move in that state
    stop asking (no commit)."""
    notifications.engagement_left(
        session, engagement_id=engagement_id, previous=str(previous), now=now
    )


def institution_answered(
    session: Session, *, institution_id: int, now: datetime | None = None
) -> None:
    """What follows an institution's answer to a coordinator's request for more information
    (its profile saved), or the settling of its verification (verified, declined, asked
    again): the notifications that asked its members stop asking (no commit)."""
    members = institutions_repo.list_members(session, institution_id)
    notifications.info_request_settled(
        session, member_ids=[member.id for member in members if member.id is not None], now=now
    )


def institution_replied(
    session: Session, *, institution: Institution, actor: User, settings: Settings, now: datetime
) -> None:
    """What follows a member's answer to a request for more information: what an answer by
    profile does (the request stops asking its members), and the coordinator who asked (every
    coordinator, once they are gone) is told, in the app and by email, in their language, to
    look at the institution again (no commit). The answer's words stay on the page."""
    institution_answered(session, institution_id=institution.id or 0, now=now)
    for coordinator in users_repo.staff_to_tell(session, asker_id=institution.asked_by_id):
        if coordinator.id == actor.id:
            continue
        notifications.notify(
            session,
            user=coordinator,
            kind="institution.answered",
            params={"institution": institution.name},
            link=f"/coordinator/institutions/{institution.id}#replies",
            settings=settings,
            now=now,
        )


def expert_changed(session: Session, expert: ExpertProfile, *, bulk: bool = False) -> None:
    """Schedules the index update and the re-matching of a changed expert, and withdraws their
    pending proposals at once when institutions may no longer be proposed them (no commit);
    `bulk` for a change among many (an import), whose re-matching yields to people's."""
    session.flush()
    if not policy.open_to_institutions(expert):
        _withdraw_from_matching(session, expert.id or 0)
    document = expert_document(session, expert)
    outbox.sync_expert(session, expert=document)
    if expert_documents(document)[EXPERTS_PUBLIC] is None:
        _withdraw_at_commit(session, expert.id or 0)
    queue_expert_rematch(session, expert_id=expert.id or 0, bulk=bulk)


def account_changed(session: Session, user: User) -> None:
    """Schedules the index update of what shows a changed account (its email: the expert's
    documents carry it for coordinators' search) (no commit); the matcher does not read it."""
    session.flush()
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is not None:
        outbox.sync_expert(session, expert=expert_document(session, expert))


def expert_removed(session: Session, expert_id: int) -> None:
    """Schedules the removal of an erased expert from every index and withdraws their pending
    proposals (no commit)."""
    _withdraw_from_matching(session, expert_id)
    outbox.remove_expert(session, expert_id=expert_id)
    _withdraw_at_commit(session, expert_id)


def _withdraw_at_commit(session: Session, expert_id: int) -> None:
    """Takes an expert out of the institutions' index as soon as this transaction commits."""
    if session.info.get(SEARCH_KEY) is None:
        return
    pending: set[int] | None = session.info.get(_WITHDRAW_KEY)
    if pending is None:
        pending = session.info[_WITHDRAW_KEY] = set()
        event.listen(session, "after_commit", _apply_withdrawals, once=True)
        event.listen(session, "after_soft_rollback", _forget_withdrawals, once=True)
    pending.add(expert_id)


def _apply_withdrawals(session: Session) -> None:
    ids = sorted(session.info.pop(_WITHDRAW_KEY, set()))
    backend: SearchBackend | None = session.info.get(SEARCH_KEY)
    if not ids or backend is None:
        return
    try:
        backend.delete(EXPERTS_PUBLIC, ids)
    except Exception:  # noqa: BLE001 - the outbox row applies it once the backend is back
        log.warning("search backend unavailable: %d withdrawals left to the outbox", len(ids))


def _forget_withdrawals(session: Session, _previous: object) -> None:
    session.info.pop(_WITHDRAW_KEY, None)


def need_changed(session: Session, need: Need, *, bulk: bool = False) -> None:
    """Schedules the index update and the re-matching of a changed need (no commit); `bulk`
    for a change among many (an import), whose re-matching yields to people's."""
    session.flush()
    outbox.sync_need(session, need=need_document(session, need))
    queue_need_rematch(session, need_id=need.id or 0, bulk=bulk)


def need_reopened(
    session: Session,
    need: Need,
    *,
    confirmed: int,
    told: list[User | None],
    settings: Settings,
    now: datetime | None = None,
    kind: str = "need.reopened",
) -> None:
    """What follows a filled need opened again (a confirmed engagement ended early, or the
    need asks for more experts: `kind` says which): what need_changed does, so experts are
    proposed again, and the people `told` (its institution's members, the coordinators) learn
    how many of the experts it asked for are confirmed (no commit). The one who ended the
    engagement is told too: the need opening again, and experts being proposed for it, is
    news to them."""
    need_changed(session, need)
    institution = institutions_repo.get_institution(session, need.institution_id)
    params = {
        "need": need.title,
        "institution": institution.name if institution else "",
        "confirmed": confirmed,
        "wanted": need.experts_wanted,
    }
    seen: set[int] = set()
    for user in told:
        if user is None or user.id in seen:
            continue
        seen.add(user.id or 0)
        place = "coordinator" if user.is_staff else "institution"
        notifications.notify(
            session,
            user=user,
            kind=kind,
            params=params,
            link=f"/{place}/needs/{need.id}",
            settings=settings,
            now=now,
        )


# What of a need, once changed, its experts with open offers are told (a code per part; the
# notifications word each one in the reader's language, see notifications.NEED_PARTS).
MATERIAL_PARTS: dict[str, tuple[str, ...]] = {
    "mode": ("mode", "live_sessions", "city"),
    "hours": ("hours_per_week",),
    "duration": ("duration_weeks",),
    "start": ("start_from", "start_until"),
    "languages": ("languages",),
    "skills": ("required_skills",),
    "description": ("title", "description"),
    "support": ("support",),
}


def material_changes(before: dict[str, Any], need: Need) -> list[str]:
    """Tells which parts of a need an expert decides on changed (codes of MATERIAL_PARTS)."""
    after = need.model_dump()
    return [
        part
        for part, fields in MATERIAL_PARTS.items()
        if any(before.get(name) != after.get(name) for name in fields)
    ]


def need_edited(
    session: Session,
    need: Need,
    *,
    before: dict[str, Any],
    actor: User | None,
    settings: Settings,
    bulk: bool = False,
) -> list[str]:
    """What follows an institution's edit of a need: what need_changed does, and, when parts an
    expert decides on changed while offers are open, each of those experts and the
    coordinators who approved them are told what changed (no commit). Returns those parts."""
    need_changed(session, need, bulk=bulk)
    parts = material_changes(before, need)
    offers = engagements_repo.open_offers_for_need(session, need.id or 0) if parts else []
    if not offers or need.status != NeedStatus.OPEN:
        return parts
    institution = institutions_repo.get_institution(session, need.institution_id)
    params = {
        "need": need.title,
        "institution": institution.name if institution else "",
        "changes": ",".join(parts),
    }
    told: set[int] = set()
    coordinators: list[int] = []
    for engagement in offers:
        expert = (
            experts_repo.get_expert(session, engagement.expert_id) if engagement.expert_id else None
        )
        user = users_repo.get_user(session, expert.user_id) if expert and expert.user_id else None
        if user is not None and user.id not in told:
            told.add(user.id or 0)
            notifications.notify(
                session,
                user=user,
                kind="need.changed",
                params=params,
                link=f"/expert/needs/{need.id}",
                settings=settings,
                engagement_id=engagement.id,
            )
        proposal = proposals_repo.get_proposal(session, engagement.proposal_id)
        if proposal is not None and proposal.decided_by_id is not None:
            coordinators.append(proposal.decided_by_id)
    for coordinator_id in dict.fromkeys(coordinators):
        coordinator = users_repo.get_user(session, coordinator_id)
        if coordinator is None or coordinator.id in told or (actor and actor.id == coordinator.id):
            continue
        told.add(coordinator.id or 0)
        notifications.notify(
            session,
            user=coordinator,
            kind="need.changed.coordinator",
            params=params,
            link=f"/coordinator/needs/{need.id}",
            settings=settings,
        )
    record(
        session,
        actor=actor,
        action="need.offers_told",
        entity_type="need",
        entity_id=need.id,
        data={"changes": parts, "engagement_ids": [e.id for e in offers]},
    )
    return parts


def queue_expert_rematch(session: Session, *, expert_id: int, bulk: bool = False) -> None:
    """Queues the ranking of the open needs for an expert (no commit)."""
    enqueue(
        session,
        kind=REMATCH_EXPERT,
        key=rematch_key(expert_id),
        payload={"expert_id": expert_id},
        again=True,
        bulk=bulk,
    )


def queue_need_rematch(session: Session, *, need_id: int, bulk: bool = False) -> None:
    """Queues the ranking of the experts for a need, and the embedding of the skills it asks
    for (no commit). A person's change (`bulk` false) is ranked before work queued in bulk."""
    enqueue(
        session,
        kind=REMATCH_NEED,
        key=need_rematch_key(need_id),
        payload={"need_id": need_id},
        again=True,
        bulk=bulk,
    )
    # One job embeds every skill still without a vector, however many needs changed; a
    # person's need needs its skills' vectors as soon as its ranking does.
    enqueue(session, kind=EMBED_SKILLS, key=EMBED_SKILLS, again=True, bulk=bulk)


def experts_added(session: Session) -> None:
    """Queues the ranking of every open need after experts were added in bulk (an import),
    so they reach the needs already posted (no commit); this work yields to people's."""
    for need_id in needs_repo.open_need_ids(session):
        queue_need_rematch(session, need_id=need_id, bulk=True)


def expert_suggested(
    session: Session, *, need: Need, actor: User, settings: Settings, now: datetime
) -> None:
    """What follows an institution's suggestion of an expert for its need: the coordinators who
    work on the need (every coordinator when none has yet) are told, in the app and by email,
    to review it (no commit). The institution is told nothing more of the expert."""
    institution = institutions_repo.get_institution(session, need.institution_id)
    params = {"need": need.title, "institution": institution.name if institution else ""}
    for coordinator in users_repo.coordinators_of_need(
        session, need_id=need.id or 0, institution_id=need.institution_id
    ):
        if coordinator.id == actor.id:
            continue
        notifications.notify(
            session,
            user=coordinator,
            kind="need.suggestion",
            params=params,
            link=f"/coordinator/needs/{need.id}#interested",
            settings=settings,
            now=now,
        )


def institution_changed(session: Session, institution: Institution) -> None:
    """Schedules the index update of every need of a changed institution (its name, country)."""
    session.flush()
    # FOR SHARE: a need saved meanwhile has queued its document (with the old name) first;
    # this waits for its commit and sends the need as saved, with the new name, after it.
    for need in needs_repo.needs_of_institution(session, institution.id or 0, for_share=True):
        outbox.sync_need(session, need=need_document(session, need))


def member_invited(
    session: Session,
    *,
    invitation: InstitutionInvitation,
    institution: Institution,
    inviter: User,
    url: str,
) -> None:
    """What follows a colleague invited (or invited again) to join an institution: the email
    with the link goes to the address invited, in the language chosen for them (no commit)."""
    notifications.institution_invitation(
        session,
        to=invitation.email,
        name=invitation.display_name,
        locale=invitation.locale,
        inviter=inviter.display_name or inviter.email,
        institution=institution.name,
        url=url,
        expires_at=invitation.expires_at,
    )


def member_joined(
    session: Session,
    *,
    institution: Institution,
    member: User,
    inviter: User | None,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """What follows a colleague joining an institution through an invitation: the member who
    invited them is told, in the app and, if they want it, by email (no commit)."""
    if inviter is None or not inviter.active or inviter.deleted_at is not None:
        return
    notifications.notify(
        session,
        user=inviter,
        kind="institution.member_joined",
        params={"member": member.display_name or member.email, "institution": institution.name},
        link="/institution/team",
        settings=settings,
        now=now,
    )
