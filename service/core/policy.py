"""Who may see or do what: one table for each entity, read by every route, page, index and export.

A reader is a value (`Reader`), derived once per request from the user and their institution;
the tables below say, for each kind of reader, which actions they may take and which fields of
an expert they may see. Routes, pages, search documents and queries, previews, exports and
notifications ask the functions here; none of them decides on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session

from service.errors import NotAllowed, NotAuthenticated, NotFound
from service.i18n import N_
from service.models import (
    Engagement,
    EngagementStatus,
    ExpertProfile,
    Institution,
    Need,
    NeedStatus,
    Notification,
    Role,
    User,
    Visibility,
)
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.schemas.experts import ExpertNamed, ExpertPrivate, ExpertSummary


class ReaderKind(StrEnum):
    ANONYMOUS = "anonymous"
    EXPERT = "expert"
    # A member of an institution no coordinator has verified yet (or not attached to one).
    PENDING_MEMBER = "pending_member"
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


K = ReaderKind
READER_KINDS: tuple[ReaderKind, ...] = tuple(ReaderKind)
STAFF = frozenset({K.COORDINATOR, K.ADMIN})
MEMBERS = frozenset({K.PENDING_MEMBER, K.MEMBER})
SIGNED_IN = frozenset(READER_KINDS) - {K.ANONYMOUS}
EVERYONE = frozenset(READER_KINDS)


@dataclass(frozen=True)
class Reader:
    """Someone reading the site: their kind, and whose they are (their user, their institution)."""

    kind: ReaderKind
    user_id: int | None = None
    institution_id: int | None = None
    expert_id: int | None = None
    # The expert's profile the reader was derived from, held for the request: the session's
    # identity map keeps only what something holds, so without it a page asking for the
    # reader's profile (`experts_repo.get_expert`) read it a second time. Not part of the value.
    profile: ExpertProfile | None = field(default=None, compare=False, repr=False)

    @property
    def is_staff(self) -> bool:
        """Coordinators and admins run the programme."""
        return self.kind in STAFF

    @property
    def is_member(self) -> bool:
        """Members act for an institution, verified or not."""
        return self.kind in MEMBERS


ANONYMOUS = Reader(ReaderKind.ANONYMOUS)


def reader_kind(user: User | None, institution: Institution | None) -> ReaderKind:
    """Tells which kind of reader a user is, given the institution they act for (if any)."""
    if user is None:
        return K.ANONYMOUS
    if user.role == Role.ADMIN:
        return K.ADMIN
    if user.role == Role.COORDINATOR:
        return K.COORDINATOR
    if user.role == Role.INSTITUTION:
        return K.MEMBER if institution is not None and institution.verified else K.PENDING_MEMBER
    return K.EXPERT


def reader_for(session: Session, user: User | None) -> Reader:
    """Gets the reader a user is (anonymous for None)."""
    if user is None:
        return ANONYMOUS
    institution = (
        institutions_repo.get_institution_of_user(session, user.id or 0)
        if user.role == Role.INSTITUTION
        else None
    )
    expert = (
        experts_repo.get_expert_of_user(session, user.id or 0) if user.role == Role.EXPERT else None
    )
    return Reader(
        kind=reader_kind(user, institution),
        user_id=user.id,
        institution_id=institution.id if institution is not None else None,
        expert_id=expert.id if expert is not None else None,
        profile=expert,
    )


# ---------------------------------------------------------------------------------------------
# Actions: what each kind of reader may do.


class Action(StrEnum):
    READ_PUBLIC_PAGES = "read_public_pages"
    # A signed-in user's own account, notifications, personal data and engagements.
    USE_ACCOUNT = "use_account"
    # Erase one's own account (staff accounts are closed by an administrator).
    ERASE_OWN_ACCOUNT = "erase_own_account"
    # The open needs and the skills in use.
    SEARCH_NEEDS = "search_needs"
    # Feedback on an engagement comes from its two sides, not from staff.
    GIVE_FEEDBACK = "give_feedback"
    # An expert's own profile, proposals, offers and the needs ranked for them.
    ACT_AS_EXPERT = "act_as_expert"
    # An institution's own space: its profile, its needs, its proposals and engagements.
    ACT_FOR_INSTITUTION = "act_for_institution"
    WRITE_DRAFT_NEED = "write_draft_need"
    # Open a need to matching (status open or filled; drafts and closing need no verification).
    PUBLISH_NEED = "publish_need"
    # Discard a draft one no longer wants (closed unpublished): whoever may write drafts.
    DISCARD_DRAFT = "discard_draft"
    # Search and read the experts who let institutions see them (skills, not names).
    BROWSE_ROSTER = "browse_roster"
    # Count the experts a need being written could match.
    PREVIEW_NEED = "preview_need"
    # Suggest an expert found in the roster for one of the institution's own open needs.
    SUGGEST_EXPERT = "suggest_expert"
    # Answer a coordinator's request for more information about one's own institution.
    REPLY_TO_REVIEW = "reply_to_review"
    # See the institution's members and invitations, invite a colleague by email, revoke or
    # resend an invitation. Open before verification too: a colleague may help complete it.
    INVITE_MEMBER = "invite_member"
    # The programme's work: every profile, institutions, proposals, engagements, reports,
    # imports and exports, the audit log and the email outbox.
    COORDINATE = "coordinate"
    IMPORT_ROSTER = "import_roster"
    DECIDE_PROPOSALS = "decide_proposals"
    # The matcher's raw figures (a proposal's score components): for staff checking the matcher,
    # in the JSON API only; every page words them instead (how a rank was made).
    READ_MATCHER_FIGURES = "read_matcher_figures"
    ADMINISTER = "administer"


A = Action

ALLOWED: dict[Action, frozenset[ReaderKind]] = {
    A.READ_PUBLIC_PAGES: EVERYONE,
    A.USE_ACCOUNT: SIGNED_IN,
    A.ERASE_OWN_ACCOUNT: MEMBERS | {K.EXPERT},
    A.SEARCH_NEEDS: SIGNED_IN,
    A.GIVE_FEEDBACK: MEMBERS | {K.EXPERT},
    A.ACT_AS_EXPERT: frozenset({K.EXPERT}),
    A.ACT_FOR_INSTITUTION: MEMBERS,
    A.WRITE_DRAFT_NEED: MEMBERS | STAFF,
    A.PUBLISH_NEED: frozenset({K.MEMBER}) | STAFF,
    A.DISCARD_DRAFT: MEMBERS | STAFF,
    A.BROWSE_ROSTER: frozenset({K.MEMBER}) | STAFF,
    A.PREVIEW_NEED: frozenset({K.MEMBER}),
    A.SUGGEST_EXPERT: frozenset({K.MEMBER}),
    # Members, verified or not: verified meanwhile, the answer is a 409, not a 403.
    A.REPLY_TO_REVIEW: MEMBERS,
    A.INVITE_MEMBER: MEMBERS,
    A.COORDINATE: STAFF,
    A.IMPORT_ROSTER: STAFF,
    A.DECIDE_PROPOSALS: STAFF,
    A.READ_MATCHER_FIGURES: STAFF,
    A.ADMINISTER: frozenset({K.ADMIN}),
}

AWAITING_VERIFICATION = N_(
    "Your institution is awaiting verification by a coordinator. "
    "Until then you may complete its profile and write draft needs; "
    "you will be able to search the roster and publish needs once it is verified."
)
# Why a reader is refused, when the plain "not allowed" would leave them guessing.
REFUSALS: dict[tuple[Action, ReaderKind], str] = {
    (A.BROWSE_ROSTER, K.PENDING_MEMBER): AWAITING_VERIFICATION,
    (A.PREVIEW_NEED, K.PENDING_MEMBER): AWAITING_VERIFICATION,
    (A.PUBLISH_NEED, K.PENDING_MEMBER): AWAITING_VERIFICATION,
    (A.SUGGEST_EXPERT, K.PENDING_MEMBER): AWAITING_VERIFICATION,
    (A.SUGGEST_EXPERT, K.EXPERT): N_("Only institutions suggest experts for their needs."),
    (A.BROWSE_ROSTER, K.EXPERT): N_("Only coordinators and institutions can search the roster."),
    (A.INVITE_MEMBER, K.EXPERT): N_("Only an institution's members invite its colleagues."),
    **{
        (A.REPLY_TO_REVIEW, kind): N_(
            "Only the members of an institution answer the questions asked about it."
        )
        for kind in (K.EXPERT, *STAFF)
    },
    **{
        (A.ERASE_OWN_ACCOUNT, kind): N_("Staff accounts are closed by an administrator.")
        for kind in STAFF
    },
    **{
        (A.GIVE_FEEDBACK, kind): N_("Feedback comes from the expert and the institution.")
        for kind in STAFF
    },
    **{
        (A.DECIDE_PROPOSALS, kind): N_("Only a coordinator can decide on proposals.")
        for kind in READER_KINDS
    },
}


def may(reader: Reader, action: Action) -> bool:
    """Tells whether this reader may take this action."""
    return reader.kind in ALLOWED[action]


def require(reader: Reader, action: Action) -> None:
    """Refuses unless this reader may take the action: anonymous readers are asked to log in
    (401), others are told why not (403, with the reason when there is one)."""
    if may(reader, action):
        return
    if reader.kind == K.ANONYMOUS:
        raise NotAuthenticated()
    raise NotAllowed(REFUSALS.get((action, reader.kind), ""))


# ---------------------------------------------------------------------------------------------
# Experts: which of their fields each reader sees.


class ExpertView(StrEnum):
    HIDDEN = "hidden"
    # Skills and background, no name, no contact: an institution browsing the roster.
    SUMMARY = "summary"
    # Name and full profile text: an institution once a coordinator approved a proposal.
    NAMED = "named"
    # Everything, contact details included: the expert, staff, and a confirmed engagement.
    PRIVATE = "private"


EXPERT_FIELDS: dict[ExpertView, frozenset[str]] = {
    ExpertView.HIDDEN: frozenset(),
    ExpertView.SUMMARY: frozenset(ExpertSummary.model_fields),
    ExpertView.NAMED: frozenset(ExpertNamed.model_fields),
    ExpertView.PRIVATE: frozenset(ExpertPrivate.model_fields),
}


def in_matching(*, active: bool, consenting: bool) -> bool:
    """Tells whether an expert takes part in matching at all: active and consenting to it."""
    return active and consenting


def listed_for_institutions(*, active: bool, consenting: bool, visibility: str) -> bool:
    """Tells whether institutions may find and be proposed an expert: active, consenting to
    matching, and visible to institutions (not "coordinators only")."""
    return in_matching(active=active, consenting=consenting) and (
        visibility == Visibility.INSTITUTIONS
    )


class ExpertStanding(Protocol):
    """What the policy reads of an expert to decide who sees them: a profile, or the few
    columns of it a page loaded."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def consent_matching_at(self) -> datetime | None: ...
    @property
    def visibility(self) -> str: ...


