"""Every route, for every kind of reader, on someone else's objects: the response is what the
access policy (service/core/policy.py) says, and never a 500.

Each route names the policy action it needs and, when it is about one object, the policy's
rule for that object. From those the test derives what each reader must get: a 401 (API) or a
redirect to the log-in page (pages) for an anonymous reader the action is not open to, a 403
for a signed-in one, a 404 for an object the reader may not see, and otherwise a success.
Writes that reach the decision with placeholder input may also answer 409 or 422: the point
is that the policy let them through. A route missing from the table fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import Settings
from service.core import email_change, invitations, password_reset, policy
from service.core.policy import Action, Reader, ReaderKind
from service.models import (
    ApiToken,
    Engagement,
    ExpertProfile,
    Institution,
    Need,
    Notification,
    OutgoingEmail,
    Role,
)
from service.schemas.invitations import InvitationForm
from tests.conftest import csrf_token, login
from tests.factories import (
    PASSWORD,
    make_expert,
    make_member,
    make_need,
    make_proposal,
    make_user,
)

A = Action
K = ReaderKind


@dataclass
class World:
    """Someone else's objects, and one user of each kind of reader."""

    institution: Institution
    need: Need
    expert: ExpertProfile
    engagement: Engagement
    notification: Notification
    ids: dict[str, int]
    readers: dict[ReaderKind, Reader] = field(default_factory=dict)
    # A live password reset link's token, for the owner's account.
    reset_token: str = ""
    # A live email confirmation link's token, for the owner's account (its address taken).
    email_token: str = ""
    # A live invitation link's token, to the owner's institution, for an address nobody uses.
    invitation_token: str = ""
    emails: dict[ReaderKind, str] = field(default_factory=dict)


Sees = Callable[[Reader, World], bool]


@dataclass(frozen=True)
class Rule:
    """What a route needs: a policy action, and the policy's rule for the object it is about."""

    action: Action
    sees: Sees | None = None
    json: dict[str, Any] | None = None
    form: dict[str, Any] | None = None
    query: str = ""
    # Readers the route refuses (403) though the action is open to them: a link's own rule.
    refuses: Sees | None = None


def _need(reader: Reader, world: World) -> bool:
    return policy.may_read_need(reader, world.need)


def _edit(reader: Reader, world: World) -> bool:
    return policy.may_edit_need(reader, world.need)


def _party(reader: Reader, world: World) -> bool:
    party = policy.engagement_party(reader, world.engagement, expert=world.expert, need=world.need)
    return party is not None


def _institution(reader: Reader, world: World) -> bool:
    return policy.may_read_institution(reader, world.institution)


def _notification(reader: Reader, world: World) -> bool:
    return policy.may_read_notification(reader, world.notification)


def _expert(reader: Reader, world: World) -> bool:
    return policy.expert_view(reader, world.expert) != policy.ExpertView.HIDDEN


def _suggest(reader: Reader, world: World) -> bool:
    return policy.may_suggest_for(reader, world.need)


def _nothing(reader: Reader, world: World) -> bool:
    return False


def _may_not_join(reader: Reader, world: World) -> bool:
    # The world's invitation is to an address none of the readers has.
    return reader.kind != K.ANONYMOUS and policy.join_refusal(reader, own_address=False) is not None


PUBLIC = Rule(A.READ_PUBLIC_PAGES)
ACCOUNT = Rule(A.USE_ACCOUNT)
EXPERT = Rule(A.ACT_AS_EXPERT)
MEMBER = Rule(A.ACT_FOR_INSTITUTION)
STAFF = Rule(A.COORDINATE)
DECIDE = Rule(A.DECIDE_PROPOSALS)
NEED_BODY = {
    "title": "Co-teach epidemiology",
    "description": "A remote module for our master's students.",
    "required_skills": ["epidemiology"],
    "mode": "remote",
    "duration_weeks": 6,
    "hours_per_week": 4,
    "languages": ["fr"],
    "status": "draft",
}

