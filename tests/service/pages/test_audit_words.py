"""The audit log and a need's history say each recorded action as a sentence in the reader's
language (service/pages/audit_words.py), never its code; an unknown code says what it is about."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.core.audit import record
from service.core.engagements import MOVES
from service.i18n import current_locale, translations_for
from service.models import Role
from service.pages.audit_words import ACTIONS, FALLBACKS, UNKNOWN, action_words, entity_words
from tests.factories import make_member, make_need, make_user
from tests.service.pages.helpers import log_in_as, soup_of, text_of

SERVICE = Path(__file__).resolve().parents[3] / "service"


def _recorded_actions() -> set[str]:
    """Every action code the service records, read from its source: literals, and the
    families built with an f-string from a known list of values."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in SERVICE.rglob("*.py"))
    literals = set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
    for pair in re.findall(r'"([a-z_]+\.[a-z_]+)" if [^\n]* else "([a-z_]+\.[a-z_]+)"', source):
        literals |= set(pair)
    literals.add("need.interest")  # service.core.needs.INTEREST
    kinds = ("experts", "institutions", "needs")
    return (
        literals
        | {f"engagement.{move}" for move in MOVES}
        | {f"institution.{decision}" for decision in ("info_requested", "declined")}
        | {f"export.{kind}" for kind in kinds}
        | {f"import.{kind}" for kind in kinds}
        | {"engagement.offer", "engagement.decline", "engagement.feedback"}
    )


def test_every_action_the_service_records_has_its_sentence() -> None:
    recorded = _recorded_actions()
    assert {"need.published", "need.discarded", "user.registered"} <= recorded
    assert recorded - set(ACTIONS) == set()


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
def test_no_code_is_ever_said(locale: str) -> None:
    token = current_locale.set(locale)
    try:
        catalogue = translations_for(locale)
        for code, words in ACTIONS.items():
            said = action_words(code)
            assert said == catalogue.gettext(words) and code not in said
            assert locale == "en" or said != words, (locale, code)
        assert action_words("need.archived") == catalogue.gettext(FALLBACKS["need"])
        assert action_words("bulk.thing", "widget") == catalogue.gettext(UNKNOWN)
        assert entity_words("need") != "need"
    finally:
        current_locale.reset(token)


@pytest.mark.parametrize(
    ("locale", "published", "need_word", "closed"),
    [
        ("en", "Draft published", "Need", "Closed"),
        ("fr", "Brouillon publié", "Besoin", "Clos"),
        ("ar", None, None, None),
    ],
)
def test_the_audit_log_says_sentences_in_the_readers_language(
    locale: str,
    published: str | None,
    need_word: str | None,
    closed: str | None,
    session: Session,
    make_client: Callable[[], TestClient],
) -> None:
    member, institution = make_member(session, name="Université Félix Houphouët-Boigny")
    need = make_need(session, institution=institution, title="Épidémiologie — علم الأوبئة")
    record(
        session,
        actor=member,
        action="need.published",
        entity_type="need",
        entity_id=need.id,
        from_state="draft",
        to_state="open",
    )
    record(
        session,
        actor=member,
        action="need.archived",  # a code no sentence names (a newer version's, say)
        entity_type="need",
        entity_id=need.id,
        from_state="open",
        to_state="closed",
    )
    session.commit()
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR, locale=locale).email)
    page = soup_of(staff.get(f"/coordinator/audit?entity_type=need&entity_id={need.id}"))
    rows = {
        row["data-action"]: [text_of(td) for td in row.select("td")]
        for row in page.select("[data-audit] [data-event]")
    }
    catalogue = translations_for(locale)
    what = rows["need.published"][2]
    assert (
        what == f"{published or catalogue.gettext('Draft published')} · "
        f"{need_word or catalogue.pgettext('audited', 'Need')} {need.id}"
    )
    assert catalogue.gettext("A need changed") in rows["need.archived"][2]
    assert rows["need.archived"][4] == (closed or catalogue.pgettext("need_status", "Closed"))
    text = text_of(page.select_one("[data-audit]"))
    assert "need.published" not in text and "need.archived" not in text
    filters = [text_of(o) for o in page.select("#entity_type option")][1:]
    assert catalogue.pgettext("audited", "Engagement") in filters
    # The need's history on its review page says the same sentence.
    review = soup_of(staff.get(f"/coordinator/needs/{need.id}"))
    history = [text_of(li) for li in review.select("[data-history] li")]
    assert any(catalogue.gettext("Draft published") in line for line in history), history
    assert not any("need." in line for line in history)
