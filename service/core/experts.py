"""Expert profiles: editing, and deciding what each reader may see of one."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.core.audit import record
from service.core.changes import expert_changed
from service.models import ExpertProfile, Role, User
from service.models.types import utcnow
from service.schemas.experts import ExpertNamed, ExpertPrivate, ExpertProfileUpdate, ExpertSummary


def update_profile(
    session: Session, *, expert: ExpertProfile, actor: User, data: ExpertProfileUpdate
) -> ExpertProfile:
    """Saves an expert's profile; saving it also reconfirms their availability."""
    values = data.model_dump(exclude={"consent_matching"})
    values["languages"] = [language.model_dump(mode="json") for language in data.languages]
    values["modes"] = [str(mode) for mode in data.modes]
    values["visibility"] = str(data.visibility)
    for name, value in values.items():
        setattr(expert, name, value)
    now = utcnow()
    if data.consent_matching and expert.consent_matching_at is None:
        expert.consent_matching_at = now
    elif not data.consent_matching:
        expert.consent_matching_at = None
    expert.availability_confirmed_at = now
    expert.updated_at = now
    session.add(expert)
    record(session, actor=actor, action="expert.updated", entity_type="expert", entity_id=expert.id)
    expert_changed(session, expert)
    return expert


def view_for(
    expert: ExpertProfile, *, email: str, reader: User, named: bool = False, contact: bool = False
) -> dict[str, Any]:
    """Gets what this reader may see of a profile: coordinators and the expert see all of it."""
    is_self = expert.user_id is not None and expert.user_id == reader.id
    if reader.role in (Role.COORDINATOR, Role.ADMIN) or is_self or contact:
        return ExpertPrivate.model_validate({**expert.model_dump(), "email": email}).model_dump(
            mode="json"
        )
    if named:
        return ExpertNamed.model_validate(expert.model_dump()).model_dump(mode="json")
    return ExpertSummary.model_validate(expert.model_dump()).model_dump(mode="json")
