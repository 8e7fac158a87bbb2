"""What the API answers to a request for a password reset link."""

from __future__ import annotations

from pydantic import BaseModel

SENT_IF_KNOWN = (
    "If an account uses this email, a link to choose a new password has been sent to it."
)


class ResetRequested(BaseModel):
    detail: str = SENT_IF_KNOWN
