"""Accounts: registration, log-in with throttling, sessions, passwords and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from service.config import Settings
from service.core import changes, guesses, notifications
from service.core.audit import record
from service.errors import FieldErrors, NotFound, TooManyAttempts
from service.i18n import N_
from service.models import (
    ApiToken,
    ExpertProfile,
    Institution,
    InstitutionMember,
    Role,
    User,
    UserSession,
)
from service.models.types import utcnow
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import users as users_repo
from service.schemas.accounts import ExpertRegistration, InstitutionRegistration
from service.security import (
    hash_password,
    needs_rehash,
    new_api_token,
    new_session_token,
    verify_password,
)
from service.timezones import default_timezone


def _check_email_free(session: Session, email: str) -> None:
    if users_repo.email_taken(session, email):
        raise FieldErrors({"email": "An account already uses this email. Log in instead."})


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str = "",
    locale: str = "en",
) -> User:
    """Creates an account (the caller commits)."""
    _check_email_free(session, email)
    user = User(
        email=users_repo.normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def register_expert(session: Session, *, form: ExpertRegistration) -> User:
    """Registers an expert with a first, minimal profile they complete later."""
    user = create_user(
        session,
        email=form.email,
        password=form.password,
        role=Role.EXPERT,
        display_name=form.display_name,
        locale=form.locale,
    )
    now = utcnow()
    session.add(
        ExpertProfile(
            user_id=user.id,
            display_name=form.display_name,
            consent_terms_at=now,
            consent_matching_at=now if form.consent_matching else None,
            availability_confirmed_at=now,
        )
    )
    record(session, actor=user, action="user.registered", entity_type="user", entity_id=user.id)
    return user


def register_institution(session: Session, *, form: InstitutionRegistration) -> User:
    """Registers an institution, unverified, with its first member."""
    user = create_user(
        session,
        email=form.email,
        password=form.password,
        role=Role.INSTITUTION,
        display_name=form.display_name,
        locale=form.locale,
    )
    institution = Institution(
        name=form.institution_name,
        type=form.institution_type,
        country=form.country,
        timezone=default_timezone(form.country),
        city=form.city,
        website=form.website,
    )
    session.add(institution)
    session.flush()
    session.add(InstitutionMember(institution_id=institution.id, user_id=user.id))  # type: ignore[arg-type]
    record(
        session,
        actor=user,
        action="institution.registered",
        entity_type="institution",
        entity_id=institution.id,
    )
    return user


def authenticate(
    session: Session, *, email: str, password: str, client_ip: str, settings: Settings
) -> User | None:
    """Checks credentials; after too many failures for an email or an address, refuses a while
    (the limit every password check shares: service.core.guesses)."""
    now = utcnow()
    keys = guesses.login_keys(email=email, client_ip=client_ip)
    wait = guesses.retry_after_s(session, keys=keys, settings=settings, now=now)
    if wait is not None:
        raise TooManyAttempts(retry_after_s=wait)
    user = users_repo.get_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        guesses.note_attempt(session, keys=keys, now=now)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    return user


# A session's "last seen" is written at most this often: a page view is not a write.
SESSION_TOUCH_EVERY = timedelta(minutes=5)
USER_AGENT_MAX = 300


def open_session(
    session: Session, *, user: User, user_agent: str, max_age_s: int, now: datetime | None = None
) -> str:
    """Opens a server-side session and returns its token, for the cookie (the caller commits)."""
    now = now or utcnow()
    token, session_id = new_session_token()
    session.add(
        UserSession(
            id=session_id,
            user_id=user.id or 0,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
            user_agent=user_agent[:USER_AGENT_MAX],
        )
    )
    return token


def user_for_session(session: Session, *, session_id: str, now: datetime) -> User | None:
    """Finds the active user of a live session, and notes its use now and then."""
    found = users_repo.get_live_session(session, session_id=session_id, now=now)
    if found is None:
        return None
    user_session, user = found
    if user_session.last_seen_at < now - SESSION_TOUCH_EVERY:
        users_repo.touch_session(
            session, session_id=session_id, now=now, before=now - SESSION_TOUCH_EVERY
        )
        session.commit()
    return user


def end_session(session: Session, *, session_id: str) -> None:
    """Ends one session, whoever it belongs to (log-out)."""
    users_repo.delete_session(session, session_id)


def end_all_sessions(
    session: Session, *, user: User, actor: User | None = None, keep: str | None = None
) -> int:
    """Ends every session of a user (but the one kept); audited; returns how many ended."""
    ended = users_repo.delete_sessions(session, user_id=user.id or 0, keep=keep)
    record(
        session,
        actor=actor or user,
        action="user.sessions_ended",
        entity_type="user",
        entity_id=user.id,
        data={"sessions": ended},
    )
    return ended


def list_sessions(
    session: Session, *, user: User, now: datetime | None = None
) -> list[UserSession]:
    """Lists a user's live sessions, most recently seen first."""
    return users_repo.list_sessions(session, user_id=user.id or 0, now=now or utcnow())


def _log_in_changed(
    session: Session, *, user: User, keep_session: str | None, now: datetime
) -> None:
    """What follows a change of how the account logs in (its password or its email): every
    other session ends and every API token is revoked, so only the person who changed it,
    in the session they changed it from, is still in."""
    users_repo.delete_sessions(session, user_id=user.id or 0, keep=keep_session)
    users_repo.revoke_all_tokens(session, user_id=user.id or 0, now=now)


