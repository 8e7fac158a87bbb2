"""Notifications: in-app messages and emails, in each recipient's language and by their choice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from sqlmodel import Session

from service.config import Settings
from service.core import policy
from service.core.audit import record
from service.errors import NotFound
from service.i18n import DEFAULT_LOCALE, RTL_LOCALES, UI_LOCALES, cldr_locale, translations_for
from service.mail import queue_email
from service.models import Notification, NotificationPublic, Role, User
from service.models.types import utcnow
from service.repos import notifications as notifications_repo


def N_(message: str) -> str:  # noqa: N802 - the name gettext extractors look for
    """Marks a string for extraction into the catalogues; it is translated later, per reader."""
    return message


@dataclass(frozen=True)
class Message:
    category: str
    subject: str
    body: str


# Email categories a user may switch off, with the roles they concern.
EMAIL_CATEGORIES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "offers": (N_("Engagement offers, their reminders and expiry"), (Role.EXPERT,)),
    "engagements": (
        N_("Changes to my engagements"),
        (Role.EXPERT, Role.INSTITUTION, Role.COORDINATOR, Role.ADMIN),
    ),
    "availability": (N_("Reminders to confirm my availability"), (Role.EXPERT,)),
    "coordination": (
        N_(
            "Offers I approved that were declined or expired, and experts suggested by institutions"
        ),
        (Role.COORDINATOR, Role.ADMIN),
    ),
    "verification": (N_("The verification of my institution"), (Role.INSTITUTION,)),
    "answers": (
        N_("Institutions' answers to the information I asked of them"),
        (Role.COORDINATOR, Role.ADMIN),
    ),
    "team": (N_("Colleagues joining my institution"), (Role.INSTITUTION,)),
}

MESSAGES: dict[str, Message] = {
    "offer.new": Message(
        "offers",
        N_("New engagement offer: %(need)s"),
        N_(
            "A coordinator proposes you for “%(need)s” at %(institution)s. "
            "Please accept or decline before %(deadline)s."
        ),
    ),
    "offer.reminder": Message(
        "offers",
        N_("Reminder: an offer awaits your answer: %(need)s"),
        N_("Your offer for “%(need)s” expires on %(deadline)s. Please accept or decline it."),
    ),
    "offer.expired": Message(
        "offers",
        N_("Offer expired: %(need)s"),
        N_("The offer for “%(need)s” expired without an answer."),
    ),
    "offer.expired.coordinator": Message(
        "coordination",
        N_("An offer you approved expired: %(need)s"),
        N_(
            "The expert did not answer the offer for “%(need)s” in time. "
            "You may approve another proposal."
        ),
    ),
    "offer.withdrawn": Message(
        "offers",
        N_("Offer withdrawn: %(need)s"),
        N_(
            "“%(need)s” at %(institution)s is filled or closed, so your offer for it is "
            "withdrawn. Thank you for your time."
        ),
    ),
    "need.changed": Message(
        "offers",
        N_("A need you were offered changed: %(need)s"),
        N_(
            "%(institution)s changed “%(need)s” while your offer for it is open. What changed: "
            "%(changes)s. Please read the need again; if it no longer suits you, decline the "
            "offer or tell the coordinator."
        ),
    ),
    "need.changed.coordinator": Message(
        "coordination",
        N_("A need with open offers changed: %(need)s"),
        N_(
            "%(institution)s changed “%(need)s” while experts have open offers for it; they "
            "were told. What changed: %(changes)s."
        ),
    ),
    "institution.member_joined": Message(
        "team",
        N_("%(member)s joined %(institution)s"),
        N_(
            "%(member)s accepted your invitation and now acts for %(institution)s on Homeward. "
            "Your institution's team page lists its members."
        ),
    ),
    "need.suggestion": Message(
        "coordination",
        N_("An institution suggests an expert: %(need)s"),
        N_(
            "%(institution)s found an expert in the roster for “%(need)s” and suggests them. "
            "The need's review page lists them: you may offer them the engagement."
        ),
    ),
    "need.reopened": Message(
        "engagements",
        N_("A need is open again: %(need)s"),
        N_(
            "An engagement for “%(need)s” at %(institution)s was cancelled, so the need is open "
            "again and experts will be proposed for it. Experts confirmed: %(confirmed)s of "
            "%(wanted)s."
        ),
    ),
    "need.reopened.more": Message(
        "engagements",
        N_("A need asks for more experts: %(need)s"),
        N_(
            "“%(need)s” at %(institution)s now asks for more experts, so the need is open "
            "again and experts will be proposed for it. Experts confirmed: %(confirmed)s of "
            "%(wanted)s."
        ),
    ),
    "engagement.accepted": Message(
        "engagements",
        N_("The expert accepted: %(need)s"),
        N_("The expert proposed for “%(need)s” accepted. Please confirm the engagement."),
    ),
    "engagement.expert_left": Message(
        "engagements",
        N_("An expert closed their account: %(need)s"),
        N_(
            "The expert of the engagement for “%(need)s” at %(institution)s closed their "
            "account, so the engagement is cancelled."
        ),
    ),
    "engagement.declined": Message(
        "coordination",
        N_("An offer was declined: %(need)s"),
        N_("The expert declined the offer for “%(need)s”. Reason: %(reason)s"),
    ),
    "engagement.confirmed": Message(
        "engagements",
        N_("Engagement confirmed: %(need)s"),
        N_(
            "%(institution)s confirmed the engagement for “%(need)s”. "
            "You can now see each other's contact details."
        ),
    ),
    "engagement.started": Message(
        "engagements",
        N_("Engagement started: %(need)s"),
        N_("The engagement for “%(need)s” is now active."),
    ),
    "engagement.terms": Message(
        "engagements",
        N_("Dates or hours changed: %(need)s"),
        N_(
            "The dates, mode or agreed hours of the engagement for “%(need)s” were changed. "
            "Please open it to check them before the work begins."
        ),
    ),
    "engagement.delivered": Message(
        "engagements",
        N_("Engagement done, to confirm: %(need)s"),
        N_(
            "The engagement for “%(need)s” is marked as completed. Please confirm it, "
            "so that it counts, and tell us how it went."
        ),
    ),
    "engagement.completed": Message(
        "engagements",
        N_("Engagement completed: %(need)s"),
        N_("The engagement for “%(need)s” is completed. Please tell us how it went."),
    ),
    "engagement.cancelled": Message(
        "engagements",
        N_("Engagement cancelled: %(need)s"),
        N_("The engagement for “%(need)s” was cancelled. Reason: %(reason)s"),
    ),
    "institution.verified": Message(
        "verification",
        N_("%(institution)s is verified"),
        N_(
            "A coordinator has verified %(institution)s. You can now publish your needs, "
            "see how many experts could match them and browse the roster."
        ),
    ),
    "institution.info_requested": Message(
        "verification",
        N_("A coordinator needs more information about %(institution)s"),
        N_(
            "Before verifying %(institution)s, a coordinator asks: %(reason)s "
            "Please answer them on your institution's page, and complete your organisation's "
            "profile if the question is about it; meanwhile you may write draft needs."
        ),
    ),
    "institution.declined": Message(
        "verification",
        N_("%(institution)s was not verified"),
        N_(
            "A coordinator declined to verify %(institution)s. Reason: %(reason)s "
            "You may answer by completing your organisation's profile."
        ),
    ),
    "institution.answered": Message(
        "answers",
        N_("%(institution)s answered your request for information"),
        N_(
            "%(institution)s answered your request for more information before its "
            "verification. Its page shows the answer beside your question: verify the "
            "institution, ask again or decline."
        ),
    ),
    "availability.reminder": Message(
        "availability",
        N_("Are you still available?"),
        N_(
            "Please confirm your availability so that we keep proposing you to institutions. "
            "One click is enough on your proposals page."
        ),
    ),
}

# The notifications that ask their reader to act on an engagement, with the state in which
# the engagement waits for that act: once it leaves that state, whoever moved it and however
# (answered, confirmed, expired, withdrawn, cancelled), they ask for nothing more.
ASKS_WHILE: dict[str, str] = {
    "offer.new": "offered",
    "offer.reminder": "offered",
    "engagement.accepted": "accepted",
    "engagement.delivered": "delivered",
}
# The notifications that ask an institution's members to act on the institution itself: done
# once they answered (a message, or its profile saved) or a coordinator settled its
# verification.
ASKS_OF_INSTITUTION = ("institution.info_requested",)
# What such a notification says once done (its subject, where the first one still asks).
DONE: dict[str, Message] = {
    "offer.new": Message(
        "offers",
        N_("Engagement offer: %(need)s"),
        N_("The offer for “%(need)s” has been answered or has closed: nothing is left to do."),
    ),
    "offer.reminder": Message(
        "offers",
        N_("Engagement offer: %(need)s"),
        N_("The offer for “%(need)s” has been answered or has closed: nothing is left to do."),
    ),
    "engagement.accepted": Message(
        "engagements",
        N_("The expert accepted: %(need)s"),
        N_(
            "The engagement for “%(need)s” has been confirmed or has closed: nothing is left to do."
        ),
    ),
    "institution.info_requested": Message(
        "verification",
        N_("A coordinator needs more information about %(institution)s"),
        N_(
            "%(institution)s answered this request (with a message or by saving its profile), "
            "or its verification was settled: nothing is left to do for now."
        ),
    ),
    "engagement.delivered": Message(
        "engagements",
        N_("Engagement done: %(need)s"),
        N_(
            "The completion of the engagement for “%(need)s” has been confirmed, or the "
            "engagement has closed: nothing is left to do."
        ),
    ),
}

# The parts of a need whose change its experts with open offers are told of (codes from
# service.core.changes.MATERIAL_PARTS).
NEED_PARTS: dict[str, str] = {
    "mode": N_("the mode of work (remote, on site, place)"),
    "hours": N_("the hours per week"),
    "duration": N_("the duration"),
    "start": N_("the possible start dates"),
    "languages": N_("the working languages"),
    "skills": N_("the skills asked"),
    "description": N_("the title or description"),
    "support": N_("the support offered"),
}

GREETING = N_("Hello %(name)s,")
FOOTER = N_("You can choose which emails you receive: %(url)s")
OPEN_LINK = N_("Open: %(url)s")

# French for the strings above, used until the shared catalogue has them.
FALLBACK: dict[str, dict[str, str]] = {
    "fr": {
        "New engagement offer: %(need)s": "Nouvelle proposition d'engagement : %(need)s",
        "A coordinator proposes you for “%(need)s” at %(institution)s. "
        "Please accept or decline before %(deadline)s.": "Un coordinateur vous propose pour "
        "« %(need)s » auprès de %(institution)s. Merci d'accepter ou de refuser avant le "
        "%(deadline)s.",
        "Reminder: an offer awaits your answer: %(need)s": "Rappel : une proposition attend "
        "votre réponse : %(need)s",
        "Your offer for “%(need)s” expires on %(deadline)s. Please accept or decline it.": (
            "Votre proposition pour « %(need)s » expire le %(deadline)s. "
            "Merci de l'accepter ou de la refuser."
        ),
        "Offer expired: %(need)s": "Proposition expirée : %(need)s",
        "The offer for “%(need)s” expired without an answer.": "La proposition pour "
        "« %(need)s » a expiré sans réponse.",
        "An offer you approved expired: %(need)s": "Une proposition que vous avez approuvée a "
        "expiré : %(need)s",
        "The expert did not answer the offer for “%(need)s” in time. "
        "You may approve another proposal.": "L'expert n'a pas répondu à temps à la proposition "
        "pour « %(need)s ». Vous pouvez approuver une autre proposition.",
        "The expert accepted: %(need)s": "L'expert a accepté : %(need)s",
        "The expert proposed for “%(need)s” accepted. Please confirm the engagement.": (
            "L'expert proposé pour « %(need)s » a accepté. Merci de confirmer l'engagement."
        ),
        "An offer was declined: %(need)s": "Une proposition a été refusée : %(need)s",
        "The expert declined the offer for “%(need)s”. Reason: %(reason)s": "L'expert a refusé "
        "la proposition pour « %(need)s ». Motif : %(reason)s",
        "Engagement confirmed: %(need)s": "Engagement confirmé : %(need)s",
        "%(institution)s confirmed the engagement for “%(need)s”. "
        "You can now see each other's contact details.": "%(institution)s a confirmé "
        "l'engagement pour « %(need)s ». Vous voyez désormais les coordonnées l'un de l'autre.",
        "Engagement started: %(need)s": "Engagement commencé : %(need)s",
        "The engagement for “%(need)s” is now active.": "L'engagement pour « %(need)s » est "
        "maintenant actif.",
        "Engagement completed: %(need)s": "Engagement terminé : %(need)s",
        "The engagement for “%(need)s” is completed. Please tell us how it went.": (
            "L'engagement pour « %(need)s » est terminé. Dites-nous comment il s'est passé."
        ),
        "Engagement cancelled: %(need)s": "Engagement annulé : %(need)s",
        "The engagement for “%(need)s” was cancelled. Reason: %(reason)s": "L'engagement pour "
        "« %(need)s » a été annulé. Motif : %(reason)s",
        "Are you still available?": "Êtes-vous toujours disponible ?",
        "Please confirm your availability so that we keep proposing you to institutions. "
        "One click is enough on your proposals page.": "Merci de confirmer votre disponibilité "
        "pour que nous continuions à vous proposer aux institutions. Un clic suffit sur votre "
        "page de propositions.",
        "Hello %(name)s,": "Bonjour %(name)s,",
        "You can choose which emails you receive: %(url)s": "Vous pouvez choisir les courriels "
        "que vous recevez : %(url)s",
        "Open: %(url)s": "Ouvrir : %(url)s",
        "Engagement offers, their reminders and expiry": "Propositions d'engagement, rappels "
        "et expiration",
        "Changes to my engagements": "Changements de mes engagements",
        "Reminders to confirm my availability": "Rappels pour confirmer ma disponibilité",
        "Offers I approved that were declined or expired, and experts suggested by "
        "institutions": "Propositions que j'ai approuvées, refusées ou expirées, et experts "
        "suggérés par les institutions",
    }
}


def translate(locale: str, message: str) -> str:
    """Translates a message into a locale: the catalogue first, then the built-in French."""
    translated = translations_for(locale).gettext(message)
    if translated == message:
        return FALLBACK.get(locale, {}).get(message, message)
    return translated


def render_message(locale: str, message: str, params: dict[str, Any]) -> str:
    """Translates a message and fills in its parameters."""
    return translate(locale, message) % params


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _kept_params(message: Message, params: dict[str, Any]) -> dict[str, str]:
    """The params a message's words show, as text: only they are stored with a notification
    (an unshown one, say a reason, would be personal data no scrub of its words finds)."""
    shown = set(_PLACEHOLDER.findall(message.subject)) | set(_PLACEHOLDER.findall(message.body))
    return {name: str(value) for name, value in params.items() if name in shown}


def _localized_params(params: dict[str, Any], locale: str) -> dict[str, Any]:
    """Writes the dates among the params as the locale writes them (9 déc. 2026)."""
    out = dict(params)
    parts = out.get("changes")
    if isinstance(parts, str):
        out["changes"] = ", ".join(
            translate(locale, NEED_PARTS[code]) for code in parts.split(",") if code in NEED_PARTS
        )
    deadline = out.get("deadline")
    if isinstance(deadline, str) and deadline:
        try:
            day = date.fromisoformat(deadline[:10])
        except ValueError:
            return out
        # A language without a catalogue reads English words, so English dates too.
        written_in = locale if locale in UI_LOCALES else DEFAULT_LOCALE
        out["deadline"] = format_date(day, format="medium", locale=cldr_locale(written_in))
    return out


def _subject_and_body(locale: str, message: Message, params: dict[str, Any]) -> tuple[str, str]:
    shown = _localized_params(params, locale)
    if locale in RTL_LOCALES:
        # Each value (a need's title, a date) isolated, so Latin keeps its order in Arabic.
        shown = {k: f"\u2068{v}\u2069" for k, v in shown.items()}
    return (
        render_message(locale, message.subject, shown)[:300],
        render_message(locale, message.body, shown)[:5000],
    )


def notification_text(notification: Notification, locale: str) -> tuple[str, str]:
    """Gets a notification's title and body in a reader's language; a row written before
    notifications kept their params (or of a kind since removed) shows its stored words."""
    message = MESSAGES.get(notification.kind)
    if notification.done_at is not None:
        message = DONE.get(notification.kind, message)
    if message is None or notification.params is None:
        return notification.title, notification.body
    try:
        return _subject_and_body(locale, message, notification.params)
    except (KeyError, TypeError, ValueError):
        return notification.title, notification.body


def public(notification: Notification, locale: str) -> NotificationPublic:
    """Gets a notification as the API shows it, its words in the caller's language."""
    title, body = notification_text(notification, locale)
    return NotificationPublic.model_validate(notification, update={"title": title, "body": body})


