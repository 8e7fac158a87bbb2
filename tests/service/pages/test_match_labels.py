"""A candidate's match label agrees with the reasons beside it: one rule (matching.explain's
match_strength, read through reasons.match_band) for the review card, the side-by-side table
and the expert's "Needs for you", so a candidate who covers none of the skills asked is never
called a strong match, whatever the score."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from tests.factories import make_expert, make_institution, make_need, make_proposal, make_user
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.pages.review import coordinator_browser, review_page
from tests.service.worlds import build_world

ULTRASOUND = ["تصوير بالموجات فوق الصوتية", "أشعة", "تدريب فنيي الأشعة", "تصوير الصدر"]
# A radiologist whose profile text reads close to the need but lists none of its skills.
NONE_COVERED: dict[str, Any] = {
    "covered_skills": [],
    "related_skills": [],
    "missing_skills": ULTRASOUND,
    "shared_languages": ["ar"],
    "facts": {"free_hours": 6.0, "needed_hours": 4.0},
}
# A neighbouring field, not the skill: «forensic pathology» is 0.73 from "epidemiology".
ONE_SIMILAR: dict[str, Any] = {
    "covered_skills": [],
    "related_skills": [
        {
            "required": "épidémiologie",
            "matched": "pathologie médico-légale",
            "similarity": 0.73,
            "how": "related",
        }
    ],
    "missing_skills": ["épidémiologie", "biostatistique"],
    "shared_languages": ["fr"],
}
# Dr. Awa Ndiaye's proposal as ranked before the rule was one, with the USE cosines measured:
# «épidémiologie» / "epidemiology" 0.793 (one row of the skills-gap report, so covered now);
# «surveillance épidémiologique» / "disease surveillance" 0.741 (two rows there: still related).
SAME_SKILL_IN_ENGLISH: dict[str, Any] = {
    "covered_skills": [
        {"required": "R", "matched": "R", "similarity": 1.0, "how": "exact"},
    ],
    "related_skills": [
        {
            "required": "épidémiologie",
            "matched": "epidemiology",
            "similarity": 0.793,
            "how": "related",
        },
        {
            "required": "surveillance épidémiologique",
            "matched": "disease surveillance",
            "similarity": 0.741,
            "how": "related",
        },
    ],
    "missing_skills": ["épidémiologie", "surveillance épidémiologique"],
    "shared_languages": ["fr"],
}
ALL_COVERED: dict[str, Any] = {
    "covered_skills": [
        {
            "required": "épidémiologie",
            "matched": "épidémiologie",
            "similarity": 1.0,
            "how": "exact",
        },
        {
            "required": "biostatistique",
            "matched": "biostatistics",
            "similarity": 0.88,
            "how": "semantic",
        },
    ],
    "missing_skills": [],
    "shared_languages": ["fr"],
}


def _label(card: Any) -> tuple[str, str]:
    badge = card.select_one("[data-match]")
    assert badge is not None
    return str(badge["data-match"]), text_of(badge)


def test_a_high_score_covering_none_of_the_skills_asked_is_a_weak_match(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    need = make_need(
        session,
        institution=world.institution,
        title="تدريب فنيي الأشعة على التصوير بالموجات فوق الصوتية",
        required_skills=ULTRASOUND,
        languages=["ar"],
    )
    radiologist = make_expert(session, display_name="إيمان بوزيد", headline="استشارية أشعة")
    proposal = make_proposal(
        session, need=need, expert=radiologist, score=8.4, explanation=NONE_COVERED
    )
    browser = coordinator_browser(session, make_client, world)
    card = soup_of(browser.get(f"/coordinator/needs/{need.id}")).select_one(
        f"#candidate-{proposal.id}"
    )
    assert card is not None
    said = [text_of(li) for li in card.select("[data-reasons] li")]
    assert said[0] == "Covers none of the 4 skills asked"
    assert _label(card) == ("weak", "Weak match")


@pytest.mark.parametrize(
    ("explanation", "score", "band", "words", "first_reason"),
    [
        (ALL_COVERED, 5.5, "strong", "Strong match", "Covers 2 of 2 skills asked"),
        (ONE_SIMILAR, 6.2, "fair", "Fair match", "Covers none of the 2 skills asked"),
    ],
)
def test_the_label_follows_the_skills_the_reasons_count(
    session: Session,
    make_client: Callable[[], TestClient],
    explanation: dict[str, Any],
    score: float,
    band: str,
    words: str,
    first_reason: str,
) -> None:
    world = build_world(session)
    world.proposal.explanation = explanation
    world.proposal.score = score
    session.add(world.proposal)
    session.commit()
    page = review_page(coordinator_browser(session, make_client, world), world)
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    assert _label(card) == (band, words)
    assert text_of(card.select_one("[data-reasons] li")).startswith(first_reason)


def test_a_similar_skill_is_said_not_to_count(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = ONE_SIMILAR
    world.proposal.score = 6.2
    session.add(world.proposal)
    session.commit()
    browser = coordinator_browser(session, make_client, world, locale="fr")
    card = review_page(browser, world).select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    tags = [text_of(t) for t in card.select(".missing-skills .tag")]
    assert tags == [
        "épidémiologie (voisine, non comptée : pathologie médico-légale)",
        "biostatistique",
    ]
    assert _label(card) == ("fair", "Correspondance possible")


def test_the_same_skill_in_another_language_is_covered_as_the_skills_gap_report_merges_it(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = SAME_SKILL_IN_ENGLISH
    world.proposal.score = 6.2
    session.add(world.proposal)
    session.commit()
    card = review_page(coordinator_browser(session, make_client, world), world).select_one(
        f"#candidate-{world.proposal.id}"
    )
    assert card is not None
    assert text_of(card.select_one("[data-reasons] li")) == (
        "Covers 2 of 3 skills asked: R, épidémiologie (close match: epidemiology)"
    )
    assert [text_of(t) for t in card.select(".missing-skills .tag")] == [
        "surveillance épidémiologique (similar, not counted: disease surveillance)"
    ]
    assert _label(card) == ("good", "Good match")


def test_the_side_by_side_table_uses_the_same_label(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = ALL_COVERED
    world.proposal.score = 5.5
    session.add(world.proposal)
    weak = make_expert(session, display_name="Binta Sow")
    make_proposal(
        session,
        need=world.need,
        expert=weak,
        rank=2,
        score=9.1,
        explanation={**NONE_COVERED, "missing_skills": ["épidémiologie", "biostatistique"]},
    )
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    page = soup_of(
        browser.get(
            f"/coordinator/needs/{world.need.id}/compare?expert={world.expert.id}&expert={weak.id}"
        )
    )
    # The strong match is read first, although the weak one scored higher: labels never go up
    # as the rank goes down.
    cells = page.select("tr[data-row=match] td")
    assert [_label(td) for td in cells] == [("strong", "Strong match"), ("weak", "Weak match")]
    # The review card of the same candidate says the same, in the same order.
    cards = review_page(browser, world).select("[data-proposal]")
    assert [_label(c)[0] for c in cards] == ["strong", "weak"]


def test_the_experts_needs_for_you_use_the_same_label(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    user = make_user(session, role=Role.EXPERT)
    expert = make_expert(session, user=user, display_name="Moussa Ndiaye")
    dakar = make_institution(session, name="UCAD", country="SN")
    covered = make_need(session, institution=dakar, title="Surveillance épidémiologique")
    uncovered = make_need(
        session, institution=dakar, title="Échographie", required_skills=["échographie"]
    )
    make_proposal(session, need=covered, expert=expert, score=5.5, explanation=ALL_COVERED)
    make_proposal(
        session,
        need=uncovered,
        expert=expert,
        score=9.1,
        explanation={"covered_skills": [], "missing_skills": ["échographie"]},
    )
    box = soup_of(log_in_as(make_client(), user.email).get("/expert")).select_one(
        "section[data-for-you]"
    )
    assert box is not None
    cards = {text_of(c.h3): c for c in box.select(".need-card")}
    assert _label(cards["Échographie"]) == ("weak", "Weak match")
    assert text_of(cards["Échographie"].select_one("[data-reasons] li")) == (
        "Covers none of the 1 skill asked"
    )
    assert _label(cards["Surveillance épidémiologique"]) == ("strong", "Strong match")
    # Read strongest first, though the weak one scored higher.
    assert list(cards) == ["Surveillance épidémiologique", "Échographie"]


@pytest.mark.parametrize(
    ("locale", "one_of_one", "none_of_one"),
    [
        ("en", "Covers 1 of 1 skill asked: épidémiologie", "Covers none of the 1 skill asked"),
        (
            "fr",
            "Couvre 1 sur 1 compétence demandée : épidémiologie",
            "Ne couvre pas la compétence demandée (1)",
        ),
        (
            "ar",
            "يغطي \u20681\u2069 من مهارة واحدة (\u20681\u2069) مطلوبة: \u2068épidémiologie\u2069",
            "لا يغطي المهارة المطلوبة الوحيدة (\u20681\u2069)",
        ),
    ],
)
def test_one_skill_asked_is_said_in_the_singular(
    session: Session,
    make_client: Callable[[], TestClient],
    locale: str,
    one_of_one: str,
    none_of_one: str,
) -> None:
    world = build_world(session)
    need = make_need(session, institution=world.institution, required_skills=["épidémiologie"])
    covers = make_proposal(
        session,
        need=need,
        expert=world.expert,
        explanation={
            "covered_skills": [
                {"required": "épidémiologie", "matched": "épidémiologie", "how": "exact"}
            ],
            "missing_skills": [],
        },
    )
    other = make_expert(session, display_name="Binta Sow")
    misses = make_proposal(
        session,
        need=need,
        expert=other,
        rank=2,
        explanation={"covered_skills": [], "missing_skills": ["épidémiologie"]},
    )
    browser = coordinator_browser(session, make_client, world, locale=locale)
    page = soup_of(browser.get(f"/coordinator/needs/{need.id}"))

    def first_reason(proposal_id: int | None) -> str:
        return text_of(page.select_one(f"#candidate-{proposal_id} [data-reasons] li"))

    assert first_reason(covers.id) == one_of_one
    assert first_reason(misses.id) == none_of_one
