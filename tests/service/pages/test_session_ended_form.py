"""What the site's script needs to keep a form sent after the session ended: the log-in page
marks the 'session ended' message, and a logged-in person's pages say whose they are and carry
the notice shown over a form filled again, in the reader's language (tests/browser drives it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from service.models import Role, UserSession
from service.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import make_expert, make_member, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of

NOTICE = {
    "en": (
        "What you typed before your session ended is back in this form. It is not saved yet: "
        "check it, then send it."
    ),
    "fr": (
        "Ce que vous aviez saisi avant la fin de votre session est de retour dans ce formulaire. "
        "Rien n'est encore enregistré : vérifiez-le, puis envoyez-le."
    ),
    "es": (
        "Lo que había escrito antes de que terminara su sesión ha vuelto a este formulario. "
        "Aún no se ha guardado: revíselo y envíelo."
    ),
    "pt": (
        "O que escreveu antes de a sua sessão terminar foi reposto neste formulário. "
        "Ainda não foi guardado: verifique-o e depois envie-o."
    ),
    "ar": "عاد ما كتبته قبل انتهاء جلستك إلى هذا النموذج. لم يُحفظ بعد: راجعه ثم أرسله.",
}


@pytest.mark.parametrize("locale", sorted(NOTICE))
def test_a_logged_in_page_says_whose_it_is_and_carries_the_notice(
    client: TestClient, session: Session, locale: str
) -> None:
    user = make_user(session, role=Role.EXPERT, locale=locale)
    make_expert(session, user=user, display_name="Amina Benali")
    log_in_as(client, user.email)
    body = soup_of(client.get("/expert/profile")).body
    assert body is not None
    assert body["data-reader"] == str(user.id)
    assert body["data-restored-notice"] == NOTICE[locale]


def test_an_anonymous_page_carries_neither(client: TestClient) -> None:
    body = soup_of(client.get("/login")).body
    assert body is not None
    assert not body.has_attr("data-reader") and not body.has_attr("data-restored-notice")


def test_the_log_in_page_marks_the_session_ended_message_only(
    client: TestClient, session: Session
) -> None:
    member, _institution = make_member(session, name="Université Gaston-Berger")
    log_in_as(client, member.email)
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == member.id)  # type: ignore[arg-type]
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    response = post_form(
        client,
        "/institution/needs/new",
        {"title": "Former des sages-femmes à l'échographie — تدريب القابلات", "mode": "remote"},
    )
    assert response.status_code == 303
    page = soup_of(client.get(response.headers["location"]))
    marked = page.select("[data-session-ended]")
    assert [text_of(m) for m in marked] == [
        "Your session had ended, so what you sent was not saved. Log in again, then send it "
        "once more."
    ]
    assert page.body is not None and not page.body.has_attr("data-reader")

    log_in_as(client, member.email)
    response = post_form(client, "/logout", {})
    assert soup_of(client.get(response.headers["location"])).select("[data-session-ended]") == []


def _form_page(response: object) -> str | None:
    body = soup_of(response).body  # type: ignore[arg-type]
    assert body is not None
    value = body.get("data-form-page")
    return value if isinstance(value, str) else None


def test_a_refusal_shown_at_the_address_posted_to_names_the_forms_page(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, locale="fr")
    log_in_as(client, user.email)
    site = "http://testserver"
    assert _form_page(client.get("/account")) is None
    refused = client.post(
        "/account/email",
        data={"email": "amina@", "password": "x", "csrf_token": csrf_token(client)},
        headers={"referer": f"{site}/account?tab=email"},
    )
    assert refused.status_code == 422
    assert _form_page(refused) == "/account?tab=email"
    # Only a page of this site, and only when the answer is at another address than the form's.
    for referer in ("https://elsewhere.example/account", f"{site}//elsewhere.example/x"):
        answer = post_form(client, "/account/email", {"email": "amina@", "password": "x"})
        assert _form_page(answer) is None
        answer = client.post(
            "/account/email",
            data={"email": "amina@", "password": "x", "csrf_token": csrf_token(client)},
            headers={"referer": referer},
        )
        assert answer.status_code == 422 and _form_page(answer) is None
    same = client.post(
        "/account/email",
        data={"email": "amina@", "password": "x", "csrf_token": csrf_token(client)},
        headers={"referer": f"{site}/account/email"},
    )
    assert _form_page(same) is None
