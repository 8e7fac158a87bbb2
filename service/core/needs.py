"""Needs: posting and editing them, and who may read which."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.core.audit import record
from service.core.changes import need_changed
from service.errors import NotAllowed, NotFound
from service.models import Institution, Need, NeedStatus, Role, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.repos import needs as needs_repo
from service.schemas.needs import NeedWrite


def need_columns(data: NeedWrite) -> dict[str, Any]:
    """Gets a need's columns from what was written: dates stay dates, choices plain strings."""
    # A JSON-mode dump would hand the Date columns ISO strings, which SQLite refuses.
    values = data.model_dump()
    values["mode"] = str(data.mode)
    values["status"] = str(data.status)
    values["support"] = [str(item) for item in data.support]
    return values


def post_need(session: Session, *, institution: Institution, author: User, data: NeedWrite) -> Need:
    """Creates a need for a verified institution (the dependency checked verification)."""
    need = Need(
        institution_id=institution.id or 0,
        created_by_id=author.id,
        **need_columns(data),
    )
    if need.status == NeedStatus.OPEN:
        need.posted_at = utcnow()
    session.add(need)
    session.flush()
    record(
        session,
        actor=author,
        action="need.posted",
        entity_type="need",
        entity_id=need.id,
        to_state=need.status,
    )
    need_changed(session, need)
    return need


def edit_need(session: Session, *, need: Need, actor: User, data: NeedWrite) -> Need:
    """Saves changes to a need."""
    previous = need.status
    for name, value in need_columns(data).items():
        setattr(need, name, value)
    now = utcnow()
    if need.status == NeedStatus.OPEN and need.posted_at is None:
        need.posted_at = now
    need.updated_at = now
    session.add(need)
    record(
        session,
        actor=actor,
        action="need.edited",
        entity_type="need",
        entity_id=need.id,
        from_state=previous,
        to_state=need.status,
    )
    need_changed(session, need)
    return need


def readable_need(session: Session, *, need_id: int, reader: User) -> Need:
    """Gets a need this reader may see: staff any, members their own, experts open ones."""
    need = needs_repo.get_need(session, need_id)
    if need is None:
        raise NotFound("This need does not exist.")
    if reader.is_staff:
        return need
    if reader.role == Role.INSTITUTION:
        institution = institutions_repo.get_institution_of_user(session, reader.id or 0)
        if institution is not None and institution.id == need.institution_id:
            return need
        raise NotFound("This need does not exist.")
    if need.status == NeedStatus.OPEN:
        return need
    raise NotFound("This need does not exist.")


def editable_need(session: Session, *, need_id: int, editor: User) -> Need:
    """Gets a need this user may edit: staff, or a member of its (verified) institution."""
    need = readable_need(session, need_id=need_id, reader=editor)
    if editor.is_staff or editor.role == Role.INSTITUTION:
        return need
    raise NotAllowed()


def set_widen_modes(session: Session, *, need: Need, coordinator: User, widen: bool) -> Need:
    """Lets experts of other engagement modes be proposed for a need (ranked down), or not."""
    if need.widen_modes == widen:
        return need
    need.widen_modes = widen
    need.updated_at = utcnow()
    session.add(need)
    record(
        session,
        actor=coordinator,
        action="need.modes_widened" if widen else "need.modes_narrowed",
        entity_type="need",
        entity_id=need.id,
    )
    need_changed(session, need)
    return need
