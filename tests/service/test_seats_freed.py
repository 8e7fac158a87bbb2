"""A need filled by its confirmed experts opens again when one of them is cancelled, while its
dates allow: experts are proposed again, and its institution and coordinator are told how many
of the experts it asked for are still confirmed. A need whose dates are over stays filled."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import expert_user, move
from service.core.jobs import need_rematch_key
from service.models import (
    AuditEvent,
    Engagement,
    InstitutionMember,
    Job,
    Need,
    Notification,
    OutgoingEmail,
    Role,
    User,
)
from service.models.types import utcnow
from tests.factories import make_expert, make_need, make_user
from tests.service.worlds import World, bearer, build_world, offer

TITLE = "Former les internes à la surveillance épidémiologique — الترصد الوبائي (Thiès)"


def confirmed_expert(
    session: Session, world: World, settings: Settings, need: Need, name: str
) -> Engagement:
    """Offers a need to a new expert, who accepts; its institution confirms them."""
    user = make_user(session, role=Role.EXPERT, locale="fr")
    expert = make_expert(session, user=user, display_name=name)
    engagement = offer(session, world, settings, need, expert=expert)
    move(session, engagement=engagement, actor=user, action="accept", settings=settings)
    move(session, engagement=engagement, actor=world.member, action="confirm", settings=settings)
    session.commit()
    return engagement


def second_member(session: Session, world: World, *, locale: str) -> User:
    """Another member of the world's institution, reading in `locale`."""
    user = make_user(session, role=Role.INSTITUTION, locale=locale)
    session.add(InstitutionMember(institution_id=world.institution.id or 0, user_id=user.id or 0))
    session.commit()
    return user


def team_filled(
    session: Session, world: World, settings: Settings, **fields: object
) -> tuple[Need, list[Engagement]]:
    """A need for two experts, filled by Dr Modou Mbaye and Dr Awa Ndiaye."""
    need = make_need(
        session, institution=world.institution, title=TITLE, experts_wanted=2, **fields
    )
    engagements = [
        confirmed_expert(session, world, settings, need, name)
        for name in ("Dr Modou Mbaye", "Dr Awa Ndiaye")
    ]
    session.refresh(need)
    assert need.status == "filled"
    return need, engagements


def told(session: Session, need: Need) -> dict[int, Notification]:
    """The notifications that the need is open again, by recipient."""
    rows = session.exec(select(Notification).where(col(Notification.kind) == "need.reopened"))
    found = {row.user_id: row for row in rows if str(need.id) in row.link}
    return found


def test_an_institution_cancelling_a_confirmed_expert_opens_its_filled_need_again(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    colleague = second_member(session, world, locale="fr")
    need, (modou, awa) = team_filled(session, world, settings)
    session.execute(delete(Job))
    session.commit()

    response = client.post(
        f"/api/engagements/{modou.id}/cancel",
        json={"reason": "Le Dr Mbaye a été affecté à l'hôpital de Ziguinchor."},
        headers=bearer(session, world.member),
    )

    assert response.status_code == 200, response.text
    session.expire_all()
    need = session.get(Need, need.id)  # type: ignore[assignment]
    assert need.status == "open"
    assert session.get(Engagement, awa.id).status == "confirmed"  # type: ignore[union-attr]
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "need", AuditEvent.action == "need.reopened"
        )
    ).one()
    assert (event.from_state, event.to_state, event.actor_id) == ("filled", "open", world.member.id)
    assert event.data == {"engagement_id": modou.id, "confirmed": 1, "wanted": 2}
    # Experts are ranked for it again, through the change pipeline.
    job = session.exec(select(Job).where(Job.key == need_rematch_key(need.id or 0))).one()
    assert job.status == "pending"
    # The coordinator who approved the offer and the institution's members (the one who
    # cancelled included) are told, each in their language, in the app and by email.
    notes = told(session, need)
    assert set(notes) == {world.coordinator.id, colleague.id, world.member.id}
    assert notes[world.coordinator.id].link == f"/coordinator/needs/{need.id}"
    assert notes[world.coordinator.id].body.endswith("Experts confirmed: 1 of 2.")
    assert notes[colleague.id].link == f"/institution/needs/{need.id}"
    assert notes[colleague.id].title == f"Un besoin est de nouveau ouvert : {TITLE}"
    assert notes[colleague.id].body.endswith("Experts confirmés : 1 sur 2.")
    emails = session.exec(
        select(OutgoingEmail).where(col(OutgoingEmail.kind) == "need.reopened")
    ).all()
    assert {email.to_address for email in emails} == {
        world.coordinator.email,
        colleague.email,
        world.member.email,
    }


