"""An expert who says "I'm interested" is listed by name on the need's review page, with a link
to their profile and a way to offer them the engagement, even when the matcher does not rank
them; the need's history names them for the coordinator."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import Settings
from service.models import Engagement, MatchProposal, Notification, Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import build_world


def test_an_unranked_interested_expert_is_listed_by_name_and_can_be_offered_the_need(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    fatou_user = make_user(session, role=Role.EXPERT, email="fatou.sarr@universite.example")
    fatou = make_expert(
        session,
        user=fatou_user,
        display_name="Fatou Sarr",
        headline="Professeure des universités, encadrement de thèses",
    )
    expert = log_in_as(make_client(), fatou_user.email)
    assert post_form(expert, f"/expert/needs/{world.need.id}/interest", {}).status_code == 303

    coordinator = log_in_as(make_client(), world.coordinator.email)
    page = soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}"))
    section = page.select_one("[data-interested-experts]")
    assert section is not None
    item = section.select_one(f"[data-interested-expert='{fatou.id}']")
    assert item is not None
    link = item.select_one("a")
    assert link is not None and text_of(link) == "Fatou Sarr"
    assert link["href"] == f"/coordinator/experts/{fatou.id}"
    assert "Not ranked by the matcher" in text_of(item)
    history = [text_of(li) for li in page.select("[data-history] li")]
    assert any("Fatou Sarr said they are interested" in line for line in history), history
    assert not any("An expert said they are interested" in line for line in history)

    response = post_form(
        coordinator, f"/coordinator/needs/{world.need.id}/interested/{fatou.id}", {}
    )
    assert response.status_code == 303, response.text[:1000]
    session.expire_all()
    proposal = session.exec(
        select(MatchProposal).where(
            MatchProposal.need_id == world.need.id, MatchProposal.expert_id == fatou.id
        )
    ).one()
    assert proposal.status == "approved" and proposal.decided_by_id == world.coordinator.id
    engagement = session.exec(select(Engagement).where(Engagement.proposal_id == proposal.id)).one()
    assert engagement.status == "offered"
    offers = session.exec(
        select(Notification).where(
            Notification.user_id == fatou_user.id, Notification.kind == "offer.new"
        )
    ).all()
    assert len(offers) == 1
    # The page now shows her among the proposals, approved, with no second button.
    page = soup_of(coordinator.get(f"/coordinator/needs/{world.need.id}"))
    item = page.select_one(f"[data-interested-expert='{fatou.id}']")
    assert item is not None and item.select_one("form") is None
    assert page.select_one(f"#candidate-{proposal.id}") is not None


def test_an_expert_who_did_not_say_so_cannot_be_offered_through_interest(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    karim = make_expert(session, user=make_user(session), display_name="كريم بن علي")
    coordinator = log_in_as(make_client(), world.coordinator.email)
    response = post_form(
        coordinator, f"/coordinator/needs/{world.need.id}/interested/{karim.id}", {}
    )
    assert response.status_code == 409
    assert "has not said they are interested" in text_of(soup_of(response))
    session.expire_all()
    assert (
        session.exec(select(MatchProposal).where(MatchProposal.expert_id == karim.id)).all() == []
    )


def test_an_institution_member_cannot_offer_through_interest(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    member = log_in_as(make_client(), world.member.email)
    response = post_form(
        member, f"/coordinator/needs/{world.need.id}/interested/{world.expert.id}", {}
    )
    assert response.status_code in (403, 404)
