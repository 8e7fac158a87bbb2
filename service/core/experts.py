"""Expert profiles: editing them, and showing each reader the fields the policy gives them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.core import policy
from service.core.audit import record
from service.core.changes import expert_changed
from service.core.policy import ExpertView
from service.errors import NotFound
from service.models import ExpertProfile, User
from service.models.types import utcnow
from service.repos import experts as experts_repo
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


VIEW_SCHEMAS: dict[ExpertView, type[ExpertSummary]] = {
    ExpertView.SUMMARY: ExpertSummary,
    ExpertView.NAMED: ExpertNamed,
    ExpertView.PRIVATE: ExpertPrivate,
}


def view_for(
    session: Session,
    expert: ExpertProfile,
    *,
    reader: User,
    named: bool = False,
    contact: bool = False,
    view: ExpertView | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Gets the fields of a profile the access policy shows this reader (see policy.expert_view);
    `named` and `contact` say how far an engagement between them has gone; `email`, when the
    caller has read it already, spares a query."""
    if view is None:
        view = policy.expert_view(
            policy.reader_for(session, reader), expert, named=named, contact=contact
        )
    if view == ExpertView.HIDDEN:
        raise NotFound("This expert does not exist.")
    data = expert.model_dump()
    if view == ExpertView.PRIVATE:
        if email is None:
            email = experts_repo.get_expert_email(session, expert)
        data["email"] = email
    return VIEW_SCHEMAS[view].model_validate(data).model_dump(mode="json")
