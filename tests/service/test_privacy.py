"""Personal data: the export holds everything, the deletion leaves nothing personal behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.audit import record
from service.core.engagements import give_feedback, move
from service.models import (
    ApiToken,
    AuditEvent,
    Embedding,
    Engagement,
    EngagementFeedback,
    ExpertProfile,
    Institution,
    InstitutionMember,
    Notification,
    SearchOutbox,
    User,
)
from service.schemas.engagements import FeedbackWrite
from service.search import outbox
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_need, make_proposal, make_user
from tests.service.worlds import World, build_world, offer

EMAIL = "zeynab.private@example.org"
NAME = "Zeynab Ould-Privée"
PHONE = "+33 6 98 76 54 32"


def _private_world(session: Session, settings: Settings) -> tuple[World, Engagement]:
    """The world's expert made unique, with a completed engagement, feedback and traces."""
    world = build_world(session)
    world.expert_user.email = EMAIL
    world.expert_user.display_name = NAME
    world.expert.display_name = NAME
    world.expert.phone = PHONE
    world.expert.bio = f"{NAME}, field epidemiologist."
    session.add_all([world.expert_user, world.expert])
    session.commit()
    engagement = offer(session, world, settings)
    for actor, action in (
        (world.expert_user, "accept"),
        (world.member, "confirm"),
        (world.expert_user, "start"),
        (world.expert_user, "complete"),
        (world.member, "confirm_completion"),
    ):
        move(session, engagement=engagement, actor=actor, action=action, settings=settings)
    give_feedback(
        session,
        engagement=engagement,
        actor=world.expert_user,
        data=FeedbackWrite(rating=5, hours=20, delivered="Six lectures"),
    )
    # A second, unanswered proposal, an embedding, a pending index upsert and a token.
    other_need = make_need(session, institution=world.institution, title="Second need")
    make_proposal(session, need=other_need, expert=world.expert)
    session.add(
        Embedding(
            owner_type="expert",
            owner_id=world.expert.id or 0,
            model="m",
            model_version="1",
            content_hash="h",
            dim=2,
            vector=b"\x00\x01",
        )
    )
    outbox.enqueue(
        session,
        index=EXPERTS_STAFF,
        doc_id=world.expert.id or 0,
        op="upsert",
        payload={"id": world.expert.id, "display_name": NAME, "phone": PHONE},
    )
    create_api_token(session, user=world.expert_user, name="partner")
    session.commit()
    return world, engagement


def _form(browser: TestClient, url: str, data: dict[str, Any]) -> Any:
    return browser.post(url, data={**data, "csrf_token": csrf_token(browser)})