def wants_email(user: User, category: str) -> bool:
    """Tells whether a user wants the emails of a category (every category is on by default)."""
    return bool(user.email_prefs.get(category, True))


def categories_for(user: User) -> dict[str, str]:
    """Gets the email categories that concern a user's role, with their labels."""
    return {name: label for name, (label, roles) in EMAIL_CATEGORIES.items() if user.role in roles}


def notify(
    session: Session,
    *,
    user: User,
    kind: str,
    params: dict[str, Any],
    link: str,
    settings: Settings,
    now: datetime | None = None,
    engagement_id: int | None = None,
) -> Notification:
    """Tells a user something in the app and, if they want it, by email, in their language;
    `engagement_id` names the engagement it is about (see `engagement_left`)."""
    message = MESSAGES[kind]
    kept = _kept_params(message, params)
    # The email goes out in the language the account chose; the in-app copy is rendered
    # again in each reader's language when read (notification_text).
    locale = user.locale or DEFAULT_LOCALE
    title, body = _subject_and_body(locale, message, kept)
    notification = Notification(
        user_id=user.id or 0,
        kind=kind,
        title=title,
        body=body,
        params=kept,
        link=link,
        created_at=now or utcnow(),
        engagement_id=engagement_id,
    )
    session.add(notification)
    if user.active and user.deleted_at is None and wants_email(user, message.category):
        base = settings.public_base_url.rstrip("/")
        lines = [
            render_message(locale, GREETING, {"name": user.display_name or user.email}),
            "",
            body,
            "",
            render_message(locale, OPEN_LINK, {"url": base + link}),
            "",
            "-- ",
            render_message(locale, FOOTER, {"url": base + "/account/notifications"}),
        ]
        queue_email(
            session,
            to=user.email,
            subject=title,
            body="\n".join(lines),
            kind=kind,
            user_id=user.id,
        )
    return notification


