"""Every API operation, fuzzed in-process by schemathesis as each kind of caller.

The OpenAPI schema is the contract: for any input, valid or not, the API answers without a
server error, with a status code the schema declares and a body that fits its schema.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict

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
from tests.factories import (
    PASSWORD,
    make_expert,
    make_member,
    make_need,
    make_proposal,
    make_user,
)

EMAIL_CHANGE = "POST /api/me/email"
ROLES = ("anonymous", "expert", "member_pending", "member_verified", "coordinator", "admin")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Random examples per operation and role, on top of the coverage phase's bounds and invalid
# values; enough to find this API's defects while the whole file stays under two minutes.
EXAMPLES = int(os.environ.get("HOMEWARD_FUZZ_EXAMPLES", "8"))
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


@pytest.fixture(name="settings")
def fuzz_settings(settings: Settings) -> Settings:
    """The test settings, where the fuzzer's random passwords do not lock the account: every
    one is a wrong guess (service.core.guesses), and the realistic email changes must still
    be answered. tests/service/test_guesses.py checks the limit and its declared 429."""
    return settings.model_copy(update={"login_max_failures": 1_000_000})


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
    # PostgreSQL answers more slowly; its run is the same fuzzing with fewer random examples.
    examples = EXAMPLES if app_state.engine.dialect.name == "sqlite" else max(2, EXAMPLES // 3)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        label = case.operation.label
        if label == EMAIL_CHANGE:
            # Asking revokes nothing (the change waits for the link mailed to the new address),
            # so the caller's token lives on.
            _with_the_password(case, sum(statuses[label].values()))
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[label][response.status_code] += 1

    failures: list[str] = []
    started = time.monotonic()
    # schemathesis builds each operation's test as its pytest plugin does: explicit examples,
    # the coverage phase (bounds and invalid values of every parameter), then random fuzzing.
    tests = [
        result.ok()
        for result in get_all_tests(schema=schema, test_func=call, settings=None, given_kwargs={})
    ]
    # Revoking tokens may revoke the caller's own: it runs last, so it cannot starve the rest.
    # An email change revokes them all (the caller is then given a new one): it runs just before.
    tests.sort(
        key=lambda pair: (
            pair[0].label.startswith("DELETE /api/tokens"),
            pair[0].label == EMAIL_CHANGE,
        )
    )
    for operation, test in tests:
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # every failure of every operation
            failures.append(f"{operation.label} as {role}:\n{exc}")
    calls = sum(sum(counts.values()) for counts in statuses.values())
    took = time.monotonic() - started
    print(f"\n{role}: {len(statuses)} operations, {calls} calls, {took:.0f}s")
    print(f"{EMAIL_CHANGE}: {dict(statuses[EMAIL_CHANGE])}")
    assert not failures, "\n\n".join(failures)
    assert len(statuses) >= 35
    answered = {label for label, counts in statuses.items() if any(200 <= c < 300 for c in counts)}
    if role == "anonymous":
        # Without a token, nothing under /api/ answers anything but a refusal.
        assert {label for label in answered if " /api/" in label} == set()
    else:
        # The seeded ids exist: each role gets real answers, not only refusals.
        assert len(answered) >= 8, sorted(answered)
        # The email change was asked for with realistic values, not only refused.
        assert statuses[EMAIL_CHANGE][202] >= 1, statuses[EMAIL_CHANGE]


def _with_the_password(case: Case, calls: int) -> bool:
    """Gives every other well-formed email change the account's real password, so the fuzzed
    addresses are asked for (and the confirmation link mailed), not only refused for it."""
    body = case.body
    if calls % 2 or not isinstance(body, dict) or not isinstance(body.get("password"), str):
        return False
    body["password"] = PASSWORD
    return True