# "METHOD path" -> the rule the route follows. Every route of the application is here.
ROUTES: dict[str, Rule] = {
    # Public pages, the API's description and the health check.
    "GET /healthz": PUBLIC,
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /": PUBLIC,
    "GET /privacy": PUBLIC,
    "POST /language": Rule(A.READ_PUBLIC_PAGES, form={"locale": "fr", "next": "/"}),
    "GET /login": PUBLIC,
    "POST /login": Rule(A.READ_PUBLIC_PAGES, form={"email": "nobody@example.org"}),
    "GET /register": PUBLIC,
    "GET /register/expert": PUBLIC,
    "POST /register/expert": PUBLIC,
    "GET /register/institution": PUBLIC,
    "POST /register/institution": PUBLIC,
    # A forgotten password: asked for and set by someone who cannot log in.
    "GET /password/forgot": PUBLIC,
    "POST /password/forgot": Rule(A.READ_PUBLIC_PAGES, form={"email": "nobody@example.org"}),
    "GET /password/forgot/sent": PUBLIC,
    "GET /password/reset": Rule(A.READ_PUBLIC_PAGES, query="?token={reset_token}"),
    "POST /password/reset": Rule(
        A.READ_PUBLIC_PAGES,
        form={
            "token": "{reset_token}",
            "new_password": "Kédougou-2026",
            "new_password_again": "Kedougou-2026",
        },
    ),
    "POST /api/password/forgot": Rule(A.READ_PUBLIC_PAGES, json={"email": "nobody@example.org"}),
    "POST /api/password/reset": Rule(
        A.READ_PUBLIC_PAGES, json={"token": "not-a-token", "new_password": "Kédougou-2026"}
    ),
    "POST /logout": PUBLIC,
    # An invitation's link: the token is the key; an account may join only as the policy says.
    "GET /join": Rule(
        A.READ_PUBLIC_PAGES, query="?token={invitation_token}", refuses=_may_not_join
    ),
    "POST /join": Rule(
        A.READ_PUBLIC_PAGES, form={"token": "{invitation_token}"}, refuses=_may_not_join
    ),
    # Any signed-in user: their account, notifications, personal data, engagements.
    "GET /api/me": ACCOUNT,
    "GET /api/tokens": ACCOUNT,
    "POST /api/tokens": Rule(A.USE_ACCOUNT, json={"name": "matrix"}),
    # Someone else's token: only its owner may revoke it.
    "DELETE /api/tokens/{token_id}": Rule(A.USE_ACCOUNT, _nothing),
    "POST /account/tokens/{token_id}/revoke": Rule(A.USE_ACCOUNT, _nothing),
    "POST /account/sessions/end": ACCOUNT,
    "GET /api/me/data": ACCOUNT,
    "POST /api/me/delete": Rule(A.ERASE_OWN_ACCOUNT, json={"password": "not the password"}),
    "POST /api/me/email": Rule(
        A.USE_ACCOUNT, json={"email": "rahma.haddad@univ-alger.dz", "password": "not the password"}
    ),
    # The link's token is the key: open to anyone who holds it, as the password reset's. The
    # owner's address waiting is taken by another account, so confirming changes nothing.
    "POST /api/me/email/confirm": Rule(A.READ_PUBLIC_PAGES, json={"token": "not-a-token"}),
    "GET /account/email/confirm": Rule(A.READ_PUBLIC_PAGES, query="?token={email_token}"),
    "POST /account/email/confirm": Rule(A.READ_PUBLIC_PAGES, form={"token": "{email_token}"}),
    "POST /account/email/resend": ACCOUNT,
    "POST /api/me/email/resend": ACCOUNT,
    "POST /account/email/cancel": ACCOUNT,
    "GET /account": ACCOUNT,
    "POST /account/locale": Rule(A.USE_ACCOUNT, form={"locale": "en"}),
    "POST /account/email": ACCOUNT,
    "POST /account/password": ACCOUNT,
    "POST /account/tokens": ACCOUNT,
    "GET /account/notifications": ACCOUNT,
    "POST /account/notifications": ACCOUNT,
    "GET /account/data": ACCOUNT,
    "GET /account/data.json": ACCOUNT,
    "POST /account/delete": Rule(A.ERASE_OWN_ACCOUNT, form={"password": "not the password"}),
    "GET /notifications": ACCOUNT,
    "POST /notifications/read-all": ACCOUNT,
    "POST /notifications/{notification_id}/read": Rule(A.USE_ACCOUNT, _notification),
    "GET /api/notifications": ACCOUNT,
    "POST /api/notifications/read-all": ACCOUNT,
    "POST /api/notifications/{notification_id}/read": Rule(A.USE_ACCOUNT, _notification),
    "GET /api/institutions/{institution_id}": Rule(A.USE_ACCOUNT, _institution),
    "GET /api/engagements": ACCOUNT,
    "GET /api/engagements/{engagement_id}": Rule(A.USE_ACCOUNT, _party),
    "POST /api/engagements/{engagement_id}/feedback": Rule(
        A.GIVE_FEEDBACK, _party, json={"rating": 4}
    ),
    "PUT /api/engagements/{engagement_id}/terms": Rule(A.USE_ACCOUNT, _party, json={}),
    "POST /api/engagements/{engagement_id}/{action}": Rule(A.USE_ACCOUNT, _party, json={}),
    "POST /engagements/{engagement_id}/feedback": Rule(A.GIVE_FEEDBACK, _party, form={"rating": 4}),
    "POST /engagements/{engagement_id}/terms": Rule(A.USE_ACCOUNT, _party),
    "POST /engagements/{engagement_id}/{action}": Rule(A.USE_ACCOUNT, _party),
    # The open needs and the skills in use.
    "GET /api/needs": Rule(A.SEARCH_NEEDS),
    "GET /api/skills": Rule(A.SEARCH_NEEDS),
    "GET /api/needs/{need_id}": Rule(A.USE_ACCOUNT, _need),
    # Experts: their own profile, proposals, offers and needs.
    "GET /api/experts/me": EXPERT,
    "PUT /api/experts/me": Rule(A.ACT_AS_EXPERT, json={}),
    "POST /api/experts/me/availability": EXPERT,
    "GET /expert": EXPERT,
    "GET /expert/profile": EXPERT,
    "POST /expert/profile": EXPERT,
    "GET /expert/proposals": EXPERT,
    "POST /expert/availability": EXPERT,
    "GET /expert/engagements": EXPERT,
    "GET /expert/engagements/{engagement_id}": Rule(A.ACT_AS_EXPERT, _party),
    "GET /expert/needs": EXPERT,
    "GET /expert/for-you": EXPERT,
    "GET /expert/needs/{need_id}": Rule(A.ACT_AS_EXPERT, _need),
    "POST /expert/needs/{need_id}/interest": Rule(A.ACT_AS_EXPERT, _need, form={}),
    "POST /expert/needs/{need_id}/interest/withdraw": Rule(A.ACT_AS_EXPERT, _need, form={}),
    # Institutions, verified or not: their own space, profile, needs and engagements.
    "GET /api/institutions/mine": MEMBER,
    "PUT /api/institutions/mine": Rule(A.ACT_FOR_INSTITUTION, json={}),
    "GET /api/needs/mine": MEMBER,
    "POST /api/needs": Rule(A.ACT_FOR_INSTITUTION, json=NEED_BODY),
    "PUT /api/needs/{need_id}": Rule(A.WRITE_DRAFT_NEED, _edit, json=NEED_BODY),
    "GET /institution": MEMBER,
    "GET /institution/profile": MEMBER,
    "POST /institution/profile": MEMBER,
    "GET /institution/needs/new": MEMBER,
    "POST /institution/needs/new": MEMBER,
    "GET /institution/needs/{need_id}": Rule(A.ACT_FOR_INSTITUTION, _need),
    "GET /institution/needs/{need_id}/edit": Rule(A.ACT_FOR_INSTITUTION, _edit),
    "POST /institution/needs/{need_id}/edit": Rule(A.ACT_FOR_INSTITUTION, _edit),
    "POST /institution/needs/{need_id}/close": Rule(A.ACT_FOR_INSTITUTION, _edit),
    # The world's need is open, not a draft: discarding it is answered (409), not refused; the
    # core asks DISCARD_DRAFT as well (tests/service/pages/test_discard_draft.py).
    "POST /institution/needs/{need_id}/discard": Rule(A.ACT_FOR_INSTITUTION, _edit),
    # The world's need is open: publishing it again is answered, not refused (a draft asks
    # PUBLISH_NEED as well: tests/service/pages/test_drafts_after_verification.py).
    "POST /institution/needs/{need_id}/publish": Rule(A.ACT_FOR_INSTITUTION, _edit),
    "GET /institution/proposals": MEMBER,
    # The team: members, verified or not, invite colleagues; another institution's invitation
    # is not found.
    "GET /institution/team": Rule(A.INVITE_MEMBER),
    "POST /institution/team/invite": Rule(
        A.INVITE_MEMBER, form={"email": "samira.toure@chu-bamako.ml"}
    ),
    "POST /institution/team/invitations/{invitation_id}/resend": Rule(A.INVITE_MEMBER, _nothing),
    "POST /institution/team/invitations/{invitation_id}/revoke": Rule(A.INVITE_MEMBER, _nothing),
    "GET /institution/engagements": MEMBER,
    "GET /institution/engagements/{engagement_id}": Rule(A.ACT_FOR_INSTITUTION, _party),
    # Verified institutions only: the roster (what experts let them see) and the preview.
    "POST /institution/needs/preview": Rule(A.PREVIEW_NEED, form={"title": "epidemiology"}),
    "GET /api/experts": Rule(A.BROWSE_ROSTER),
    "GET /institution/experts": Rule(A.BROWSE_ROSTER),
    "GET /api/experts/{expert_id}": Rule(A.BROWSE_ROSTER, _expert),
    # Verified institutions suggest an expert of the roster for one of their own open needs.
    "POST /api/needs/{need_id}/suggestions": Rule(
        A.SUGGEST_EXPERT, _suggest, json={"expert_id": 1}
    ),
    "POST /institution/experts/{expert_id}/suggest": Rule(
        A.SUGGEST_EXPERT, _suggest, form={"need_id": "{need_id}"}
    ),
    # Members answer a coordinator's request for more information about their own institution;
    # nothing is asked of the readers' institutions here, so the policy's let-through is a 409.
    "POST /institution/reply": Rule(A.REPLY_TO_REVIEW, form={"message": "Voici nos statuts."}),
    "POST /api/institutions/mine/replies": Rule(
        A.REPLY_TO_REVIEW, json={"message": "Voici nos statuts."}
    ),
    # Coordinators and admins.
    "GET /api/experts/roster": STAFF,
    "GET /api/institutions": STAFF,
    "POST /api/institutions/{institution_id}/verify": STAFF,
    "POST /api/institutions/{institution_id}/review": Rule(
        A.COORDINATE, json={"decision": "info_requested", "reason": "Which faculty?"}
    ),
    "GET /api/audit": STAFF,
    "GET /api/proposals": Rule(A.COORDINATE, query="?need_id={need_id}"),
    "GET /api/assignment": STAFF,
    "POST /api/assignment/solve": Rule(A.COORDINATE, json={}),
    "POST /api/assignment/approve": Rule(A.DECIDE_PROPOSALS, json={}),
    "GET /api/assignment/team": Rule(A.COORDINATE, query="?need_id={need_id}"),
    "GET /coordinator/assignment": STAFF,
    "POST /coordinator/assignment/approve": Rule(A.DECIDE_PROPOSALS, form={}),
    "POST /api/proposals/bulk": Rule(A.DECIDE_PROPOSALS, json={}),
    "POST /api/proposals/{proposal_id}/approve": Rule(A.DECIDE_PROPOSALS, json={}),
    "POST /api/proposals/{proposal_id}/reject": Rule(A.DECIDE_PROPOSALS, json={}),
    "GET /api/reports/impact": STAFF,
    "GET /api/reports/skills-gap": STAFF,
    "GET /coordinator": STAFF,
    "GET /coordinator/institutions": STAFF,
    "GET /coordinator/institutions/{institution_id}": STAFF,
    "POST /coordinator/institutions/{institution_id}/verify": STAFF,
    "POST /coordinator/institutions/{institution_id}/review": STAFF,
    "GET /coordinator/experts/{expert_id}": STAFF,
    "GET /coordinator/experts.csv": STAFF,
    "GET /coordinator/roster": STAFF,
    "GET /coordinator/import": STAFF,
    "POST /coordinator/import": STAFF,
    # Nobody uploaded a file, so there is no import to confirm, for anyone.
    "POST /coordinator/import/confirm": Rule(A.COORDINATE, _nothing),
    "GET /coordinator/needs": STAFF,
    "GET /coordinator/needs/{need_id}": STAFF,
    "GET /coordinator/needs/{need_id}/compare": Rule(
        A.COORDINATE, query="?expert={expert_id}&expert={second_expert_id}"
    ),
    "POST /coordinator/needs/{need_id}/modes": STAFF,
    "POST /coordinator/proposals/{proposal_id}/{decision}": DECIDE,
    "POST /coordinator/needs/{need_id}/bulk": DECIDE,
    "POST /coordinator/needs/{need_id}/interested/{expert_id}": DECIDE,
    "GET /coordinator/audit": STAFF,
    "GET /coordinator/outbox": STAFF,
    "GET /coordinator/engagements": STAFF,
    "GET /coordinator/engagements/{engagement_id}": STAFF,
    "GET /coordinator/reports": STAFF,
    "GET /coordinator/reports.csv": STAFF,
    "GET /coordinator/skills-gap": STAFF,
    "GET /coordinator/skills-gap.csv": STAFF,
}
# Run last: they end the session the other requests use.
LAST = ("POST /account/sessions/end", "POST /logout")