# An account's email changed: told to the address it left and to the one it took, whatever
# the account's email choices (a security notice, not a category one may switch off).
EMAIL_CHANGED = "account.email_changed"
EMAIL_CHANGED_SUBJECT = N_("The email of your Homeward account was changed")
EMAIL_CHANGED_TO_PREVIOUS = N_(
    "On %(when)s, the email address of your Homeward account was changed. This address no "
    "longer opens the account, and our emails now go to the new one."
)
EMAIL_CHANGED_TO_NEW = N_(
    "On %(when)s, this address became the email of your Homeward account: use it to log in "
    "from now on."
)
OTHER_SESSIONS_ENDED = N_(
    "Every other session of the account has ended and its API tokens no longer work."
)
NOT_YOU = N_(
    "If you did not make this change, contact the Homeward coordinators at once "
    "(%(contact)s) so that they can secure your account."
)


def email_changed(
    session: Session, *, user: User, previous: str, settings: Settings, now: datetime
) -> None:
    """Queues, in the account's language, the notice of its email change to the address it
    left and to its new one: when, and whom to contact if it was not them; nothing secret."""
    locale = user.locale or DEFAULT_LOCALE
    written_in = locale if locale in UI_LOCALES else DEFAULT_LOCALE
    params = {
        "when": format_datetime(now, format="long", tzinfo=UTC, locale=cldr_locale(written_in)),
        "contact": settings.contact_email or settings.public_base_url.rstrip("/") + "/",
    }
    if locale in RTL_LOCALES:
        params = {k: f"\u2068{v}\u2069" for k, v in params.items()}
    subject = translate(locale, EMAIL_CHANGED_SUBJECT)
    for to, text in ((previous, EMAIL_CHANGED_TO_PREVIOUS), (user.email, EMAIL_CHANGED_TO_NEW)):
        lines = [
            render_message(locale, GREETING, {"name": user.display_name or to}),
            "",
            render_message(locale, text, params),
            translate(locale, OTHER_SESSIONS_ENDED),
            "",
            render_message(locale, NOT_YOU, params),
        ]
        # The previous address is kept only here, to send (and retry) this notice; the row
        # names the account, so erasing it finds this email whatever its address is then.
        queue_email(
            session,
            to=to,
            subject=subject,
            body="\n".join(lines),
            kind=EMAIL_CHANGED,
            user_id=user.id,
        )


