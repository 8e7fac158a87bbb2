"""What new users met walking a fresh demo world (session 27): words that said something
other than what happened, and facts shown that nobody gave."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.i18n import fold
from service.middleware import LOCALE_COOKIE
from service.models import Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import bring_to, build_world


def test_feedback_left_without_hours_does_not_say_zero_hours_contributed(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    engagement = bring_to(session, world, settings, "completed")
    browser = log_in_as(make_client(), world.member.email)
    sent = post_form(
        browser,
        f"/engagements/{engagement.id}/feedback",
        {"rating": "5", "delivered": "", "hours": "", "would_repeat": "on", "impact": "Réussi."},
    )
    assert sent.status_code == 303
    card = soup_of(browser.get(f"/institution/engagements/{engagement.id}")).select_one(
        "div[data-feedback=institution]"
    )
    assert [text_of(li) for li in card.select("li")] == [  # type: ignore[union-attr]
        "Rated 5 out of 5.",
        "Would do it again.",
        "Impact: Réussi.",
    ]


@pytest.mark.parametrize(
    ("locale", "word"),
    [("en", "View"), ("fr", "Voir"), ("es", "Ver"), ("ar", "عرض"), ("pt", "Ver")],
)
def test_a_notification_is_opened_by_a_verb_not_the_open_status_of_a_need(
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
    locale: str,
    word: str,
) -> None:
    world = build_world(session)
    bring_to(session, world, settings, "offered")
    world.expert_user.locale = locale
    session.add(world.expert_user)
    session.commit()
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get("/notifications"))
    buttons = page.select("[data-notification] form button")
    assert buttons
    assert {text_of(button) for button in buttons} == {word}


@pytest.mark.parametrize(
    ("locale", "sector", "kind"),
    [
        ("en", "Business", "Company"),
        ("fr", "Affaires", "Entreprise"),
        ("es", "Negocios", "Empresa"),
        ("ar", "الأعمال", "شركة"),
        ("pt", "Negócios", "Empresa"),
    ],
)
def test_the_business_sector_is_not_named_as_a_company(
    session: Session,
    make_client: Callable[[], TestClient],
    locale: str,
    sector: str,
    kind: str,
) -> None:
    """An institution of type "business" is a company; the sector "business" is not one."""
    visitor = make_client()
    visitor.cookies.set(LOCALE_COOKIE, locale)
    register = soup_of(visitor.get("/register/institution"))
    assert text_of(register.select_one("#institution_type option[value=business]")) == kind
    expert = make_user(session, role=Role.EXPERT, locale=locale)
    make_expert(session, user=expert)
    profile = soup_of(log_in_as(make_client(), expert.email).get("/expert/profile"))
    assert text_of(profile.select_one("label[for=sector-business]")) == sector


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_each_time_zone_is_offered_once_in_the_order_of_its_name(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    """Legacy aliases (Europe/Kiev, Asia/Chongqing...) read as their zone's city: offered too,
    they made five "Kyiv" and five "Shanghai", sorted by their ids ("Adak" among the C's)."""
    expert = make_user(session, role=Role.EXPERT, locale=locale)
    make_expert(session, user=expert)
    profile = soup_of(log_in_as(make_client(), expert.email).get("/expert/profile"))
    offered = [option["value"] for option in profile.select("#timezone option")]
    assert "Europe/Kyiv" in offered
    assert "Europe/Kiev" not in offered
    for group in profile.select("#timezone optgroup"):
        names = [text_of(option) for option in group.select("option")]
        assert len(names) == len(set(names)), group["label"]
        assert names == sorted(names, key=fold), group["label"]


def test_the_notifications_heading_says_what_its_number_counts(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    """A bare "Notifications 0" beside the heading left a new user guessing what was counted."""
    world = build_world(session)
    nothing_yet = log_in_as(make_client(), world.member.email)
    assert text_of(soup_of(nothing_yet.get("/notifications")).h1) == "Notifications"
    bring_to(session, world, settings, "offered")
    browser = log_in_as(make_client(), world.expert_user.email)
    heading = soup_of(browser.get("/notifications")).h1
    assert text_of(heading) == "Notifications 1 unread"
    assert heading.select_one(".count-badge [data-unread-count]") is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("form", ["/register/expert", "/register/institution"])
@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "Read the privacy page"),
        ("fr", "Lire la page de confidentialité"),
        ("es", "Leer la página de privacidad"),
        ("ar", "اقرأ صفحة الخصوصية"),
        ("pt", "Ler a página de privacidade"),
    ],
)
def test_the_privacy_consent_links_to_the_page_it_says_was_read(
    make_client: Callable[[], TestClient], form: str, locale: str, words: str
) -> None:
    """The box says "I have read the privacy page"; the page was only in the footer."""
    visitor = make_client()
    visitor.cookies.set(LOCALE_COOKIE, locale)
    page = soup_of(visitor.get(form))
    link = page.select_one("main form a[href='/privacy']")
    assert link is not None
    assert text_of(link) == words
    assert link.get("aria-describedby") is None and link["target"] == "_blank"
