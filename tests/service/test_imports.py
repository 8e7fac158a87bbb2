"""Roster imports: all or nothing, line numbers, spreadsheet files, upserts, partial imports."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.core.imports import ImportReport, import_file
from service.core.jobs import REMATCH_NEED, need_rematch_key
from service.models import (
    AuditEvent,
    ExpertProfile,
    Institution,
    InstitutionMember,
    Job,
    Need,
    Role,
    SearchOutbox,
    User,
)
from tests.factories import make_expert, make_member, make_need, make_user

WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "world"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

EXPERT_HEADER = (
    "external_id,email,display_name,locale,headline,skills,languages,origin_country,"
    "residence_country,timezone,modes,hours_per_month,available_from"
)
GOOD_EXPERT = (
    "exp-1,awa@example.org,Awa Diallo,fr,Epidemiologist,epidemiology;R,fr:native;en:fluent,"
    "SN,CA,America/Toronto,remote;hybrid,16,2026-12-01"
)


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _write(tmp_path: Path, name: str, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    path = tmp_path / name
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def _import(session: Session, kind: str, path: Path, **options: object) -> ImportReport:
    return import_file(session, kind=kind, path=path, actor=None, **options)  # type: ignore[arg-type]


def _institution(session: Session, tmp_path: Path, *, verified: bool = True) -> None:
    path = _write(
        tmp_path,
        "inst.jsonl",
        json.dumps(
            {
                "external_id": "inst-1",
                "name": "Université de Dakar",
                "type": "university",
                "country": "SN",
                "city": "Dakar",
                "verified": verified,
                "members": [{"email": "dean@univ.example", "display_name": "Dean", "locale": "fr"}],
            }
        )
        + "\n",
    )
    assert _import(session, "institutions", path).ok


def test_a_bad_row_in_the_middle_writes_nothing_and_is_named(
    session: Session, tmp_path: Path
) -> None:
    # The first record spans two physical lines (a quoted line break in its bio).
    text = (
        f"{EXPERT_HEADER},bio\n"
        f'{GOOD_EXPERT},"Line one\nline two"\n'
        f"{GOOD_EXPERT.replace('exp-1', 'exp-2').replace('awa@', 'bob@')},\n"
        f"{GOOD_EXPERT.replace('exp-1', 'exp-3').replace('awa@', 'cy@').replace('remote;hybrid', 'on-site')},\n"
        f"{GOOD_EXPERT.replace('exp-1', 'exp-4').replace('awa@', 'di@')},\n"
    )
    report = _import(session, "experts", _write(tmp_path, "experts.csv", text))

    assert not report.ok and not report.written
    assert [(e.line, e.field) for e in report.errors] == [(5, "modes")]
    assert "on-site" in report.errors[0].text or "remote" in report.errors[0].text
    assert report.summary() == "experts.csv: 1 error in 4 rows, nothing imported"
    assert _count(session, ExpertProfile) == 0 and _count(session, User) == 0


def test_every_problem_of_a_row_is_reported_with_its_field(
    session: Session, tmp_path: Path
) -> None:
    header = "external_id,email,display_name,skills,languages,origin_country,residence_country,modes,hours_per_month,available_from,available_until,active"
    row = "exp-9,not-an-email,Zed,x,fr,SEN,CA,remote,12.0,01/12/2026,,maybe"
    report = _import(session, "experts", _write(tmp_path, "e.csv", f"{header}\n{row}\n"))

    fields = {e.field for e in report.errors}
    assert {"email", "origin_country", "hours_per_month", "available_from", "active"} <= fields
    assert all(e.line == 2 for e in report.errors)
    by_field = {e.field: e.text for e in report.errors}
    assert "whole number" in by_field["hours_per_month"]
    assert "YYYY-MM-DD" in by_field["available_from"]


def test_unknown_columns_are_named_and_nothing_is_read(session: Session, tmp_path: Path) -> None:
    text = f"{EXPERT_HEADER},skils\n{GOOD_EXPERT},R\n"
    report = _import(session, "experts", _write(tmp_path, "e.csv", text))

    assert not report.ok
    assert report.errors[0].line == 1 and report.errors[0].field == "skils"
    assert report.errors[0].text == "Unknown column."
    assert _count(session, ExpertProfile) == 0


def test_spreadsheet_csv_bom_semicolons_crlf_arabic_and_empty_cells(
    session: Session, tmp_path: Path
) -> None:
    header = EXPERT_HEADER.replace(",", ";") + ";bio;phone;years_experience"
    rows = [
        'exp-ar;k.amrani@inbox.example;د. كريم العمراني;ar;جراح;"الجراحة بالمنظار;الجراحة العامة";'
        '"ar:native;fr:native";MA;FR;Europe/Paris;mission;20;2026-12-01;جراح في مستشفى جامعي بليون;;',
        'exp-fr;awa@example.org;Awa Diallo;fr;Épidémiologiste;"épidémiologie; R ;";fr:native;SN;CA;;remote;;;;;',
    ]
    path = _write(
        tmp_path, "roster.csv", header + "\n" + "\n".join(rows) + "\n", bom=True, crlf=True
    )
    report = _import(session, "experts", path)

    assert report.ok, report.lines()
    assert report.created == 2
    arabic = session.exec(select(ExpertProfile).where(ExpertProfile.external_id == "exp-ar")).one()
    assert arabic.display_name == "د. كريم العمراني"
    assert arabic.skills == ["الجراحة بالمنظار", "الجراحة العامة"]
    assert arabic.languages == [
        {"code": "ar", "level": "native"},
        {"code": "fr", "level": "native"},
    ]
    assert arabic.text_lang == "ar"  # detected from the text when the column is absent
    french = session.exec(select(ExpertProfile).where(ExpertProfile.external_id == "exp-fr")).one()
    assert french.skills == ["épidémiologie", "R"]
    assert french.timezone == "UTC" and french.hours_per_month == 0 and french.phone == ""
    assert french.available_from is None and french.years_experience is None


def test_the_documented_examples_import(session: Session) -> None:
    for kind, name in (
        ("institutions", "institutions.csv"),
        ("experts", "experts.csv"),
        ("experts", "experts.jsonl"),
        ("needs", "needs.csv"),
    ):
        report = _import(session, kind, EXAMPLES / name)
        assert report.ok, report.lines()
    assert _count(session, Institution) == 6
    pending = session.exec(select(Institution).where(col(Institution.verified_at).is_(None))).all()
    assert [i.external_id for i in pending] == ["inst-ht-kaynou"]


def test_reimport_is_idempotent_and_applies_updates(session: Session, tmp_path: Path) -> None:
    path = _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n")
    first = _import(session, "experts", path)
    again = _import(session, "experts", path)
    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)

    changed = GOOD_EXPERT.replace("Epidemiologist", "Senior epidemiologist").replace(",16,", ",20,")
    update = _import(
        session, "experts", _write(tmp_path, "e2.csv", f"{EXPERT_HEADER}\n{changed}\n")
    )
    assert (update.created, update.updated) == (0, 1)
    session.expire_all()
    expert = session.exec(select(ExpertProfile)).one()
    assert expert.headline == "Senior epidemiologist" and expert.hours_per_month == 20
    assert _count(session, ExpertProfile) == 1 and _count(session, User) == 1


def test_a_missing_column_or_empty_cell_keeps_the_stored_value_and_null_clears_it(
    session: Session, tmp_path: Path
) -> None:
    _import(session, "experts", _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n"))
    _import(
        session,
        "experts",
        _write(tmp_path, "e2.csv", "external_id,headline,hours_per_month\nexp-1,,\n"),
    )
    session.expire_all()
    expert = session.exec(select(ExpertProfile)).one()
    assert expert.headline == "Epidemiologist" and expert.hours_per_month == 16

    line = json.dumps({"external_id": "exp-1", "available_from": None, "headline": None})
    report = _import(session, "experts", _write(tmp_path, "e.jsonl", line + "\n"))
    assert report.updated == 1
    session.expire_all()
    expert = session.exec(select(ExpertProfile)).one()
    assert expert.available_from is None and expert.headline == ""
    assert expert.skills == ["epidemiology", "R"]


def test_partial_writes_the_good_rows_and_reports_the_bad(session: Session, tmp_path: Path) -> None:
    bad = GOOD_EXPERT.replace("exp-1", "exp-2").replace("awa@", "bob@").replace(",SN,", ",Senegal,")
    good = GOOD_EXPERT.replace("exp-1", "exp-3").replace("awa@", "cy@")
    path = _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n{bad}\n{good}\n")
    report = _import(session, "experts", path, partial=True, batch_size=2)

    assert report.written and not report.ok
    assert (report.created, report.bad_rows) == (2, 1)
    assert [(e.line, e.field) for e in report.errors] == [(3, "origin_country")]
    assert "2 rows imported" in report.summary() and "1 rows left out" in report.summary()
    ids = set(session.exec(select(ExpertProfile.external_id)).all())
    assert ids == {"exp-1", "exp-3"}


def test_dry_run_writes_nothing(session: Session, tmp_path: Path) -> None:
    report = _import(
        session,
        "experts",
        _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n"),
        dry_run=True,
    )
    assert report.ok and report.created == 1 and not report.written
    assert "nothing written" in report.summary()
    assert _count(session, ExpertProfile) == 0 and _count(session, AuditEvent) == 0


def test_duplicates_inside_a_file_are_errors(session: Session, tmp_path: Path) -> None:
    again = GOOD_EXPERT.replace("exp-1", "exp-2")  # same email
    same_id = GOOD_EXPERT.replace("awa@", "zed@")
    path = _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n{again}\n{same_id}\n")
    report = _import(session, "experts", path)

    assert {(e.line, e.field) for e in report.errors} == {(3, "email"), (4, "external_id")}
    assert "line 2" in report.errors[0].text


def test_an_email_of_another_role_is_refused(session: Session, tmp_path: Path) -> None:
    make_user(session, role=Role.INSTITUTION, email="awa@example.org")
    report = _import(
        session, "experts", _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n")
    )
    assert [(e.line, e.field) for e in report.errors] == [(2, "email")]
    assert "institution account" in report.errors[0].text


def test_an_expert_who_registered_on_the_site_is_linked_by_email(
    session: Session, tmp_path: Path
) -> None:
    user = make_user(session, role=Role.EXPERT, email="awa@example.org")
    registered = make_expert(session, user=user, headline="Old headline")
    report = _import(
        session, "experts", _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n")
    )
    assert report.ok and report.updated == 1 and report.created == 0
    session.expire_all()
    expert = session.exec(select(ExpertProfile)).one()
    assert expert.id == registered.id and expert.external_id == "exp-1"
    assert expert.headline == "Epidemiologist"


def test_accounts_are_made_without_a_usable_password_and_the_outbox_is_fed(
    session: Session, tmp_path: Path
) -> None:
    _import(session, "experts", _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n"))
    user = session.exec(select(User)).one()
    expert = session.exec(select(ExpertProfile)).one()
    assert user.role == Role.EXPERT and user.password_hash.startswith("!")
    assert expert.user_id == user.id and expert.consent_matching_at is not None
    assert expert.availability_confirmed_at is not None
    indexes = {row.index for row in session.exec(select(SearchOutbox)).all()}
    assert indexes == {"experts_staff", "experts_public"}
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "import.experts")).one()
    assert audit.data["created"] == 1 and audit.data["file"] == "e.csv"


def test_needs_refer_to_institutions_and_unverified_ones_post_drafts(
    session: Session, tmp_path: Path
) -> None:
    _institution(session, tmp_path, verified=False)
    need = {
        "external_id": "need-1",
        "institution": "inst-1",
        "title": "Co-enseigner un module",
        "description": "Un module d'épidémiologie à distance, six semaines.",
        "sector": "health",
        "mode": "remote",
        "languages": ["fr"],
        "status": "open",
    }
    orphan = {**need, "external_id": "need-2", "institution": "inst-nowhere"}
    path = _write(tmp_path, "n.jsonl", json.dumps(need) + "\n" + json.dumps(orphan) + "\n")
    report = _import(session, "needs", path)
    assert [(e.line, e.field) for e in report.errors] == [(2, "institution")]

    path = _write(tmp_path, "n.jsonl", json.dumps(need) + "\n")
    assert _import(session, "needs", path).ok
    stored = session.exec(select(Need)).one()
    assert stored.status == "draft" and stored.city == "Dakar" and stored.text_lang == "fr"
    member = session.exec(select(InstitutionMember)).one()
    assert session.get(User, member.user_id).email == "dean@univ.example"  # type: ignore[union-attr]


def test_a_file_that_is_not_utf8_names_the_line(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n").encode()
        + "exp-2,b@example.org,Zoé".encode("latin-1")
        + b"\n"
    )
    report = _import(session, "experts", path)
    assert [(e.line, e.field) for e in report.errors] == [(3, "file")]
    assert _count(session, ExpertProfile) == 0


def test_world_files_import_and_reimport_unchanged(session: Session, engine: Engine) -> None:
    for kind in ("institutions", "experts", "needs"):
        assert _import(session, kind, WORLD / f"{kind}.jsonl").ok
    assert (
        _count(session, Institution),
        _count(session, ExpertProfile),
        _count(session, Need),
    ) == (
        40,
        210,
        103,
    )
    outbox = _count(session, SearchOutbox)
    for kind in ("institutions", "experts", "needs"):
        report = _import(session, kind, WORLD / f"{kind}.jsonl")
        assert report.created == report.updated == 0
    assert _count(session, SearchOutbox) == outbox


def test_experts_added_by_an_import_reach_the_needs_already_open(
    session: Session, tmp_path: Path
) -> None:
    _, institution = make_member(session)
    open_need = make_need(session, institution=institution)
    make_need(session, institution=institution, status="draft")
    make_need(session, institution=institution, status="closed")
    session.commit()

    _import(session, "experts", _write(tmp_path, "e.csv", f"{EXPERT_HEADER}\n{GOOD_EXPERT}\n"))

    queued = session.exec(select(Job.key).where(Job.kind == REMATCH_NEED)).all()
    assert queued == [need_rematch_key(open_need.id or 0)]
    # An update reaches the matcher through the expert's own job; nothing new is added.
    session.exec(delete(Job))  # type: ignore[call-overload]
    session.commit()
    changed = GOOD_EXPERT.replace("Epidemiologist", "Senior epidemiologist")
    _import(session, "experts", _write(tmp_path, "e2.csv", f"{EXPERT_HEADER}\n{changed}\n"))
    assert session.exec(select(Job.key).where(Job.kind == REMATCH_NEED)).all() == []


def test_a_value_that_is_not_a_choice_is_named_with_the_choices_for_the_importer(
    session: Session, tmp_path: Path
) -> None:
    header = f"{EXPERT_HEADER},available_until"
    row = (
        "exp-7,leila@example.org,Leïla Ben Omar,ar,Épidémiologiste,épidémiologie;R,"
        "ar:native;fr:courant,TN,FR,Europe/Paris,remote,20,2027-03-01,2027-01-15"
    )
    report = _import(session, "experts", _write(tmp_path, "e.csv", f"{header}\n{row}\n"))

    by_field = {e.field: e for e in report.errors}
    level = by_field["languages"]
    assert level.item == 2  # the second language of the cell
    assert level.text == (
        "Item 2: “courant” is not accepted here: use one of native, fluent, professional, basic."
    )
    # Said to the coordinator who imports it, not to the expert whose profile it is.
    assert by_field["available_until"].text == "The availability ends before it starts."
    assert _count(session, ExpertProfile) == 0
