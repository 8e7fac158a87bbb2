"""Invitations for a colleague to join an institution, sent by email by one of its members."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.models.types import UTCDateTime, utcnow


class InstitutionInvitation(SQLModel, table=True):
    __tablename__ = "institution_invitation"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    # The address invited, trimmed and lower-cased: only an account with it may join.
    email: str = Field(max_length=254, index=True)
    display_name: str = Field(default="", max_length=120)
    # The language the invitation email was written in, the registration form's default.
    locale: str = Field(default="en", max_length=5)
    # Only a SHA-256 of the link's random token is kept: a database leak opens no invitation.
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