# An email change asked for: the link that confirms it goes to the new address, a notice to
# the address in use (which still opens the account), whatever the account's email choices.
EMAIL_CHANGE_LINK = "account.email_change_link"
EMAIL_CHANGE_LINK_SUBJECT = N_("Confirm the new email of your Homeward account")
EMAIL_CHANGE_LINK_BODY = N_(
    "Someone, probably you, asked to make this address the email of a Homeward account. To "
    "confirm it, open this link; it works once, until %(when)s:"
)
EMAIL_CHANGE_LINK_NOT_YOU = N_(
    "If you did not ask for this, ignore this email: nothing changes unless the link is opened."
)
EMAIL_CHANGE_ASKED = "account.email_change_asked"
EMAIL_CHANGE_ASKED_SUBJECT = N_("A new email was asked for your Homeward account")
EMAIL_CHANGE_ASKED_BODY = N_(
    "On %(when)s, someone asked to change the email of your Homeward account. This address "
    "still opens the account until the new one is confirmed through the link sent to it."
)


def _when(locale: str, moment: datetime) -> str:
    written_in = locale if locale in UI_LOCALES else DEFAULT_LOCALE
    when = format_datetime(moment, format="long", tzinfo=UTC, locale=cldr_locale(written_in))
    return f"\u2068{when}\u2069" if locale in RTL_LOCALES else when


