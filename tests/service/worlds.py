"""The engagement tests' world: an institution with a need, an expert proposed for it, a
coordinator and outsiders; offers made and moved as a coordinator would; API credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.engagements import expire_offer, move
from service.core.proposals import approve_proposal
from service.models import Engagement, ExpertProfile, Institution, MatchProposal, Need, Role, User
from service.models.types import utcnow
from tests.factories import make_expert, make_member, make_need, make_proposal, make_user

# The path from an offer to each state, made by a coordinator (or the clock).
PATHS: dict[str, list[str]] = {
    "offered": [],
    "accepted": ["accept"],
    "declined": ["decline"],
    "expired": ["expire"],
    "confirmed": ["accept", "confirm"],
    "active": ["accept", "confirm", "start"],
    "delivered": ["accept", "confirm", "start", "complete"],
    "completed": ["accept", "confirm", "start", "complete", "confirm_completion"],
    "cancelled": ["cancel"],
}
# The fields of a need its institution sends back when it saves it.
NEED_FIELDS = (
    "title",
    "description",
    "required_skills",
    "sector",
    "mode",
    "duration_weeks",
    "hours_per_week",
    "languages",
)


@dataclass
class World:
    coordinator: User
    member: User
    institution: Institution
    need: Need
    expert_user: User
    expert: ExpertProfile
    other_expert_user: User
    other_member: User
    proposal: MatchProposal

    def user(self, role: str) -> User:
        """Gets the user playing a role."""
        return {
            "expert": self.expert_user,
            "other_expert": self.other_expert_user,
            "member": self.member,
            "other_member": self.other_member,
            "coordinator": self.coordinator,
        }[role]


def build_world(session: Session) -> World:
    """An institution with a need, an expert proposed for it, a coordinator, and outsiders."""
    coordinator = make_user(session, role=Role.COORDINATOR)
    member, institution = make_member(session)
    need = make_need(session, institution=institution)
    expert_user = make_user(session, role=Role.EXPERT)
    expert = make_expert(session, user=expert_user)
    other_expert_user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=other_expert_user, display_name="Other Expert")
    other_member, _ = make_member(session, name="Autre institution")
    proposal = make_proposal(session, need=need, expert=expert)
    return World(
        coordinator=coordinator,
        member=member,
        institution=institution,
        need=need,
        expert_user=expert_user,
        expert=expert,
        other_expert_user=other_expert_user,
        other_member=other_member,
        proposal=proposal,
    )


def offer(
    session: Session,
    world: World,
    settings: Settings,
    need: Need | None = None,
    *,
    expert: ExpertProfile | None = None,
) -> Engagement:
    """Approves the world's proposal, or a new one (for another need or expert), making an offer."""
    if need is None and expert is None:
        proposal = world.proposal
    else:
        proposal = make_proposal(session, need=need or world.need, expert=expert or world.expert)
    engagement = approve_proposal(
        session, proposal=proposal, coordinator=world.coordinator, settings=settings
    )
    session.commit()
    return engagement


def bring_to(
    session: Session, world: World, settings: Settings, status: str, need: Need | None = None
) -> Engagement:
    """Makes an offer and moves it to a state, as a coordinator would."""
    engagement = offer(session, world, settings, need)
    for step in PATHS[status]:
        if step == "expire":
            expire_offer(session, engagement=engagement, settings=settings, now=utcnow())
        else:
            move(
                session,
                engagement=engagement,
                actor=world.coordinator,
                action=step,
                settings=settings,
                reason="for the test",
            )
    session.commit()
    assert engagement.status == status
    return engagement


def token_for(session: Session, user: User) -> str:
    """An API token of a user, committed."""
    token = create_api_token(session, user=user)
    session.commit()
    return token


def bearer(session: Session, user: User) -> dict[str, str]:
    """The authorization header of a user."""
    return {"authorization": f"Bearer {token_for(session, user)}"}


def need_body(need: Need, status: str) -> dict[str, Any]:
    """The need as its institution would send it back, with a new status."""
    return {**{name: getattr(need, name) for name in NEED_FIELDS}, "status": status}