def open_to_institutions(expert: ExpertStanding) -> bool:
    """Tells whether institutions may find and be proposed this expert."""
    return listed_for_institutions(
        active=expert.active,
        consenting=expert.consent_matching_at is not None,
        visibility=expert.visibility,
    )


def roster_view(reader: Reader) -> ExpertView:
    """Gets what this reader sees of the experts they search or browse."""
    if reader.is_staff:
        return ExpertView.PRIVATE
    if may(reader, A.BROWSE_ROSTER):
        return ExpertView.SUMMARY
    return ExpertView.HIDDEN


def expert_view(
    reader: Reader, expert: ExpertStanding, *, named: bool = False, contact: bool = False
) -> ExpertView:
    """Gets what this reader sees of one expert; `named` and `contact` say how far an
    engagement between them has gone (approved, confirmed)."""
    if reader.is_staff or (expert.user_id is not None and expert.user_id == reader.user_id):
        return ExpertView.PRIVATE
    if contact:
        return ExpertView.PRIVATE
    if named:
        return ExpertView.NAMED
    if may(reader, A.BROWSE_ROSTER) and open_to_institutions(expert):
        return ExpertView.SUMMARY
    return ExpertView.HIDDEN


def readable_expert(
    reader: Reader, expert: ExpertProfile | None
) -> tuple[ExpertProfile, ExpertView]:
    """Gets an expert a reader asked for, with what they see of it; hidden ones are not
    found, and readers who may not browse the roster are refused."""
    if expert is not None and expert.user_id is not None and expert.user_id == reader.user_id:
        return expert, ExpertView.PRIVATE
    require(reader, A.BROWSE_ROSTER)
    view = expert_view(reader, expert) if expert is not None else ExpertView.HIDDEN
    if expert is None or view == ExpertView.HIDDEN:
        raise NotFound("This expert does not exist.")
    return expert, view


