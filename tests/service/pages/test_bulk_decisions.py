"""A bulk decision the page refuses keeps what the coordinator ticked and typed."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import MatchProposal
from tests.factories import make_expert, make_proposal
from tests.service.pages.helpers import post_form, soup_of, text_of
from tests.service.pages.review import coordinator_browser
from tests.service.worlds import build_world


def test_a_refused_bulk_rejection_keeps_the_ticks_and_the_reason(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = build_world(session)
    others = [
        make_proposal(session, need=world.need, expert=make_expert(session), rank=rank)
        for rank in (2, 3)
    ]
    session.commit()
    browser = coordinator_browser(session, make_client, world)
    ticked = [world.proposal.id, others[1].id]
    response = post_form(
        browser,
        f"/coordinator/needs/{world.need.id}/bulk",
        {"action": "reject", "proposal_ids": ticked, "reason": "   "},
    )
    assert response.status_code == 422
    page = soup_of(response)
    assert page.select_one("#bulk-error") is not None
    checked = sorted(
        int(box["value"])
        for box in page.select("input[data-pick][checked]")  # type: ignore[arg-type]
    )
    assert checked == sorted(ticked)
    assert text_of(page.select_one("[data-selected-count]")) == "2 selected"  # type: ignore[arg-type]
    # An approval refused for want of ticks keeps the reason typed.
    response = post_form(
        browser,
        f"/coordinator/needs/{world.need.id}/bulk",
        {"action": "approve", "reason": "Profils très proches du besoin"},
    )
    assert response.status_code == 422
    reason = soup_of(response).select_one("#bulk-reason")
    assert reason is not None and reason["value"] == "Profils très proches du besoin"
    session.expire_all()
    statuses = {session.get(MatchProposal, p).status for p in [*ticked, others[0].id]}  # type: ignore[union-attr]
    assert statuses == {"proposed"}
