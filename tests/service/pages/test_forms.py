"""Every form of the main pages carries the browser's CSRF token, and every field a label."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Role
from service.security import CSRF_COOKIE
from tests.factories import make_expert, make_member, make_need, make_user
from tests.service.pages.helpers import log_in_as, soup_of

PAGES = {
    None: ["/", "/login", "/register/expert", "/register/institution"],
    Role.EXPERT: ["/expert", "/expert/profile", "/account"],
    Role.INSTITUTION: [
        "/institution",
        "/institution/profile",
        "/institution/needs/new",
        "/institution/needs/{need}",
    ],
    Role.COORDINATOR: [
        "/coordinator",
        "/coordinator/institutions",
        "/coordinator/institutions/{pending}",
    ],
}


@pytest.mark.parametrize("role", list(PAGES), ids=lambda r: str(r or "anonymous"))
def test_forms_carry_the_token_and_label_their_fields(
    role: Role | None, make_client: Callable[[], TestClient], session: Session
) -> None:
    member, institution = make_member(session)
    _, pending = make_member(session, verified=False, name="Pending")
    need = make_need(session, institution=institution)
    client = make_client()
    if role == Role.INSTITUTION:
        log_in_as(client, member.email)
    elif role is not None:
        user = make_user(session, role=role)
        if role == Role.EXPERT:
            make_expert(session, user=user)
        log_in_as(client, user.email)
    for path in PAGES[role]:
        soup = soup_of(client.get(path.format(need=need.id, pending=pending.id)))
        token = client.cookies[CSRF_COOKIE]
        forms = soup.select("form[method=post]")
        assert forms, path
        for form in forms:
            field = form.select_one("input[name=csrf_token]")
            assert field is not None and field["value"] == token, (path, form.get("action"))
        for control in soup.select("input:not([type=hidden]), select, textarea"):
            labelled = control.find_parent("label") is not None or (
                control.get("id") and soup.find("label", attrs={"for": control["id"]})
            )
            assert labelled, (path, str(control)[:120])
