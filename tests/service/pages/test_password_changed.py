"""A new password, set on the account page or through an emailed reset link: the account's
address is told (in its language, at the hour of its time zone, with where to reset it, never
the password), and an email change waiting for confirmation is cancelled with it, which the
flash, the account page and the mailed link's page all say. An account being erased is told
nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from fastapi.testclient import TestClient
from httpx import Response
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session, col, select

from service.config import Settings
from service.core import accounts, email_change, notifications, privacy
from service.errors import FieldErrors
from service.models import AuditEvent, OutgoingEmail, Role, User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_expert, make_institution, make_user
from tests.service.pages.helpers import flash_messages, log_in_as, post_form, soup_of, text_of

AMELIE = "amélie.ouédraogo@université-ouaga.bf"
AMELIE_NEW = "a.ouedraogo@sahel-santé.org"
LEILA = "leila.haddad@jamiaa-beyrouth.edu.lb"
LEILA_NEW = "leïla.haddad@sante-levant.org"
NEW_PASSWORD = "Bobo-Dioulasso-Ŋ-2026!"
NOTICE = "account.password_changed"
FR_CANCELLED_FLASH = (
    "Le changement de votre adresse électronique pour \u2068{email}\u2069 a été annulé avec le "
    "changement de mot de passe : demandez-le de nouveau si vous le souhaitez toujours."
)
FR_LINK_CANCELLED = (
    "Ce changement de courriel a été annulé parce que le mot de passe du compte a été changé "
    "après la demande. Demandez-le de nouveau depuis la page de votre compte si vous le "
    "souhaitez toujours."
)
FR_LINK_DEAD = (
    "Ce lien de confirmation a expiré, a déjà servi ou a été remplacé par un plus récent. "
    "Refaites la demande depuis la page de votre compte."
)


def _amelie(session: Session) -> User:
    """A French-speaking expert from Burkina Faso whose profile sets Toronto's time zone."""
    user = make_user(session, role=Role.EXPERT, email=AMELIE, locale="fr")
    user.display_name = "Amélie Ouédraogo"
    session.add(user)
    make_expert(
        session,
        user=user,
        display_name="Amélie Ouédraogo",
        skills=["épidémiologie", "santé publique"],
        timezone="America/Toronto",
    )
    session.commit()
    return user


def _leila(session: Session) -> User:
    """An Arabic-speaking member of a Lebanese university (Beirut's hour), who switched every
    optional email off: a security notice still comes."""
    user = make_user(session, role=Role.INSTITUTION, email=LEILA, locale="ar")
    user.display_name = "ليلى حداد"
    user.email_prefs = {name: False for name in notifications.EMAIL_CATEGORIES}
    session.add(user)
    make_institution(
        session,
        member=user,
        name="الجامعة اللبنانية",
        country="LB",
        city="بيروت",
        timezone="Asia/Beirut",
    )
    session.commit()
    return user


def _mails(session: Session, kind: str) -> list[OutgoingEmail]:
    session.expire_all()
    query = select(OutgoingEmail).where(OutgoingEmail.kind == kind)
    return list(session.exec(query.order_by(col(OutgoingEmail.id))).all())


def _fresh(session: Session, user: User) -> User:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found


def _said_when(body: str, pattern: str) -> str:
    found = re.search(pattern, body)
    assert found is not None, body
    return found.group(1)


def _written(moment: datetime, zone: str, locale: str) -> set[str]:
    """How the notice may write a moment (the second it was queued, or the one before)."""
    return {
        format_datetime(at, format="long", tzinfo=ZoneInfo(zone), locale=locale)
        for at in (moment, moment - timedelta(seconds=1))
    }


def _change_password(browser: TestClient) -> Response:
    return post_form(
        browser,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )


def _reset_through_link(
    client: TestClient, session: Session, settings: Settings, email: str
) -> Response:
    assert post_form(client, "/password/forgot", {"email": email}).status_code == 303
    body = _mails(session, "account.password_reset")[-1].body
    found = re.search(r"/password/reset\?token=(\S+)", body)
    assert found is not None, body
    token = parse_qs(urlsplit(found.group(0)).query)["token"][0]
    return post_form(
        client,
        "/password/reset",
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )


def _link_token(session: Session) -> str:
    body = _mails(session, "account.email_change_link")[-1].body
    found = re.search(r"/account/email/confirm\?token=(\S+)", body)
    assert found is not None, body
    return unquote(found.group(1))


