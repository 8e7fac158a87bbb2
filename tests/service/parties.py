"""The people the write tests type and post as (a member of a verified institution, an expert),
each logged in in a browser, and what those tests read back: a row as the database has it now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Engagement, ExpertProfile, Institution, User
from service.security import CSRF_COOKIE
from tests.conftest import csrf_token, login
from tests.factories import (
    PASSWORD,
    make_engagement,
    make_expert,
    make_member,
    make_need,
    make_user,
)


@dataclass
class Party:
    client: TestClient
    user: User


def logged_in(client: TestClient, user: User) -> Party:
    """Logs a browser in as a user, with its CSRF token ready."""
    login(client, user.email, PASSWORD)
    csrf_token(client)
    return Party(client, user)


def member_of_institution(client: TestClient, session: Session) -> tuple[Party, Institution]:
    """A browser logged in as the member of a new verified institution."""
    user, institution = make_member(session)
    return logged_in(client, user), institution


def expert_with_profile(
    client: TestClient, session: Session, *, user: User | None = None
) -> tuple[Party, ExpertProfile]:
    """A browser logged in as a new expert with a profile."""
    profile = make_expert(session, user=user)
    account = session.get(User, profile.user_id)
    assert account is not None
    return logged_in(client, account), profile


def csrf_headers(client: TestClient) -> dict[str, str]:
    """The header that carries a browser's CSRF token on an API call."""
    return {"x-csrf-token": client.cookies[CSRF_COOKIE]}


def fresh(session: Session, model: type[Any], row_id: int | None) -> Any:
    """Reads a row as the database has it now, not as this session remembers it."""
    session.expire_all()
    row = session.get(model, row_id)
    assert row is not None
    return row


def engagement_of(
    session: Session, institution: Institution, status: str, *, expert: ExpertProfile | None = None
) -> Engagement:
    """An engagement in a state on a new need of the institution (with a new expert by default)."""
    need = make_need(session, institution=institution)
    expert = expert or make_expert(session, user=make_user(session))
    engagement: Engagement = make_engagement(session, need=need, expert=expert, status=status)
    return engagement
