"""Words that depend on a count or on their sense, as each language says them: a unit agrees with
its number (Arabic's six forms), "To" of an email is not "To" of a period, and Portuguese pages
write numbers, dates and percentages as Portugal and Lusophone Africa do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Role
from tests.factories import make_expert, make_proposal, make_user
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.pages.review import coordinator_browser
from tests.service.worlds import build_world, offer

# (recipient of an email, start and end of a period, state before and after, open a notification)
SENSES = {
    "en": ("To", ("From", "To"), ("From", "To"), "View"),
    "fr": ("Destinataire", ("Du", "Au"), ("Avant", "Après"), "Voir"),
    "es": ("Destinatario", ("Desde", "Hasta"), ("Antes", "Después"), "Ver"),
    "pt": ("Destinatário", ("De", "Até"), ("Antes", "Depois"), "Ver"),
    "ar": ("المرسل إليه", ("من", "إلى"), ("الحالة السابقة", "الحالة الجديدة"), "عرض"),
}


@pytest.mark.parametrize("locale", list(SENSES))
def test_each_sense_of_a_short_word_reads_as_its_own_word(
    locale: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    recipient, (start, end), (before, after), open_it = SENSES[locale]
    world = build_world(session)
    offer(session, world, settings)
    for user in (world.coordinator, world.expert_user):
        user.locale = locale
        session.add(user)
    session.commit()
    staff = log_in_as(make_client(), world.coordinator.email)

    outbox = soup_of(staff.get("/coordinator/outbox"))
    columns = [text_of(th) for th in outbox.select("[data-outbox] thead th")]
    assert columns[1] == recipient, columns
    assert world.expert_user.email in text_of(outbox.select_one("[data-outbox] [data-email]"))

    report = soup_of(staff.get("/coordinator/reports"))
    said = (
        text_of(report.select_one("label[for=from]")),
        text_of(report.select_one("label[for=to]")),
    )
    assert said == (start, end)

    audit = soup_of(staff.get("/coordinator/audit"))
    columns = [text_of(th) for th in audit.select("[data-audit] thead th")]
    assert columns[3:5] == [before, after], columns

    expert = log_in_as(make_client(), world.expert_user.email)
    button = soup_of(expert.get("/notifications")).select_one(
        "[data-notification] button[type=submit]"
    )
    assert text_of(button) == open_it


@pytest.mark.parametrize(
    ("locale", "hours", "said"),
    [
        ("ar", 1, "ساعة واحدة شهريًا"),
        ("ar", 2, "ساعتان شهريًا"),
        ("ar", 3, "3 ساعات شهريًا"),
        ("ar", 11, "11 ساعة شهريًا"),
        ("ar", 100, "100 ساعة شهريًا"),
        ("pt", 1, "1 hora por mês"),
        ("pt", 0, "0 horas por mês"),  # Portugal's "one" is 1 only (Brazil's: 0 and 1)
        ("pt", 12, "12 horas por mês"),
        ("fr", 0, "0 heure par mois"),
        ("es", 1, "1 hora al mes"),
        ("en", 1, "1 hour a month"),
    ],
)
def test_an_experts_hours_agree_with_their_number(
    locale: str, hours: int, said: str, client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT, locale=locale)
    make_expert(session, user=user, hours_per_month=hours, modes=["remote"])
    log_in_as(client, user.email)
    meta = soup_of(client.get("/expert")).select_one("[aria-labelledby='summary-heading'] .meta")
    assert said in text_of(meta), text_of(meta)


# How each language writes a share: 85% / 85 % (a no-break space in French and Spanish).
PERCENT = {
    "en": "Profile complete: {}%",
    "fr": "Profil complet à {}\xa0%",
    "pt": "Perfil completo: {}%",
}


@pytest.mark.parametrize("locale", list(PERCENT))
def test_the_profile_share_is_a_percentage_the_readers_way(
    locale: str, client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT, locale=locale)
    make_expert(session, user=user, modes=["remote"])
    log_in_as(client, user.email)
    page = soup_of(client.get("/expert"))
    meter = page.select_one("#completeness-meter")
    assert meter is not None
    label = page.select_one("label[for=completeness-meter]")
    assert label is not None and label.get_text(strip=True) == PERCENT[locale].format(
        meter["value"]
    )


@pytest.mark.parametrize(
    ("locale", "tag", "templates"),
    [
        ("en", "en", {"one": "{count} selected", "other": "{count} selected"}),
        ("pt", "pt-PT", {"one": "{count} selecionado", "other": "{count} selecionados"}),
        (
            "ar",
            "ar",
            {"one": "اقتراح واحد محدد", "two": "اقتراحان محددان", "few": "{count} اقتراحات محددة"},
        ),
    ],
)
def test_the_count_of_ticked_candidates_has_the_words_of_each_plural_form(
    locale: str,
    tag: str,
    templates: dict[str, str],
    session: Session,
    make_client: Callable[[], TestClient],
) -> None:
    """The script that counts the ticks picks the words by the number's plural category."""
    world = build_world(session)
    make_proposal(session, need=world.need, expert=make_expert(session), rank=2)
    world.coordinator.locale = locale
    session.add(world.coordinator)
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    count = soup_of(browser.get(f"/coordinator/needs/{world.need.id}")).select_one(
        "[data-selected-count]"
    )
    assert count is not None and count["data-plural-locale"] == tag
    assert {c: count.get(f"data-template-{c}") for c in templates} == templates