def email_change_link(session: Session, *, user: User, url: str, expires_at: datetime) -> None:
    """Queues, in the account's language, the email that carries the link confirming its
    pending address, to that address."""
    locale = user.locale or DEFAULT_LOCALE
    to = user.pending_email or user.email
    lines = [
        render_message(locale, GREETING, {"name": user.display_name or to}),
        "",
        render_message(locale, EMAIL_CHANGE_LINK_BODY, {"when": _when(locale, expires_at)}),
        "",
        url,
        "",
        translate(locale, EMAIL_CHANGE_LINK_NOT_YOU),
    ]
    queue_email(
        session,
        to=to,
        subject=translate(locale, EMAIL_CHANGE_LINK_SUBJECT),
        body="\n".join(lines),
        kind=EMAIL_CHANGE_LINK,
        user_id=user.id,
    )


def email_change_asked(session: Session, *, user: User, settings: Settings, now: datetime) -> None:
    """Queues, in the account's language, the notice to the address in use that another was
    asked for: when, and whom to contact if it was not them; not the new address."""
    locale = user.locale or DEFAULT_LOCALE
    params = {
        "when": _when(locale, now),
        "contact": settings.contact_email or settings.public_base_url.rstrip("/") + "/",
    }
    if locale in RTL_LOCALES:
        params["contact"] = f"\u2068{params['contact']}\u2069"
    lines = [
        render_message(locale, GREETING, {"name": user.display_name or user.email}),
        "",
        render_message(locale, EMAIL_CHANGE_ASKED_BODY, params),
        "",
        render_message(locale, NOT_YOU, params),
    ]
    queue_email(
        session,
        to=user.email,
        subject=translate(locale, EMAIL_CHANGE_ASKED_SUBJECT),
        body="\n".join(lines),
        kind=EMAIL_CHANGE_ASKED,
        user_id=user.id,
    )


