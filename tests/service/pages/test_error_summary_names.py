"""Every form's error summary names the field of each problem, with the label shown beside the
field (one list of labels per form, used by both), in the reader's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from tests.conftest import csrf_token
from tests.factories import make_institution, make_user
from tests.service.pages.helpers import log_in_as, sentence_of, soup_of

REQUIRED = {
    "fr": "Ce champ est obligatoire.",
    "ar": "هذا الحقل مطلوب.",
    "en": "This field is required.",
}
SEPARATOR = {"fr": " : ", "ar": ": ", "en": ": "}


def _field_label(page: BeautifulSoup, name: str) -> str:
    label = page.select_one(f"label[for='{name}']")
    if label is None:  # a group of boxes: its legend names it
        field = page.select_one(f"[name='{name}']")
        label = field.find_parent("fieldset").find("legend") if field else None  # type: ignore[union-attr]
    text = sentence_of(label)
    return text.removesuffix(" *").strip()


def _summary(page: BeautifulSoup) -> list[tuple[str, str]]:
    summary = page.select_one("[data-error-summary]")
    assert summary is not None, "no error summary"
    return [(str(a["href"])[1:], sentence_of(a)) for a in summary.select("li a")]


def _each_names_its_field(page: BeautifulSoup, locale: str) -> list[str]:
    items = _summary(page)
    assert items
    for name, said in items:
        label = _field_label(page, name)
        assert label, name
        assert said.startswith(label + SEPARATOR[locale]), (name, said, label)
    return [name for name, _ in items]


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_the_need_form_summary_names_each_field(
    session: Session, client: TestClient, locale: str
) -> None:
    user = make_user(session, role=Role.INSTITUTION, locale=locale)
    make_institution(session, member=user, name="جامعة تلمسان — Faculté de médecine")
    log_in_as(client, user.email)
    sent = client.post(
        "/institution/needs/new",
        data={
            "title": "",
            "description": "",
            "mode": "remote",
            "city": "Tlemcen",
            "status": "open",
            "csrf_token": csrf_token(client),
        },
    )
    assert sent.status_code == 422
    page = soup_of(sent)
    names = _each_names_its_field(page, locale)
    assert {"title", "description"} <= set(names)
    title = dict(_summary(page))["title"]
    expected = {"fr": "Titre : Ce champ est obligatoire.", "ar": "العنوان: هذا الحقل مطلوب."}
    assert title == expected[locale] or title.endswith(REQUIRED[locale]), title
    # Every field kept as typed.
    assert page.select_one("#city")["value"] == "Tlemcen"  # type: ignore[index]


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (
            "/register/expert",
            {"display_name": "", "email": "amina.benali@exemple.dz", "password": ""},
        ),
        (
            "/register/institution",
            {"display_name": "Karim Haddad", "email": "", "institution_name": "", "city": "Oran"},
        ),
    ],
)
def test_the_account_forms_summaries_name_each_field(
    make_client: Callable[[], TestClient], url: str, data: dict[str, str]
) -> None:
    client = make_client()
    client.get(url)
    sent = client.post(url, data={**data, "csrf_token": csrf_token(client)})
    assert sent.status_code == 422, sent.status_code
    _each_names_its_field(soup_of(sent), "en")


def test_the_password_change_summary_names_each_field_in_french(
    session: Session, client: TestClient
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="fr")
    log_in_as(client, user.email)
    sent = client.post(
        "/account/password",
        data={"current_password": "", "new_password": "", "csrf_token": csrf_token(client)},
    )
    assert sent.status_code == 422
    assert "new_password" in _each_names_its_field(soup_of(sent), "fr")


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_the_invitation_form_summary_names_each_field(
    session: Session, client: TestClient, locale: str
) -> None:
    user = make_user(session, role=Role.INSTITUTION, locale=locale)
    make_institution(session, member=user, name="CHU d'Oran — المستشفى الجامعي")
    log_in_as(client, user.email)
    sent = client.post(
        "/institution/team/invite",
        data={
            "email": "pas-une-adresse",
            "display_name": "Nour " * 40,
            "locale": "fr",
            "csrf_token": csrf_token(client),
        },
    )
    assert sent.status_code == 422, sent.status_code
    assert "email" in _each_names_its_field(soup_of(sent), locale)
