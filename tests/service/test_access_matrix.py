"""Every route against every kind of visitor: 200, a redirect to log-in, 401 or 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user

VISITORS = ("anonymous", "expert", "member_unverified", "member_verified", "coordinator")

OK, LOGIN, DENIED, UNAUTH, NOT_FOUND = 200, "login", 403, 401, 404

# route -> expected outcome per visitor, in the order of VISITORS.
PAGES: dict[str, tuple[object, ...]] = {
    "/": (OK, OK, OK, OK, OK),
    "/privacy": (OK, OK, OK, OK, OK),
    "/login": (OK, "home", "home", "home", "home"),
    "/register": (OK, OK, OK, OK, OK),
    "/register/expert": (OK, OK, OK, OK, OK),
    "/register/institution": (OK, OK, OK, OK, OK),
    "/account": (LOGIN, OK, OK, OK, OK),
    "/expert": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/expert/profile": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/institution": (LOGIN, DENIED, OK, OK, DENIED),
    "/institution/needs/new": (LOGIN, DENIED, DENIED, OK, DENIED),
    "/institution/needs/{need}": (LOGIN, DENIED, NOT_FOUND, OK, DENIED),
    "/institution/needs/{need}/edit": (LOGIN, DENIED, DENIED, OK, DENIED),
    "/coordinator": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/roster": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/institution/experts": (LOGIN, DENIED, OK, OK, DENIED),
    "/expert/needs": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/expert/needs/{need}": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/institution/profile": (LOGIN, DENIED, OK, OK, DENIED),
    "/coordinator/institutions": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/institutions/{institution}": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/experts/{expert}": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/experts.csv": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/import": (LOGIN, DENIED, DENIED, DENIED, OK),
    # Engagements, review, notifications, reports, personal data ({need} is no engagement's id).
    "/coordinator/needs": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/needs/{need}": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/audit": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/outbox": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/engagements": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/engagements/{need}": (LOGIN, DENIED, DENIED, DENIED, NOT_FOUND),
    "/coordinator/reports": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/reports.csv": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/skills-gap": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/coordinator/skills-gap.csv": (LOGIN, DENIED, DENIED, DENIED, OK),
    "/expert/proposals": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/expert/engagements": (LOGIN, OK, DENIED, DENIED, DENIED),
    "/expert/engagements/{need}": (LOGIN, NOT_FOUND, DENIED, DENIED, DENIED),
    "/institution/proposals": (LOGIN, DENIED, OK, OK, DENIED),
    "/institution/engagements": (LOGIN, DENIED, OK, OK, DENIED),
    "/institution/engagements/{need}": (LOGIN, DENIED, NOT_FOUND, NOT_FOUND, DENIED),
    "/notifications": (LOGIN, OK, OK, OK, OK),
    "/account/notifications": (LOGIN, OK, OK, OK, OK),
    "/account/data": (LOGIN, OK, OK, OK, OK),
    "/account/data.json": (LOGIN, OK, OK, OK, OK),
}

API: dict[str, tuple[object, ...]] = {
    "/healthz": (OK, OK, OK, OK, OK),
    "/openapi.json": (OK, OK, OK, OK, OK),
    "/api/me": (UNAUTH, OK, OK, OK, OK),
    "/api/experts": (UNAUTH, DENIED, OK, OK, OK),
    "/api/experts/me": (UNAUTH, OK, DENIED, DENIED, DENIED),
    "/api/experts/roster": (UNAUTH, DENIED, DENIED, DENIED, OK),
    "/api/experts/{expert}": (UNAUTH, NOT_FOUND, OK, OK, OK),
    "/api/institutions": (UNAUTH, DENIED, DENIED, DENIED, OK),
    "/api/institutions/mine": (UNAUTH, DENIED, OK, OK, DENIED),
    "/api/institutions/{institution}": (UNAUTH, OK, OK, OK, OK),
    "/api/institutions/{pending_institution}": (UNAUTH, NOT_FOUND, OK, NOT_FOUND, OK),
    "/api/needs": (UNAUTH, OK, OK, OK, OK),
    "/api/needs/mine": (UNAUTH, DENIED, OK, OK, DENIED),
    "/api/needs/{need}": (UNAUTH, OK, NOT_FOUND, OK, OK),
    "/api/audit": (UNAUTH, DENIED, DENIED, DENIED, OK),
    "/api/skills": (UNAUTH, OK, OK, OK, OK),
    "/api/proposals": (UNAUTH, DENIED, DENIED, DENIED, 422),  # needs ?need_id=
    "/api/engagements": (UNAUTH, OK, OK, OK, OK),
    "/api/engagements/{need}": (UNAUTH, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "/api/notifications": (UNAUTH, OK, OK, OK, OK),
    "/api/reports/impact": (UNAUTH, DENIED, DENIED, DENIED, OK),
    "/api/reports/skills-gap": (UNAUTH, DENIED, DENIED, DENIED, OK),
    "/api/me/data": (UNAUTH, OK, OK, OK, OK),
}


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    member, institution = make_member(session, verified=True)
    pending_member, pending_institution = make_member(
        session, verified=False, name="Clinique en attente"
    )
    expert = make_expert(session)
    need = make_need(session, institution=institution)
    coordinator = make_user(session, role=Role.COORDINATOR)
    other_expert = make_user(session, role=Role.EXPERT)
    make_expert(session, user=other_expert, display_name="Other")
    return {
        "users": {
            "expert": other_expert,
            "member_unverified": pending_member,
            "member_verified": member,
            "coordinator": coordinator,
        },
        "need": need.id,
        "expert": expert.id,
        "institution": institution.id,
        "pending_institution": pending_institution.id,
    }


def _client_for(
    visitor: str, world: dict[str, object], make_client: Callable[[], TestClient]
) -> TestClient:
    client = make_client()
    if visitor != "anonymous":
        user = world["users"][visitor]  # type: ignore[index]
        login(client, user.email, PASSWORD)
    return client


def _check(response_status: int, location: str, expected: object) -> None:
    if expected == LOGIN:
        assert response_status == 303 and location.startswith("/login?next="), (
            response_status,
            location,
        )
    elif expected == "home":
        assert response_status == 303 and not location.startswith("/login"), (
            response_status,
            location,
        )
    else:
        assert response_status == expected, (response_status, location)


@pytest.mark.parametrize("visitor", VISITORS)
def test_page_access(
    visitor: str, world: dict[str, object], make_client: Callable[[], TestClient]
) -> None:
    client = _client_for(visitor, world, make_client)
    index = VISITORS.index(visitor)
    for route, outcomes in PAGES.items():
        path = route.format(**{k: v for k, v in world.items() if k != "users"})
        response = client.get(path)
        _check(response.status_code, response.headers.get("location", ""), outcomes[index])


@pytest.mark.parametrize("visitor", VISITORS)
def test_api_access(
    visitor: str, world: dict[str, object], make_client: Callable[[], TestClient]
) -> None:
    client = _client_for(visitor, world, make_client)
    index = VISITORS.index(visitor)
    for route, outcomes in API.items():
        path = route.format(**{k: v for k, v in world.items() if k != "users"})
        response = client.get(path)
        _check(response.status_code, response.headers.get("location", ""), outcomes[index])


def _get_paths(routes: list[object]) -> list[str]:
    """Walks the routers (FastAPI nests included routers) and lists the GET paths."""
    paths: list[str] = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            paths.extend(_get_paths(original.routes))
        elif "GET" in (getattr(route, "methods", None) or set()):
            paths.append(route.path)  # type: ignore[attr-defined]
    return paths


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    """A new GET route must be added to the matrix above."""
    paths = [p for p in _get_paths(client.app.routes) if not p.startswith(("/docs", "/redoc"))]  # type: ignore[attr-defined]
    assert "/api/needs/{need_id}" in paths and "/coordinator" in paths
    listed = {route.split("{")[0] for route in (*PAGES, *API)}
    missing = [p for p in paths if p.split("{")[0] not in listed]
    assert not missing, f"missing from the access matrix: {missing}"
