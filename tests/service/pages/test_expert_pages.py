"""The expert's space and profile editor, through the real forms."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import ExpertProfile, Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)


def _expert_client(client: TestClient, session: Session, **fields: Any) -> ExpertProfile:
    user = make_user(session, role=Role.EXPERT)
    expert = make_expert(session, user=user, **fields)
    log_in_as(client, user.email)
    return expert


def _valid_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Awa Diallo",
        "headline": "Epidemiologist",
        "bio": "Field epidemiologist.",
        "skills": ["epidemiology", "biostatistics, survey design"],
        "lang_code_0": "fr",
        "lang_level_0": "native",
        "lang_code_1": "en",
        "lang_level_1": "fluent",
        "lang_code_2": "",
        "lang_level_2": "professional",
        "origin_country": "SN",
        "residence_country": "CA",
        "city": "Montreal",
        "timezone": "America/Toronto",
        "modes": ["remote", "mission"],
        "hours_per_month": "12",
        "available_from": "2026-01-01",
        "available_until": "2026-12-31",
        "sectors": ["health", "research"],
        "years_experience": "12",
        "education": "PhD",
        "phone": "+1 514 555 0100",
        "visibility": "institutions",
        "consent_matching": "on",
    }
    data.update(overrides)
    return data


def test_editor_shows_the_profile_as_proper_fields(client: TestClient, session: Session) -> None:
    _expert_client(client, session)
    soup = soup_of(client.get("/expert/profile"))

    # Languages: one row per language (code and level selects), plus an empty one to add.
    codes = [s.select_one("option[selected]") for s in soup.select("select[name^=lang_code_]")]
    levels = [s.select_one("option[selected]") for s in soup.select("select[name^=lang_level_]")]
    assert [c["value"] if c else "" for c in codes] == ["fr", "en", ""]
    assert [lv["value"] for lv in levels[:2]] == ["native", "fluent"]  # type: ignore[index]
    assert text_of(codes[0]) == "French"
    # Countries by name, time zones grouped by area.
    origin = soup.select_one("#origin_country option[selected]")
    assert origin["value"] == "SN" and text_of(origin) == "Senegal"  # type: ignore[index]
    assert text_of(soup.select_one("#residence_country option[selected]")) == "Canada"
    africa = soup.select_one('#timezone optgroup[label="Africa"]')
    assert africa is not None and africa.select_one('option[value="Africa/Dakar"]') is not None
    assert soup.select_one("#timezone option[selected]")["value"] == "America/Toronto"  # type: ignore[index]
    # Skills as checked tags, with an input to add more.
    tags = soup.select("[data-tag-list] input[name=skills][checked]")
    assert [t["value"] for t in tags] == ["epidemiology", "biostatistics", "teaching"]
    assert soup.select_one("#skill-new")["list"] == "skill-suggestions"  # type: ignore[index]
    # Every field has a label.
    for control in soup.select(
        "form.profile-form input:not([type=hidden]), form.profile-form select, form.profile-form textarea"
    ):
        control_id = control.get("id")
        labelled = control.find_parent("label") is not None or (
            control_id and soup.find("label", attrs={"for": control_id}) is not None
        )
        assert labelled, control


def test_saving_the_profile_reads_every_field(client: TestClient, session: Session) -> None:
    expert = _expert_client(client, session, skills=[], languages=[])

    response = post_form(client, "/expert/profile", _valid_form())

    assert response.status_code == 303 and response.headers["location"] == "/expert"
    session.refresh(expert)
    assert expert.skills == ["epidemiology", "biostatistics", "survey design"]
    assert expert.languages == [
        {"code": "fr", "level": "native"},
        {"code": "en", "level": "fluent"},
    ]
    assert expert.timezone == "America/Toronto"
    assert expert.modes == ["remote", "mission"] and expert.hours_per_month == 12
    assert flash_messages(client.get("/expert")) == ["Your profile is saved."]


def test_unchecked_skill_is_removed(client: TestClient, session: Session) -> None:
    expert = _expert_client(client, session)
    post_form(client, "/expert/profile", _valid_form(skills=["epidemiology", ""]))
    session.refresh(expert)
    assert expert.skills == ["epidemiology"]


def test_a_repeated_language_is_kept_once(client: TestClient, session: Session) -> None:
    expert = _expert_client(client, session)
    post_form(client, "/expert/profile", _valid_form(lang_code_1="fr", lang_level_1="basic"))
    session.refresh(expert)
    assert expert.languages == [{"code": "fr", "level": "native"}]


def test_a_territory_nobody_lives_in_is_refused_beside_its_field(
    client: TestClient, session: Session
) -> None:
    expert = _expert_client(client, session)
    response = post_form(client, "/expert/profile", _valid_form(residence_country="aq"))
    assert response.status_code == 422
    assert error_beside(response, "residence_country") == "Choose a country from the list."
    session.refresh(expert)
    assert expert.residence_country != "AQ"


def test_errors_are_shown_beside_the_fields(client: TestClient, session: Session) -> None:
    expert = _expert_client(client, session)
    response = post_form(
        client,
        "/expert/profile",
        _valid_form(origin_country="", hours_per_month="500", timezone="Mars/Olympus"),
    )
    assert response.status_code == 422
    # A country left on the list's prompt is asked for, not described as a code format.
    assert error_beside(response, "origin_country") == "Choose a country."
    assert "at most 200" in error_beside(response, "hours_per_month")
    assert "time zone" in error_beside(response, "timezone")
    # What was typed comes back.
    soup = soup_of(response)
    assert soup.select_one("#city")["value"] == "Montreal"  # type: ignore[index]
    assert soup.select_one("#lang_code_1 option[selected]")["value"] == "en"  # type: ignore[index]
    session.refresh(expert)
    assert expert.origin_country == "SN"


def test_end_of_availability_before_its_start_is_refused(
    client: TestClient, session: Session
) -> None:
    _expert_client(client, session)
    response = post_form(
        client,
        "/expert/profile",
        _valid_form(available_from="2026-06-01", available_until="2026-01-01"),
    )
    assert response.status_code == 422
    assert "before" in error_beside(response, "available_until")


def test_skill_suggestions_work_without_javascript(client: TestClient, session: Session) -> None:
    make_expert(session, skills=["GIS", "Hydrology"])
    _expert_client(client, session)
    soup = soup_of(client.get("/expert/profile"))
    options = {o["value"] for o in soup.select("datalist#skill-suggestions option")}
    assert {"GIS", "Hydrology", "epidemiology"} <= options


def test_errors_are_translated_in_french(client: TestClient, session: Session) -> None:
    _expert_client(client, session)
    post_form(client, "/language", {"locale": "fr", "next": "/expert/profile"})
    response = post_form(client, "/expert/profile", _valid_form(display_name=""))
    assert response.status_code == 422
    assert error_beside(response, "display_name") == "Ce champ est obligatoire."


def test_home_links_to_the_expert_pages(client: TestClient, session: Session) -> None:
    _expert_client(client, session)
    soup = soup_of(client.get("/expert"))
    links = {a["href"] for a in soup.select("main a")}
    assert {"/expert/proposals", "/expert/engagements", "/expert/profile"} <= links


def test_home_says_what_the_profile_lacks(client: TestClient, session: Session) -> None:
    _expert_client(
        client, session, headline="", bio="", skills=["one"], sectors=[], hours_per_month=0
    )
    soup = soup_of(client.get("/expert"))
    meter = soup.select_one("progress#completeness-meter")
    assert meter is not None and meter["value"] == "38"
    missing = [text_of(li) for li in soup.select(".missing-list li")]
    assert "at least three skills" in missing and "a headline" in missing
    assert soup.select_one('.missing-list a[href="/expert/profile#skills"]') is not None


def test_complete_profile_has_no_hint(client: TestClient, session: Session) -> None:
    _expert_client(client, session, bio="x" * 100)
    soup = soup_of(client.get("/expert"))
    assert soup.select_one("progress#completeness-meter")["value"] == "100"  # type: ignore[index]
    assert soup.select(".missing-list li") == []


def test_a_short_bio_is_told_what_is_still_short_not_asked_for_again(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="ar")
    bio = "أدرّس علم الدلالة في جامعة ليون منذ 12 سنة.\nJ'enseigne la sémantique à Lyon."
    assert len(bio) < 80
    make_expert(session, user=user, display_name="ليلى بن علي", bio=bio)
    log_in_as(client, user.email)
    missing = [text_of(li) for li in soup_of(client.get("/expert")).select(".missing-list li")]
    assert missing == ["بضعة أسطر أخرى عن عملك (80 حرفًا على الأقل)"]


def test_an_empty_bio_is_asked_for(client: TestClient, session: Session) -> None:
    _expert_client(client, session, bio="   ")
    missing = [text_of(li) for li in soup_of(client.get("/expert")).select(".missing-list li")]
    assert missing == ["a few lines about your work"]


def test_skills_typed_with_arabic_commas_are_separate_skills(
    client: TestClient, session: Session
) -> None:
    expert = _expert_client(client, session, skills=[], headline="طبيبة وبائيات", bio="x" * 100)
    typed = "علم الأوبئة، الإحصاء الحيوي؛ R،ترصّد الأمراض\nالتدريس الجامعي"
    response = post_form(client, "/expert/profile", _valid_form(skills=typed))
    assert response.status_code == 303, response.text[:300]
    session.refresh(expert)
    assert expert.skills == [
        "علم الأوبئة",
        "الإحصاء الحيوي",
        "R",
        "ترصّد الأمراض",
        "التدريس الجامعي",
    ]
    soup = soup_of(client.get("/expert"))
    missing = [text_of(li) for li in soup.select(".missing-list li")]
    assert "at least three skills" not in missing
