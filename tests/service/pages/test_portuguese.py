"""Portuguese readers (Lusophone Africa and Portugal) get the site and its emails in Portuguese:
words from the pt catalogue, dates, languages and countries as Portuguese writes them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.i18n import LOCALE_NAMES, UI_LOCALES, negotiate_locale
from service.models import OutgoingEmail, Role
from tests.factories import make_expert, make_user
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.worlds import build_world, offer

NEED_TITLE = "Formação de enfermeiros em cuidados intensivos neonatais"


def test_every_language_an_account_may_choose_is_an_interface_language() -> None:
    assert set(UI_LOCALES) == set(LOCALE_NAMES)
    assert "pt" in UI_LOCALES


@pytest.mark.parametrize(
    "header",
    ["pt-BR,pt;q=0.9,en;q=0.5", "pt-PT", "PT-pt;q=0.8, fr;q=0.5", "pt"],
)
def test_a_browser_asking_for_portuguese_gets_portuguese(client: TestClient, header: str) -> None:
    assert negotiate_locale(None, accept_language=header) == "pt"
    page = soup_of(client.get("/login", headers={"accept-language": header}))
    assert page.html is not None
    # European Portuguese, tagged as BCP 47 writes it (hyphen): screen readers pick its voice.
    assert page.html["lang"] == "pt-PT" and page.html["dir"] == "ltr"
    chosen = page.select_one("#language-select option[selected]")
    assert chosen is not None and chosen["value"] == "pt" and text_of(chosen) == "Português"
    assert chosen["lang"] == "pt-PT"
    assert page.select_one("button[type=submit]") is not None
    assert "Iniciar sessão" in text_of(page.find("main"))


def test_the_language_switcher_offers_portuguese_and_remembers_it(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="en")
    make_expert(session, user=user, display_name="Nélson Cabral")
    log_in_as(client, user.email)
    options = [o["value"] for o in soup_of(client.get("/expert")).select("#language-select option")]
    assert options == ["en", "fr", "es", "pt", "ar"]
    from tests.service.pages.helpers import post_form

    assert post_form(client, "/language", {"locale": "pt", "next": "/expert"}).status_code == 303
    session.refresh(user)
    assert user.locale == "pt"
    home = soup_of(client.get("/expert"))
    assert text_of(home.h1) == "Boas-vindas, Nélson Cabral"


def test_a_portuguese_expert_reads_the_home_in_portuguese(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, role=Role.EXPERT, locale="pt")
    make_expert(
        session, user=user, display_name="Maria da Conceição Lopes", modes=["remote", "mission"]
    )
    log_in_as(client, user.email)
    home = soup_of(client.get("/expert"))
    assert home.html is not None and home.html["lang"] == "pt-PT"
    assert text_of(home.h1) == "Boas-vindas, Maria da Conceição Lopes"
    headings = [text_of(h) for h in home.select("main h2")]
    assert "O seu perfil" in headings and "Para onde ir" in headings, headings
    meta = home.select_one("[aria-labelledby='summary-heading'] .meta")
    assert meta is not None
    assert "À distância, Missão presencial curta" in text_of(meta), text_of(meta)


def test_a_portuguese_expert_reads_an_offer_with_portuguese_dates_and_names(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.need.title = NEED_TITLE
    world.need.languages = ["pt", "fr"]
    world.institution.country = "MZ"
    world.expert_user.locale = "pt"
    for row in (world.need, world.institution, world.expert_user):
        session.add(row)
    session.commit()
    engagement = offer(session, world, settings)
    deadline = engagement.offer_expires_at.date()  # type: ignore[union-attr]
    written = format_date(deadline, format="medium", locale="pt_PT")
    # Portugal's way (17/12/2026), not Brazil's (17 de dez. de 2026) nor Dec 17, 2026.
    assert written == deadline.strftime("%d/%m/%Y")
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get("/expert/proposals"))
    card = page.select_one(f"[data-engagement='{engagement.id}']")
    assert card is not None
    text = text_of(card)
    assert written in text, text
    assert "Moçambique" in text, text
    summary = text_of(card.select_one("[data-need-summary]"))
    assert "português" in summary.lower() and "francês" in summary.lower(), summary
    assert "Portuguese" not in text and "French" not in text, text


def test_the_offer_email_to_a_portuguese_expert_is_in_portuguese(
    session: Session, settings: Settings
) -> None:
    world = build_world(session)
    world.need.title = NEED_TITLE
    world.institution.name = "Hospital Central de Maputo"
    world.expert_user.locale = "pt"
    world.expert_user.display_name = "Joana Mendes"
    for row in (world.need, world.institution, world.expert_user):
        session.add(row)
    session.commit()
    engagement = offer(session, world, settings)
    email = session.exec(
        select(OutgoingEmail)
        .where(OutgoingEmail.to_address == world.expert_user.email)
        .order_by(col(OutgoingEmail.id))
    ).first()
    assert email is not None
    assert email.subject == f"Nova oferta de missão: {NEED_TITLE}"
    deadline = engagement.offer_expires_at.strftime("%d/%m/%Y")  # type: ignore[union-attr]
    assert email.body.startswith("Olá Joana Mendes,"), email.body
    assert (
        f"Um coordenador propõe o seu nome para “{NEED_TITLE}” em Hospital Central de Maputo. "
        f"Aceite ou recuse antes de {deadline}."
    ) in email.body, email.body
    assert "Pode escolher os e-mails que recebe:" in email.body, email.body
    assert "engagement" not in email.body.lower() and "Hello" not in email.body


def test_a_portuguese_member_reads_the_need_page_in_portuguese(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.member.locale = "pt"
    session.add(world.member)
    session.commit()
    browser = log_in_as(make_client(), world.member.email)
    page = soup_of(browser.get(f"/institution/needs/{world.need.id}"))
    main = text_of(page.find("main"))
    posted = world.need.posted_at.strftime("%d/%m/%Y")  # type: ignore[union-attr]
    assert f"Publicada em {posted}" in main, main
    for said in (
        "Próximos passos",
        "Apoio oferecido Nenhum",
        "Sessões em direto Não",
        "Setor Saúde",
    ):
        assert said in main, (said, main)
    assert "Línguas de trabalho Francês" in main, main
    assert "Next steps" not in main and "Posted" not in main
