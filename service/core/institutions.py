"""Institutions: verification by a coordinator, who may also ask for more or decline, with a
reason the members are told by email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from service.config import Settings
from service.core import changes, policy
from service.core.audit import record
from service.core.notifications import notify
from service.errors import Conflict, FieldErrors, NotFound
from service.i18n import N_, NN_
from service.models import Institution, InstitutionReply, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.schemas.institutions import InstitutionUpdate


class Review(StrEnum):
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    # Asked for more information, and a member answered: it awaits the coordinator again.
    ANSWERED = "answered"
    DECLINED = "declined"
    VERIFIED = "verified"


def review_of(institution: Institution) -> Review:
    """Tells where an institution's verification stands."""
    if institution.verified:
        return Review.VERIFIED
    if institution.declined_at is not None:
        return Review.DECLINED
    if not institution.review_note:
        return Review.PENDING
    return Review.ANSWERED if institution.answered_at is not None else Review.INFO_REQUESTED


# What each reader is told of an institution's verification, decided here once: the badge,
# what it means, and what the institution can do next (catalogue words; pages translate them).
BADGES: dict[Review, str] = {
    Review.PENDING: N_("Pending verification"),
    Review.INFO_REQUESTED: N_("More information asked"),
    Review.ANSWERED: N_("Answered, awaiting review"),
    Review.DECLINED: N_("Verification declined"),
    Review.VERIFIED: N_("Verified"),
}
TO_MEMBERS: dict[Review, str] = {
    Review.PENDING: N_(
        "A coordinator checks every institution before it can publish needs, usually within a "
        "few working days. A clear description and website help."
    ),
    Review.INFO_REQUESTED: N_(
        "A coordinator needs more information before verifying your institution:"
    ),
    Review.ANSWERED: N_("You answered the coordinator, who asked:"),
    Review.DECLINED: N_("A coordinator declined to verify your institution. Their reason:"),
    Review.VERIFIED: "",
}
NEXT_FOR_MEMBERS: dict[Review, str] = {
    Review.PENDING: "",
    Review.INFO_REQUESTED: N_(
        "Answer the coordinator below, and complete your organisation's profile if the "
        "question is about it; a coordinator then looks at your institution again."
    ),
    Review.ANSWERED: N_(
        "A coordinator reviews your answer and your profile, and then verifies your "
        "institution, asks again or declines. You may add to your answer meanwhile."
    ),
    Review.DECLINED: N_(
        "Do what the reason asks. If it can be put right in your organisation's profile, "
        "correct it and save: your institution goes back to the coordinators, who can still "
        "verify it. Meanwhile you can keep your needs as drafts; they cannot be published."
    ),
    Review.VERIFIED: "",
}
TO_STAFF: dict[Review, str] = {
    Review.PENDING: "",
    Review.INFO_REQUESTED: N_("Your message to the institution:"),
    Review.ANSWERED: N_("Your message to the institution:"),
    Review.DECLINED: N_(
        "Declined: it is out of the verification queue until it corrects its profile. Your reason:"
    ),
    Review.VERIFIED: "",
}
# Beside a need form, for an institution that may only keep drafts.
DRAFTS_ONLY: dict[Review, str] = {
    Review.PENDING: N_(
        "Your institution awaits verification: you can save this need as a draft now, and "
        "publish it once a coordinator has verified your institution."
    ),
    Review.INFO_REQUESTED: N_(
        "Your institution awaits verification: you can save this need as a draft now, and "
        "publish it once a coordinator has verified your institution."
    ),
    Review.ANSWERED: N_(
        "Your institution awaits verification: you can save this need as a draft now, and "
        "publish it once a coordinator has verified your institution."
    ),
    Review.DECLINED: N_(
        "A coordinator declined to verify your institution, so this need can only be kept as "
        "a draft. Your institution's page says why and what you can do."
    ),
    Review.VERIFIED: "",
}


@dataclass(frozen=True, slots=True)
class Verification:
    """Where an institution's verification stands, in the words its reader is told."""

    state: Review
    badge: str
    sentence: str
    reason: str
    next_step: str
    drafts_only: str


