"""An institution may not ask for fewer experts than it has confirmed (the form says so beside
the field, in the reader's language and plural, every field kept; the API answers 422 naming
`experts_wanted`); asking for exactly as many fills the need, as the last confirmation would."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import move
from service.models import AuditEvent, Engagement, Need, Notification
from tests.factories import make_need
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.test_seats_freed import TITLE, confirmed_expert
from tests.service.worlds import World, bearer, build_world, offer

START = date.today() + timedelta(days=30)


def need_with(
    session: Session, world: World, settings: Settings, *, wanted: int, confirmed: int
) -> tuple[Need, list[Engagement]]:
    """A need asking for `wanted` experts, `confirmed` of them confirmed."""
    need = make_need(
        session,
        institution=world.institution,
        title=TITLE,
        experts_wanted=wanted,
        start_from=START,
        start_until=START + timedelta(days=30),
    )
    names = ["Dr Modou Mbaye", "Dr Awa Ndiaye", "Mariama Bâ"][:confirmed]
    engagements = [confirmed_expert(session, world, settings, need, name) for name in names]
    session.refresh(need)
    return need, engagements


def body(need: Need, **changes: Any) -> dict[str, Any]:
    """The need as its institution sends it back over the API, with some changes."""
    fields = (
        "title",
        "description",
        "required_skills",
        "sector",
        "mode",
        "duration_weeks",
        "hours_per_week",
        "experts_wanted",
        "languages",
        "city",
        "support",
        "live_sessions",
    )
    data: dict[str, Any] = {name: getattr(need, name) for name in fields}
    data.update(start_from=str(need.start_from), start_until=str(need.start_until))
    data.update(status="open", **changes)
    return data


def form(**changes: object) -> dict[str, object]:
    """What a person types in the need's form."""
    data: dict[str, object] = {
        "title": "Former les internes à la surveillance — nouvelle promotion",
        "description": (
            "Notre faculté cherche des épidémiologistes pour former les internes. "
            "نبحث عن خبراء في علم الأوبئة."
        ),
        "required_skills": "épidémiologie, biostatistique, علم الأوبئة",
        "sector": "health",
        "mode": "hybrid",
        "duration_weeks": "6",
        "hours_per_week": "5",
        "experts_wanted": "1",
        "start_from": START.isoformat(),
        "start_until": (START + timedelta(days=45)).isoformat(),
        "languages": ["fr", "ar", "wo"],
        "city": "Saint-Louis — سان لوي",
        "support": ["stipend", "travel"],
        "live_sessions": "on",
        "status": "open",
    }
    data.update(changes)
    return data


def stored(session: Session, need: Need) -> tuple[str, int, str]:
    """The need's status, experts wanted and title as stored."""
    session.expire_all()
    found = session.get(Need, need.id)
    assert found is not None
    return found.status, found.experts_wanted, found.title


@pytest.mark.parametrize(
    ("locale", "confirmed", "said"),
    [
        ("en", 2, "2 experts are already confirmed for this need; ask for at least 2."),
        ("fr", 2, "2 experts sont déjà confirmés pour ce besoin ; demandez-en au moins 2."),
        ("ar", 2, "خبيران (2) مؤكَّدان بالفعل لهذه الحاجة؛ اطلب 2 على الأقل."),
        ("ar", 3, "3 خبراء مؤكَّدون بالفعل لهذه الحاجة؛ اطلب 3 على الأقل."),
        ("pt", 3, "3 especialistas já estão confirmados para esta necessidade; peça pelo menos 3."),
    ],
)
def test_the_api_refuses_fewer_experts_than_are_confirmed(
    locale: str,
    confirmed: int,
    said: str,
    session: Session,
    client: TestClient,
    settings: Settings,
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=3, confirmed=confirmed)
    status = need.status
    response = client.put(
        f"/api/needs/{need.id}",
        json=body(need, experts_wanted=confirmed - 1, title="Un autre titre"),
        headers={**bearer(session, world.member), "accept-language": locale},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "experts_wanted", "message": said}]
    assert stored(session, need) == (status, 3, TITLE)


