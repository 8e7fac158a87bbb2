"""Colleagues invited to join an institution: a link mailed to their address that works once.

A member invites a colleague by email. The link carries a random token; only its SHA-256 is
kept, so a database leak opens no invitation (as for sessions and API tokens). It opens for
`INVITATION_TTL`, until it is used, revoked, or sent again (a new link replaces the old one).
Opening it, a visitor without an account registers with the invited address (the link proves
they receive mail there, so no confirmation round follows); an institution account with that
address that belongs to no institution joins in one click; anyone else is told why not, and
nothing changes. Accepting is one conditional update on the open invitation: of two uses of
one link, racing, one joins and the other finds it used.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.config import Settings
from service.core import accounts, changes, policy
from service.core.audit import record
from service.errors import Conflict, FieldErrors, NotAllowed, NotFound
from service.i18n import N_
from service.models import Institution, InstitutionInvitation, InstitutionMember, Role, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.repos import invitations as invitations_repo
from service.repos import users as users_repo
from service.schemas.invitations import InvitationForm, InvitationRegistration

INVITATION_TTL = timedelta(days=7)
# Invitations one institution may create in a day: enough for a department joining at once,
# too few for the form to be used to send mail in bulk.
MAX_PER_DAY = 30
TOKEN_MAX = 200

ALREADY_MEMBER = N_("This colleague is already a member of your institution.")
ALREADY_INVITED = N_(
    "An invitation to this address is already waiting. You can send it again from the list "
    "of invitations."
)
TOO_MANY = N_(
    "Your institution has sent many invitations today. Please wait until tomorrow to send more."
)
NOT_OPEN = N_("This invitation was already accepted or revoked.")
NOT_FOUND = N_("This invitation does not exist.")


class LinkState(StrEnum):
    OPEN = "open"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


# What a visitor is told of a link that opens nothing (pages word them; the core raises them).
LINK_MESSAGES: dict[LinkState, str] = {
    LinkState.INVALID: N_(
        "This invitation link is not valid. Check that you opened the whole link from the email."
    ),
    LinkState.EXPIRED: N_(
        "This invitation has expired. Ask the colleague who invited you to send it again."
    ),
    LinkState.USED: N_("This invitation has already been used: it works only once."),
    LinkState.REVOKED: N_("This invitation was withdrawn by the institution."),
}
JOIN_REFUSALS: dict[policy.JoinRefusal, str] = {
    policy.JoinRefusal.OTHER_ADDRESS: N_(
        "This invitation was sent to %(invited)s, but you are logged in as %(current)s. Log out, "
        "then open the link again."
    ),
    policy.JoinRefusal.EXPERT: N_(
        "Your account is an expert's: it cannot also act for an institution. Ask your colleague "
        "to invite another address."
    ),
    policy.JoinRefusal.STAFF: N_("A coordinator's account cannot join an institution."),
    policy.JoinRefusal.MEMBER: N_(
        "Your account already acts for an institution, and an account acts for one only. Ask "
        "your colleague to invite another address."
    ),
}


def hash_token(token: str) -> str:
    """Gets the hash kept of an invitation link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def join_link(token: str) -> str:
    """Gets the site path an invitation link opens."""
    return f"/join?token={quote(token)}"


def link_state(invitation: InstitutionInvitation | None, *, now: datetime) -> LinkState:
    """Tells whether an invitation's link still opens, and if not, why."""
    if invitation is None:
        return LinkState.INVALID
    if invitation.accepted_at is not None:
        return LinkState.USED
    if invitation.revoked_at is not None:
        return LinkState.REVOKED
    if invitation.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.OPEN


