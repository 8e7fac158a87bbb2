"""An address a page cannot read is never a page of pydantic's English: a query value it cannot
read is dropped (the page again, with the rest of the query), a path that names no object is a
page not found, and anything else is said in the reader's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from service.models import Role
from tests.conftest import csrf_token
from tests.factories import make_institution, make_need, make_user
from tests.service.pages.helpers import log_in_as, sentence_of, soup_of


def _member(session: Session, client: TestClient) -> int:
    user = make_user(session, role=Role.INSTITUTION, locale="fr")
    institution = make_institution(session, member=user, name="Université d'Oran — Médecine")
    need = make_need(session, institution=institution, title="Épidémiologie de terrain")
    session.commit()
    log_in_as(client, user.email)
    return need.id or 0


def test_a_page_number_it_cannot_read_brings_the_page_with_the_rest_of_the_query(
    session: Session, client: TestClient
) -> None:
    _member(session, client)
    for page in ("abc", "0", "-3", "1.5", "٣", "9" * 30):
        response = client.get(
            "/institution", params={"status": "open", "page": page}, follow_redirects=True
        )
        assert response.status_code == 200, (page, response.status_code)
        assert str(response.url).endswith("/institution?status=open"), response.url
        assert soup_of(response).select_one("h1")


def test_any_query_is_the_page_or_the_page_without_what_it_cannot_read(
    session: Session, client: TestClient
) -> None:
    _member(session, client)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        status=st.text(max_size=20),
        page=st.one_of(st.text(max_size=8), st.integers(-10, 10**7).map(str)),
    )
    def answers(status: str, page: str) -> None:
        response = client.get(
            "/institution", params={"status": status, "page": page}, follow_redirects=True
        )
        assert response.status_code == 200
        assert "Input should" not in response.text

    answers()


def test_an_id_that_is_no_number_is_a_page_not_found(session: Session, client: TestClient) -> None:
    _member(session, client)
    for bad in ("abc", "9" * 25, "0", "-1"):
        response = client.get(f"/institution/needs/{bad}")
        assert response.status_code == 404, bad
        assert sentence_of(soup_of(response).select_one("h1")) == "Page introuvable"
        assert "Input should" not in response.text


def test_a_form_missing_a_field_is_refused_in_the_readers_words(
    session: Session, client: TestClient
) -> None:
    _member(session, client)
    response = client.post("/language", data={"csrf_token": csrf_token(client), "next": "/"})
    assert response.status_code == 422
    said = sentence_of(soup_of(response).select_one(".error-page h1 + p"))
    assert (
        said == "Cette page n'a pas pu lire ce qui a été envoyé. Revenez en arrière et réessayez."
    )
