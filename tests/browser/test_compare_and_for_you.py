"""Comparing candidates side by side, "Needs for you" while matching runs, and the skills-gap
rows merged across languages, in a browser, in English, French and Arabic, at 1280 and 390 px.

The data is its own (another institution, its own need and experts), retired afterwards, so
the other journeys' rankings do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from matching.encoders import load_encoder
from service.core.changes import expert_changed
from service.core.needs import express_interest
from service.models import (
    Engagement,
    ExpertProfile,
    MatchProposal,
    Need,
    ProposalOrigin,
    Role,
    SkillVector,
    User,
)
from service.repos.skill_vectors import add_vectors
from tests.browser.conftest import (
    CHROMIUM,
    HOW_TO_RUN,
    LiveSite,
    Visitor,
    _arrange,
    serve_site,
)
from tests.factories import make_expert, make_member, make_need, make_proposal

SKILLS = ["épidémiologie", "biostatistique", "levée de fonds"]


def _explanation(covered: list[str], related: dict[str, str], languages: list[str]) -> dict:
    return {
        "covered_skills": [
            {"required": s, "matched": s, "similarity": 1.0, "how": "exact"} for s in covered
        ],
        "related_skills": [
            {"required": s, "matched": m, "similarity": 0.74, "how": "related"}
            for s, m in related.items()
        ],
        "missing_skills": [s for s in SKILLS if s not in covered],
        "shared_languages": languages,
        "missing_languages": [] if languages else ["fr"],
        "overlap_hours": 5.0,
        "country_tie": bool(languages),
        "facts": {
            "mode_fit": "accepted",
            "need_mode": "remote",
            "expert_modes": ["remote"],
            "free_hours": 3.0,
            "needed_hours": 4,
            "country": "SN",
        },
    }


@dataclass
class Arranged:
    need: int
    experts: list[int]
    emails: dict[str, str]


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """This module's own site: its candidates and needs stay out of the shared journeys' world
    (the full journey expects its expert to rank first)."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(tmp_path_factory.mktemp("compare-site")) as site:
        _arrange(site)
        yield site


@pytest.fixture(scope="module")
def arranged(live_site: LiveSite) -> Iterator[Arranged]:
    """A need with three candidates (one interested, one busy), experts reading each language."""
    with live_site.session() as session:
        _, institution = make_member(session, verified=True, name="Institut Pasteur de Dakar")
        need = make_need(
            session,
            institution=institution,
            title="Renforcer la surveillance épidémiologique",
            required_skills=SKILLS,
        )
        experts = []
        for i, (name, covered, related, languages) in enumerate(
            [
                ("Aminata Touré", SKILLS[:2], {}, ["fr"]),
                ("Ibrahima Diop", SKILLS[:1], {"biostatistique": "statistics"}, ["fr"]),
                ("Jean-Luc Martin", [], {"épidémiologie": "public health"}, []),
            ]
        ):
            expert = make_expert(session, display_name=name, headline="Épidémiologiste")
            make_proposal(
                session,
                need=need,
                expert=expert,
                rank=i + 1,
                score=6.0 - 2 * i,
                explanation=_explanation(covered, related, languages),
            )
            experts.append(expert)
        express_interest(session, need=need, expert=experts[0], actor=None)  # type: ignore[arg-type]
        busy = make_need(session, institution=institution, title="Mission en cours")
        proposal = make_proposal(session, need=busy, expert=experts[1], status="approved")
        session.add(
            Engagement(
                proposal_id=proposal.id or 0,
                need_id=busy.id or 0,
                expert_id=experts[1].id,
                status="active",
                mode="remote",
            )
        )
        # The same skill in three languages, embedded by the phrase model as the worker does.
        asked = ["levée de fonds", "fundraising", "recaudación de fondos", "épidémiologie"]
        for skills in (["fundraising"], ["recaudación de fondos"], ["epidemiology"]):
            make_need(
                session, institution=institution, title="Autre besoin", required_skills=skills
            )
        asked.append("epidemiology")
        phrases = load_encoder("use")
        add_vectors(
            session,
            model=live_site.settings.embedding_model,
            vectors=dict(zip(asked, phrases.encode_phrases(asked), strict=True)),
        )
        session.commit()
        emails = {}
        for locale in ("en", "fr", "ar"):
            emails[f"coordinator-{locale}"] = _user(live_site, f"compare-{locale}", locale)
        arranged = Arranged(need.id or 0, [e.id or 0 for e in experts], emails)
    yield arranged
    with live_site.session() as session:
        for expert_id in arranged.experts:
            expert = session.get(ExpertProfile, expert_id)
            if expert is not None:
                expert.active = False
                session.add(expert)
        for row in session.exec(select(SkillVector)):
            session.delete(row)
        for n in session.exec(select(Need).where(Need.title == "Autre besoin")):
            n.status = "closed"
            session.add(n)
        session.commit()


