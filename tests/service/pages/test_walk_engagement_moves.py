"""An engagement's page offers only the moves that can be made today: before its agreed start
the button to start it gives way to the day it can be; marking it completed asks first, saying
what it records (with the script, in its dialog; without it, on the page); an offer reads as
one received by the expert and one sent to everyone else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Engagement
from service.models.types import utcnow
from tests.factories import make_engagement, make_need
from tests.service.pages.helpers import (
    flash_messages,
    log_in_as,
    post_form,
    sentence_of,
    soup_of,
)
from tests.service.pages.html_forms import HtmlForm
from tests.service.worlds import World, build_world

NEED_TITLE = "Former l'équipe d'épidémiologie à l'analyse de survie"
STARTS_LATER = {
    "fr": "Vous pourrez le marquer comme commencé à partir du {}.",
    "ar": "يمكنكم تعليمه كبدأ ابتداءً من {}.",
}
ENDS_EARLY = {
    "fr": "La fin convenue est le {} : le marquer comme terminé aujourd'hui enregistre que le "
    "travail s'est achevé plus tôt que prévu. Cette action est irréversible.",
    "ar": "تاريخ الانتهاء المتفق عليه هو {}: تعليمه اليوم كمكتمل يسجّل أن العمل انتهى قبل موعده. "
    "لا يمكن التراجع عن ذلك.",
}


def _world(session: Session, locale: str) -> World:
    world = build_world(session)
    world.institution.name = "جامعة تلمسان — Faculté de médecine"
    world.expert.display_name = "Amina Benali"
    for user in (world.member, world.expert_user, world.coordinator):
        user.locale = locale
    session.add_all([world.institution, world.expert, world.member, world.expert_user])
    session.add(world.coordinator)
    session.commit()
    return world


def _engagement(session: Session, world: World, status: str, **fields: object) -> Engagement:
    need = make_need(session, institution=world.institution, title=NEED_TITLE)
    return make_engagement(session, need=need, expert=world.expert, status=status, **fields)


def _stored(session: Session, engagement: Engagement) -> Engagement:
    session.expire_all()
    stored = session.get(Engagement, engagement.id)
    assert stored is not None
    return stored


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_before_its_start_date_the_page_says_from_when_it_can_be_started(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    world = _world(session, locale)
    start = utcnow().date() + timedelta(days=12)
    engagement = _engagement(
        session, world, "confirmed", start_date=start, end_date=start + timedelta(days=45)
    )
    said = STARTS_LATER[locale].format(format_date(start, format="medium", locale=locale))
    for email, base in (
        (world.expert_user.email, "/expert"),
        (world.coordinator.email, "/coordinator"),
    ):
        page = soup_of(log_in_as(make_client(), email).get(f"{base}/engagements/{engagement.id}"))
        assert page.select_one(f"form[action='/engagements/{engagement.id}/start']") is None
        assert sentence_of(page.select_one("[data-actions] [data-move-later='start']")) == said
    # The institution never starts the work: nothing is said to it about starting.
    page = soup_of(
        log_in_as(make_client(), world.member.email).get(
            f"/institution/engagements/{engagement.id}"
        )
    )
    assert page.select_one("[data-move-later]") is None


def test_on_its_start_date_the_button_is_back_and_starts_the_work(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _world(session, "fr")
    engagement = _engagement(session, world, "confirmed", start_date=utcnow().date())
    expert = log_in_as(make_client(), world.expert_user.email)
    page = expert.get(f"/expert/engagements/{engagement.id}")
    assert soup_of(page).select_one("[data-move-later]") is None
    started = HtmlForm.of(page, f"/engagements/{engagement.id}/start").submit(expert)
    assert started.status_code == 303, started.text
    assert _stored(session, engagement).status == "active"


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_marking_completed_asks_first_and_says_the_work_ends_early(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    world = _world(session, locale)
    today = utcnow().date()
    planned = today + timedelta(days=21)
    engagement = _engagement(
        session,
        world,
        "active",
        start_date=today - timedelta(days=30),
        end_date=planned,
        started_at=utcnow() - timedelta(days=30),
    )
    question = ENDS_EARLY[locale].format(format_date(planned, format="medium", locale=locale))
    expert = log_in_as(make_client(), world.expert_user.email)
    page = expert.get(f"/expert/engagements/{engagement.id}")
    button = soup_of(page).select_one(f"form[action='/engagements/{engagement.id}/complete']")
    assert button is not None and button["data-confirm"] == question

    # Without the script the form goes unanswered: the page asks, and nothing is done.
    asked = HtmlForm.of(page, f"/engagements/{engagement.id}/complete").submit(expert)
    assert asked.status_code == 200
    assert _stored(session, engagement).status == "active"
    box = soup_of(asked).select_one("[data-asking='complete']")
    assert box is not None and sentence_of(box.select_one("p")) == question
    done = HtmlForm.of(asked, f"/engagements/{engagement.id}/complete").submit(expert)
    assert done.status_code == 303, done.text
    stored = _stored(session, engagement)
    assert (stored.status, stored.ended_on, stored.end_date) == ("delivered", today, planned)
    assert len(flash_messages(expert.get(done.headers["location"]))) == 1


def test_marking_completed_without_an_agreed_end_says_it_ends_today(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _world(session, "fr")
    engagement = _engagement(
        session,
        world,
        "active",
        start_date=utcnow().date() - timedelta(days=3),
        started_at=utcnow() - timedelta(days=3),
    )
    page = log_in_as(make_client(), world.coordinator.email).get(
        f"/coordinator/engagements/{engagement.id}"
    )
    form = soup_of(page).select_one(f"form[action='/engagements/{engagement.id}/complete']")
    assert form is not None
    today = format_date(utcnow().date(), format="medium", locale="fr")
    assert form["data-confirm"] == (
        "Aucune fin n'a été convenue : le marquer comme terminé enregistre que le travail "
        f"s'est achevé aujourd'hui, le {today}. Cette action est irréversible."
    )


def test_a_stale_unconfirmed_completion_is_refused_with_why_not_asked_again(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session, "fr")
    engagement = _engagement(session, world, "delivered", start_date=utcnow().date())
    expert = log_in_as(make_client(), world.expert_user.email)
    refused = post_form(expert, f"/engagements/{engagement.id}/complete", {"from_status": "active"})
    assert refused.status_code == 409
    assert soup_of(refused).select_one("[data-asking]") is None


@pytest.mark.parametrize(
    ("locale", "to_expert", "to_institution"),
    [
        ("fr", "Offre reçue", "Offre envoyée"),
        ("ar", "عرض وارد", "عرض مُرسَل"),
        ("es", "Oferta recibida", "Oferta enviada"),
        ("pt", "Oferta recebida", "Oferta enviada"),
    ],
)
def test_an_offer_reads_as_received_by_the_expert_and_sent_by_the_others(
    session: Session,
    make_client: Callable[[], TestClient],
    locale: str,
    to_expert: str,
    to_institution: str,
) -> None:
    world = _world(session, locale)
    engagement = _engagement(
        session, world, "offered", offer_expires_at=utcnow() + timedelta(days=9)
    )
    expert = log_in_as(make_client(), world.expert_user.email)
    card = soup_of(expert.get("/expert/proposals")).select_one(
        f"li[data-engagement='{engagement.id}'] .status"
    )
    assert sentence_of(card) == to_expert
    detail = soup_of(expert.get(f"/expert/engagements/{engagement.id}"))
    assert sentence_of(detail.select_one("[data-status]")) == to_expert
    member = log_in_as(make_client(), world.member.email)
    detail = soup_of(member.get(f"/institution/engagements/{engagement.id}"))
    assert sentence_of(detail.select_one("[data-status]")) == to_institution
    # A matcher's proposal keeps its own word: never the same as an offer's.
    assert to_expert != to_institution
