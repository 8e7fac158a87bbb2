"""The coordinator's review cards on languages and skills: a need's languages are the ones it
accepts, any one will do, so an expert who speaks one of them has no language concern; one who
speaks none is told so, with the languages named; and a card whose expert covers none of the
skills asked says so, never calling a related skill covered."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.constraints import MatchPolicy, assess
from matching.explain import build_explanation
from matching.records import ExpertRecord, NeedRecord
from service.i18n import translations_for
from tests.factories import make_expert, make_proposal
from tests.service.pages.review import card_text, coordinator_browser, review_page
from tests.service.worlds import build_world

FIVE = ["en", "fr", "es", "pt", "ar"]
TODAY = date(2026, 12, 3)
SKILLS = ["épidémiologie", "biostatistique", "علم الأوبئة"]


def _explained(
    *, speaks: list[str], accepts: list[str], skills: list[str], required: list[str] = SKILLS
) -> dict[str, Any]:
    """The explanation the matcher stores for this expert and need (its real assessment)."""
    expert = ExpertRecord(
        expert_id="7",
        headline="Épidémiologiste de terrain — أخصائية أوبئة",
        skills=skills,
        languages=speaks,
        modes=["remote"],
        available_from=TODAY,
        available_until=TODAY + timedelta(days=200),
        hours_per_week=8,
        availability_confirmed_on=TODAY,
    )
    need = NeedRecord(
        need_id="1",
        title="Co-enseigner l'épidémiologie — تدريس علم الأوبئة",
        required_skills=required,
        languages=accepts,
        mode="remote",
        start=TODAY + timedelta(days=30),
        end=TODAY + timedelta(days=72),
        hours_per_week=4,
    )
    assessment = assess(expert, need, MatchPolicy(), TODAY)

    def encode(texts: Any) -> Any:
        # Orthogonal rows: no two different phrases are alike, so only exact skills cover.
        rows = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            rows[i, sum(map(ord, text)) % 64] = 1.0
        return rows

    explanation = build_explanation(expert, need, assessment, encode, need.title)
    # Stored as the service stores it: JSON, dates as ISO strings.
    stored: dict[str, Any] = json.loads(json.dumps(asdict(explanation), default=str))
    return stored


def _card(
    session: Session,
    make_client: Callable[[], TestClient],
    explanation: dict[str, Any],
    *,
    languages: list[str],
    locale: str = "en",
    speaks: list[dict[str, str]] | None = None,
) -> str:
    world = build_world(session)
    world.need.languages = languages
    session.add(world.need)
    expert = make_expert(
        session,
        display_name="Leïla Benali — ليلى بن علي",
        languages=speaks or [{"code": "ar", "level": "native"}],
    )
    proposal = make_proposal(session, need=world.need, expert=expert, explanation=explanation)
    page = review_page(coordinator_browser(session, make_client, world, locale=locale), world)
    return card_text(page, proposal.id)


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_an_expert_who_speaks_one_of_five_accepted_languages_has_no_language_concern(
    locale: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    explanation = _explained(speaks=["ar"], accepts=FIVE, skills=["épidémiologie"])
    # The matcher keeps its facts: the other four are not spoken.
    assert explanation["shared_languages"] == ["ar"]
    assert explanation["missing_languages"] == ["en", "fr", "es", "pt"]
    text = _card(session, make_client, explanation, languages=FIVE, locale=locale)
    catalogue = translations_for(locale)
    does_not = catalogue.gettext("Does not speak %(language)s").split("%(language)s")[0].strip()
    assert does_not not in text
    none_of = catalogue.gettext("Speaks none of the languages the need accepts (%(languages)s)")
    assert none_of.split("(")[0].strip() not in text
    speaks = catalogue.gettext("Speaks %(language)s (%(level)s)").split("%(language)s")[0]
    assert speaks.strip() in text


def test_an_expert_who_speaks_none_of_the_accepted_languages_is_told_which(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    accepts = ["fr", "es", "pt"]
    explanation = _explained(speaks=["en"], accepts=accepts, skills=["épidémiologie"])
    assert explanation["shared_languages"] == [] and explanation["notes"]
    text = _card(
        session,
        make_client,
        explanation,
        languages=accepts,
        speaks=[{"code": "en", "level": "fluent"}],
    )
    assert "Speaks none of the languages the need accepts (French, Spanish, Portuguese)" in text
    assert "Does not speak" not in text


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("fr", "Ne parle aucune des langues acceptées par le besoin (français, espagnol)"),
        ("ar", "لا يتحدث أيًّا من اللغات التي تقبلها الحاجة (\u2068الفرنسية، الإسبانية\u2069)"),
    ],
)
def test_the_languages_none_of_which_is_spoken_are_named_in_the_readers_language(
    locale: str, said: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    explanation = _explained(speaks=["en"], accepts=["fr", "es"], skills=["épidémiologie"])
    text = _card(
        session,
        make_client,
        explanation,
        languages=["fr", "es"],
        locale=locale,
        speaks=[{"code": "en", "level": "fluent"}],
    )
    assert said in text


def test_one_accepted_language_not_spoken_is_named(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    explanation = _explained(speaks=["en"], accepts=["fr"], skills=["épidémiologie"])
    text = _card(
        session,
        make_client,
        explanation,
        languages=["fr"],
        speaks=[{"code": "en", "level": "fluent"}],
    )
    assert "Does not speak French" in text


def test_a_card_whose_expert_covers_no_skill_asked_says_so(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    explanation = _explained(speaks=["fr"], accepts=["fr"], skills=["santé publique"])
    explanation["related_skills"] = [
        {
            "required": "épidémiologie",
            "matched": "santé publique",
            "similarity": 0.74,
            "how": "related",
        }
    ]
    world = build_world(session)
    expert = make_expert(session, display_name="Aïssatou Bâ")
    proposal = make_proposal(session, need=world.need, expert=expert, explanation=explanation)
    page = review_page(coordinator_browser(session, make_client, world), world)
    card = page.select_one(f"#candidate-{proposal.id}")
    assert card is not None
    reasons = [li.get_text(" ", strip=True) for li in card.select("[data-reasons] li")]
    assert reasons[0] == "Covers none of the 3 skills asked"
    caption = card.select_one(".explanation caption")
    assert caption is not None
    assert caption.get_text(strip=True) == "No skill asked is covered; related skills:"
    assert "Skills covered" not in card.get_text(" ", strip=True)


def test_a_proposal_without_the_matchers_reasons_says_so(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    # Proposals made by hand (the demo world's scenarios) carry no explanation.
    world = build_world(session)
    expert = make_expert(session, display_name="Aminata Diouf")
    proposal = make_proposal(session, need=world.need, expert=expert, explanation={})
    page = review_page(coordinator_browser(session, make_client, world), world)
    card = page.select_one(f"#candidate-{proposal.id}")
    assert card is not None and card.select_one("[data-reasons]") is None
    note = card.select_one("[data-no-reasons]")
    assert note is not None
    assert note.get_text(strip=True) == (
        "The matcher's reasons are not recorded for this proposal: check the profile."
    )
