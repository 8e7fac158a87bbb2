"""The whole core loop in a real browser: an institution posts a need in French, the worker
matches it, a coordinator approves the top proposal, the expert accepts, the institution
confirms and only then sees the expert's contact details.

The live site does not run the worker: the journey runs `Worker(state).tick()` between steps,
on the same database and search index, with the model-free `hashing` encoder (fast; this
journey checks the flow, not match quality).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from service.core.changes import expert_changed
from service.main import build_state
from service.models import Engagement, MatchProposal, Need, Role, User
from service.models.types import utcnow
from service.state import AppState
from service.worker import Worker
from tests.browser.conftest import LiveSite, arranged_site
from tests.browser.test_accessibility import _axe_visitor, _check_page
from tests.factories import make_expert, make_institution, make_user

EXPERT_EMAIL = "kofi.mensah@journey.example"
EXPERT_PHONE = "+33 6 12 34 56 78"
MEMBER_EMAIL = "aissatou.ndiaye@ugb.journey.example"
TITLE = "Former nos ingénieurs à la cybersécurité des réseaux hospitaliers"
DESCRIPTION = (
    "Notre université cherche un expert en cybersécurité pour former à distance nos "
    "ingénieurs réseau : sécurité des réseaux, cryptographie appliquée, réponse aux incidents "
    "informatiques. Huit semaines, en français."
)


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """A site of the journey's own. The worker ranks every expert in the database, and with
    the hashing encoder an expert other tests add (the default epidemiologist) ties with Kofi
    Mensah; ties go to the lower id, so after them the journey's top proposal was theirs."""
    with arranged_site(tmp_path_factory.mktemp("journey-site")) as site:
        yield site


@pytest.fixture
def worker_state(live_site: LiveSite) -> Iterator[AppState]:
    """A worker's view of the live site: same database and index, the hashing encoder."""
    state = build_state(live_site.settings.model_copy(update={"embedding_model": "hashing"}))
    yield state
    state.search.close()
    state.engine.dispose()


def _arrange_people(site: LiveSite) -> None:
    """A verified institution whose member reads French, and an expert who fits the need."""
    with site.session() as session:
        member = make_user(session, role=Role.INSTITUTION, email=MEMBER_EMAIL, locale="fr")
        member.display_name = "Aïssatou Ndiaye"
        session.add(member)
        make_institution(
            session,
            member=member,
            name="Université Gaston Berger",
            country="SN",
            city="Saint-Louis",
            timezone="Africa/Dakar",
        )
        user = make_user(session, role=Role.EXPERT, email=EXPERT_EMAIL)
        expert = make_expert(
            session,
            user=user,
            display_name="Kofi Mensah",
            headline="Ingénieur en cybersécurité, sécurité des réseaux et cryptographie",
            bio=(
                "J'enseigne la cybersécurité et la sécurité des réseaux informatiques; "
                "réponse aux incidents et cryptographie appliquée pour des hôpitaux."
            ),
            skills=["cybersécurité", "sécurité des réseaux", "cryptographie"],
            languages=[{"code": "fr", "level": "native"}, {"code": "en", "level": "fluent"}],
            modes=["remote"],
            available_from=utcnow().date(),
            available_until=utcnow().date() + timedelta(days=365),
            sectors=["technology"],
            phone=EXPERT_PHONE,
        )
        # As if the profile had been saved on the site: it is indexed and re-matched.
        expert_changed(session, expert)
        session.commit()


def _contact_shown(page: Any) -> bool:
    text = page.locator("main").inner_text()
    return page.locator("[data-contact]").count() > 0 or EXPERT_EMAIL in text or "555" in text