def test_the_form_refuses_fewer_experts_than_are_confirmed_and_keeps_what_was_typed(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    world.member.locale = "fr"
    session.add(world.member)
    session.commit()
    need, _ = need_with(session, world, settings, wanted=3, confirmed=2)
    log_in_as(client, world.member.email)
    drawn = soup_of(client.get(f"/institution/needs/{need.id}/edit"))
    seen = drawn.select_one("input[name=updated_at]")
    assert seen is not None
    typed = form(updated_at=seen["value"])

    response = post_form(client, f"/institution/needs/{need.id}/edit", typed)

    assert response.status_code == 422
    page = soup_of(response)
    assert text_of(page.select_one("#experts_wanted-error")) == (
        "2 experts sont déjà confirmés pour ce besoin ; demandez-en au moins 2."
    )
    assert page.select_one("input[name=title]")["value"] == typed["title"]  # type: ignore[index]
    assert text_of(page.select_one("textarea[name=description]")) == typed["description"]
    assert page.select_one("input[name=city]")["value"] == typed["city"]  # type: ignore[index]
    assert page.select_one("input[name=experts_wanted]")["value"] == "1"  # type: ignore[index]
    assert page.select_one("input[name=start_from]")["value"] == START.isoformat()  # type: ignore[index]
    checked = {box["value"] for box in page.select("input[name=support][checked]")}
    assert checked == {"stipend", "travel"}
    assert page.select_one("input[name=live_sessions][checked]") is not None
    assert stored(session, need) == ("open", 3, TITLE)
    # The same form, asking for as many as are confirmed, is saved (its version still holds).
    saved = post_form(client, f"/institution/needs/{need.id}/edit", {**typed, "experts_wanted": 2})
    assert saved.status_code == 303, saved.text
    assert stored(session, need)[:2] == ("filled", 2)


def test_asking_for_as_many_experts_as_are_confirmed_fills_the_need(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=3, confirmed=2)
    waiting = offer(session, world, settings, need)  # the world's expert, offered a seat
    move(session, engagement=waiting, actor=world.expert_user, action="accept", settings=settings)
    session.commit()

    response = client.put(
        f"/api/needs/{need.id}",
        json=body(need, experts_wanted=2),
        headers=bearer(session, world.member),
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "filled"
    assert stored(session, need)[:2] == ("filled", 2)
    # As when the last seat is confirmed: recorded once, the offer still out withdrawn and
    # its expert told.
    withdrawn = session.get(Engagement, waiting.id)
    assert withdrawn is not None
    assert (withdrawn.status, withdrawn.reason) == ("cancelled", "The need was filled.")
    filled = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "need.filled", AuditEvent.entity_id == need.id
        )
    ).all()
    assert len(filled) == 1 and filled[0].data == {"confirmed": 2}
    assert session.exec(
        select(Notification).where(
            col(Notification.kind) == "offer.withdrawn",
            Notification.user_id == world.expert_user.id,
        )
    ).one()


def test_asking_for_more_experts_than_are_confirmed_keeps_the_need_open(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=2, confirmed=1)
    response = client.put(
        f"/api/needs/{need.id}",
        json=body(need, experts_wanted=3),
        headers=bearer(session, world.member),
    )
    assert response.status_code == 200, response.text
    assert stored(session, need)[:2] == ("open", 3)


def test_a_need_with_no_one_confirmed_may_ask_for_one_expert(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=3, confirmed=0)
    response = client.put(
        f"/api/needs/{need.id}",
        json=body(need, experts_wanted=1),
        headers=bearer(session, world.member),
    )
    assert response.status_code == 200, response.text
    assert stored(session, need)[:2] == ("open", 1)