# A reset link asked for on the log-in page: written in the account's language, whatever its
# email choices; the outbox page hides its body, the link being a key to the account.
PASSWORD_RESET = "account.password_reset"  # noqa: S105 - an email kind, not a password
PASSWORD_RESET_SUBJECT = N_("Choose a new password for your Homeward account")
PASSWORD_RESET_BODY = N_(
    "Someone, probably you, asked to reset the password of your Homeward account. To choose a "
    "new password, open this link; it works once, until %(when)s:"
)
PASSWORD_RESET_NOT_YOU = N_(
    "If you did not ask for it, ignore this email: your password stays as it is."
)


def password_reset_link(session: Session, *, user: User, url: str, expires_at: datetime) -> None:
    """Queues, in the account's language, the email that carries a password reset link."""
    locale = user.locale or DEFAULT_LOCALE
    written_in = locale if locale in UI_LOCALES else DEFAULT_LOCALE
    when = format_datetime(expires_at, format="long", tzinfo=UTC, locale=cldr_locale(written_in))
    if locale in RTL_LOCALES:
        when = f"\u2068{when}\u2069"
    lines = [
        render_message(locale, GREETING, {"name": user.display_name or user.email}),
        "",
        render_message(locale, PASSWORD_RESET_BODY, {"when": when}),
        "",
        url,
        "",
        translate(locale, PASSWORD_RESET_NOT_YOU),
    ]
    queue_email(
        session,
        to=user.email,
        subject=translate(locale, PASSWORD_RESET_SUBJECT),
        body="\n".join(lines),
        kind=PASSWORD_RESET,
        user_id=user.id,
    )


