"""The coordinator's import page: upload, report, confirm; nothing written before confirming."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.models import ExpertProfile, Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_member, make_user

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _experts(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ExpertProfile)).one()


def _staff_browser(session: Session, make_client: Callable[[], TestClient]) -> TestClient:
    coordinator = make_user(session, role=Role.COORDINATOR)
    browser = make_client()
    login(browser, coordinator.email, PASSWORD)
    return browser


def _upload(browser: TestClient, name: str, content: bytes, kind: str = "experts") -> object:
    return browser.post(
        "/coordinator/import",
        data={"kind": kind, "csrf_token": csrf_token(browser)},
        files={"file": (name, content, "text/csv")},
    )


def test_upload_then_confirm_writes_the_rows(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff_browser(session, make_client)
    form = BeautifulSoup(browser.get("/coordinator/import").text, "html.parser")
    assert form.select_one("form[enctype='multipart/form-data'] input[name=csrf_token]")

    uploaded = _upload(browser, "experts.csv", (EXAMPLES / "experts.csv").read_bytes())
    assert uploaded.status_code == 303  # type: ignore[attr-defined]
    report_page = browser.get(uploaded.headers["location"])  # type: ignore[attr-defined]
    assert report_page.status_code == 200
    page = BeautifulSoup(report_page.text, "html.parser")
    assert page.select_one("[data-count=rows]").get_text(strip=True) == "7"  # type: ignore[union-attr]
    assert page.select_one("[data-count=created]").get_text(strip=True) == "7"  # type: ignore[union-attr]
    assert _experts(session) == 0  # nothing written before confirmation

    token = page.select_one("form[action='/coordinator/import/confirm'] input[name=token]")
    confirmed = browser.post(
        "/coordinator/import/confirm",
        data={"token": token["value"], "csrf_token": csrf_token(browser)},  # type: ignore[index]
    )
    assert confirmed.status_code == 303
    assert _experts(session) == 7
    after = BeautifulSoup(browser.get("/coordinator/import").text, "html.parser")
    assert "7 rows imported" in after.get_text()
    again = browser.post(
        "/coordinator/import/confirm",
        data={"token": token["value"], "csrf_token": csrf_token(browser)},  # type: ignore[index]
    )
    assert again.status_code == 404  # the kept file is gone once imported


def test_a_bad_file_shows_each_problem_and_no_confirm_button(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff_browser(session, make_client)
    text = (EXAMPLES / "experts.csv").read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(",MA,", ",Morocco,", 1)
    uploaded = _upload(browser, "roster.csv", ("\n".join(text) + "\n").encode())
    report_page = browser.get(uploaded.headers["location"])  # type: ignore[attr-defined]
    assert report_page.status_code == 422
    page = BeautifulSoup(report_page.text, "html.parser")
    cells = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in page.select("#import-errors tbody tr")
    ]
    assert [cell[:2] for cell in cells] == [["4", "origin_country"]]
    assert "two-letter country code" in cells[0][2]
    assert page.select_one("form[action='/coordinator/import/confirm']") is None
    assert _experts(session) == 0


def test_upload_form_errors(session: Session, make_client: Callable[[], TestClient]) -> None:
    browser = _staff_browser(session, make_client)
    response = _upload(browser, "roster.xlsx", b"PK\x03\x04")
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = BeautifulSoup(response.text, "html.parser")  # type: ignore[attr-defined]
    assert page.select_one("#file-error") is not None
    assert browser.get("/coordinator/import?token=not-a-real-token-at-all").status_code == 404


def test_experts_and_institutions_cannot_import(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    expert = make_user(session, role=Role.EXPERT)
    member, _ = make_member(session)
    for user in (expert, member):
        browser = make_client()
        login(browser, user.email, PASSWORD)
        assert browser.get("/coordinator/import").status_code == 403
        response = _upload(browser, "experts.csv", (EXAMPLES / "experts.csv").read_bytes())
        assert response.status_code == 403  # type: ignore[attr-defined]
        confirm = browser.post(
            "/coordinator/import/confirm",
            data={"token": "x" * 32, "csrf_token": csrf_token(browser)},
        )
        assert confirm.status_code == 403
    assert _experts(session) == 0


def test_an_upload_without_the_csrf_token_is_refused(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff_browser(session, make_client)
    response = browser.post(
        "/coordinator/import",
        data={"kind": "experts"},
        files={"file": ("experts.csv", (EXAMPLES / "experts.csv").read_bytes(), "text/csv")},
    )
    assert response.status_code == 403
