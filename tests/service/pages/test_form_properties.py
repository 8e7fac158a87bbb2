"""Every valid form of the site is saved as typed and shown again as saved, on each database;
a form refused for one bad field comes back with every other field as the person typed it.

The forms are the pages' own (tests/service/pages/html_forms.py reads them as a browser
does): the payloads are typed into their fields, chosen among their options, and sent with
the page's CSRF token. Saving a form shown unchanged must change nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from service.models import (
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    Institution,
    InstitutionMember,
    Need,
    User,
)
from tests.conftest import login
from tests.service.pages.helpers import error_beside
from tests.service.pages.html_forms import HtmlForm
from tests.service.parties import (
    csrf_headers,
    engagement_of,
    expert_with_profile,
    fresh,
    member_of_institution,
)
from tests.strategies import (
    NEW_NEED_STATUSES,
    OFFERED_TIMEZONES,
    engagement_terms,
    expert_payloads,
    expert_registrations,
    feedback_payloads,
    institution_payloads,
    institution_registrations,
    need_payloads,
)

NEW_NEED = "/institution/needs/new"


def _errors(response: Any) -> list[str]:
    """The errors a refused form shows."""
    soup = BeautifulSoup(response.text, "html.parser")
    return [node.get_text(" ", strip=True) for node in soup.select(".field-error, .form-error")]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --- needs --------------------------------------------------------------------------------
def _type_need(form: HtmlForm, payload: dict[str, Any]) -> dict[str, Any]:
    """Types a need into its form; returns what the form can hold of it (see languages)."""
    for name in ("title", "description", "city"):
        form.type(name, payload[name])
    form.type("required_skills", ", ".join(payload["required_skills"]))
    for name in ("sector", "mode", "status", "duration_weeks", "hours_per_week"):
        form.type(name, _text(payload[name]))
    for name in ("start_from", "start_until"):
        form.type(name, _text(payload[name]))
    form.tick("live_sessions", payload["live_sessions"])
    form.tick("support", payload["support"])
    # Languages with a box are ticked; one more may be chosen in the list below them.
    boxes = {c.value for c in form.named("languages") if c.kind == "checkbox"}
    ticked = [code for code in payload["languages"] if code in boxes]
    others = [code for code in payload["languages"] if code not in boxes][:1]
    form.tick("languages", ticked)
    form.type("languages", others[0] if others else "")
    return {**payload, "languages": sorted([*ticked, *others])}


def _need_shown(form: HtmlForm) -> dict[str, Any]:
    """Reads a need back from its form, in the shape of a payload."""
    skills = form.value("required_skills")
    other = form.value("languages")
    return {
        "title": form.value("title"),
        "description": form.value("description"),
        "required_skills": [s.strip() for s in skills.split(",")] if skills else [],
        "sector": form.value("sector"),
        "mode": form.value("mode"),
        "duration_weeks": int(form.value("duration_weeks")),
        "hours_per_week": int(form.value("hours_per_week")),
        "start_from": form.value("start_from") or None,
        "start_until": form.value("start_until") or None,
        "languages": sorted([*form.ticked("languages"), *([other] if other else [])]),
        "city": form.value("city"),
        "support": sorted(form.ticked("support")),
        "live_sessions": form.ticked("live_sessions") == ["on"],
        "status": form.value("status"),
    }


def _need_stored(need: Need) -> dict[str, Any]:
    return {
        "title": need.title,
        "description": need.description,
        "required_skills": need.required_skills,
        "sector": need.sector,
        "mode": need.mode,
        "duration_weeks": need.duration_weeks,
        "hours_per_week": need.hours_per_week,
        "start_from": need.start_from.isoformat() if need.start_from else None,
        "start_until": need.start_until.isoformat() if need.start_until else None,
        "languages": sorted(need.languages),
        "city": need.city,
        "support": sorted(need.support),
        "live_sessions": need.live_sessions,
        "status": need.status,
    }


def _need_expected(typed: dict[str, Any]) -> dict[str, Any]:
    return {
        **typed,
        "title": typed["title"].strip(),
        "required_skills": [s.strip() for s in typed["required_skills"]],
        "support": sorted(typed["support"]),
    }


@pytest.fixture
def member(client: TestClient, session: Session) -> Institution:
    """A browser logged in as the member of a verified institution."""
    return member_of_institution(client, session)[1]


def _stored_need(session: Session, need_id: int) -> Need:
    need: Need = fresh(session, Need, need_id)
    return need


@given(payload=need_payloads(statuses=NEW_NEED_STATUSES), edit=need_payloads())
def test_a_need_typed_in_its_form_is_saved_and_shown_as_typed(
    client: TestClient,
    session: Session,
    member: Institution,
    payload: dict[str, Any],
    edit: dict[str, Any],
) -> None:
    form = HtmlForm.of(client.get(NEW_NEED), NEW_NEED)
    expected = _need_expected(_type_need(form, payload))
    posted = form.submit(client)
    assert posted.status_code == 303, posted.text
    need_id = int(posted.headers["location"].rsplit("/", 1)[-1])
    assert _need_stored(_stored_need(session, need_id)) == expected

    shown = HtmlForm.of(
        client.get(f"/institution/needs/{need_id}/edit"), f"/institution/needs/{need_id}/edit"
    )
    assert _need_shown(shown) == expected
    # Saving the form as shown changes nothing.
    assert shown.submit(client).status_code == 303
    assert _need_stored(_stored_need(session, need_id)) == expected

    form = HtmlForm.of(
        client.get(f"/institution/needs/{need_id}/edit"), f"/institution/needs/{need_id}/edit"
    )
    expected = _need_expected(_type_need(form, edit))
    assert form.submit(client).status_code == 303
    assert _need_stored(_stored_need(session, need_id)) == expected


NEED_BREAKERS = {
    "title": {"title": "ab"},
    "duration_weeks": {"duration_weeks": "0"},
    "hours_per_week": {"hours_per_week": "61"},
    "start_until": {"start_from": "2027-03-10", "start_until": "2027-03-09"},
    "start_from": {"start_from": "2027-02-30"},
}


@given(
    payload=need_payloads(statuses=NEW_NEED_STATUSES), broken=st.sampled_from(sorted(NEED_BREAKERS))
)
def test_a_refused_need_form_keeps_every_field_typed(
    client: TestClient, session: Session, member: Institution, payload: dict[str, Any], broken: str
) -> None:
    form = HtmlForm.of(client.get(NEW_NEED), NEW_NEED)
    _type_need(form, payload)
    for name, value in NEED_BREAKERS[broken].items():
        form.type(name, value)
    typed = form.pairs()
    response = form.submit(client)
    assert response.status_code == 422, response.text
    assert error_beside(response, broken)
    again = HtmlForm.of(response, NEW_NEED)
    assert _comparable(again.pairs()) == _comparable(typed)
    assert session.exec(select(Need)).all() == []


def _comparable(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a person typed, in the form's order; list fields as their items."""
    out = []
    for name, value in pairs:
        if name == "csrf_token" or (name == "languages" and not value):
            continue
        if name in ("required_skills",):
            out.extend((name, item.strip()) for item in value.split(",") if item.strip())
        else:
            out.append((name, value.strip()))
    return sorted(out)