def project_expert(data: dict[str, object], view: ExpertView) -> dict[str, object]:
    """Keeps only the fields of an expert this view shows."""
    allowed = EXPERT_FIELDS[view]
    return {name: value for name, value in data.items() if name in allowed}


# ---------------------------------------------------------------------------------------------
# Needs, institutions and engagements.


class NeedView(StrEnum):
    HIDDEN = "hidden"
    # Only that a need once published is no longer open (its title and whether it was filled or
    # closed): an expert with no part in it who follows an old link.
    ENDED = "ended"
    FULL = "full"


def need_view(reader: Reader, need: Need, *, engaged: bool = False) -> NeedView:
    """Gets what this reader sees of a need; `engaged` says the reader is an expert who was
    offered it (an engagement, whatever became of it).

    Staff see any need, members their own. Experts see open needs, and the filled or closed ones
    they were offered; of another filled or closed need, once published, only that it ended.
    Drafts stay with their institution.
    """
    if reader.is_staff:
        return NeedView.FULL
    if reader.is_member:
        own = reader.institution_id is not None and reader.institution_id == need.institution_id
        return NeedView.FULL if own else NeedView.HIDDEN
    if reader.kind != K.EXPERT or need.status == NeedStatus.DRAFT:
        return NeedView.HIDDEN
    if need.status == NeedStatus.OPEN or engaged:
        return NeedView.FULL
    # Closing needs no verification: a draft closed unpublished was never shown to anyone.
    return NeedView.ENDED if need.posted_at is not None else NeedView.HIDDEN


