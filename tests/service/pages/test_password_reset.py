"""Forgotten passwords, through the pages and the API: a link asked for on the log-in page,
read from the outbox in the account's language, followed once to set a new password, after
which every other session of the account has ended; an unknown email gets the same answer;
an expired, spent or forged link gets a page that says so and links to a new request; the
requests are limited per email and per address."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlmodel import Session, col, select

from service.config import Settings
from service.main import create_app
from service.models import OutgoingEmail, Role, User
from service.security import CSRF_HEADER, SESSION_COOKIE, verify_password
from service.state import AppState
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user
from tests.service.pages.helpers import error_beside, post_form, soup_of, text_of

LEILA = "leila.haddad@univ-alger.dz"
NEW_PASSWORD = "Tlemcen-Ḥadda-2026!"
KIND = "account.password_reset"
SENT_EN = (
    "If an account uses this email, we have sent it a link to choose a new password. The link "
    "works once, for a short while. Nothing arrived? Check your spam folder, or ask again in a "
    "few minutes."
)
LINK_DEAD_EN = "This password reset link has expired or has already been used. Ask for a new one."


def _leila(session: Session, *, locale: str = "ar") -> User:
    user = make_user(session, role=Role.EXPERT, email=LEILA, locale=locale)
    user.display_name = "ليلى حداد"
    session.add(user)
    session.commit()
    return user


def _reset_emails(session: Session) -> list[OutgoingEmail]:
    session.expire_all()
    return list(
        session.exec(
            select(OutgoingEmail).where(OutgoingEmail.kind == KIND).order_by(col(OutgoingEmail.id))
        ).all()
    )


def _link_in(email: OutgoingEmail, settings: Settings) -> str:
    found = re.search(r"(\S+/password/reset\?token=\S+)", email.body)
    assert found, email.body
    url = found.group(1)
    base = settings.public_base_url.rstrip("/")
    assert url.startswith(base + "/password/reset?token=")
    return url.removeprefix(base)


def _token_of(path: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(path).query)["token"][0]


def _ask(client: TestClient, email: str) -> Any:
    return post_form(client, "/password/forgot", {"email": email})


def _set(client: TestClient, token: str, first: str, second: str | None = None) -> Any:
    return post_form(
        client,
        "/password/reset",
        {"token": token, "new_password": first, "new_password_again": second or first},
    )


def _password_is(session: Session, user: User, password: str) -> bool:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return verify_password(found.password_hash, password)


def test_a_person_who_forgot_their_password_sets_a_new_one_through_the_emailed_link(
    client: TestClient, make_client: Any, session: Session, settings: Settings
) -> None:
    user = _leila(session)
    elsewhere = make_client()
    login(elsewhere, LEILA, PASSWORD)
    assert elsewhere.get("/api/me").status_code == 200

    login_page = soup_of(client.get("/login"))
    link = login_page.select_one("a[href='/password/forgot']")
    assert link is not None and text_of(link) == "Forgot your password?"
    form = soup_of(client.get("/password/forgot")).select_one("form[action='/password/forgot']")
    assert form is not None and form.select_one("input[name=email]") is not None

    # Typed as a person types it: capitals, spaces around.
    asked = _ask(client, "  Leila.Haddad@Univ-Alger.dz ")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/password/forgot/sent"
    assert (
        text_of(soup_of(client.get(asked.headers["location"])).select_one("[data-reset-sent]"))
        == SENT_EN
    )

    [email] = _reset_emails(session)
    assert email.to_address == LEILA and email.user_id == user.id
    # In the account's language (Arabic), greeting it by name.
    assert email.subject == "اختر كلمة مرور جديدة لحسابك في Homeward"
    assert "ليلى حداد" in email.body
    path = _link_in(email, settings)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    reset_form = soup_of(page).select_one("form[action='/password/reset']")
    assert reset_form is not None
    assert reset_form.select_one("input[name=token]")["value"] == _token_of(path)  # type: ignore[index]

    done = _set(client, _token_of(path), NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    told = text_of(soup_of(client.get("/login")).select_one(".flash, .messages, [role=status]"))
    assert "Log in with your new password" in told

    # The session opened before, elsewhere, has ended; the new password opens the account,
    # the old one no longer does.
    assert elsewhere.get("/api/me").status_code == 401
    assert _password_is(session, user, NEW_PASSWORD)
    wrong = client.post(
        "/login", data={"email": LEILA, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert wrong.status_code == 422
    login(client, LEILA, NEW_PASSWORD)
    assert SESSION_COOKIE in client.cookies

    # The link worked once.
    again = make_client()
    reused = again.get(path)
    assert reused.status_code == 400
    assert text_of(soup_of(reused).select_one(".form-error")) == LINK_DEAD_EN
    assert soup_of(reused).select_one("a[href='/password/forgot']") is not None
    assert _set(again, _token_of(path), "Oran-encore-2027").status_code == 400
    assert _password_is(session, user, NEW_PASSWORD)


def test_an_unknown_email_gets_the_same_answer_and_no_email_goes_out(
    client: TestClient, session: Session
) -> None:
    _leila(session)
    known = _ask(client, LEILA)
    unknown = _ask(client, "joao.conceicao@univ-coimbra.pt")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/password/forgot/sent"
    assert [e.to_address for e in _reset_emails(session)] == [LEILA]


def test_a_deactivated_account_gets_no_link(client: TestClient, session: Session) -> None:
    user = _leila(session)
    user.active = False
    session.add(user)
    session.commit()
    assert _ask(client, LEILA).headers["location"] == "/password/forgot/sent"
    assert _reset_emails(session) == []


def test_an_address_that_is_not_an_email_is_said_beside_the_field_and_kept(
    client: TestClient,
) -> None:
    response = _ask(client, "leila.haddad@")
    assert response.status_code == 422
    assert error_beside(response, "email")
    assert soup_of(response).select_one("#email")["value"] == "leila.haddad@"  # type: ignore[index]


def test_an_expired_link_says_so_and_changes_nothing(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _leila(session, locale="fr")
    _ask(client, LEILA)
    [email] = _reset_emails(session)
    # The email says until when the link works, in French.
    assert email.subject == "Choisissez un nouveau mot de passe pour votre compte Homeward"
    path = _link_in(email, settings)
    later = int(time.time()) + settings.password_reset_max_age_s + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    page = client.get(path)
    assert page.status_code == 400
    assert text_of(soup_of(page).select_one(".form-error")) == LINK_DEAD_EN
    assert soup_of(page).select_one("a[href='/password/forgot']") is not None
    assert _set(client, _token_of(path), NEW_PASSWORD).status_code == 400
    assert _password_is(session, user, PASSWORD)


@pytest.mark.parametrize(
    "token",
    ["", "pas-un-jeton", "eyJ1IjoxLCJmIjoiMDAwMCJ9.ZzZzZw.forged-signature-here", "ليلى" * 5],
)
def test_a_forged_link_says_so(client: TestClient, session: Session, token: str) -> None:
    _leila(session)
    page = client.get("/password/reset", params={"token": token})
    assert page.status_code == 400
    assert text_of(soup_of(page).select_one(".form-error")) == LINK_DEAD_EN
    assert _set(client, token, NEW_PASSWORD).status_code == 400


def test_a_link_dies_when_the_account_changes_its_email(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _leila(session)
    _ask(client, LEILA)
    path = _link_in(_reset_emails(session)[0], settings)
    user.email = "l.haddad@cerist.dz"
    session.add(user)
    session.commit()
    assert client.get(path).status_code == 400


def test_two_different_passwords_are_said_beside_the_second_and_the_link_still_works(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _leila(session)
    _ask(client, LEILA)
    token = _token_of(_link_in(_reset_emails(session)[0], settings))
    client.cookies.set("homeward_locale", "fr")
    response = _set(client, token, NEW_PASSWORD, "Tlemcen-Hadda-2026!")
    assert response.status_code == 422
    assert error_beside(response, "new_password_again") == (
        "Les deux mots de passe diffèrent. Saisissez deux fois le même nouveau mot de passe."
    )
    soup = soup_of(response)
    assert soup.select_one("input[name=token]")["value"] == token  # type: ignore[index]
    short = _set(client, token, "Oran-26")
    assert short.status_code == 422
    assert error_beside(short, "new_password") == "Ce mot de passe est trop court."
    assert _password_is(session, user, PASSWORD)
    assert _set(client, token, NEW_PASSWORD).status_code == 303
    assert _password_is(session, user, NEW_PASSWORD)


def test_requests_for_one_email_are_limited(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _leila(session)
    for _ in range(settings.password_reset_max_per_email):
        assert _ask(client, LEILA).status_code == 303
    refused = _ask(client, LEILA.upper())
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert text_of(soup_of(refused).select_one(".form-error")) == (
        "Too many attempts. Please wait a few minutes and try again."
    )
    assert soup_of(refused).select_one("#email")["value"] == LEILA.upper()  # type: ignore[index]
    assert len(_reset_emails(session)) == settings.password_reset_max_per_email


def test_requests_from_one_address_are_limited_across_emails(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _leila(session)
    for n in range(settings.password_reset_max_per_ip):
        assert _ask(client, f"personnel.{n}@univ-alger.dz").status_code == 303
    assert _ask(client, LEILA).status_code == 429
    assert _reset_emails(session) == []


def test_the_outbox_does_not_show_a_reset_link_to_staff(
    client: TestClient, make_client: Any, session: Session
) -> None:
    _leila(session)
    _ask(client, LEILA)
    make_user(session, role=Role.COORDINATOR, email="coordination@diaspora.gov.dz")
    staff = make_client()
    login(staff, "coordination@diaspora.gov.dz", PASSWORD)
    page = staff.get("/coordinator/outbox")
    assert page.status_code == 200
    assert "/password/reset?token=" not in page.text
    assert soup_of(page).select_one("[data-hidden-body]") is not None


# The API.


@pytest.fixture
def api(app_state: AppState) -> Iterator[TestClient]:
    """A partner's client on the API, with the CSRF token a cookie-less caller echoes."""
    with TestClient(create_app(state=app_state), follow_redirects=False) as client:
        client.headers[CSRF_HEADER] = csrf_token(client)
        yield client