def test_a_password_changed_on_the_account_page_is_told_in_french_at_the_hour_of_montreal(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    done = _change_password(browser)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert flash_messages(browser.get("/account")) == [
        "Votre mot de passe a été changé. Vos autres sessions et vos jetons d'API ont pris fin."
    ]

    [notice] = _mails(session, NOTICE)
    assert (notice.to_address, notice.user_id) == (AMELIE, user.id)
    assert notice.subject == "Le mot de passe de votre compte Homeward a été changé"
    assert notice.body.startswith("Bonjour Amélie Ouédraogo,")
    reset_page = settings.public_base_url.rstrip("/") + "/password/forgot"
    said = _said_when(
        notice.body,
        r"Votre mot de passe Homeward a été changé le (.+)\. Si ce n'était pas vous, "
        r"réinitialisez-le dès maintenant : " + re.escape(reset_page) + "$",
    )
    # Toronto's hour (UTC-5 in December, UTC-4 in summer), not UTC's.
    assert said in _written(notice.created_at, "America/Toronto", "fr")
    assert said.endswith(("-0500", "-0400"))
    # Nothing secret, and nothing about an email change when none was waiting.
    assert NEW_PASSWORD not in notice.body and PASSWORD not in notice.body
    assert "courriel" not in notice.body
    # The link leads to the page that asks for a reset link.
    assert soup_of(make_client().get("/password/forgot")).select_one(
        "form[action='/password/forgot']"
    )


def test_a_password_reset_through_the_emailed_link_is_told_in_arabic_at_the_hour_of_beirut(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = _leila(session)
    done = _reset_through_link(client, session, settings, LEILA)
    assert done.status_code == 303 and done.headers["location"] == "/login"

    [notice] = _mails(session, NOTICE)
    assert (notice.to_address, notice.user_id) == (LEILA, user.id)
    assert notice.subject == "تم تغيير كلمة المرور لحسابكم في Homeward"
    assert "ليلى حداد" in notice.body.splitlines()[0]
    reset_page = settings.public_base_url.rstrip("/") + "/password/forgot"
    # Each value isolated, so the date and the address keep their order in Arabic.
    said = _said_when(
        notice.body,
        r"تم تغيير كلمة المرور لحسابكم في Homeward في \u2068(.+)\u2069\. "
        r"إن لم تكونوا أنتم من غيّرها، فأعيدوا تعيينها الآن: \u2068" + re.escape(reset_page),
    )
    assert said in _written(notice.created_at, "Asia/Beirut", "ar")
    assert said.endswith("+0200")
    assert NEW_PASSWORD not in notice.body


def test_a_staff_account_without_a_time_zone_reads_utc(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR, email="joão.baptista@homeward.pt")
    coordinator.locale = "pt"
    session.add(coordinator)
    session.commit()
    assert _change_password(log_in_as(make_client(), coordinator.email)).status_code == 303  # type: ignore[attr-defined]
    [notice] = _mails(session, NOTICE)
    assert notice.subject == "A palavra-passe da sua conta Homeward foi alterada"
    said = _said_when(notice.body, r"foi alterada em (.+)\. Se não foi")
    assert said in _written(notice.created_at, "UTC", "pt_PT")


def test_the_notice_says_the_moment_in_the_accounts_zone(
    session: Session, settings: Settings
) -> None:
    """The same moment, written for two accounts in their own zones and languages."""
    moment = datetime(2026, 7, 14, 18, 5, tzinfo=UTC)
    amelie = _amelie(session)
    leila = _leila(session)
    notifications.password_changed(
        session, user=amelie, settings=settings, now=moment, zone="America/Toronto"
    )
    notifications.password_changed(
        session, user=leila, settings=settings, now=moment, zone="Asia/Beirut"
    )
    session.commit()
    fr, ar = _mails(session, NOTICE)
    assert "changé le 14 juillet 2026, 14:05:00 -0400." in fr.body
    assert "في \u206814 يوليو 2026، 9:05:00 م +0300\u2069." in ar.body


def test_changing_the_password_cancels_the_email_change_waiting_and_says_so_everywhere(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    asked = post_form(browser, "/account/email", {"email": AMELIE_NEW, "password": PASSWORD})
    assert asked.status_code == 303
    page = browser.get("/account")
    assert AMELIE_NEW in text_of(soup_of(page).select_one("[data-pending-email]"))
    token = _link_token(session)

    assert _change_password(browser).status_code == 303  # type: ignore[attr-defined]
    page = browser.get("/account")
    assert flash_messages(page) == [
        "Votre mot de passe a été changé. Vos autres sessions et vos jetons d'API ont pris fin.",
        FR_CANCELLED_FLASH.format(email=AMELIE_NEW),
    ]
    # The account no longer says a change waits; its email is still the old one.
    assert soup_of(page).select_one("[data-pending-email]") is None
    assert AMELIE_NEW not in text_of(soup_of(page).select_one("main"))
    fresh = _fresh(session, user)
    assert (fresh.email, fresh.pending_email) == (AMELIE, None)
    cancelled = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_id == user.id, AuditEvent.action == "user.email_change_cancelled"
        )
    ).one()
    assert cancelled.data == {"by": "user.password_changed"}
    assert cancelled.actor_id == user.id

    # The mailed link's page says why it is dead; pressing its button changes nothing.
    opened = browser.get(f"/account/email/confirm?token={token}")
    assert opened.status_code == 400
    assert text_of(soup_of(opened).select_one("[role=alert]")) == FR_LINK_CANCELLED
    pressed = post_form(browser, "/account/email/confirm", {"token": token})
    assert pressed.status_code == 400
    assert text_of(soup_of(pressed).select_one("[role=alert]")) == FR_LINK_CANCELLED
    # Opened in another browser, in English.
    elsewhere = make_client().get(f"/account/email/confirm?token={token}")
    assert text_of(soup_of(elsewhere).select_one("[role=alert]")) == (
        email_change.CANCELLED_BY_PASSWORD
    )
    assert _fresh(session, user).email == AMELIE

    # The notice tells the account its change waiting went with the password.
    [notice] = _mails(session, NOTICE)
    assert (
        "Le changement de courriel de votre compte qui attendait sa confirmation a été annulé"
        in (notice.body)
    )
    assert AMELIE_NEW not in notice.body


def test_a_password_reset_cancels_the_email_change_waiting_and_the_login_page_says_so(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _leila(session)
    browser = log_in_as(make_client(), LEILA)
    assert (
        post_form(browser, "/account/email", {"email": LEILA_NEW, "password": PASSWORD}).status_code
        == 303
    )
    token = _link_token(session)

    anonymous = make_client()
    done = _reset_through_link(anonymous, session, settings, LEILA)
    assert done.status_code == 303
    told = flash_messages(anonymous.get("/login"))
    assert told[-1] == (
        "The change of your email address to \u2068"
        + LEILA_NEW
        + "\u2069 was cancelled with the password change: ask for it again if you still want it."
    )
    fresh = _fresh(session, user)
    assert (fresh.email, fresh.pending_email) == (LEILA, None)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_id == user.id).order_by(col(AuditEvent.id))
    ).all()
    assert [e.action for e in events][-2:] == ["user.email_change_cancelled", "user.password_reset"]
    assert events[-2].data == {"by": "user.password_reset"}

    # Logged in again with the new password, the account page shows nothing waiting.
    again = make_client()
    post_form(again, "/login", {"email": LEILA, "password": NEW_PASSWORD})
    assert soup_of(again.get("/account")).select_one("[data-pending-email]") is None
    # The link's page says why, in the reader's language (the API's message names the field).
    api = again.post(
        "/api/me/email/confirm", json={"token": token}, headers={"x-csrf-token": csrf_token(again)}
    )
    assert api.status_code == 422
    [error] = api.json()["errors"]
    assert error["field"] == "token"
    assert error["message"] == (
        "أُلغي تغيير البريد الإلكتروني هذا لأن كلمة مرور الحساب غُيّرت بعد طلبه. "
        "اطلبوه مجددًا من صفحة حسابكم إن كنتم ما زلتم تريدونه."
    )
    [notice] = _mails(session, NOTICE)
    assert "أُلغي تغيير البريد الإلكتروني لحسابكم" in notice.body


