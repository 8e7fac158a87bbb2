"""The institution's pages: its profile, its needs (post, edit, close) and their list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.core.needs import NeedSaved
from service.i18n import translations_for
from service.models import AuditEvent, Institution, Need
from service.pages.institution import NEED_SAVED
from tests.factories import make_member, make_need
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)
from tests.service.pages.html_forms import HtmlForm


def _member_client(
    client: TestClient, session: Session, *, verified: bool = True, **fields: Any
) -> Institution:
    user, institution = make_member(session, verified=verified, **fields)
    log_in_as(client, user.email)
    return institution


def _need_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Co-enseigner l'épidémiologie",
        "description": "Notre faculté cherche un épidémiologiste pour un module à distance.",
        "required_skills": "épidémiologie, biostatistique",
        "sector": "health",
        "mode": "remote",
        "duration_weeks": "6",
        "hours_per_week": "4",
        "start_from": "",
        "start_until": "",
        "languages": ["fr", "wo"],
        "city": "Dakar",
        "support": ["stipend"],
        "status": "open",
    }
    data.update(overrides)
    return data


def test_pending_institution_profile_is_marked_pending(
    client: TestClient, session: Session
) -> None:
    _member_client(client, session, verified=False)
    soup = soup_of(client.get("/institution/profile"))
    assert text_of(soup.select_one(".badge")) == "Pending verification"
    assert soup.select_one("#country option[selected]")["value"] == "SN"  # type: ignore[index]
    assert soup.select('form[action$="/verify"]') == []


def test_profile_edit_saves_and_records(client: TestClient, session: Session) -> None:
    institution = _member_client(client, session)
    response = post_form(
        client,
        "/institution/profile",
        {
            "name": "Faculté de médecine, UCAD",
            "type": "university",
            "country": "SN",
            "city": "Dakar",
            "website": "https://ucad.sn",
            "description": "Teaching hospital and faculty.",
        },
    )
    assert response.status_code == 303
    session.refresh(institution)
    assert institution.name == "Faculté de médecine, UCAD" and institution.website
    assert flash_messages(client.get("/institution/profile")) == [
        "Your organisation's profile is saved."
    ]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "institution.updated")).one()
    assert set(event.data["fields"]) == {"name", "website", "description"}


def test_an_uninhabited_island_is_no_country_to_register_in(
    client: TestClient, session: Session
) -> None:
    institution = _member_client(client, session)
    form = {"name": "Université Cheikh Anta Diop", "type": "university", "country": "BV"}
    response = post_form(client, "/institution/profile", {**form, "city": "Dakar"})
    assert response.status_code == 422
    assert error_beside(response, "country") == "Choose a country from the list."
    assert soup_of(response).select_one("#city")["value"] == "Dakar"  # type: ignore[index]
    session.refresh(institution)
    assert institution.country == "SN"


def test_profile_errors_beside_fields(client: TestClient, session: Session) -> None:
    institution = _member_client(client, session)
    response = post_form(
        client,
        "/institution/profile",
        {"name": "", "type": "castle", "country": "", "city": "", "website": "", "description": ""},
    )
    assert response.status_code == 422
    assert error_beside(response, "name") == "This field is required."
    assert error_beside(response, "type")
    assert error_beside(response, "country") == "Choose a country."
    session.refresh(institution)
    assert institution.name == "Université Cheikh Anta Diop"


def test_a_website_that_is_no_web_address_is_refused(client: TestClient, session: Session) -> None:
    # Before, "not a url" or "javascript:alert(1)" were kept and shown to coordinators as links.
    institution = _member_client(client, session, website="https://ucad.example")
    for typed in ("not a url", "javascript:alert(1)"):
        response = post_form(
            client,
            "/institution/profile",
            {"name": "UCAD", "type": "university", "country": "SN", "website": typed},
        )
        assert response.status_code == 422
        assert error_beside(response, "website") == "Enter a web address, like https://example.org."
    session.refresh(institution)
    assert institution.website == "https://ucad.example"
    response = post_form(
        client,
        "/institution/profile",
        {"name": "UCAD", "type": "university", "country": "SN", "website": "www.ucad.sn"},
    )
    assert response.status_code == 303
    session.refresh(institution)
    assert institution.website == "www.ucad.sn"


def test_need_form_offers_sector_and_language_choices(client: TestClient, session: Session) -> None:
    _member_client(client, session)
    soup = soup_of(client.get("/institution/needs/new"))
    sectors = [o["value"] for o in soup.select("#sector option")]
    assert sectors[0] == "" and "health" in sectors and "public_administration" in sectors
    assert text_of(soup.select_one('#sector option[value="public_administration"]')) == (
        "Public administration"
    )
    checkboxes = {c["value"] for c in soup.select('input[type=checkbox][name="languages"]')}
    assert checkboxes == {"en", "fr", "es", "pt", "ar"}
    assert soup.select_one('#language-other option[value="wo"]') is not None


def test_posting_a_need_reads_the_language_choices(client: TestClient, session: Session) -> None:
    institution = _member_client(client, session)
    response = post_form(client, "/institution/needs/new", _need_form())
    assert response.status_code == 303
    need = session.exec(select(Need).where(Need.institution_id == institution.id)).one()
    assert need.languages == ["fr", "wo"] and need.sector == "health"
    page = client.get(response.headers["location"])
    assert flash_messages(page) == [NEED_SAVED[NeedSaved.PUBLISHED]]
    steps = soup_of(page).select("[data-next-steps] li")
    assert len(steps) == 3 and "coordinator" in steps[1].get_text()
    soup = soup_of(page)
    assert "Wolof" in text_of(soup.select_one(".details"))
    # The extra language is a checked box when the need is edited.
    edit = soup_of(client.get(f"/institution/needs/{need.id}/edit"))
    assert edit.select_one('input[name=languages][value="wo"][checked]') is not None


def test_need_errors_beside_fields(client: TestClient, session: Session) -> None:
    _member_client(client, session)
    response = post_form(
        client,
        "/institution/needs/new",
        _need_form(title="ab", duration_weeks="0"),
    )
    assert response.status_code == 422
    assert "at least 3" in error_beside(response, "title")
    assert "at least 1" in error_beside(response, "duration_weeks")
    assert session.exec(select(Need)).all() == []


def test_a_new_need_is_open_or_a_draft_never_closed(client: TestClient, session: Session) -> None:
    _member_client(client, session, name="Université Cheikh Anta Diop")
    soup = soup_of(client.get("/institution/needs/new"))
    assert [o["value"] for o in soup.select("#status option")] == ["open", "draft"]
    response = post_form(
        client,
        "/institution/needs/new",
        _need_form(title="Épidémiologie de terrain", status="closed"),
    )
    assert response.status_code == 422
    assert error_beside(response, "status") == "Choose one of the options."
    assert session.exec(select(Need)).all() == []


def test_an_institution_awaiting_verification_starts_a_draft(
    client: TestClient, session: Session
) -> None:
    _member_client(client, session, verified=False)
    soup = soup_of(client.get("/institution/needs/new"))
    assert [o["value"] for o in soup.select("#status option")] == ["draft"]


def test_start_window_ending_before_it_begins_is_refused(
    client: TestClient, session: Session
) -> None:
    _member_client(client, session)
    response = post_form(
        client,
        "/institution/needs/new",
        _need_form(start_from="2026-05-01", start_until="2026-04-01"),
    )
    assert response.status_code == 422
    assert "before" in error_beside(response, "start_until")


def test_close_button_closes_the_need(client: TestClient, session: Session) -> None:
    institution = _member_client(client, session)
    need = make_need(session, institution=institution)
    soup = soup_of(client.get(f"/institution/needs/{need.id}"))
    form = soup.select_one(f'form[action="/institution/needs/{need.id}/close"]')
    assert form is not None and form.select_one("input[name=csrf_token]") is not None

    # Sent without the browser's confirmation (no script): the page asks, nothing is closed.
    asked = post_form(client, f"/institution/needs/{need.id}/close", {})
    assert asked.status_code == 200
    question = soup_of(asked).select_one("[data-asking=close]")
    assert question is not None and "No more experts will be proposed" in text_of(question)
    session.refresh(need)
    assert need.status == "open"

    response = HtmlForm.of(asked, marker="data-confirming").submit(client)

    assert response.status_code == 303
    session.refresh(need)
    assert need.status == "closed"
    page = client.get(f"/institution/needs/{need.id}")
    assert flash_messages(page) == ["Your need is closed."]
    assert soup_of(page).select_one('form[action$="/close"]') is None
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_id == need.id)).one()
    assert (event.from_state, event.to_state) == ("open", "closed")


def test_another_institution_cannot_close_a_need(client: TestClient, session: Session) -> None:
    _, other = make_member(session, name="Other")
    need = make_need(session, institution=other)
    _member_client(client, session)
    refused = post_form(client, f"/institution/needs/{need.id}/close", {"confirmed": "yes"})
    assert refused.status_code == 404
    session.refresh(need)
    assert need.status == "open"


def test_needs_are_listed_a_page_at_a_time(client: TestClient, session: Session) -> None:
    institution = _member_client(client, session)
    for index in range(23):
        make_need(session, institution=institution, title=f"Need number {index:02d}")
    make_need(session, institution=institution, title="Closed one", status="closed")

    first = soup_of(client.get("/institution"))
    assert len(first.select(".need-card")) == 20
    assert "Page 1 of 2" in text_of(first.select_one(".pagination"))
    assert first.select_one('.pagination a[rel="next"]')["href"] == "/institution?page=2"  # type: ignore[index]
    second = soup_of(client.get("/institution?page=2"))
    assert len(second.select(".need-card")) == 4

    filtered = soup_of(client.get("/institution?status=open&page=2"))
    assert (
        filtered.select_one('.pagination a[rel="prev"]')["href"]
        == "/institution?status=open&page=1"
    )  # type: ignore[index]
    closed = soup_of(client.get("/institution?status=closed"))
    assert [text_of(h) for h in closed.select(".need-card h3")] == ["Closed one"]
    assert closed.select_one(".pagination") is None


def test_home_links_to_proposals_engagements_profile(client: TestClient, session: Session) -> None:
    _member_client(client, session)
    links = {a["href"] for a in soup_of(client.get("/institution")).select("main a")}
    assert {"/institution/proposals", "/institution/engagements", "/institution/profile"} <= links


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
def test_the_need_forms_dates_say_what_each_means_with_help(
    locale: str, client: TestClient, session: Session
) -> None:
    _member_client(client, session)
    assert post_form(client, "/language", {"locale": locale, "next": "/"}).status_code == 303
    soup = soup_of(client.get("/institution/needs/new"))
    catalogue = translations_for(locale)
    labels = {
        "start_from": ("Earliest start", "The first day an expert could begin working with you."),
        "start_until": ("Latest start", "The last day the engagement may begin"),
    }
    seen = set()
    for name, (label, help_start) in labels.items():
        field = soup.select_one(f"#{name}")
        assert field is not None
        label_text = text_of(soup.select_one(f"label[for={name}]"))
        assert label_text == catalogue.gettext(label)
        help_id = field["aria-describedby"]
        help_text = text_of(soup.select_one(f"#{help_id}"))
        english = next(m for m in _NEED_DATE_HELP if m.startswith(help_start))
        assert help_text == catalogue.gettext(english)
        seen.add(label_text)
    assert len(seen) == 2  # two labels, each saying its own date ("and" said nothing)
    # A wrong order is refused beside the second date, the labels kept.
    response = post_form(
        client,
        "/institution/needs/new",
        _need_form(start_from="2027-03-01", start_until="2027-02-01"),
    )
    assert response.status_code == 422
    assert "latest start" in error_beside(response, "start_until").lower() or locale != "en"


_NEED_DATE_HELP = (
    "The first day an expert could begin working with you. Leave it empty if they can begin "
    "at any time.",
    "The last day the engagement may begin, for instance before the semester starts. Its end "
    "follows from the duration.",
)


def test_the_first_step_of_a_waiting_institution_reads_as_sentences_in_french(
    client: TestClient, session: Session
) -> None:
    user, _institution = make_member(
        session, verified=False, name="Faculté des Lettres — كلية الآداب"
    )
    user.locale = "fr"
    session.add(user)
    session.commit()
    log_in_as(client, user.email)
    steps = soup_of(client.get("/institution")).select("ol li")
    assert text_of(steps[0]) == (
        "Complétez le profil de votre organisation. "
        "Un coordinateur le vérifie, en général sous quelques jours ouvrés."
    )


def test_a_waiting_institutions_draft_says_courriel_as_the_rest_of_the_french_site(
    client: TestClient, session: Session
) -> None:
    user, institution = make_member(session, verified=False, name="Faculté des Lettres")
    user.locale = "fr"
    session.add(user)
    session.commit()
    need = make_need(session, institution=institution, status="draft")
    log_in_as(client, user.email)
    said = text_of(soup_of(client.get(f"/institution/needs/{need.id}")).select_one("main"))
    assert "vous recevrez alors un courriel." in said
    assert "e-mail" not in said


# One more than a need may ask for.
ELEVEN_LANGUAGES = ["en", "fr", "es", "pt", "ar", "wo", "sw", "ha", "yo", "am", "ff"]
LANGUAGES_HELP = (
    "Experts are proposed only if they speak at least one of these languages; those who speak "
    "all of them rank higher."
)


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
def test_the_working_languages_say_how_the_matcher_uses_them(
    locale: str, client: TestClient, session: Session
) -> None:
    """At least one language in common is required (matching.constraints._check_languages);
    each one missing ranks an expert down: the form says so under the legend."""
    _member_client(client, session, name="Université de Lomé")
    assert post_form(client, "/language", {"locale": locale, "next": "/"}).status_code == 303
    soup = soup_of(client.get("/institution/needs/new"))
    fieldset = soup.select_one("fieldset#languages")
    assert fieldset is not None
    help_id = fieldset["aria-describedby"]
    help_line = soup.select_one(f"#{help_id}")
    assert help_line is not None and help_line.find_parent("fieldset") is fieldset
    said = text_of(help_line)
    assert said == translations_for(locale).gettext(LANGUAGES_HELP)
    assert locale == "en" or said != LANGUAGES_HELP
    # An error keeps the help and adds itself to what the fieldset is described by.
    response = post_form(
        client,
        "/institution/needs/new",
        _need_form(title="Épidémiologie", languages=ELEVEN_LANGUAGES),
    )
    assert response.status_code == 422
    fieldset = soup_of(response).select_one("fieldset#languages")
    assert fieldset is not None
    assert fieldset["aria-describedby"].split() == ["languages-help", "languages-error"]
