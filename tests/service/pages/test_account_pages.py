"""The account page: the language of the account, remembered for the interface and emails."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.middleware import LOCALE_COOKIE
from service.models import Role, User
from tests.factories import make_user
from tests.service.pages.helpers import error_beside, flash_messages, log_in_as, post_form, soup_of


def test_account_shows_the_current_language(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.COORDINATOR, locale="pt")
    log_in_as(client, user.email)
    soup = soup_of(client.get("/account"))
    assert soup.select_one("#locale option[selected]")["value"] == "pt"
    assert soup.find("label", attrs={"for": "locale"}) is not None


def test_choosing_french_saves_it_and_translates_the_site(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.COORDINATOR)
    log_in_as(client, user.email)

    response = post_form(client, "/account/locale", {"locale": "fr"})

    assert response.status_code == 303 and response.headers["location"] == "/account"
    session.expire_all()
    assert session.get(User, user.id).locale == "fr"  # type: ignore[union-attr]
    assert client.cookies[LOCALE_COOKIE] == "fr"
    page = client.get("/account")
    assert soup_of(page).html["lang"] == "fr"
    assert flash_messages(page) == ["Votre langue est enregistrée."]


def test_login_restores_the_account_language(make_client: object, session: Session) -> None:
    user = make_user(session, role=Role.COORDINATOR, locale="fr")
    client = make_client()  # type: ignore[operator]
    assert soup_of(client.get("/")).html["lang"] == "en"
    log_in_as(client, user.email)
    assert soup_of(client.get("/coordinator")).html["lang"] == "fr"


def test_unknown_language_is_refused_beside_the_field(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.COORDINATOR)
    log_in_as(client, user.email)
    response = post_form(client, "/account/locale", {"locale": "klingon"})
    assert response.status_code == 422
    assert "Choose one of the languages" in error_beside(response, "locale")
    session.expire_all()
    assert session.get(User, user.id).locale == "en"  # type: ignore[union-attr]


def test_session_times_name_their_zone(make_client: object, session: Session) -> None:
    """The account's sessions say when in UTC, and say so, in the reader's language."""
    for locale, zone in (("en", "UTC"), ("fr", "TU"), ("ar", "التوقيت العالمي")):
        user = make_user(session, role=Role.EXPERT, locale=locale)
        client = make_client()  # type: ignore[operator]
        log_in_as(client, user.email)
        cells = soup_of(client.get("/account")).select("tr[data-current] td")
        logged_in, last_seen = (cell.get_text(" ", strip=True) for cell in cells[1:3])
        assert logged_in.endswith(zone) and last_seen.endswith(zone), (locale, logged_in)
