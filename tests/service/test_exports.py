"""Roster exports: what is exported imports back to the same data, in CSV and JSONL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.core.exports import export_records
from service.core.imports import import_file
from service.models import AuditEvent, ExpertProfile
from tests.conftest import _empty_all_tables
from tests.factories import make_expert, make_member, make_need

WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "world"
KINDS = ("institutions", "experts", "needs")


def _export(session: Session, kind: str, fmt: str, **options: object) -> str:
    out = io.StringIO()
    export_records(session, kind=kind, out=out, fmt=fmt, **options)  # type: ignore[arg-type]
    session.commit()
    return out.getvalue()


def _load_world(session: Session) -> None:
    for kind in KINDS:
        report = import_file(session, kind=kind, path=WORLD / f"{kind}.jsonl", actor=None)  # type: ignore[arg-type]
        assert report.ok, report.lines()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_gives_back_the_same_data(
    fmt: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    _load_world(session)
    exported = {kind: _export(session, kind, fmt) for kind in KINDS}
    _empty_all_tables(engine)
    session.expunge_all()
    for kind in KINDS:
        path = tmp_path / f"{kind}.{fmt}"
        path.write_text(exported[kind], encoding="utf-8", newline="")
        report = import_file(session, kind=kind, path=path, actor=None)  # type: ignore[arg-type]
        assert report.ok and report.created > 0, report.lines()
    again = {kind: _export(session, kind, fmt) for kind in KINDS}
    assert again == exported


def test_the_jsonl_export_of_the_world_matches_the_world_files(session: Session) -> None:
    _load_world(session)
    rows = [json.loads(line) for line in _export(session, "experts", "jsonl").splitlines()]
    world = [json.loads(line) for line in (WORLD / "experts.jsonl").read_text().splitlines()]
    assert len(rows) == len(world) == 210
    first, source = rows[0], world[0]
    for field in (
        "external_id",
        "headline",
        "skills",
        "languages",
        "origin_country",
        "residence_country",
    ):
        assert first[field] == source[field]
    assert first["availability_confirmed_at"] == source["availability_confirmed_at"] + "T00:00:00Z"


def test_csv_export_for_excel_has_a_bom_and_semicolons(session: Session) -> None:
    _load_world(session)
    text = _export(session, "institutions", "csv", delimiter=";", bom=True)
    assert text.startswith("\ufeffexternal_id;name;type;country")
    first = text.splitlines()[1]
    assert first.startswith("inst-sn-ucad-med;") and "fatou.sarr@" in first
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "export.institutions")).one()
    assert event.data == {"format": "csv", "rows": 40}


def test_records_made_on_the_site_export_under_a_stable_id_and_import_back(
    session: Session, tmp_path: Path
) -> None:
    # (text_lang is set: an import fills an empty one in, which would count as an update)
    expert = make_expert(session, text_lang="en")
    _, institution = make_member(session)
    make_need(session, institution=institution, text_lang="fr")
    for kind in KINDS:
        text = _export(session, kind, "csv")
        assert f"homeward-{kind[:-1]}-" in text
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        report = import_file(session, kind=kind, path=path, actor=None)  # type: ignore[arg-type]
        assert report.ok and report.created == 0 and report.unchanged == 1, report.lines()
    assert len(session.exec(select(ExpertProfile)).all()) == 1
    assert session.get(ExpertProfile, expert.id).external_id is None  # type: ignore[union-attr]