def test_a_coordinator_cancelling_a_started_engagement_tells_the_institution(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    need, (modou, _) = team_filled(session, world, settings)
    expert = expert_user(session, modou)
    assert expert is not None
    move(session, engagement=modou, actor=expert, action="start", settings=settings)
    session.commit()

    response = client.post(
        f"/api/engagements/{modou.id}/cancel",
        json={"reason": "Raisons de santé"},
        headers=bearer(session, world.coordinator),
    )

    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.get(Need, need.id).status == "open"  # type: ignore[union-attr]
    assert set(told(session, need)) == {world.member.id, world.coordinator.id}


def test_a_need_whose_dates_are_over_stays_filled(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    today = utcnow().date()
    # The latest start was nine weeks ago, for six weeks of work: it ended three weeks ago.
    need, (modou, _) = team_filled(
        session,
        world,
        settings,
        start_from=today - timedelta(weeks=12),
        start_until=today - timedelta(weeks=9),
        duration_weeks=6,
    )
    assert need.ends_on() == today - timedelta(weeks=3)

    response = client.post(
        f"/api/engagements/{modou.id}/cancel",
        json={"reason": "Annulé"},
        headers=bearer(session, world.member),
    )

    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.get(Need, need.id).status == "filled"  # type: ignore[union-attr]
    assert told(session, need) == {}


def test_a_need_ending_today_still_opens_again(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    today = utcnow().date()
    need, (modou, _) = team_filled(
        session, world, settings, start_from=today - timedelta(weeks=2), duration_weeks=2
    )
    response = client.post(
        f"/api/engagements/{modou.id}/cancel",
        json={"reason": "Annulé"},
        headers=bearer(session, world.coordinator),
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.get(Need, need.id).status == "open"  # type: ignore[union-attr]


def test_a_need_filled_by_hand_with_seats_left_stays_filled(
    session: Session, client: TestClient, settings: Settings
) -> None:
    """The institution said one expert is enough: cancelling them does not undo its choice."""
    world = build_world(session)
    need = make_need(session, institution=world.institution, title=TITLE, experts_wanted=3)
    modou = confirmed_expert(session, world, settings, need, "Dr Modou Mbaye")
    need.status = "filled"
    session.add(need)
    session.commit()
    response = client.post(
        f"/api/engagements/{modou.id}/cancel",
        json={"reason": "Annulé"},
        headers=bearer(session, world.member),
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.get(Need, need.id).status == "filled"  # type: ignore[union-attr]


def test_cancelling_an_offer_not_yet_confirmed_leaves_a_filled_need_filled(
    session: Session, settings: Settings
) -> None:
    """Only a confirmed expert held a seat; a closed need is never opened again this way."""
    world = build_world(session)
    need, (modou, awa) = team_filled(session, world, settings)
    need.status = "closed"
    session.add(need)
    session.commit()
    move(
        session,
        engagement=modou,
        actor=world.coordinator,
        action="cancel",
        reason="Annulé",
        settings=settings,
    )
    session.commit()
    session.refresh(need)
    assert need.status == "closed"


@given(
    wanted=st.integers(min_value=1, max_value=4),
    ended=st.booleans(),
    steps=st.lists(
        st.tuples(st.sampled_from(["confirm", "cancel"]), st.integers(0, 3)), max_size=9
    ),
)
def test_a_need_is_open_exactly_while_seats_are_left_and_its_dates_allow(
    session: Session, settings: Settings, wanted: int, ended: bool, steps: list[tuple[str, int]]
) -> None:
    """Any sequence of confirmations and cancellations: a need is open iff fewer experts are
    confirmed than it asked for and, once filled, its dates were not over."""
    world = build_world(session)
    start = date.today() - timedelta(weeks=20) if ended else date.today() + timedelta(weeks=2)
    need = make_need(
        session,
        institution=world.institution,
        title=TITLE,
        experts_wanted=wanted,
        start_from=start,
        duration_weeks=4,
    )
    confirmed: list[Engagement] = []
    ever_filled = False
    for action, pick in steps:
        if action == "confirm" and need.status == "open":
            confirmed.append(confirmed_expert(session, world, settings, need, f"Expert {pick}"))
        elif action == "cancel" and confirmed:
            engagement = confirmed.pop(pick % len(confirmed))
            move(
                session,
                engagement=engagement,
                actor=world.member,
                action="cancel",
                reason="Annulé",
                settings=settings,
            )
            session.commit()
        session.refresh(need)
        ever_filled = ever_filled or len(confirmed) >= wanted
        seats_left = len(confirmed) < wanted
        expected = "open" if seats_left and not (ended and ever_filled) else "filled"
        assert need.status == expected, (action, len(confirmed), wanted, ended)
