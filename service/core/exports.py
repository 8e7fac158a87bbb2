"""Roster exports: every record in the shape `homeward import` reads back (docs/import.md)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Literal, TextIO

from sqlmodel import Session

from service.core.audit import record
from service.models import ExpertProfile, Institution, Need, User
from service.repos import imports as imports_repo
from service.schemas.imports import COLUMNS, Kind

ExportFormat = Literal["jsonl", "csv"]


def expert_record(expert: ExpertProfile, user: User | None) -> dict[str, Any]:
    """Gets an expert as an import row (Python values)."""
    return {
        "external_id": imports_repo.external_id_of(expert),
        "email": user.email if user else "",
        "display_name": expert.display_name,
        "locale": user.locale if user else "en",
        "headline": expert.headline,
        "bio": expert.bio,
        "skills": list(expert.skills),
        "languages": [dict(language) for language in expert.languages],
        "origin_country": expert.origin_country,
        "residence_country": expert.residence_country,
        "city": expert.city,
        "timezone": expert.timezone,
        "modes": list(expert.modes),
        "hours_per_month": expert.hours_per_month,
        "available_from": expert.available_from,
        "available_until": expert.available_until,
        "availability_confirmed_at": expert.availability_confirmed_at,
        "sectors": list(expert.sectors),
        "years_experience": expert.years_experience,
        "education": expert.education,
        "visibility": expert.visibility,
        "phone": expert.phone,
        "text_lang": expert.text_lang,
        "active": expert.active,
    }


def institution_record(institution: Institution, members: list[User]) -> dict[str, Any]:
    """Gets an institution, with its members, as an import row."""
    return {
        "external_id": imports_repo.external_id_of(institution),
        "name": institution.name,
        "type": institution.type,
        "country": institution.country,
        "city": institution.city,
        "website": institution.website,
        "description": institution.description,
        "verified": institution.verified,
        "members": [
            {"email": user.email, "display_name": user.display_name, "locale": user.locale}
            for user in members
        ],
    }


def need_record(need: Need, institution_external_id: str) -> dict[str, Any]:
    """Gets a need as an import row."""
    return {
        "external_id": imports_repo.external_id_of(need),
        "institution": institution_external_id,
        "title": need.title,
        "description": need.description,
        "required_skills": list(need.required_skills),
        "sector": need.sector,
        "mode": need.mode,
        "duration_weeks": need.duration_weeks,
        "hours_per_week": need.hours_per_week,
        "start_from": need.start_from,
        "start_until": need.start_until,
        "languages": list(need.languages),
        "city": need.city,
        "support": list(need.support),
        "live_sessions": need.live_sessions,
        "status": need.status,
        "text_lang": need.text_lang,
        "posted_at": need.posted_at,
    }


def iter_records(session: Session, *, kind: Kind, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """Streams every record of a kind as import rows, in id order."""
    if kind == "experts":
        for experts in imports_repo.iter_records(session, ExpertProfile, chunk=chunk):
            users = imports_repo.users_by_ids(session, [e.user_id for e in experts if e.user_id])
            for expert in experts:
                yield expert_record(expert, users.get(expert.user_id or 0))
    elif kind == "institutions":
        for institutions in imports_repo.iter_records(session, Institution, chunk=chunk):
            members = imports_repo.members_of(session, [i.id or 0 for i in institutions])
            for institution in institutions:
                yield institution_record(institution, members.get(institution.id or 0, []))
    else:
        for needs in imports_repo.iter_records(session, Need, chunk=chunk):
            owners = imports_repo.institutions_by_ids(session, [n.institution_id for n in needs])
            for need in needs:
                owner = owners.get(need.institution_id)
                yield need_record(need, imports_repo.external_id_of(owner) if owner else "")


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_cell(name: str, value: Any, kind: Kind) -> str:
    """Writes one value as the CSV cell an import reads back."""
    cell_type = COLUMNS[kind][name]
    if value is None:
        return ""
    if cell_type == "languages":
        return ";".join(f"{item['code']}:{item.get('level', '')}".rstrip(":") for item in value)
    if cell_type == "members":
        return ";".join(
            "|".join([m["email"], m.get("display_name", ""), m.get("locale", "")]).rstrip("|")
            for m in value
        )
    if cell_type == "list":
        return ";".join(str(item) for item in value)
    if cell_type == "bool":
        return "true" if value else "false"
    return str(_scalar(value))


def export_records(
    session: Session,
    *,
    kind: Kind,
    out: TextIO,
    fmt: ExportFormat = "jsonl",
    delimiter: str = ",",
    bom: bool = False,
    actor: User | None = None,
) -> int:
    """Writes every record of a kind to a text stream; records the export (the caller commits)."""
    count = 0
    if fmt == "csv":
        if bom:
            out.write("\ufeff")
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        columns = list(COLUMNS[kind])
        writer.writerow(columns)
        for row in iter_records(session, kind=kind):
            writer.writerow([csv_cell(name, row[name], kind) for name in columns])
            count += 1
    else:
        for row in iter_records(session, kind=kind):
            out.write(json.dumps({k: _scalar(v) for k, v in row.items()}, ensure_ascii=False))
            out.write("\n")
            count += 1
    record(
        session,
        actor=actor,
        action=f"export.{kind}",
        entity_type="export",
        entity_id=None,
        data={"format": fmt, "rows": count},
    )
    return count