def verification(institution: Institution, *, staff: bool) -> Verification:
    """Tells an institution's verification state and what a reader is told of it: its members
    (`staff` false) or the coordinators."""
    state = review_of(institution)
    shows_reason = state in (Review.INFO_REQUESTED, Review.ANSWERED, Review.DECLINED)
    return Verification(
        state=state,
        badge=BADGES[state],
        sentence=(TO_STAFF if staff else TO_MEMBERS)[state],
        reason=institution.review_note if shows_reason else "",
        next_step="" if staff else NEXT_FOR_MEMBERS[state],
        drafts_only=DRAFTS_ONLY[state],
    )


def _tell_members(
    session: Session, *, institution: Institution, kind: str, reason: str, settings: Settings
) -> None:
    for member in institutions_repo.list_members(session, institution.id or 0):
        notify(
            session,
            user=member,
            kind=kind,
            params={"institution": institution.name, "reason": reason},
            link="/institution",
            settings=settings,
        )


def _review(session: Session, institution: Institution, **values: object) -> None:
    """Moves an institution awaiting verification in one conditional UPDATE: of two
    coordinators deciding at once, one wins and the other is told it was already verified."""
    if institution.verified or not institutions_repo.review_unverified(
        session, institution.id or 0, dict(values)
    ):
        raise Conflict("This institution is already verified.")
    for name, value in values.items():
        set_committed_value(institution, name, value)


def update_institution(
    session: Session, *, institution: Institution, actor: User, form: InstitutionUpdate
) -> Institution:
    """Saves an institution's profile; its needs' search documents follow (name, country)."""
    # A JSON-mode dump would hand the columns strings where they hold other types.
    values = form.model_dump()
    values["type"] = str(form.type)
    changed = [name for name, value in values.items() if getattr(institution, name) != value]
    for name, value in values.items():
        setattr(institution, name, value)
    institution.updated_at = utcnow()
    session.add(institution)
    record(
        session,
        actor=actor,
        action="institution.updated",
        entity_type="institution",
        entity_id=institution.id,
        data={"fields": changed},
    )
    # A declined institution that corrects its profile goes back to the verification queue.
    declined = institution.declined_at is not None and not institution.verified
    if changed and declined and institutions_repo.resubmit_declined(session, institution.id or 0):
        set_committed_value(institution, "declined_at", None)
        record(
            session,
            actor=actor,
            action="institution.resubmitted",
            entity_type="institution",
            entity_id=institution.id,
            from_state=Review.DECLINED,
            to_state=review_of(institution),
        )
    if changed:
        changes.institution_changed(session, institution)
    # Saving the profile is how its members answer a request for more information.
    changes.institution_answered(session, institution_id=institution.id or 0)
    return institution


def verify_institution(
    session: Session, *, institution: Institution, coordinator: User, settings: Settings
) -> Institution:
    """Marks an institution as verified and tells its members; it may then publish needs."""
    previous = review_of(institution)
    now = utcnow()
    _review(
        session,
        institution,
        verified_at=now,
        verified_by_id=coordinator.id,
        declined_at=None,
        review_note="",
        asked_at=None,
        asked_by_id=None,
        answered_at=None,
        updated_at=now,
    )
    record(
        session,
        actor=coordinator,
        action="institution.verified",
        entity_type="institution",
        entity_id=institution.id,
        from_state=previous,
        to_state=Review.VERIFIED,
    )
    changes.institution_answered(session, institution_id=institution.id or 0, now=now)
    _tell_members(
        session, institution=institution, kind="institution.verified", reason="", settings=settings
    )
    return institution


