"""An account's email changed on its account page: the address it left and the new one are
told (through the outbox, in the account's language, nothing secret), the account's other
sessions and API tokens end, and erasing the account afterwards leaves no trace of the
address it left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.notifications import notify
from service.mail import send_pending
from service.models import OutgoingEmail, Role, User
from service.models.types import utcnow
from tests.factories import PASSWORD, make_expert, make_user
from tests.service.email_links import confirm_in_browser, confirmation_token
from tests.service.pages.helpers import flash_messages, log_in_as, post_form
from tests.service.pages.html_forms import HtmlForm

OLD = "helene.dupre-simic@eaux-saguenay.ca"
NEW = "h.dupre@reseau-sante-sahel.org"
CONTACT = "coordination@homeward.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The test settings, with the coordinators' address the notices give."""
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        load_encoder=False,
        contact_email=CONTACT,
    )


@dataclass
class Recorder:
    """A mail transport that keeps what it delivers."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def _account(session: Session, *, locale: str, name: str) -> User:
    user = make_user(session, role=Role.EXPERT, email=OLD, locale=locale)
    user.display_name = name
    session.add(user)
    session.commit()
    make_expert(
        session,
        user=user,
        display_name=name,
        headline="Hydrogéologue, forages en zone aride",
        skills=["hydrogéologie", "forages", "modélisation des nappes"],
        origin_country="MA",
        residence_country="CA",
    )
    return user


def _change_email(browser: TestClient, *, email: str, password: str) -> int:
    form = HtmlForm.of(browser.get("/account"), "/account/email")
    form.type("email", email)
    form.type("password", password)
    return form.submit(browser).status_code


def _change_and_confirm(browser: TestClient, session: Session, *, email: str) -> None:
    """Asks for the change, then follows the link mailed to the new address in this browser."""
    assert _change_email(browser, email=email, password=PASSWORD) == 303
    done = confirm_in_browser(browser, confirmation_token(session))
    assert done.status_code == 303 and done.headers["location"] == "/account"


def _notices(session: Session) -> dict[str, OutgoingEmail]:
    session.expire_all()
    rows = session.exec(
        select(OutgoingEmail).where(OutgoingEmail.kind == "account.email_changed")
    ).all()
    return {row.to_address: row for row in rows}


@pytest.mark.parametrize(
    ("locale", "name", "subject", "to_previous", "to_new", "not_you"),
    [
        (
            "fr",
            "Hélène Dupré-Šimić",
            "Le courriel de votre compte Homeward a été changé",
            "Cette adresse n'ouvre plus le compte",
            "cette adresse est devenue le courriel de votre compte Homeward",
            "Si vous n'êtes pas à l'origine de ce changement",
        ),
        (
            "ar",
            "هيلين دوبريه",
            "تم تغيير البريد الإلكتروني لحسابكم في Homeward",
            "لم يعد هذا العنوان يفتح الحساب",
            "أصبح هذا العنوان البريد الإلكتروني لحسابكم",
            "إن لم تقوموا بهذا التغيير",
        ),
    ],
    ids=["fr", "ar"],
)
def test_both_addresses_are_told_in_the_accounts_language_and_the_worker_sends_it(
    make_client: Callable[[], TestClient],
    session: Session,
    settings: Settings,
    locale: str,
    name: str,
    subject: str,
    to_previous: str,
    to_new: str,
    not_you: str,
) -> None:
    user = _account(session, locale=locale, name=name)
    browser = log_in_as(make_client(), OLD)
    before = utcnow()
    assert _change_email(browser, email=f" {NEW.upper()} ", password=PASSWORD) == 303
    assert len(flash_messages(browser.get("/account"))) == 1
    assert _notices(session) == {}  # asked, not yet changed
    done = confirm_in_browser(browser, confirmation_token(session, to=NEW))
    assert done.status_code == 303

    notices = _notices(session)
    assert sorted(notices) == sorted([OLD, NEW])
    for address, words in ((OLD, to_previous), (NEW, to_new)):
        email = notices[address]
        assert (email.status, email.user_id, email.subject) == ("pending", user.id, subject)
        assert name in email.body.splitlines()[0]  # the greeting, by the account's name
        assert words in email.body and not_you in email.body and CONTACT in email.body
        assert str(before.year) in email.body  # when, as the locale writes it
        # Nothing secret, and neither address in the words (the other address least of all).
        assert PASSWORD not in email.body and "http" not in email.body
        assert OLD not in email.body and NEW not in email.body
    if locale == "ar":
        # Latin values (the date, the address to write to) keep their order in Arabic.
        assert f"\u2068{CONTACT}\u2069" in notices[OLD].body

    transport = Recorder()
    # The two notices, the link to the new address and the notice of the request to the old.
    assert send_pending(session, settings=settings, now=utcnow(), transport=transport) == 4
    assert sorted((to, subj) for to, subj, _ in transport.sent if subj == subject) == sorted(
        [(OLD, subject), (NEW, subject)]
    )
    assert {row.status for row in _notices(session).values()} == {"sent"}


def test_the_other_sessions_and_api_tokens_end_this_one_continues(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session, locale="fr", name="Hélène Dupré-Šimić")
    token = create_api_token(session, user=user, name="Tableur de l'ONG")
    session.commit()
    elsewhere = log_in_as(make_client(), OLD)
    browser = log_in_as(make_client(), OLD)
    assert elsewhere.get("/account").status_code == 200
    api = make_client()
    assert api.get("/api/me", headers={"authorization": f"Bearer {token}"}).status_code == 200

    assert _change_email(browser, email=NEW, password=PASSWORD) == 303
    # Asked, not changed: nothing ends until the new address confirms.
    assert elsewhere.get("/account").status_code == 200
    assert api.get("/api/me", headers={"authorization": f"Bearer {token}"}).status_code == 200
    done = confirm_in_browser(browser, confirmation_token(session, to=NEW))
    assert done.status_code == 303
    assert flash_messages(browser.get("/account")) == [
        "Votre courriel a changé. Vos autres sessions et vos jetons d'API ont pris fin ; "
        "connectez-vous désormais avec la nouvelle adresse."
    ]
    gone = elsewhere.get("/account", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert api.get("/api/me", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_a_wrong_password_sends_nothing_and_ends_nothing(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session, locale="ar", name="هيلين دوبريه")
    elsewhere = log_in_as(make_client(), OLD)
    browser = log_in_as(make_client(), OLD)
    assert _change_email(browser, email=NEW, password="pas-mon-mot-de-passe") == 422
    session.expire_all()
    assert session.exec(select(OutgoingEmail)).all() == []
    assert session.get(User, user.id).email == OLD  # type: ignore[union-attr]
    assert elsewhere.get("/account").status_code == 200


def _rows_holding(engine: Engine, needle: str) -> list[str]:
    """Names the tables one of whose rows holds the text anywhere, as the database stores it."""
    found = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            if table == "alembic_version":
                continue
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                if any(needle in str(value).lower() for value in row):
                    found.append(table)
                    break
    return found


def test_erasing_the_account_afterwards_leaves_no_trace_of_the_address_it_left(
    make_client: Callable[[], TestClient],
    session: Session,
    engine: Engine,
    settings: Settings,
) -> None:
    user = _account(session, locale="fr", name="Hélène Dupré-Šimić")
    # An email written to the old address before the change, and the change's own notices.
    notify(
        session,
        user=user,
        kind="availability.reminder",
        params={},
        link="/expert/proposals",
        settings=settings,
    )
    session.commit()
    browser = log_in_as(make_client(), OLD)
    _change_and_confirm(browser, session, email=NEW)
    assert send_pending(session, settings=settings, now=utcnow(), transport=Recorder()) == 5
    assert "outgoingemail" in _rows_holding(engine, OLD)
    # The person's own data export lists them, those to the address it left included: the
    # reminder, the notice of the request, the link, and the change's two notices.
    exported = browser.get("/account/data.json").json()["emails"]
    assert sorted(email["to_address"] for email in exported) == sorted([OLD, OLD, NEW, OLD, NEW])

    assert post_form(browser, "/account/delete", {"password": PASSWORD}).status_code == 303
    assert _rows_holding(engine, OLD) == []
    assert _rows_holding(engine, NEW) == []
    session.expire_all()
    assert (
        session.exec(select(OutgoingEmail).where(col(OutgoingEmail.user_id) == user.id)).all() == []
    )