def _routes(app: Any) -> list[str]:
    """Lists every route of the application as "METHOD path" (HEAD aside)."""
    found: list[str] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                walk(original.routes)
                continue
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    found.append(f"{method} {route.path}")

    walk(app.routes)
    return found


def test_every_route_has_a_policy_entry(client: TestClient) -> None:
    """A new route must say here which action of the policy it needs."""
    routes = _routes(client.app)
    assert "GET /api/needs/{need_id}" in routes and "POST /institution/needs/preview" in routes
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, f"routes without an access-policy entry: {missing}"
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"entries for routes that no longer exist: {stale}"


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """A verified institution's open need, an expert offered it, and readers who own none of
    it: an expert, a pending and a verified member of other institutions, staff."""
    owner, institution = make_member(session, name="Hôpital Principal")
    need = make_need(session, institution=institution)
    expert = make_expert(session, display_name="Someone Else")
    proposal = make_proposal(session, need=need, expert=expert)
    second = make_expert(session, display_name="Second Candidate")
    make_proposal(session, need=need, expert=second, rank=2)
    offered = make_proposal(
        session,
        need=make_need(session, institution=institution, title="Biostatistics"),
        expert=expert,
        status="approved",
    )
    engagement = Engagement(
        proposal_id=offered.id or 0, need_id=offered.need_id, expert_id=expert.id, mode="remote"
    )
    notification = Notification(user_id=owner.id or 0, kind="offer.new", title="Not yours")
    token = ApiToken(user_id=owner.id or 0, name="theirs", token_hash="0" * 64)
    session.add_all([engagement, notification, token])
    session.commit()
    world = World(
        institution=institution,
        need=need,
        expert=expert,
        engagement=engagement,
        notification=notification,
        ids={
            "need_id": need.id or 0,
            "expert_id": expert.id or 0,
            "second_expert_id": second.id or 0,
            "institution_id": institution.id or 0,
            "engagement_id": engagement.id or 0,
            "proposal_id": proposal.id or 0,
            "notification_id": notification.id or 0,
            "token_id": token.id or 0,
        },
    )
    world.reset_token = password_reset.make_token(owner, settings=settings)
    owner.pending_email = make_user(session, role=Role.EXPERT).email
    session.add(owner)
    session.flush()
    world.email_token = email_change.make_token(owner, settings=settings)
    invitation = invitations.invite(
        session,
        institution=institution,
        inviter=owner,
        form=InvitationForm(email="invited.nobody@hopital-principal.sn", locale="fr"),
        settings=settings,
    )
    session.commit()
    world.ids["invitation_id"] = invitation.id or 0
    world.invitation_token = _invitation_token(session)
    expert_user = make_user(session, role=Role.EXPERT)
    own_profile = make_expert(session, user=expert_user, display_name="The Reader")
    pending, pending_institution = make_member(session, verified=False, name="En attente")
    member, member_institution = make_member(session, name="Autre université")
    users = {
        K.EXPERT: (expert_user, None, own_profile.id),
        K.PENDING_MEMBER: (pending, pending_institution.id, None),
        K.MEMBER: (member, member_institution.id, None),
        K.COORDINATOR: (make_user(session, role=Role.COORDINATOR), None, None),
        K.ADMIN: (make_user(session, role=Role.ADMIN), None, None),
    }
    world.readers[K.ANONYMOUS] = policy.ANONYMOUS
    for kind, (user, institution_id, expert_id) in users.items():
        world.readers[kind] = Reader(kind, user.id, institution_id, expert_id)
        world.emails[kind] = user.email
    return world