def test_a_link_replaced_before_the_password_change_says_so_not_that_the_password_cancelled_it(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    post_form(browser, "/account/email", {"email": AMELIE_NEW, "password": PASSWORD})
    asked_at = (
        session.exec(select(AuditEvent).where(AuditEvent.action == "user.email_change_requested"))
        .one()
        .at
    )
    latest = _link_token(session)
    _change_password(browser)

    class MinuteEarlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((asked_at - timedelta(minutes=1)).timestamp())

    # A link of an earlier request (to a mistyped address), made a minute before this one.
    earlier = URLSafeTimedSerializer(
        settings.secret_key, salt=email_change.SALT, signer=MinuteEarlier
    ).dumps({"u": user.id, "e": "a.ouedraogo@sahel-santé.orgg", "f": "0" * 32})
    # The page's language is the browser's (English here).
    page = make_client().get(f"/account/email/confirm?token={earlier}")
    assert page.status_code == 400
    assert text_of(soup_of(page).select_one("[role=alert]")) == email_change.LINK_INVALID
    with pytest.raises(FieldErrors) as refused:
        email_change.confirm(session, token=earlier, settings=settings)
    assert refused.value.errors == {"token": email_change.LINK_INVALID}
    # The link of the change the password cancelled says so.
    page = make_client().get(f"/account/email/confirm?token={latest}")
    assert text_of(soup_of(page).select_one("[role=alert]")) == (email_change.CANCELLED_BY_PASSWORD)


def test_a_change_cancelled_by_its_owner_keeps_the_general_words(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    post_form(browser, "/account/email", {"email": AMELIE_NEW, "password": PASSWORD})
    token = _link_token(session)
    post_form(browser, "/account/email/cancel", {})
    _change_password(browser)
    assert flash_messages(browser.get("/account"))[-1].startswith("Votre mot de passe a été changé")
    page = browser.get(f"/account/email/confirm?token={token}")
    assert text_of(soup_of(page).select_one("[role=alert]")) == FR_LINK_DEAD
    [notice] = _mails(session, NOTICE)
    assert "courriel" not in notice.body


def test_an_account_being_erased_is_not_told_of_a_password(
    make_client: Callable[[], TestClient], session: Session, settings: Settings
) -> None:
    user = _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    # A notice queued a moment before the erasure goes with the account's other emails.
    _change_password(browser)
    assert len(_mails(session, NOTICE)) == 1
    fresh = _fresh(session, user)
    privacy.delete_account(session, user=fresh, password=NEW_PASSWORD, settings=settings)
    session.commit()
    assert _mails(session, NOTICE) == []
    # Erasing replaces the password without a notice, and an erased account is told nothing.
    erased = _fresh(session, user)
    assert erased.deleted_at is not None and not erased.active
    notifications.password_changed(
        session, user=erased, settings=settings, now=datetime.now(UTC), zone="UTC"
    )
    session.commit()
    assert _mails(session, NOTICE) == []
    assert session.exec(select(OutgoingEmail).where(OutgoingEmail.user_id == user.id)).all() == []


def test_a_wrong_current_password_sends_nothing_and_keeps_the_change_waiting(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    user = _amelie(session)
    browser = log_in_as(make_client(), AMELIE)
    post_form(browser, "/account/email", {"email": AMELIE_NEW, "password": PASSWORD})
    refused = post_form(
        browser,
        "/account/password",
        {"current_password": "pas-le-bon-mot-de-passe", "new_password": NEW_PASSWORD},
    )
    assert refused.status_code == 422
    assert _mails(session, NOTICE) == []
    assert _fresh(session, user).pending_email == AMELIE_NEW
    assert AMELIE_NEW in text_of(soup_of(refused).select_one("[data-pending-email]"))


def test_the_account_timezone_is_the_profiles_then_the_institutions_then_utc(
    session: Session,
) -> None:
    assert accounts.timezone_of(session, _amelie(session)) == "America/Toronto"
    assert accounts.timezone_of(session, _leila(session)) == "Asia/Beirut"
    assert accounts.timezone_of(session, make_user(session, role=Role.ADMIN)) == "UTC"


def test_the_arabic_account_page_says_the_change_was_cancelled_the_address_isolated(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    _leila(session)
    browser = log_in_as(make_client(), LEILA)
    post_form(browser, "/account/email", {"email": LEILA_NEW, "password": PASSWORD})
    assert _change_password(browser).status_code == 303
    page = browser.get("/account")
    assert flash_messages(page)[-1] == (
        "أُلغي تغيير عنوان بريدكم الإلكتروني إلى \u2068"
        + LEILA_NEW
        + "\u2069 مع تغيير كلمة المرور: اطلبوه مجددًا إن كنتم ما زلتم تريدونه."
    )
    assert soup_of(page).select_one("[data-pending-email]") is None
