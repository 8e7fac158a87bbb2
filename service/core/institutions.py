"""Institutions: verification by a coordinator, who may also ask for more or decline, with a
reason the members are told by email."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from service.config import Settings
from service.core import changes
from service.core.audit import record
from service.core.notifications import notify
from service.errors import Conflict, FieldErrors
from service.i18n import N_
from service.models import Institution, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.schemas.institutions import InstitutionUpdate


class Review(StrEnum):
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    DECLINED = "declined"
    VERIFIED = "verified"


def review_of(institution: Institution) -> Review:
    """Tells where an institution's verification stands."""
    if institution.verified:
        return Review.VERIFIED
    if institution.declined_at is not None:
        return Review.DECLINED
    return Review.INFO_REQUESTED if institution.review_note else Review.PENDING


# What each reader is told of an institution's verification, decided here once: the badge,
# what it means, and what the institution can do next (catalogue words; pages translate them).
BADGES: dict[Review, str] = {
    Review.PENDING: N_("Pending verification"),
    Review.INFO_REQUESTED: N_("More information asked"),
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
    Review.DECLINED: N_("A coordinator declined to verify your institution. Their reason:"),
    Review.VERIFIED: "",
}
NEXT_FOR_MEMBERS: dict[Review, str] = {
    Review.PENDING: "",
    Review.INFO_REQUESTED: N_(
        "Complete your organisation's profile; a coordinator then looks at it again."
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
    shows_reason = state in (Review.INFO_REQUESTED, Review.DECLINED)
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
