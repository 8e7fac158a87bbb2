"""Builders of test data, written through the same models the app uses."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlmodel import Session

from service.models import ExpertProfile, Institution, InstitutionMember, Need, Role, User
from service.models.types import utcnow
from service.security import hash_password

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)
_ids = count(1)


def make_user(
    session: Session, *, role: Role = Role.EXPERT, email: str | None = None, locale: str = "en"
) -> User:
    """Creates a user whose password is PASSWORD."""
    user = User(
        email=email or f"user{next(_ids)}@example.org",
        password_hash=_HASH,
        role=role,
        display_name="Test User",
        locale=locale,
    )
    session.add(user)
    session.commit()
    return user


def make_expert(session: Session, *, user: User | None = None, **fields: Any) -> ExpertProfile:
    """Creates an expert (with an account unless `user=None` is forced via fields)."""
    user = user or make_user(session, role=Role.EXPERT)
    now = utcnow()
    values: dict[str, Any] = {
        "display_name": "Awa Diallo",
        "headline": "Epidemiologist",
        "bio": "Field epidemiologist, 12 years in public health surveillance.",
        "skills": ["epidemiology", "biostatistics", "teaching"],
        "languages": [{"code": "fr", "level": "native"}, {"code": "en", "level": "fluent"}],
        "origin_country": "SN",
        "residence_country": "CA",
        "city": "Montreal",
        "timezone": "America/Toronto",
        "modes": ["remote", "mission"],
        "hours_per_month": 20,
        "available_from": date(2026, 12, 1),
        "available_until": date(2027, 12, 31),
        "sectors": ["health"],
        "phone": "+1 514 555 0100",
        "availability_confirmed_at": now,
        "consent_terms_at": now,
        "consent_matching_at": now,
    }
    values.update(fields)
    expert = ExpertProfile(user_id=user.id, **values)
    session.add(expert)
    session.commit()
    return expert


def make_institution(
    session: Session, *, verified: bool = True, member: User | None = None, **fields: Any
) -> Institution:
    """Creates an institution, verified by default, with a member if given."""
    values: dict[str, Any] = {
        "name": "Université Cheikh Anta Diop",
        "type": "university",
        "country": "SN",
        "city": "Dakar",
    }
    values.update(fields)
    institution = Institution(**values, verified_at=utcnow() if verified else None)
    session.add(institution)
    session.commit()
    if member is not None:
        session.add(InstitutionMember(institution_id=institution.id or 0, user_id=member.id or 0))
        session.commit()
    return institution


def make_member(
    session: Session, *, verified: bool = True, **fields: Any
) -> tuple[User, Institution]:
    """Creates an institution member and their institution."""
    user = make_user(session, role=Role.INSTITUTION)
    institution = make_institution(session, verified=verified, member=user, **fields)
    return user, institution


def make_need(session: Session, *, institution: Institution, **fields: Any) -> Need:
    """Creates an open need for an institution."""
    values: dict[str, Any] = {
        "title": "Co-enseigner un module d'épidémiologie",
        "description": "Notre faculté de médecine cherche un épidémiologiste pour co-enseigner un module à distance.",
        "required_skills": ["épidémiologie", "biostatistique"],
        "sector": "health",
        "mode": "remote",
        "duration_weeks": 6,
        "hours_per_week": 4,
        "languages": ["fr"],
        "status": "open",
        "posted_at": utcnow(),
    }
    values.update(fields)
    need = Need(institution_id=institution.id or 0, **values)
    session.add(need)
    session.commit()
    return need


def make_proposal(session: Session, *, need: Need, expert: Any, **fields: Any) -> Any:
    """Creates a matcher proposal for an expert and a need, awaiting a coordinator."""
    from service.models import MatchProposal

    values: dict[str, Any] = {
        "score": 0.8,
        "rank": 1,
        "components": {"semantic": 0.7, "keywords": 0.5, "constraints": 1.0},
        "explanation": {
            "covered_skills": [
                {
                    "required": "épidémiologie",
                    "matched": "epidemiology",
                    "similarity": 0.91,
                    "how": "semantic",
                }
            ],
            "missing_skills": ["biostatistique"],
            "closest_phrases": [
                {"text": "Field epidemiologist", "source": "bio", "similarity": 0.62}
            ],
            "shared_languages": ["fr"],
            "missing_languages": [],
            "mode": "remote",
            "availability": "available",
            "timezone": "America/Toronto",
            "overlap_hours": 4.0,
            "country_tie": True,
            "notes": [],
        },
    }
    values.update(fields)
    proposal = MatchProposal(need_id=need.id or 0, expert_id=expert.id or 0, **values)
    session.add(proposal)
    session.commit()
    return proposal


def make_engagement(
    session: Session, *, need: Need, expert: Any, status: str = "offered", **fields: Any
) -> Any:
    """Creates an engagement in a given state, behind an approved proposal."""
    from service.models import Engagement

    proposal = make_proposal(session, need=need, expert=expert, status="approved")
    engagement = Engagement(
        proposal_id=proposal.id or 0,
        need_id=need.id or 0,
        expert_id=expert.id,
        status=status,
        mode=need.mode,
        **fields,
    )
    session.add(engagement)
    session.commit()
    return engagement