def _invitation_token(session: Session) -> str:
    """Reads the token of the invitation link just mailed, as its recipient would."""
    mail = session.exec(
        select(OutgoingEmail).where(OutgoingEmail.kind == "institution.invitation")
    ).one()
    found = re.search(r"/join\?token=(\S+)", mail.body)
    assert found is not None
    return unquote(found.group(1))


def _expected(rule: Rule, reader: Reader, world: World) -> str:
    if not policy.may(reader, rule.action):
        return "log in" if reader.kind == K.ANONYMOUS else "forbidden"
    if rule.refuses is not None and rule.refuses(reader, world):
        return "forbidden"
    if rule.sees is not None and not rule.sees(reader, world):
        return "not found"
    return "allowed"


def _send(client: TestClient, route: str, rule: Rule, world: World) -> Any:
    method, template = route.split(" ", 1)
    values = {
        **world.ids,
        "action": "accept",
        "decision": "approve",
        "reset_token": world.reset_token,
        "email_token": world.email_token,
        "invitation_token": world.invitation_token,
    }
    path = template.format(**values) + rule.query.format(**values)
    if method == "GET":
        return client.get(path)
    headers = {"x-csrf-token": csrf_token(client)}
    if path.startswith("/api/"):
        return client.request(method, path, json=rule.json or {}, headers=headers)
    form = {
        k: v.format(**values) if isinstance(v, str) else v for k, v in (rule.form or {}).items()
    }
    return client.request(method, path, data=form, headers=headers)