# --- expert profile -----------------------------------------------------------------------
PROFILE_FORM = "/expert/profile"


def _type_profile(form: HtmlForm, payload: dict[str, Any]) -> dict[str, Any]:
    """Types a profile into the editor, adding language rows as its script does."""
    for name in ("display_name", "headline", "bio", "education", "city", "phone"):
        form.type(name, payload[name])
    for name in ("origin_country", "residence_country", "timezone", "visibility"):
        form.type(name, payload[name])
    for name in ("years_experience", "hours_per_month", "available_from", "available_until"):
        form.type(name, _text(payload[name]))
    kept = {c.value for c in form.named("skills") if c.kind == "checkbox"}
    form.tick("skills", [s for s in payload["skills"] if s in kept])
    new = [skill for skill in payload["skills"] if skill not in kept]
    (box,) = [c for c in form.named("skills") if c.kind != "checkbox"]
    box.value = ", ".join(new)
    rows = [c for c in form.controls if c.name.startswith("lang_code_")]
    for index, language in enumerate(payload["languages"]):
        if index < len(rows):
            form.type(f"lang_code_{index}", language["code"])
            form.type(f"lang_level_{index}", language["level"])
        else:
            form.add(f"lang_code_{index}", language["code"])
            form.add(f"lang_level_{index}", language["level"])
    for index in range(len(payload["languages"]), len(rows)):
        form.type(f"lang_code_{index}", "")
    form.tick("modes", payload["modes"])
    form.tick("sectors", payload["sectors"])
    form.tick("consent_matching", payload["consent_matching"])
    # Kept skills come first (in the order shown), then the new ones as typed.
    skills = [s for s in payload["skills"] if s in kept] + new
    order = [c.value for c in form.named("skills") if c.kind == "checkbox"]
    skills = sorted([s for s in skills if s in kept], key=order.index) + new
    return {**payload, "skills": skills}


