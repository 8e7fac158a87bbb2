"""An institution discards a draft it no longer wants: from the draft's page, asked to confirm,
told it is done; the draft is closed in one conditional move, recorded, and gone from its home."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.core import policy
from service.core.needs import discard_draft
from service.core.policy import Action, ReaderKind
from service.errors import Conflict, NotAllowed
from service.i18n import translations_for
from service.models import AuditEvent, Role
from service.pages.institution import DRAFT_DISCARDED
from tests.factories import make_member, make_need, make_user
from tests.service.pages.helpers import flash_messages, log_in_as, post_form, soup_of, text_of

# What the page's script sends once the person said yes to its question.
YES = {"confirmed": "yes"}
TITLE = "Épidémiologie de terrain — علم الأوبئة الميداني"


@pytest.mark.parametrize("verified", [True, False])
def test_an_institution_discards_a_draft_from_its_page(
    verified: bool, client: TestClient, session: Session
) -> None:
    user, institution = make_member(session, verified=verified, name="Université Gaston Berger")
    draft = make_need(session, institution=institution, title=TITLE, status="draft", posted_at=None)
    kept = make_need(
        session, institution=institution, title="Biostatistique", status="draft", posted_at=None
    )
    log_in_as(client, user.email)
    home = soup_of(client.get("/institution"))
    assert TITLE in text_of(home.select_one("main"))

    page = soup_of(client.get(f"/institution/needs/{draft.id}"))
    form = page.select_one(f'form[action="/institution/needs/{draft.id}/discard"]')
    assert form is not None and form.select_one("input[name=csrf_token]") is not None
    assert "Discard this draft?" in form["data-confirm"]  # the browser asks before sending
    assert text_of(form.select_one("button")) == "Discard this draft"

    # Sent without the browser's confirmation (no script): the page asks, nothing is discarded.
    asked = post_form(client, f"/institution/needs/{draft.id}/discard", {})
    assert asked.status_code == 200
    assert "Discard this draft?" in text_of(soup_of(asked).select_one("[data-asking=discard]"))
    session.refresh(draft)
    assert draft.status == "draft"

    response = post_form(client, f"/institution/needs/{draft.id}/discard", YES)

    assert response.status_code == 303 and response.headers["location"] == "/institution"
    home_page = client.get("/institution")
    assert flash_messages(home_page) == [DRAFT_DISCARDED]
    main = text_of(soup_of(home_page).select_one("main"))
    assert TITLE not in main and "Biostatistique" in main
    for status in ("all", "draft", "closed"):
        listed = text_of(soup_of(client.get(f"/institution?status={status}")).select_one("main"))
        assert TITLE not in listed, status
    session.refresh(draft)
    session.refresh(kept)
    assert (draft.status, draft.posted_at, kept.status) == ("closed", None, "draft")
    event = session.exec(
        select(AuditEvent).where(AuditEvent.entity_id == draft.id, AuditEvent.entity_type == "need")
    ).one()
    assert (event.action, event.from_state, event.to_state, event.actor_id) == (
        "need.discarded",
        "draft",
        "closed",
        user.id,
    )


def test_discarding_twice_is_answered_409_and_a_published_need_is_not_discarded(
    client: TestClient, session: Session
) -> None:
    user, institution = make_member(session, name="Hôpital Aristide Le Dantec")
    draft = make_need(session, institution=institution, title=TITLE, status="draft", posted_at=None)
    live = make_need(session, institution=institution, title="Santé publique")
    log_in_as(client, user.email)
    assert post_form(client, f"/institution/needs/{draft.id}/discard", YES).status_code == 303
    again = post_form(client, f"/institution/needs/{draft.id}/discard", YES)
    assert again.status_code == 409
    assert "no longer a draft" in text_of(soup_of(again).select_one("main"))
    refused = post_form(client, f"/institution/needs/{live.id}/discard", YES)
    assert refused.status_code == 409
    session.refresh(live)
    assert live.status == "open"
    # An open need has no discard button: it is closed (and its offers withdrawn) instead.
    page = soup_of(client.get(f"/institution/needs/{live.id}"))
    assert page.select_one('form[action$="/discard"]') is None
    assert page.select_one('form[action$="/close"]') is not None


def test_another_institution_cannot_discard_a_draft(client: TestClient, session: Session) -> None:
    _, owner = make_member(session, name="Université de Lomé")
    draft = make_need(session, institution=owner, title=TITLE, status="draft", posted_at=None)
    other, _ = make_member(session, name="Université d'Abomey-Calavi")
    log_in_as(client, other.email)
    assert post_form(client, f"/institution/needs/{draft.id}/discard", YES).status_code == 404
    session.refresh(draft)
    assert draft.status == "draft"


def test_the_policy_lets_whoever_writes_drafts_discard_them(session: Session) -> None:
    allowed = {kind for kind in ReaderKind if policy.may(policy.Reader(kind), Action.DISCARD_DRAFT)}
    assert allowed == {
        ReaderKind.PENDING_MEMBER,
        ReaderKind.MEMBER,
        ReaderKind.COORDINATOR,
        ReaderKind.ADMIN,
    }
    expert = make_user(session, role=Role.EXPERT)
    _, institution = make_member(session, name="Université Cheikh Anta Diop")
    draft = make_need(session, institution=institution, status="draft", posted_at=None)
    with pytest.raises(NotAllowed):
        discard_draft(session, need=draft, actor=expert)
    coordinator = make_user(session, role=Role.COORDINATOR)
    discard_draft(session, need=draft, actor=coordinator)
    session.commit()
    with pytest.raises(Conflict):
        discard_draft(session, need=draft, actor=coordinator)


@pytest.mark.parametrize("locale", ["fr", "es", "pt", "ar"])
def test_discarding_is_asked_and_told_in_the_readers_language(
    locale: str, make_client: Callable[[], TestClient], session: Session
) -> None:
    user, institution = make_member(session, name="جامعة محمد الخامس")
    user.locale = locale
    session.add(user)
    session.commit()
    draft = make_need(session, institution=institution, title=TITLE, status="draft", posted_at=None)
    client = log_in_as(make_client(), user.email)
    catalogue = translations_for(locale)
    form = soup_of(client.get(f"/institution/needs/{draft.id}")).select_one("form[data-discard]")
    assert form is not None
    asked = catalogue.gettext("Discard this draft? It will no longer be listed among your needs.")
    assert form["data-confirm"] == asked and asked.startswith("Discard") is False
    assert text_of(form.select_one("button")) == catalogue.gettext("Discard this draft")
    # Without the script, the page asks in the same words, with a button that confirms.
    page = soup_of(post_form(client, f"/institution/needs/{draft.id}/discard", {}))
    question = page.select_one("[data-asking=discard]")
    assert question is not None and text_of(question.select_one("p")) == asked
    confirm = catalogue.gettext("Yes, discard this draft")
    assert (
        text_of(question.select_one("button")) == confirm and confirm != "Yes, discard this draft"
    )
    post_form(client, f"/institution/needs/{draft.id}/discard", YES)
    told = flash_messages(client.get("/institution"))
    assert told == [catalogue.gettext(DRAFT_DISCARDED)] and told[0] != DRAFT_DISCARDED
    session.refresh(draft)
    assert draft.status == "closed"


def test_a_discarded_draft_is_gone_from_the_api_list_as_from_the_home_page(
    client: TestClient, session: Session
) -> None:
    """One rule lists an institution's needs: the API and the home page show the same ones."""
    user, institution = make_member(session, name="Université Gaston Berger")
    discarded = make_need(
        session, institution=institution, title=TITLE, status="draft", posted_at=None
    )
    make_need(
        session, institution=institution, title="Brouillon — مسودة", status="draft", posted_at=None
    )
    make_need(session, institution=institution, title="Biostatistique avancée")
    make_need(session, institution=institution, title="Santé publique (close)", status="closed")
    make_need(session, institution=institution, title="Pourvu", status="filled")
    log_in_as(client, user.email)
    post_form(client, f"/institution/needs/{discarded.id}/discard", YES)

    listed = client.get("/api/needs/mine")

    assert listed.status_code == 200, listed.text
    titles = {item["title"] for item in listed.json()["items"]}
    assert titles == {
        "Brouillon — مسودة",
        "Biostatistique avancée",
        "Santé publique (close)",
        "Pourvu",
    }
    assert listed.json()["total"] == 4
    statuses = sorted(item["status"] for item in listed.json()["items"])
    assert statuses == ["closed", "draft", "filled", "open"]
    home = text_of(soup_of(client.get("/institution?status=all")).select_one("main"))
    assert all(title in home for title in titles) and TITLE not in home
