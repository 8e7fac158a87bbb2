"""Side-by-side comparison of two or three candidates on a need's review page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from service.core.needs import express_interest
from service.models import Engagement, MatchProposal
from tests.factories import make_expert, make_need, make_proposal
from tests.service.pages.helpers import post_form, soup_of, text_of
from tests.service.pages.review import EXPLANATION, coordinator_browser, post_in_place, review_page
from tests.service.worlds import World, build_world

# The need asks for épidémiologie and biostatistique.
RELATED = {
    "covered_skills": [],
    "related_skills": [
        {"required": "épidémiologie", "matched": "public health", "similarity": 0.74}
    ],
    "missing_skills": ["épidémiologie", "biostatistique"],
    "shared_languages": [],
    "missing_languages": ["fr"],
    "facts": {"free_hours": 10.0, "needed_hours": 4.0},
}
BOTH = {
    "covered_skills": [
        {"required": "épidémiologie", "matched": "épidémiologie", "how": "exact"},
        {"required": "biostatistique", "matched": "biostatistics", "similarity": 0.9},
    ],
    "missing_skills": [],
    "shared_languages": ["fr"],
    "overlap_hours": 2,
    "facts": {"free_hours": 1.0, "needed_hours": 4.0},
}


def _three(session: Session) -> tuple[World, list[MatchProposal]]:
    """The world's candidate (ranked 1) and two more, ranked 2 and 3."""
    world = build_world(session)
    world.proposal.explanation = EXPLANATION
    world.proposal.score = 5.5
    session.add(world.proposal)
    second = make_expert(session, display_name="Binta Sow")
    third = make_expert(session, display_name="Carlos Ruiz")
    proposals = [
        world.proposal,
        make_proposal(session, need=world.need, expert=second, rank=2, score=3.5, explanation=BOTH),
        make_proposal(
            session, need=world.need, expert=third, rank=3, score=1.0, explanation=RELATED
        ),
    ]
    return world, proposals


def _url(world: World, *expert_ids: Any) -> str:
    query = "&".join(f"expert={e}" for e in expert_ids)
    return f"/coordinator/needs/{world.need.id}/compare?{query}"