def review_institution(
    session: Session,
    *,
    institution: Institution,
    coordinator: User,
    decision: Review,
    reason: str,
    settings: Settings,
) -> Institution:
    """Asks an institution awaiting verification for more information, or declines it; the
    reason is kept and sent to its members."""
    if decision not in (Review.INFO_REQUESTED, Review.DECLINED):
        raise FieldErrors({"decision": N_("Choose to ask for information or to decline.")})
    if institution.verified:
        raise Conflict("This institution is already verified.")
    reason = reason.strip()
    if not reason:
        raise FieldErrors({"reason": N_("Please say what you need, or why you decline.")})
    previous = review_of(institution)
    now = utcnow()
    _review(
        session,
        institution,
        review_note=reason[:2000],
        declined_at=now if decision == Review.DECLINED else None,
        asked_at=now,
        asked_by_id=coordinator.id,
        answered_at=None,
        updated_at=now,
    )
    record(
        session,
        actor=coordinator,
        action=f"institution.{decision}",
        entity_type="institution",
        entity_id=institution.id,
        from_state=previous,
        to_state=decision,
        reason=institution.review_note,
    )
    # A request asked again, or declined, supersedes the one before (told below).
    changes.institution_answered(session, institution_id=institution.id or 0, now=now)
    _tell_members(
        session,
        institution=institution,
        kind=f"institution.{decision}",
        reason=institution.review_note,
        settings=settings,
    )
    return institution


REPLY_LENGTH = 2000
NOTHING_ASKED = N_(
    "A coordinator has decided on your institution meanwhile, or asks nothing of it now: "
    "see where its verification stands."
)
ASKED_AGAIN = N_(
    "A coordinator asked another question meanwhile: read it, then send your answer again."
)
EMPTY_REPLY = N_("Write your answer to the coordinator.")
LONG_REPLY = NN_(
    "Your answer is too long: %(num)s character at most.",
    "Your answer is too long: %(num)s characters at most.",
)
REPLIED = "institution.answered"


def reply_to_review(
    session: Session,
    *,
    reader: policy.Reader,
    actor: User,
    institution: Institution,
    message: str,
    settings: Settings,
    asked_at: datetime | None = None,
) -> InstitutionReply:
    """Records a member's answer to the coordinator's request for more information: the
    institution then awaits the coordinator again, who is told. Another institution is not
    found; one no longer asked anything (verified, declined or asked again meanwhile) is a
    409 (as is one asked again since the question the member answers, `asked_at`); an empty
    or overlong message names its field."""
    policy.require(reader, policy.Action.REPLY_TO_REVIEW)
    if reader.institution_id != institution.id:
        raise NotFound(N_("This institution does not exist."))
    message = message.strip()
    if not message:
        raise FieldErrors({"message": EMPTY_REPLY})
    if len(message) > REPLY_LENGTH:
        singular, plural = LONG_REPLY
        raise FieldErrors(
            {"message": singular},
            params={"message": {"num": REPLY_LENGTH}},
            plurals={"message": plural},
        )
    question = institution.review_note
    if not policy.may_reply_to_review(reader, institution):
        raise Conflict(NOTHING_ASKED)
    if asked_at is not None and asked_at != institution.asked_at:
        raise Conflict(ASKED_AGAIN)
    previous = review_of(institution)
    now = utcnow()
    # The question answered is the one the member read: asked again meanwhile, it is a 409.
    if not institutions_repo.mark_answered(
        session, institution.id or 0, question=question, asked_at=institution.asked_at, now=now
    ):
        raise Conflict(NOTHING_ASKED)
    set_committed_value(institution, "answered_at", now)
    reply = InstitutionReply(
        institution_id=institution.id or 0,
        author_id=actor.id,
        question=question,
        message=message,
        created_at=now,
    )
    session.add(reply)
    session.flush()
    record(
        session,
        actor=actor,
        action=REPLIED,
        entity_type="institution",
        entity_id=institution.id,
        from_state=previous,
        to_state=Review.ANSWERED,
        data={"reply_id": reply.id},
    )
    changes.institution_replied(
        session, institution=institution, actor=actor, settings=settings, now=now
    )
    return reply


def replies_of(session: Session, institution: Institution) -> list[InstitutionReply]:
    """Lists the answers an institution's members gave the coordinators, oldest first."""
    return institutions_repo.list_replies(session, institution.id or 0)
