"""The coordinator's review page: compact cards with reasons in words, decisions in place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.i18n import current_locale
from service.models.types import utcnow
from service.pages.reasons import reasons
from tests.factories import make_expert, make_member, make_need, make_proposal
from tests.service.pages.helpers import post_form, soup_of, text_of
from tests.service.pages.review import (
    EXPLANATION,
    card_text,
    coordinator_browser,
    post_in_place,
    review_page,
)
from tests.service.worlds import build_world


def test_reasons_are_sentences_in_the_readers_language() -> None:
    token = current_locale.set("fr")
    try:
        said = reasons(EXPLANATION, levels={"fr": "native"})
    finally:
        current_locale.reset(token)
    assert said == [
        "Couvre 1 des 2 compétences demandées : épidémiologie (proche : epidemiology)",
        "Parle français (langue maternelle)",
        "Travaille à distance, comme demandé",
        "Libre 3 h/semaine sur les 4,5 demandées",
        "4,6 h par jour dans les heures de travail de l'institution",
        "Disponible pendant toute la période où le besoin peut se dérouler (1 déc. 2026 – 11 janv. 2027)",
        "Lié au pays : Sénégal",
    ]


def test_a_weak_semantic_match_stored_before_the_threshold_is_not_called_covering(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    weak = {
        "covered_skills": [
            {
                "required": "épidémiologie",
                "matched": "forensic pathology",
                "similarity": 0.73,
                "how": "semantic",
            }
        ],
        "missing_skills": [],
    }
    expert = make_expert(session, display_name="Awa Diop")
    make_proposal(session, need=world.need, expert=expert, explanation=weak, score=0.5)
    browser = coordinator_browser(session, make_client, world)
    page = review_page(browser, world)
    card = next(c for c in page.select("[data-proposal]") if "Awa Diop" in text_of(c))
    said = [text_of(li) for li in card.select("[data-reasons] li")]
    assert said[0] == "Covers none of the 1 skill asked"
    assert not any("forensic" in line for line in said)
    missing = text_of(card.select_one(".missing-skills"))
    assert "épidémiologie (similar, not counted: forensic pathology)" in missing
    # Nothing covered, one similar skill: fair, and never more.
    assert text_of(card.select_one("[data-match]")) == "Fair match"


def test_review_cards_hide_internals_and_keep_decisions_beside_each_candidate(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = EXPLANATION
    world.proposal.components = {"e5.headline": 0.0, "lexical": 20.796, "score": 9.956}
    world.proposal.score = 9.956
    session.add(world.proposal)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    page = review_page(browser, world)
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    # Far closer than the roster (9.956), but 1 of the 2 skills asked: good, not strong.
    assert text_of(card.select_one("[data-match]")) == "Good match"
    assert page.select_one("[data-match-basis]") is not None  # the scale, explained once
    for details in page.select("details"):
        details.extract()
    visible = text_of(page)
    assert "e5.headline" not in visible and "20.796" not in visible and "9.956" not in visible
    assert "Free 3 h/week of the 4.5 needed" in visible
    assert "Works remotely, as asked" in visible
    # The bulk bar comes before the candidates, with select-all and a count.
    bar = page.select_one("form[data-bulk]")
    assert bar is not None and bar.select_one("[data-select-all]") is not None
    assert text_of(bar.select_one("[data-selected-count]")) == "0 selected"
    assert page.decode().index("data-bulk") < page.decode().index(
        f'id="candidate-{world.proposal.id}"'
    )
    reject = card.select_one("form[data-reject] button")
    approve = card.select_one("form[data-approve] button")
    assert reject is not None and "danger" in (reject.get("class") or [])
    assert approve is not None and "danger" not in (approve.get("class") or [])


def test_reject_without_reason_shows_the_error_beside_its_button_and_keeps_the_place(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world)
    pid = world.proposal.id
    page = review_page(browser, world)
    form = page.select_one("form[data-reject]")
    assert form is not None and form["action"].endswith(f"#candidate-{pid}")

    response = post_form(browser, f"/coordinator/proposals/{pid}/reject", {"reason": ""})
    assert response.status_code == 422
    card = soup_of(response).select_one(f"#candidate-{pid}")
    assert card is not None
    error = card.select_one(f"#reason-{pid}-error")
    assert error is not None and "reason" in text_of(error)
    # In place (htmx): only the card comes back, with the error in it.
    response = post_in_place(browser, f"/coordinator/proposals/{pid}/reject", page, {"reason": ""})
    assert response.status_code == 422
    fragment = soup_of(response)
    assert fragment.select_one("html") is None and fragment.select_one(f"#reason-{pid}-error")


def test_approving_in_place_returns_the_card_and_the_history_shows_it(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world)
    pid = world.proposal.id
    response = post_form(browser, f"/coordinator/proposals/{pid}/approve", {})
    assert response.status_code == 303
    assert response.headers["location"] == f"/coordinator/needs/{world.need.id}#candidate-{pid}"
    page = soup_of(browser.get(response.headers["location"]))
    card = page.select_one(f"#candidate-{pid}")
    assert card is not None and text_of(card.select_one("[data-proposal-status]")) == "Approved"
    history = [text_of(li) for li in page.select("[data-history] li")]
    assert any("Proposal approved" in line for line in history)

    other = make_proposal(session, need=world.need, expert=make_expert(session, display_name="B"))
    response = post_in_place(
        browser, f"/coordinator/proposals/{other.id}/reject", page, {"reason": "Too far"}
    )
    assert response.status_code == 200
    fragment = soup_of(response)
    assert fragment.select_one("html") is None
    assert text_of(fragment.select_one("[data-proposal-status]")) == "Rejected"
    assert "Proposal rejected." in text_of(fragment)
    page = review_page(browser, world)
    history = [text_of(li) for li in page.select("[data-history] li")]
    assert any("Proposal rejected" in line and "Too far" in line for line in history)


def test_french_review_page_speaks_french(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = EXPLANATION
    session.add(world.proposal)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    text = card_text(review_page(browser, world), world.proposal.id)
    assert "Parle français (langue maternelle)" in text
    assert "Approuver" in text and "Rejeter" in text
    for english in ("Approve", "Reject", "Covers", "Speaks", "match"):
        assert english not in text


def test_the_queue_is_newest_first_and_can_be_searched_and_filtered(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    now = utcnow()
    _, ghana = make_member(session, name="University of Ghana", country="GH")
    old = make_need(session, institution=world.institution, title="Old need", sector="education")
    old.posted_at = now - timedelta(days=30)
    session.add(old)
    fresh = make_need(session, institution=ghana, title="Fresh water study", sector="health")
    fresh.posted_at = now + timedelta(minutes=1)
    session.add(fresh)
    session.commit()
    browser = coordinator_browser(session, make_client, world)

    def titles(url: str) -> list[str]:
        page = soup_of(browser.get(url))
        return [text_of(row.select_one("a")) for row in page.select("[data-queue] [data-need]")]

    listed = titles("/coordinator/needs")
    assert listed[0] == "Fresh water study" and listed[-1] == "Old need"
    assert titles("/coordinator/needs?order=oldest")[0] == "Old need"
    assert titles("/coordinator/needs?q=WATER") == ["Fresh water study"]
    assert titles("/coordinator/needs?country=GH") == ["Fresh water study"]
    assert titles("/coordinator/needs?sector=education") == ["Old need"]
    # The need with proposals waiting comes last when fewest candidates come first.
    assert titles("/coordinator/needs?order=fewest")[-1] == world.need.title
    # The country filter offers the countries of the needs waiting, not every territory.
    offered = soup_of(browser.get("/coordinator/needs")).select("#queue-country option")
    codes = [option["value"] for option in offered if option["value"]]
    assert sorted(codes) == sorted({"GH", world.institution.country})


def test_the_audit_filter_with_an_empty_id_lists_everything(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world)
    post_form(browser, f"/coordinator/proposals/{world.proposal.id}/approve", {})
    response = browser.get("/coordinator/audit?entity_type=proposal&entity_id=")
    assert response.status_code == 200
    assert soup_of(response).select("[data-audit] [data-event]")


def test_error_pages_speak_the_readers_language(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    response = browser.get("/coordinator/needs/99999")
    assert response.status_code == 404
    assert "Ce besoin n'existe pas." in text_of(soup_of(response).select_one("main"))
    assert "does not exist" not in response.text


def test_arabic_review_page_reads_right_to_left(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world, locale="ar")
    page = review_page(browser, world)
    html = page.select_one("html")
    assert html is not None and html["dir"] == "rtl" and html["lang"] == "ar"
    text = card_text(page, world.proposal.id)
    assert "اعتماد" in text and "رفض" in text
    assert "يتحدث \u2068الفرنسية\u2069" in text  # Latin-safe isolates around values
    assert "Approve" not in text and "Covers" not in text


def test_the_review_page_runs_as_many_queries_for_six_candidates_as_for_one(
    session: Session, engine: Engine, make_client: Callable[[], TestClient]
) -> None:
    # Queries per candidate (N+1) made the page slow at scale: the count must not grow.
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world)
    path = f"/coordinator/needs/{world.need.id}"
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def statements_for_page() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert browser.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    with_one = statements_for_page()
    for rank in range(2, 7):
        expert = make_expert(session, display_name=f"Candidate {rank}")
        make_proposal(session, need=world.need, expert=expert, rank=rank, score=0.5)
    page = soup_of(browser.get(path))
    assert len(page.select("[data-proposal]")) == 6
    assert statements_for_page() == with_one


def test_the_review_page_reads_its_candidates_experts_and_engagements_in_one_query(
    session: Session, engine: Engine, make_client: Callable[[], TestClient]
) -> None:
    # Counted, not timed: the need with its institution, the candidates with their experts and
    # engagements, and the history of the need and its proposals: one statement each.
    world = build_world(session)
    for rank in range(2, 5):
        expert = make_expert(session, display_name=f"Candidate {rank}")
        make_proposal(session, need=world.need, expert=expert, rank=rank, score=0.5)
    browser = coordinator_browser(session, make_client, world)
    path = f"/coordinator/needs/{world.need.id}"
    assert browser.get(path).status_code == 200
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.lower().split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = soup_of(browser.get(path))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.select("[data-proposal]")) == 4

    def reading(table: str) -> list[str]:
        return [s for s in statements if f"from {table} " in s or f"join {table} " in s]

    assert len(reading("need")) == 1
    assert len(reading("matchproposal")) == 1
    # The same statement: the candidates come with their experts and engagements.
    assert reading("matchproposal") == reading("expertprofile") == reading("engagement")
    assert len(reading("auditevent")) == 1


def test_skills_not_found_are_introduced_with_the_readers_punctuation(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    missing = {"covered_skills": [], "missing_skills": ["sémantique", "اللسانيات"]}
    expert = make_expert(session, display_name="Adilson Semedo")
    make_proposal(session, need=world.need, expert=expert, explanation=missing, score=0.5)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    page = review_page(browser, world)
    card = next(c for c in page.select("[data-proposal]") if "Adilson Semedo" in text_of(c))
    # French puts a space before its colon; the colon belongs to the sentence, not the page.
    assert text_of(card.select_one(".missing-skills")) == (
        "Compétences non trouvées : sémantique اللسانيات"
    )


def test_labels_and_values_are_joined_with_the_readers_punctuation(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.need.experts_wanted = 2
    session.add(world.need)
    expert = make_expert(session, display_name="Maria Cristina Mendoza")
    rejected = make_proposal(
        session,
        need=world.need,
        expert=expert,
        score=0.61,
        status="rejected",
        reason="Ne parle pas français — لا تتحدث الفرنسية",
    )
    page = review_page(coordinator_browser(session, make_client, world, locale="fr"), world)
    assert "Nombre d’experts souhaités : 2" in [text_of(p) for p in page.select("details p")]
    card = page.select_one(f"#candidate-{rejected.id}")
    assert card is not None
    lines = [text_of(p) for p in card.select("p")]
    assert "Motif : Ne parle pas français — لا تتحدث الفرنسية" in lines
    assert not any(line.startswith("Score") for line in lines)  # no raw figure on the page
    assert "Ne parle pas français — لا تتحدث الفرنسية" in [text_of(b) for b in card.select("p bdi")]


def test_approving_in_place_sends_the_history_with_the_approval_in_it(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    page = review_page(browser, world)
    before = [text_of(li) for li in page.select("#need-history [data-history] li")]
    assert not any("Proposition approuvée" in line for line in before)
    pid = world.proposal.id

    response = post_in_place(browser, f"/coordinator/proposals/{pid}/approve", page, {})

    assert response.status_code == 200
    fragment = soup_of(response)
    assert fragment.select_one("html") is None
    assert text_of(fragment.select_one(f"#candidate-{pid} [data-proposal-status]")) == "Approuvée"
    # htmx swaps the history in place of the page's own (out of band): no reload needed.
    history = fragment.select_one("#need-history")
    assert history is not None and history.get("hx-swap-oob") == "true"
    lines = [text_of(li) for li in history.select("[data-history] li")]
    assert lines[0].endswith(f"Proposition approuvée (proposition {pid})"), lines
    assert len(lines) == len(before) + 1
    # The page's own history is the same element htmx swaps.
    assert page.select_one("#need-history") is not None


def test_the_folded_explanation_names_skills_without_figures_or_english_codes(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = {
        **EXPLANATION,
        "closest_phrases": [{"text": "Enseigne l'épidémiologie à Dakar", "similarity": 0.8731}],
        "notes": ["speaks none of fr, ar"],
    }
    session.add(world.proposal)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    folded = review_page(browser, world).select_one(
        f"#candidate-{world.proposal.id} [data-matcher-details]"
    )
    assert folded is not None
    said = text_of(folded)
    assert "épidémiologie" in said and "Enseigne l'épidémiologie à Dakar" in said
    assert "0.87" not in said and "speaks none" not in said and "Similarity" not in said
