"""An expert's years of experience, as the institution reads them on an engagement: the count
agrees with its noun in every language (one year, two years, twenty-one years)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_engagement, make_expert, make_member, make_need
from tests.service.pages.helpers import log_in_as, soup_of, text_of

CASES = [
    ("en", 1, "1 year of experience"),
    ("en", 12, "12 years of experience"),
    ("fr", 1, "1 an d'expérience"),
    ("fr", 21, "21 ans d'expérience"),
    ("es", 1, "1 año de experiencia"),
    ("es", 3, "3 años de experiencia"),
    ("pt", 1, "1 ano de experiência"),
    ("pt", 21, "21 anos de experiência"),
    ("ar", 1, "سنة واحدة (1) من الخبرة"),
    ("ar", 2, "سنتان (2) من الخبرة"),
    ("ar", 7, "7 سنوات من الخبرة"),
    ("ar", 21, "21 سنة من الخبرة"),
]


@pytest.mark.parametrize(("locale", "years", "shown"), CASES)
def test_the_years_of_experience_agree_with_their_count(
    client: TestClient, session: Session, locale: str, years: int, shown: str
) -> None:
    member, institution = make_member(session, name="Faculté des Lettres — كلية الآداب")
    member.locale = locale
    session.add(member)
    need = make_need(session, institution=institution, title="Co-enseigner la sémantique")
    expert = make_expert(session, display_name="Adilson Semedo", years_experience=years)
    engagement = make_engagement(session, need=need, expert=expert, status="confirmed")
    log_in_as(client, member.email)
    page = soup_of(client.get(f"/institution/engagements/{engagement.id}"))
    card = text_of(page.select_one("main"))
    assert shown in card