def test_three_candidates_side_by_side_part_by_part(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, proposals = _three(session)
    second, third = proposals[1].expert_id, proposals[2].expert_id
    express_interest(session, need=world.need, expert=world.expert, actor=world.expert_user)
    engagement_need = make_need(session, institution=world.institution, hours_per_week=6)
    session.add(
        Engagement(
            proposal_id=make_proposal(
                session, need=engagement_need, expert=world.expert, status="approved"
            ).id
            or 0,
            need_id=engagement_need.id or 0,
            expert_id=world.expert.id,
            mode="remote",
            status="active",
        )
    )
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    # Asked in any order, shown in rank order.
    response = browser.get(_url(world, third, world.expert.id, second))
    assert response.status_code == 200
    page = soup_of(response)
    table = page.select_one("table[data-compare-table]")
    assert table is not None
    heads = [text_of(th) for th in table.select("thead th")]
    assert [h.split(" ")[0] for h in heads] == ["1", "2", "3"]
    assert "Awa Diallo" in heads[0] and "Binta Sow" in heads[1] and "Carlos Ruiz" in heads[2]

    def row(name: str) -> list[str]:
        tr = table.select(f"tr[data-row={name}]")
        return [text_of(td) for td in tr[0].select("td")]

    # 5.5 covering 1 of 2 skills is good at most; 3.5 covering both is good; 1.0 with only a
    # similar skill is fair.
    assert row("match") == ["Good match Proposed", "Good match Proposed", "Fair match Proposed"]
    skills = table.select("tr[data-row=skill]")
    assert [text_of(tr.th) for tr in skills] == [
        "Skill asked: épidémiologie",
        "Skill asked: biostatistique",
    ]
    assert [td["data-fit"] for td in skills[0].select("td")] == ["covered", "covered", "related"]
    assert [td["data-fit"] for td in skills[1].select("td")] == ["related", "covered", "missing"]
    assert "Similar, not counted: public health" in text_of(skills[0].select("td")[2])
    assert "(epidemiology)" in text_of(skills[0].select("td")[0])
    assert row("languages")[2] == "Does not speak French"
    assert row("languages")[0].startswith("Speaks French")
    assert row("overlap")[1] == "2 h a day inside the institution's working hours"
    assert row("overlap")[2] == "—"
    assert row("country") == ["Yes (Senegal)", "No", "No"]
    assert row("interested") == ["Yes", "No", "No"]
    assert row("load") == ["1 running engagement (6 h/week)", "No running engagement"] + [
        "No running engagement"
    ]
    assert "Free 1 h/week of the 4 needed" in row("availability")[1]
    approve = [form["action"] for form in table.select("form[data-compare-approve]")]
    assert approve == [f"/coordinator/proposals/{p.id}/approve" for p in proposals]


def test_approving_from_the_comparison_offers_that_candidate(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, proposals = _three(session)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    browser.get(_url(world, proposals[0].expert_id, proposals[1].expert_id))
    response = post_form(browser, f"/coordinator/proposals/{proposals[1].id}/approve", {})
    assert response.status_code == 303
    page = soup_of(browser.get(_url(world, proposals[0].expert_id, proposals[1].expert_id)))
    match_row = [text_of(td) for td in page.select("tr[data-row=match] td")]
    assert match_row[1].endswith("Approved")
    # Decided: no approve button left in that column.
    assert [f["data-compare-approve"] for f in page.select("form[data-compare-approve]")] == [
        str(proposals[0].id)
    ]


def test_ticking_candidates_in_the_bulk_bar_opens_their_comparison(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, proposals = _three(session)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    page = review_page(browser, world)
    button = page.select_one("form[data-bulk] button[value=compare]")
    assert button is not None and text_of(button) == "Compare selected (2–3)"
    response = post_form(
        browser,
        f"/coordinator/needs/{world.need.id}/bulk",
        {"action": "compare", "proposal_ids": [proposals[2].id, proposals[0].id]},
    )
    assert response.status_code == 303
    assert response.headers["location"] == _url(world, world.expert.id, proposals[2].expert_id)
    # With htmx the comparison comes alone, for the panel under the bulk bar.
    fragment = browser.get(response.headers["location"], headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert soup_of(fragment).select_one("html") is None
    assert soup_of(fragment).select_one("table[data-compare-table]") is not None
    # Nothing was decided on the way.
    session.expire_all()
    assert {session.get(MatchProposal, p.id).status for p in proposals} == {"proposed"}  # type: ignore[union-attr]


def test_one_or_four_ticked_is_explained_not_an_error_page(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, proposals = _three(session)
    fourth = make_proposal(session, need=world.need, expert=make_expert(session), rank=4)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    for ticked in ([proposals[0].id], [*(p.id for p in proposals), fourth.id], []):
        response = post_form(
            browser,
            f"/coordinator/needs/{world.need.id}/bulk",
            {"action": "compare", "proposal_ids": ticked},
        )
        assert response.status_code == 422
        error = soup_of(response).select_one("#bulk-error")
        assert text_of(error) == "Tick two or three candidates to compare them."
    response = post_in_place(
        browser,
        f"/coordinator/needs/{world.need.id}/bulk",
        review_page(browser, world),
        {"action": "compare", "proposal_ids": [proposals[0].id]},
    )
    assert response.status_code == 422
    assert soup_of(response).select_one("html") is None
    assert "two or three" in text_of(soup_of(response).select_one("[data-compare-error]"))


def test_an_expert_who_is_not_a_candidate_is_refused(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, proposals = _three(session)
    outsider = make_expert(session, display_name="Not Proposed")
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    response = browser.get(_url(world, proposals[0].expert_id, outsider.id))
    assert response.status_code == 422
    assert "Only this need's candidates" in text_of(soup_of(response).select_one("[role=alert]"))
    assert "Not Proposed" not in response.text
    assert browser.get("/coordinator/needs/999999/compare?expert=1&expert=2").status_code == 404


def test_any_query_is_a_comparison_or_a_clear_message(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world, _ = _three(session)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    url = f"/coordinator/needs/{world.need.id}/compare"

    @settings(max_examples=30, deadline=None)
    @given(
        values=st.lists(
            st.one_of(st.text(max_size=12), st.integers(-5, 10**12).map(str)), max_size=6
        )
    )
    def answers(values: list[str]) -> None:
        response = browser.get(url, params=[("expert", v) for v in values])
        assert response.status_code in (200, 422)
        if response.status_code == 422:
            assert text_of(soup_of(response).select_one("[role=alert]"))

    answers()
