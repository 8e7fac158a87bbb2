"""The OpenAPI schema tells the truth: bounded integers, declared error bodies, empty last pages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.core.accounts import create_api_token
from service.models import Role, User
from service.schemas.common import MAX_ID
from tests.factories import make_expert, make_member, make_need, make_proposal, make_user

PAST_64_BITS = 2**63


def _bearer(session: Session, user: User) -> dict[str, str]:
    token = create_api_token(session, user=user)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _coordinator(session: Session) -> dict[str, str]:
    return _bearer(session, make_user(session, role=Role.COORDINATOR))


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return dict(target)


def _unbounded_integers(doc: dict[str, Any], node: Any, where: str, seen: set[str]) -> list[str]:
    """Lists every integer in a schema (following references) without both bounds."""
    if isinstance(node, list):
        return [
            p for i, item in enumerate(node) for p in _unbounded_integers(doc, item, where, seen)
        ]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        if node["$ref"] in seen:
            return []
        seen.add(node["$ref"])
        return _unbounded_integers(doc, _resolve(doc, node), node["$ref"], seen)
    found = []
    if node.get("type") == "integer" and not (
        node.get("minimum") is not None and 0 < node.get("maximum", MAX_ID + 1) <= MAX_ID
    ):
        found.append(where)
    for key, value in node.items():
        found += _unbounded_integers(doc, value, f"{where}/{key}", seen)
    return found


def test_every_integer_a_caller_sends_is_bounded(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    unbounded: list[str] = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded_integers(
                    doc, parameter["schema"], f"{method} {path} {parameter['name']}", set()
                )
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                unbounded += _unbounded_integers(doc, media["schema"], f"{method} {path}", set())
    assert unbounded == []


def test_every_api_operation_declares_the_error_bodies_it_really_sends(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    error = "#/components/schemas/ErrorBody"
    invalid = "#/components/schemas/InvalidRequestBody"
    conflict = "#/components/schemas/ConflictBody"
    expected = {"400": error, "401": error, "403": error, "404": error, "409": conflict}
    expected |= {"413": error, "422": invalid}
    operations = 0
    for path, methods in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in methods.values():
            operations += 1
            declared = {
                code: response["content"]["application/json"]["schema"]["$ref"]
                for code, response in operation["responses"].items()
                if code in expected
            }
            assert declared == expected, path
    assert operations > 30
    assert "HTTPValidationError" not in doc["components"]["schemas"]


# Operations whose bodies are a free-form object: none; every answer names its model, so the
# fuzzer checks its fields.
FREE_FORM: set[str] = set()


def test_every_api_answer_declares_the_fields_of_its_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    free_form = set()
    for path, methods in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2") and schema is not None:
                    body = _resolve(doc, schema)
                    if body.get("type") == "array":
                        body = _resolve(doc, body["items"])
                    if not body.get("properties"):
                        free_form.add(f"{method} {path}")
    assert free_form <= FREE_FORM, sorted(free_form - FREE_FORM)


def test_an_id_past_64_bits_is_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    headers = _coordinator(session)
    response = client.get(f"/api/institutions/{PAST_64_BITS}", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "institution_id"
    past_32_bits = client.get(f"/api/institutions/{MAX_ID + 1}", headers=headers)
    assert past_32_bits.status_code == 422
    largest = client.get(f"/api/institutions/{MAX_ID}", headers=headers)
    assert largest.status_code == 404
    assert largest.json() == {"detail": "This institution does not exist."}


def test_query_and_body_ids_past_64_bits_are_refused(client: TestClient, session: Session) -> None:
    headers = _coordinator(session)
    audit = client.get(f"/api/audit?entity_type=need&entity_id={PAST_64_BITS}", headers=headers)
    assert audit.status_code == 422 and audit.json()["errors"][0]["field"] == "entity_id"
    proposals = client.get(f"/api/proposals?need_id={PAST_64_BITS}", headers=headers)
    assert proposals.status_code == 422 and proposals.json()["errors"][0]["field"] == "need_id"
    bulk = client.post(
        "/api/proposals/bulk",
        json={"need_id": PAST_64_BITS, "proposal_ids": [1], "action": "approve"},
        headers=headers,
    )
    assert bulk.status_code == 422 and bulk.json()["errors"][0]["field"] == "need_id"


def test_a_page_with_an_id_past_64_bits_is_not_found(client: TestClient, session: Session) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    client.cookies.clear()
    from tests.conftest import login
    from tests.factories import PASSWORD

    login(client, coordinator.email, PASSWORD)
    response = client.get(f"/coordinator/institutions/{PAST_64_BITS}")
    # No institution can have that id: the page is not found (never a 500, nor the code's
    # field name).
    assert response.status_code == 404
    assert "institution_id" not in response.text


def test_a_page_past_the_end_is_empty_with_the_right_total(
    client: TestClient, session: Session
) -> None:
    headers = _coordinator(session)
    make_member(session, verified=True)
    make_member(session, verified=False, name="Hôpital régional de Thiès")
    response = client.get("/api/institutions?page=100000&size=100", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 2, "page": 100000, "size": 100}


def test_a_domain_refusal_lists_fields_as_a_refused_request_does(
    client: TestClient, session: Session
) -> None:
    headers = _coordinator(session)
    _, institution = make_member(session, verified=True)
    need = make_need(session, institution=institution)
    proposal = make_proposal(session, need=need, expert=make_expert(session))
    response = client.post(
        f"/api/proposals/{proposal.id}/reject", json={"reason": ""}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "reason", "message": "Please give a reason for the rejection."}
    ]


def test_an_oversized_body_answers_the_declared_error_body(
    client: TestClient, session: Session
) -> None:
    headers = _coordinator(session)
    response = client.post(
        "/api/me/tokens",
        content=b"x" * (client.app.state.homeward.settings.max_body_bytes + 1),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


def test_no_write_schema_accepts_text_longer_than_its_column() -> None:
    # SQLite keeps text past a VARCHAR's length; PostgreSQL refuses it with a 500.
    from service.models import ExpertProfile, Institution, Need
    from service.schemas.experts import ExpertProfileUpdate
    from service.schemas.institutions import InstitutionUpdate
    from service.schemas.needs import NeedWrite

    too_long = []
    for schema, model in (
        (NeedWrite, Need),
        (ExpertProfileUpdate, ExpertProfile),
        (InstitutionUpdate, Institution),
    ):
        columns = model.__table__.columns  # type: ignore[attr-defined]
        for name, field in schema.model_json_schema()["properties"].items():
            length = getattr(columns[name].type, "length", None) if name in columns else None
            if length is None:
                continue
            # Free text declares its limit; codes and choices are checked by their validators.
            if field.get("maxLength", 0) > length:
                too_long.append(f"{schema.__name__}.{name}")
    assert too_long == []


def test_a_city_longer_than_its_column_is_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    member, _ = make_member(session, verified=True)
    response = client.post(
        "/api/needs",
        json={
            "title": "Former des techniciens de laboratoire",
            "description": "Deux semaines de formation aux bonnes pratiques de laboratoire.",
            "mode": "remote",
            "city": "Saint-Louis " * 11,
        },
        headers=_bearer(session, member),
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["city"]
