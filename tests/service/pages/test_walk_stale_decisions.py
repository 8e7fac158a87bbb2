"""A coordinator's decision made from a page another coordinator has overtaken (stop 25 walk)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.core.proposals import approve_proposal
from service.models import Role
from service.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.service.pages.helpers import error_beside, log_in_as, soup_of, text_of
from tests.service.pages.html_forms import HtmlForm
from tests.service.pages.review import coordinator_browser
from tests.service.worlds import bring_to, build_world, offer

HTMX = {"HX-Request": "true"}


def test_an_in_place_approval_another_coordinator_made_first_says_so_in_the_card(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world, locale="fr")
    browser.get(f"/coordinator/needs/{world.need.id}")
    # Another coordinator approves it first.
    other = make_user(session, role=Role.COORDINATOR)
    approve_proposal(session, proposal=world.proposal, coordinator=other, settings=settings)
    session.commit()

    response = browser.post(
        f"/coordinator/proposals/{world.proposal.id}/approve",
        data={"csrf_token": csrf_token(browser)},
        headers=HTMX,
    )

    # Before, htmx got the whole review page with a 409 and swapped nothing: the click
    # seemed to do nothing at all.
    assert response.status_code == 409
    card = soup_of(response).select_one(f"#candidate-{world.proposal.id}")
    assert card is not None and card.name == "li"
    assert text_of(card.select_one("[data-decision-refused]")) == (
        "Cette proposition est déjà approuvée."
    )
    assert card.select_one("form[data-approve]") is None


def test_htmx_swaps_a_refusal_in(session: Session, make_client: Callable[[], TestClient]) -> None:
    world = build_world(session)
    browser = coordinator_browser(session, make_client, world)
    head = soup_of(browser.get(f"/coordinator/needs/{world.need.id}")).select_one(
        "meta[name=htmx-config]"
    )
    assert head is not None and '{"code": "409", "swap": true}' in str(head["content"])


def test_an_expert_answering_from_a_stale_page_or_without_a_reason_reads_why_in_french(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    world.expert_user.locale = "fr"
    session.add(world.expert_user)
    session.commit()
    browser = log_in_as(make_client(), world.expert_user.email)
    page = f"/expert/engagements/{engagement.id}"
    decline = HtmlForm.of(browser.get(page), f"/engagements/{engagement.id}/decline")
    accept = HtmlForm.of(browser.get(page), f"/engagements/{engagement.id}/accept")

    refused = decline.submit(browser)
    # Before, both said it in English on a French page.
    assert refused.status_code == 422
    assert error_beside(refused, f"reason-{engagement.id}-decline") == "Merci d'indiquer un motif."

    decline.type("reason", "Je ne suis pas disponible avant 2028.")
    assert decline.submit(browser).status_code == 303
    stale = accept.submit(browser)
    assert stale.status_code == 409
    alert = text_of(soup_of(stale).select_one("main .form-error"))
    assert alert.startswith("Cet engagement a évolué entre-temps")
    # A second click on the decline that went through: said in French too.
    again = decline.submit(browser)
    assert again.status_code == 409
    assert text_of(soup_of(again).select_one("main .form-error")).startswith("C'était déjà fait")


def test_starting_before_the_start_date_says_the_date_in_the_readers_words(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    engagement.start_date = utcnow().date()
    world.expert_user.locale = "fr"
    session.add_all([engagement, world.expert_user])
    session.commit()
    browser = log_in_as(make_client(), world.expert_user.email)
    # Drawn on the start date, with its button; the start is moved later before the click.
    start = HtmlForm.of(
        browser.get(f"/expert/engagements/{engagement.id}"), f"/engagements/{engagement.id}/start"
    )
    engagement.start_date = utcnow().date() + timedelta(days=40)
    session.add(engagement)
    session.commit()
    refused = start.submit(browser)
    assert refused.status_code == 409
    alert = text_of(soup_of(refused).select_one("main .form-error"))
    day = format_date(engagement.start_date, format="medium", locale="fr")
    assert alert == (
        f"Cet engagement commence le {day} : il ne peut pas être marqué comme commencé avant "
        "cette date."
    )
    assert engagement.start_date.isoformat() not in alert
