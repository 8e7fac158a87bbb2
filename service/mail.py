"""Outgoing email: queued in the OutgoingEmail table, sent by the worker over SMTP.

Without `smtp_host` (development, tests) nothing leaves the machine: emails stay in the
table, readable by staff at /coordinator/outbox, and are written to the log.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from sqlmodel import Session

from service.config import Settings
from service.models import OutgoingEmail
from service.repos import notifications as notifications_repo

log = logging.getLogger("homeward.mail")

MAX_ATTEMPTS = 5
PENDING, SENT, LOGGED, FAILED = "pending", "sent", "logged", "failed"


class Transport(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None:
        """Delivers one email or raises."""


class SmtpTransport:
    """Sends through the SMTP server of the settings (STARTTLS and log-in when configured)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Delivers one email."""
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="homeward")
        message.set_content(body)
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=30) as smtp:
            if self.settings.smtp_starttls:
                smtp.starttls()
            if self.settings.smtp_user:
                smtp.login(self.settings.smtp_user, self.settings.smtp_password)
            smtp.send_message(message)


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str = "",
    user_id: int | None = None,
) -> OutgoingEmail:
    """Queues an email to an account (`user_id`) in the caller's transaction, for the worker."""
    email = OutgoingEmail(
        user_id=user_id,
        to_address=to,
        subject=subject[:300],
        body=body[:20000],
        kind=kind,
        status=PENDING,
    )
    session.add(email)
    return email


def transport_for(settings: Settings) -> Transport | None:
    """Gets the SMTP transport, or None when no server is configured."""
    return SmtpTransport(settings) if settings.smtp_host else None


def send_pending(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    transport: Transport | None = None,
    limit: int = 100,
) -> int:
    """Sends (or, without SMTP, logs) pending emails, committing after each; returns the count."""
    transport = transport or transport_for(settings)
    done = 0
    for email in notifications_repo.pending_emails(session, limit=limit):
        if transport is None:
            log.info("email to %s: %s\n%s", email.to_address, email.subject, email.body)
            email.status = LOGGED
            email.sent_at = now
        else:
            try:
                transport.send(to=email.to_address, subject=email.subject, body=email.body)
            except Exception as exc:  # noqa: BLE001 - a failed delivery is retried later
                email.attempts += 1
                email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if email.attempts >= MAX_ATTEMPTS:
                    email.status = FAILED
                session.add(email)
                session.commit()
                continue
            email.status = SENT
            email.sent_at = now
        email.attempts += 1
        session.add(email)
        session.commit()
        done += 1
    return done
