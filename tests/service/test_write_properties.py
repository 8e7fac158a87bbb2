"""Every valid payload of every API write schema is stored and read back equal, on each database.

Hypothesis draws the payloads (tests/strategies.py); each goes through the real route with a
real log-in and CSRF token, and comes back from the API and from the database as written,
after the documented normalisation (surrounding spaces stripped, duplicates dropped).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from sqlmodel import Session, select

from service.models import (
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    Institution,
    InstitutionReply,
    Need,
    User,
)
from service.models.types import utcnow
from service.schemas.accounts import EmailChange, ExpertRegistration, InstitutionRegistration
from service.schemas.engagements import FeedbackWrite, MoveRequest
from service.schemas.experts import ExpertProfileUpdate
from service.schemas.imports import ExpertRow, InstitutionRow, MemberRow, NeedRow
from service.schemas.institutions import InstitutionUpdate, ReviewReply
from service.schemas.needs import NeedCreate, NeedWrite
from tests.service.parties import (
    Party,
    csrf_headers,
    engagement_of,
    expert_with_profile,
    fresh,
    member_of_institution,
)
from tests.strategies import (
    NEW_NEED_STATUSES,
    engagement_terms,
    expected_expert,
    expected_institution,
    expected_need,
    expert_payloads,
    feedback_payloads,
    institution_payloads,
    need_payloads,
)

NEED_DATES = ("start_from", "start_until")
EXPERT_DATES = ("available_from", "available_until")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _fields(errors: list[dict[str, str]] | dict[str, str]) -> set[str]:
    """The fields a 422 names: a list of {field, message}, or (core refusals) a field map."""
    return set(errors) if isinstance(errors, dict) else {error["field"] for error in errors}


@pytest.fixture
def member(client: TestClient, session: Session) -> tuple[Party, Institution]:
    """A logged-in member of a verified institution."""
    return member_of_institution(client, session)


@given(payload=need_payloads(statuses=NEW_NEED_STATUSES), edit=need_payloads())
def test_a_need_posted_then_replaced_reads_back_as_written(
    member: tuple[Party, Institution],
    session: Session,
    payload: dict[str, Any],
    edit: dict[str, Any],
) -> None:
    party, institution = member
    client = party.client
    posted = client.post("/api/needs", json=payload, headers=csrf_headers(client))
    assert posted.status_code == 201, posted.text
    need_id = posted.json()["id"]
    for body in (posted.json(), client.get(f"/api/needs/{need_id}").json()):
        assert {k: body[k] for k in payload} == expected_need(payload)
        assert body["institution_id"] == institution.id
    row = fresh(session, Need, need_id)
    assert [row.start_from, row.start_until] == [_day(payload[k]) for k in NEED_DATES]

    replaced = client.put(f"/api/needs/{need_id}", json=edit, headers=csrf_headers(client))
    assert replaced.status_code == 200, replaced.text
    for body in (replaced.json(), client.get(f"/api/needs/{need_id}").json()):
        assert {k: body[k] for k in edit} == expected_need(edit)
    row = fresh(session, Need, need_id)
    assert [row.start_from, row.start_until] == [_day(edit[k]) for k in NEED_DATES]


@given(payload=need_payloads(statuses=("filled", "closed")))
def test_a_need_posted_filled_or_closed_is_refused_naming_the_status(
    member: tuple[Party, Institution], session: Session, payload: dict[str, Any]
) -> None:
    party, institution = member
    before = len(session.exec(select(Need).where(Need.institution_id == institution.id)).all())
    response = party.client.post("/api/needs", json=payload, headers=csrf_headers(party.client))
    assert response.status_code == 422, response.text
    assert _fields(response.json()["errors"]) == {"status"}
    session.expire_all()
    after = session.exec(select(Need).where(Need.institution_id == institution.id)).all()
    assert len(after) == before


@pytest.fixture
def expert(client: TestClient, session: Session) -> Party:
    """A logged-in expert with a profile."""
    return expert_with_profile(client, session)[0]


@given(payload=expert_payloads())
def test_an_expert_profile_reads_back_as_written(
    expert: Party, session: Session, payload: dict[str, Any]
) -> None:
    client = expert.client
    saved = client.put("/api/experts/me", json=payload, headers=csrf_headers(client))
    assert saved.status_code == 200, saved.text
    expected = expected_expert(payload)
    for body in (saved.json(), client.get("/api/experts/me").json()):
        assert {k: body[k] for k in expected} == expected
        assert (body["consent_matching_at"] is not None) == payload["consent_matching"]
    row = fresh(session, ExpertProfile, saved.json()["id"])
    assert [row.available_from, row.available_until] == [_day(payload[k]) for k in EXPERT_DATES]


@given(payload=institution_payloads())
def test_an_institution_profile_reads_back_as_written(
    member: tuple[Party, Institution], session: Session, payload: dict[str, Any]
) -> None:
    party, institution = member
    client = party.client
    saved = client.put("/api/institutions/mine", json=payload, headers=csrf_headers(client))
    assert saved.status_code == 200, saved.text
    expected = expected_institution(payload)
    for body in (saved.json(), client.get("/api/institutions/mine").json()):
        assert {k: body[k] for k in expected} == expected
    row = fresh(session, Institution, institution.id)
    assert {k: getattr(row, k) for k in expected} == expected


@pytest.fixture
def engagement_parties(
    client: TestClient, session: Session, make_client: Any
) -> tuple[Party, Party, Institution]:
    """The member of a verified institution and an expert, each logged in in their browser."""
    member, institution = member_of_institution(client, session)
    expert, _ = expert_with_profile(make_client(), session)
    return member, expert, institution


def _engagement(session: Session, institution: Institution, expert_user: User, status: str) -> int:
    expert = session.exec(
        select(ExpertProfile).where(ExpertProfile.user_id == expert_user.id)
    ).one()
    return int(engagement_of(session, institution, status, expert=expert).id or 0)


def _expected_terms(terms: dict[str, Any], before: Engagement) -> dict[str, Any]:
    """Terms left out keep what the engagement had."""
    return {
        "start_date": terms["start_date"] or (before.start_date and before.start_date.isoformat()),
        "end_date": terms["end_date"] or (before.end_date and before.end_date.isoformat()),
        "mode": terms["mode"] or before.mode,
        "agreed_hours": terms["agreed_hours"]
        if terms["agreed_hours"] is not None
        else before.agreed_hours,
    }


@given(confirm_terms=engagement_terms(), start_terms=engagement_terms(started_by=date.today()))
def test_engagement_terms_given_with_moves_read_back_as_written(
    engagement_parties: tuple[Party, Party, Institution],
    session: Session,
    confirm_terms: dict[str, Any],
    start_terms: dict[str, Any],
) -> None:
    member, expert, institution = engagement_parties
    engagement_id = _engagement(session, institution, expert.user, "accepted")
    for party, action, terms in (
        (member, "confirm", confirm_terms),
        (expert, "start", start_terms),
    ):
        before = fresh(session, Engagement, engagement_id)
        expected = _expected_terms(terms, before)
        if (
            expected["start_date"]
            and expected["end_date"]
            and expected["end_date"] < expected["start_date"]
        ):
            # The merged terms would end before they start: refused, naming the field.
            response = party.client.post(
                f"/api/engagements/{engagement_id}/{action}",
                json=terms,
                headers=csrf_headers(party.client),
            )
            assert response.status_code == 422, response.text
            assert "end_date" in _fields(response.json()["errors"])
            return
        if (
            action == "start"
            and expected["start_date"]
            and expected["start_date"] > utcnow().date().isoformat()
        ):
            # Agreed to start later (at confirmation): starting today is refused, saying when.
            response = party.client.post(
                f"/api/engagements/{engagement_id}/{action}",
                json=terms,
                headers=csrf_headers(party.client),
            )
            assert response.status_code == 409, response.text
            assert expected["start_date"] in response.json()["detail"]
            return
        response = party.client.post(
            f"/api/engagements/{engagement_id}/{action}",
            json=terms,
            headers=csrf_headers(party.client),
        )
        assert response.status_code == 200, response.text
        if action == "start" and expected["start_date"] is None:
            expected["start_date"] = utcnow().date().isoformat()
        for body in (response.json(), party.client.get(f"/api/engagements/{engagement_id}").json()):
            assert {k: body[k] for k in expected} == expected
        row = fresh(session, Engagement, engagement_id)
        assert [row.start_date, row.end_date] == [
            _day(expected["start_date"]),
            _day(expected["end_date"]),
        ]


@given(from_member=feedback_payloads(), from_expert=feedback_payloads())
def test_feedback_reads_back_as_written(
    engagement_parties: tuple[Party, Party, Institution],
    session: Session,
    from_member: dict[str, Any],
    from_expert: dict[str, Any],
) -> None:
    member, expert, institution = engagement_parties
    engagement_id = _engagement(session, institution, expert.user, "completed")
    for party, side, payload in (
        (member, "institution", from_member),
        (expert, "expert", from_expert),
    ):
        response = party.client.post(
            f"/api/engagements/{engagement_id}/feedback",
            json=payload,
            headers=csrf_headers(party.client),
        )
        assert response.status_code == 201, response.text
        assert {k: response.json()[k] for k in payload} == payload
        shown = party.client.get(f"/api/engagements/{engagement_id}").json()["feedback"]
        mine = [item for item in shown if item["side"] == side]
        assert len(mine) == 1 and {k: mine[0][k] for k in payload} == payload
    session.expire_all()
    assert session.get(EngagementFeedback, response.json()["id"]).impact == from_expert["impact"]


WRITE_SCHEMAS: list[tuple[type[Any], type[Any], dict[str, str]]] = [
    (NeedCreate, Need, {}),
    (NeedWrite, Need, {}),
    (NeedRow, Need, {}),
    (ExpertProfileUpdate, ExpertProfile, {}),
    (ExpertRow, ExpertProfile, {}),
    (InstitutionUpdate, Institution, {}),
    (InstitutionRow, Institution, {}),
    (ExpertRegistration, User, {}),
    (EmailChange, User, {}),
    (InstitutionRegistration, User, {}),
    (InstitutionRegistration, Institution, {"institution_name": "name"}),
    (MemberRow, User, {}),
    (FeedbackWrite, EngagementFeedback, {}),
    (MoveRequest, Engagement, {}),
    (ReviewReply, InstitutionReply, {}),
]


def _longest(info: Any) -> int | None:
    lengths = [m.max_length for m in info.metadata if getattr(m, "max_length", None) is not None]
    return min(lengths) if lengths else None


@pytest.mark.parametrize(
    ("schema", "model", "columns"), WRITE_SCHEMAS, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_text_a_schema_accepts_fits_its_column(
    schema: type[Any], model: type[Any], columns: dict[str, str]
) -> None:
    # PostgreSQL refuses a value longer than its varchar with a 500; SQLite stores it anyway.
    too_long = []
    for name, info in schema.model_fields.items():
        column = model.__table__.c.get(columns.get(name, name))
        limit = getattr(column.type, "length", None) if column is not None else None
        # Codes, e-mails and choices are bounded by their validators; free text by a length.
        longest = _longest(info)
        if limit is not None and longest is not None and longest > limit:
            too_long.append(f"{name}: schema {longest} > column {limit}")
    assert too_long == []


def test_a_city_longer_than_its_column_is_a_422_naming_it(
    member: tuple[Party, Institution], session: Session
) -> None:
    party, _ = member
    body = {"title": "Co-teach", "description": "A module to co-teach.", "mode": "remote"}
    response = party.client.post(
        "/api/needs", json={**body, "city": "x" * 121}, headers=csrf_headers(party.client)
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["city"]