def _check(route: str, response: Any, expected: str) -> str | None:
    """Says what is wrong with a response, if anything."""
    status = response.status_code
    location = response.headers.get("location", "")
    api = route.split(" ", 1)[1].startswith(("/api/", "/healthz", "/openapi.json"))
    if status >= 500:
        return f"{route}: {status}"
    # A form sent without a session goes to the log-in page (back to the page it came from, when
    # the browser says which).
    to_login = location == "/login" or location.startswith("/login?next=")
    if expected == "log in":
        ok = status == 401 if api else status == 303 and to_login
    elif expected == "forbidden":
        ok = status == 403
    elif expected == "not found":
        ok = status == 404
    else:
        writes = not route.startswith("GET ")
        allowed = {200, 201, 303} | ({202, 204, 409, 422} if writes else set())
        # A write that was let through never lands on the log-in page, except the ones that
        # end the session it came with (LAST).
        ok = status in allowed and (not to_login or route in LAST)
    return None if ok else f"{route}: expected {expected}, got {status} {location}".strip()


@pytest.mark.parametrize("kind", list(ReaderKind))
def test_every_route_answers_each_reader_as_the_policy_says(
    kind: ReaderKind, world: World, make_client: Callable[[], TestClient]
) -> None:
    client = make_client()
    if kind != K.ANONYMOUS:
        login(client, world.emails[kind], PASSWORD)
    reader = world.readers[kind]
    order = [r for r in ROUTES if r not in LAST] + list(LAST)
    problems = []
    for route in order:
        rule = ROUTES[route]
        response = _send(client, route, rule, world)
        problem = _check(route, response, _expected(rule, reader, world))
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)
