"""An engagement's refused move, said on its page in the reader's language (the date in their
words) from the refusal's catalogue message and values, while the API keeps its English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import Session

from service.config import Settings
from service.core import engagements as core
from service.errors import InvalidTransition
from service.i18n import current_locale, translate_message
from service.models import Engagement
from service.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import make_need
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.pages.html_forms import HtmlForm
from tests.service.worlds import World, bring_to, build_world, offer, token_for

# What each refusal says, written out by hand: the catalogue's words for each reader.
ALREADY_DONE = {
    "fr": "C'était déjà fait : l'engagement est affiché tel qu'il est maintenant.",
    "es": "Ya estaba hecho: el compromiso se muestra tal como está ahora.",
    "ar": "تمّ ذلك من قبل: يظهر الالتزام كما هو الآن.",
}
MOVED_ON = {
    "fr": (
        "Cet engagement a évolué entre-temps, cette étape n'est donc plus possible : "
        "il est affiché tel qu'il est maintenant."
    ),
    "es": (
        "Este compromiso avanzó entretanto, así que ese paso ya no es posible: "
        "se muestra tal como está ahora."
    ),
    "ar": "تغيّر وضع هذا الالتزام في الأثناء، فلم تعد هذه الخطوة ممكنة: يظهر كما هو الآن.",
}
STARTS_ON = {
    "fr": (
        "Cet engagement commence le {day} : il ne peut pas être marqué comme commencé avant "
        "cette date."
    ),
    "es": "Este compromiso empieza el {day}: no puede marcarse como iniciado antes de esa fecha.",
    "ar": "يبدأ هذا الالتزام في {day}: لا يمكن تسجيله كبدأ قبل ذلك التاريخ.",
}
LOCALES = sorted(ALREADY_DONE)


def _speaking(session: Session, world: World, locale: str) -> None:
    world.expert_user.locale = locale
    session.add(world.expert_user)
    session.commit()


def _alert(response: object) -> str:
    return text_of(soup_of(response).select_one("main .form-error"))  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_second_click_on_a_move_already_made_says_so_in_the_readers_language(
    locale: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    _speaking(session, world, locale)
    browser = log_in_as(make_client(), world.expert_user.email)
    accept = HtmlForm.of(
        browser.get(f"/expert/engagements/{engagement.id}"), f"/engagements/{engagement.id}/accept"
    )
    assert accept.submit(browser).status_code == 303

    again = accept.submit(browser)

    assert again.status_code == 409
    assert _alert(again) == ALREADY_DONE[locale]
    page = soup_of(again)
    assert page.select_one("html")["lang"] == locale  # type: ignore[index]
    assert "already" not in _alert(again)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_move_from_a_page_the_engagement_has_left_says_so_in_the_readers_language(
    locale: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = offer(session, world, settings)
    _speaking(session, world, locale)
    browser = log_in_as(make_client(), world.expert_user.email)
    page = browser.get(f"/expert/engagements/{engagement.id}")
    decline = HtmlForm.of(page, f"/engagements/{engagement.id}/decline")
    accept = HtmlForm.of(page, f"/engagements/{engagement.id}/accept")
    decline.type("reason", "Je pars en mission à Saint-Louis jusqu'en mars ; désolée.")
    assert decline.submit(browser).status_code == 303

    stale = accept.submit(browser)

    assert stale.status_code == 409
    assert _alert(stale) == MOVED_ON[locale]
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "declined"  # type: ignore[union-attr]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("days", [1, 40, 400])
def test_starting_before_the_start_date_gives_the_date_in_the_readers_words(
    locale: str,
    days: int,
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    engagement.start_date = utcnow().date()
    session.add(engagement)
    _speaking(session, world, locale)
    browser = log_in_as(make_client(), world.expert_user.email)
    # The page is drawn on the start date (its button is offered only from then on); the
    # other side moves the start later before the expert clicks.
    start = HtmlForm.of(
        browser.get(f"/expert/engagements/{engagement.id}"), f"/engagements/{engagement.id}/start"
    )
    engagement.start_date = utcnow().date() + timedelta(days=days)
    session.add(engagement)
    session.commit()

    refused = start.submit(browser)

    assert refused.status_code == 409
    day = format_date(engagement.start_date, format="medium", locale=locale)
    assert _alert(refused) == STARTS_ON[locale].format(day=day)
    assert engagement.start_date.isoformat() not in _alert(refused)
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "confirmed"  # type: ignore[union-attr]


def test_the_api_keeps_its_english_detail_for_a_reader_of_another_language(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    start = date(2031, 2, 28)
    engagement.start_date = start
    session.add(engagement)
    _speaking(session, world, "ar")
    headers = {"authorization": f"Bearer {token_for(session, world.expert_user)}"}
    moves = f"/api/engagements/{engagement.id}"

    early = client.post(f"{moves}/start", headers=headers)
    assert early.status_code == 409
    assert early.json() == {
        "detail": "This engagement starts on 2031-02-28: it cannot be marked as started before then."
    }
    cancelled = bring_to(
        session, world, settings, "cancelled", make_need(session, institution=world.institution)
    )
    late = client.post(f"/api/engagements/{cancelled.id}/accept", headers=headers)
    assert late.status_code == 409
    assert late.json() == {"detail": "This engagement is cancelled: it cannot move to accepted."}
    accepted = bring_to(
        session, world, settings, "accepted", make_need(session, institution=world.institution)
    )
    twice = client.post(f"/api/engagements/{accepted.id}/accept", headers=headers)
    assert twice.status_code == 409
    assert twice.json() == {"detail": "This engagement is already accepted."}


def test_a_refusal_carries_its_catalogue_message_and_values(
    session: Session, settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    start = date(2027, 1, 15)
    engagement.start_date = start
    with pytest.raises(InvalidTransition) as early:
        core.move(
            session,
            engagement=engagement,
            actor=world.expert_user,
            action="start",
            settings=settings,
            now=utcnow().replace(year=2027, month=1, day=14),
        )
    assert (early.value.message, early.value.params) == (core.NOT_STARTED_YET, {"date": start})
    with pytest.raises(InvalidTransition) as backwards:
        core.move(
            session,
            engagement=engagement,
            actor=world.expert_user,
            action="accept",
            settings=settings,
        )
    assert backwards.value.message == core.MOVED_ON
    assert backwards.value.params == {"status": "confirmed", "target": "accepted"}
    assert str(backwards.value) == "This engagement is confirmed: it cannot move to accepted."


@hypothesis_settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_any_start_date_is_said_in_each_readers_words(day: date) -> None:
    for locale in LOCALES:
        token = current_locale.set(locale)
        try:
            said = translate_message(core.NOT_STARTED_YET, {"date": day})
        finally:
            current_locale.reset(token)
        words = format_date(day, format="medium", locale=locale)
        assert said == STARTS_ON[locale].format(day=words)


FEEDBACK_NOT_OPEN = {
    "fr": "Vous pourrez donner votre avis une fois l'engagement terminé.",
    "es": "Podrá dar su valoración cuando el compromiso esté completado.",
    "ar": "يُتاح التقييم عندما يكتمل الالتزام.",
}
ONLY_STAFF_CANCEL = {
    "fr": "Une fois qu'un engagement a commencé ou pris fin, seul un coordinateur peut l'annuler.",
    "es": "Una vez que un compromiso ha empezado o terminado, solo un coordinador puede cancelarlo.",
    "ar": "بعد أن يبدأ الالتزام أو ينتهي، لا يلغيه إلا منسق.",
}


def _error_page_sentence(response: object) -> str:
    return text_of(soup_of(response).select_one(".error-page > p:not(.error-code):not(.actions)"))  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", LOCALES)
def test_feedback_sent_before_the_engagement_is_completed_is_refused_in_the_readers_language(
    locale: str,
    session: Session,
    make_client: Callable[[], TestClient],
    client: TestClient,
    settings: Settings,
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    _speaking(session, world, locale)
    browser = log_in_as(make_client(), world.expert_user.email)
    feedback = {
        "csrf_token": csrf_token(browser),
        "rating": "5",
        "delivered": "Deux séances de formation à l’analyse de survie, à Thiès",
        "hours": "12",
        "would_repeat": "on",
        "impact": "L’équipe d’épidémiologie relit ses cohortes seule.",
    }

    refused = browser.post(f"/engagements/{engagement.id}/feedback", data=feedback)

    assert refused.status_code == 409
    assert _error_page_sentence(refused) == FEEDBACK_NOT_OPEN[locale]
    api = client.post(
        f"/api/engagements/{engagement.id}/feedback",
        json={"rating": 5, "delivered": "Two sessions", "hours": 12, "would_repeat": True},
        headers={"authorization": f"Bearer {token_for(session, world.expert_user)}"},
    )
    assert api.status_code == 409
    assert api.json() == {
        "detail": "This engagement is confirmed: feedback opens once it is completed."
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_an_institution_cancelling_work_under_way_is_refused_in_the_readers_language(
    locale: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "active")
    world.member.locale = locale
    session.add(world.member)
    session.commit()
    browser = log_in_as(make_client(), world.member.email)

    refused = browser.post(
        f"/engagements/{engagement.id}/cancel",
        data={"csrf_token": csrf_token(browser), "reason": "Le budget de l’hôpital est gelé."},
    )

    assert refused.status_code == 403
    assert _error_page_sentence(refused) == ONLY_STAFF_CANCEL[locale]
    session.expire_all()
    assert session.get(Engagement, engagement.id).status == "active"  # type: ignore[union-attr]


NOT_YOUR_MOVE = {
    "fr": "Vous ne pouvez pas faire cette étape sur cet engagement.",
    "es": "No puede dar este paso en este compromiso.",
    "ar": "لا يمكنك القيام بهذه الخطوة في هذا الالتزام.",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_move_that_is_the_other_sides_is_refused_in_the_readers_language(
    locale: str,
    session: Session,
    make_client: Callable[[], TestClient],
    client: TestClient,
    settings: Settings,
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "accepted")
    _speaking(session, world, locale)
    browser = log_in_as(make_client(), world.expert_user.email)

    # Confirming is the institution's word, not the expert's.
    refused = browser.post(
        f"/engagements/{engagement.id}/confirm", data={"csrf_token": csrf_token(browser)}
    )

    assert refused.status_code == 403
    assert _error_page_sentence(refused) == NOT_YOUR_MOVE[locale]
    api = client.post(
        f"/api/engagements/{engagement.id}/confirm",
        headers={"authorization": f"Bearer {token_for(session, world.expert_user)}"},
    )
    assert api.status_code == 403
    assert api.json() == {"detail": "You may not confirm this engagement."}
