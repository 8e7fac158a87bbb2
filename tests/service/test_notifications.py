"""Notifications: the in-app list and unread count, email choices, language, the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from babel.dates import format_date
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.engagements import move
from service.core.notifications import notification_text, notify
from service.i18n import cldr_locale, translations_for
from service.mail import send_pending
from service.models import Notification, OutgoingEmail
from service.models.types import utcnow
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD
from tests.service.worlds import build_world, offer


def _form(browser: TestClient, url: str, data: dict[str, Any]) -> Any:
    return browser.post(url, data={**data, "csrf_token": csrf_token(browser)})


def test_list_unread_count_and_reading(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    move(
        session, engagement=engagement, actor=world.expert_user, action="accept", settings=settings
    )
    move(session, engagement=engagement, actor=world.member, action="confirm", settings=settings)
    session.commit()
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(browser.get("/notifications").text, "html.parser")
    # The offer, answered, asks nothing more: it is done and read; the confirmation is new.
    assert page.select_one("[data-unread-count]").get_text(strip=True) == "1"  # type: ignore[union-attr]
    items = page.select("[data-notification]")
    assert [i["data-read"] for i in items] == ["no", "yes"]
    titles = [i.h2.get_text(" ", strip=True) for i in items]  # type: ignore[union-attr]
    assert "Engagement confirmed" in titles[0] and "Engagement offer" in titles[1]
    newest = int(items[0]["data-notification"])  # type: ignore[arg-type]
    response = _form(browser, f"/notifications/{newest}/read", {})
    assert (
        response.status_code == 303
        and response.headers["location"] == f"/expert/engagements/{engagement.id}"
    )
    page = BeautifulSoup(browser.get("/notifications").text, "html.parser")
    assert page.select_one("[data-unread-count]") is None
    api = browser.get("/api/notifications?unread=true").json()
    assert api["unread"] == 0 and api["total"] == 0
    assert _form(browser, "/notifications/read-all", {}).status_code == 303
    assert browser.get("/api/notifications").json()["unread"] == 0
    # Someone else's notification cannot be read.
    theirs = session.exec(
        select(Notification).where(Notification.user_id == world.member.id)
    ).first()
    token = create_api_token(session, user=world.expert_user)
    session.commit()
    if theirs is not None:
        response = browser.post(
            f"/api/notifications/{theirs.id}/read", headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404


def test_email_choices_are_respected(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(browser.get("/account/notifications").text, "html.parser")
    boxes = {
        box["name"]: box.has_attr("checked")
        for box in page.select("[data-prefs] input[type=checkbox]")
    }
    assert boxes == {"offers": True, "engagements": True, "availability": True}
    assert _form(browser, "/account/notifications", {"engagements": "on"}).status_code == 303
    session.expire_all()
    user = session.get(type(world.expert_user), world.expert_user.id)
    assert user is not None and user.email_prefs == {
        "offers": False,
        "engagements": True,
        "availability": False,
    }
    offer(session, world, settings)
    assert (
        session.exec(select(Notification).where(Notification.user_id == user.id)).one().kind
        == "offer.new"
    )
    assert (
        session.exec(select(OutgoingEmail).where(OutgoingEmail.to_address == user.email)).all()
        == []
    )
    coordinator = make_client()
    login(coordinator, world.coordinator.email, PASSWORD)
    page = BeautifulSoup(coordinator.get("/account/notifications").text, "html.parser")
    assert {b["name"] for b in page.select("[data-prefs] input[type=checkbox]")} == {
        "engagements",
        "coordination",
        "answers",
    }


@pytest.mark.parametrize(
    ("locale", "subject", "greeting"),
    [
        ("fr", "Nouvelle ", "Bonjour"),
        ("en", "New engagement offer: ", "Hello"),
    ],
)
def test_emails_are_written_in_the_users_language(
    locale: str, subject: str, greeting: str, session: Session, settings: Settings
) -> None:
    world = build_world(session)
    world.expert_user.locale = locale
    session.add(world.expert_user)
    session.commit()
    offer(session, world, settings)
    email = session.exec(select(OutgoingEmail)).one()
    # The shared catalogue's wording wins over the built-in French; both start alike.
    assert email.subject.startswith(subject) and email.subject.endswith(world.need.title)
    assert (locale == "fr") == ("offer" not in email.subject)
    assert email.body.startswith(greeting)
    assert f"{settings.public_base_url}/expert/proposals" in email.body
    note = session.exec(select(Notification)).one()
    assert note.title == email.subject


class FakeTransport:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def send(self, *, to: str, subject: str, body: str) -> None:
        if self.fail:
            raise ConnectionRefusedError("smtp down")
        self.sent.append((to, subject))


def test_sending_emails_marks_them_and_retries_failures(
    session: Session, settings: Settings
) -> None:
    world = build_world(session)
    offer(session, world, settings)
    broken = FakeTransport(fail=True)
    for _ in range(5):
        assert send_pending(session, settings=settings, now=utcnow(), transport=broken) == 0
    email = session.exec(select(OutgoingEmail)).one()
    assert (email.status, email.attempts) == ("failed", 5) and "smtp down" in email.last_error
    email.status, email.attempts = "pending", 0
    session.add(email)
    session.commit()
    working = FakeTransport()
    assert send_pending(session, settings=settings, now=utcnow(), transport=working) == 1
    assert working.sent == [(world.expert_user.email, email.subject)]
    assert session.exec(select(OutgoingEmail)).one().status == "sent"
    assert send_pending(session, settings=settings, now=utcnow(), transport=working) == 0


def test_outbox_page_shows_queued_emails_to_staff(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    offer(session, world, settings)
    browser = make_client()
    login(browser, world.coordinator.email, PASSWORD)
    page = BeautifulSoup(browser.get("/coordinator/outbox").text, "html.parser")
    rows = page.select("[data-outbox] [data-email]")
    assert len(rows) == 1 and world.expert_user.email in rows[0].get_text()
    expert = make_client()
    login(expert, world.expert_user.email, PASSWORD)
    assert expert.get("/coordinator/outbox").status_code == 403
    emails = session.exec(select(OutgoingEmail).order_by(col(OutgoingEmail.id))).all()
    assert [e.kind for e in emails] == ["offer.new"]


@pytest.mark.parametrize("locale", ["fr", "es", "pt", "ar"])
def test_a_notification_reads_in_the_language_the_reader_switched_to(
    locale: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)  # written while the expert reads English
    note = session.exec(select(Notification)).one()
    assert note.title == f"New engagement offer: {world.need.title}"
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    assert _form(browser, "/language", {"locale": locale, "next": "/"}).status_code == 303
    page = BeautifulSoup(browser.get("/notifications").text, "html.parser")
    item = page.select_one(f"[data-notification='{note.id}']")
    assert item is not None and item.h2 is not None
    catalogue = translations_for(locale)
    # In Arabic each value is isolated, so that a Latin title keeps its order.
    need = f"\u2068{world.need.title}\u2069" if locale == "ar" else world.need.title
    title = catalogue.gettext("New engagement offer: %(need)s") % {"need": need}
    assert title != note.title
    assert item.h2.get_text(" ", strip=True).endswith(title)
    day = engagement.offer_expires_at.date()  # type: ignore[union-attr]
    deadline = format_date(day, format="medium", locale=cldr_locale(locale))  # pt: 17/12/2026
    text = " ".join(p.get_text(" ", strip=True) for p in item.select("p"))
    assert deadline in text and "New engagement offer" not in item.get_text()
    # The API speaks the caller's language as well.
    api = browser.get("/api/notifications").json()
    assert api["items"][0]["title"] == title


def test_an_old_notification_without_params_keeps_its_words(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    session.add(
        Notification(
            user_id=world.expert_user.id or 0,
            kind="offer.new",
            title="Nouvelle proposition d'engagement : Épidémiologie",
            body="Écrit avant la migration.",
        )
    )
    session.commit()
    browser = make_client()
    login(browser, world.expert_user.email, PASSWORD)
    page = BeautifulSoup(browser.get("/notifications").text, "html.parser")
    item = page.select_one("[data-notification]")
    assert item is not None and item.h2 is not None
    assert "Nouvelle proposition d'engagement : Épidémiologie" in item.h2.get_text()
    assert "Écrit avant la migration." in item.get_text()


def test_a_notification_keeps_only_the_params_its_words_show(
    session: Session, settings: Settings
) -> None:
    world = build_world(session)
    notify(
        session,
        user=world.expert_user,
        kind="offer.reminder",
        params={"need": "Épidémiologie", "deadline": "2026-12-09", "reason": "private words"},
        link="/expert/proposals",
        settings=settings,
    )
    session.commit()
    note = session.exec(select(Notification)).one()
    assert note.params == {"need": "Épidémiologie", "deadline": "2026-12-09"}
    assert notification_text(note, "fr")[1].startswith(
        "Votre offre pour « Épidémiologie » expire le 9 déc. 2026"
    )
    assert "Dec 9, 2026" in notification_text(note, "en")[1]


def test_emails_follow_the_language_the_account_stores(
    session: Session, settings: Settings
) -> None:
    world = build_world(session)
    world.expert_user.locale = "es"
    session.add(world.expert_user)
    session.commit()
    offer(session, world, settings)
    email = session.exec(select(OutgoingEmail)).one()
    es = translations_for("es")
    assert email.subject == es.gettext("New engagement offer: %(need)s") % {
        "need": world.need.title
    }
    assert email.body.startswith(es.gettext("Hello %(name)s,").split("%")[0])
