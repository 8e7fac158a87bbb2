"""New users walking an engagement from its confirmation to its end: the two sides agree and
change its dates while it is confirmed, bad dates come back beside their field with every field
kept, completion waits for the work to have started and says when the work really ended, the
feedback form waits for completion and starts with no rating, and each list shows the other
side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import Settings
from service.core.engagements import move
from service.models import (
    AuditEvent,
    Engagement,
    EngagementFeedback,
    Need,
    Notification,
    OutgoingEmail,
)
from service.models.types import utcnow
from tests.factories import make_engagement, make_need
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    sentence_of,
    soup_of,
    text_of,
)
from tests.service.pages.html_forms import HtmlForm
from tests.service.worlds import World, bearer, bring_to, build_world

NEED_TITLE = "Former l'équipe d'épidémiologie à l'analyse de survie"
INSTITUTION_NAME = "جامعة تلمسان — Faculté de médecine"


def _world(session: Session, *, locale: str = "en") -> World:
    world = build_world(session)
    world.need.title = NEED_TITLE
    world.institution.name = INSTITUTION_NAME
    world.institution.country = "DZ"
    for user in (world.member, world.expert_user):
        user.locale = locale
    world.expert.display_name = "Amina Benali"
    session.add_all([world.need, world.institution, world.member, world.expert_user, world.expert])
    session.commit()
    return world


def _page(engagement: Engagement, side: str) -> str:
    base = {"member": "/institution", "expert": "/expert", "coordinator": "/coordinator"}[side]
    return f"{base}/engagements/{engagement.id}"


def _facts(response: object) -> list[str]:
    return [sentence_of(li) for li in soup_of(response).select("[data-facts] li")]  # type: ignore[arg-type]


def _another_need(session: Session, world: World) -> Need:
    """A second need of the world's institution (its first is proposed to the expert already)."""
    return make_need(session, institution=world.institution, title=NEED_TITLE)


def _stored(session: Session, engagement: Engagement) -> Engagement:
    session.expire_all()
    stored = session.get(Engagement, engagement.id)
    assert stored is not None
    return stored


# --- 1. dates agreed while confirmed -------------------------------------------------------


def test_both_sides_set_and_change_the_dates_while_the_engagement_is_confirmed(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session, locale="fr")
    engagement = bring_to(session, world, settings, "confirmed")
    institution = log_in_as(make_client(), world.member.email)
    today = utcnow().date()
    start, end = today + timedelta(days=24), today + timedelta(days=66)

    page = institution.get(_page(engagement, "member"))
    form = HtmlForm.of(page, marker="data-terms-form")
    form.type("start_date", start.isoformat())
    form.type("end_date", end.isoformat())
    form.type("mode", "hybrid")
    form.type("agreed_hours", "30")
    saved = form.submit(institution)

    assert saved.status_code == 303, saved.text
    shown = institution.get(saved.headers["location"])
    assert flash_messages(shown) == ["Les dates, le mode et les heures sont enregistrés."]
    said = "Le travail a lieu du {} au {}.".format(
        format_date(start, format="medium", locale="fr"),
        format_date(end, format="medium", locale="fr"),
    )
    assert said in _facts(shown)
    stored = _stored(session, engagement)
    assert (stored.status, stored.start_date, stored.end_date, stored.mode) == (
        "confirmed",
        start,
        end,
        "hybrid",
    )
    assert stored.agreed_hours == 30

    # The expert moves the end a week later, on their own page, which shows the agreed dates.
    expert = log_in_as(make_client(), world.expert_user.email)
    form = HtmlForm.of(expert.get(_page(engagement, "expert")), marker="data-terms-form")
    assert (form.value("start_date"), form.value("end_date")) == (
        start.isoformat(),
        end.isoformat(),
    )
    form.type("end_date", (end + timedelta(days=7)).isoformat())
    assert form.submit(expert).status_code == 303
    stored = _stored(session, engagement)
    assert (stored.start_date, stored.end_date, stored.agreed_hours) == (
        start,
        end + timedelta(days=7),
        30,
    )
    trail = session.exec(
        select(AuditEvent.actor_id, AuditEvent.from_state, AuditEvent.to_state)
        .where(AuditEvent.action == "engagement.terms")
        .order_by(col(AuditEvent.id))
    ).all()
    assert trail == [
        (world.member.id, "confirmed", "confirmed"),
        (world.expert_user.id, "confirmed", "confirmed"),
    ]
    # Each change is told to the others, never to whoever made it: one side alone does not
    # move what both agreed unseen.
    told = session.exec(
        select(Notification.user_id)
        .where(Notification.kind == "engagement.terms")
        .order_by(col(Notification.id))
    ).all()
    assert told.count(world.expert_user.id) == 1 and told.count(world.member.id) == 1
    assert told.index(world.expert_user.id) < told.index(world.member.id)
    mail = session.exec(
        select(OutgoingEmail.to_address).where(OutgoingEmail.kind == "engagement.terms")
    ).all()
    assert world.member.email in mail  # the institution hears of the expert's change by email
    # Starting is still refused before the agreed day (the dates now say when).
    early = post_form(expert, f"/engagements/{engagement.id}/start", {"from_status": "confirmed"})
    assert early.status_code == 409
    assert _stored(session, engagement).status == "confirmed"