def may_read_need(reader: Reader, need: Need, *, engaged: bool = False) -> bool:
    """Tells whether a reader may read a need in full (see need_view)."""
    return need_view(reader, need, engaged=engaged) == NeedView.FULL


def may_edit_need(reader: Reader, need: Need) -> bool:
    """Tells whether a reader may edit a need: staff, or a member of its institution."""
    return reader.is_staff or (reader.is_member and may_read_need(reader, need))


def may_suggest_for(reader: Reader, need: Need) -> bool:
    """Tells whether a reader may suggest an expert for a need: a verified member, for one of
    their institution's open needs."""
    return (
        may(reader, A.SUGGEST_EXPERT)
        and reader.institution_id is not None
        and reader.institution_id == need.institution_id
        and need.status == NeedStatus.OPEN
    )


def suggestion_targets(reader: Reader, needs: Sequence[Need]) -> list[Need]:
    """Gets the needs, among an institution's, for which this reader may suggest an expert from
    the roster (none: the roster shows no such action)."""
    return [need for need in needs if may_suggest_for(reader, need)]


PUBLISHED_NEED_STATES = frozenset({NeedStatus.OPEN, NeedStatus.FILLED})


def require_need_status(reader: Reader, status: str) -> None:
    """Refuses a need status this reader may not set: drafts (or closed) until verification."""
    if status in PUBLISHED_NEED_STATES:
        require(reader, A.PUBLISH_NEED)


