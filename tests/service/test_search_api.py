"""Roster and needs search over the API: the right index per reader, facets, bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.indexing import drain_outbox, reindex_all
from service.models import Role
from service.search import SearchBackend
from service.security import CSRF_COOKIE
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_user


@pytest.fixture
def roster(session: Session, engine: Engine, search_backend: SearchBackend) -> dict[str, int]:
    awa = make_expert(
        session, display_name="Awa Diallo", skills=["épidémiologie", "biostatistique"]
    )
    hidden = make_expert(
        session,
        display_name="Karim Bennani",
        headline="Epidemiologist",
        skills=["epidemiology", "surveillance"],
        origin_country="MA",
        languages=[{"code": "ar", "level": "native"}],
        visibility="coordinators",
    )
    make_expert(
        session,
        display_name="Lucía Gómez",
        headline="Ingeniera civil",
        bio="Puentes y carreteras.",
        skills=["ingeniería civil", "hormigón"],
        origin_country="CO",
        languages=[{"code": "es", "level": "native"}],
        sectors=["engineering"],
    )
    _, institution = make_member(session)
    make_need(session, institution=institution)
    reindex_all(engine, search_backend)
    return {"awa": awa.id or 0, "hidden": hidden.id or 0}


def _as(client: TestClient, session: Session, role: Role) -> None:
    if role == Role.INSTITUTION:
        user, _ = make_member(session, name="Hôpital de Fann")
    else:
        user = make_user(session, role=role)
    login(client, user.email, PASSWORD)


def test_coordinator_finds_experts_with_facets_and_email(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.COORDINATOR)
    body = client.get("/api/experts", params={"q": "epidemiologie"}).json()
    ids = {item["id"] for item in body["items"]}
    assert ids == {roster["awa"], roster["hidden"]}
    assert all("email" in item for item in body["items"])
    countries = {f["value"]: f["count"] for f in body["facets"]["country"]}
    assert countries == {"SN": 1, "MA": 1}
    assert any("<mark>" in "".join(item["highlights"].values()) for item in body["items"])


def test_institution_never_sees_contact_or_hidden_experts(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.INSTITUTION)
    body = client.get("/api/experts", params={"q": "epidemiology"}).json()
    ids = {item["id"] for item in body["items"]}
    assert roster["hidden"] not in ids
    assert roster["awa"] in ids
    for item in body["items"]:
        assert "email" not in item and "phone" not in item and "display_name" not in item


def test_filters_narrow_and_unknown_values_give_nothing(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.COORDINATOR)
    spanish = client.get("/api/experts", params={"language": "es"}).json()
    assert [item["display_name"] for item in spanish["items"]] == ["Lucía Gómez"]
    assert client.get("/api/experts", params={"country": "ZZ"}).json()["total"] == 0


def test_unknown_parameter_is_a_422_naming_it(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.COORDINATOR)
    response = client.get("/api/experts", params={"colour": "blue"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "colour", "message": "This search has no such filter."}
    ]
    bad_date = client.get("/api/experts", params={"available": "soon"})
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"] == [
        {
            "field": "available",
            "message": "Choose “now”, a month such as 2027-01 or a date such as 2027-01-15.",
        }
    ]


@pytest.mark.parametrize(
    ("locale", "unknown", "too_long"),
    [
        ("en", "This search has no such filter.", "This filter is too long."),
        ("fr", "Cette recherche n'a pas de tel filtre.", "Ce filtre est trop long."),
        ("ar", None, None),
    ],
)
def test_a_refused_search_parameter_is_named_in_the_readers_language(
    locale: str,
    unknown: str | None,
    too_long: str | None,
    client: TestClient,
    session: Session,
    roster: dict[str, int],
) -> None:
    """The 422 names the parameter and says why in the catalogue's words, in the language the
    account reads the site in."""
    from service.i18n import translations_for

    login(client, make_user(session, role=Role.COORDINATOR, locale=locale).email, PASSWORD)
    catalogue = translations_for(locale)
    headers = {"accept-language": locale}
    response = client.get("/api/needs", params={"couleur": "bleu"}, headers=headers)
    assert response.status_code == 422
    said = catalogue.gettext("This search has no such filter.")
    assert response.json()["errors"] == [{"field": "couleur", "message": unknown or said}]
    long_value = "Épidémiologie appliquée à la santé publique, " * 3  # 138 characters
    response = client.get("/api/experts", params={"skill": long_value}, headers=headers)
    assert response.status_code == 422
    said = catalogue.gettext("This filter is too long.")
    assert response.json()["errors"] == [{"field": "skill", "message": too_long or said}]
    if locale == "ar":
        assert all("\u0600" <= c <= "\u06ff" for c in said if c.isalpha())


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        "NEAR(a b)",
        "a* OR -b",
        "title:x",
        "((((",
        "x" * 10_000,
        "طبيب",
        "🩺 médecin",
        "-",
        "*",
    ],
)
def test_hostile_queries_never_fail(
    client: TestClient, session: Session, roster: dict[str, int], text: str
) -> None:
    _as(client, session, Role.COORDINATOR)
    response = client.get("/api/experts", params={"q": text})
    assert response.status_code == 200
    assert isinstance(response.json()["items"], list)


def test_experts_cannot_search_the_roster(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.EXPERT)
    assert client.get("/api/experts").status_code == 403


def test_experts_browse_open_needs(
    client: TestClient, session: Session, roster: dict[str, int]
) -> None:
    _as(client, session, Role.EXPERT)
    body = client.get("/api/needs", params={"q": "épidémiologie", "mode": "remote"}).json()
    assert [item["title"] for item in body["items"]] == ["Co-enseigner un module d'épidémiologie"]
    assert body["facets"]["country"] == [{"value": "SN", "count": 1}]


def test_profile_change_reaches_search_through_the_outbox(
    client: TestClient,
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    roster: dict[str, int],
) -> None:
    user = make_user(session, role=Role.EXPERT)
    make_expert(session, user=user, display_name="Nadia Haddad", skills=["radiologie"])
    login(client, user.email, PASSWORD)
    profile = client.get("/api/experts/me").json()
    payload = {
        k: profile[k]
        for k in (
            "display_name",
            "headline",
            "bio",
            "languages",
            "origin_country",
            "residence_country",
            "timezone",
            "modes",
            "hours_per_month",
            "sectors",
        )
    }
    response = client.put(
        "/api/experts/me",
        json={**payload, "skills": ["hydrogéologie"]},
        headers={"x-csrf-token": client.cookies[CSRF_COOKIE]},
    )
    assert response.status_code == 200
    coordinator = make_user(session, role=Role.COORDINATOR)
    staff = TestClient(client.app, follow_redirects=False)
    login(staff, coordinator.email, PASSWORD)
    assert staff.get("/api/experts", params={"q": "hydrogeologie"}).json()["total"] == 0
    assert drain_outbox(engine, search_backend).applied >= 2
    found = staff.get("/api/experts", params={"q": "hydrogeologie"}).json()["items"]
    assert [item["display_name"] for item in found] == ["Nadia Haddad"]
