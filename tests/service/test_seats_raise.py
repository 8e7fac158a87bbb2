"""A filled need whose institution asks for more experts than are confirmed opens again (one
move, recorded), through the form and the API: experts are ranked for it again, and the
coordinators and the institution's other members are told in their language. A need whose
dates are over cannot open again: raising its number is refused beside the field (422 naming
`experts_wanted`), every field kept, nothing saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.jobs import need_rematch_key
from service.core.needs import DATES_OVER
from service.models import AuditEvent, Job, Need, Notification
from service.models.types import utcnow
from tests.factories import make_need
from tests.service.pages.helpers import error_beside, flash_messages, log_in_as, post_form, soup_of
from tests.service.test_seats_edit import body, form, need_with, stored
from tests.service.test_seats_freed import TITLE, confirmed_expert, second_member
from tests.service.worlds import World, bearer, build_world


def _body(need: Need, **changes: Any) -> dict[str, Any]:
    """The need as sent back over the API (its status included), with some changes."""
    return {**body(need), **changes}


def _reopened(session: Session, need: Need) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "need.reopened", AuditEvent.entity_id == need.id
            )
        ).all()
    )


def _told(session: Session) -> dict[int, Notification]:
    rows = session.exec(select(Notification).where(col(Notification.kind) == "need.reopened.more"))
    return {row.user_id: row for row in rows}


def test_the_api_opens_a_filled_need_asked_for_more_experts(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    colleague = second_member(session, world, locale="fr")
    need, _ = need_with(session, world, settings, wanted=2, confirmed=2)
    assert need.status == "filled"
    session.execute(delete(Job))
    session.commit()

    response = client.put(
        f"/api/needs/{need.id}",
        json=_body(need, experts_wanted=3, status="filled"),
        headers=bearer(session, world.member),
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "open"
    assert stored(session, need)[:2] == ("open", 3)
    [event] = _reopened(session, need)
    assert (event.from_state, event.to_state, event.actor_id) == ("filled", "open", world.member.id)
    assert event.data == {"confirmed": 2, "wanted": 3}
    job = session.exec(select(Job).where(Job.key == need_rematch_key(need.id or 0))).one()
    assert job.status == "pending"
    # The coordinator and the other member are told; the member who asked knows.
    notes = _told(session)
    assert set(notes) == {world.coordinator.id, colleague.id}
    assert notes[colleague.id].title == f"Un besoin demande davantage d'experts : {TITLE}"
    assert notes[colleague.id].body.endswith("Experts confirmés : 2 sur 3.")
    assert notes[world.coordinator.id].link == f"/coordinator/needs/{need.id}"


def test_the_form_opens_a_filled_need_asked_for_more_experts(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=1, confirmed=1)
    assert need.status == "filled"
    log_in_as(client, world.member.email)
    drawn = soup_of(client.get(f"/institution/needs/{need.id}/edit"))
    seen = drawn.select_one("input[name=updated_at]")
    assert seen is not None
    hint = drawn.select_one("[data-filled-hint]")
    assert hint is not None and "raise the number of experts wanted" in hint.get_text()
    chosen = drawn.select_one("select[name=status] option[selected]")
    assert chosen is not None and chosen["value"] == "filled"

    saved = post_form(
        client,
        f"/institution/needs/{need.id}/edit",
        form(updated_at=seen["value"], experts_wanted="2", status="filled"),
    )

    assert saved.status_code == 303, saved.text
    assert stored(session, need)[:2] == ("open", 2)
    assert len(_reopened(session, need)) == 1
    page = client.get(saved.headers["location"])
    assert flash_messages(page)[0].startswith("Your need is open again.")
    assert set(_told(session)) == {world.coordinator.id}


def test_raising_with_the_status_set_to_open_is_the_same_move(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=2, confirmed=2)
    response = client.put(
        f"/api/needs/{need.id}",
        json=_body(need, experts_wanted=3, status="open"),
        headers=bearer(session, world.coordinator),
    )
    assert response.status_code == 200, response.text
    assert stored(session, need)[:2] == ("open", 3)
    assert len(_reopened(session, need)) == 1
    # A coordinator raised it: the institution's member is told, not the coordinator.
    assert set(_told(session)) == {world.member.id}


def test_closing_a_filled_need_while_raising_the_number_keeps_it_closed(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, _ = need_with(session, world, settings, wanted=2, confirmed=2)
    response = client.put(
        f"/api/needs/{need.id}",
        json=_body(need, experts_wanted=3, status="closed"),
        headers=bearer(session, world.member),
    )
    assert response.status_code == 200, response.text
    assert stored(session, need)[:2] == ("closed", 3)
    assert _reopened(session, need) == [] and _told(session) == {}


def _ended(session: Session, world: World, settings: Settings) -> Need:
    """A need for one expert, filled, whose work ended three weeks ago."""
    today = utcnow().date()
    need = make_need(
        session,
        institution=world.institution,
        title=TITLE,
        experts_wanted=1,
        start_from=today - timedelta(weeks=12),
        start_until=today - timedelta(weeks=9),
        duration_weeks=6,
    )
    confirmed_expert(session, world, settings, need, "Dr Modou Mbaye")
    session.refresh(need)
    assert need.status == "filled"
    return need


def test_the_api_refuses_more_experts_for_a_need_whose_dates_are_over(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need = _ended(session, world, settings)
    response = client.put(
        f"/api/needs/{need.id}",
        json=_body(need, experts_wanted=2, status="filled", title="Un autre titre"),
        headers={**bearer(session, world.member), "accept-language": "fr"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "experts_wanted"
    assert error["message"].startswith("Les dates de ce besoin sont passées")
    assert stored(session, need) == ("filled", 1, TITLE)
    assert _reopened(session, need) == []
    # With its dates moved later in the same request, it opens again.
    later = utcnow().date() + timedelta(days=14)
    moved = client.put(
        f"/api/needs/{need.id}",
        json=_body(
            need,
            experts_wanted=2,
            status="filled",
            start_from=str(later),
            start_until=str(later + timedelta(days=14)),
        ),
        headers=bearer(session, world.member),
    )
    assert moved.status_code == 200, moved.text
    assert stored(session, need)[:2] == ("open", 2)


def test_the_form_says_why_a_need_whose_dates_are_over_takes_no_more_experts(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need = _ended(session, world, settings)
    log_in_as(client, world.member.email)
    today = utcnow().date()
    typed = form(
        experts_wanted="2",
        status="filled",
        start_from=(today - timedelta(weeks=12)).isoformat(),
        start_until=(today - timedelta(weeks=9)).isoformat(),
    )

    response = post_form(client, f"/institution/needs/{need.id}/edit", typed)

    assert response.status_code == 422
    assert error_beside(response, "experts_wanted") == DATES_OVER
    page = soup_of(response)
    assert page.select_one("input[name=experts_wanted]")["value"] == "2"  # type: ignore[index]
    assert page.select_one("input[name=title]")["value"] == typed["title"]  # type: ignore[index]
    assert stored(session, need) == ("filled", 1, TITLE)
