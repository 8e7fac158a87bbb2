"""Every API operation, fuzzed in-process by schemathesis as each kind of caller.

The OpenAPI schema is the contract: for any input, valid or not, the API answers without a
server error, with a status code the schema declares and a body that fits its schema.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from service.config import Settings
from service.core.accounts import create_api_token
from service.core.proposals import approve_proposal
from service.main import create_app
from service.models import Role, User
from service.state import AppState
from tests.factories import make_expert, make_member, make_need, make_proposal, make_user

ROLES = ("anonymous", "expert", "member_pending", "member_verified", "coordinator", "admin")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Examples per operation, role and generation mode; enough to reach the edges of every
# parameter (hypothesis tries the bounds first) while the whole file stays under two minutes.
EXAMPLES = int(os.environ.get("HOMEWARD_FUZZ_EXAMPLES", "12"))
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261201,
        "generation": {"mode": "all", "deterministic": True, "max-examples": EXAMPLES},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


def seed_world(session: Session, settings: Settings) -> dict[str, str]:
    """Seeds a small world where every kind of id exists; returns an API token per role."""
    coordinator = make_user(session, role=Role.COORDINATOR)
    admin = make_user(session, role=Role.ADMIN)
    expert_user = make_user(session, role=Role.EXPERT)
    expert = make_expert(session, user=expert_user)
    other_expert = make_expert(session, display_name="Karim Benali", skills=["hydrology"])
    member_verified, institution = make_member(session, verified=True)
    member_pending, _ = make_member(session, verified=False, name="Hôpital régional de Thiès")
    need = make_need(session, institution=institution)
    make_need(session, institution=institution, title="Former des techniciens", status="draft")
    offered = make_proposal(session, need=need, expert=expert)
    make_proposal(session, need=need, expert=other_expert, rank=2, score=0.6)
    approve_proposal(session, proposal=offered, coordinator=coordinator, settings=settings)
    users: dict[str, User] = {
        "expert": expert_user,
        "member_pending": member_pending,
        "member_verified": member_verified,
        "coordinator": coordinator,
        "admin": admin,
    }
    tokens = {role: create_api_token(session, user=user) for role, user in users.items()}
    session.commit()
    return tokens


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_holds_for_any_input(
    role: str, app_state: AppState, session: Session
) -> None:
    tokens = seed_world(session, app_state.settings)
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(state=app_state), config=CONFIG
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    failures: list[str] = []
    operations = 0
    # schemathesis builds each operation's test as its pytest plugin does: explicit examples,
    # the coverage phase (every boundary and invalid value of each parameter), then fuzzing.
    for result in get_all_tests(schema=schema, test_func=call, settings=None, given_kwargs={}):
        operation, test = result.ok()
        operations += 1
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # every failure of every operation
            failures.append(f"{operation.label} as {role}:\n{exc}")
    assert operations > 30
    assert not failures, "\n\n".join(failures)