# A colleague invited to join an institution: written in the language the inviter chose for
# them, to an address with no account of the institution yet; the outbox page hides its body,
# the link being a key to the institution.
INSTITUTION_INVITATION = "institution.invitation"
INVITATION_SUBJECT = N_("%(inviter)s invites you to join %(institution)s on Homeward")
INVITATION_BODY = N_(
    "%(inviter)s invites you to act for %(institution)s on Homeward, where professionals of "
    "the diaspora lend their skills to institutions in their country of origin. To accept, open "
    "this link; it works once, until %(when)s:"
)
INVITATION_NOT_YOU = N_(
    "If you did not expect this invitation, ignore this email: nothing happens unless the link "
    "is opened."
)


def institution_invitation(
    session: Session,
    *,
    to: str,
    name: str,
    locale: str,
    inviter: str,
    institution: str,
    url: str,
    expires_at: datetime,
) -> None:
    """Queues, in the language chosen for the colleague, the email that carries the link of an
    invitation to join an institution."""
    params = {"inviter": inviter, "institution": institution}
    if locale in RTL_LOCALES:
        params = {k: f"\u2068{v}\u2069" for k, v in params.items()}
    lines = [
        render_message(locale, GREETING, {"name": name or to}),
        "",
        render_message(locale, INVITATION_BODY, {**params, "when": _when(locale, expires_at)}),
        "",
        url,
        "",
        translate(locale, INVITATION_NOT_YOU),
    ]
    queue_email(
        session,
        to=to,
        subject=render_message(locale, INVITATION_SUBJECT, params),
        body="\n".join(lines),
        kind=INSTITUTION_INVITATION,
    )


