"""A need that asks for several experts stays open until that many are confirmed; only then are
the other offers withdrawn. Its pages say how many of the experts it asked for are confirmed."""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import expert_user, move
from service.models import Engagement, Need, Notification, Role
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_need, make_user
from tests.service.worlds import World, bearer, build_world, offer


def team_need(session: Session, world: World, settings: Settings) -> tuple[Need, list[Engagement]]:
    """A need for two experts with three offers: Modou and Awa accepted, Fatou not yet."""
    need = make_need(
        session,
        institution=world.institution,
        title="Former les internes à la surveillance épidémiologique (Thiès)",
        experts_wanted=2,
    )
    offers = []
    for name in ("Dr Modou Mbaye", "Dr Awa Ndiaye", "Fatou Sarr"):
        user = make_user(session, role=Role.EXPERT, locale="fr")
        expert = make_expert(session, user=user, display_name=name)
        engagement = offer(session, world, settings, need, expert=expert)
        if name != "Fatou Sarr":
            move(session, engagement=engagement, actor=user, action="accept", settings=settings)
        offers.append(engagement)
    session.commit()
    return need, offers


def statuses(session: Session, engagements: list[Engagement]) -> list[str]:
    """The engagements' states as stored."""
    session.expire_all()
    return [session.get(Engagement, e.id).status for e in engagements]  # type: ignore[union-attr]


def seats_text(browser: TestClient, path: str) -> str:
    """What a need's page says of its confirmed experts."""
    page = BeautifulSoup(browser.get(path).text, "html.parser")
    found = page.select_one("[data-seats]")
    assert found is not None, page.get_text(" ", strip=True)[:500]
    return found.get_text(" ", strip=True)


def test_a_need_for_two_experts_stays_open_after_the_first_confirmation(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, (modou, awa, fatou) = team_need(session, world, settings)
    response = client.post(
        f"/api/engagements/{modou.id}/confirm", headers=bearer(session, world.member)
    )
    assert response.status_code == 200, response.text
    assert statuses(session, [modou, awa, fatou]) == ["confirmed", "accepted", "offered"]
    assert session.get(Need, need.id).status == "open"  # type: ignore[union-attr]
    withdrawn = session.exec(
        select(Notification).where(col(Notification.kind) == "offer.withdrawn")
    ).all()
    assert withdrawn == []
    # The second expert can still be confirmed: that fills the need, and only then is the
    # last open offer withdrawn.
    response = client.post(
        f"/api/engagements/{awa.id}/confirm", headers=bearer(session, world.member)
    )
    assert response.status_code == 200, response.text
    assert statuses(session, [modou, awa, fatou]) == ["confirmed", "confirmed", "cancelled"]
    assert session.get(Need, need.id).status == "filled"  # type: ignore[union-attr]
    assert session.get(Engagement, fatou.id).reason == "The need was filled."  # type: ignore[union-attr]


def test_an_expert_may_still_accept_an_offer_while_seats_are_left(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    _, (modou, _, fatou) = team_need(session, world, settings)
    client.post(f"/api/engagements/{modou.id}/confirm", headers=bearer(session, world.member))
    user = expert_user(session, fatou)
    assert user is not None
    response = client.post(f"/api/engagements/{fatou.id}/accept", headers=bearer(session, user))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"


def test_the_pages_say_how_many_of_the_experts_asked_for_are_confirmed(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    need, (modou, awa, _) = team_need(session, world, settings)
    move(session, engagement=modou, actor=world.member, action="confirm", settings=settings)
    session.commit()
    coordinator = make_client()
    login(coordinator, world.coordinator.email, PASSWORD)
    member = make_client()
    login(member, world.member.email, PASSWORD)
    assert seats_text(coordinator, f"/coordinator/needs/{need.id}") == "1 of 2 experts confirmed"
    assert seats_text(member, f"/institution/needs/{need.id}") == "1 of 2 experts confirmed"
    move(session, engagement=awa, actor=world.member, action="confirm", settings=settings)
    session.commit()
    assert seats_text(coordinator, f"/coordinator/needs/{need.id}") == "2 of 2 experts confirmed"
    page = BeautifulSoup(coordinator.get(f"/coordinator/needs/{need.id}").text, "html.parser")
    history = [li.get_text(" ", strip=True) for li in page.select("[data-history] li")]
    assert sum(h.endswith("Need filled") for h in history) == 1
    assert not any(h.endswith("need.filled") for h in history)
