"""The public pages, the chrome, the language switch and the error pages, as a person sees them."""

from __future__ import annotations

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.middleware import LOCALE_COOKIE
from service.models import Role, User
from service.models.types import utcnow
from tests.factories import make_expert, make_member, make_need, make_user
from tests.service.pages.helpers import h1, log_in_as, post_form, soup_of, text_of


def test_landing_explains_and_shows_live_figures(client: TestClient, session: Session) -> None:
    make_expert(session)
    make_expert(session, display_name="Kofi Mensah")
    make_expert(session, display_name="Inactive", active=False)
    _, institution = make_member(session, verified=True)
    make_member(session, verified=False, name="Clinique en attente")
    make_need(session, institution=institution)
    make_need(session, institution=institution, status="closed")

    soup = soup_of(client.get("/"))

    assert "without moving back" in text_of(soup.find("h1"))
    figures = {dd["data-figure"]: dd.get_text(strip=True) for dd in soup.select("dd[data-figure]")}
    assert figures == {
        "experts": "2",
        "institutions": "1",
        "open_needs": "1",
        "engagements_completed": "0",
    }
    assert soup.find("a", href="/register/expert") is not None
    assert soup.find("a", href="/register/institution") is not None


def test_switching_to_french_translates_the_page(client: TestClient) -> None:
    response = post_form(client, "/language", {"locale": "fr", "next": "/privacy"})
    assert response.status_code == 303 and response.headers["location"] == "/privacy"
    assert client.cookies[LOCALE_COOKIE] == "fr"

    soup = soup_of(client.get("/privacy"))

    assert soup.html["lang"] == "fr" and soup.html["dir"] == "ltr"
    assert text_of(soup.find("h1")).startswith("Confidentialité")
    assert text_of(soup.select_one("a.skip-link")) == "Aller au contenu"
    assert soup.select_one("#language-select option[selected]")["value"] == "fr"


def test_switching_to_spanish_translates_the_landing_page(client: TestClient) -> None:
    response = post_form(client, "/language", {"locale": "es", "next": "/"})
    assert response.status_code == 303 and client.cookies[LOCALE_COOKIE] == "es"

    soup = soup_of(client.get("/"))

    assert soup.html["lang"] == "es" and soup.html["dir"] == "ltr"
    assert "sin tener que regresar" in text_of(soup.find("h1"))
    assert text_of(soup.select_one("a.skip-link")) == "Ir al contenido"
    assert soup.select_one("#language-select option[selected]")["value"] == "es"
    assert "without moving back" not in soup.get_text()


def test_an_expert_sees_their_space_in_spanish(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user, display_name="Lucía Obiang")
    log_in_as(client, user.email)
    post_form(client, "/language", {"locale": "es", "next": "/expert"})

    soup = soup_of(client.get("/expert"))

    assert text_of(soup.find("h1")) == "Le damos la bienvenida, Lucía Obiang"
    nav = [text_of(a) for a in soup.select("nav.main-nav a")]
    assert {"Mi espacio", "Necesidades", "Mis ofertas", "Colaboraciones", "Perfil"} <= set(nav)
    assert not {"My space", "Needs", "My offers", "Engagements", "Profile"} & set(nav)
    session.expire_all()
    assert session.get(User, user.id).locale == "es"  # type: ignore[union-attr]


def test_an_unsupported_language_is_ignored(client: TestClient) -> None:
    post_form(client, "/language", {"locale": "xx", "next": "/"})
    assert LOCALE_COOKIE not in client.cookies
    assert soup_of(client.get("/")).html["lang"] == "en"


def test_switching_language_when_logged_in_is_remembered_on_the_account(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user)
    log_in_as(client, user.email)
    post_form(client, "/language", {"locale": "fr", "next": "/expert"})
    session.expire_all()
    assert session.get(User, user.id).locale == "fr"  # type: ignore[union-attr]