def invitation_of_token(session: Session, token: str) -> InstitutionInvitation | None:
    """Finds the invitation a link's token names, whatever its state."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return invitations_repo.by_token_hash(session, hash_token(token))


def _send(
    session: Session,
    *,
    invitation: InstitutionInvitation,
    institution: Institution,
    inviter: User,
    token: str,
    settings: Settings,
) -> None:
    changes.member_invited(
        session,
        invitation=invitation,
        institution=institution,
        inviter=inviter,
        url=settings.public_base_url.rstrip("/") + join_link(token),
    )


def invite(
    session: Session,
    *,
    institution: Institution,
    inviter: User,
    form: InvitationForm,
    settings: Settings,
    now: datetime | None = None,
) -> InstitutionInvitation:
    """Invites a colleague to join the institution and mails them the link (the caller
    commits). Already a member, already invited, too many today: FieldErrors."""
    now = now or utcnow()
    institution_id = institution.id or 0
    email = users_repo.normalise_email(form.email)
    if invitations_repo.has_member_with_email(session, institution_id=institution_id, email=email):
        raise FieldErrors({"email": ALREADY_MEMBER})
    if invitations_repo.live_invitation_to(
        session, institution_id=institution_id, email=email, now=now
    ):
        raise FieldErrors({"email": ALREADY_INVITED})
    _check_daily_cap(session, institution_id=institution_id, now=now)
    token = secrets.token_urlsafe(32)
    invitation = InstitutionInvitation(
        institution_id=institution_id,
        email=email,
        display_name=form.display_name,
        locale=form.locale,
        token_hash=hash_token(token),
        invited_by_id=inviter.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    _send(
        session,
        invitation=invitation,
        institution=institution,
        inviter=inviter,
        token=token,
        settings=settings,
    )
    # No address in the audit: erasing the colleague's account could not find it there.
    record(
        session,
        actor=inviter,
        action="institution.member_invited",
        entity_type="institution",
        entity_id=institution_id,
        data={"invitation_id": invitation.id},
    )
    return invitation


def _check_daily_cap(session: Session, *, institution_id: int, now: datetime) -> None:
    """Refuses one more invitation email (a new one or one sent again) once the institution
    sent MAX_PER_DAY in the last day: FieldErrors."""
    since = now - timedelta(days=1)
    sent = invitations_repo.count_mailed_since(session, institution_id=institution_id, since=since)
    if sent >= MAX_PER_DAY:
        raise FieldErrors({"__all__": TOO_MANY})


def _own_invitation(
    session: Session, *, institution: Institution, invitation_id: int
) -> InstitutionInvitation:
    invitation = invitations_repo.get_invitation(session, invitation_id)
    if invitation is None or invitation.institution_id != institution.id:
        raise NotFound(NOT_FOUND)
    return invitation


def resend(
    session: Session,
    *,
    institution: Institution,
    invitation_id: int,
    actor: User,
    settings: Settings,
    now: datetime | None = None,
) -> InstitutionInvitation:
    """Mails an open invitation again with a new link, valid for another INVITATION_TTL (the
    previous link opens nothing more); accepted or revoked meanwhile: Conflict; the day's
    emails all sent: FieldErrors."""
    now = now or utcnow()
    invitation = _own_invitation(session, institution=institution, invitation_id=invitation_id)
    _check_daily_cap(session, institution_id=institution.id or 0, now=now)
    token = secrets.token_urlsafe(32)
    if not invitations_repo.renew(
        session,
        invitation_id=invitation_id,
        institution_id=institution.id or 0,
        token_hash=hash_token(token),
        expires_at=now + INVITATION_TTL,
    ):
        raise Conflict(NOT_OPEN)
    session.refresh(invitation)
    _send(
        session,
        invitation=invitation,
        institution=institution,
        inviter=actor,
        token=token,
        settings=settings,
    )
    record(
        session,
        actor=actor,
        action=invitations_repo.RESENT_ACTION,
        entity_type="institution",
        entity_id=institution.id,
        data={"invitation_id": invitation_id},
    )
    return invitation


def revoke(
    session: Session,
    *,
    institution: Institution,
    invitation_id: int,
    actor: User,
    now: datetime | None = None,
) -> None:
    """Revokes an open invitation: its link opens nothing more; accepted or revoked
    meanwhile: Conflict."""
    _own_invitation(session, institution=institution, invitation_id=invitation_id)
    if not invitations_repo.revoke(
        session,
        invitation_id=invitation_id,
        institution_id=institution.id or 0,
        now=now or utcnow(),
    ):
        raise Conflict(NOT_OPEN)
    record(
        session,
        actor=actor,
        action="institution.invitation_revoked",
        entity_type="institution",
        entity_id=institution.id,
        data={"invitation_id": invitation_id},
    )


def open_invitation(
    session: Session, *, token: str, now: datetime
) -> tuple[InstitutionInvitation, Institution]:
    """Gets the invitation a link opens, with its institution; a link that opens nothing:
    Conflict, with why (LINK_MESSAGES)."""
    invitation = invitation_of_token(session, token)
    state = link_state(invitation, now=now)
    institution = (
        institutions_repo.get_institution(session, invitation.institution_id)
        if invitation is not None
        else None
    )
    if invitation is None or institution is None:
        raise Conflict(LINK_MESSAGES[LinkState.INVALID])
    if state != LinkState.OPEN:
        raise Conflict(LINK_MESSAGES[state])
    return invitation, institution


def _join(
    session: Session,
    *,
    invitation: InstitutionInvitation,
    institution: Institution,
    user: User,
    settings: Settings,
    now: datetime,
) -> None:
    """Makes an account a member through a claimed invitation; tells who invited them."""
    try:
        with session.begin_nested():
            session.add(InstitutionMember(institution_id=institution.id or 0, user_id=user.id or 0))
    except IntegrityError:
        # The account joined another institution meanwhile, through another link.
        raise Conflict(JOIN_REFUSALS[policy.JoinRefusal.MEMBER]) from None
    invitations_repo.set_accepted_by(
        session, invitation_id=invitation.id or 0, user_id=user.id or 0
    )
    record(
        session,
        actor=user,
        action="institution.member_joined",
        entity_type="institution",
        entity_id=institution.id,
        data={"invitation_id": invitation.id},
    )
    inviter = (
        users_repo.get_user(session, invitation.invited_by_id) if invitation.invited_by_id else None
    )
    changes.member_joined(
        session, institution=institution, member=user, inviter=inviter, settings=settings, now=now
    )


def _claim(session: Session, *, invitation: InstitutionInvitation, now: datetime) -> None:
    if not invitations_repo.claim(session, invitation_id=invitation.id or 0, now=now):
        session.refresh(invitation)
        state = link_state(invitation, now=now)
        raise Conflict(LINK_MESSAGES[state if state != LinkState.OPEN else LinkState.USED])


def register_and_join(
    session: Session,
    *,
    token: str,
    form: InvitationRegistration,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[User, Institution]:
    """Registers the invited colleague with the invited address and makes them a member (the
    caller commits, or rolls back on an error). A link that opens nothing, or lost to another
    use: Conflict; an account already using the address: FieldErrors on `email`."""
    now = now or utcnow()
    invitation, institution = open_invitation(session, token=token, now=now)
    _claim(session, invitation=invitation, now=now)
    user = accounts.create_user(
        session,
        email=invitation.email,
        password=form.password,
        role=Role.INSTITUTION,
        display_name=form.display_name,
        locale=form.locale,
    )
    record(session, actor=user, action="user.registered", entity_type="user", entity_id=user.id)
    _join(
        session,
        invitation=invitation,
        institution=institution,
        user=user,
        settings=settings,
        now=now,
    )
    return user, institution


def join_refusal(
    session: Session, *, user: User, invitation: InstitutionInvitation
) -> tuple[str, dict[str, str]] | None:
    """Tells why a signed-in account may not accept an invitation (a message and its params),
    or None when it may (see policy.join_refusal)."""
    own = users_repo.normalise_email(user.email) == invitation.email
    refusal = policy.join_refusal(policy.reader_for(session, user), own_address=own)
    if refusal is None:
        return None
    return JOIN_REFUSALS[refusal], {"invited": invitation.email, "current": user.email}


def join(
    session: Session,
    *,
    token: str,
    user: User,
    settings: Settings,
    now: datetime | None = None,
) -> Institution:
    """Makes a signed-in account a member of the institution that invited its address (the
    caller commits). A link that opens nothing, or lost to another use: Conflict; an account
    that may not join (policy.join_refusal): NotAllowed, with why; nothing changes."""
    now = now or utcnow()
    invitation, institution = open_invitation(session, token=token, now=now)
    refused = join_refusal(session, user=user, invitation=invitation)
    if refused is not None:
        message, params = refused
        raise NotAllowed(message, **params)
    _claim(session, invitation=invitation, now=now)
    _join(
        session,
        invitation=invitation,
        institution=institution,
        user=user,
        settings=settings,
        now=now,
    )
    return institution
