"""POST /api/institutions/mine/replies: a member answers the coordinator's request for more
information over the API, as the home page's form does: 201, a 422 naming the field, a 409 once
the coordinator decided meanwhile (or asked another question since the one answered)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.config import Settings
from service.core import policy
from service.core.institutions import (
    Review,
    reply_to_review,
    review_institution,
    verify_institution,
)
from service.errors import Conflict
from service.models import Institution, InstitutionReply, Notification, Role, User
from tests.factories import make_member, make_user
from tests.service.pages.helpers import log_in_as
from tests.service.parties import csrf_headers, fresh
from tests.strategies import phrases

QUESTION = "Pouvez-vous joindre les statuts de l'association et leur date d'adoption ?"
URL = "/api/institutions/mine/replies"


@pytest.fixture
def asked(
    session: Session, settings: Settings, make_client: Callable[[], TestClient]
) -> tuple[TestClient, Institution, User]:
    """A member's browser, their institution asked a question, and the coordinator who asked."""
    member, institution = make_member(session, verified=False, name="Association Santé Sahel")
    coordinator = make_user(session, role=Role.COORDINATOR, locale="es")
    review_institution(
        session,
        institution=institution,
        coordinator=coordinator,
        decision=Review.INFO_REQUESTED,
        reason=QUESTION,
        settings=settings,
    )
    session.commit()
    return log_in_as(make_client(), member.email), institution, coordinator


def _post(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post(URL, json=body, headers=csrf_headers(client))


def test_an_answer_is_recorded_and_the_institution_awaits_the_coordinator(
    asked: tuple[TestClient, Institution, User], session: Session
) -> None:
    client, institution, coordinator = asked
    before = client.get("/api/institutions/mine").json()
    assert before["review"] == "info_requested" and before["answered_at"] is None
    message = "Les statuts, adoptés le 12 mars 2015, sont joints. النظام الأساسي مرفق."
    sent = _post(client, {"message": message, "asked_at": before["asked_at"]})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["message"], body["question"], body["review"]) == (message, QUESTION, "answered")
    mine = client.get("/api/institutions/mine").json()
    assert mine["review"] == "answered" and mine["answered_at"] is not None
    told = session.exec(
        select(Notification).where(Notification.kind == "institution.answered")
    ).one()
    # In the coordinator's language (Spanish).
    assert told.user_id == coordinator.id and "Association Santé Sahel" in told.title
    assert told.title != "Association Santé Sahel answered your request for information"


@pytest.mark.parametrize(("message", "problem"), [("   ", "required"), ("é" * 2001, "2000")])
def test_an_empty_or_overlong_answer_is_a_422_naming_the_field(
    asked: tuple[TestClient, Institution, User], session: Session, message: str, problem: str
) -> None:
    client, institution, _ = asked
    refused = _post(client, {"message": message})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "message" and problem in error["message"]
    assert session.exec(select(InstitutionReply)).all() == []
    assert fresh(session, Institution, institution.id).answered_at is None


def test_an_answer_once_the_coordinator_decided_is_a_409(
    asked: tuple[TestClient, Institution, User], session: Session, settings: Settings
) -> None:
    client, institution, coordinator = asked
    verify_institution(session, institution=institution, coordinator=coordinator, settings=settings)
    session.commit()
    late = _post(client, {"message": "Voici les statuts."})
    assert late.status_code == 409
    assert "decided on your institution meanwhile" in late.json()["detail"]
    assert session.exec(select(InstitutionReply)).all() == []


def test_an_answer_to_a_question_replaced_since_is_a_409(
    asked: tuple[TestClient, Institution, User], session: Session, settings: Settings
) -> None:
    client, institution, coordinator = asked
    seen = client.get("/api/institutions/mine").json()["asked_at"]
    review_institution(
        session,
        institution=institution,
        coordinator=coordinator,
        decision=Review.INFO_REQUESTED,
        reason="Et le nombre de salariés ?",
        settings=settings,
    )
    session.commit()
    late = _post(client, {"message": "Voici les statuts.", "asked_at": seen})
    assert late.status_code == 409
    assert "another question" in late.json()["detail"]
    assert session.exec(select(InstitutionReply)).all() == []


def test_a_moment_sent_without_its_zone_is_read_as_utc(
    asked: tuple[TestClient, Institution, User], session: Session
) -> None:
    client, institution, _ = asked
    seen = client.get("/api/institutions/mine").json()["asked_at"]
    without_zone = datetime.fromisoformat(seen).astimezone(UTC).replace(tzinfo=None).isoformat()
    sent = _post(client, {"message": "Les statuts sont joints.", "asked_at": without_zone})
    assert sent.status_code == 201, sent.text


def test_the_same_words_asked_again_meanwhile_are_a_new_question(
    asked: tuple[TestClient, Institution, User],
    session: Session,
    engine: Engine,
    settings: Settings,
) -> None:
    """A member's page read the question; the coordinator asks again in the same words before
    the answer arrives: the answer is refused, not given to the question asked later."""
    _, institution, coordinator = asked
    member = session.exec(select(User).where(User.role == Role.INSTITUTION)).one()
    with Session(engine, expire_on_commit=False) as members, Session(engine) as coordinators:
        read = members.get_one(Institution, institution.id)
        review_institution(
            coordinators,
            institution=coordinators.get_one(Institution, institution.id),
            coordinator=coordinators.get_one(User, coordinator.id),
            decision=Review.INFO_REQUESTED,
            reason=QUESTION,
            settings=settings,
        )
        coordinators.commit()
        with pytest.raises(Conflict):
            reply_to_review(
                members,
                reader=policy.reader_for(members, members.get_one(User, member.id)),
                actor=members.get_one(User, member.id),
                institution=read,
                message="Voici les statuts.",
                settings=settings,
            )
        members.rollback()
    assert session.exec(select(InstitutionReply)).all() == []


def test_only_members_answer(
    asked: tuple[TestClient, Institution, User],
    make_client: Callable[[], TestClient],
    session: Session,
) -> None:
    _, _, coordinator = asked
    staff = log_in_as(make_client(), coordinator.email)
    assert _post(staff, {"message": "Je réponds à leur place."}).status_code == 403
    other, _ = make_member(session, verified=False, name="Autre association")
    # Another institution's member answers only for theirs, where nothing is asked.
    assert _post(log_in_as(make_client(), other.email), {"message": "Bonjour"}).status_code == 409
    assert session.exec(select(InstitutionReply)).all() == []


@given(message=phrases(min_size=1, max_size=2000, separators=" \n"))
def test_any_answer_reads_back_as_written(
    asked: tuple[TestClient, Institution, User], session: Session, message: str
) -> None:
    client, institution, _ = asked
    sent = _post(client, {"message": message})
    assert sent.status_code == 201, sent.text
    assert sent.json()["message"] == message.strip()
    session.expire_all()
    latest = session.exec(
        select(InstitutionReply).order_by(InstitutionReply.id.desc())  # type: ignore[union-attr]
    ).first()
    assert latest is not None and latest.message == message.strip()
    assert fresh(session, Institution, institution.id).answered_at is not None
