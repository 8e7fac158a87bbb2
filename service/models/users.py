"""Accounts: users, their sessions and personal API tokens, and failed log-ins for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    EXPERT = "expert"
    INSTITUTION = "institution"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})
LOCALES = ("en", "fr", "es", "pt", "ar")


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    # The address asked for, until a link mailed there confirms it (None: no change waiting).
    pending_email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20, index=True)
    display_name: str = Field(default="", max_length=120)
    locale: str = Field(default="en", max_length=5)
    active: bool = True
    email_prefs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_staff(self) -> bool:
        """Coordinators and admins run the programme."""
        return self.role in STAFF_ROLES


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=80)
    # Only a SHA-256 of the token is kept; the token itself is shown once.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    # A SHA-256 of the random token the cookie carries: a database leak opens no session.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=300)


class LoginFailure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # "email:<address>" or "ip:<address>"; throttling counts rows per key in a window.
    key: str = Field(max_length=300, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
