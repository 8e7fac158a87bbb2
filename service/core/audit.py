"""The audit log: every state change is written here, in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.models import AuditEvent, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Records who did what (the caller commits with the change itself)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event