def _fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def test_the_api_asks_for_a_link_and_sets_a_password_with_it(
    api: TestClient, make_client: Any, session: Session, settings: Settings
) -> None:
    user = _leila(session, locale="es")
    elsewhere = make_client()
    login(elsewhere, LEILA, PASSWORD)
    known = api.post("/api/password/forgot", json={"email": LEILA})
    unknown = api.post("/api/password/forgot", json={"email": "nadie@unam.mx"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [email] = _reset_emails(session)
    assert email.subject == "Elija una nueva contraseña para su cuenta de Homeward"
    token = _token_of(_link_in(email, settings))

    short = api.post("/api/password/reset", json={"token": token, "new_password": "corta"})
    assert short.status_code == 422 and _fields(short) == {"new_password"}
    done = api.post("/api/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    assert _password_is(session, user, NEW_PASSWORD)
    assert elsewhere.get("/api/me").status_code == 401
    spent = api.post(
        "/api/password/reset", json={"token": token, "new_password": "Otra-clave-2027"}
    )
    assert spent.status_code == 422 and _fields(spent) == {"token"}
    assert _password_is(session, user, NEW_PASSWORD)


def test_the_api_names_the_fields_it_refuses(api: TestClient, session: Session) -> None:
    bad = api.post("/api/password/forgot", json={"email": "pas-une-adresse"})
    assert bad.status_code == 422 and _fields(bad) == {"email"}
    forged = api.post("/api/password/reset", json={"token": "x.y.z", "new_password": NEW_PASSWORD})
    assert forged.status_code == 422 and _fields(forged) == {"token"}


def test_the_api_limits_requests_with_retry_after(
    api: TestClient, session: Session, settings: Settings
) -> None:
    _leila(session)
    for _ in range(settings.password_reset_max_per_email):
        assert api.post("/api/password/forgot", json={"email": LEILA}).status_code == 202
    refused = api.post("/api/password/forgot", json={"email": LEILA})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_a_reset_lifts_the_lock_that_typos_put_on_the_account(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _leila(session)
    for n in range(settings.login_max_failures):
        post_form(client, "/login", {"email": LEILA, "password": f"Oran{n}-oublié"})
    locked = post_form(client, "/login", {"email": LEILA, "password": PASSWORD})
    assert locked.status_code == 429
    _ask(client, LEILA)
    token = _token_of(_link_in(_reset_emails(session)[0], settings))
    assert _set(client, token, NEW_PASSWORD).status_code == 303
    # Whoever followed the emailed link holds the mailbox: the new password opens at once.
    login(client, LEILA, NEW_PASSWORD)
