"""Approving past what a need wants, or for an expert whose hours are all promised, stays the
coordinator's decision: the review page says so before, and the flash after."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_expert, make_proposal
from tests.service.pages.helpers import flash_messages, post_form, soup_of, text_of
from tests.service.pages.review import coordinator_browser, post_in_place, review_page
from tests.service.pages.test_review_concerns import OVER_COMMITTED
from tests.service.worlds import build_world


def test_a_second_offer_for_a_need_that_wants_one_is_warned_before_and_after(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    second = make_expert(session, display_name="Ines Mansouri إيناس")
    other = make_proposal(session, need=world.need, expert=second, rank=2, score=0.7)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    assert review_page(browser, world).select_one("[data-seats-warning]") is None
    post_form(browser, f"/coordinator/proposals/{world.proposal.id}/approve", {})
    # One offer out for a need that wants one expert: the page says so before deciding.
    page = review_page(browser, world)
    warning = page.select_one("[data-seats-warning]")
    assert warning is not None
    assert text_of(warning).startswith(
        "This need wants 1 expert. 1 offer for it is already out. Approving makes one more"
    )
    button = page.select_one(f"#candidate-{other.id} [data-approve] button")
    assert button is not None and "seats-warning" in str(button.get("aria-describedby"))
    # The decision stays the coordinator's, and the flash counts the offer just made.
    response = post_form(browser, f"/coordinator/proposals/{other.id}/approve", {})
    assert response.status_code == 303
    messages = flash_messages(browser.get(response.headers["location"]))
    assert messages[0] == "Proposal approved: the expert is offered the engagement."
    assert messages[1].startswith("This need wants 1 expert. 2 offers for it are out now.")


def test_the_warning_speaks_arabic_with_its_plural_forms(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.need.experts_wanted = 2
    session.add(world.need)
    for rank, name in enumerate(["Awa Diop", "عمر الفاروق"], start=2):
        proposal = make_proposal(
            session, need=world.need, expert=make_expert(session, display_name=name), rank=rank
        )
        session.commit()
        browser = coordinator_browser(session, make_client, world, locale="ar")
        post_form(browser, f"/coordinator/proposals/{proposal.id}/approve", {})
    warning = review_page(browser, world).select_one("[data-seats-warning]")
    assert warning is not None
    assert text_of(warning).startswith(
        "تطلب هذه الحاجة خبيرين. قُدِّم لها عرضان بالفعل. الموافقة تضيف عرضًا آخر"
    )


def test_an_over_committed_expert_is_said_beside_the_approve_button(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    world.proposal.explanation = OVER_COMMITTED
    session.add(world.proposal)
    session.commit()
    page = review_page(coordinator_browser(session, make_client, world), world)
    card = page.select_one(f"#candidate-{world.proposal.id}")
    assert card is not None
    note = card.select_one("[data-over-committed]")
    assert note is not None
    assert text_of(note) == (
        "Already committed 5 h/week of the 2.8 declared. "
        "Approving promises hours this expert no longer has free."
    )
    button = card.select_one("[data-approve] button")
    assert (
        button is not None and button["aria-describedby"] == f"over-committed-{world.proposal.id}"
    )
    # A need with no offer out yet is not warned about.
    assert page.select_one("[data-seats-warning]") is None


def test_approving_in_place_says_the_offers_out_on_the_card(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    other = make_proposal(
        session, need=world.need, expert=make_expert(session, display_name="Awa Diop"), rank=2
    )
    session.commit()
    browser = coordinator_browser(session, make_client, world, locale="fr")
    post_form(browser, f"/coordinator/proposals/{world.proposal.id}/approve", {})
    page = review_page(browser, world)
    response = post_in_place(browser, f"/coordinator/proposals/{other.id}/approve", page, {})
    assert response.status_code == 200
    warning = soup_of(response).select_one(f"#candidate-{other.id} [data-seats-warning]")
    assert warning is not None
    assert text_of(warning) == (
        "Ce besoin demande 1 expert. 2 offres sont maintenant faites pour ce besoin. Une fois le "
        "besoin pourvu, les offres encore en attente sont retirées et leurs experts en sont "
        "informés."
    )
