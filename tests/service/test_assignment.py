"""The assignment plan: page, API, approval of the whole plan (atomic, audited) or of a need;
teams on the need review page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.core.accounts import create_api_token
from service.models import (
    AuditEvent,
    Engagement,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    Notification,
    Role,
    User,
)
from tests.conftest import csrf_token, login
from tests.factories import (
    PASSWORD,
    make_expert,
    make_member,
    make_need,
    make_proposal,
    make_user,
)
from tests.service.pages.helpers import error_beside, post_form
from tests.service.pages.test_institution_pages import _member_client, _need_form


@dataclass
class World:
    coordinator: User
    star: ExpertProfile
    others: list[ExpertProfile]
    needs: list[Need]
    star_proposals: list[MatchProposal]
    other_proposals: list[MatchProposal]


def build_world(session: Session) -> World:
    """Three needs of 4 h/week; one star expert tops all three but has ~4.6 h/week free;
    three other experts each fit one need a little less well."""
    _, institution = make_member(session)
    coordinator = make_user(session, role=Role.COORDINATOR)
    star = make_expert(session, display_name="Star Expert", hours_per_month=20)
    others = [
        make_expert(session, display_name=f"Second Choice {i}", hours_per_month=40)
        for i in range(3)
    ]
    needs = [
        make_need(session, institution=institution, title=f"Need number {i}", hours_per_week=4)
        for i in range(3)
    ]
    star_proposals = [
        make_proposal(session, need=n, expert=star, score=2.0 + i / 10) for i, n in enumerate(needs)
    ]
    other_proposals = [
        make_proposal(session, need=n, expert=o, score=1.5, rank=2)
        for n, o in zip(needs, others, strict=True)
    ]
    return World(coordinator, star, others, needs, star_proposals, other_proposals)


def _bearer(session: Session, user: User) -> dict[str, str]:
    token = create_api_token(session, user=user)
    session.commit()
    return {"authorization": f"Bearer {token}"}


def _planned(body: dict[str, Any]) -> dict[int, list[int]]:
    return {n["need_id"]: [o["expert_id"] for o in n["planned"]] for n in body["needs"]}


def test_the_plan_spreads_what_the_greedy_piles_on_one_expert(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    response = client.get("/api/assignment", headers=_bearer(session, world.coordinator))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["greedy"]["max_offers"] == 3 and body["greedy"]["over_capacity"] == 1
    assert body["plan"]["needs_covered"] == 3 and body["plan"]["over_capacity"] == 0
    assert body["plan"]["max_offers"] == 1
    planned = _planned(body)
    # The star goes where they score best (the last need); the others take the rest.
    assert planned[world.needs[2].id or 0] == [world.star.id]
    assert planned[world.needs[0].id or 0] == [world.others[0].id]
    assert body["plan"]["mean_score"] == (2.2 + 1.5 + 1.5) / 3


def test_an_excluded_pair_is_left_out_and_a_locked_pair_stays(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    headers = _bearer(session, world.coordinator)
    locked = world.star_proposals[0].id
    excluded = world.other_proposals[2].id
    response = client.post(
        "/api/assignment/solve", json={"locked": [locked], "excluded": [excluded]}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    planned = _planned(body)
    assert planned[world.needs[0].id or 0] == [world.star.id]
    assert world.others[2].id not in planned.get(world.needs[2].id or 0, [])
    assert body["locked"] == [locked] and body["excluded"] == [excluded]
    assert locked in body["proposal_ids"] and excluded not in body["proposal_ids"]
    # The same through the query string.
    again = client.get(f"/api/assignment?locked={locked}&excluded={excluded}", headers=headers)
    assert _planned(again.json()) == planned


def test_a_pair_both_locked_and_excluded_is_refused(session: Session, client: TestClient) -> None:
    world = build_world(session)
    pid = world.star_proposals[0].id
    response = client.post(
        "/api/assignment/solve",
        json={"locked": [pid], "excluded": [pid]},
        headers=_bearer(session, world.coordinator),
    )
    assert response.status_code == 422
    assert "both locked and excluded" in response.text


def test_filters_keep_to_one_country(session: Session, client: TestClient) -> None:
    world = build_world(session)
    _, moroccan = make_member(session, name="Université Mohammed V", country="MA")
    need = make_need(session, institution=moroccan, title="Moroccan need")
    make_proposal(session, need=need, expert=world.others[0], score=1.0)
    headers = _bearer(session, world.coordinator)
    body = client.get("/api/assignment?country=MA", headers=headers).json()
    assert [n["title"] for n in body["needs"]] == ["Moroccan need"]
    assert client.get("/api/assignment?country=ZZZ", headers=headers).status_code == 422


def test_approving_the_plan_makes_every_offer_and_is_audited(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    headers = _bearer(session, world.coordinator)
    plan = client.get("/api/assignment", headers=headers).json()
    response = client.post(
        "/api/assignment/approve", json={"proposal_ids": plan["proposal_ids"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 3
    engagements = session.exec(select(Engagement)).all()
    assert sorted(e.proposal_id for e in engagements) == sorted(plan["proposal_ids"])
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [e.action for e in events].count("proposal.approve") == 3
    whole = [e for e in events if e.action == "assignment.approve"]
    assert len(whole) == 1 and whole[0].actor_id == world.coordinator.id
    assert sorted(whole[0].data["proposal_ids"]) == sorted(plan["proposal_ids"])
    offers = session.exec(select(Notification).where(Notification.kind == "offer.new")).all()
    assert len(offers) == 3
    # Nothing is left to plan: every need has its expert.
    after = client.get("/api/assignment", headers=headers).json()
    assert after["needs"] == [] and after["plan"]["needs"] == 0


def test_approving_a_plan_is_all_or_nothing(session: Session, client: TestClient) -> None:
    world = build_world(session)
    headers = _bearer(session, world.coordinator)
    plan = client.get("/api/assignment", headers=headers).json()
    # Someone rejects one of the plan's proposals in the meantime.
    gone = plan["proposal_ids"][-1]
    rejected = client.post(
        f"/api/proposals/{gone}/reject", json={"reason": "Not now"}, headers=headers
    )
    assert rejected.status_code == 200
    response = client.post(
        "/api/assignment/approve", json={"proposal_ids": plan["proposal_ids"]}, headers=headers
    )
    assert response.status_code == 409, response.text
    session.expire_all()
    assert session.exec(select(Engagement)).all() == []
    statuses = {
        p.id: p.status for p in session.exec(select(MatchProposal)) if p.id in plan["proposal_ids"]
    }
    assert statuses == {pid: "rejected" if pid == gone else "proposed" for pid in statuses}
    actions = [e.action for e in session.exec(select(AuditEvent))]
    assert "assignment.approve" not in actions and "proposal.approve" not in actions


def test_a_plan_that_would_overload_an_expert_is_refused(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    headers = _bearer(session, world.coordinator)
    ids = [p.id for p in world.star_proposals[:2]]  # 8 h/week for ~4.6 h free
    response = client.post("/api/assignment/approve", json={"proposal_ids": ids}, headers=headers)
    assert response.status_code == 409
    assert "no longer has the capacity" in response.json()["detail"]
    assert session.exec(select(Engagement)).all() == []
    empty = client.post("/api/assignment/approve", json={"proposal_ids": []}, headers=headers)
    assert empty.status_code == 422 and "proposal_ids" in empty.text


def test_only_coordinators_plan(session: Session, client: TestClient) -> None:
    world = build_world(session)
    expert_user = session.get(User, world.star.user_id)
    assert expert_user is not None
    headers = _bearer(session, expert_user)
    assert client.get("/api/assignment", headers=headers).status_code == 403
    ids = [world.star_proposals[0].id]
    denied = client.post("/api/assignment/approve", json={"proposal_ids": ids}, headers=headers)
    assert denied.status_code == 403
    assert session.exec(select(Engagement)).all() == []


# --- pages ---------------------------------------------------------------------------------


def _coordinator_browser(client: TestClient, world: World) -> TestClient:
    login(client, world.coordinator.email, PASSWORD)
    return client


def test_the_plan_page_shows_the_plan_beside_the_greedy(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    browser = _coordinator_browser(client, world)
    response = browser.get("/coordinator/assignment")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    nav = page.select_one("nav.main-nav a[href='/coordinator/assignment']")
    assert nav is not None and nav.get("aria-current") == "page"
    table = page.select_one("[data-comparison]")
    assert table is not None
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    assert headers == ["Measure", "Plan", "Top candidate of each need"]
    rows = {
        tr["data-measure"]: [td.get_text(strip=True) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    }
    assert rows["needs_covered"] == ["3 / 3", "3 / 3"]
    assert rows["max_offers"] == ["1", "3"]
    assert rows["over_capacity"] == ["0", "1"]
    card = page.select_one(f"[data-need='{world.needs[0].id}']")
    assert card is not None
    assert "Second Choice 0" in card.select_one("[data-offer]").get_text()  # type: ignore[union-attr]
    assert "Star Expert" in card.select_one("[data-greedy]").get_text()  # type: ignore[union-attr]
    assert "épidémiologie" in card.get_text()  # the reasons: skills covered


def test_the_plan_page_in_french(session: Session, client: TestClient) -> None:
    world = build_world(session)
    world.coordinator.locale = "fr"
    session.add(world.coordinator)
    session.commit()
    browser = _coordinator_browser(client, world)
    page = BeautifulSoup(browser.get("/coordinator/assignment").text, "html.parser")
    assert page.select_one("h1").get_text(strip=True) == "Plan d’affectation"  # type: ignore[union-attr]
    table = page.select_one("[data-comparison]")
    assert table is not None
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    assert headers == ["Mesure", "Plan", "Meilleur candidat de chaque besoin"]


def test_lock_and_exclude_links_solve_again(session: Session, client: TestClient) -> None:
    world = build_world(session)
    browser = _coordinator_browser(client, world)
    page = BeautifulSoup(browser.get("/coordinator/assignment").text, "html.parser")
    card = page.select_one(f"[data-need='{world.needs[0].id}']")
    assert card is not None
    exclude = card.select_one("[data-exclude]")
    assert exclude is not None
    again = BeautifulSoup(browser.get(str(exclude["href"])).text, "html.parser")
    card = again.select_one(f"[data-need='{world.needs[0].id}']")
    assert card is not None and "Second Choice 0" not in card.select_one("[data-offer]").get_text()  # type: ignore[union-attr]
    assert again.select_one("[data-excluded]") is not None
    # Approving from the re-solved page keeps the exclusion.
    form = again.select_one("[data-approve-plan]")
    assert form is not None
    values = [i["value"] for i in form.select("input[name=excluded]")]
    assert values == [str(world.other_proposals[0].id)]


def test_approving_one_need_from_the_page(session: Session, client: TestClient) -> None:
    world = build_world(session)
    browser = _coordinator_browser(client, world)
    page = BeautifulSoup(browser.get("/coordinator/assignment").text, "html.parser")
    form = page.select_one(f"[data-need='{world.needs[1].id}'] [data-approve-need]")
    assert form is not None
    data: dict[str, Any] = {"csrf_token": csrf_token(browser)}
    data["proposal_ids"] = [i["value"] for i in form.select("input[name=proposal_ids]")]
    response = browser.post("/coordinator/assignment/approve", data=data)
    assert response.status_code == 303
    engagement = session.exec(select(Engagement)).one()
    assert engagement.need_id == world.needs[1].id
    after = BeautifulSoup(browser.get(response.headers["location"]).text, "html.parser")
    assert after.select_one(f"[data-need='{world.needs[1].id}']") is None
    assert "The offers are made" in after.get_text()


def test_a_stale_plan_is_refused_on_the_page_and_shown_again(
    session: Session, client: TestClient
) -> None:
    world = build_world(session)
    browser = _coordinator_browser(client, world)
    data = {
        "csrf_token": csrf_token(browser),
        "proposal_ids": [str(p.id) for p in world.star_proposals],
    }
    response = browser.post("/coordinator/assignment/approve", data=data)
    assert response.status_code == 409
    page = BeautifulSoup(response.text, "html.parser")
    error = page.select_one("[data-approve-error]")
    assert error is not None and "out of date" in error.get_text()
    assert page.select_one("[data-comparison]") is not None
    assert session.exec(select(Engagement)).all() == []


# --- teams ---------------------------------------------------------------------------------


def _skills(*pairs: tuple[str, str, float]) -> dict[str, Any]:
    return {
        "covered_skills": [
            {"required": r, "matched": m, "similarity": s, "how": "semantic"} for r, m, s in pairs
        ],
        "missing_skills": [],
    }


def _team_need(session: Session, institution: Institution) -> Need:
    """A need for two experts, asking for three skills no single candidate covers."""
    return make_need(
        session,
        institution=institution,
        required_skills=["survival analysis", "R training", "data management"],
        experts_wanted=2,
    )


def _covering(
    session: Session,
    need: Need,
    expert: ExpertProfile,
    *pairs: tuple[str, str, float],
    score: float,
    rank: int = 1,
    **fields: Any,
) -> MatchProposal:
    """A proposal whose explanation covers the skills in `pairs` (asked, found, similarity)."""
    return make_proposal(
        session,
        need=need,
        expert=expert,
        score=score,
        rank=rank,
        explanation=_skills(*pairs),
        **fields,
    )


def _data_manager(session: Session, need: Need, expert: ExpertProfile) -> MatchProposal:
    """The candidate ranked second who covers only data management."""
    return _covering(
        session,
        need,
        expert,
        ("data management", "clinical data management", 0.9),
        score=1.0,
        rank=2,
    )


def test_a_team_is_proposed_and_approved_in_one_action(
    session: Session, client: TestClient
) -> None:
    _, institution = make_member(session)
    coordinator = make_user(session, role=Role.COORDINATOR)
    need = _team_need(session, institution)
    stats = make_expert(session, display_name="Biostatistician")
    data = make_expert(session, display_name="Data Manager")
    weak = make_expert(session, display_name="Generalist")
    p_stats = _covering(
        session,
        need,
        stats,
        ("survival analysis", "survival analysis", 1.0),
        ("R training", "teaching R", 0.86),
        score=2.0,
    )
    p_data = _data_manager(session, need, data)
    _covering(session, need, weak, ("survival analysis", "statistics", 0.65), score=1.5, rank=3)
    login(client, coordinator.email, PASSWORD)
    page = BeautifulSoup(client.get(f"/coordinator/needs/{need.id}").text, "html.parser")
    team = page.select_one("[data-team]")
    assert team is not None
    members = {li["data-team-member"]: li.get_text(" ", strip=True) for li in team.select("li")}
    assert list(members) == [str(p_stats.id), str(p_data.id)]
    assert "survival analysis" in members[str(p_stats.id)]
    assert "teaching R" in members[str(p_stats.id)]
    assert "data management" in members[str(p_data.id)]
    assert "100%" in team.get_text() and "67%" in team.get_text()
    form = team.select_one("[data-approve-team]")
    assert form is not None
    response = client.post(
        str(form["action"]),
        data={
            "csrf_token": csrf_token(client),
            "action": "approve",
            "proposal_ids": [i["value"] for i in form.select("input[name=proposal_ids]")],
        },
    )
    assert response.status_code == 303
    offered = sorted(e.proposal_id for e in session.exec(select(Engagement)))
    assert offered == sorted([p_stats.id, p_data.id])
    api = client.get(
        f"/api/assignment/team?need_id={need.id}",
        headers=_bearer(session, coordinator),
    )
    assert api.status_code == 200 and api.json()["team"] is None  # decided: no pending team


def test_no_team_when_one_expert_covers_everything(session: Session, client: TestClient) -> None:
    world = build_world(session)
    browser = _coordinator_browser(client, world)
    page = BeautifulSoup(browser.get(f"/coordinator/needs/{world.needs[0].id}").text, "html.parser")
    # The factory's proposals cover one of two skills each, the same one: no team helps.
    assert page.select_one("[data-team]") is None
    body = browser.get(f"/api/assignment/team?need_id={world.needs[0].id}").json()
    assert body == {"need_id": world.needs[0].id, "team": None}


def test_a_need_says_how_many_experts_it_wants(session: Session, client: TestClient) -> None:
    member, _ = make_member(session)
    headers = _bearer(session, member)
    payload = {
        "title": "Biostatistics team",
        "description": "Survival analysis, R training and data management for our hospital.",
        "mode": "remote",
        "experts_wanted": 2,
    }
    response = client.post("/api/needs", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["experts_wanted"] == 2
    too_many = client.post("/api/needs", json={**payload, "experts_wanted": 4}, headers=headers)
    assert too_many.status_code == 422 and "experts_wanted" in too_many.text


def test_the_need_form_asks_how_many_experts(session: Session, client: TestClient) -> None:
    institution = _member_client(client, session)
    page = BeautifulSoup(client.get("/institution/needs/new").text, "html.parser")
    field = page.select_one("input[name=experts_wanted]")
    assert field is not None and field["value"] == "1"
    label = page.select_one(f"label[for={field['id']}]")
    assert label is not None and "Number of experts wanted" in label.get_text()
    refused = post_form(client, "/institution/needs/new", _need_form(experts_wanted="5"))
    assert refused.status_code == 422
    assert "3" in error_beside(refused, "experts_wanted")
    response = post_form(client, "/institution/needs/new", _need_form(experts_wanted="2"))
    assert response.status_code == 303
    need = session.exec(select(Need).where(Need.institution_id == institution.id)).one()
    assert need.experts_wanted == 2
    edit = BeautifulSoup(client.get(f"/institution/needs/{need.id}/edit").text, "html.parser")
    assert edit.select_one("input[name=experts_wanted]")["value"] == "2"  # type: ignore[index]


def test_locks_that_cannot_all_hold_are_reported(session: Session, client: TestClient) -> None:
    world = build_world(session)
    locked = [p.id for p in world.star_proposals[:2]]  # 8 h/week for ~4.6 h free
    body = client.post(
        "/api/assignment/solve",
        json={"locked": locked},
        headers=_bearer(session, world.coordinator),
    ).json()
    assert body["unsatisfiable_locks"] == sorted(locked) and body["locked"] == []
    assert body["plan"]["over_capacity"] == 0 and body["plan"]["needs_covered"] == 3
    browser = _coordinator_browser(client, world)
    query = "&".join(f"locked={i}" for i in locked)
    page = BeautifulSoup(browser.get(f"/coordinator/assignment?{query}").text, "html.parser")
    assert page.select_one("[data-unsatisfiable]") is not None


def test_the_team_from_the_proposals_a_page_holds_is_the_team_read_afresh(
    session: Session,
) -> None:
    from service.core.assignment import team_for_need
    from service.core.proposals import review_page_rows
    from service.models import ProposalStatus, Role

    _, institution = make_member(session)
    need = _team_need(session, institution)
    stats, data, rejected = (make_expert(session) for _ in range(3))
    _covering(session, need, stats, ("survival analysis", "survival analysis", 1.0), score=2.0)
    _data_manager(session, need, data)
    # Decided already: it covers what the others miss, and is in no team either way.
    _covering(
        session,
        need,
        rejected,
        ("R training", "teaching R", 0.95),
        ("data management", "dm", 1.0),
        score=3.0,
        rank=3,
        status=ProposalStatus.REJECTED,
    )
    # As the review page holds them: plain rows, each with its explanation read once.
    coordinator = make_user(session, role=Role.COORDINATOR)
    held = review_page_rows(session, need_id=need.id or 0, reader=coordinator)
    read = team_for_need(session, need=need)
    given = team_for_need(
        session, need=need, proposals=[(r["proposal"], r["explanation"]) for r in held]
    )
    assert read is not None and given is not None
    assert [p.id for p in given.proposals] == [p.id for p in read.proposals]
    assert given.team == read.team
    assert rejected.id not in {p.expert_id for p in given.proposals}
