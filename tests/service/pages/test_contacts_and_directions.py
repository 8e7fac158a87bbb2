"""What a walk as new users found on the engagement pages: contact details run together in one
line ("name — email"), names and titles typed in Arabic not isolated from the page's own
direction, and raw ISO dates ("2026-11-18") in the engagements list and the logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import AuditEvent, Role
from service.models.types import utcnow
from tests.factories import make_expert, make_user
from tests.scenes import make_fes_engagement
from tests.service.pages.helpers import log_in_as, soup_of, text_of

ISO_DAY = r"\d{4}-\d{2}-\d{2}"


@pytest.fixture
def engagement_id(session: Session) -> int:
    """An agreed engagement between a hospital in Fès (Arabic name) and a Brussels radiologist."""
    return int(make_fes_engagement(session).id or 0)


def _coordinator(client: TestClient, session: Session, locale: str) -> TestClient:
    user = make_user(session, role=Role.COORDINATOR, locale=locale)
    return log_in_as(client, user.email)


def test_contact_details_are_label_and_value_pairs(
    client: TestClient, session: Session, engagement_id: int
) -> None:
    _coordinator(client, session, "en")
    soup = soup_of(client.get(f"/coordinator/engagements/{engagement_id}"))
    cards = soup.select("[data-institution-contacts] .contacts > li")
    shown = [
        [(text_of(dt), text_of(dt.find_next_sibling("dd"))) for dt in card.select("dt")]
        for card in cards
    ]
    assert shown == [
        [("Name", "يوسف بنجلون"), ("Email", "y.benjelloun@chu-fes.example")],
        [("Name", "Nadia Alaoui"), ("Email", "n.alaoui@chu-fes.example")],
    ]
    # Each name isolated from what is around it; each address read left to right.
    assert [text_of(bdi) for bdi in soup.select("[data-institution-contacts] dd bdi")] == [
        "يوسف بنجلون",
        "Nadia Alaoui",
    ]
    assert {a["dir"] for a in soup.select("[data-institution-contacts] a[href^=mailto]")} == {"ltr"}
    expert = soup.select_one("[data-contact]")
    assert expert is not None and "contact" in expert["class"]
    pairs = [(text_of(dt), text_of(dt.find_next_sibling("dd"))) for dt in expert.select("dt")]
    assert pairs == [("Email", "imane.berrada@courriel.example"), ("Phone", "+32 470 12 34 56")]


def test_typed_names_and_titles_keep_their_own_direction(
    client: TestClient, session: Session, engagement_id: int
) -> None:
    _coordinator(client, session, "ar")
    soup = soup_of(client.get(f"/coordinator/engagements/{engagement_id}"))
    isolated = {text_of(bdi) for bdi in soup.select("main bdi")}
    assert {
        "دعم قسم الأشعة بالقراءة عن بعد وتكوين المقيمين",
        "المركز الاستشفائي الجامعي الحسن الثاني بفاس",
        "Dr. Imane Berrada",
        "Radiologue – scanner, IRM, téléradiologie",
    } <= isolated
    skills = soup.select("[data-expert] .tags li")
    assert [(text_of(li), li.get("dir")) for li in skills] == [
        ("téléradiologie", "auto"),
        ("التصوير الطبي", "auto"),
    ]

    listing = soup_of(client.get("/coordinator/engagements"))
    row = listing.select_one(f"[data-engagement='{engagement_id}']")
    assert row is not None
    cells = row.select("td")
    assert [text_of(bdi) for bdi in row.select("bdi")] == [
        "دعم قسم الأشعة بالقراءة عن بعد وتكوين المقيمين",
        "المركز الاستشفائي الجامعي الحسن الثاني بفاس",
        "Dr. Imane Berrada",
    ]
    assert "(المغرب)" in text_of(cells[1])  # the country's name, not "MA"
    assert text_of(cells[-1]) == format_date(utcnow().date(), format="medium", locale="ar")


def test_the_engagements_list_and_the_audit_log_give_dates_in_the_readers_language(
    client: TestClient, session: Session, engagement_id: int
) -> None:
    _coordinator(client, session, "fr")
    session.add(
        AuditEvent(
            actor_id=None,
            action="engagement.started",
            entity_type="engagement",
            entity_id=engagement_id,
            at=datetime(2026, 11, 18, 9, 32, tzinfo=UTC),
        )
    )
    session.commit()
    listing = soup_of(client.get("/coordinator/engagements"))
    row = listing.select_one(f"[data-engagement='{engagement_id}']")
    assert row is not None
    updated = text_of(row.select("td")[-1])
    assert updated == format_date(utcnow().date(), format="medium", locale="fr")
    audit = soup_of(
        client.get(f"/coordinator/audit?entity_type=engagement&entity_id={engagement_id}")
    )
    when = [text_of(tr.select_one("td")) for tr in audit.select("[data-event]")]
    assert "18 nov. 2026, 09:32 TU" in when  # the zone named (temps universel)
    assert not any(re.match(ISO_DAY, w) for w in when)


def test_the_experts_own_summary_card_keeps_each_paragraph_in_its_direction(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="zeina.haddad@posteo.example", locale="fr")
    make_expert(
        session,
        user=user,
        display_name="زينة حداد",
        headline="أخصائية نفسية إكلينيكية | علاج الصدمات",
        bio="أعمل منذ عشر سنوات مع اللاجئين.\nJe supervise aussi des équipes à Beyrouth.",
        skills=["الصحة النفسية", "psychotraumatologie"],
    )
    log_in_as(client, user.email)
    soup = soup_of(client.get("/expert"))
    card = soup.select_one("[aria-labelledby=summary-heading]")
    assert card is not None
    assert text_of(card.select_one("h2 bdi")) == "أخصائية نفسية إكلينيكية | علاج الصدمات"
    bio = card.select_one("p.prose")
    assert bio is not None and bio["dir"] == "auto"
    assert (
        bio.get_text()
        == "أعمل منذ عشر سنوات مع اللاجئين.\nJe supervise aussi des équipes à Beyrouth."
    )
    assert [li.get("dir") for li in card.select(".tags li")] == ["auto", "auto"]
