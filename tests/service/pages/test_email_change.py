"""An account's email changed on its account page: what shows it follows (the roster search
and the coordinators' expert API, whose documents carry it), and a wrong password or an
address already in use is refused beside its field."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.config import Settings
from service.core.indexing import drain_outbox, reindex_all
from service.models import ExpertProfile, OutgoingEmail, Role, User
from service.search import SearchBackend
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_user
from tests.service.email_links import confirm_in_browser, confirmation_token
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)
from tests.service.pages.html_forms import HtmlForm
from tests.service.pages.search_backends import SEARCH_BACKENDS, search_backend_of
from tests.strategies import unique_email

OLD = "samir.oufkir@hydro-atlas.ma"
NEW = "s.oufkir@eaux-sahel.org"


@pytest.fixture(params=SEARCH_BACKENDS)
def search_backend(
    request: pytest.FixtureRequest, settings: Settings, engine: Engine
) -> Iterator[SearchBackend]:
    """The roster on the database's own search backend and, when a server is there, Meilisearch."""
    yield from search_backend_of(request.param, settings, engine)


@pytest.fixture
def expert(session: Session, engine: Engine, search_backend: SearchBackend) -> ExpertProfile:
    user = make_user(session, role=Role.EXPERT, email=OLD, locale="fr")
    expert = make_expert(
        session,
        user=user,
        display_name="Samir Oufkir",
        headline="Hydrogéologue, forages en zone aride",
        skills=["hydrogéologie", "forages", "modélisation des nappes"],
        origin_country="MA",
        residence_country="FR",
    )
    reindex_all(engine, search_backend)
    return expert


def _roster_names(browser: TestClient, query: str) -> list[str]:
    soup = soup_of(browser.get("/coordinator/roster", params={"q": query}))
    return [text_of(h2) for h2 in soup.select(".expert-card h2")]


