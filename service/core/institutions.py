"""Institutions: their profile, and verification by a coordinator."""

from __future__ import annotations

from sqlmodel import Session

from service.core.audit import record
from service.errors import Conflict
from service.models import Institution, User
from service.models.types import utcnow
from service.schemas.institutions import InstitutionUpdate


def verify_institution(
    session: Session, *, institution: Institution, coordinator: User
) -> Institution:
    """Marks an institution as verified; it may then post needs."""
    if institution.verified:
        raise Conflict("This institution is already verified.")
    institution.verified_at = utcnow()
    institution.verified_by_id = coordinator.id
    institution.updated_at = institution.verified_at
    session.add(institution)
    record(
        session,
        actor=coordinator,
        action="institution.verified",
        entity_type="institution",
        entity_id=institution.id,
        from_state="pending",
        to_state="verified",
    )
    return institution


def update_institution(
    session: Session, *, institution: Institution, actor: User, data: InstitutionUpdate
) -> Institution:
    """Saves an institution's profile, recording which fields changed."""
    values = data.model_dump()
    values["type"] = str(data.type)
    changed = [name for name, value in values.items() if getattr(institution, name) != value]
    for name, value in values.items():
        setattr(institution, name, value)
    institution.updated_at = utcnow()
    session.add(institution)
    record(
        session,
        actor=actor,
        action="institution.updated",
        entity_type="institution",
        entity_id=institution.id,
        data={"fields": changed},
    )
    return institution
