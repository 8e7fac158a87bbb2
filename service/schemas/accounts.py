"""Forms and payloads of accounts: registration, log-in, email and password changes, API tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from service.models import InstitutionType
from service.schemas.common import (
    City,
    CountryCode,
    Email,
    Locale,
    Name,
    Password,
    Required,
    UTCMoment,
    Website,
)


class LoginForm(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)


class ExpertRegistration(BaseModel):
    display_name: Name
    email: Email
    password: Password
    locale: Locale = "en"
    consent_matching: bool = True


class InstitutionRegistration(BaseModel):
    display_name: Name
    email: Email
    password: Password
    locale: Locale = "en"
    institution_name: Name
    institution_type: InstitutionType
    country: CountryCode
    city: City = ""
    website: Website = ""


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: Password


class EmailChange(BaseModel):
    email: Email
    password: str = Field(max_length=200)


class EmailUpdate(EmailChange):
    """The API's email change: the new address, and the account's password to allow it."""

    email: Email = Field(json_schema_extra={"format": "email"})
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "amina.diallo@ucad.sn", "password": "the account's password"}]
        },
    )


# Said beside the second field of the reset form (service.core.password_reset words it).
PASSWORDS_DIFFER = "The two passwords differ. Type the same new password twice."  # noqa: S105
ResetToken = Annotated[str, StringConstraints(min_length=1, max_length=1000), Required]


class PasswordResetRequest(BaseModel):
    """Asks for a password reset link, sent to the email if an active account uses it."""

    email: Email = Field(json_schema_extra={"format": "email"})
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "amina.diallo@ucad.sn"}]}
    )


class PasswordReset(BaseModel):
    """Sets a new password with the token of a reset link."""

    token: ResetToken
    new_password: Password
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"token": "the token of the emailed link", "new_password": "Kédougou-2026"}
            ]
        },
    )


class PasswordResetForm(BaseModel):
    """The reset page's form: the token of its link, and the new password typed twice."""

    token: str = Field(default="", max_length=1000)
    new_password: Password
    new_password_again: str = Field(max_length=200)

    @field_validator("new_password_again")
    @classmethod
    def _same_twice(cls, value: str, info: ValidationInfo) -> str:
        first = info.data.get("new_password")
        if first is not None and value != first:
            raise ValueError(PASSWORDS_DIFFER)
        return value


class EmailChangeRequested(BaseModel):
    """What the API answers to an email change: the address waiting for confirmation (None
    when the address sent is the account's email already: nothing waits)."""

    pending_email: str | None


class EmailConfirm(BaseModel):
    """Confirms an account's new email with the token of the link mailed to it."""

    token: ResetToken
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"token": "the token of the emailed link"}]},
    )


class UserPublic(BaseModel):
    id: int
    email: str
    role: str
    display_name: str
    locale: str


TokenName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), Required
]


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


class TokenForm(BaseModel):
    name: TokenName
    expires_on: Annotated[date | None, BeforeValidator(_empty_is_none)] = None

    def expires_at(self) -> datetime | None:
        """A token that expires on a day works through that day (UTC)."""
        if self.expires_on is None:
            return None
        return datetime.combine(self.expires_on, time.max, tzinfo=UTC)


class TokenCreate(BaseModel):
    name: TokenName
    expires_at: UTCMoment = None


class TokenPublic(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret, shown only this once.")
