"""Colleagues invited to an institution: the team page, the invitation email in the language
chosen for it, the link opened to register or to join in one click, and every way a link
opens nothing (expired, revoked, used, lost to a second use, the wrong account) leaving
everything as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.config import Settings
from service.core import invitations, notifications, policy, privacy
from service.core.policy import Action, JoinRefusal, Reader, ReaderKind
from service.errors import Conflict
from service.models import (
    AuditEvent,
    InstitutionInvitation,
    InstitutionMember,
    Notification,
    OutgoingEmail,
    Role,
    User,
)
from service.models.types import utcnow
from service.schemas.invitations import InvitationRegistration
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_expert, make_member, make_user
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    h1,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)
from tests.service.test_concurrent_moves import race_with
from tests.strategies import phrases, unique_email

KIND = "institution.invitation"
COLLEAGUE = "nour.el-amrani@chu-oran.dz"
NEW_PASSWORD = "Oran-Ḥayy-2026!"


def _inviter(session: Session, *, verified: bool = True, locale: str = "fr") -> User:
    user, institution = make_member(
        session, verified=verified, name="Centre Hospitalier Universitaire d'Oran", country="DZ"
    )
    user.display_name = "Hélène Benali"
    user.locale = locale
    session.add(user)
    session.commit()
    return user


def _invite(client: TestClient, **fields: str) -> object:
    return post_form(
        client,
        "/institution/team/invite",
        {"email": COLLEAGUE, "display_name": "نور العمراني", "locale": "ar", **fields},
    )


def _emails(session: Session, to: str = COLLEAGUE) -> list[OutgoingEmail]:
    session.expire_all()
    query = select(OutgoingEmail).where(OutgoingEmail.kind == KIND, OutgoingEmail.to_address == to)
    return list(session.exec(query.order_by(col(OutgoingEmail.id))).all())


def _token_of(email: OutgoingEmail) -> str:
    found = re.search(r"/join\?token=(\S+)", email.body)
    assert found is not None, email.body
    return unquote(found.group(1))


def _members(session: Session, user_email: str) -> list[InstitutionMember]:
    session.expire_all()
    user = session.exec(select(User).where(User.email == user_email)).first()
    if user is None:
        return []
    return list(
        session.exec(select(InstitutionMember).where(InstitutionMember.user_id == user.id)).all()
    )


def _register(client: TestClient, token: str, **fields: str) -> object:
    return post_form(
        client,
        "/join",
        {
            "token": token,
            "display_name": "نور العمراني",
            "password": NEW_PASSWORD,
            "locale": "ar",
            "consent_terms": "on",
            **fields,
        },
    )


def test_invite_register_through_the_link_and_join(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    member_client = log_in_as(make_client(), inviter.email)
    home = member_client.get("/institution")
    assert soup_of(home).select_one("[data-team-link] a[href='/institution/team']") is not None
    team = member_client.get("/institution/team")
    assert team.status_code == 200
    # The email's language defaults to the inviter's.
    chosen = soup_of(team).select_one("#locale option[selected]")
    assert chosen is not None and chosen["value"] == "fr"

    sent = _invite(member_client)
    assert sent.status_code == 303  # type: ignore[attr-defined]
    [email] = _emails(session)
    # Written in the language the inviter chose for the colleague (Arabic), naming them both.
    opening = notifications.translate("ar", notifications.INVITATION_BODY).split("%")[0]
    assert opening and opening != "%" and opening in email.body
    assert "نور العمراني" in email.body and notifications.INVITATION_BODY[:20] not in email.body
    assert "Hélène Benali" in email.subject and "Oran" in email.subject
    assert email.user_id is None
    token = _token_of(email)
    # Only the token's hash is kept.
    stored = session.exec(select(InstitutionInvitation)).one()
    assert stored.token_hash == invitations.hash_token(token) and token not in stored.token_hash
    listed = soup_of(member_client.get("/institution/team")).select("[data-invitation]")
    assert [text_of(row.select_one("td")) for row in listed] == [COLLEAGUE]

    colleague = make_client()
    page = colleague.get(f"/join?token={token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Oran" in h1(page)
    shown = soup_of(page).select_one("#invited-email")
    assert shown is not None and shown["value"] == COLLEAGUE and shown.has_attr("readonly")
    name_field = soup_of(page).select_one("#display_name")
    assert name_field is not None and name_field["value"] == "نور العمراني"

    joined = _register(colleague, token)
    assert joined.status_code == 303, joined.text  # type: ignore[attr-defined]
    assert joined.headers["location"] == "/institution"  # type: ignore[attr-defined]
    home = colleague.get("/institution")
    assert home.status_code == 200 and "Oran" in h1(home)
    [membership] = _members(session, COLLEAGUE)
    assert membership.institution_id == stored.institution_id
    new_user = session.exec(select(User).where(User.email == COLLEAGUE)).one()
    assert new_user.role == Role.INSTITUTION and new_user.display_name == "نور العمراني"
    assert new_user.locale == "ar"

    rows = soup_of(member_client.get("/institution/team")).select("[data-member]")
    assert [text_of(row.select_one("td:nth-of-type(2)")) for row in rows] == [
        inviter.email,
        COLLEAGUE,
    ]
    assert not soup_of(member_client.get("/institution/team")).select("[data-invitation]")
    # The inviter is told, in their language.
    told = session.exec(
        select(Notification).where(Notification.kind == "institution.member_joined")
    ).one()
    assert told.user_id == inviter.id and "نور العمراني" in told.title
    actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"institution.member_invited", "institution.member_joined"} <= actions


def test_a_used_link_says_so_and_changes_nothing(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    assert _register(make_client(), token).status_code == 303  # type: ignore[attr-defined]
    again = make_client().get(f"/join?token={token}")
    assert again.status_code == 400
    assert "already been used" in text_of(soup_of(again).select_one("[data-join-closed]"))
    second = _register(make_client(), token, display_name="Someone Else")
    assert second.status_code == 409  # type: ignore[attr-defined]
    assert session.exec(select(User).where(User.display_name == "Someone Else")).first() is None


def test_an_expired_link_says_so(session: Session, make_client: Callable[[], TestClient]) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    invitation = session.exec(select(InstitutionInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    session.add(invitation)
    session.commit()
    colleague = make_client()
    page = colleague.get(f"/join?token={token}")
    assert page.status_code == 400
    assert "expired" in text_of(soup_of(page).select_one("[data-join-closed]"))
    refused = _register(colleague, token)
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert _members(session, COLLEAGUE) == []
    # The team page offers to send it again: a new link, valid again, the old one dead.
    member_client = log_in_as(make_client(), inviter.email)
    row = soup_of(member_client.get("/institution/team")).select_one("[data-invitation]")
    assert row is not None and row["data-state"] == "expired"
    resent = post_form(member_client, f"/institution/team/invitations/{invitation.id}/resend", {})
    assert resent.status_code == 303
    new_token = _token_of(_emails(session)[-1])
    assert new_token != token
    assert make_client().get(f"/join?token={token}").status_code == 400
    assert make_client().get(f"/join?token={new_token}").status_code == 200


def test_a_revoked_link_says_so(session: Session, make_client: Callable[[], TestClient]) -> None:
    inviter = _inviter(session)
    member_client = log_in_as(make_client(), inviter.email)
    _invite(member_client)
    token = _token_of(_emails(session)[0])
    invitation = session.exec(select(InstitutionInvitation)).one()
    revoked = post_form(member_client, f"/institution/team/invitations/{invitation.id}/revoke", {})
    assert revoked.status_code == 303
    assert "révoquée" in " ".join(flash_messages(member_client.get("/institution/team")))
    page = make_client().get(f"/join?token={token}")
    assert page.status_code == 400
    assert "withdrawn" in text_of(soup_of(page).select_one("[data-join-closed]"))
    assert _register(make_client(), token).status_code == 409  # type: ignore[attr-defined]
    # Revoking again is answered, not a 500.
    again = post_form(member_client, f"/institution/team/invitations/{invitation.id}/revoke", {})
    assert again.status_code == 409
    assert session.exec(select(User).where(User.email == COLLEAGUE)).first() is None


def test_a_forged_link_says_so(make_client: Callable[[], TestClient]) -> None:
    page = make_client().get("/join?token=not-a-real-token")
    assert page.status_code == 400
    assert "not valid" in text_of(soup_of(page).select_one("[data-join-closed]"))


def test_signed_in_account_without_institution_joins_in_one_click(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email), email="Nour.El-Amrani@CHU-Oran.dz")
    token = _token_of(_emails(session)[0])
    alone = make_user(session, role=Role.INSTITUTION, email=COLLEAGUE)
    first, second = log_in_as(make_client(), alone.email), log_in_as(make_client(), alone.email)
    # Two tabs show the button; both are pressed: one joins, the other is told it is used.
    assert soup_of(first.get(f"/join?token={token}")).select_one("[data-join-form]") is not None
    assert soup_of(second.get(f"/join?token={token}")).select_one("[data-join-form]") is not None
    won = post_form(first, "/join", {"token": token})
    lost = post_form(second, "/join", {"token": token})
    assert won.status_code == 303 and won.headers["location"] == "/institution"
    assert lost.status_code == 409
    assert "already been used" in text_of(soup_of(lost).select_one("[data-join-closed]"))
    assert len(_members(session, COLLEAGUE)) == 1
    assert first.get("/institution").status_code == 200


def test_an_account_with_the_address_is_asked_to_log_in(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    make_user(session, role=Role.INSTITUTION, email=COLLEAGUE)
    page = make_client().get(f"/join?token={token}")
    assert page.status_code == 200
    soup = soup_of(page)
    assert soup.select_one("[data-account-exists]") is not None
    assert soup.select_one("[data-join-register]") is None
    link = soup.select_one("[data-login-link]")
    assert link is not None and str(link["href"]).startswith("/login?next=%2Fjoin%3Ftoken%3D")
    # Logging in from there comes back to the invitation, which then joins in one click.
    client = make_client()
    login_page = client.get(str(link["href"]))
    next_field = soup_of(login_page).select_one("form[action='/login'] input[name=next]")
    assert next_field is not None
    logged_in = post_form(
        client, "/login", {"email": COLLEAGUE, "password": PASSWORD, "next": next_field["value"]}
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == f"/join?token={token}"
    assert post_form(client, "/join", {"token": token}).status_code == 303
    assert len(_members(session, COLLEAGUE)) == 1


@pytest.mark.parametrize("who", ["expert", "other_member", "coordinator", "other_address"])
def test_accounts_that_may_not_join_are_told_why(
    who: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    if who == "expert":
        account = make_expert(session, user=make_user(session, email=COLLEAGUE)).user_id
        user = session.get(User, account)
        assert user is not None
    elif who == "other_member":
        user, _ = make_member(session, name="Université d'Oran 1 Ahmed Ben Bella")
        user.email = COLLEAGUE
        session.add(user)
        session.commit()
    elif who == "coordinator":
        user = make_user(session, role=Role.COORDINATOR, email=COLLEAGUE)
    else:
        user = make_user(session, role=Role.INSTITUTION, email="karim.saidi@chu-oran.dz")
    client = log_in_as(make_client(), user.email)
    page = client.get(f"/join?token={token}")
    assert page.status_code == 403
    words = {
        "expert": "expert's",
        "other_member": "already acts for an institution",
        "coordinator": "coordinator's account",
        "other_address": "logged in as karim.saidi@chu-oran.dz",
    }[who]
    assert words in text_of(soup_of(page).select_one("[data-join-closed]"))
    refused = post_form(client, "/join", {"token": token})
    assert refused.status_code == 403
    invitation = session.exec(select(InstitutionInvitation)).one()
    session.refresh(invitation)
    assert invitation.accepted_at is None
    members = session.exec(
        select(InstitutionMember).where(
            InstitutionMember.institution_id == invitation.institution_id
        )
    ).all()
    assert [m.user_id for m in members] == [inviter.id]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"email": ""}, "email", "Ce champ est obligatoire"),
        ({"email": "nour.el-amrani@"}, "email", "Saisissez une adresse valide"),
        ({"email": "  "}, "email", "Ce champ est obligatoire"),
    ],
)
def test_bad_input_keeps_every_field(
    fields: dict[str, str],
    field: str,
    words: str,
    session: Session,
    make_client: Callable[[], TestClient],
) -> None:
    inviter = _inviter(session)
    client = log_in_as(make_client(), inviter.email)
    page = _invite(client, display_name="Noël Ðurić-Amrani", locale="pt", **fields)
    assert page.status_code == 422  # type: ignore[attr-defined]
    assert words in error_beside(page, field)  # type: ignore[arg-type]
    soup = soup_of(page)  # type: ignore[arg-type]
    name = soup.select_one("#display_name")
    assert name is not None and name["value"] == "Noël Ðurić-Amrani"
    chosen = soup.select_one("#locale option[selected]")
    assert chosen is not None and chosen["value"] == "pt"
    assert _emails(session) == []


def test_a_member_or_an_invited_address_is_refused_with_an_offer_to_resend(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    client = log_in_as(make_client(), inviter.email)
    already = _invite(client, email=inviter.email.upper())
    assert already.status_code == 422  # type: ignore[attr-defined]
    assert "déjà membre de votre institution" in error_beside(already, "email")  # type: ignore[arg-type]
    assert _invite(client).status_code == 303  # type: ignore[attr-defined]
    twice = _invite(client, display_name="Nour")
    assert twice.status_code == 422  # type: ignore[attr-defined]
    assert "Vous pouvez la renvoyer" in error_beside(twice, "email")  # type: ignore[arg-type]
    soup = soup_of(twice)  # type: ignore[arg-type]
    row = soup.select_one("[data-invitation].highlight")
    assert row is not None and row.select_one("form[action$='/resend']") is not None
    email_field = soup.select_one("#email")
    assert email_field is not None and email_field["value"] == COLLEAGUE
    assert len(_emails(session)) == 1


@pytest.mark.parametrize("who", ["anonymous", "expert", "coordinator"])
def test_only_members_see_the_team_page(
    who: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    client = make_client()
    if who != "anonymous":
        role = Role.EXPERT if who == "expert" else Role.COORDINATOR
        log_in_as(client, make_user(session, role=role).email)
    page = client.get("/institution/team")
    invite = post_form(client, "/institution/team/invite", {"email": COLLEAGUE})
    if who == "anonymous":
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert invite.status_code == 303 and invite.headers["location"].startswith("/login")
    else:
        assert page.status_code == 403 and invite.status_code == 403
    assert _emails(session) == []


def test_another_institution_cannot_touch_an_invitation(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    invitation = session.exec(select(InstitutionInvitation)).one()
    other, _ = make_member(session, name="Clínica São José")
    client = log_in_as(make_client(), other.email)
    team = client.get("/institution/team")
    assert team.status_code == 200 and COLLEAGUE not in team.text
    for action in ("revoke", "resend"):
        response = post_form(client, f"/institution/team/invitations/{invitation.id}/{action}", {})
        assert response.status_code == 404
    session.refresh(invitation)
    assert invitation.revoked_at is None and len(_emails(session)) == 1


def test_an_institution_awaiting_verification_may_invite(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session, verified=False)
    client = log_in_as(make_client(), inviter.email)
    assert client.get("/institution/team").status_code == 200
    assert _invite(client).status_code == 303  # type: ignore[attr-defined]
    assert len(_emails(session)) == 1


def test_the_outbox_hides_the_invitation_link(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    staff = log_in_as(make_client(), make_user(session, role=Role.COORDINATOR).email)
    outbox = staff.get("/coordinator/outbox")
    assert outbox.status_code == 200 and token not in outbox.text
    assert soup_of(outbox).select_one("[data-hidden-body]") is not None


def test_two_sessions_racing_on_one_link_join_once(
    engine: Engine, session: Session, settings: Settings, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    form = InvitationRegistration(display_name="Nour", password=NEW_PASSWORD, locale="fr")
    with Session(engine) as first, Session(engine) as second:
        # Both read the invitation as open before either accepts it.
        invitations.open_invitation(first, token=token, now=utcnow())
        invitations.open_invitation(second, token=token, now=utcnow())
        invitations.register_and_join(first, token=token, form=form, settings=settings)
        first.commit()
        with pytest.raises(Conflict) as lost:
            invitations.register_and_join(second, token=token, form=form, settings=settings)
        second.rollback()
    assert lost.value.message == invitations.LINK_MESSAGES[invitations.LinkState.USED]
    assert len(_members(session, COLLEAGUE)) == 1


def test_erasing_an_account_erases_the_invitations_to_it(
    session: Session, settings: Settings, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    client = log_in_as(make_client(), inviter.email)
    _invite(client)
    token = _token_of(_emails(session)[0])
    assert _register(make_client(), token).status_code == 303  # type: ignore[attr-defined]
    _invite(client, email="karim.saidi@chu-oran.dz", display_name="Karim Saïdi")
    colleague = session.exec(select(User).where(User.email == COLLEAGUE)).one()
    # Their data holds the invitation they accepted (not its link); the inviter's, both sent.
    [received] = privacy.export_user_data(session, user=colleague)["invitations"]
    assert received["email"] == COLLEAGUE and "token_hash" not in received
    sent = privacy.export_user_data(session, user=inviter)["invitations"]
    assert [i["email"] for i in sent] == [COLLEAGUE, "karim.saidi@chu-oran.dz"]
    # The API's copy holds them as the page's download does.
    api = client.get("/api/me/data").json()
    assert [i["email"] for i in api["invitations"]] == [COLLEAGUE, "karim.saidi@chu-oran.dz"]
    assert all("token_hash" not in i for i in api["invitations"])
    privacy.delete_account(session, user=colleague, password=NEW_PASSWORD, settings=settings)
    session.commit()
    session.expire_all()
    left = session.exec(select(InstitutionInvitation)).all()
    assert [i.email for i in left] == ["karim.saidi@chu-oran.dz"]
    assert _emails(session) == []
    # The inviter erased: the invitation they sent stays for their institution, unnamed.
    privacy.delete_account(session, user=inviter, password=PASSWORD, settings=settings)
    session.commit()
    session.expire_all()
    [kept] = session.exec(select(InstitutionInvitation)).all()
    assert kept.invited_by_id is None


@given(email=unique_email(), name=phrases(max_size=120))
def test_any_email_and_name_are_invited_as_typed(
    email: str, name: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = session.exec(select(User).where(User.display_name == "Hélène Benali")).first()
    if inviter is None:
        inviter = _inviter(session)
    client = log_in_as(make_client(), inviter.email)
    sent = post_form(
        client, "/institution/team/invite", {"email": email, "display_name": name, "locale": "es"}
    )
    assert sent.status_code == 303, sent.text
    session.expire_all()
    invitation = session.exec(
        select(InstitutionInvitation).where(InstitutionInvitation.email == email.strip().lower())
    ).one()
    assert invitation.display_name == name.strip() and invitation.locale == "es"
    [mail] = _emails(session, to=invitation.email)
    assert name.strip() in mail.body


def test_the_policy_says_who_invites_and_who_may_join() -> None:
    inviters = {kind for kind in ReaderKind if policy.may(Reader(kind), Action.INVITE_MEMBER)}
    # A pending institution invites too: a colleague may help complete its verification.
    assert inviters == {ReaderKind.PENDING_MEMBER, ReaderKind.MEMBER}
    without_institution = Reader(ReaderKind.PENDING_MEMBER, user_id=7)
    assert policy.join_refusal(without_institution, own_address=True) is None
    refusals = {
        Reader(ReaderKind.PENDING_MEMBER, user_id=7): JoinRefusal.OTHER_ADDRESS,
        Reader(ReaderKind.EXPERT, user_id=8): JoinRefusal.EXPERT,
        Reader(ReaderKind.COORDINATOR, user_id=9): JoinRefusal.STAFF,
        Reader(ReaderKind.ADMIN, user_id=10): JoinRefusal.STAFF,
        Reader(ReaderKind.MEMBER, user_id=11, institution_id=3): JoinRefusal.MEMBER,
        Reader(ReaderKind.PENDING_MEMBER, user_id=12, institution_id=4): JoinRefusal.MEMBER,
    }
    for reader, refusal in refusals.items():
        own = refusal != JoinRefusal.OTHER_ADDRESS
        assert policy.join_refusal(reader, own_address=own) == refusal, reader


def test_an_institution_sends_a_bounded_number_of_invitations_a_day(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    institution_id = session.exec(
        select(InstitutionMember.institution_id).where(InstitutionMember.user_id == inviter.id)
    ).one()
    yesterday = utcnow() - timedelta(hours=23)
    for number in range(invitations.MAX_PER_DAY):
        session.add(
            InstitutionInvitation(
                institution_id=institution_id,
                email=f"collègue.{number}@chu-oran.dz",
                token_hash=invitations.hash_token(f"token-{number}"),
                created_at=yesterday,
                expires_at=yesterday + invitations.INVITATION_TTL,
            )
        )
    session.commit()
    client = log_in_as(make_client(), inviter.email)
    refused = _invite(client, display_name="Nour")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    alert = soup_of(refused).select_one(".form-error")  # type: ignore[arg-type]
    assert "beaucoup d'invitations aujourd'hui" in text_of(alert)
    name = soup_of(refused).select_one("#display_name")  # type: ignore[arg-type]
    assert name is not None and name["value"] == "Nour"
    assert _emails(session) == []
    # A day after the first of them, the institution invites again.
    for invitation in session.exec(select(InstitutionInvitation)).all():
        invitation.created_at = utcnow() - timedelta(days=1, minutes=1)
        session.add(invitation)
    session.commit()
    assert _invite(client).status_code == 303  # type: ignore[attr-defined]


def test_sending_an_invitation_again_counts_in_the_days_bound(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    """Sending one invitation again and again cannot mail an address without end."""
    inviter = _inviter(session)
    client = log_in_as(make_client(), inviter.email)
    _invite(client)
    invitation = session.exec(select(InstitutionInvitation)).one()
    resend = f"/institution/team/invitations/{invitation.id}/resend"
    for _ in range(invitations.MAX_PER_DAY - 1):
        assert post_form(client, resend, {}).status_code == 303
    assert len(_emails(session)) == invitations.MAX_PER_DAY
    session.expire_all()
    last_link = session.get_one(InstitutionInvitation, invitation.id).token_hash
    refused = post_form(client, resend, {})
    assert refused.status_code == 303
    told = flash_messages(client.get("/institution/team"))
    assert any("beaucoup d'invitations aujourd'hui" in said for said in told), told
    assert len(_emails(session)) == invitations.MAX_PER_DAY
    session.expire_all()
    # The link last mailed still opens the invitation: the refusal changed nothing.
    assert session.get_one(InstitutionInvitation, invitation.id).token_hash == last_link
    assert _invite(client, email="karim.saidi@chu-oran.dz").status_code == 422  # type: ignore[attr-defined]


def test_two_browsers_registering_through_one_link_at_once_join_once(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    inviter = _inviter(session)
    _invite(log_in_as(make_client(), inviter.email))
    token = _token_of(_emails(session)[0])
    browsers = [make_client(), make_client()]
    for browser in browsers:
        assert browser.get(f"/join?token={token}").status_code == 200

    def register(client: TestClient) -> Response:
        return client.post(
            "/join",
            data={
                "token": token,
                "display_name": "Nour El-Amrani",
                "password": NEW_PASSWORD,
                "locale": "fr",
                "consent_terms": "on",
                "csrf_token": csrf_token(client),
            },
        )

    answers = race_with(browsers, [register, register])
    assert sorted(answer.status_code for answer in answers) == [303, 409]
    lost = next(answer for answer in answers if answer.status_code == 409)
    assert "already been used" in text_of(soup_of(lost).select_one("[data-join-closed]"))
    assert len(_members(session, COLLEAGUE)) == 1
    assert len(session.exec(select(User).where(User.email == COLLEAGUE)).all()) == 1