def _profile_stored(expert: ExpertProfile) -> dict[str, Any]:
    return {
        "display_name": expert.display_name,
        "headline": expert.headline,
        "bio": expert.bio,
        "skills": expert.skills,
        "languages": expert.languages,
        "origin_country": expert.origin_country,
        "residence_country": expert.residence_country,
        "city": expert.city,
        "timezone": expert.timezone,
        "modes": sorted(expert.modes),
        "hours_per_month": expert.hours_per_month,
        "available_from": expert.available_from.isoformat() if expert.available_from else None,
        "available_until": expert.available_until.isoformat() if expert.available_until else None,
        "sectors": sorted(expert.sectors),
        "years_experience": expert.years_experience,
        "education": expert.education,
        "phone": expert.phone,
        "visibility": expert.visibility,
        "consent_matching": expert.consent_matching_at is not None,
    }


def _profile_expected(typed: dict[str, Any]) -> dict[str, Any]:
    return {
        **typed,
        "display_name": typed["display_name"].strip(),
        "skills": [s.strip() for s in typed["skills"]],
        "modes": sorted(typed["modes"]),
        "sectors": sorted(typed["sectors"]),
    }


@pytest.fixture
def expert(client: TestClient, session: Session) -> ExpertProfile:
    """A browser logged in as an expert with a profile."""
    return expert_with_profile(client, session)[1]


def _stored_profile(session: Session, expert_id: int | None) -> dict[str, Any]:
    return _profile_stored(fresh(session, ExpertProfile, expert_id))


@given(payload=expert_payloads(timezones=OFFERED_TIMEZONES))
def test_a_profile_typed_in_the_editor_is_saved_and_shown_as_typed(
    client: TestClient, session: Session, expert: ExpertProfile, payload: dict[str, Any]
) -> None:
    form = HtmlForm.of(client.get("/expert/profile"), PROFILE_FORM)
    expected = _profile_expected(_type_profile(form, payload))
    response = form.submit(client)
    assert response.status_code == 303, response.text
    assert _stored_profile(session, expert.id) == expected
    shown = HtmlForm.of(client.get("/expert/profile"), PROFILE_FORM)
    again = shown.submit(client)
    assert again.status_code == 303, (shown.pairs(), _errors(again))
    assert _stored_profile(session, expert.id) == expected


@given(payload=expert_payloads())
def test_a_profile_saved_over_the_api_survives_the_editor(
    client: TestClient, session: Session, expert: ExpertProfile, payload: dict[str, Any]
) -> None:
    headers = csrf_headers(client)
    assert client.put("/api/experts/me", json=payload, headers=headers).status_code == 200
    before = _stored_profile(session, expert.id)
    shown = HtmlForm.of(client.get("/expert/profile"), PROFILE_FORM)
    response = shown.submit(client)
    assert response.status_code == 303, response.text
    assert _stored_profile(session, expert.id) == before


# --- institution profile -------------------------------------------------------------------
INSTITUTION_FORM = "/institution/profile"


