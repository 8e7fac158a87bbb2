"""The coordinator's pages: queues, charts, institutions, experts and the roster export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import (
    AuditEvent,
    Engagement,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    Role,
)
from service.models.types import utcnow
from tests.factories import make_expert, make_member, make_need, make_user
from tests.service.pages.helpers import flash_messages, log_in_as, post_form, soup_of, text_of


def _coordinator(client: TestClient, session: Session) -> None:
    log_in_as(client, make_user(session, role=Role.COORDINATOR).email)


def _proposal(
    session: Session,
    need: Need,
    expert: ExpertProfile,
    *,
    status: str = "proposed",
    age_days: int = 0,
) -> MatchProposal:
    proposal = MatchProposal(
        need_id=need.id or 0,
        expert_id=expert.id or 0,
        status=status,
        created_at=utcnow() - timedelta(days=age_days),
    )
    session.add(proposal)
    session.commit()
    return proposal


def _engagement(session: Session, need: Need, expert: ExpertProfile, *, status: str) -> Engagement:
    proposal = _proposal(session, need, expert, status="approved")
    engagement = Engagement(
        proposal_id=proposal.id or 0,
        need_id=need.id or 0,
        expert_id=expert.id,
        status=status,
        mode=need.mode,
    )
    session.add(engagement)
    session.commit()
    return engagement


def test_dashboard_counts_the_queues(client: TestClient, session: Session) -> None:
    make_member(session, verified=False, name="Clinique A")
    make_member(session, verified=False, name="Clinique B")
    _, institution = make_member(session)
    expert = make_expert(session)
    approved_need = make_need(session, institution=institution, title="Has an approved one")
    _proposal(session, approved_need, expert, status="approved")
    waiting_need = make_need(session, institution=institution, title="Waiting")
    _proposal(session, waiting_need, expert, age_days=10)
    _proposal(session, waiting_need, make_expert(session), age_days=1)
    make_need(session, institution=institution, title="Nothing yet")
    make_need(session, institution=institution, title="Closed", status="closed")
    _coordinator(client, session)

    soup = soup_of(client.get("/coordinator"))

    counts = {
        li["data-queue"]: text_of(li.select_one(".queue-count")) for li in soup.select(".queue")
    }
    assert counts == {"institutions": "2", "needs": "2", "stale": "1"}
    assert "more than 7 days" in text_of(soup.select_one('[data-queue="stale"]'))
    assert soup.select_one('[data-queue="needs"] a')["href"] == "/coordinator/needs"  # type: ignore[index]
    # The late proposals' link lands on the section that lists them, on the page it opens.
    late = soup.select_one('[data-queue="stale"] a')["href"]  # type: ignore[index]
    path, _, section = late.partition("#")
    assert section and soup_of(client.get(path)).select_one(f"#{section}") is not None
    pending = [text_of(a) for a in soup.select("table a[href^='/coordinator/institutions/']")]
    assert sorted(pending) == ["Clinique A", "Clinique B"]
    assert len(soup.select('form[action$="/verify"] button')) == 2


def test_dashboard_charts_are_accessible_with_a_data_table(
    client: TestClient, session: Session
) -> None:
    _, senegal = make_member(session, country="SN")
    _, ghana = make_member(session, name="University of Ghana", country="GH")
    expert = make_expert(session)
    for index, status in enumerate(["completed", "active", "declined"]):
        need = make_need(session, institution=senegal, title=f"SN {index}", sector="health")
        _engagement(session, need, expert, status=status)
    need = make_need(session, institution=ghana, sector="energy", mode="mission")
    _engagement(session, need, make_expert(session), status="confirmed")
    _coordinator(client, session)

    soup = soup_of(client.get("/coordinator"))

    country = soup.select_one("#chart-country")
    svg = country.select_one("svg")  # type: ignore[union-attr]
    assert svg["role"] == "img"  # type: ignore[index]
    title_id, desc_id = svg["aria-labelledby"].split()  # type: ignore[index, union-attr]
    assert text_of(svg.select_one(f"#{title_id}")) == "Engagements by country"  # type: ignore[union-attr]
    assert svg.select_one(f"#{desc_id}").name == "desc"  # type: ignore[union-attr]
    rows = {
        text_of(tr.th): text_of(tr.td)
        for tr in country.select("table tbody tr")  # type: ignore[union-attr]
    }
    # The declined engagement is not counted.
    assert rows == {"Senegal": "2", "Ghana": "1"}
    assert len(svg.select("rect")) == 2  # type: ignore[union-attr]
    sector_rows = {text_of(tr.th): text_of(tr.td) for tr in soup.select("#chart-sector tbody tr")}
    assert sector_rows == {"Health": "2", "Energy": "1"}
    mode_rows = {text_of(tr.th): text_of(tr.td) for tr in soup.select("#chart-mode tbody tr")}
    assert mode_rows == {"Remote": "2", "Short on-site mission": "1"}
    months = soup.select("#chart-month tbody tr")
    assert len(months) == 12 and text_of(months[-1].td) == "3"


def test_empty_charts_say_so(client: TestClient, session: Session) -> None:
    _coordinator(client, session)
    soup = soup_of(client.get("/coordinator"))
    assert "Nothing to show yet." in text_of(soup.select_one("#chart-country"))
    assert soup.select_one("#chart-country svg") is None


def test_verify_button_is_for_coordinators_only(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    member, pending = make_member(session, verified=False, name="Clinique en attente")
    coordinator = make_client()
    _coordinator(coordinator, session)
    page = soup_of(coordinator.get(f"/coordinator/institutions/{pending.id}"))
    button = page.select_one(f'form[action="/coordinator/institutions/{pending.id}/verify"] button')
    assert button is not None and "Verify" in text_of(button)

    member_client = log_in_as(make_client(), member.email)
    for path in ("/institution", "/institution/profile"):
        assert soup_of(member_client.get(path)).select('form[action$="/verify"]') == []
    assert member_client.get(f"/coordinator/institutions/{pending.id}").status_code == 403


def test_verifying_from_the_institution_page_comes_back_to_it(
    client: TestClient, session: Session
) -> None:
    _, pending = make_member(session, verified=False)
    _coordinator(client, session)
    path = f"/coordinator/institutions/{pending.id}"

    response = post_form(client, f"{path}/verify", {"next": path})

    assert response.status_code == 303 and response.headers["location"] == path
    session.refresh(pending)
    assert pending.verified
    page = client.get(path)
    assert flash_messages(page) == ["Institution verified."]
    soup = soup_of(page)
    assert soup.select('form[action$="/verify"]') == []
    assert text_of(soup.select_one(".badge")) == "Verified"


def test_verify_ignores_an_outside_next(client: TestClient, session: Session) -> None:
    _, pending = make_member(session, verified=False)
    _coordinator(client, session)
    response = post_form(
        client, f"/coordinator/institutions/{pending.id}/verify", {"next": "https://evil.example"}
    )
    assert response.headers["location"] == "/coordinator"


def test_institution_page_lists_members_and_needs(client: TestClient, session: Session) -> None:
    member, institution = make_member(session)
    need = make_need(session, institution=institution, title="Teach GIS")
    _coordinator(client, session)
    soup = soup_of(client.get(f"/coordinator/institutions/{institution.id}"))
    assert text_of(soup.find("h1")) == institution.name
    assert member.email in text_of(soup.find("main"))
    link = soup.select_one(f'a[href="/coordinator/needs/{need.id}"]')
    assert link is not None and text_of(link) == "Teach GIS"


def test_institutions_list_filters_and_pages(client: TestClient, session: Session) -> None:
    for index in range(22):
        make_member(session, verified=True, name=f"Verified {index:02d}")
    make_member(session, verified=False, name="Pending one")
    _coordinator(client, session)

    pending = soup_of(client.get("/coordinator/institutions?status=pending"))
    assert [text_of(a) for a in pending.select("tbody td:first-child a")] == ["Pending one"]
    assert pending.select_one("input[name=status][value=pending]").has_attr("checked")  # type: ignore[union-attr]

    first = soup_of(client.get("/coordinator/institutions?status=verified"))
    assert len(first.select("tbody tr")) == 20
    assert "22 institutions" in text_of(first.select_one("#institutions-results"))
    next_link = first.select_one('.pagination a[rel="next"]')
    assert next_link["href"] == "/coordinator/institutions?status=verified&page=2"  # type: ignore[index]
    second = soup_of(client.get("/coordinator/institutions?status=verified&page=2"))
    assert len(second.select("tbody tr")) == 2


def test_expert_page_shows_the_full_profile(client: TestClient, session: Session) -> None:
    expert = make_expert(session)
    _coordinator(client, session)
    soup = soup_of(client.get(f"/coordinator/experts/{expert.id}"))
    main = text_of(soup.find("main"))
    assert text_of(soup.find("h1")) == "Awa Diallo"
    assert "+1 514 555 0100" in main and "@example.org" in main
    assert "French (Native)" in main and "Senegal" in main and "Canada" in main


def test_unknown_expert_is_404(client: TestClient, session: Session) -> None:
    _coordinator(client, session)
    assert client.get("/coordinator/experts/424242").status_code == 404


def test_roster_csv_is_an_attachment_with_every_expert(
    client: TestClient, session: Session
) -> None:
    make_expert(session)
    make_expert(session, display_name="Kofi Mensah", skills=["GIS", "hydrology"])
    _coordinator(client, session)

    response = client.get("/coordinator/experts.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["display_name"] for r in rows] == ["Awa Diallo", "Kofi Mensah"]
    assert rows[1]["skills"] == "GIS; hydrology"
    assert rows[0]["languages"] == "fr:native; en:fluent"
    assert rows[0]["email"].endswith("@example.org")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "experts.exported")).one()
    assert event.data == {"rows": 2}


def test_roster_csv_cannot_carry_formulas(client: TestClient, session: Session) -> None:
    make_expert(
        session,
        display_name='=HYPERLINK("http://evil.example","click")',
        headline="+cmd|' /C calc'!A0",
        city="-2+3",
        education="@SUM(1+1)",
        phone="+33 1 23 45 67 89",
        bio="=not exported",
    )
    _coordinator(client, session)
    row = next(
        csv.DictReader(io.StringIO(client.get("/coordinator/experts.csv").text.lstrip("\ufeff")))
    )
    assert row["display_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["headline"] == "'+cmd|' /C calc'!A0"
    assert row["city"] == "'-2+3"
    assert row["education"] == "'@SUM(1+1)"
    assert row["phone"] == "'+33 1 23 45 67 89"
    assert all(not value.startswith(("=", "+", "-", "@")) for value in row.values())


def test_roster_csv_is_for_coordinators_only(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    member, _ = make_member(session)
    expert_user = make_user(session, role=Role.EXPERT)
    for email in (member.email, expert_user.email):
        assert log_in_as(make_client(), email).get("/coordinator/experts.csv").status_code == 403
    anonymous = make_client().get("/coordinator/experts.csv")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "experts.exported")).all() == []
    )


def test_institution_type_and_country_are_named(client: TestClient, session: Session) -> None:
    make_member(session, verified=False, type="hospital", country="CI")
    _coordinator(client, session)
    cells = [
        text_of(td) for td in soup_of(client.get("/coordinator/institutions")).select("tbody td")
    ]
    assert "Hospital" in cells and "Côte d’Ivoire" in cells
    assert session.exec(select(Institution)).one().type == "hospital"


def test_engagements_by_month_count_each_month_at_its_bounds(session: Session) -> None:
    from datetime import UTC, date, datetime

    from service.repos.stats import engagements_by_month
    from tests.factories import make_engagement

    _, institution = make_member(session)
    need = make_need(session, institution=institution)
    offered = [
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),  # the first moment of this month
        datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC),  # the last of the month before
        datetime(2026, 1, 1, tzinfo=UTC),  # the first of the twelve months
        datetime(2025, 12, 31, 23, 0, tzinfo=UTC),  # before them: not counted
    ]
    for moment in offered:
        make_engagement(session, need=need, expert=make_expert(session), offered_at=moment)
    make_engagement(
        session,
        need=need,
        expert=make_expert(session),
        status="declined",
        offered_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    months = engagements_by_month(session, months=12, today=date(2026, 12, 2))
    assert [key for key, _ in months][:1] == ["2026-01"] and months[-1][0] == "2026-12"
    counts = dict(months)
    assert counts == {**{key: 0 for key, _ in months}, "2026-12": 1, "2026-11": 1, "2026-01": 1}