def _user(site: LiveSite, name: str, locale: str, role: Role = Role.COORDINATOR) -> str:
    email = site.new_user(f"{name}@homeward.test", role)
    with site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        user.locale = locale
        session.add(user)
        session.commit()
    return email


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_ticking_two_candidates_compares_them_in_place(
    live_site: LiveSite, browser: Any, arranged: Arranged, locale: str
) -> None:
    visitor = Visitor(browser, live_site, viewport={"width": 1280, "height": 900})
    visitor.log_in(arranged.emails[f"coordinator-{locale}"])
    page = visitor.page
    page.goto(f"/coordinator/needs/{arranged.need}")
    picks = page.locator("input[data-pick]")
    picks.nth(0).check()
    picks.nth(2).check()
    page.click("[data-compare-button]")
    page.wait_for_selector("#compare-panel table[data-compare-table]")
    assert page.url.endswith(f"/coordinator/needs/{arranged.need}")  # stayed on the review
    heads = page.locator("#compare-panel thead th").all_inner_texts()
    assert "Aminata Touré" in heads[0] and "Jean-Luc Martin" in heads[1]
    assert page.locator("#compare-panel [data-fit=related]").count() == 1
    visitor.screenshot(f"compare-panel-{locale}-1280", full_page=False)
    # One ticked: the message comes in the panel, nothing else changes.
    picks.nth(2).uncheck()
    page.click("[data-compare-button]")
    page.wait_for_selector("#compare-panel [data-compare-error]")
    assert [e for e in visitor.errors if "422" not in e] == []
    visitor.context.close()


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_the_comparison_page_fits_a_phone(
    live_site: LiveSite, browser: Any, arranged: Arranged, locale: str
) -> None:
    for width in (1280, 390):
        visitor = Visitor(browser, live_site, viewport={"width": width, "height": 900})
        visitor.log_in(arranged.emails[f"coordinator-{locale}"])
        page = visitor.page
        query = "&".join(f"expert={e}" for e in arranged.experts)
        page.goto(f"/coordinator/needs/{arranged.need}/compare?{query}")
        assert page.locator("table[data-compare-table] thead th").count() == 3
        _fits(page, width)
        visitor.screenshot(f"compare-page-{locale}-{width}")
        visitor.context.close()


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_an_expert_sees_matching_in_progress_then_needs(
    live_site: LiveSite, browser: Any, arranged: Arranged, locale: str
) -> None:
    email = _user(live_site, f"for-you-{locale}", locale, Role.EXPERT)
    with live_site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        expert = make_expert(session, user=user, display_name=f"Expert {locale}")
        expert_changed(session, expert)  # what a saved profile does: the ranking is queued
        session.commit()
        expert_id = expert.id or 0
    for width in (1280, 390):
        visitor = Visitor(browser, live_site, viewport={"width": width, "height": 900})
        visitor.log_in(email)
        page = visitor.page
        page.goto("/expert")
        assert page.is_visible("[data-matching-in-progress]")
        _fits(page, width)
        visitor.screenshot(f"for-you-pending-{locale}-{width}", full_page=False)
        visitor.context.close()
    with live_site.session() as session:
        need = session.get(Need, arranged.need)
        assert need is not None
        make_proposal(
            session,
            need=need,
            expert=session.get(ExpertProfile, expert_id),
            origin=ProposalOrigin.EXPERT,
            explanation=_explanation(SKILLS[:2], {}, ["fr"]),
        )
        from service.models import Job

        for job in session.exec(select(Job).where(Job.key == f"rematch_expert:{expert_id}")):
            job.status = "done"
            session.add(job)
        session.commit()
    visitor = Visitor(browser, live_site, viewport={"width": 390, "height": 900})
    visitor.log_in(email)
    visitor.page.goto("/expert")
    assert visitor.page.is_visible("section[data-for-you] .need-card [data-reasons]")
    _fits(visitor.page, 390)
    visitor.screenshot(f"for-you-listed-{locale}-390")
    visitor.context.close()
    with live_site.session() as session:
        retired = session.get(ExpertProfile, expert_id)
        assert retired is not None
        retired.active = False
        session.add(retired)
        for proposal in session.exec(
            select(MatchProposal).where(MatchProposal.expert_id == expert_id)
        ):
            session.delete(proposal)
        session.commit()


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_the_skills_gap_shows_one_row_per_skill_across_languages(
    live_site: LiveSite, browser: Any, arranged: Arranged, locale: str
) -> None:
    for width in (1280, 390):
        visitor = Visitor(browser, live_site, viewport={"width": width, "height": 900})
        visitor.log_in(arranged.emails[f"coordinator-{locale}"])
        page = visitor.page
        page.goto("/coordinator/skills-gap")
        variants = page.locator("[data-variants]").all_inner_texts()
        assert any("fundraising" in v or "levée de fonds" in v for v in variants), variants
        _fits(page, width)
        visitor.screenshot(f"skills-gap-{locale}-{width}")
        visitor.context.close()
