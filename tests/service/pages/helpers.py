"""Helpers of the page tests: parse a page, read what a person sees, log in."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD


def soup_of(response: Response) -> BeautifulSoup:
    """Parses an HTML response."""
    assert response.headers["content-type"].startswith("text/html"), response.headers
    return BeautifulSoup(response.text, "html.parser")


def text_of(node: Tag | BeautifulSoup | None) -> str:
    """Gets the visible text of a node, with whitespace collapsed."""
    assert node is not None
    return " ".join(node.get_text(" ").split())


def sentence_of(node: Tag | None) -> str:
    """Gets one sentence as read: inline marks (a name's <bdi>) add no space."""
    assert node is not None
    return " ".join(node.get_text().split())


def h1(response: Response) -> str:
    """Gets the page's main heading."""
    return text_of(soup_of(response).find("h1"))


def error_beside(response: Response, field: str) -> str:
    """Gets the error shown beside a field, checking that the field points to it."""
    soup = soup_of(response)
    error = soup.select_one(f"#{field}-error")
    assert error is not None, f"no error shown beside {field}"
    control = soup.select_one(f"#{field}")
    assert control is not None, f"no field {field}"
    # The error first; then the field's help, when it has one (each said once).
    described = str(control.get("aria-describedby") or "").split()
    assert described[:1] == [f"{field}-error"] and set(described[1:]) <= {f"{field}-help"}
    return text_of(error)


def flash_messages(response: Response) -> list[str]:
    """Gets the messages shown after a redirect."""
    return [text_of(p) for p in soup_of(response).select(".messages .message")]


def log_in_as(client: TestClient, email: str) -> TestClient:
    """Logs a browser in with the factories' password."""
    login(client, email, PASSWORD)
    return client


def post_form(client: TestClient, url: str, data: dict[str, object]) -> Response:
    """Posts a form as a browser does, with the CSRF token."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})  # type: ignore[arg-type]
