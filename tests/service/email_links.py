"""Reads the email change's confirmation link from the outbox, as its recipient would."""

from __future__ import annotations

import re
from urllib.parse import unquote

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from service.models import OutgoingEmail
from tests.conftest import csrf_token


def confirmation_token(session: Session, *, to: str | None = None) -> str:
    """Gets the token of the latest confirmation link mailed (to an address, if given)."""
    session.expire_all()
    query = select(OutgoingEmail).where(OutgoingEmail.kind == "account.email_change_link")
    if to is not None:
        query = query.where(OutgoingEmail.to_address == to)
    mail = session.exec(query.order_by(col(OutgoingEmail.id).desc())).first()
    assert mail is not None, "no confirmation link was mailed"
    found = re.search(r"/account/email/confirm\?token=(\S+)", mail.body)
    assert found is not None, mail.body
    return unquote(found.group(1))


def confirm_by_api(client: TestClient, token: str) -> Response:
    """Sends a confirmation link's token to the API."""
    return client.post(
        "/api/me/email/confirm", json={"token": token}, headers={"x-csrf-token": csrf_token(client)}
    )


def confirm_in_browser(client: TestClient, token: str) -> Response:
    """Opens a confirmation link and presses its button."""
    page = client.get(f"/account/email/confirm?token={token}")
    assert page.status_code == 200, page.text
    return client.post(
        "/account/email/confirm", data={"token": token, "csrf_token": csrf_token(client)}
    )
