"""Payload of a person's data export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

Record = dict[str, Any]


class DataExport(BaseModel):
    """Every record about a person; the profile and institution parts only when they have one."""

    exported_at: datetime
    account: Record
    api_tokens: list[Record]
    sessions: list[Record]
    notifications: list[Record]
    emails: list[Record]
    audit_events: list[Record]
    expert_profile: Record | None = None
    proposals: list[Record] | None = None
    engagements: list[Record] | None = None
    institution: Record | None = None
    needs_created: list[Record] | None = None
    # Their answers to the coordinators' questions about their institution.
    institution_replies: list[Record] | None = None
    # The invitations to join an institution they sent or received (without their links).
    invitations: list[Record] | None = None
