"""Values shown in the reader's language: names of languages and countries, not codes, and
lists joined the way the language joins them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.i18n import UI_LOCALES, timezone_city, timezone_name
from service.models import Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import build_world, offer


def _read_in(session: Session, locale: str, *users: object) -> None:
    for user in users:
        user.locale = locale  # type: ignore[attr-defined]
        session.add(user)
    session.commit()


def test_the_institution_reads_the_experts_languages_and_countries_by_name(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    _read_in(session, "fr", world.member, world.expert_user)
    engagement = offer(session, world, settings)
    post_form(
        log_in_as(make_client(), world.expert_user.email),
        f"/engagements/{engagement.id}/accept",
        {"next": "/expert/proposals"},
    )
    member = log_in_as(make_client(), world.member.email)
    card = soup_of(member.get("/institution/proposals")).select_one(
        f"[data-engagement='{engagement.id}'] .expert .meta"
    )
    assert card is not None
    meta = text_of(card)
    assert "français (langue maternelle)" in meta.lower(), meta
    assert "Sénégal" in meta and "Canada" in meta, meta
    assert "(native)" not in meta and "SN" not in meta.split(), meta


def test_arabic_lists_are_joined_with_the_arabic_comma(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.need.support = ["travel", "stipend"]
    world.need.languages = ["fr", "en"]
    session.add(world.need)
    _read_in(session, "ar", world.expert_user)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    card = soup_of(expert.get("/expert/proposals")).select_one(
        f"[data-engagement='{engagement.id}']"
    )
    assert card is not None
    summary = text_of(card.select_one("[data-need-summary]"))
    assert "، " in summary and ", " not in summary, summary
    reasons = text_of(card.select_one("[data-reasons]"))
    assert ", " not in reasons, reasons


def test_the_expert_home_joins_the_modes_with_the_arabic_comma(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="ar")
    make_expert(session, user=user, modes=["remote", "mission"])
    meta = soup_of(log_in_as(make_client(), user.email).get("/expert")).select_one(
        "[aria-labelledby='summary-heading'] .meta"
    )
    assert meta is not None
    assert "، " in text_of(meta) and ", " not in text_of(meta), text_of(meta)


def test_time_zones_read_as_places_in_the_readers_language(
    client: TestClient, session: Session
) -> None:
    expert = make_expert(session, timezone="Africa/Dakar")
    coordinator = make_user(session, role=Role.COORDINATOR, locale="fr")
    log_in_as(client, coordinator.email)
    page = soup_of(client.get(f"/coordinator/experts/{expert.id}"))
    assert "Africa/Dakar" not in text_of(page.find("main"))
    # The city and its country, not CLDR's "heure : Sénégal" under a label that says it already.
    assert text_of(page.find("dt", string="Fuseau horaire").find_next("dd")) == "Dakar (Sénégal)"


def test_the_time_zone_list_names_cities_in_arabic(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.EXPERT, locale="ar")
    make_expert(session, user=user, timezone="Africa/Dakar")
    log_in_as(client, user.email)
    chosen = soup_of(client.get("/expert/profile")).select_one("#timezone option[selected]")
    assert chosen is not None and text_of(chosen) == "داكار"


def test_a_confirmed_engagement_reads_well_in_arabic(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    _read_in(session, "ar", world.member)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    post_form(expert, f"/engagements/{engagement.id}/accept", {"next": "/expert/proposals"})
    member = log_in_as(make_client(), world.member.email)
    post_form(member, f"/engagements/{engagement.id}/confirm", {"next": "/institution/proposals"})
    page = soup_of(member.get(f"/institution/engagements/{engagement.id}"))
    facts = [text_of(li) for li in page.select("[data-facts] li")]
    asked = next(f for f in facts if "السنغال" in f)
    assert "(SN)" not in asked, facts
    confirmed = facts[0]  # where it stands, since when: a whole Arabic sentence
    assert confirmed.startswith("أكدت المؤسسة الالتزام في"), facts
    assert "-" not in confirmed, confirmed  # a date as Arabic readers write it, not 2026-12-01
    phone = page.select_one("[data-contact] bdi[dir=ltr]")
    assert phone is not None and text_of(phone).startswith("+")


def test_the_queue_filters_agree_with_their_nouns_in_french(
    client: TestClient, session: Session
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR, locale="fr")
    log_in_as(client, coordinator.email)
    page = soup_of(client.get("/coordinator/needs"))
    assert text_of(page.select_one("#queue-country option")) == "Tous les pays"
    assert text_of(page.select_one("#queue-sector option")) == "Tous les secteurs"


def test_what_people_wrote_keeps_its_own_direction_on_arabic_pages(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    # A French description or an English bio, right-aligned with its full stop on the left,
    # read wrong on an Arabic page: each such paragraph takes its direction from its text.
    world = build_world(session)
    world.expert.bio = "Epidemiologist in Montreal; I teach with R."
    session.add(world.expert)
    _read_in(session, "ar", world.member, world.expert_user)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    offer_card = soup_of(expert.get("/expert/proposals")).select_one(
        f"[data-engagement='{engagement.id}']"
    )
    assert offer_card is not None
    description = offer_card.select_one(".need-description")
    assert description is not None and description.get("dir") == "auto"
    post_form(expert, f"/engagements/{engagement.id}/accept", {"next": "/expert/proposals"})
    member = log_in_as(make_client(), world.member.email)
    page = soup_of(member.get("/institution/proposals"))
    assert page.html is not None and page.html.get("dir") == "rtl"
    bio = page.find("p", string=world.expert.bio)
    assert bio is not None and bio.get("dir") == "auto"
    need = soup_of(member.get(f"/institution/needs/{world.need.id}")).select_one("main .prose")
    assert need is not None and need.get("dir") == "auto"


@pytest.mark.parametrize("locale", UI_LOCALES)
def test_a_time_zone_named_after_its_country_says_it_once(locale: str) -> None:
    said = timezone_name("Atlantic/Cape_Verde", locale)
    assert "(" not in said and said == timezone_city("Atlantic/Cape_Verde", locale)
    assert timezone_name("Africa/Dakar", locale).startswith(timezone_city("Africa/Dakar", locale))


def test_confirming_from_the_proposals_list_lands_on_the_engagement(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    _read_in(session, "fr", world.member)
    engagement = offer(session, world, settings)
    expert = log_in_as(make_client(), world.expert_user.email)
    post_form(expert, f"/engagements/{engagement.id}/accept", {"next": "/expert/proposals"})
    member = log_in_as(make_client(), world.member.email)
    member.follow_redirects = False
    answer = post_form(
        member, f"/engagements/{engagement.id}/confirm", {"next": "/institution/proposals"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/institution/engagements/{engagement.id}"
    page = soup_of(member.get(answer.headers["location"]))
    assert page.select_one("[data-contact]") is not None  # the contacts, now exchanged
    assert "L'engagement est confirmé." in text_of(page)
