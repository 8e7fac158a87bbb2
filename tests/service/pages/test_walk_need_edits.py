"""A need's page and edit form as new institutions met them walking the site (stop 25)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models.types import utcnow
from tests.factories import make_member, make_need
from tests.service.pages.helpers import flash_messages, log_in_as, soup_of, text_of
from tests.service.pages.html_forms import HtmlForm


def test_a_pending_institution_can_edit_its_draft_from_its_page(
    client: TestClient, session: Session
) -> None:
    user, institution = make_member(session, verified=False)
    need = make_need(session, institution=institution, status="draft")
    log_in_as(client, user.email)
    soup = soup_of(client.get(f"/institution/needs/{need.id}"))
    # Before, the page hid the edit link while the institution awaited verification, though
    # the edit form (drafts need no verification) was there at its address. A draft has
    # nothing to close: nobody else sees it (tests/service/pages/test_done_notifications.py).
    assert soup.select_one(f'a[href="/institution/needs/{need.id}/edit"]') is not None
    assert soup.select_one(f'form[action="/institution/needs/{need.id}/close"]') is None

    form = HtmlForm.of(
        client.get(f"/institution/needs/{need.id}/edit"), f"/institution/needs/{need.id}/edit"
    )
    form.type("title", "Module d'épidémiologie à distance")
    assert form.submit(client).status_code == 303
    session.refresh(need)
    assert (need.title, need.status) == ("Module d'épidémiologie à distance", "draft")


def test_a_form_drawn_before_someone_elses_save_is_refused_and_keeps_what_was_typed(
    client: TestClient, session: Session
) -> None:
    user, institution = make_member(session)
    need = make_need(session, institution=institution, hours_per_week=4)
    log_in_as(client, user.email)
    first = HtmlForm.of(
        client.get(f"/institution/needs/{need.id}/edit"), f"/institution/needs/{need.id}/edit"
    )
    second = HtmlForm.of(
        client.get(f"/institution/needs/{need.id}/edit"), f"/institution/needs/{need.id}/edit"
    )
    first.type("hours_per_week", "5")
    assert first.submit(client).status_code == 303

    second.type("title", "تدريس وحدة علم الأوبئة عن بعد")
    response = second.submit(client)

    # Before, the second save went through and put the hours back to 4 without a word.
    assert response.status_code == 409
    alert = text_of(soup_of(response).select_one("main .form-error"))
    assert "changed" in alert and "not saved" in alert
    again = HtmlForm.of(response, f"/institution/needs/{need.id}/edit")
    assert again.value("title") == "تدريس وحدة علم الأوبئة عن بعد"
    session.refresh(need)
    assert (need.title, need.hours_per_week) == ("Co-enseigner un module d'épidémiologie", 5)

    # Sent again, knowingly, the form saves what it shows.
    assert again.submit(client).status_code == 303
    session.refresh(need)
    assert need.title == "تدريس وحدة علم الأوبئة عن بعد"
    assert flash_messages(client.get(f"/institution/needs/{need.id}")) == ["Your need is saved."]


def test_the_conflict_is_said_in_the_readers_language(client: TestClient, session: Session) -> None:
    user, institution = make_member(session)
    user.locale = "fr"
    session.add(user)
    session.commit()
    need = make_need(session, institution=institution)
    log_in_as(client, user.email)
    stale = HtmlForm.of(
        client.get(f"/institution/needs/{need.id}/edit"), f"/institution/needs/{need.id}/edit"
    )
    fresh = HtmlForm.of(
        client.get(f"/institution/needs/{need.id}/edit"), f"/institution/needs/{need.id}/edit"
    )
    assert fresh.submit(client).status_code == 303
    response = stale.submit(client)
    assert response.status_code == 409
    assert "modifié" in text_of(soup_of(response).select_one("main .form-error"))


def test_a_drafts_page_says_who_sees_it_and_how_it_is_published(
    client: TestClient, session: Session
) -> None:
    user, institution = make_member(session, verified=False)
    need = make_need(session, institution=institution, status="draft")
    log_in_as(client, user.email)
    note = text_of(
        soup_of(client.get(f"/institution/needs/{need.id}")).select_one("[data-draft-note]")
    )
    assert "only your institution and the coordinators see it" in note and "verified" in note
    institution.verified_at = utcnow()
    session.add(institution)
    session.commit()
    note = soup_of(client.get(f"/institution/needs/{need.id}")).select_one("[data-draft-note]")
    assert note is not None and "Only your institution and the coordinators see it" in text_of(note)
    # Once verified, the draft is published with one button (or edited first).
    publish = note.select_one(f'form[action="/institution/needs/{need.id}/publish"] button')
    assert publish is not None and text_of(publish) == "Publish this need"
