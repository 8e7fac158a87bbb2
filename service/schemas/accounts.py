"""Forms and payloads of accounts: registration, log-in, password change."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.models import InstitutionType
from service.schemas.common import City, CountryCode, Email, Locale, Name, Password, ShortText


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
    website: ShortText = ""


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: Password


class UserPublic(BaseModel):
    id: int
    email: str
    role: str
    display_name: str
    locale: str
