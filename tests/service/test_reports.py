"""Impact and skills-gap reports on a small hand-built world, figure by figure."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Engagement, EngagementFeedback, Role
from tests.conftest import login
from tests.factories import (
    PASSWORD,
    make_expert,
    make_institution,
    make_need,
    make_proposal,
    make_user,
)


def _at(month: int, day: int) -> datetime:
    return datetime(2027, month, day, tzinfo=UTC)


def _engagement(
    session: Session, need: Any, expert: Any, score: float, **fields: Any
) -> Engagement:
    proposal = make_proposal(session, need=need, expert=expert, score=score, status="approved")
    engagement = Engagement(
        proposal_id=proposal.id or 0, need_id=need.id, expert_id=expert.id, **fields
    )
    session.add(engagement)
    session.commit()
    return engagement


def _feedback(session: Session, engagement: Engagement, side: str, rating: int, hours: int) -> None:
    session.add(
        EngagementFeedback(
            engagement_id=engagement.id or 0,
            side=side,
            rating=rating,
            hours=hours,
            would_repeat=rating > 3,
        )
    )
    session.commit()


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """Two institutions, four open needs, four active experts and one inactive, five engagements."""
    senegal = make_institution(session, name="UCAD", country="SN")
    ivory = make_institution(session, name="CHU Treichville", country="CI")
    n1 = make_need(
        session,
        institution=senegal,
        title="Épidémiologie",
        sector="health",
        posted_at=_at(1, 1),
        required_skills=["Épidémiologie", "Biostatistique"],
    )
    n2 = make_need(
        session,
        institution=senegal,
        title="Pédagogie",
        sector="education",
        mode="mission",
        posted_at=_at(1, 5),
        required_skills=["Pédagogie", "epidemiologie"],
    )
    n3 = make_need(
        session,
        institution=ivory,
        title="Santé",
        sector="health",
        posted_at=_at(1, 10),
        required_skills=["ÉPIDÉMIOLOGIE", "Santé publique"],
    )
    n4 = make_need(
        session,
        institution=ivory,
        title="Irrigation",
        sector="water",
        posted_at=_at(1, 20),
        required_skills=["Irrigation", "Hydrologie"],
    )
    x1 = make_expert(session, skills=["epidemiologie", "Biostatistique"])
    x2 = make_expert(session, skills=["Épidémiologie"])
    x3 = make_expert(session, skills=["pedagogie"])
    x4 = make_expert(session, skills=["Statistics"])
    make_expert(session, skills=["Irrigation"], active=False)
    e1 = _engagement(
        session,
        n1,
        x1,
        0.9,
        status="completed",
        mode="remote",
        offered_at=_at(1, 2),
        confirmed_at=_at(1, 5),
    )
    _feedback(session, e1, "expert", 5, 30)
    _feedback(session, e1, "institution", 4, 25)
    _engagement(
        session,
        n2,
        x3,
        0.45,
        status="cancelled",
        mode="mission",
        offered_at=_at(1, 6),
        confirmed_at=_at(1, 15),
    )
    e3 = _engagement(
        session,
        n3,
        x2,
        0.7,
        status="active",
        mode="remote",
        offered_at=_at(1, 11),
        confirmed_at=_at(1, 17),
    )
    _feedback(session, e3, "institution", 3, 12)
    _engagement(session, n1, x4, 0.3, status="declined", mode="remote", offered_at=_at(1, 3))
    _engagement(session, n3, x1, 0.2, status="offered", mode="remote", offered_at=_at(3, 1))
    return {"needs": [n1, n2, n3, n4]}


def test_impact_figures_all_time(world: dict[str, Any], session: Session) -> None:
    from service.core.reports import impact_report

    report = impact_report(session)
    assert report["engagements"] == 5
    assert {k: v for k, v in report["by_status"].items() if v} == {
        "completed": 1,
        "cancelled": 1,
        "active": 1,
        "declined": 1,
        "offered": 1,
    }
    assert report["by_country"] == {"SN": 3, "CI": 2}
    assert report["by_sector"] == {"health": 4, "education": 1}
    assert report["by_mode"] == {"remote": 4, "mission": 1}
    assert report["hours_contributed"] == 42  # 30 (expert's count) + 12 (institution's)
    assert report["hours_by_country"] == {"SN": 30, "CI": 12}
    assert report["median_days_to_confirm"] == 7.0  # of 4, 10 and 7 days
    assert report["completion_rate"] == 0.5  # 1 completed, 1 cancelled after confirmation
    assert report["ratings"] == {
        "count": 3,
        "average": 4.0,
        "expert_average": 5.0,
        "institution_average": 3.5,
        "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
        "would_repeat": 2,
    }


def test_impact_figures_for_a_period(world: dict[str, Any], session: Session) -> None:
    from service.core.reports import impact_report

    report = impact_report(session, date_from=_at(1, 1).date(), date_to=_at(1, 31).date())
    assert report["engagements"] == 4 and report["by_status"]["offered"] == 0
    assert report["by_country"] == {"SN": 3, "CI": 1}
    report = impact_report(session, date_from=_at(1, 6).date(), date_to=_at(1, 6).date())
    assert report["engagements"] == 1 and report["by_mode"] == {"mission": 1}
    assert report["completion_rate"] == 0.0 and report["hours_contributed"] == 0


def test_skills_gap(world: dict[str, Any], session: Session) -> None:
    from service.core.reports import skills_gap

    report = skills_gap(session, threshold=0.5)
    assert report["open_needs"] == 4 and report["uncovered_count"] == 2
    n1, n2, n3, n4 = world["needs"]
    assert [(n["id"], n["best_score"]) for n in report["uncovered_needs"]] == [
        (n2.id, 0.45),
        (n4.id, None),
    ]
    rows = [
        (s["skill"], s["open_needs"], s["uncovered_needs"], s["active_experts"])
        for s in report["skills"]
    ]
    assert rows == [
        ("Épidémiologie", 3, 1, 2),
        ("Hydrologie", 1, 1, 0),
        ("Irrigation", 1, 1, 0),  # the only expert offering it is inactive
        ("Pédagogie", 1, 1, 1),
        ("Santé publique", 1, 0, 0),
        ("Biostatistique", 1, 0, 1),
    ]
    assert report["by_sector"] == {
        "education": {"open_needs": 1, "uncovered": 1},
        "health": {"open_needs": 2, "uncovered": 0},
        "water": {"open_needs": 1, "uncovered": 1},
    }
    assert report["by_country"] == {
        "CI": {"open_needs": 2, "uncovered": 1},
        "SN": {"open_needs": 2, "uncovered": 1},
    }
    assert skills_gap(session, threshold=0.8)["uncovered_count"] == 3  # n3's best is 0.7


def _staff(session: Session, make_client: Callable[[], TestClient]) -> TestClient:
    coordinator = make_user(session, role=Role.COORDINATOR)
    browser = make_client()
    login(browser, coordinator.email, PASSWORD)
    return browser


def test_report_pages_show_figures_charts_and_tables(
    world: dict[str, Any], session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff(session, make_client)
    page = BeautifulSoup(
        browser.get("/coordinator/reports?from=2027-01-01&to=2027-01-31").text, "html.parser"
    )
    figures = {d["data-figure"]: d.get_text(strip=True) for d in page.select("[data-figure]")}
    assert figures == {
        "engagements": "4",
        "completed": "1",
        "completion_rate": "50%",
        "hours": "42",
        "median_days": "7",
        "rating": "4",
    }
    country = page.select_one("[data-chart=country]")
    assert country is not None
    svg = country.select_one("svg[role=img]")
    assert svg is not None and svg["aria-labelledby"] == "chart-country-title"
    assert [r.get_text(" ", strip=True) for r in country.select("tbody tr")] == [
        "Senegal 3",
        "Côte d’Ivoire 1",
    ]  # names, not codes
    widths = [float(r["width"]) for r in svg.select("rect")]  # type: ignore[arg-type]
    assert widths[0] == 380.0 and widths[1] == pytest.approx(380 / 3, abs=0.5)
    assert page.select_one("a[href='/coordinator/reports.csv?from=2027-01-01&to=2027-01-31']")
    # The test's scores are 0.2-0.9, all under the default "good match" (3.0): ask for 0.5.
    gap = BeautifulSoup(browser.get("/coordinator/skills-gap?threshold=0.5").text, "html.parser")
    assert gap.select_one("[data-figure=uncovered]").get_text(strip=True) == "2"  # type: ignore[union-attr]
    assert gap.select_one("[data-skills] tr[data-skill]").th.get_text(strip=True) == "Épidémiologie"  # type: ignore[union-attr]
    assert {r["data-need"] for r in gap.select("[data-uncovered] [data-need]")} == {
        str(world["needs"][1].id),
        str(world["needs"][3].id),
    }


def test_csv_exports(
    world: dict[str, Any], session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff(session, make_client)
    response = browser.get("/coordinator/reports.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "key", "value"]
    assert ["total", "hours_contributed", "42"] in rows and ["by_country", "SN", "3"] in rows
    assert ["total", "completion_rate", "0.5"] in rows
    response = browser.get("/coordinator/skills-gap.csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[:3] == [
        ["skill", "open_needs", "uncovered_needs", "active_experts", "gap", "variants"],
        # Under the default threshold (a "good match", 3.0 on the score scale), the best
        # proposals of these needs (0.7-0.9) leave all three poorly covered.
        ["Épidémiologie", "3", "3", "2", "1", ""],
        ["Hydrologie", "1", "1", "0", "1", ""],
    ]
    reversed_period = browser.get("/coordinator/reports?from=2027-03-01&to=2027-01-01")
    assert reversed_period.status_code == 422
    assert "The end of the period comes before its start." in reversed_period.text
    api = browser.get("/api/reports/impact?from=2027-03-01").json()
    assert api["engagements"] == 1 and api["by_status"]["offered"] == 1
    assert browser.get("/api/reports/skills-gap?threshold=0.8").json()["uncovered_count"] == 3


@pytest.mark.parametrize(("locale", "rate"), [("fr", "50\xa0%"), ("es", "50\xa0%"), ("pt", "50%")])
def test_report_figures_are_written_the_readers_way(
    locale: str,
    rate: str,
    world: dict[str, Any],
    session: Session,
    make_client: Callable[[], TestClient],
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR, locale=locale)
    browser = make_client()
    login(browser, coordinator.email, PASSWORD)
    page = BeautifulSoup(
        browser.get("/coordinator/reports?from=2027-01-01&to=2027-01-31").text, "html.parser"
    )
    figures = {d["data-figure"]: d.get_text(strip=True) for d in page.select("[data-figure]")}
    assert (figures["completion_rate"], figures["median_days"]) == (rate, "7")


def test_the_coverage_is_a_share_of_open_needs_never_a_score(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    """Three open needs: one whose best proposal scores 4.2 (a good match from 3.0), one at
    2.1 and one with none. By hand: 1 of 3 well covered, 0.333; "Épidémiologie", asked by the
    first two, 1 of 2, 0.5; "الإحصاء الحيوي", asked only by the third, 0."""
    from service.core.reports import skills_gap

    dakar = make_institution(session, name="Université Cheikh Anta Diop", country="SN")
    rabat = make_institution(session, name="جامعة محمد الخامس", country="MA")
    expert = make_expert(session, skills=["Épidémiologie"])
    good = make_need(session, institution=dakar, required_skills=["Épidémiologie"])
    poor = make_need(
        session, institution=dakar, title="Santé publique", required_skills=["épidémiologie"]
    )
    make_need(session, institution=rabat, title="الإحصاء", required_skills=["الإحصاء الحيوي"])
    make_proposal(session, need=good, expert=expert, score=4.2)
    make_proposal(session, need=poor, expert=expert, score=2.1)

    report = skills_gap(session)
    assert report["threshold"] == 3.0
    assert (report["open_needs"], report["uncovered_count"], report["coverage"]) == (3, 2, 0.333)
    coverage = {row["skill"]: row["coverage"] for row in report["skills"]}
    assert coverage == {"Épidémiologie": 0.5, "الإحصاء الحيوي": 0.0}
    assert all(0 <= row["coverage"] <= 1 for row in report["skills"])
    assert skills_gap(session, threshold=2.0)["coverage"] == 0.667

    browser = _staff(session, make_client)
    page = BeautifulSoup(browser.get("/coordinator/skills-gap").text, "html.parser")
    meter = page.select_one("[data-figure=coverage] meter")
    assert meter is not None
    assert (float(meter["value"]), meter["min"], meter["max"]) == (0.333, "0", "1")  # type: ignore[arg-type]
    assert page.select_one("[data-figure=coverage]").get_text(strip=True) == "33%"  # type: ignore[union-attr]
    cells = {
        tr.th.get_text(strip=True): tr.select("td")[-1].get_text(strip=True)  # type: ignore[union-attr]
        for tr in page.select("[data-skills] tr[data-skill]")
    }
    assert cells == {"Épidémiologie": "50%", "الإحصاء الحيوي": "0%"}
    # The threshold is a score: its field holds 3.0 within its bounds, so the form submits.
    field = page.select_one("input#threshold")
    assert field is not None
    assert float(field["min"]) <= float(field["value"]) <= float(field["max"])  # type: ignore[arg-type]
    assert field["aria-describedby"] == "threshold-help" and page.select_one("#threshold-help")


def test_no_open_need_has_no_coverage(session: Session) -> None:
    from service.core.reports import skills_gap

    assert skills_gap(session)["coverage"] is None
