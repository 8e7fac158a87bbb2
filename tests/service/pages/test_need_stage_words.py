"""A need's pages say what is true for where it stands: the preview on a published need's edit
page speaks of saving changes, not of posting; "What happens next" shows only while experts
are still being found; a finished engagement speaks in the past."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.core.needs import NeedStage, need_stage
from service.models import Role
from service.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import (
    make_engagement,
    make_expert,
    make_institution,
    make_need,
    make_user,
)
from tests.service.pages.helpers import log_in_as, sentence_of, soup_of, text_of

TITLE = "Former l'équipe d'épidémiologie à l'analyse de survie"
HTMX = {"HX-Request": "true"}
PREVIEW_WORDS = {
    ("fr", True): (
        "Voyez combien d'experts pourraient correspondre à ce besoin avec vos modifications, "
        "avant de les enregistrer."
    ),
    ("fr", False): "avant de le publier",
    ("ar", True): "اطّلعوا على عدد الخبراء الذين قد يناسبون هذه الحاجة مع تعديلاتكم، قبل حفظها.",
}
RANKED_AGAIN = {
    "fr": "le moteur de correspondance classe à nouveau les experts une fois vos modifications "
    "enregistrées.",
    "ar": "يعيد نظام المطابقة ترتيب الخبراء بعد حفظ تعديلاتكم.",
}


def _member(session: Session, client: TestClient, locale: str) -> object:
    user = make_user(session, role=Role.INSTITUTION, locale=locale)
    institution = make_institution(session, member=user, name="جامعة تلمسان — Faculté de médecine")
    log_in_as(client, user.email)
    return institution


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_a_published_needs_preview_speaks_of_saving_changes(
    session: Session, client: TestClient, locale: str
) -> None:
    institution = _member(session, client, locale)
    need = make_need(session, institution=institution, title=TITLE, status="open")
    edit = soup_of(client.get(f"/institution/needs/{need.id}/edit"))
    assert text_of(edit.select_one("#need-preview")) == PREVIEW_WORDS[(locale, True)]
    form = {
        "title": TITLE,
        "description": "Co-animer un module de surveillance épidémiologique à distance.",
        "required_skills": "épidémiologie",
        "sector": "health",
        "mode": "remote",
        "duration_weeks": "6",
        "hours_per_week": "4",
        "languages": ["fr", "ar"],
        "city": "Tlemcen",
        "status": "open",
        "csrf_token": csrf_token(client),
    }
    fragment = client.post(f"/institution/needs/preview?need={need.id}", data=form, headers=HTMX)
    assert text_of(soup_of(fragment).select_one(".help")).endswith(RANKED_AGAIN[locale])
    # A need not yet posted still speaks of posting it.
    draft = make_need(session, institution=institution, title=TITLE, status="draft")
    if locale == "fr":
        words = text_of(soup_of(client.get(f"/institution/needs/{draft.id}/edit")))
        assert PREVIEW_WORDS[("fr", False)] in words
        assert PREVIEW_WORDS[("fr", True)] not in words


@pytest.mark.parametrize(
    ("statuses", "need_status", "stage"),
    [
        ((), "open", NeedStage.MATCHING),
        (("offered", "declined"), "open", NeedStage.MATCHING),
        (("active",), "filled", NeedStage.UNDER_WAY),
        (("completed", "delivered"), "filled", NeedStage.UNDER_WAY),
        (("completed",), "open", NeedStage.DONE),
        (("completed", "cancelled"), "closed", NeedStage.DONE),
        (("cancelled",), "closed", NeedStage.ENDED),
        ((), "draft", NeedStage.DRAFT),
    ],
)
def test_the_need_stage_follows_its_engagements(
    session: Session, statuses: tuple[str, ...], need_status: str, stage: NeedStage
) -> None:
    institution = make_institution(session, name="Université Gaston Berger")
    need = make_need(session, institution=institution, title=TITLE, status=need_status)
    for status in statuses:
        make_engagement(session, need=need, expert=make_expert(session), status=status)
    assert need_stage(session, need=need) == stage


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_a_need_with_a_completed_engagement_no_longer_says_what_happens_next(
    session: Session, make_client: Callable[[], TestClient], locale: str
) -> None:
    client = make_client()
    institution = _member(session, client, locale)
    need = make_need(session, institution=institution, title=TITLE, status="open")
    page = soup_of(client.get(f"/institution/needs/{need.id}"))
    assert page.select_one("[data-next-steps]") is not None
    make_engagement(session, need=need, expert=make_expert(session), status="completed")
    page = soup_of(client.get(f"/institution/needs/{need.id}"))
    assert page.select_one("[data-next-steps]") is None
    said = {
        "fr": "Le travail pour ce besoin est terminé : la page de chaque engagement indique "
        "comment il s'est déroulé et vous demande votre avis.",
        "ar": "اكتمل العمل لهذه الحاجة: تبيّن صفحة كل التزام كيف جرى وتطلب رأيكم.",
    }[locale]
    assert sentence_of(page.select_one("[data-stage='done'] p")) == said


def test_a_completed_engagement_speaks_in_the_past(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    client = make_client()
    institution = _member(session, client, "fr")
    need = make_need(session, institution=institution, title=TITLE, status="filled", mode="remote")
    start = utcnow().date() - timedelta(days=60)
    end = start + timedelta(days=42)
    engagement = make_engagement(
        session,
        need=need,
        expert=make_expert(session, display_name="Amina Benali"),
        status="completed",
        start_date=start,
        end_date=end,
    )
    page = soup_of(client.get(f"/institution/engagements/{engagement.id}"))
    facts = [sentence_of(li) for li in page.select("[data-facts] li")]
    days = [format_date(d, format="medium", locale="fr") for d in (start, end)]
    assert "Le travail s'est fait à distance." in facts
    assert f"Le travail a eu lieu du {days[0]} au {days[1]}." in facts
    assert not any("se fait" in fact or "a lieu du" in fact for fact in facts)