def may_read_institution(reader: Reader, institution: Institution) -> bool:
    """Tells whether a reader may read an institution: staff any, members their own, other
    signed-in readers verified ones."""
    if reader.is_staff or reader.institution_id == institution.id:
        return True
    return reader.kind != K.ANONYMOUS and institution.verified


def may_reply_to_review(reader: Reader, institution: Institution) -> bool:
    """Tells whether a reader may answer a coordinator's request for more information about an
    institution: one of its members, while it awaits verification with a question asked
    (answered already or not), neither verified nor declined."""
    return (
        may(reader, A.REPLY_TO_REVIEW)
        and reader.institution_id is not None
        and reader.institution_id == institution.id
        and not institution.verified
        and institution.declined_at is None
        and bool(institution.review_note)
    )


class JoinRefusal(StrEnum):
    """Why a signed-in account may not join an institution through an invitation."""

    OTHER_ADDRESS = "other_address"
    EXPERT = "expert"
    STAFF = "staff"
    MEMBER = "member"


def join_refusal(reader: Reader, *, own_address: bool) -> JoinRefusal | None:
    """Tells why a signed-in reader may not join an institution through an invitation to
    `own_address` (whether it is addressed to their account's email), or None when they may:
    an institution account with that address that belongs to no institution yet. A user belongs
    to at most one institution; an expert or staff account does not act for one."""
    if not own_address:
        return JoinRefusal.OTHER_ADDRESS
    if reader.kind == K.EXPERT:
        return JoinRefusal.EXPERT
    if reader.is_staff:
        return JoinRefusal.STAFF
    if reader.institution_id is not None:
        return JoinRefusal.MEMBER
    return None


def may_read_notification(reader: Reader, notification: Notification) -> bool:
    """Tells whether a reader may read a notification: only its recipient, staff included."""
    return reader.user_id is not None and notification.user_id == reader.user_id


def may_use_upload(reader: Reader, uploader_id: int) -> bool:
    """Tells whether a reader may check or confirm an uploaded import: its uploader, or an
    admin."""
    return may(reader, A.IMPORT_ROSTER) and (
        reader.user_id == uploader_id or reader.kind == K.ADMIN
    )


class Party(StrEnum):
    EXPERT = "expert"
    INSTITUTION = "institution"
    STAFF = "staff"


def engagement_scope(reader: Reader) -> dict[str, int | None]:
    """Gets the filter that limits a reader to the engagements they take part in (none for
    staff)."""
    require(reader, A.USE_ACCOUNT)
    if reader.is_staff:
        return {}
    if reader.kind == K.EXPERT:
        return {"expert_id": reader.expert_id if reader.expert_id is not None else -1}
    if reader.institution_id is None:
        raise NotAllowed("Your account is not attached to an institution.")
    return {"institution_id": reader.institution_id}


def engagement_party(
    reader: Reader, engagement: Engagement, *, expert: ExpertProfile | None, need: Need | None
) -> Party | None:
    """Tells in which capacity a reader takes part in an engagement, if any."""
    if reader.is_staff:
        return Party.STAFF
    if (
        reader.kind == K.EXPERT
        and expert is not None
        and expert.user_id is not None
        and expert.user_id == reader.user_id
    ):
        return Party.EXPERT
    if reader.is_member and need is not None and reader.institution_id == need.institution_id:
        return Party.INSTITUTION
    return None


# The practical terms of an engagement (dates, mode, agreed hours) are agreed between its two
# sides, a coordinator helping: from the institution's confirmation until the work begins,
# each of them may set and change them. Once under way they stand as agreed.
TERMS_EDITORS = frozenset({Party.EXPERT, Party.INSTITUTION, Party.STAFF})
TERMS_OPEN_STATES = frozenset({EngagementStatus.CONFIRMED})


def may_set_engagement_terms(party: Party | None) -> bool:
    """Tells whether a party to an engagement may set its terms (while they are open)."""
    return party in TERMS_EDITORS


def engagement_terms_open(engagement: Engagement) -> bool:
    """Tells whether an engagement's terms may still be changed: confirmed, not started."""
    return engagement.status in TERMS_OPEN_STATES