def test_need_in_french_to_confirmed_engagement(
    visitor_factory: Any, live_site: LiveSite, worker_state: AppState
) -> None:
    _arrange_people(live_site)
    worker = Worker(worker_state)
    worker.tick()  # the expert's profile is indexed, as it would be long before the need

    # 1. The institution posts a need in French through the form.
    member = visitor_factory(locale="fr-FR")
    page = member.page
    member.log_in(MEMBER_EMAIL)
    page.wait_for_url("**/institution")
    page.click("text=Publier un besoin")
    page.wait_for_url("**/institution/needs/new")
    assert page.locator("h1").inner_text() == "Publier un besoin"
    page.fill("#title", TITLE)
    page.fill("#description", DESCRIPTION)
    page.fill("#required_skills", "cybersécurité, sécurité des réseaux, cryptographie")
    page.select_option("#sector", "technology")
    page.select_option("#mode", "remote")
    page.fill("#duration_weeks", "8")
    page.fill("#hours_per_week", "4")
    page.check("#language-fr")
    page.check("#support-stipend")
    # The preview (htmx, on change) counts the experts who could match, without naming them.
    preview = page.locator("#need-preview [data-preview-count]")
    preview.wait_for()
    assert int(preview.get_attribute("data-preview-count") or 0) >= 1
    assert "pourrai" in preview.inner_text()  # "... pourrai(en)t correspondre à ce besoin"
    assert "Kofi Mensah" not in page.locator("#need-preview").inner_text()
    member.screenshot("journey-1-need-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/institution/needs/\d+$"))
    (published,) = member.flash()
    assert published.startswith("Votre besoin est publié. ")
    need_id = int(page.url.rsplit("/", 1)[1])
    member.screenshot("journey-2-need-posted")

    # 2. The worker indexes the need and the expert and re-matches the need.
    assert worker.tick() > 0
    worker.tick()  # the search outbox drained by the first tick now feeds a fresh re-match
    with live_site.session() as session:
        proposals = list(
            session.exec(
                select(MatchProposal)
                .where(MatchProposal.need_id == need_id, MatchProposal.status == "proposed")
                .order_by(col(MatchProposal.rank))
            )
        )
        expert_user = session.exec(select(User).where(User.email == EXPERT_EMAIL)).one()
    assert proposals, "the worker made no proposal for the need"
    assert proposals[0].rank == 1 and proposals[0].explanation

    # 3. A coordinator reviews the ranked candidates and approves the top one.
    coordinator = _axe_visitor(visitor_factory)
    coordinator.log_in(live_site.coordinator_email)
    problems = _check_page(coordinator, "journey-3-need-review", f"/coordinator/needs/{need_id}")
    assert not problems, "\n".join(problems)
    cards = coordinator.page.locator("ol.candidates > li")
    assert cards.count() == len(proposals)
    top = cards.first
    assert top.get_attribute("data-proposal") == str(proposals[0].id)
    assert "Kofi Mensah" in top.locator("h3").inner_text()
    reasons = top.locator("[data-reasons]").inner_text()
    assert "Speaks French" in reasons and "Works remotely, as asked" in reasons
    assert not top.locator("[data-components]").is_visible()  # behind "Matcher details"
    top.locator("details[data-matcher-details] summary").click()
    assert top.locator("[data-components]").is_visible()
    top.locator("form[data-approve] button").click()
    # Approved in place: the card changes, the page stays where it was.
    approved = coordinator.page.locator(f"#candidate-{proposals[0].id}")
    approved.locator("[data-proposal-status]:has-text('Approved')").wait_for()
    assert coordinator.page.url.endswith(f"/coordinator/needs/{need_id}")
    assert "Proposal approved: the expert is offered the engagement." in approved.inner_text()
    # Further down, the need's history shows the approval too, without a reload (htmx swaps
    # it out of band with the card).
    history = coordinator.page.locator("#need-history")
    history.locator("[data-event]", has_text="Proposal approved").first.wait_for()
    assert coordinator.page.url.endswith(f"/coordinator/needs/{need_id}")
    coordinator.screenshot("journey-4-approved")
    with live_site.session() as session:
        engagement = session.exec(
            select(Engagement).where(Engagement.proposal_id == proposals[0].id)
        ).one()
    engagement_id = engagement.id
    worker.tick()  # notifications, and nothing here may undo the decision

    # The institution sees the offer, but not yet who to write to.
    page.goto(f"/institution/engagements/{engagement_id}")
    assert not _contact_shown(page)
    assert EXPERT_PHONE not in page.content() and EXPERT_EMAIL not in page.content()
    assert page.locator(".help", has_text="coordonnées").count() == 1
    member.screenshot("journey-5-engagement-before-confirmation")

    # 4. The expert sees the offer and accepts it.
    expert = _axe_visitor(visitor_factory)
    expert.log_in(EXPERT_EMAIL)
    problems = _check_page(expert, "journey-6-expert-proposals", "/expert/proposals")
    assert not problems, "\n".join(problems)
    offer = expert.page.locator(f"li[data-engagement='{engagement_id}']")
    assert TITLE in offer.locator("h2").inner_text()
    assert "Université Gaston Berger" in offer.inner_text()
    with expert.page.expect_navigation():
        offer.locator("form.move-accept button").click()
    assert expert.page.url.endswith("/expert/proposals")
    assert expert.flash() == ["You accepted the offer."]
    assert (
        "You accepted; the institution will confirm."
        in expert.page.locator(f"li[data-engagement='{engagement_id}']").inner_text()
    )
    expert.screenshot("journey-7-expert-accepted")

    # Still no contact details for the institution before it confirms.
    page.goto(f"/institution/engagements/{engagement_id}")
    assert not _contact_shown(page)
    assert EXPERT_PHONE not in page.content()

    # 5. The institution confirms.
    page.goto("/institution/proposals")
    card = page.locator(f"li[data-engagement='{engagement_id}']")
    assert "Kofi Mensah" in card.inner_text()
    assert EXPERT_EMAIL not in card.inner_text()
    member.screenshot("journey-8-institution-proposals")
    with page.expect_navigation():
        card.locator("form.move-confirm button").click()
    # It lands on the engagement, where the expert's email and phone now are.
    assert page.url.endswith(f"/institution/engagements/{engagement_id}")
    assert len(member.flash()) == 1

    # 6. Now the institution sees the expert's email and phone.
    contact = page.locator("[data-contact]")
    assert contact.count() == 1
    assert EXPERT_EMAIL in contact.inner_text()
    assert EXPERT_PHONE in contact.inner_text()
    assert page.locator(f"[data-contact] a[href='mailto:{EXPERT_EMAIL}']").count() == 1
    member.screenshot("journey-9-engagement-confirmed")

    with live_site.session() as session:
        confirmed = session.get(Engagement, engagement_id)
        need = session.get(Need, need_id)
    assert confirmed is not None and confirmed.status == "confirmed"
    assert confirmed.expert_id is not None and expert_user.id is not None
    assert need is not None and need.languages == ["fr"]
    assert member.errors == [] and coordinator.errors == [] and expert.errors == []