# A password changed (on the account page, or through a reset link): told to the account's
# address whatever its email choices, with where to reset it; never the password itself.
PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - an email kind, not a password
PASSWORD_CHANGED_SUBJECT = N_("The password of your Homeward account was changed")
PASSWORD_CHANGED_BODY = N_(
    "Your Homeward password was changed on %(when)s. If this wasn't you, reset it now: %(url)s"
)
PASSWORD_CHANGED_EMAIL_CHANGE_CANCELLED = N_(
    "The change of your account's email that was waiting for confirmation was cancelled with "
    "the password change: ask for it again from your account page if you still want it."
)


def password_changed(
    session: Session,
    *,
    user: User,
    settings: Settings,
    now: datetime,
    zone: str,
    email_change_cancelled: bool = False,
) -> None:
    """Queues, in the account's language, the notice to its address that its password was
    changed: when, in the account's time zone (`zone`), and where to reset it if it was not
    them. Nothing for an account erased or closed."""
    if not user.active or user.deleted_at is not None:
        return
    locale = user.locale or DEFAULT_LOCALE
    written_in = locale if locale in UI_LOCALES else DEFAULT_LOCALE
    try:
        tzinfo = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        tzinfo = ZoneInfo("UTC")
    params = {
        "when": format_datetime(now, format="long", tzinfo=tzinfo, locale=cldr_locale(written_in)),
        "url": settings.public_base_url.rstrip("/") + "/password/forgot",
    }
    if locale in RTL_LOCALES:
        params = {k: f"\u2068{v}\u2069" for k, v in params.items()}
    lines = [
        render_message(locale, GREETING, {"name": user.display_name or user.email}),
        "",
        render_message(locale, PASSWORD_CHANGED_BODY, params),
    ]
    if email_change_cancelled:
        lines += ["", translate(locale, PASSWORD_CHANGED_EMAIL_CHANGE_CANCELLED)]
    queue_email(
        session,
        to=user.email,
        subject=translate(locale, PASSWORD_CHANGED_SUBJECT),
        body="\n".join(lines),
        kind=PASSWORD_CHANGED,
        user_id=user.id,
    )


def mark_read(
    session: Session, *, notification_id: int, reader: User, now: datetime | None = None
) -> Notification:
    """Marks one of the reader's notifications as read."""
    notification = notifications_repo.get_notification(session, notification_id)
    if notification is None or not policy.may_read_notification(
        policy.reader_for(session, reader), notification
    ):
        raise NotFound("This notification does not exist.")
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        session.add(notification)
    return notification


def engagement_left(
    session: Session, *, engagement_id: int, previous: str, now: datetime | None = None
) -> None:
    """Marks done (and read) the notifications that asked for a move on an engagement that has
    now left the state `previous` they waited in: an answered offer asks for no answer."""
    kinds = [kind for kind, state in ASKS_WHILE.items() if state == previous]
    if kinds:
        notifications_repo.mark_done(
            session, engagement_id=engagement_id, kinds=kinds, now=now or utcnow()
        )


def info_request_settled(
    session: Session, *, member_ids: list[int], now: datetime | None = None
) -> None:
    """Marks done (and read) the requests for more information about their institution that
    these members were sent: they answered, or the verification was settled."""
    notifications_repo.mark_done_for_users(
        session, user_ids=member_ids, kinds=list(ASKS_OF_INSTITUTION), now=now or utcnow()
    )


def mark_all_read(session: Session, *, reader: User, now: datetime | None = None) -> None:
    """Marks every notification of the reader as read."""
    notifications_repo.mark_all_read(session, reader.id or 0, now=now or utcnow())


def save_email_prefs(session: Session, *, user: User, chosen: set[str]) -> User:
    """Saves which email categories of their role a user receives; the others are switched off."""
    prefs = dict(user.email_prefs)
    for name in categories_for(user):
        prefs[name] = name in chosen
    user.email_prefs = prefs
    session.add(user)
    record(
        session,
        actor=user,
        action="user.email_prefs_changed",
        entity_type="user",
        entity_id=user.id,
        data={"email_prefs": prefs},
    )
    return user


def unread_count(session: Session, *, user: User) -> int:
    """Counts a user's unread notifications."""
    return notifications_repo.count_unread(session, user.id or 0)