@pytest.mark.parametrize(
    ("typed", "field", "said"),
    [
        (
            {"start_date": "2027-03-15", "end_date": "2027-03-01"},
            "end_date",
            "The end date must not be before the start date.",
        ),
        ({"start_date": "2027-02-30", "end_date": "2027-04-12"}, "start_date", "Enter a date."),
        ({"start_date": "15/03/2027", "end_date": "2027-04-12"}, "start_date", "Enter a date."),
        (
            {"start_date": "2027-03-15", "end_date": "2027-04-12", "agreed_hours": "trente"},
            "agreed_hours",
            "Enter a whole number.",
        ),
    ],
)
def test_bad_dates_come_back_beside_their_field_with_every_field_kept(
    typed: dict[str, str],
    field: str,
    said: str,
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    browser = log_in_as(make_client(), world.member.email)
    form = HtmlForm.of(browser.get(_page(engagement, "member")), marker="data-terms-form")
    form.type("mode", "mission")
    form.type("agreed_hours", "45")
    for name, value in typed.items():
        form.type(name, value)
    before = _stored(session, engagement).model_dump()

    refused = form.submit(browser)

    assert refused.status_code == 422, refused.text
    assert error_beside(refused, f"{field}-{engagement.id}-terms") == said
    again = HtmlForm.of(refused, marker="data-terms-form")
    assert again.pairs() == form.pairs()
    assert _stored(session, engagement).model_dump() == before


def test_the_dates_are_set_over_the_api_while_confirmed_and_refused_once_started(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    expert, outsider = bearer(session, world.expert_user), bearer(session, world.other_member)
    url = f"/api/engagements/{engagement.id}/terms"

    bad = client.put(
        url, json={"start_date": "2027-05-10", "end_date": "2027-05-01"}, headers=expert
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["end_date"]
    assert client.put(url, json={"end_date": "2027-06-30"}, headers=outsider).status_code == 404
    ok = client.put(
        url, json={"start_date": "2027-05-10", "end_date": "2027-06-30"}, headers=expert
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["status"], body["start_date"], body["end_date"], body["can_set_terms"]) == (
        "confirmed",
        "2027-05-10",
        "2027-06-30",
        True,
    )
    # The stored start would now be after this end: refused against what is stored.
    assert client.put(url, json={"end_date": "2027-05-01"}, headers=expert).status_code == 422

    started = bring_to(
        session, world, settings, "active", make_need(session, institution=world.institution)
    )
    late = client.put(
        f"/api/engagements/{started.id}/terms", json={"end_date": "2030-01-31"}, headers=expert
    )
    assert late.status_code == 409
    assert (
        late.json()["detail"]
        == "This engagement is active: its terms are set while it is confirmed."
    )
    assert _stored(session, started).end_date is None


def test_a_dates_form_sent_after_the_work_started_is_refused_and_changes_nothing(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    institution = log_in_as(make_client(), world.member.email)
    form = HtmlForm.of(institution.get(_page(engagement, "member")), marker="data-terms-form")
    # Meanwhile the expert starts the work.
    move(session, engagement=engagement, actor=world.expert_user, action="start", settings=settings)
    session.commit()
    form.type("end_date", "2031-12-31")

    refused = form.submit(institution)

    assert refused.status_code == 409
    alert = soup_of(refused).select_one(".form-error[role=alert]")
    assert "changed meanwhile" in text_of(alert)
    assert soup_of(refused).select_one("form[data-terms-form]") is None
    assert _stored(session, engagement).end_date != date(2031, 12, 31)


# --- 2. feedback once completed, with no rating chosen beforehand -------------------------


@pytest.mark.parametrize("status", ["confirmed", "active", "delivered"])
def test_the_feedback_form_waits_for_completion(
    status: str, session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, status)
    for user, side in ((world.expert_user, "expert"), (world.member, "member")):
        page = soup_of(log_in_as(make_client(), user.email).get(_page(engagement, side)))
        assert page.select_one("form[data-feedback-form]") is None, (status, side)


@pytest.mark.parametrize(
    ("locale", "placeholder"),
    [("en", "Choose a rating"), ("fr", "Choisissez une note"), ("ar", "اختر تقييمًا")],
)
def test_the_feedback_form_starts_with_no_rating_and_asks_for_one(
    locale: str,
    placeholder: str,
    session: Session,
    make_client: Callable[[], TestClient],
    settings: Settings,
) -> None:
    world = _world(session, locale=locale)
    engagement = bring_to(session, world, settings, "completed")
    browser = log_in_as(make_client(), world.expert_user.email)
    page = browser.get(_page(engagement, "expert"))
    rating = soup_of(page).select_one("form[data-feedback-form] select[name=rating]")
    assert rating is not None
    first = rating.select_one("option")
    assert first is not None and first["value"] == "" and text_of(first) == placeholder
    assert rating.select_one("option[selected]") is None
    form = HtmlForm.of(page, marker="data-feedback-form")
    form.type("delivered", "ورشات تدريبية عن بعد — ateliers à Tlemcen")
    form.type("hours", "18")
    form.type("impact", "L’équipe relit ses cohortes seule.")

    refused = form.submit(browser)

    assert refused.status_code == 422
    assert error_beside(refused, "rating")
    again = HtmlForm.of(refused, marker="data-feedback-form")
    assert again.pairs() == form.pairs()
    assert session.exec(select(EngagementFeedback)).all() == []
    again.type("rating", "4")
    assert again.submit(browser).status_code == 303
    assert [f.rating for f in session.exec(select(EngagementFeedback)).all()] == [4]


# --- 3. completion: not before the work started; an early end is said -----------------------


def test_an_engagement_not_started_cannot_be_marked_completed(
    session: Session,
    make_client: Callable[[], TestClient],
    client: TestClient,
    settings: Settings,
) -> None:
    world = _world(session, locale="fr")
    engagement = bring_to(session, world, settings, "confirmed")
    browser = log_in_as(make_client(), world.expert_user.email)
    page = soup_of(browser.get(_page(engagement, "expert")))
    assert page.select_one(f"form[action='/engagements/{engagement.id}/complete']") is None

    # A page left open from before (or a second tab) sends it anyway.
    refused = post_form(browser, f"/engagements/{engagement.id}/complete", {})
    assert refused.status_code == 409
    assert text_of(soup_of(refused).select_one(".form-error[role=alert]")) == (
        "Cet engagement n'a pas encore commencé, il ne peut donc pas être marqué comme "
        "terminé ; s'il n'aura pas lieu, il peut être annulé."
    )
    api = client.post(
        f"/api/engagements/{engagement.id}/complete", headers=bearer(session, world.expert_user)
    )
    assert api.status_code == 409
    assert api.json()["detail"] == "This engagement is confirmed: it cannot move to delivered."
    assert _stored(session, engagement).status == "confirmed"


def test_work_marked_started_before_its_start_date_cannot_be_completed_before_it(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = _world(session)
    later = utcnow().date() + timedelta(days=12)
    # Recorded as under way, but its agreed start is still to come (imported, or set by hand).
    engagement = make_engagement(
        session,
        need=_another_need(session, world),
        expert=world.expert,
        status="active",
        start_date=later,
    )
    refused = client.post(
        f"/api/engagements/{engagement.id}/complete", headers=bearer(session, world.expert_user)
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"This engagement starts on {later.isoformat()}: it cannot be marked as completed "
        "before it has started; if it will not take place, it can be cancelled instead."
    )
    assert _stored(session, engagement).status == "active"


def test_completing_takes_no_dates_and_names_the_field(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "active")
    refused = client.post(
        f"/api/engagements/{engagement.id}/complete",
        json={"end_date": "2027-01-15"},
        headers=bearer(session, world.expert_user),
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["end_date"]
    assert _stored(session, engagement).status == "active"


def test_completing_before_the_planned_end_records_today_and_every_page_says_it_ended_early(
    session: Session,
    make_client: Callable[[], TestClient],
    client: TestClient,
    settings: Settings,
) -> None:
    world = _world(session, locale="fr")
    today = utcnow().date()
    start, planned = today - timedelta(days=9), today + timedelta(days=33)
    engagement = make_engagement(
        session,
        need=_another_need(session, world),
        expert=world.expert,
        status="active",
        start_date=start,
        end_date=planned,
        started_at=utcnow() - timedelta(days=9),
    )
    expert = log_in_as(make_client(), world.expert_user.email)
    done = post_form(
        expert,
        f"/engagements/{engagement.id}/complete",
        {"from_status": "active", "confirmed": "yes"},
    )
    assert done.status_code == 303, done.text

    stored = _stored(session, engagement)
    assert (stored.status, stored.start_date, stored.end_date, stored.ended_on) == (
        "delivered",
        start,
        planned,
        today,
    )
    day = {d: format_date(d, format="medium", locale="fr") for d in (start, planned, today)}
    facts = _facts(expert.get(_page(engagement, "expert")))
    assert f"Le travail a eu lieu du {day[start]} au {day[today]}." in facts
    assert (
        f"Il s'est terminé plus tôt que prévu : il devait durer jusqu'au {day[planned]}." in facts
    )
    # The institution confirms; its page and its list say the same.
    institution = log_in_as(make_client(), world.member.email)
    assert (
        post_form(institution, f"/engagements/{engagement.id}/confirm_completion", {}).status_code
        == 303
    )
    assert f"Le travail a eu lieu du {day[start]} au {day[today]}." in _facts(
        institution.get(_page(engagement, "member"))
    )
    row = soup_of(institution.get("/institution/engagements")).select_one(
        f"tr[data-engagement='{engagement.id}']"
    )
    assert row is not None
    assert (
        text_of(row.select_one("[data-dates]")) == f"{day[start]} – {day[today]} terminé plus tôt"
    )
    api = client.get(
        f"/api/engagements/{engagement.id}", headers=bearer(session, world.member)
    ).json()
    assert (api["end_date"], api["ended_on"], api["ended_early"]) == (
        planned.isoformat(),
        today.isoformat(),
        True,
    )


def test_completing_after_the_planned_end_keeps_the_planned_end(
    session: Session, client: TestClient, settings: Settings
) -> None:
    world = _world(session)
    today = utcnow().date()
    start, planned = today - timedelta(days=50), today - timedelta(days=4)
    engagement = make_engagement(
        session,
        need=_another_need(session, world),
        expert=world.expert,
        status="active",
        start_date=start,
        end_date=planned,
        started_at=utcnow() - timedelta(days=50),
    )
    done = client.post(
        f"/api/engagements/{engagement.id}/complete", headers=bearer(session, world.expert_user)
    )
    assert done.status_code == 200
    assert (done.json()["ended_on"], done.json()["ended_early"]) == (planned.isoformat(), False)


# --- 6. each list shows the other side -------------------------------------------------------


def test_each_reader_sees_the_other_side_in_the_engagements_list(
    session: Session, make_client: Callable[[], TestClient], settings: Settings
) -> None:
    world = _world(session)
    engagement = bring_to(session, world, settings, "confirmed")
    columns = {}
    cells = {}
    for side, user, url in (
        ("expert", world.expert_user, "/expert/engagements"),
        ("member", world.member, "/institution/engagements"),
        ("coordinator", world.coordinator, "/coordinator/engagements"),
    ):
        page = soup_of(log_in_as(make_client(), user.email).get(url))
        columns[side] = [text_of(th) for th in page.select("table[data-engagements] thead th")]
        row = page.select_one(f"tr[data-engagement='{engagement.id}']")
        assert row is not None
        cells[side] = [sentence_of(td) for td in row.select("td")]
    assert columns == {
        "expert": ["Need", "Institution", "Dates", "Status", "Updated"],
        "member": ["Need", "Expert", "Dates", "Status", "Updated"],
        "coordinator": ["Need", "Institution", "Expert", "Dates", "Status", "Updated"],
    }
    assert cells["expert"][:2] == [NEED_TITLE, f"{INSTITUTION_NAME} (Algeria)"]
    assert "Amina Benali" not in " ".join(cells["expert"])
    assert cells["member"][:2] == [NEED_TITLE, "Amina Benali"]
    assert cells["coordinator"][1:3] == [f"{INSTITUTION_NAME} (Algeria)", "Amina Benali"]
