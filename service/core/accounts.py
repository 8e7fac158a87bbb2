"""Accounts: registration, log-in with throttling, passwords and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from service.core.audit import record
from service.errors import FieldErrors, TooManyAttempts
from service.models import (
    ApiToken,
    ExpertProfile,
    Institution,
    InstitutionMember,
    LoginFailure,
    Role,
    User,
)
from service.models.types import utcnow
from service.repos import users as users_repo
from service.schemas.accounts import ExpertRegistration, InstitutionRegistration
from service.security import hash_password, needs_rehash, new_api_token, verify_password
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
    session: Session,
    *,
    email: str,
    password: str,
    client_ip: str,
    max_failures: int,
    window_s: int,
    lockout_s: int,
) -> User | None:
    """Checks credentials; after too many failures for an email or an address, refuses a while."""
    now = utcnow()
    keys = [f"email:{users_repo.normalise_email(email)}", f"ip:{client_ip}"]
    recent = users_repo.count_login_failures(
        session, keys=keys, since=now - timedelta(seconds=window_s)
    )
    if recent >= max_failures:
        raise TooManyAttempts()
    # After a burst, stay locked for the lock-out period even if the window has moved on.
    locked = users_repo.count_login_failures(
        session, keys=keys, since=now - timedelta(seconds=lockout_s)
    )
    if locked >= max_failures:
        raise TooManyAttempts()
    user = users_repo.get_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        for key in keys:
            session.add(LoginFailure(key=key, at=now))
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Changes a password; every other session of the user ends."""
    if not verify_password(user.password_hash, current):
        raise FieldErrors({"current_password": "This is not your current password."})
    user.password_hash = hash_password(new)
    user.session_version += 1
    session.add(user)
    record(
        session, actor=user, action="user.password_changed", entity_type="user", entity_id=user.id
    )


def create_api_token(session: Session, *, user: User, name: str = "") -> str:
    """Creates a personal API token and returns it; only its hash is kept."""
    token, token_hash = new_api_token()
    session.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash))  # type: ignore[arg-type]
    record(session, actor=user, action="token.created", entity_type="user", entity_id=user.id)
    return token


def user_for_token(session: Session, *, token_hash: str, now: datetime) -> User | None:
    """Finds the active user a token belongs to, and notes its use."""
    token = users_repo.get_token_by_hash(session, token_hash)
    if token is None:
        return None
    user = users_repo.get_user(session, token.user_id)
    if user is None or not user.active:
        return None
    token.last_used_at = now
    session.add(token)
    return user