@given(payload=institution_payloads())
def test_an_institution_profile_typed_in_its_form_is_saved_and_shown(
    client: TestClient, session: Session, member: Institution, payload: dict[str, Any]
) -> None:
    form = HtmlForm.of(client.get("/institution/profile"), INSTITUTION_FORM)
    for name, value in payload.items():
        form.type(name, value)
    assert form.submit(client).status_code == 303
    expected = {**payload, "name": payload["name"].strip()}
    session.expire_all()
    stored = session.get(Institution, member.id)
    assert {name: getattr(stored, name) for name in payload} == expected
    shown = HtmlForm.of(client.get("/institution/profile"), INSTITUTION_FORM)
    assert {name: shown.value(name) for name in payload} == expected


# --- registration --------------------------------------------------------------------------
# Each registration hashes a password twice (register, log in): fewer examples keep it quick.
REGISTRATIONS = settings(max_examples=8)


@REGISTRATIONS
@given(payload=expert_registrations())
def test_an_expert_registers_with_what_they_typed(
    make_client: Any, session: Session, payload: dict[str, Any]
) -> None:
    browser = make_client()
    form = HtmlForm.of(browser.get("/register/expert"), "/register/expert")
    for name in ("display_name", "email", "password", "locale"):
        form.type(name, payload[name])
    form.tick("consent_matching", payload["consent_matching"])
    form.tick("consent_terms", True)
    response = form.submit(browser)
    assert response.status_code == 303, response.text
    user = session.exec(select(User).where(User.email == payload["email"].lower())).one()
    assert (user.display_name, user.locale) == (payload["display_name"].strip(), payload["locale"])
    profile = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
    assert profile.display_name == payload["display_name"].strip()
    assert (profile.consent_matching_at is not None) == payload["consent_matching"]
    # The address and password as typed open the account again.
    login(make_client(), payload["email"], payload["password"])


@REGISTRATIONS
@given(payload=institution_registrations())
def test_an_institution_registers_with_what_it_typed(
    make_client: Any, session: Session, payload: dict[str, Any]
) -> None:
    browser = make_client()
    form = HtmlForm.of(browser.get("/register/institution"), "/register/institution")
    for name, value in payload.items():
        form.type(name, value)
    form.tick("consent_terms", True)
    response = form.submit(browser)
    assert response.status_code == 303, response.text
    user = session.exec(select(User).where(User.email == payload["email"].lower())).one()
    assert (user.display_name, user.locale) == (payload["display_name"].strip(), payload["locale"])
    membership = session.exec(
        select(InstitutionMember).where(InstitutionMember.user_id == user.id)
    ).one()
    institution = session.get(Institution, membership.institution_id)
    assert institution is not None
    assert (institution.name, institution.type, institution.country) == (
        payload["institution_name"].strip(),
        payload["institution_type"],
        payload["country"],
    )
    assert (institution.city, institution.website) == (payload["city"], payload["website"])
    login(make_client(), payload["email"], payload["password"])


REGISTRATION_BREAKERS = {
    "password": {"password": "short"},
    "email": {"email": "not an address"},
    "display_name": {"display_name": "   "},
}


@given(
    payload=institution_registrations(),
    broken=st.sampled_from(sorted(REGISTRATION_BREAKERS)),
    terms=st.booleans(),
)
def test_a_refused_registration_keeps_every_field_but_the_password(
    make_client: Any, session: Session, payload: dict[str, Any], broken: str, terms: bool
) -> None:
    browser = make_client()
    selector = "/register/institution"
    form = HtmlForm.of(browser.get("/register/institution"), selector)
    for name, value in {**payload, **REGISTRATION_BREAKERS[broken]}.items():
        form.type(name, value)
    form.tick("consent_terms", terms)
    typed = [(n, v) for n, v in form.pairs() if n not in ("password", "csrf_token")]
    response = form.submit(browser)
    assert response.status_code == 422, response.text
    assert error_beside(response, broken)
    again = HtmlForm.of(response, selector)
    assert [(n, v) for n, v in again.pairs() if n not in ("password", "csrf_token")] == typed
    assert session.exec(select(User)).all() == []