def test_a_changed_email_is_what_the_roster_finds_and_shows(
    make_client: Callable[[], TestClient],
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    expert: ExpertProfile,
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    staff = log_in_as(make_client(), coordinator.email)
    assert _roster_names(staff, "hydro-atlas") == ["Samir Oufkir"]

    browser = log_in_as(make_client(), OLD)
    response = post_form(browser, "/account/email", {"email": NEW, "password": ""})
    assert response.status_code == 422  # no password: nothing changes
    response = post_form(
        browser, "/account/email", {"email": f" {NEW.upper()} ", "password": PASSWORD}
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = browser.get("/account")
    assert flash_messages(page) == [
        "Nous avons envoyé un lien de confirmation à la nouvelle adresse. Votre courriel change "
        "dès qu'il est ouvert ; d'ici là, connectez-vous avec votre courriel actuel."
    ]
    assert OLD in text_of(soup_of(page).select_one("main p"))
    assert NEW in text_of(soup_of(page).select_one("[data-pending-email]"))
    done = confirm_in_browser(browser, confirmation_token(session, to=NEW))
    assert done.status_code == 303 and done.headers["location"] == "/account"
    page = browser.get("/account")
    assert flash_messages(page) == [
        "Votre courriel a changé. Vos autres sessions et vos jetons d'API ont pris fin ; "
        "connectez-vous désormais avec la nouvelle adresse."
    ]
    assert NEW in text_of(soup_of(page).select_one("main p"))
    assert soup_of(page).select_one("[data-pending-email]") is None

    drain_outbox(engine, search_backend)
    assert _roster_names(staff, "eaux-sahel") == ["Samir Oufkir"]
    assert _roster_names(staff, "hydro-atlas") == []
    found = staff.get("/api/experts", params={"q": "hydrogeologie"}).json()["items"]
    assert [(item["id"], item["email"]) for item in found] == [(expert.id, NEW)]
    # The new address logs in; the old one no longer does.
    log_in_as(make_client(), NEW)
    stale = make_client()
    assert post_form(stale, "/login", {"email": OLD, "password": PASSWORD}).status_code == 422


def test_a_wrong_password_changes_nothing(
    client: TestClient, session: Session, expert: ExpertProfile
) -> None:
    log_in_as(client, OLD)
    response = post_form(client, "/account/email", {"email": NEW, "password": "not-my-password"})
    assert response.status_code == 422
    assert error_beside(response, "password") == "Ce n'est pas votre mot de passe actuel."
    assert soup_of(response).select_one("#email")["value"] == NEW
    session.expire_all()
    assert session.get(User, expert.user_id).email == OLD  # type: ignore[union-attr]


def test_an_email_another_account_uses_is_refused(
    client: TestClient, session: Session, expert: ExpertProfile
) -> None:
    make_user(session, role=Role.INSTITUTION, email=NEW)
    log_in_as(client, OLD)
    response = post_form(client, "/account/email", {"email": NEW, "password": PASSWORD})
    assert response.status_code == 422
    assert error_beside(response, "email") == "Un autre compte utilise déjà cette adresse."
    session.expire_all()
    assert session.get(User, expert.user_id).email == OLD  # type: ignore[union-attr]


def test_an_invalid_email_is_refused_beside_the_field(
    client: TestClient, session: Session, expert: ExpertProfile
) -> None:
    log_in_as(client, OLD)
    response = post_form(client, "/account/email", {"email": "samir@", "password": PASSWORD})
    assert response.status_code == 422
    assert error_beside(response, "email")
    session.expire_all()
    assert session.get(User, expert.user_id).email == OLD  # type: ignore[union-attr]


@settings(max_examples=8)
@given(email=unique_email())
def test_any_valid_email_typed_in_the_form_is_saved_and_opens_the_account(
    make_client: Callable[[], TestClient], session: Session, email: str
) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user, display_name="Nadia Haddad")
    browser = log_in_as(make_client(), user.email)
    form = HtmlForm.of(browser.get("/account"), "/account/email")
    form.type("email", email)
    form.type("password", PASSWORD)
    assert form.submit(browser).status_code == 303
    assert confirm_in_browser(browser, confirmation_token(session)).status_code == 303
    session.expire_all()
    saved = session.exec(select(User).where(User.id == user.id)).one()
    assert saved.email == email.strip().lower()
    login(make_client(), email, PASSWORD)


def test_what_to_correct_is_summed_up_in_the_email_form_not_in_another(
    client: TestClient, session: Session, expert: ExpertProfile
) -> None:
    log_in_as(client, OLD)
    response = post_form(client, "/account/email", {"email": NEW, "password": "not-my-password"})
    assert response.status_code == 422
    soup = soup_of(response)
    summaries = soup.select("[data-error-summary]")
    assert len(summaries) == 1
    assert summaries[0].find_parent("form")["action"] == "/account/email"  # type: ignore[index]
    assert "Ce n'est pas votre mot de passe actuel." in text_of(summaries[0])


def test_an_arabic_reader_is_told_the_link_is_sent_as_the_rest_of_the_page_speaks(
    client: TestClient, session: Session, expert: ExpertProfile
) -> None:
    user = session.get(User, expert.user_id)
    assert user is not None
    user.locale = "ar"
    session.add(user)
    session.commit()
    log_in_as(client, OLD)
    response = post_form(client, "/account/email", {"email": NEW, "password": PASSWORD})
    assert response.status_code == 303
    # The singular "you" of every other sentence on the account page, not the plural.
    assert flash_messages(client.get("/account")) == [
        "أرسلنا رابط تأكيد إلى العنوان الجديد. يتغير بريدك فور فتحه؛ وإلى ذلك الحين، "
        "سجّل الدخول ببريدك الحالي."
    ]


FR_TOO_MANY_LINKS = (
    "Trop de liens de confirmation ont été envoyés ces derniers temps. Veuillez patienter avant "
    "d'en demander un autre ; un lien déjà envoyé reste valable jusqu'à son expiration."
)


def _links_to(session: Session, address: str) -> int:
    session.expire_all()
    kind = OutgoingEmail.kind == "account.email_change_link"
    return len(
        session.exec(select(OutgoingEmail).where(kind, OutgoingEmail.to_address == address)).all()
    )


def test_sending_the_link_again_is_limited_as_reset_links_are(
    client: TestClient, session: Session, expert: ExpertProfile, settings: Settings
) -> None:
    log_in_as(client, OLD)
    assert (
        post_form(client, "/account/email", {"email": NEW, "password": PASSWORD}).status_code == 303
    )
    limit = settings.password_reset_max_per_email
    for _ in range(limit - 1):  # the first link counts: the limit-th is the last one mailed
        assert post_form(client, "/account/email/resend", {}).status_code == 303
    assert _links_to(session, NEW) == limit
    refused = post_form(client, "/account/email/resend", {})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= settings.password_reset_window_s
    alert = soup_of(refused).select_one('form[action="/account/email"] .form-error[role=alert]')
    assert text_of(alert) == FR_TOO_MANY_LINKS
    # Nothing more mailed; the change still waits, and its link still confirms it.
    assert _links_to(session, NEW) == limit
    assert confirm_in_browser(client, confirmation_token(session, to=NEW)).status_code == 303
