"""An email change waits for the new address to confirm it: asked with the password, a link
goes to the new address (a notice to the current one); the email changes only when the link
is followed, once, before it expires; an address taken meanwhile changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from fastapi.testclient import TestClient
from httpx import Response
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import Session, col, select

from service.config import Settings
from service.core import email_change
from service.models import OutgoingEmail, Role, User
from service.security import CSRF_COOKIE
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_expert, make_user
from tests.service.pages.helpers import flash_messages, log_in_as, post_form, soup_of, text_of

OLD = "leila.haddad@univ-alger.dz"
NEW = "leïla.haddad@sante-maghreb.org"
TYPO = "leila.hadad@sante-maghreb.orgg"


def _account(session: Session, *, locale: str = "fr") -> User:
    user = make_user(session, role=Role.EXPERT, email=OLD, locale=locale)
    make_expert(session, user=user, display_name="ليلى حداد", skills=["épidémiologie"])
    session.commit()
    return user


def _mails(session: Session, kind: str) -> list[OutgoingEmail]:
    session.expire_all()
    query = select(OutgoingEmail).where(OutgoingEmail.kind == kind)
    return list(session.exec(query.order_by(col(OutgoingEmail.id))).all())


def _link_token(session: Session) -> str:
    body = _mails(session, "account.email_change_link")[-1].body
    found = re.search(r"/account/email/confirm\?token=(\S+)", body)
    assert found is not None, body
    return unquote(found.group(1))


def _email_of(session: Session, user: User) -> str:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found.email


def _api_confirm(client: TestClient, token: str) -> Response:
    return client.post(
        "/api/me/email/confirm", json={"token": token}, headers={"x-csrf-token": csrf_token(client)}
    )


def _confirm(client: TestClient, token: str) -> object:
    page = client.get(f"/account/email/confirm?token={token}")
    assert page.status_code == 200, page.text
    return post_form(client, "/account/email/confirm", {"token": token})


def test_the_full_journey_ask_read_the_mail_follow_the_link_log_in_with_the_new_address(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session)
    browser = log_in_as(make_client(), OLD)
    asked = post_form(browser, "/account/email", {"email": NEW, "password": PASSWORD})
    assert asked.status_code == 303
    account = browser.get("/account")
    waiting = soup_of(account).select_one("[data-pending-email]")
    assert waiting is not None and NEW in text_of(waiting)
    assert flash_messages(account)
    # Nothing changed yet: the old address still logs in, the new one does not.
    assert _email_of(session, user) == OLD
    link = _mails(session, "account.email_change_link")
    assert [m.to_address for m in link] == [NEW]
    assert "Confirmez" in link[0].subject or "confirm" in link[0].subject.lower()
    assert [m.to_address for m in _mails(session, "account.email_change_asked")] == [OLD]

    elsewhere = make_client()  # the mail opened in another browser, logged in nowhere
    done = _confirm(elsewhere, _link_token(session))
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert _email_of(session, user) == NEW
    assert sorted(m.to_address for m in _mails(session, "account.email_changed")) == sorted(
        [OLD, NEW]
    )
    log_in_as(make_client(), NEW)
    refused = post_form(make_client(), "/login", {"email": OLD, "password": PASSWORD})
    assert refused.status_code != 303


def test_a_typo_never_confirmed_leaves_the_old_address_working(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session)
    browser = log_in_as(make_client(), OLD)
    post_form(browser, "/account/email", {"email": TYPO, "password": PASSWORD})
    assert _email_of(session, user) == OLD
    log_in_as(make_client(), OLD)
    # Cancelling drops the change; its link then opens nothing.
    token = _link_token(session)
    assert post_form(browser, "/account/email/cancel", {}).status_code == 303
    assert soup_of(browser.get("/account")).select_one("[data-pending-email]") is None
    assert make_client().get(f"/account/email/confirm?token={token}").status_code == 400
    assert _email_of(session, user) == OLD


def test_a_link_works_once(make_client: Callable[[], TestClient], session: Session) -> None:
    user = _account(session)
    browser = log_in_as(make_client(), OLD)
    post_form(browser, "/account/email", {"email": NEW, "password": PASSWORD})
    token = _link_token(session)
    assert _confirm(browser, token).status_code == 303  # type: ignore[attr-defined]
    again = post_form(make_client(), "/account/email/confirm", {"token": token})
    assert again.status_code == 400
    assert _email_of(session, user) == NEW


def test_an_expired_or_forged_link_changes_nothing(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _account(session)
    browser = log_in_as(make_client(), OLD)
    post_form(browser, "/account/email", {"email": NEW, "password": PASSWORD})
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None
    forged = URLSafeTimedSerializer("not the secret", salt=email_change.SALT).dumps(
        {"u": user.id, "e": NEW, "f": "0" * 32}
    )
    assert make_client().get(f"/account/email/confirm?token={forged}").status_code == 400
    late = email_change.user_for_token(
        session,
        token=email_change.make_token(fresh, settings=settings),
        settings=settings.model_copy(update={"email_confirm_max_age_s": -1}),
    )
    assert late is None
    answer = _api_confirm(make_client(), forged)
    assert answer.status_code == 422
    assert "token" in answer.text
    assert _email_of(session, user) == OLD


def test_an_address_taken_meanwhile_is_said_and_changes_nothing(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session)
    browser = log_in_as(make_client(), OLD)
    post_form(browser, "/account/email", {"email": NEW, "password": PASSWORD})
    token = _link_token(session)
    make_user(session, email=NEW)
    session.commit()
    page = post_form(browser, "/account/email/confirm", {"token": token})
    assert page.status_code == 409
    assert soup_of(page).select_one("[data-taken]") is not None
    api = _api_confirm(make_client(), token)
    assert api.status_code == 409 and "email" in api.text
    assert _email_of(session, user) == OLD


def test_the_api_answers_202_with_the_address_waiting_then_confirms(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _account(session, locale="ar")
    browser = log_in_as(make_client(), OLD)
    csrf = {"x-csrf-token": browser.cookies[CSRF_COOKIE]}
    asked = browser.post("/api/me/email", json={"email": NEW, "password": PASSWORD}, headers=csrf)
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"pending_email": NEW}
    assert _email_of(session, user) == OLD
    confirmed = _api_confirm(make_client(), _link_token(session))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == NEW
