"""What matters at the moment of decision is on the review card, said the same way as in the
side-by-side table: hours already promised, dates only partly free. Such a concern caps the
label, and "How this rank was made" is told in words, never as the matcher's raw figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_expert, make_proposal
from tests.service.pages.helpers import soup_of, text_of
from tests.service.pages.review import coordinator_browser, review_page
from tests.service.worlds import build_world

EVERY_SKILL = [
    {"required": "épidémiologie", "matched": "épidémiologie", "similarity": 1.0, "how": "exact"},
    {
        "required": "biostatistique",
        "matched": "bioestadística",
        "similarity": 0.86,
        "how": "semantic",
    },
]
# Covers every skill asked and reads far closer than the roster, but has promised more hours
# than declared, and is free for 34 of the 78 days the need may run.
OVER_COMMITTED: dict[str, Any] = {
    "covered_skills": EVERY_SKILL,
    "missing_skills": [],
    "shared_languages": ["fr"],
    "facts": {
        "mode_fit": "accepted",
        "need_mode": "remote",
        "expert_modes": ["remote"],
        "window_days": 78,
        "covered_days": 34,
        "window_start": "2027-02-24",
        "window_end": "2027-03-29",
        "free_hours": -2.2,
        "needed_hours": 5,
        "declared_hours": 2.8,
        "committed_hours": 5,
    },
}
# What the matcher stores with a score (matching.Matcher): signals, relevance, adjustments.
COMPONENTS = {
    "use.document": 0.58,
    "e5.headline": 0.0,
    "minilm.title_headline": 0.0,
    "lexical": 23.32,
    "first_stage": 3.74,
    "feedback_dense": 1.2,
    "relevance": 6.1,
    "country_tie": 0.5,
    "mode": 0.0,
    "languages": 0.0,
    "availability": -0.28,
    "capacity": -1.5,
    "timezone": 0.0,
    "score": 4.82,
}


def _over_committed_candidate(session: Session) -> Any:
    world = build_world(session)
    world.proposal.explanation = OVER_COMMITTED
    world.proposal.score = 8.4
    world.proposal.components = COMPONENTS
    session.add(world.proposal)
    session.commit()
    return world


def test_the_card_says_the_concerns_and_they_cap_the_label(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _over_committed_candidate(session)
    card = review_page(coordinator_browser(session, make_client, world), world).select_one(
        f"#candidate-{world.proposal.id}"
    )
    assert card is not None
    concerns = [text_of(li) for li in card.select("[data-concerns] li")]
    assert concerns == [
        "Already committed 5 h/week of the 2.8 declared",
        "Available 34 of the 78 days the need may run (Feb 24, 2027 – Mar 29, 2027)",
    ]
    # Said once: not again among the reasons.
    reasons = [text_of(li) for li in card.select("[data-reasons] li")]
    assert (
        reasons[0]
        == "Covers 2 of 2 skills asked: épidémiologie, biostatistique (close match: bioestadística)"
    )
    assert not set(concerns) & set(reasons)
    badge = card.select_one("[data-match]")
    assert badge is not None and badge["data-match"] == "fair"


def test_the_side_by_side_table_shows_the_same_concerns(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _over_committed_candidate(session)
    other = make_expert(session, display_name="Ines Mansouri إيناس")
    make_proposal(session, need=world.need, expert=other, rank=2, score=3.1, explanation={})
    session.commit()
    browser = coordinator_browser(session, make_client, world, locale="fr")
    page = soup_of(
        browser.get(
            f"/coordinator/needs/{world.need.id}/compare?expert={world.expert.id}&expert={other.id}"
        )
    )
    columns = [th["data-compare-expert"] for th in page.select("th[data-compare-expert]")]
    cells = page.select("tr[data-row=concerns] td")
    # The other candidate reads as a good match (no concern), so is read first.
    assert columns == [str(other.id), str(world.expert.id)]
    assert text_of(cells[0]) == "—"
    cell = cells[1]
    card = review_page(browser, world).select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    on_card = [text_of(li) for li in card.select("[data-concerns] li")]
    assert on_card[0].startswith("Déjà engagé")
    assert [s.strip() for s in cell.get_text("\n").split("\n") if s.strip()] == on_card


def test_how_the_rank_was_made_is_told_in_words_not_figures(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _over_committed_candidate(session)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    card = review_page(browser, world).select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    details = card.select_one("details[data-matcher-details]")
    assert details is not None
    assert text_of(details.summary) == "Comment ce rang a été établi"
    assert [text_of(li) for li in details.select("[data-rank-summary] li")] == [
        "Le profil est bien plus proche du besoin que presque tout le répertoire",
        "Classé plus bas pour : heures déjà promises, dates pas toutes libres",
        "Classé plus haut pour : liens avec le pays du besoin",
    ]
    text = details.get_text(" ")
    assert "use.document" not in text and "lexical" not in text and "23,32" not in text


def test_every_constraint_met_reads_as_met(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.components = {"use.document": 0.4, "relevance": 3.2, "mode": 0.0}
    session.add(world.proposal)
    session.commit()
    browser = coordinator_browser(session, make_client, world, locale="es")
    card = review_page(browser, world).select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    assert [text_of(li) for li in card.select("[data-rank-summary] li")] == [
        "El perfil está claramente más cerca de la necesidad que la mayoría del registro",
        "Idiomas, modalidad, fechas, horas y zona horaria: todo se cumple",
    ]


def test_staff_read_the_raw_figures_in_the_json_api(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _over_committed_candidate(session)
    browser = coordinator_browser(session, make_client, world)
    items = browser.get(f"/api/proposals?need_id={world.need.id}").json()["items"]
    assert items[0]["components"]["lexical"] == 23.32
