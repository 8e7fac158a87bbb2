"""The coordinator's import page: upload, report, confirm; nothing written before confirming."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.i18n import translations_for
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


def _switch_language(browser: TestClient, locale: str) -> None:
    """Switches the site's language as a person does, with the language menu."""
    response = browser.post(
        "/language", data={"locale": locale, "next": "/", "csrf_token": csrf_token(browser)}
    )
    assert response.status_code == 303


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


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
def test_the_report_says_each_problem_in_the_readers_language_in_sentence_case(
    locale: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff_browser(session, make_client)
    _switch_language(browser, locale)
    header = (
        "external_id,email,display_name,skills,languages,origin_country,residence_country,"
        "modes,hours_per_month,available_from,available_until,active"
    )
    row = "exp-9,zed@example.org,Zed,x,fr,SN,CA,remote,12.0,01/12/2026,,maybe"
    again = "exp-9,zoe@example.org,Zoe,x,fr,SN,CA,remote,12,,,yes"
    uploaded = _upload(browser, "e.csv", f"{header}\n{row}\n{again}\n".encode())
    page = BeautifulSoup(browser.get(uploaded.headers["location"]).text, "html.parser")  # type: ignore[attr-defined]
    problems = {
        (
            tr.select("td")[0].get_text(strip=True),
            tr.select("td")[1].get_text(strip=True),
        ): tr.select("td")[2].get_text(strip=True)
        for tr in page.select("#import-errors tbody tr")
    }
    expected = _problems(translations_for(locale), isolate=locale == "ar")
    assert problems == expected
    if locale != "en":
        english = _problems(translations_for("en"))
        assert all(problems[key] != english[key] for key in english)


def _problems(catalogue: Any, *, isolate: bool = False) -> dict[tuple[str, str], str]:
    """The report's problems for the file above, as the catalogue says them (each value
    isolated in a right-to-left language, so that Latin keeps its order)."""

    def v(value: object) -> str:
        return f"\u2068{value}\u2069" if isolate else str(value)

    return {
        ("2", "hours_per_month"): catalogue.gettext(
            "“%(value)s” is not a whole number: write 12, not 12.0 or 12 h."
        )
        % {"value": v("12.0")},
        ("2", "available_from"): catalogue.gettext(
            "“%(value)s” is not a date as YYYY-MM-DD: format the column as text in the spreadsheet."
        )
        % {"value": v("01/12/2026")},
        ("2", "active"): catalogue.gettext("“%(value)s” is not true or false (also yes/no, 1/0).")
        % {"value": v("maybe")},
        ("3", "external_id"): catalogue.gettext("“%(value)s” is also on line %(line)s.")
        % {"value": v("exp-9"), "line": v(2)},
    }


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_line_problems_of_a_jsonl_file_are_sentences_in_the_readers_language(
    locale: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    browser = _staff_browser(session, make_client)
    _switch_language(browser, locale)
    content = '{"external_id": "x-1", "colour": "red"}\n\n[1, 2]\n{oops\n'
    uploaded = _upload(browser, "e.jsonl", content.encode())
    page = BeautifulSoup(browser.get(uploaded.headers["location"]).text, "html.parser")  # type: ignore[attr-defined]
    problems = [
        tr.select("td")[2].get_text(strip=True) for tr in page.select("#import-errors tbody tr")
    ]
    catalogue = translations_for(locale)
    for message in ("Unknown field.", "Blank line.", "Each line must be a JSON object."):
        assert catalogue.gettext(message) in problems
    assert any(
        p.startswith(catalogue.gettext("Not valid JSON (%(detail)s).").split("(")[0])
        for p in problems
    )
    if locale == "en":
        assert all(p[0].isupper() and p.endswith(".") for p in problems), problems


@pytest.mark.parametrize("locale", ["en", "fr", "es", "pt", "ar"])
def test_more_cells_than_columns_agrees_with_the_number_of_columns(
    locale: str, session: Session, make_client: Callable[[], TestClient]
) -> None:
    """One column and three columns take different plural forms (Arabic: one and few)."""
    from service.core.imports import MORE_CELLS

    browser = _staff_browser(session, make_client)
    _switch_language(browser, locale)
    catalogue = translations_for(locale)
    said = {}
    for header, row in (
        ("external_id", "exp-1,Épidémiologie"),
        ("external_id,email,display_name", "exp-2,awa@example.org,Awa Ndiaye,Dakar,سنغال"),
    ):
        uploaded = _upload(browser, "roster.csv", f"{header}\n{row}\n".encode())
        page = BeautifulSoup(browser.get(uploaded.headers["location"]).text, "html.parser")  # type: ignore[attr-defined]
        problems = {
            tr.select("td")[1].get_text(strip=True): tr.select("td")[2].get_text(strip=True)
            for tr in page.select("#import-errors tbody tr")
        }
        columns = header.count(",") + 1
        shown = f"\u2068{columns}\u2069" if locale == "ar" else str(columns)
        assert problems["line"] == catalogue.ngettext(*MORE_CELLS, columns) % {"num": shown}
        said[columns] = problems["line"]
    assert said[1] != said[3].replace("3", "1")  # the noun itself agrees, not only the figure
    if locale == "en":
        assert said[1].startswith("More cells than the 1 column:")
        assert said[3].startswith("More cells than the 3 columns:")
    else:
        assert catalogue.ngettext(*MORE_CELLS, 3) != MORE_CELLS[1]


def test_the_terminal_says_more_cells_in_english_with_the_right_number() -> None:
    from service.core.imports import _more_cells

    assert _more_cells(4, 1).text.startswith("More cells than the 1 column:")
    assert _more_cells(4, 12).text.startswith("More cells than the 12 columns:")
