"""Names and quoted text mixing scripts keep their own direction, on every page (walk, item 2):
"د. Ines Mansouri" read as "Ines Mansouri .د", French feedback's period at the wrong end."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import EngagementFeedback
from tests.factories import make_expert, make_proposal
from tests.service.pages.helpers import log_in_as, soup_of, text_of
from tests.service.pages.review import coordinator_browser, review_page
from tests.service.worlds import bring_to, build_world


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_a_latin_name_with_an_arabic_title_reads_left_to_right(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    world = build_world(session)
    expert = make_expert(session, display_name="د. Ines Mansouri", headline="طبيبة وبائيات")
    proposal = make_proposal(session, need=world.need, expert=expert, rank=2)
    page = review_page(coordinator_browser(session, make_client, world, locale=locale), world)
    card = page.select_one(f"#candidate-{proposal.id}")
    assert card is not None
    name = card.select_one("h3 bdi")
    assert name is not None and text_of(name) == "د. Ines Mansouri"
    assert name["dir"] == "ltr"
    headline = card.select_one("p.meta bdi")
    assert headline is not None and headline["dir"] == "rtl"


def test_french_feedback_in_an_arabic_sentence_is_isolated_left_to_right(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = build_world(session)
    world.member.locale = "ar"
    session.add(world.member)
    engagement = bring_to(session, world, settings, "completed")
    delivered = "Module co-enseigné avec nos internes ; très bonne pédagogie."
    session.add(
        EngagementFeedback(
            engagement_id=engagement.id or 0,
            side="expert",
            rating=5,
            hours=30,
            would_repeat=True,
            delivered=delivered,
            impact="أصبح المقيمون يحللون بيانات الترصد بأنفسهم.",
        )
    )
    session.commit()
    browser = log_in_as(make_client(), world.member.email)
    card = soup_of(browser.get(f"/institution/engagements/{engagement.id}")).select_one(
        "div[data-feedback=expert]"
    )
    assert card is not None
    typed = {text_of(b): b["dir"] for b in card.select("li bdi")}
    assert typed == {delivered: "ltr", "أصبح المقيمون يحللون بيانات الترصد بأنفسهم.": "rtl"}


@pytest.mark.parametrize(
    ("locale", "status", "sentence"),
    [
        ("ar", "filled", "هذه الحاجة مكتملة: تبقى اقتراحاتها ظاهرة لكنها لا تُعرض."),
        ("ar", "closed", "هذه الحاجة مغلقة: تبقى اقتراحاتها ظاهرة لكنها لا تُعرض."),
        ("ar", "draft", "هذه الحاجة مسودة: تبقى اقتراحاتها ظاهرة لكنها لا تُعرض."),
        (
            "fr",
            "filled",
            "Ce besoin est pourvu : ses propositions restent visibles mais ne sont pas proposées.",
        ),
        ("en", "closed", "This need is closed: its proposals stay visible but are not offered."),
    ],
)
def test_a_needs_status_is_said_in_one_agreeing_sentence(
    session: Session,
    make_client: Callable[[], TestClient],
    locale: str,
    status: str,
    sentence: str,
) -> None:
    world = build_world(session)
    world.need.status = status
    session.add(world.need)
    session.commit()
    page = review_page(coordinator_browser(session, make_client, world, locale=locale), world)
    assert text_of(page.select_one("[data-status-note]")) == sentence
    if locale == "ar":
        assert text_of(page.select_one("[data-need-status]")) in {"مكتملة", "مغلقة", "مسودة"}
