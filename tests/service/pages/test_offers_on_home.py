"""The expert's home counts the offers waiting for their answer, beside the needs still ranked
for them, in their language and its plural forms, and leads to where they answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Need
from tests.factories import make_need
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of
from tests.service.worlds import World, build_world, offer

RANKED = "Surveillance épidémiologique à Saint-Louis — مراقبة وبائية"
OFFERED = [
    "Co-encadrer deux thèses en biostatistique, Université Cheikh Anta Diop",
    "تدريس وحدة علم الأوبئة عن بعد — Faculté de médecine de Dakar",
    "Revisión del plan de vigilancia de la Región de Ziguinchor",
]

# The line the home shows for 1, 2 and 3 offers, in each language the site speaks.
SAID = {
    "en": (
        "You have 1 engagement offer waiting for your answer.",
        "You have 2 engagement offers waiting for your answer.",
        "You have 3 engagement offers waiting for your answer.",
        "Answer my offers",
    ),
    "fr": (
        "Vous avez 1 offre d’engagement qui attend votre réponse.",
        "Vous avez 2 offres d’engagement qui attendent votre réponse.",
        "Vous avez 3 offres d’engagement qui attendent votre réponse.",
        "Répondre à mes offres",
    ),
    "es": (
        "Tiene 1 oferta de colaboración pendiente de su respuesta.",
        "Tiene 2 ofertas de colaboración pendientes de su respuesta.",
        "Tiene 3 ofertas de colaboración pendientes de su respuesta.",
        "Responder a mis ofertas",
    ),
    "pt": (
        "Tem 1 oferta de missão à espera da sua resposta.",
        "Tem 2 ofertas de missão à espera da sua resposta.",
        "Tem 3 ofertas de missão à espera da sua resposta.",
        "Responder às minhas ofertas",
    ),
    "ar": (
        "لديك عرض التزام واحد بانتظار ردك (1).",
        "لديك عرضا التزام بانتظار ردك (2).",
        "لديك 3 عروض التزام بانتظار ردك.",
        "الرد على عروضي",
    ),
}


def _world(session: Session, locale: str) -> tuple[World, list[Need]]:
    world = build_world(session)
    world.need.title = RANKED
    world.expert_user.locale = locale
    session.add(world.need)
    session.add(world.expert_user)
    session.commit()
    others = [make_need(session, institution=world.institution, title=t) for t in OFFERED]
    return world, others


def _home(browser: TestClient) -> tuple[list[str], str, str]:
    """Gets the needs ranked on the home, the offers line and where its link leads."""
    box = soup_of(browser.get("/expert")).select_one("section[data-for-you]")
    assert box is not None
    ranked = [text_of(card.h3) for card in box.select(".need-card")]
    waiting = box.select_one("[data-offers-waiting]")
    if waiting is None:
        return ranked, "", ""
    link = waiting.a
    assert link is not None
    return ranked, text_of(waiting), f"{text_of(link)} -> {link['href']}"


@pytest.mark.parametrize("locale", sorted(SAID))
def test_the_home_counts_the_offers_waiting_beside_the_needs_ranked(
    session: Session, make_client: Callable[[], TestClient], settings: Settings, locale: str
) -> None:
    world, others = _world(session, locale)
    browser = log_in_as(make_client(), world.expert_user.email)
    assert _home(browser) == ([RANKED], "", "")

    one, two, three, answer = SAID[locale]
    link = f"{answer} -> /expert/proposals"
    engagements = []
    for need, said in zip(others, (one, two, three), strict=True):
        engagements.append(offer(session, world, settings, need))
        # Before, the line was shown only once no need was ranked any more.
        assert _home(browser) == ([RANKED], f"{said} {answer}", link)

    # An answered offer no longer waits; the others still do.
    accepted = post_form(browser, f"/engagements/{engagements[0].id}/accept", {})
    assert accepted.status_code == 303
    declined = post_form(
        browser,
        f"/engagements/{engagements[1].id}/decline",
        {"reason": "Déjà engagée à Ziguinchor jusqu'en mars — مشغولة"},
    )
    assert declined.status_code == 303
    assert _home(browser) == ([RANKED], f"{one} {answer}", link)
