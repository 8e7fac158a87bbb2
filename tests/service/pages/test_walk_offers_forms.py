"""What a new user met walking the site: an engagement's facts read as whole sentences in every
language, the expert's availability has an end as well as a start, a refused form says at its
top what to correct (linking to each field), and digits and dates run left to right in Arabic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import EngagementFeedback, Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import (
    error_beside,
    log_in_as,
    post_form,
    sentence_of,
    soup_of,
    text_of,
)
from tests.service.worlds import bring_to, build_world

NAME = "عائشة ديوب"
BIO = "Épidémiologiste de terrain à Saint-Louis ; 12 ans de surveillance — مراقبة وبائية."


def _profile(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": NAME,
        "headline": "Épidémiologiste, santé publique",
        "bio": BIO,
        "years_experience": "12",
        "skills": ["épidémiologie", "biostatistique", "enseignement"],
        "lang_code_0": "ar",
        "lang_level_0": "native",
        "lang_code_1": "fr",
        "lang_level_1": "fluent",
        "origin_country": "SN",
        "residence_country": "FR",
        "city": "Saint-Étienne",
        "timezone": "Europe/Paris",
        "modes": ["remote", "hybrid"],
        "hours_per_month": "16",
        "available_from": "2027-03-10",
        "available_until": "2027-09-30",
        "sectors": ["health"],
        "visibility": "institutions",
        "consent_matching": "on",
    }
    data.update(overrides)
    return data


def _expert_browser(session: Session, make_client: Callable[[], TestClient], locale: str = "en"):  # type: ignore[no-untyped-def]
    user = make_user(session, role=Role.EXPERT, locale=locale)
    expert = make_expert(session, user=user)
    return log_in_as(make_client(), user.email), expert


def test_a_refused_profile_says_what_to_correct_at_the_top_and_keeps_every_field(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser, _ = _expert_browser(session, make_client)
    response = post_form(
        browser,
        "/expert/profile",
        _profile(available_until="2027-03-01", hours_per_month="-4"),
    )
    assert response.status_code == 422
    page = soup_of(response)
    summary = page.select_one("[data-error-summary]")
    assert summary is not None
    assert text_of(summary.h2) == "The form was not saved: 2 fields need correcting."
    links = {a["href"]: text_of(a) for a in summary.select("a")}
    assert links["#available_until"] == (
        "Available until: The end of your availability must not be before its start."
    )
    assert links["#hours_per_month"].startswith("Hours per month: ")
    for anchor in links:  # each link lands on a field of the form
        assert page.select_one(anchor) is not None
    assert error_beside(response, "available_until") == (
        "The end of your availability must not be before its start."
    )
    # Every field comes back as typed.
    value = {
        name: page.select_one(f"#{name}")["value"]
        for name in (  # type: ignore[index]
            "display_name",
            "headline",
            "years_experience",
            "city",
            "hours_per_month",
            "available_from",
            "available_until",
        )
    }
    assert value == {
        "display_name": NAME,
        "headline": "Épidémiologiste, santé publique",
        "years_experience": "12",
        "city": "Saint-Étienne",
        "hours_per_month": "-4",
        "available_from": "2027-03-10",
        "available_until": "2027-03-01",
    }
    assert text_of(page.select_one("#bio")) == BIO
    checked = {i["value"] for i in page.select("input[name=skills][checked]")}
    assert checked == {"épidémiologie", "biostatistique", "enseignement"}
    assert {i["value"] for i in page.select("input[name=modes][checked]")} == {"remote", "hybrid"}
    assert page.select_one("#lang_code_0 option[selected]")["value"] == "ar"  # type: ignore[index]
    assert page.select_one("#origin_country option[selected]")["value"] == "SN"  # type: ignore[index]


def test_the_saved_availability_shows_its_start_and_its_end(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser, _ = _expert_browser(session, make_client)
    assert post_form(browser, "/expert/profile", _profile()).status_code == 303
    home = soup_of(browser.get("/expert"))
    assert text_of(home.select_one("[data-available]")) == (
        "available from Mar 10, 2027 to Sep 30, 2027"
    )
    post_form(browser, "/expert/profile", _profile(available_from=""))
    home = soup_of(browser.get("/expert"))
    assert text_of(home.select_one("[data-available]")) == "available until Sep 30, 2027"


@pytest.mark.parametrize("locale", ["ar", "fr", "pt", "en"])
def test_digits_and_dates_run_left_to_right_in_every_language(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    browser, _ = _expert_browser(session, make_client, locale)
    page = soup_of(browser.get("/expert/profile"))
    for name in ("hours_per_month", "years_experience", "available_from", "available_until"):
        assert page.select_one(f"#{name}")["dir"] == "ltr", name  # type: ignore[index]
    assert page.select_one("#phone")["dir"] == "ltr"  # type: ignore[index]
    assert page.select_one("#display_name")["dir"] == "auto"  # typed text keeps its direction


REASON = "Calendrier validé avec le doyen — التقويم"
SENTENCES = {
    "en": [
        "The institution confirmed the engagement on {confirmed}.",
        "Asked by Université Cheikh Anta Diop, Senegal.",
        "The work is done remotely.",
        "The work runs from Mar 1, 2027 to Apr 12, 2027.",
        "24 hours in total are agreed.",
        f"Reason given: {REASON}",
    ],
    "fr": [
        "L’institution a confirmé l’engagement le {confirmed}.",
        "Demandé par Université Cheikh Anta Diop, Sénégal.",
        "Le travail se fait à distance.",
        "Le travail a lieu du 1 mars 2027 au 12 avr. 2027.",
        "24 heures au total sont convenues.",
        f"Motif donné : {REASON}",
    ],
    "pt": [
        "A instituição confirmou a missão em {confirmed}.",
        "Pedida por Université Cheikh Anta Diop, Senegal.",
        "O trabalho é realizado à distância.",
        "O trabalho decorre de 01/03/2027 a 12/04/2027.",
        "24 horas acordadas no total.",
        f"Motivo indicado: {REASON}",
    ],
    "ar": [
        "أكدت المؤسسة الالتزام في {confirmed}.",
        "طلبته Université Cheikh Anta Diop، السنغال.",
        "يُنجز العمل عن بُعد.",
        "يمتد العمل من {start} إلى {end}.",
        "تم الاتفاق على 24 ساعة في المجموع.",
        f"السبب المذكور: {REASON}",
    ],
}


@pytest.mark.parametrize("locale", sorted(SENTENCES))
def test_an_engagements_facts_are_whole_sentences_in_the_readers_language(
    session: Session, make_client: Callable[[], TestClient], settings: Settings, locale: str
) -> None:
    from service.i18n import current_locale
    from service.pages.reasons import day

    world = build_world(session)
    world.institution.name = "Université Cheikh Anta Diop"
    world.institution.country = "SN"
    world.expert_user.locale = locale
    session.add(world.institution)
    session.add(world.expert_user)
    session.commit()
    engagement = bring_to(session, world, settings, "confirmed")
    engagement.start_date, engagement.end_date = date(2027, 3, 1), date(2027, 4, 12)
    engagement.agreed_hours = 24
    engagement.mode = "remote"
    engagement.reason = REASON
    session.add(engagement)
    session.commit()
    token = current_locale.set(locale)
    try:
        said = {
            "confirmed": day(engagement.confirmed_at.date()),  # type: ignore[union-attr]
            "start": day(engagement.start_date),
            "end": day(engagement.end_date),
        }
    finally:
        current_locale.reset(token)
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get(f"/expert/engagements/{engagement.id}"))
    facts = [sentence_of(li) for li in page.select("[data-facts] li")]
    assert facts == [s.format(**said) for s in SENTENCES[locale]]
    # The typed name and the typed reason keep their own direction inside the sentence.
    assert [text_of(b) for b in page.select("[data-facts] bdi")] == [
        "Université Cheikh Anta Diop",
        REASON,
    ]


def test_feedback_reads_as_sentences(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "completed")
    session.add(
        EngagementFeedback(
            engagement_id=engagement.id or 0,
            side="expert",
            rating=5,
            hours=1,
            would_repeat=False,
            delivered="Deux séances de formation à l’analyse de survie",
        )
    )
    session.commit()
    browser = log_in_as(make_client(), world.member.email)
    card = soup_of(browser.get(f"/institution/engagements/{engagement.id}")).select_one(
        "div[data-feedback=expert]"
    )
    assert [text_of(li) for li in card.select("li")] == [  # type: ignore[union-attr]
        "Rated 5 out of 5.",
        "1 hour contributed in total.",
        "Would not do it again.",
        "What was delivered: Deux séances de formation à l’analyse de survie",
    ]


def test_typed_feedback_keeps_its_own_direction_on_an_arabic_page(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.member.locale = "ar"
    session.add(world.member)
    engagement = bring_to(session, world, settings, "completed")
    delivered = "Deux séances par semaine ; مراجعة المنهج."
    impact = "Le module est désormais bilingue — شكراً."
    session.add(
        EngagementFeedback(
            engagement_id=engagement.id or 0,
            side="expert",
            rating=4,
            hours=38,
            would_repeat=True,
            delivered=delivered,
            impact=impact,
        )
    )
    session.commit()
    browser = log_in_as(make_client(), world.member.email)
    card = soup_of(browser.get(f"/institution/engagements/{engagement.id}")).select_one(
        "div[data-feedback=expert]"
    )
    # Isolated, French typed into an Arabic sentence keeps its semicolon where it was typed.
    assert [text_of(b) for b in card.select("li bdi")] == [delivered, impact]  # type: ignore[union-attr]
    assert text_of(card.select("li")[-1]) == f"الأثر: {impact}"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "Languages: French (Native), English (Fluent)"),
        ("fr", "Langues : Français (Langue maternelle), Anglais (Courant)"),
    ],
)
def test_languages_are_introduced_with_the_readers_punctuation(
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
    locale: str,
    said: str,
) -> None:
    world = build_world(session)
    world.coordinator.locale = locale
    session.add(world.coordinator)
    session.commit()
    engagement = bring_to(session, world, settings, "confirmed")
    browser = log_in_as(make_client(), world.coordinator.email)
    page = soup_of(browser.get(f"/coordinator/engagements/{engagement.id}"))
    meta = text_of(page.select_one("[data-expert] .meta"))
    assert meta.startswith(said), meta
    review = soup_of(browser.get(f"/coordinator/needs/{world.need.id}"))
    assert ("Langues : " if locale == "fr" else "Languages: ") in text_of(review)