# --- engagements: terms and feedback ------------------------------------------------------
@given(terms=engagement_terms())
def test_terms_typed_when_confirming_are_saved(
    client: TestClient, session: Session, member: Institution, terms: dict[str, Any]
) -> None:
    engagement = engagement_of(session, member, "accepted")
    page = client.get(f"/institution/engagements/{engagement.id}")
    form = HtmlForm.of(page, f"/engagements/{engagement.id}/confirm")
    for name in ("start_date", "end_date", "agreed_hours", "mode"):
        form.type(name, _text(terms[name]))
    response = form.submit(client)
    assert response.status_code == 303, response.text
    session.expire_all()
    stored = session.get(Engagement, engagement.id)
    assert stored is not None and stored.status == "confirmed"
    assert stored.start_date == (
        date.fromisoformat(terms["start_date"]) if terms["start_date"] else None
    )
    assert stored.end_date == (date.fromisoformat(terms["end_date"]) if terms["end_date"] else None)
    assert stored.agreed_hours == terms["agreed_hours"]
    assert stored.mode == (terms["mode"] or "remote")


@given(terms=engagement_terms().filter(lambda t: t["start_date"] is not None))
def test_refused_terms_come_back_as_typed(
    client: TestClient, session: Session, member: Institution, terms: dict[str, Any]
) -> None:
    engagement = engagement_of(session, member, "accepted")
    selector = f"/engagements/{engagement.id}/confirm"
    form = HtmlForm.of(client.get(f"/institution/engagements/{engagement.id}"), selector)
    start = date.fromisoformat(terms["start_date"])
    typed = {**terms, "end_date": (start - timedelta(days=1)).isoformat()}
    for name in ("start_date", "end_date", "agreed_hours", "mode"):
        form.type(name, _text(typed[name]))
    response = form.submit(client)
    assert response.status_code == 422, response.text
    assert error_beside(response, f"end_date-{engagement.id}-confirm")
    again = HtmlForm.of(response, selector)
    assert again.pairs() == form.pairs()
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "accepted"  # type: ignore[union-attr]


@given(payload=feedback_payloads())
def test_feedback_typed_in_its_form_is_saved(
    client: TestClient, session: Session, member: Institution, payload: dict[str, Any]
) -> None:
    engagement = engagement_of(session, member, "completed")
    page = client.get(f"/institution/engagements/{engagement.id}")
    form = HtmlForm.of(page, marker="data-feedback-form")
    for name in ("rating", "delivered", "hours", "impact"):
        form.type(name, _text(payload[name]))
    form.tick("would_repeat", payload["would_repeat"])
    response = form.submit(client)
    assert response.status_code == 303, response.text
    stored = session.exec(
        select(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement.id)
    ).one()
    assert {name: getattr(stored, name) for name in payload} == payload


@given(payload=feedback_payloads())
def test_refused_feedback_comes_back_as_typed(
    client: TestClient, session: Session, member: Institution, payload: dict[str, Any]
) -> None:
    engagement = engagement_of(session, member, "completed")
    page = client.get(f"/institution/engagements/{engagement.id}")
    form = HtmlForm.of(page, marker="data-feedback-form")
    for name in ("rating", "delivered", "impact"):
        form.type(name, _text(payload[name]))
    form.type("hours", "10001")
    form.tick("would_repeat", payload["would_repeat"])
    response = form.submit(client)
    assert response.status_code == 422, response.text
    again = HtmlForm.of(response, marker="data-feedback-form")
    assert _comparable(again.pairs()) == _comparable(form.pairs())


# --- going back after an error ------------------------------------------------------------
def test_write_forms_let_the_browser_restore_what_was_typed(
    client: TestClient, session: Session, make_client: Any
) -> None:
    # After an error page, Back shows the form again with what was typed, except in fields
    # marked autocomplete="off": browsers do not restore those (required skills came back
    # empty after a 500 that way).
    anonymous = make_client()
    pages = [(anonymous, "/register/expert"), (anonymous, "/register/institution")]
    member_of_institution(client, session)
    pages += [(client, "/institution/needs/new"), (client, "/institution/profile")]
    expert_browser = make_client()
    expert_with_profile(expert_browser, session)
    pages.append((expert_browser, "/expert/profile"))
    for browser, url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        soup = BeautifulSoup(response.text, "html.parser")
        closed = [
            str(node.get("name"))
            for node in soup.select("main form [autocomplete]")
            if node.get("autocomplete") == "off"
        ]
        assert closed == [], f"{url}: {closed}"