def test_external_next_is_not_followed(client: TestClient) -> None:
    response = post_form(client, "/language", {"locale": "fr", "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_unknown_address_shows_the_site_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    soup = soup_of(response)
    assert text_of(soup.find("h1")) == "Page not found"
    assert "does not exist" in text_of(soup.find("main"))
    assert soup.select_one("header.site-header a.brand") is not None
    assert soup.find("link", rel="stylesheet")["href"] == "/static/css/homeward.css"


def test_404_page_is_translated(client: TestClient) -> None:
    client.cookies.set(LOCALE_COOKIE, "fr")
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert h1(response) == "Page introuvable"


def test_404_page_keeps_the_logged_in_chrome(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.COORDINATOR)
    log_in_as(client, user.email)
    soup = soup_of(client.get("/nothing-here"))
    assert soup.find("a", href="/coordinator") is not None
    assert soup.find("form", action="/logout") is not None


def test_forbidden_page_is_in_the_site_style(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.EXPERT)
    log_in_as(client, user.email)
    response = client.get("/coordinator")
    assert response.status_code == 403
    assert h1(response) == "Not allowed"


def test_missing_record_message_is_shown(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.COORDINATOR)
    log_in_as(client, user.email)
    response = client.get("/coordinator/institutions/999999")
    assert response.status_code == 404
    assert "This institution does not exist." in text_of(soup_of(response).find("main"))


def test_chrome_links_each_role_to_its_pages(make_client: object, session: Session) -> None:
    expected = {
        Role.EXPERT: {"/expert", "/expert/proposals", "/expert/engagements", "/expert/profile"},
        Role.INSTITUTION: {
            "/institution",
            "/institution/proposals",
            "/institution/engagements",
            "/institution/profile",
        },
        Role.COORDINATOR: {
            "/coordinator",
            "/coordinator/needs",
            "/coordinator/institutions",
            "/coordinator/reports",
        },
    }
    for role, links in expected.items():
        if role == Role.INSTITUTION:
            user, _ = make_member(session)
        else:
            user = make_user(session, role=role)
            if role == Role.EXPERT:
                make_expert(session, user=user)
        client = make_client()  # type: ignore[operator]
        log_in_as(client, user.email)
        soup = soup_of(client.get("/privacy"))
        nav = {a["href"] for a in soup.select("nav.main-nav a")}
        assert links <= nav, (role, nav)
        assert {"/notifications", "/account"} <= nav


def test_current_page_is_marked_in_the_navigation(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user)
    log_in_as(client, user.email)
    soup = soup_of(client.get("/expert/profile"))
    current = soup.select('nav.main-nav a[aria-current="page"]')
    assert [a["href"] for a in current] == ["/expert/profile"]


def test_pages_load_no_outside_asset(client: TestClient) -> None:
    soup = soup_of(client.get("/"))
    sources = [tag.get("src") or tag.get("href") for tag in soup.select("script, link")]
    assert sources and all(str(s).startswith("/static/") for s in sources)
    assert soup.find("script", src=None) is None  # no inline script: the CSP forbids them
    assert soup.find("style") is None and soup.select("[style]") == []


def test_static_assets_are_served(client: TestClient) -> None:
    for path in ("/static/css/homeward.css", "/static/js/homeward.js", "/static/js/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "Zero-Clause BSD" in client.get("/static/js/htmx.min.js").text[:300]


def test_the_account_page_shows_sessions_in_spanish(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user)
    log_in_as(client, user.email)
    post_form(client, "/language", {"locale": "es", "next": "/account"})

    response = client.get("/account")

    assert response.status_code == 200
    soup = soup_of(response)
    headers = [text_of(th) for th in soup.select("th")]
    assert {"Navegador", "Inicio de sesión", "Última actividad"} <= set(headers)
    month = format_date(utcnow(), "MMM", locale="es")
    assert any(month in text_of(td) for td in soup.select("tr[data-current] td")), month
    assert "The site is translated" not in soup.get_text()


@pytest.mark.parametrize(
    ("locale", "tag", "words"),
    [
        ("en", "en", "Log in"),
        ("fr", "fr", "Se connecter"),
        ("es", "es", "Iniciar sesión"),
        ("pt", "pt-PT", "Iniciar sessão"),
        ("ar", "ar", "تسجيل الدخول"),
    ],
)
def test_every_page_is_tagged_with_its_language_as_bcp_47_writes_it(
    client: TestClient, locale: str, tag: str, words: str
) -> None:
    """The site's Portuguese is European: pt-PT, so a screen reader reads it with that voice;
    the switcher's options carry the same tags."""
    post_form(client, "/language", {"locale": locale, "next": "/login"})
    soup = soup_of(client.get("/login"))
    assert soup.html["lang"] == tag
    assert words in soup.get_text()
    options = {o["value"]: o["lang"] for o in soup.select("#language-select option")}
    assert options == {"en": "en", "fr": "fr", "es": "es", "pt": "pt-PT", "ar": "ar"}
