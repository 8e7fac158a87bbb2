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
        "A coordinator has offered you 1 need: it waits for your answer on your offers page.",
        "A coordinator has offered you 2 needs: they wait for your answer on your offers page.",
        "A coordinator has offered you 3 needs: they wait for your answer on your offers page.",
        "Answer my offers",
    ),
    "fr": (
        "Un coordinateur vous a proposé 1 besoin : il attend votre réponse sur votre page d’offres.",
        "Un coordinateur vous a proposé 2 besoins : ils attendent votre réponse sur votre page "
        "d’offres.",
        "Un coordinateur vous a proposé 3 besoins : ils attendent votre réponse sur votre page "
        "d’offres.",
        "Répondre à mes offres",
    ),
    "es": (
        "Un coordinador le ha ofrecido 1 necesidad: espera su respuesta en su página de ofertas.",
        "Un coordinador le ha ofrecido 2 necesidades: esperan su respuesta en su página de "
        "ofertas.",
        "Un coordinador le ha ofrecido 3 necesidades: esperan su respuesta en su página de "
        "ofertas.",
        "Responder a mis ofertas",
    ),
    "pt": (
        "Um coordenador ofereceu-lhe 1 necessidade: aguarda a sua resposta na sua página de "
        "ofertas.",
        "Um coordenador ofereceu-lhe 2 necessidades: aguardam a sua resposta na sua página de "
        "ofertas.",
        "Um coordenador ofereceu-lhe 3 necessidades: aguardam a sua resposta na sua página de "
        "ofertas.",
        "Responder às minhas ofertas",
    ),
    "ar": (
        "عرض عليك منسق احتياجًا واحدًا (1): ينتظر ردك في صفحة عروضك.",
        "عرض عليك منسق احتياجين (2): ينتظران ردك في صفحة عروضك.",
        "عرض عليك منسق 3 احتياجات: تنتظر ردك في صفحة عروضك.",
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
