"""A need changed while offers on it are open: its edit page warns first, and afterwards each
expert with an open offer and the coordinator who approved them are told what changed, in the
app and by email, in their own language."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matching.encoders import Encoder
from service.config import Settings
from service.core.engagements import move
from service.core.matching import MatchingEngine, rematch_need
from service.core.notifications import notification_text
from service.models import (
    Engagement,
    Need,
    Notification,
    OutgoingEmail,
    ProposalStatus,
    Role,
    User,
)
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user
from tests.service.worlds import World, build_world, offer


def form_values(page: BeautifulSoup) -> dict[str, str | list[str]]:
    """What the edit form sends as it is drawn, before a person changes anything."""
    values: dict[str, str | list[str]] = {}

    def add(name: str, value: str) -> None:
        if name in values:
            kept = values[name]
            values[name] = [*kept, value] if isinstance(kept, list) else [kept, value]
        else:
            values[name] = value

    form = page.select_one("form[action$='/edit']")
    assert form is not None
    for field in form.select("input[name]"):
        if field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        add(str(field["name"]), str(field.get("value", "")))
    for field in form.select("textarea[name]"):
        add(str(field["name"]), field.get_text())
    for field in form.select("select[name]"):
        chosen = field.select_one("option[selected]")
        add(str(field["name"]), str(chosen["value"]) if chosen else "")
    return values


def midwives_need(session: Session, world: World, settings: Settings) -> tuple[Need, User, User]:
    """A mission with two open offers: Lamine (French, not answered) and Awa (accepted)."""
    need = make_need(
        session,
        institution=world.institution,
        title="Former nos sages-femmes à l'échographie obstétricale",
        description="Mission de 8 semaines à Dakar : formation pratique de 8 sages-femmes.",
        required_skills=["échographie obstétricale", "formation des sages-femmes"],
        mode="mission",
        duration_weeks=8,
        hours_per_week=35,
        start_from=date(2027, 2, 9),
        start_until=date(2027, 3, 12),
        city="Dakar",
    )
    lamine = make_user(session, role=Role.EXPERT, locale="fr")
    awa = make_user(session, role=Role.EXPERT, locale="ar")
    offer(
        session,
        world,
        settings,
        need,
        expert=make_expert(session, user=lamine, display_name="Lamine Ndiaye"),
    )
    accepted = offer(
        session,
        world,
        settings,
        need,
        expert=make_expert(session, user=awa, display_name="Awa Ndiaye"),
    )
    move(session, engagement=accepted, actor=awa, action="accept", settings=settings)
    session.commit()
    return need, lamine, awa


def notes_of(session: Session, user: User, kind: str) -> list[Notification]:
    """The notifications of a kind a user got."""
    session.expire_all()
    statement = select(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.kind) == kind
    )
    return list(session.exec(statement).all())


def test_the_edit_page_warns_that_experts_with_open_offers_will_be_told(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    need, _, _ = midwives_need(session, world, settings)
    browser = make_client()
    login(browser, world.member.email, PASSWORD)
    page = BeautifulSoup(browser.get(f"/institution/needs/{need.id}/edit").text, "html.parser")
    warning = page.select_one("[data-open-offers]")
    assert warning is not None
    assert warning.get_text(" ", strip=True).startswith("2 experts have open offers for this need.")
    # A need nobody was offered shows no warning.
    quiet = make_need(session, institution=world.institution, title="Audit du laboratoire")
    page = BeautifulSoup(browser.get(f"/institution/needs/{quiet.id}/edit").text, "html.parser")
    assert page.select_one("[data-open-offers]") is None


def test_changing_the_mode_hours_and_dates_tells_each_expert_and_the_coordinator(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    need, lamine, awa = midwives_need(session, world, settings)
    browser = make_client()
    login(browser, world.member.email, PASSWORD)
    page = BeautifulSoup(browser.get(f"/institution/needs/{need.id}/edit").text, "html.parser")
    values = form_values(page)
    values.update(
        mode="hybrid",
        hours_per_week="20",
        start_from="2027-01-04",
        start_until="2027-01-15",
        csrf_token=csrf_token(browser),
    )
    response = browser.post(f"/institution/needs/{need.id}/edit", data=values)
    assert response.status_code == 303, response.text[:2000]
    stored = session.get(Need, need.id)
    session.refresh(stored)
    assert stored is not None and (stored.mode, stored.hours_per_week) == ("hybrid", 20)
    # Lamine reads French: what changed is listed in French.
    (told,) = notes_of(session, lamine, "need.changed")
    title, body = notification_text(told, "fr")
    assert "Former nos sages-femmes" in title
    assert "le mode de travail" in body and "les heures par semaine" in body
    assert "les dates de début possibles" in body
    assert "compétences" not in body
    assert told.link == f"/expert/needs/{need.id}"
    # The accepted expert is told too, and the coordinator who approved both, once.
    assert len(notes_of(session, awa, "need.changed")) == 1
    (coordinator_note,) = notes_of(session, world.coordinator, "need.changed.coordinator")
    _, body = notification_text(coordinator_note, "en")
    assert "the hours per week" in body and "they were told" in body
    emails = session.exec(
        select(OutgoingEmail).where(col(OutgoingEmail.kind) == "need.changed")
    ).all()
    assert sorted(e.to_address for e in emails) == sorted([lamine.email, awa.email])
    # The offers stay open.
    offers = session.exec(select(Engagement).where(Engagement.need_id == need.id)).all()
    assert sorted(e.status for e in offers) == ["accepted", "offered"]


def test_saving_a_need_unchanged_tells_nobody(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    need, lamine, _ = midwives_need(session, world, settings)
    browser = make_client()
    login(browser, world.member.email, PASSWORD)
    page = BeautifulSoup(browser.get(f"/institution/needs/{need.id}/edit").text, "html.parser")
    values = {**form_values(page), "csrf_token": csrf_token(browser)}
    response = browser.post(f"/institution/needs/{need.id}/edit", data=values)
    assert response.status_code == 303, response.text[:2000]
    assert notes_of(session, lamine, "need.changed") == []
    assert notes_of(session, world.coordinator, "need.changed.coordinator") == []


def test_an_offer_the_need_no_longer_ranks_keeps_reasons_read_from_the_need_as_it_is_now(
    session: Session, engine: Engine, hashing: Encoder
) -> None:
    for name in ("Lamine Ndiaye", "Dr Awa Ndiaye"):
        make_expert(
            session,
            display_name=name,
            headline="Gynécologue-obstétricien",
            skills=["échographie obstétricale", "obstétrique"],
        )
    _, institution = make_member(session)
    need = make_need(
        session,
        institution=institution,
        title="Former nos sages-femmes à l'échographie obstétricale",
        description="Formation pratique de sages-femmes à l'échographie obstétricale.",
        required_skills=["échographie obstétricale"],
        hours_per_week=4,
    )
    matching = MatchingEngine(hashing, today=lambda: date(2026, 12, 1))
    matching.sync(engine)
    ranked = rematch_need(session, matching, need_id=need.id or 0, search=None, k=2)
    approved = ranked[1]
    approved.status = ProposalStatus.APPROVED
    session.add(approved)
    need.hours_per_week = 35
    session.add(need)
    session.commit()
    # The need now ranks one expert only: the other keeps the offer, explained afresh.
    rematch_need(session, matching, need_id=need.id or 0, search=None, k=1)
    session.commit()
    session.refresh(approved)
    assert approved.status == ProposalStatus.APPROVED
    assert '"needed_hours": 35' in json.dumps(approved.explanation)