def timezone_of(session: Session, user: User) -> str:
    """Gets the time zone an account reads its times in: its expert profile's, else its
    institution's, else UTC (coordinators and admins have none of their own)."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is not None and expert.timezone:
        return expert.timezone
    institution = institutions_repo.get_institution_of_user(session, user.id or 0)
    if institution is not None and institution.timezone:
        return institution.timezone
    return "UTC"


@dataclass(frozen=True)
class PasswordSet:
    """A password just set: its account, and the address of the email change it cancelled."""

    user: User
    cancelled_email: str | None


def _password_set(
    session: Session,
    *,
    user: User,
    action: str,
    settings: Settings,
    keep_session: str | None,
    now: datetime,
) -> PasswordSet:
    """What follows a new password, set by the account (`action`) or through a reset link:
    the email change waiting is cancelled (its link, bound to the old password, would open
    nothing, so the account page must not say it still waits), the sessions and API tokens
    end, and the account's address is told, in its language and time zone."""
    cancelled = user.pending_email
    if cancelled is not None:
        user.pending_email = None
        session.add(user)
        # `by` lets the dead link's page say why it died.
        record(
            session,
            actor=user,
            action="user.email_change_cancelled",
            entity_type="user",
            entity_id=user.id,
            data={"by": action},
        )
    _log_in_changed(session, user=user, keep_session=keep_session, now=now)
    record(session, actor=user, action=action, entity_type="user", entity_id=user.id)
    notifications.password_changed(
        session,
        user=user,
        settings=settings,
        now=now,
        zone=timezone_of(session, user),
        email_change_cancelled=cancelled is not None,
    )
    return PasswordSet(user=user, cancelled_email=cancelled)


def change_password(
    session: Session,
    *,
    user: User,
    current: str,
    new: str,
    settings: Settings,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> PasswordSet:
    """Changes a password; every other session of the user ends, every API token is revoked,
    an email change waiting is cancelled and the account's address is told."""
    guesses.confirm_password(
        session, user=user, password=current, field="current_password", settings=settings
    )
    user.password_hash = hash_password(new)
    session.add(user)
    return _password_set(
        session,
        user=user,
        action="user.password_changed",
        settings=settings,
        keep_session=keep_session,
        now=now or utcnow(),
    )


def set_forgotten_password(
    session: Session, *, user: User, new: str, settings: Settings, now: datetime | None = None
) -> PasswordSet | None:
    """Sets the password of someone who forgot it (through a reset link): one conditional
    update on the hash the link was made for, so of two racing uses only one sets it (None
    for the other); then, as after a password change, every session ends, every API token is
    revoked, an email change waiting is cancelled and the account's address is told."""
    if not users_repo.replace_password_hash(
        session, user_id=user.id or 0, old=user.password_hash, new=hash_password(new)
    ):
        return None
    return _password_set(
        session,
        user=user,
        action="user.password_reset",
        settings=settings,
        keep_session=None,
        now=now or utcnow(),
    )


EMAIL_TAKEN = N_("Another account already uses this email.")


def apply_email_change(
    session: Session,
    *,
    user: User,
    previous: str,
    settings: Settings,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> None:
    """What follows an account's email change, once made: the address it left and the new
    one are told, the other sessions and API tokens end (as for a password), and what shows
    the email follows (changes.account_changed)."""
    now = now or utcnow()
    _log_in_changed(session, user=user, keep_session=keep_session, now=now)
    # No addresses in the audit: erasing the account could not find the previous one.
    record(session, actor=user, action="user.email_changed", entity_type="user", entity_id=user.id)
    notifications.email_changed(session, user=user, previous=previous, settings=settings, now=now)
    changes.account_changed(session, user)


def issue_api_token(
    session: Session,
    *,
    user: User,
    name: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Creates a personal API token; returns the row and the token, shown once (hash kept)."""
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise FieldErrors({"expires_at": "Choose an expiry date in the future."})
    token, token_hash = new_api_token()
    row = ApiToken(
        user_id=user.id or 0,
        name=name.strip(),
        token_hash=token_hash,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=user,
        action="token.created",
        entity_type="user",
        entity_id=user.id,
        data={"token_id": row.id},
    )
    return row, token


def create_api_token(
    session: Session, *, user: User, name: str = "", expires_at: datetime | None = None
) -> str:
    """Creates a personal API token and returns it; only its hash is kept."""
    return issue_api_token(session, user=user, name=name, expires_at=expires_at)[1]


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    """Lists a user's tokens that are not revoked, newest first."""
    return users_repo.list_tokens(session, user.id or 0)


def revoke_api_token(
    session: Session, *, user: User, token_id: int, actor: User | None = None
) -> None:
    """Revokes one of a user's tokens; someone else's token is not found."""
    if not users_repo.revoke_token(session, user_id=user.id or 0, token_id=token_id, now=utcnow()):
        raise NotFound("No such token.")
    record(
        session,
        actor=actor or user,
        action="token.revoked",
        entity_type="user",
        entity_id=user.id,
        data={"token_id": token_id},
    )


def user_for_token(session: Session, *, token_hash: str, now: datetime) -> User | None:
    """Finds the active user a live token belongs to, and notes its use."""
    token = users_repo.get_live_token(session, token_hash=token_hash, now=now)
    if token is None:
        return None
    user = users_repo.get_user(session, token.user_id)
    if user is None or not user.active:
        return None
    token.last_used_at = now
    session.add(token)
    return user
