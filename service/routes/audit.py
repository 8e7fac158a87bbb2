"""The audit log, read-only, for coordinators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.deps import RequireStaff, SessionDep
from service.models import AuditEvent
from service.repos import audit as audit_repo
from service.routes.pagination import PageDep, PageOf, envelope
from service.routes.params import OptionalQueryId

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=PageOf[AuditEvent])
def list_events(
    user: RequireStaff,
    session: SessionDep,
    page: PageDep,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: OptionalQueryId = None,
) -> dict[str, Any]:
    """Lists audit events, newest first; nothing here can be changed."""
    events, total = audit_repo.list_events(
        session, entity_type=entity_type, entity_id=entity_id, offset=page.offset, limit=page.size
    )
    return envelope(list(events), total=total, page=page)
