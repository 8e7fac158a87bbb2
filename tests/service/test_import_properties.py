"""Every valid roster row, as CSV or JSONL, is imported as written, on each database."""

from __future__ import annotations

import csv
import io
import json
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from service.core.imports import import_file
from service.models import ExpertProfile, Need
from service.schemas.imports import COLUMNS
from tests.factories import make_institution
from tests.strategies import expected_expert, expected_need, expert_payloads, need_payloads

_rows = count(1)
NEED_FIELDS = [name for name in COLUMNS["needs"] if name not in ("text_lang", "posted_at")]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(
            f"{item['code']}:{item['level']}" if isinstance(item, dict) else str(item)
            for item in value
        )
    return "" if value is None else str(value)


def _write(tmp_path: Path, fmt: str, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / f"rows-{next(_rows)}.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({name: _cell(value) for name, value in row.items()} for row in rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def roster_institution(session: Session) -> None:
    """The institution the needs' rows name, in Dakar."""
    make_institution(session, external_id="inst-1", city="Dakar")


@st.composite
def need_rows(draw: st.DrawFn) -> dict[str, Any]:
    payload = draw(need_payloads())
    return {
        **payload,
        "external_id": f"need-{next(_rows)}",
        "institution": "inst-1",
        "sector": payload["sector"] or "health",
        "languages": payload["languages"] or ["fr"],
    }


@settings(max_examples=12)
@given(rows=st.lists(need_rows(), min_size=1, max_size=4), fmt=st.sampled_from(["csv", "jsonl"]))
def test_imported_needs_are_stored_as_written(
    session: Session, roster_institution: None, tmp_path: Path, rows: list[dict[str, Any]], fmt: str
) -> None:
    report = import_file(session, kind="needs", path=_write(tmp_path, fmt, rows), actor=None)
    assert report.ok, report.lines()
    session.expire_all()
    for row in rows:
        need = session.exec(select(Need).where(Need.external_id == row["external_id"])).one()
        expected = expected_need({k: v for k, v in row.items() if k in NEED_FIELDS})
        stored = {name: getattr(need, name) for name in expected if name not in ("institution",)}
        stored["start_from"] = need.start_from.isoformat() if need.start_from else None
        stored["start_until"] = need.start_until.isoformat() if need.start_until else None
        expected.pop("institution")
        # Documented: a new need without a city takes its institution's.
        expected["city"] = expected["city"] or "Dakar"
        assert stored == expected


@st.composite
def expert_rows(draw: st.DrawFn) -> dict[str, Any]:
    payload = draw(expert_payloads())
    payload.pop("consent_matching")
    number = next(_rows)
    return {
        **payload,
        "external_id": f"exp-{number}",
        "email": f"expert{number}@example.org",
        "skills": payload["skills"] or ["epidemiology"],
        "languages": payload["languages"] or [{"code": "fr", "level": "native"}],
        "modes": payload["modes"] or ["remote"],
    }


@settings(max_examples=12)
@given(rows=st.lists(expert_rows(), min_size=1, max_size=4), fmt=st.sampled_from(["csv", "jsonl"]))
def test_imported_experts_are_stored_as_written(
    session: Session, tmp_path: Path, rows: list[dict[str, Any]], fmt: str
) -> None:
    report = import_file(session, kind="experts", path=_write(tmp_path, fmt, rows), actor=None)
    assert report.ok, report.lines()
    session.expire_all()
    for row in rows:
        expert = session.exec(
            select(ExpertProfile).where(ExpertProfile.external_id == row["external_id"])
        ).one()
        expected = expected_expert(
            {k: v for k, v in row.items() if k not in ("external_id", "email")}
        )
        stored = {name: getattr(expert, name) for name in expected}
        stored["available_from"] = (
            expert.available_from.isoformat() if expert.available_from else None
        )
        stored["available_until"] = (
            expert.available_until.isoformat() if expert.available_until else None
        )
        assert stored == expected
