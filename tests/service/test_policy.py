"""The access policy as people meet it: what a pending or verified institution may see and do,
and what follows when an expert withdraws consent or goes "coordinators only"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.core.changes import expert_changed
from service.core.indexing import reindex_all
from service.core.policy import Reader, ReaderKind
from service.models import (
    Institution,
    MatchProposal,
    Need,
    OutgoingEmail,
    ProposalStatus,
    Role,
)
from service.schemas.experts import ExpertProfileUpdate
from service.search import SearchBackend
from tests.conftest import csrf_token
from tests.factories import make_expert, make_member, make_need, make_proposal, make_user
from tests.service.pages.helpers import error_beside, log_in_as, post_form, soup_of, text_of

HTMX = {"HX-Request": "true"}
HIDDEN_EMAIL = "samira.hidden@example.org"


@pytest.fixture
def roster(session: Session, engine: Engine, search_backend: SearchBackend) -> dict[str, Any]:
    """One epidemiologist institutions may see, one cryptographer for coordinators only."""
    visible = make_expert(session, display_name="Awa Diallo")
    hidden = make_expert(
        session,
        user=make_user(session, email=HIDDEN_EMAIL),
        display_name="Samira Benali",
        headline="Cryptographer",
        bio="Applied cryptography and secure messaging.",
        skills=["cryptography"],
        visibility="coordinators",
        phone="+33 6 12 34 56 78",
    )
    session.commit()
    reindex_all(engine, search_backend)
    return {"visible": visible, "hidden": hidden}


def _preview(client: TestClient, text: str) -> Any:
    form = {
        "title": text,
        "description": text,
        "required_skills": "",
        "mode": "remote",
        "duration_weeks": "6",
        "hours_per_week": "4",
        "languages": ["fr"],
        "status": "open",
        "csrf_token": csrf_token(client),
    }
    return client.post("/institution/needs/preview", data=form, headers=HTMX)


def _count(response: Any) -> str:
    assert response.status_code == 200, response.text
    return text_of(soup_of(response).select_one("[data-preview-count]"))


# --- The need preview counts only what the institution may search --------------------------


@pytest.mark.parametrize(
    "typed",
    [HIDDEN_EMAIL, "Samira Benali", "cryptography", "+33 6 12 34 56 78", "Awa Diallo"],
)
def test_the_preview_tells_an_institution_nothing_it_could_not_search(
    roster: dict[str, Any], client: TestClient, session: Session, typed: str
) -> None:
    member, _ = make_member(session)
    log_in_as(client, member.email)
    # A hidden expert's email, name, skill or phone, or a visible expert's name: nobody.
    assert _count(_preview(client, typed)) == "0 experts could match this need"


def test_the_preview_still_counts_what_the_institution_may_search(
    roster: dict[str, Any], client: TestClient, session: Session
) -> None:
    member, _ = make_member(session)
    log_in_as(client, member.email)
    assert _count(_preview(client, "epidemiology")) == "1 expert could match this need"


def test_a_pending_institution_may_not_preview(
    roster: dict[str, Any], client: TestClient, session: Session
) -> None:
    member, _ = make_member(session, verified=False)
    log_in_as(client, member.email)
    response = _preview(client, "epidemiology")
    assert response.status_code == 403
    assert "awaiting verification" in response.text


# --- A pending institution does not see the roster ---------------------------------------


def test_a_pending_institution_is_told_it_awaits_verification_instead_of_the_roster(
    roster: dict[str, Any], client: TestClient, session: Session
) -> None:
    member, _ = make_member(session, verified=False)
    log_in_as(client, member.email)
    page = client.get("/institution/experts?q=epidemiology")
    assert page.status_code == 403
    assert "awaiting verification by a coordinator" in text_of(soup_of(page).select_one("main"))
    assert "Epidemiologist" not in page.text
    api = client.get("/api/experts", params={"q": "epidemiology"})
    assert api.status_code == 403 and "awaiting verification" in api.json()["detail"]
    one = client.get(f"/api/experts/{roster['visible'].id}")
    assert one.status_code == 403 and "awaiting verification" in one.json()["detail"]


def test_once_verified_the_same_member_browses_the_roster(
    roster: dict[str, Any], make_client: Any, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    coordinator = make_user(session, role=Role.COORDINATOR)
    staff = log_in_as(make_client(), coordinator.email)
    assert (
        post_form(staff, f"/coordinator/institutions/{institution.id}/verify", {}).status_code
        == 303
    )
    browser = log_in_as(make_client(), member.email)
    response = browser.get("/api/experts", params={"q": "epidemiology"})
    assert response.status_code == 200 and response.json()["total"] == 1


# --- One reader, one set of fields ----------------------------------------------------------


def test_institution_search_shows_the_fields_of_the_single_expert_view_and_no_more(
    roster: dict[str, Any], client: TestClient, session: Session
) -> None:
    member, _ = make_member(session)
    log_in_as(client, member.email)
    found = client.get("/api/experts", params={"q": "epidemiology"}).json()["items"]
    assert len(found) == 1
    single = client.get(f"/api/experts/{roster['visible'].id}").json()
    item = {k: v for k, v in found[0].items() if k != "highlights"}
    assert set(item) <= set(single), set(item) - set(single)
    assert "bio" not in found[0] and "city" not in found[0]
    assert set(found[0]["highlights"]) <= set(single)
    # Nor can a word of the bio or the city find anyone: the index holds neither.
    for word in ("surveillance", "Montreal"):
        assert client.get("/api/experts", params={"q": word}).json()["total"] == 0, word
    page = client.get("/institution/experts", params={"q": "epidemiology"})
    assert "public health surveillance" not in page.text and "Montreal" not in page.text


def test_coordinators_still_find_by_bio_and_city(
    roster: dict[str, Any], client: TestClient, session: Session
) -> None:
    log_in_as(client, make_user(session, role=Role.COORDINATOR).email)
    found = client.get("/api/experts", params={"q": "Montreal surveillance"}).json()
    assert found["total"] >= 1 and found["items"][0]["city"] == "Montreal"


# --- Consent and visibility at every decision ---------------------------------------------


@pytest.fixture
def proposed(session: Session) -> dict[str, Any]:
    """An expert proposed for an open need, and another proposal already approved."""
    _, institution = make_member(session)
    need = make_need(session, institution=institution)
    other_need = make_need(session, institution=institution, title="Biostatistics")
    expert = make_expert(session)
    pending = make_proposal(session, need=need, expert=expert)
    approved = make_proposal(session, need=other_need, expert=expert, status="approved")
    return {"expert": expert, "need": need, "pending": pending, "approved": approved}


def _status(session: Session, proposal: MatchProposal) -> str:
    session.expire_all()
    row = session.exec(select(MatchProposal).where(MatchProposal.id == proposal.id)).one()
    return row.status


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"consent_matching_at": None}, "withdrawn their consent"),
        ({"visibility": "coordinators"}, "coordinators only"),
        ({"active": False}, "no longer available"),
    ],
)
def test_approval_is_refused_when_the_expert_may_no_longer_be_proposed(
    proposed: dict[str, Any],
    client: TestClient,
    session: Session,
    change: dict[str, Any],
    reason: str,
) -> None:
    expert = proposed["expert"]
    for name, value in change.items():
        setattr(expert, name, value)
    session.add(expert)
    session.commit()  # straight in the database: the decision itself must check
    log_in_as(client, make_user(session, role=Role.COORDINATOR).email)
    response = client.post(
        f"/api/proposals/{proposed['pending'].id}/approve",
        json={"reason": ""},
        headers={"x-csrf-token": csrf_token(client)},
    )
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"]
    assert _status(session, proposed["pending"]) == ProposalStatus.PROPOSED


def _profile_body(client: TestClient, **changes: Any) -> dict[str, Any]:
    mine = client.get("/api/experts/me").json()
    body = {name: mine[name] for name in ExpertProfileUpdate.model_fields if name in mine}
    body.update(changes)
    return body


@pytest.mark.parametrize("changes", [{"consent_matching": False}, {"visibility": "coordinators"}])
def test_withdrawing_consent_or_hiding_withdraws_pending_proposals_at_once(
    proposed: dict[str, Any], client: TestClient, session: Session, changes: dict[str, Any]
) -> None:
    log_in_as(client, _email_of(session, proposed["expert"].user_id))
    response = client.put(
        "/api/experts/me",
        json=_profile_body(client, **changes),
        headers={"x-csrf-token": csrf_token(client)},
    )
    assert response.status_code == 200, response.text
    # No worker has run: the withdrawal is part of the change itself.
    assert _status(session, proposed["pending"]) == ProposalStatus.WITHDRAWN
    assert _status(session, proposed["approved"]) == ProposalStatus.APPROVED


def test_deactivating_an_expert_withdraws_pending_proposals_in_the_same_transaction(
    proposed: dict[str, Any], session: Session
) -> None:
    expert = proposed["expert"]
    expert.active = False
    session.add(expert)
    expert_changed(session, expert)
    session.commit()
    assert _status(session, proposed["pending"]) == ProposalStatus.WITHDRAWN


def _email_of(session: Session, user_id: int) -> str:
    from service.models import User

    user = session.get(User, user_id)
    assert user is not None
    return user.email


# --- Pending institutions write drafts and are told what happens next --------------------


NEED = {
    "title": "Co-teach epidemiology",
    "description": "A remote module for our master's students.",
    "required_skills": ["epidemiology"],
    "mode": "remote",
    "duration_weeks": 6,
    "hours_per_week": 4,
    "languages": ["fr"],
}


def test_a_pending_institution_writes_drafts_but_may_not_open_them(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    log_in_as(client, member.email)
    headers = {"x-csrf-token": csrf_token(client)}
    draft = client.post("/api/needs", json={**NEED, "status": "draft"}, headers=headers)
    assert draft.status_code == 201, draft.text
    opened = client.post("/api/needs", json={**NEED, "status": "open"}, headers=headers)
    assert opened.status_code == 403 and "awaiting verification" in opened.json()["detail"]
    reopened = client.put(
        f"/api/needs/{draft.json()['id']}", json={**NEED, "status": "open"}, headers=headers
    )
    assert reopened.status_code == 403
    statuses = session.exec(select(Need.status).where(Need.institution_id == institution.id))
    assert list(statuses) == ["draft"]


def test_a_pending_institution_gets_a_drafts_only_form_without_preview(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    log_in_as(client, member.email)
    page = soup_of(client.get("/institution/needs/new"))
    options = [o["value"] for o in page.select("select[name=status] option")]
    assert options == ["draft"]  # a new need is a draft here, never born closed
    assert page.select_one("[data-preview-button]") is None
    assert page.select_one("[data-drafts-only]") is not None
    form = {
        "title": "Co-teach epidemiology",
        "description": "A remote module.",
        "required_skills": "epidemiology",
        "mode": "remote",
        "duration_weeks": "6",
        "hours_per_week": "4",
        "languages": ["fr"],
        "status": "draft",
    }
    response = post_form(client, "/institution/needs/new", form)
    assert response.status_code == 303
    need = session.exec(select(Need).where(Need.institution_id == institution.id)).one()
    assert need.status == "draft" and need.title == "Co-teach epidemiology"


def test_the_pending_home_page_says_what_happens_next(client: TestClient, session: Session) -> None:
    member, _ = make_member(session, verified=False)
    log_in_as(client, member.email)
    section = soup_of(client.get("/institution")).select_one("[data-review]")
    assert section is not None and section["data-review"] == "pending"
    assert "Write a draft need" in text_of(section)
    assert "You receive an email once your institution is verified" in text_of(section)


def _emails_to(session: Session, address: str) -> list[OutgoingEmail]:
    session.expire_all()
    return list(session.exec(select(OutgoingEmail).where(OutgoingEmail.to_address == address)))


def test_members_get_an_email_when_their_institution_is_verified(
    make_client: Any, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR).email)
    post_form(staff, f"/coordinator/institutions/{institution.id}/verify", {})
    (email,) = _emails_to(session, member.email)
    assert email.subject == f"{institution.name} is verified"
    assert "You can now publish your needs" in email.body


@pytest.mark.parametrize(
    ("decision", "subject", "home"),
    [
        ("info_requested", "A coordinator needs more information about", "info_requested"),
        ("declined", "was not verified", "declined"),
    ],
)
def test_a_coordinator_asks_for_more_or_declines_with_a_reason_the_members_read(
    make_client: Any, session: Session, decision: str, subject: str, home: str
) -> None:
    member, institution = make_member(session, verified=False)
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR).email)
    page = soup_of(staff.get(f"/coordinator/institutions/{institution.id}"))
    assert page.select_one("[data-review-form]") is not None
    reason = "Please add a link to your accreditation."
    response = post_form(
        staff,
        f"/coordinator/institutions/{institution.id}/review",
        {"decision": decision, "reason": reason},
    )
    assert response.status_code == 303
    (email,) = _emails_to(session, member.email)
    assert subject in email.subject and reason in email.body
    browser = log_in_as(make_client(), member.email)
    section = soup_of(browser.get("/institution")).select_one("[data-review]")
    assert section is not None and section["data-review"] == home and reason in text_of(section)
    assert browser.get("/api/institutions/mine").json()["review"] == home
    # Still not verified: the roster stays closed.
    assert browser.get("/api/experts").status_code == 403


def test_a_review_without_a_reason_is_shown_again_with_the_error(
    client: TestClient, session: Session
) -> None:
    member, institution = make_member(session, verified=False)
    log_in_as(client, make_user(session, role=Role.COORDINATOR).email)
    response = post_form(
        client, f"/coordinator/institutions/{institution.id}/review", {"decision": "declined"}
    )
    assert response.status_code == 422
    assert error_beside(response, "reason")
    assert _emails_to(session, member.email) == []
    assert session.get(Institution, institution.id).declined_at is None  # type: ignore[union-attr]


def test_the_verification_email_is_in_the_members_language(
    make_client: Any, session: Session
) -> None:
    member = make_user(session, role=Role.INSTITUTION, locale="fr")
    from tests.factories import make_institution

    institution = make_institution(session, verified=False, member=member)
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR).email)
    post_form(
        staff,
        f"/coordinator/institutions/{institution.id}/review",
        {"decision": "declined", "reason": "Adresse introuvable."},
    )
    (email,) = _emails_to(session, member.email)
    assert email.subject == f"{institution.name} n'a pas été vérifiée"
    assert "Motif : Adresse introuvable." in email.body


# --- The policy's tables ------------------------------------------------------------------


def test_every_action_says_who_may_take_it() -> None:
    from service.core import policy

    assert set(policy.ALLOWED) == set(policy.Action)
    # Nobody but staff reads everything; nobody anonymous does more than read public pages.
    for action, kinds in policy.ALLOWED.items():
        if policy.ReaderKind.ANONYMOUS in kinds:
            assert action == policy.Action.READ_PUBLIC_PAGES


def test_each_view_of_an_expert_adds_to_the_one_before() -> None:
    from service.core.policy import EXPERT_FIELDS, ExpertView

    summary, named, private = (
        EXPERT_FIELDS[ExpertView.SUMMARY],
        EXPERT_FIELDS[ExpertView.NAMED],
        EXPERT_FIELDS[ExpertView.PRIVATE],
    )
    assert summary < named < private
    assert not {"display_name", "bio", "city", "email", "phone"} & summary
    assert not {"email", "phone"} & named


def test_the_public_index_holds_only_what_an_institution_may_read() -> None:
    from service.core.policy import EXPERT_FIELDS, ExpertView
    from service.search import EXPERTS_PUBLIC
    from service.search.documents import schema_for

    schema = schema_for(EXPERTS_PUBLIC)
    readable = EXPERT_FIELDS[ExpertView.SUMMARY]
    assert set(schema.fields) <= readable
    assert {s.name for s in schema.searchable} <= readable
    assert set(schema.keywords) <= readable and set(schema.highlight) <= readable


def test_the_roster_export_carries_no_field_staff_may_not_read(
    client: TestClient, session: Session
) -> None:
    from service.core.policy import EXPERT_FIELDS, ExpertView

    make_expert(session)
    log_in_as(client, make_user(session, role=Role.COORDINATOR).email)
    header = client.get("/coordinator/experts.csv").text.lstrip("\ufeff").splitlines()[0]
    columns = {"consent_matching_at" if c == "consent_matching" else c for c in header.split(",")}
    assert columns <= EXPERT_FIELDS[ExpertView.PRIVATE], columns - EXPERT_FIELDS[ExpertView.PRIVATE]
    assert {"display_name", "email", "phone"} <= columns  # staff export what they may read
    # An institution's view would drop every name and contact column.
    from service.pages.coordinator import csv_columns

    member = Reader(ReaderKind.MEMBER, user_id=1, institution_id=1)
    assert not {"display_name", "email", "phone", "city"} & set(csv_columns(member))


def test_the_review_page_says_why_an_approval_is_refused(
    proposed: dict[str, Any], client: TestClient, session: Session
) -> None:
    expert = proposed["expert"]
    expert.consent_matching_at = None
    session.add(expert)
    session.commit()
    log_in_as(client, make_user(session, role=Role.COORDINATOR, locale="fr").email)
    response = post_form(client, f"/coordinator/proposals/{proposed['pending'].id}/approve", {})
    assert response.status_code == 409
    assert "Cet expert a retiré son consentement" in text_of(soup_of(response).select_one("main"))
    assert _status(session, proposed["pending"]) == ProposalStatus.PROPOSED


def test_withdrawing_consent_cancels_unanswered_offers_and_keeps_accepted_ones(
    proposed: dict[str, Any], client: TestClient, session: Session
) -> None:
    from service.models import AuditEvent, Engagement

    expert, need = proposed["expert"], proposed["need"]
    accepted_proposal = make_proposal(
        session,
        need=make_need(session, institution=session.get(Institution, need.institution_id)),
        expert=expert,
        status="approved",
    )
    offer = Engagement(
        proposal_id=proposed["approved"].id,
        need_id=proposed["approved"].need_id,
        expert_id=expert.id,
        mode="remote",
    )
    accepted = Engagement(
        proposal_id=accepted_proposal.id,
        need_id=accepted_proposal.need_id,
        expert_id=expert.id,
        mode="remote",
        status="accepted",
    )
    session.add_all([offer, accepted])
    session.commit()
    log_in_as(client, _email_of(session, expert.user_id))
    response = client.put(
        "/api/experts/me",
        json=_profile_body(client, consent_matching=False),
        headers={"x-csrf-token": csrf_token(client)},
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.get(Engagement, offer.id).status == "cancelled"  # type: ignore[union-attr]
    assert session.get(Engagement, accepted.id).status == "accepted"  # type: ignore[union-attr]
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "engagement", AuditEvent.entity_id == offer.id
        )
    ).all()
    assert [(e.action, e.to_state) for e in events] == [("engagement.cancel", "cancelled")]
    page = log_in_as(client, _email_of(session, expert.user_id)).get("/expert/engagements")
    assert page.status_code == 200


# --- What each reader sees of a need, open or ended ------------------------------------------

OWN_INSTITUTION = 7
NEED_VIEWS = [
    # kind, status, published, engaged, what they see
    (ReaderKind.EXPERT, "open", True, False, "full"),
    (ReaderKind.EXPERT, "filled", True, True, "full"),
    (ReaderKind.EXPERT, "closed", True, True, "full"),
    (ReaderKind.EXPERT, "filled", True, False, "ended"),
    (ReaderKind.EXPERT, "closed", True, False, "ended"),
    # Closed (or filled) straight from a draft: never shown, so nothing to say it ended.
    (ReaderKind.EXPERT, "closed", False, False, "hidden"),
    (ReaderKind.EXPERT, "filled", False, False, "hidden"),
    (ReaderKind.EXPERT, "draft", False, True, "hidden"),
    (ReaderKind.ANONYMOUS, "open", True, False, "hidden"),
    (ReaderKind.ANONYMOUS, "filled", True, False, "hidden"),
    (ReaderKind.MEMBER, "filled", True, False, "hidden"),  # another institution's
    (ReaderKind.PENDING_MEMBER, "open", True, False, "hidden"),
    (ReaderKind.COORDINATOR, "draft", False, False, "full"),
    (ReaderKind.ADMIN, "closed", False, False, "full"),
]


@pytest.mark.parametrize(("kind", "status", "published", "engaged", "seen"), NEED_VIEWS)
def test_experts_read_open_needs_and_those_they_were_offered_and_learn_when_others_ended(
    kind: ReaderKind, status: str, published: bool, engaged: bool, seen: str
) -> None:
    from service.core import policy
    from service.models.types import utcnow

    need = Need(
        title="Epidemiology",
        mode="remote",
        institution_id=OWN_INSTITUTION,
        status=status,
        posted_at=utcnow() if published else None,
    )
    reader = Reader(kind, user_id=1, institution_id=8, expert_id=9)
    assert policy.need_view(reader, need, engaged=engaged) == seen
    assert policy.may_read_need(reader, need, engaged=engaged) is (seen == "full")


@pytest.mark.parametrize("status", ["draft", "open", "filled", "closed"])
def test_members_read_all_their_own_needs_and_no_other(status: str) -> None:
    from service.core import policy

    need = Need(title="Epidemiology", mode="remote", institution_id=OWN_INSTITUTION, status=status)
    own = Reader(ReaderKind.MEMBER, user_id=1, institution_id=OWN_INSTITUTION)
    pending = Reader(ReaderKind.PENDING_MEMBER, user_id=2, institution_id=OWN_INSTITUTION)
    other = Reader(ReaderKind.MEMBER, user_id=3, institution_id=OWN_INSTITUTION + 1)
    assert policy.need_view(own, need) == policy.need_view(pending, need) == "full"
    assert policy.need_view(other, need, engaged=True) == "hidden"
