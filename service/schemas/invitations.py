"""Forms of invitations: a member invites a colleague; the colleague registers through it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from service.schemas.common import Email, Locale, Name, Password

OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class InvitationForm(BaseModel):
    """Invites a colleague by email; the name greets them, the language writes the email."""

    email: Email
    display_name: OptionalName = ""
    locale: Locale = "en"


class InvitationRegistration(BaseModel):
    """Registers the invited colleague: the address is the invitation's, fixed."""

    display_name: Name
    password: Password
    locale: Locale = "en"