def test_export_holds_everything_but_secrets(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, engagement = _private_world(session, settings)
    browser = make_client()
    login(browser, EMAIL, PASSWORD)
    response = browser.get("/account/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["account"]["email"] == EMAIL and "password_hash" not in data["account"]
    assert (
        data["expert_profile"]["phone"] == PHONE and data["expert_profile"]["display_name"] == NAME
    )
    assert [e["id"] for e in data["engagements"]] == [engagement.id]
    assert data["engagements"][0]["status"] == "completed"
    assert data["engagements"][0]["feedback"][0]["delivered"] == "Six lectures"
    assert len(data["proposals"]) == 2
    assert {n["kind"] for n in data["notifications"]} >= {"offer.new"}
    assert data["api_tokens"][0]["name"] == "partner" and "token_hash" not in data["api_tokens"][0]
    assert any(e["action"] == "engagement.accept" for e in data["audit_events"])
    assert all(e["to_address"] == EMAIL for e in data["emails"]) and data["emails"]
    assert browser.get("/api/me/data").json()["account"]["email"] == EMAIL
    page = browser.get("/account/data")
    assert 'href="/account/data.json"' in page.text and 'action="/account/delete"' in page.text
    member = make_client()
    login(member, world.member.email, PASSWORD)
    mine = member.get("/api/me/data").json()
    assert mine["institution"]["name"] == world.institution.name and "expert_profile" not in mine


def _dump(session: Session) -> str:
    """Every row of every table, as text."""
    session.expire_all()
    parts = []
    for table in SQLModel.metadata.sorted_tables:
        rows = session.execute(text(f'SELECT * FROM "{table.name}"')).all()
        parts.extend(f"{table.name}: {tuple(row)!r}" for row in rows)
    return "\n".join(parts)


def test_deleting_an_expert_leaves_nothing_personal(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, engagement = _private_world(session, settings)
    browser = make_client()
    login(browser, EMAIL, PASSWORD)
    dump = _dump(session)
    assert EMAIL in dump and NAME in dump and PHONE in dump  # the search below can fail
    response = _form(browser, "/account/delete", {"password": "not my password"})
    assert response.status_code == 422 and "This is not your current password." in response.text
    # Nothing changed but the count of wrong passwords (service.core.guesses).
    counted = f"loginfailure: (1, 'user:{world.expert_user.id}', "
    lines = _dump(session).splitlines()
    assert len([line for line in lines if line.startswith(counted)]) == 1
    assert [line for line in lines if not line.startswith(counted)] == dump.splitlines()
    response = _form(browser, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 303
    dump = _dump(session)
    for needle in (EMAIL, NAME, PHONE, "zeynab", "Ould-Priv"):
        assert needle.lower() not in dump.lower(), needle
    user = session.get(User, world.expert_user.id)
    assert user is not None
    assert (user.email, user.active, user.display_name) == (f"deleted-{user.id}@invalid", False, "")
    assert user.deleted_at is not None
    # The engagement stays, anonymised, for the statistics.
    kept = session.get(Engagement, engagement.id)
    assert kept is not None and kept.status == "completed" and kept.expert_id is None
    stub = session.get(ExpertProfile, world.expert.id)
    assert stub is not None and (stub.user_id, stub.active, stub.skills, stub.bio) == (
        None,
        False,
        [],
        "",
    )
    assert session.exec(select(Notification).where(Notification.user_id == user.id)).all() == []
    assert session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).all() == []
    assert session.exec(select(Embedding)).all() == []
    rows = session.exec(
        select(SearchOutbox).where(SearchOutbox.document_id == world.expert.id)
    ).all()
    assert {(r.index, r.op) for r in rows} == {
        (EXPERTS_STAFF, "delete"),
        (EXPERTS_PUBLIC, "delete"),
    }
    # The old session is over and the password no longer opens anything.
    assert browser.get("/account").status_code == 303
    stranger = make_client()
    response = stranger.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(stranger)}
    )
    assert response.status_code == 422
    from service.core.reports import impact_report

    assert impact_report(session)["by_status"]["completed"] == 1


def test_an_expert_without_engagements_is_removed_entirely(
    session: Session, client: TestClient
) -> None:
    user = make_user(session, email="solo@example.org")
    expert = make_expert(session, user=user, display_name="Solo Expert")
    token = create_api_token(session, user=user)
    session.commit()
    expert_id = expert.id
    headers = {"authorization": f"Bearer {token}"}
    assert (
        client.post("/api/me/delete", json={"password": "wrong"}, headers=headers).status_code
        == 422
    )
    assert (
        client.post("/api/me/delete", json={"password": PASSWORD}, headers=headers).status_code
        == 200
    )
    session.expire_all()
    assert session.get(ExpertProfile, expert_id) is None
    assert "Solo Expert" not in _dump(session) and "solo@example.org" not in _dump(session)


def test_deleting_a_member_keeps_the_institution(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    colleague = make_user(session, role="institution", email="colleague@example.org")  # type: ignore[arg-type]
    session.add(
        InstitutionMember(institution_id=world.institution.id or 0, user_id=colleague.id or 0)
    )
    session.commit()
    email = world.member.email
    browser = make_client()
    login(browser, email, PASSWORD)
    assert _form(browser, "/account/delete", {"password": PASSWORD}).status_code == 303
    session.expire_all()
    assert session.get(Institution, world.institution.id) is not None
    members = session.exec(
        select(InstitutionMember).where(InstitutionMember.institution_id == world.institution.id)
    ).all()
    assert [m.user_id for m in members] == [colleague.id]
    assert email not in _dump(session)


def test_staff_accounts_are_not_deleted_here(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    coordinator = make_user(session, role="coordinator")  # type: ignore[arg-type]
    browser = make_client()
    login(browser, coordinator.email, PASSWORD)
    assert _form(browser, "/account/delete", {"password": PASSWORD}).status_code == 403
    session.expire_all()
    assert session.get(User, coordinator.id).active  # type: ignore[union-attr]
    assert json.loads(browser.get("/account/data.json").text)["account"]["role"] == "coordinator"


DECLINE_PHRASE = "my cousin runs the rival ministry xq7"
FEEDBACK_PHRASE = "the dean shouted at staff zr9"
IMPACT_PHRASE = "vaccination rates rose in Kayes wp4"


def _text_of_every_table(session: Session) -> str:
    """Every column of every table (JSON decoded), as one lower-cased text."""
    session.expire_all()
    parts = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(sa_select(table)).all():
            parts.append(f"{table.name}: " + json.dumps(list(row), ensure_ascii=False, default=str))
    return "\n".join(parts).lower()


def test_erasing_an_expert_erases_what_they_wrote(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, engagement = _private_world(session, settings)
    # They declined another offer, in their own words; the coordinator was told those words.
    declined = offer(
        session, world, settings, need=make_need(session, institution=world.institution)
    )
    move(
        session,
        engagement=declined,
        actor=world.expert_user,
        action="decline",
        reason=DECLINE_PHRASE,
        settings=settings,
    )
    feedback = session.exec(select(EngagementFeedback)).one()
    feedback.delivered, feedback.impact = FEEDBACK_PHRASE, IMPACT_PHRASE
    session.add(feedback)
    # A coordinator's note about them names them.
    record(
        session,
        actor=world.coordinator,
        action="expert.noted",
        entity_type="expert",
        entity_id=world.expert.id,
        reason=f"Called {NAME} at {PHONE}",
        data={"contact": EMAIL},
    )
    session.commit()
    before = _text_of_every_table(session)
    for needle in (DECLINE_PHRASE, FEEDBACK_PHRASE, IMPACT_PHRASE, NAME, EMAIL):
        assert needle.lower() in before, needle  # the search below can fail
    # The coordinator's notification keeps the reason among its params (rendered when read).
    told = session.exec(select(Notification).where(Notification.kind == "engagement.declined"))
    assert [n.params["reason"] for n in told if n.params] == [DECLINE_PHRASE]
    browser = make_client()
    login(browser, EMAIL, PASSWORD)
    assert _form(browser, "/account/delete", {"password": PASSWORD}).status_code == 303
    after = _text_of_every_table(session)
    for needle in (DECLINE_PHRASE, FEEDBACK_PHRASE, IMPACT_PHRASE, NAME, EMAIL, PHONE):
        assert needle.lower() not in after, needle
    # The facts stay, anonymised: the decline, the rating and the hours.
    kept = session.get(Engagement, declined.id)
    assert kept is not None and (kept.status, kept.reason) == ("declined", "[erased]")
    rated = session.exec(select(EngagementFeedback)).one()
    assert (rated.rating, rated.hours, rated.delivered) == (5, 20, "[erased]")
    note = session.exec(select(AuditEvent).where(AuditEvent.action == "expert.noted")).one()
    assert note.reason == "[erased]" and note.data == {"contact": "[erased]"}


def test_erasing_a_member_erases_their_feedback_and_reasons(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world, engagement = _private_world(session, settings)
    give_feedback(
        session,
        engagement=engagement,
        actor=world.member,
        data=FeedbackWrite(rating=4, hours=20, delivered=FEEDBACK_PHRASE),
    )
    cancelled = offer(
        session, world, settings, need=make_need(session, institution=world.institution)
    )
    move(session, engagement=cancelled, actor=world.expert_user, action="accept", settings=settings)
    move(
        session,
        engagement=cancelled,
        actor=world.member,
        action="cancel",
        reason=DECLINE_PHRASE,
        settings=settings,
    )
    session.commit()
    email = world.member.email
    before = _text_of_every_table(session)
    assert DECLINE_PHRASE in before and FEEDBACK_PHRASE in before and email in before
    browser = make_client()
    login(browser, email, PASSWORD)
    assert _form(browser, "/account/delete", {"password": PASSWORD}).status_code == 303
    after = _text_of_every_table(session)
    for needle in (DECLINE_PHRASE, FEEDBACK_PHRASE, email):
        assert needle.lower() not in after, needle
    # The expert's own feedback, which the member did not write, stays.
    sides = {f.side: f.delivered for f in session.exec(select(EngagementFeedback)).all()}
    assert sides == {"expert": "Six lectures", "institution": "[erased]"}


def test_erasing_an_expert_keeps_the_institutions_own_feedback(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    """The expert's feedback is erased; what the institution wrote about the same engagement is
    the institution's and stays, and its page shows the expert's erased words in its language."""
    world, engagement = _private_world(session, settings)
    theirs = "Des cours clairs ; نقل المعرفة إلى فريق المستشفى"
    give_feedback(
        session,
        engagement=engagement,
        actor=world.member,
        data=FeedbackWrite(rating=4, hours=18, delivered=theirs, impact="Équipe autonome."),
    )
    session.commit()
    browser = make_client()
    login(browser, EMAIL, PASSWORD)
    assert _form(browser, "/account/delete", {"password": PASSWORD}).status_code == 303
    session.expire_all()
    sides = {
        f.side: (f.delivered, f.impact) for f in session.exec(select(EngagementFeedback)).all()
    }
    assert sides == {"expert": ("[erased]", ""), "institution": (theirs, "Équipe autonome.")}
    member = make_client()
    login(member, world.member.email, PASSWORD)
    _form(member, "/language", {"locale": "fr", "next": "/institution"})
    page = member.get(f"/institution/engagements/{engagement.id}").text
    assert "Des cours clairs" in page and "Équipe autonome." in page
    assert "[erased]" not in page and "[effacé]" in page
