"""An institution's drafts once it is verified: its home lists the drafts it wrote while it
waited, each with a way to review and publish it, and every save says what it did
(published, saved as a draft, saved, closed) in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.core.jobs import need_rematch_key
from service.core.needs import NeedSaved, need_saved
from service.i18n import translations_for
from service.models import AuditEvent, Institution, Job, Need, Role, User
from service.pages.institution import ALREADY_PUBLISHED, NEED_SAVED
from tests.factories import make_member, make_need, make_user
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)

START = date.today() + timedelta(days=30)
TITLE = "Épidémiologie de terrain — علم الأوبئة الميداني"


def _draft_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": TITLE,
        "description": (
            "Notre faculté cherche un·e épidémiologiste pour co-enseigner un module à distance. "
            "نبحث عن خبير في علم الأوبئة للتدريس عن بعد."
        ),
        "required_skills": "épidémiologie, biostatistique, علم الأوبئة",
        "sector": "health",
        "mode": "hybrid",
        "duration_weeks": "6",
        "hours_per_week": "5",
        "experts_wanted": "2",
        "start_from": START.isoformat(),
        "start_until": (START + timedelta(days=45)).isoformat(),
        "languages": ["fr", "ar", "wo"],
        "city": "Saint-Louis — سان لوي",
        "support": ["stipend", "travel"],
        "live_sessions": "on",
        "status": "draft",
    }
    data.update(overrides)
    return data


def _read_in(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.add(user)
    session.commit()


def _said(locale: str, english: str) -> str:
    return translations_for(locale).gettext(english)


def _verify(
    make_client: Callable[[], TestClient], session: Session, institution: Institution
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    staff = log_in_as(make_client(), coordinator.email)
    response = post_form(staff, f"/coordinator/institutions/{institution.id}/verify", {})
    assert response.status_code == 303


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_a_draft_written_while_waiting_is_published_from_the_home_once_verified(
    locale: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, institution = make_member(session, verified=False, name="Université Gaston-Berger")
    _read_in(session, member, locale)
    browser = log_in_as(make_client(), member.email)

    written = post_form(browser, "/institution/needs/new", _draft_form())
    assert written.status_code == 303
    page = browser.get(written.headers["location"])
    assert flash_messages(page) == [_said(locale, NEED_SAVED[NeedSaved.DRAFTED])]
    need = session.exec(select(Need).where(Need.institution_id == institution.id)).one()
    assert need.status == "draft" and need.posted_at is None
    # While it waits, the home says what happens next and offers nothing to publish.
    waiting = soup_of(browser.get("/institution"))
    assert waiting.select_one("[data-drafts]") is None
    assert waiting.select_one("[data-review=pending]") is not None

    _verify(make_client, session, institution)

    home = soup_of(browser.get("/institution"))
    drafts = home.select_one("[data-drafts]")
    assert drafts is not None
    assert text_of(drafts.select_one("h2")) == translations_for(locale).ngettext(
        "%(num)s draft waiting to be published", "%(num)s drafts waiting to be published", 1
    ) % {"num": 1}
    (item,) = drafts.select("[data-draft]")
    assert TITLE in text_of(item)
    action = item.select_one("a.button")
    assert action is not None and text_of(action) == _said(locale, "Review and publish")
    assert action["href"] == f"/institution/needs/{need.id}"

    draft_page = soup_of(browser.get(f"/institution/needs/{need.id}"))
    note = draft_page.select_one("[data-draft-note]")
    assert note is not None and note.select_one("form[data-publish]") is not None
    assert text_of(note.select_one("button")) == _said(locale, "Publish this need")

    published = post_form(browser, f"/institution/needs/{need.id}/publish", {})
    assert published.status_code == 303
    assert published.headers["location"] == f"/institution/needs/{need.id}"
    page = browser.get(published.headers["location"])
    message = _said(locale, NEED_SAVED[NeedSaved.PUBLISHED])
    assert flash_messages(page) == [message]
    if locale != "en":
        assert message != NEED_SAVED[NeedSaved.PUBLISHED]
    assert soup_of(page).select_one("[data-next-steps]") is not None
    session.refresh(need)
    assert need.status == "open" and need.posted_at is not None
    # Everything written while waiting is kept as it was written.
    assert need.title == TITLE and need.languages == ["fr", "ar", "wo"]
    assert (need.start_from, need.city) == (START, "Saint-Louis — سان لوي")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "need.published")).one()
    assert (event.entity_id, event.from_state, event.to_state) == (need.id, "draft", "open")
    # What follows a publication: the matcher ranks experts for it.
    assert session.exec(select(Job).where(Job.key == need_rematch_key(need.id or 0))).first()
    assert soup_of(browser.get("/institution")).select_one("[data-drafts]") is None


def test_the_home_lists_a_few_drafts_and_links_to_all_of_them(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session)
    for index in range(7):
        make_need(
            session,
            institution=institution,
            title=f"Brouillon n° {index}",
            status="draft",
            posted_at=None,
        )
    make_need(session, institution=institution, title="Déjà publié")
    log_in_as(client, member.email)
    drafts = soup_of(client.get("/institution")).select_one("[data-drafts]")
    assert drafts is not None
    assert text_of(drafts.select_one("h2")) == "7 drafts waiting to be published"
    assert len(drafts.select("[data-draft]")) == 5
    assert "Déjà publié" not in text_of(drafts)
    more = drafts.select_one('a[href^="/institution?status=draft"]')
    assert more is not None and text_of(more) == "See all the drafts"


def test_saving_a_draft_as_open_in_its_form_says_it_is_published(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution, status="draft", posted_at=None)
    log_in_as(client, member.email)

    kept = post_form(client, f"/institution/needs/{need.id}/edit", _draft_form())
    assert flash_messages(client.get(kept.headers["location"])) == [NEED_SAVED[NeedSaved.DRAFTED]]
    opened = post_form(client, f"/institution/needs/{need.id}/edit", _draft_form(status="open"))
    assert flash_messages(client.get(opened.headers["location"])) == [
        "Your need is published. Within minutes the matcher ranks the experts who fit it; a "
        "coordinator reviews them and offers the engagement to the best ones."
    ]
    session.refresh(need)
    assert need.status == "open" and need.posted_at is not None
    edited = post_form(client, f"/institution/needs/{need.id}/edit", _draft_form(status="open"))
    assert flash_messages(client.get(edited.headers["location"])) == ["Your need is saved."]
    back = post_form(client, f"/institution/needs/{need.id}/edit", _draft_form(status="draft"))
    assert flash_messages(client.get(back.headers["location"])) == [
        "Your need is saved as a draft: only your institution and the coordinators see it, and "
        "no expert is proposed for it until it is published."
    ]


def test_a_verified_institution_posting_an_open_need_is_told_it_is_published(
    client: TestClient, session: Session
) -> None:
    member, _ = make_member(session)
    log_in_as(client, member.email)
    response = post_form(client, "/institution/needs/new", _draft_form(status="open"))
    assert response.status_code == 303
    assert flash_messages(client.get(response.headers["location"])) == [
        NEED_SAVED[NeedSaved.PUBLISHED]
    ]


def test_publishing_twice_publishes_once(client: TestClient, session: Session) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution, status="draft", posted_at=None)
    log_in_as(client, member.email)
    assert post_form(client, f"/institution/needs/{need.id}/publish", {}).status_code == 303
    client.get(f"/institution/needs/{need.id}")  # the first confirmation is read
    again = post_form(client, f"/institution/needs/{need.id}/publish", {})
    assert again.status_code == 303
    assert flash_messages(client.get(again.headers["location"])) == [ALREADY_PUBLISHED]
    published = session.exec(select(AuditEvent).where(AuditEvent.action == "need.published"))
    assert len(published.all()) == 1


def test_a_closed_need_is_not_published_by_the_draft_button(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution, status="closed")
    log_in_as(client, member.email)
    response = post_form(client, f"/institution/needs/{need.id}/publish", {})
    assert response.status_code == 409
    assert "no longer a draft" in text_of(soup_of(response).select_one("main"))
    session.refresh(need)
    assert need.status == "closed"


def test_an_institution_awaiting_verification_cannot_publish_its_draft(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    need = make_need(session, institution=institution, status="draft", posted_at=None)
    log_in_as(client, member.email)
    page = soup_of(client.get(f"/institution/needs/{need.id}"))
    assert page.select_one("form[data-publish]") is None
    assert post_form(client, f"/institution/needs/{need.id}/publish", {}).status_code == 403
    session.refresh(need)
    assert need.status == "draft"


def test_a_draft_that_breaks_a_rule_opens_in_its_form_to_be_finished(
    client: TestClient, session: Session
) -> None:
    # Written before the rule on start dates existed: publishing shows what to fix.
    member, institution = make_member(session)
    need = make_need(
        session,
        institution=institution,
        status="draft",
        posted_at=None,
        start_from=START,
        start_until=START - timedelta(days=3),
    )
    log_in_as(client, member.email)
    response = post_form(client, f"/institution/needs/{need.id}/publish", {})
    assert response.status_code == 422
    assert "before" in error_beside(response, "start_until")
    assert soup_of(response).select_one("#status option[selected]")["value"] == "open"  # type: ignore[index]
    session.refresh(need)
    assert need.status == "draft"


def test_another_institution_cannot_publish_a_draft(client: TestClient, session: Session) -> None:
    _, other = make_member(session, name="Other")
    need = make_need(session, institution=other, status="draft", posted_at=None)
    member, _ = make_member(session)
    log_in_as(client, member.email)
    assert post_form(client, f"/institution/needs/{need.id}/publish", {}).status_code == 404
    session.refresh(need)
    assert need.status == "draft"


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (None, "open", NeedSaved.PUBLISHED),
        (None, "draft", NeedSaved.DRAFTED),
        ("draft", "open", NeedSaved.PUBLISHED),
        ("draft", "draft", NeedSaved.DRAFTED),
        ("open", "open", NeedSaved.SAVED),
        ("open", "draft", NeedSaved.DRAFTED),
        ("open", "filled", NeedSaved.FILLED),
        ("open", "closed", NeedSaved.CLOSED),
        ("closed", "open", NeedSaved.REOPENED),
        ("filled", "open", NeedSaved.REOPENED),
    ],
)
def test_each_save_is_said_for_what_it_did(before: str | None, after: str, said: NeedSaved) -> None:
    assert need_saved(before, after) == said
    assert NEED_SAVED[said]  # every outcome has its words
