"""Queries of roster imports and exports (batched look-ups, streamed reads), and pending uploads."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from service.models import ExpertProfile, Institution, InstitutionMember, Need, User
from service.models.types import utcnow

T = TypeVar("T", ExpertProfile, Institution, Need)

# Records made on the site have no roster id; exports name them so, and imports find them back.
FALLBACK_PREFIX: dict[type[Any], str] = {
    ExpertProfile: "homeward-expert-",
    Institution: "homeward-institution-",
    Need: "homeward-need-",
}
_FALLBACK = re.compile(r"^homeward-(expert|institution|need)-(\d{1,18})$")


def external_id_of(record: ExpertProfile | Institution | Need) -> str:
    """Gets a record's roster id, or the stable name exports give a record made on the site."""
    if record.external_id:
        return record.external_id
    return f"{FALLBACK_PREFIX[type(record)]}{record.id}"


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def by_external_ids(session: Session, model: type[T], external_ids: Iterable[str]) -> dict[str, T]:
    """Gets the records of these roster ids (site records by their export name too)."""
    wanted = list(dict.fromkeys(external_ids))
    found: dict[str, T] = {}
    column = model.external_id
    for chunk in _chunks(wanted):
        for record in session.exec(select(model).where(col(column).in_(chunk))).all():
            found[record.external_id or ""] = record
    kind = FALLBACK_PREFIX[model].split("-")[1]
    fallback: dict[int, str] = {}
    for external_id in wanted:
        match = _FALLBACK.match(external_id)
        if external_id not in found and match and match.group(1) == kind:
            fallback[int(match.group(2))] = external_id
    if fallback:
        id_column = model.id
        statement = select(model).where(col(id_column).in_(list(fallback)), col(column).is_(None))
        for record in session.exec(statement).all():
            found[fallback[record.id or 0]] = record
    return found


def users_by_emails(session: Session, emails: Iterable[str]) -> dict[str, User]:
    """Gets the accounts of these (normalised) emails."""
    found: dict[str, User] = {}
    for chunk in _chunks(list(dict.fromkeys(emails))):
        for user in session.exec(select(User).where(col(User.email).in_(chunk))).all():
            found[user.email] = user
    return found


def users_by_ids(session: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """Gets the accounts of these ids."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[int, User] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for user in session.exec(select(User).where(col(User.id).in_(chunk))).all():
            found[user.id or 0] = user
    return found


def experts_by_user_ids(session: Session, user_ids: Iterable[int]) -> dict[int, ExpertProfile]:
    """Gets the profiles of these accounts."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[int, ExpertProfile] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        statement = select(ExpertProfile).where(col(ExpertProfile.user_id).in_(chunk))
        for expert in session.exec(statement).all():
            found[expert.user_id or 0] = expert
    return found


def memberships_by_user_ids(
    session: Session, user_ids: Iterable[int]
) -> dict[int, InstitutionMember]:
    """Gets the institution membership of each of these accounts, if any."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[int, InstitutionMember] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        statement = select(InstitutionMember).where(col(InstitutionMember.user_id).in_(chunk))
        for member in session.exec(statement).all():
            found[member.user_id] = member
    return found


def members_of(session: Session, institution_ids: Iterable[int]) -> dict[int, list[User]]:
    """Gets the member accounts of each of these institutions, oldest membership first."""
    ids = list(dict.fromkeys(institution_ids))
    found: dict[int, list[User]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        statement = (
            select(InstitutionMember.institution_id, User)
            .join(User, col(User.id) == col(InstitutionMember.user_id))
            .where(col(InstitutionMember.institution_id).in_(chunk))
            .order_by(col(InstitutionMember.id))
        )
        for institution_id, user in session.exec(statement).all():
            found[institution_id].append(user)
    return found


def institutions_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Institution]:
    """Gets these institutions by id."""
    wanted = list(dict.fromkeys(ids))
    found: dict[int, Institution] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in session.exec(select(Institution).where(col(Institution.id).in_(chunk))).all():
            found[row.id or 0] = row
    return found


def iter_records(session: Session, model: type[T], *, chunk: int = 1000) -> Iterator[list[T]]:
    """Streams every record of a table in id order, a chunk at a time (keyset pagination)."""
    last = 0
    id_column = model.id
    while True:
        statement = select(model).where(col(id_column) > last).order_by(col(id_column)).limit(chunk)
        rows = list(session.exec(statement).all())
        if not rows:
            return
        yield rows
        last = rows[-1].id or 0
        session.expunge_all()


# --- uploads waiting for a coordinator's confirmation ---------------------------------------
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class PendingUpload:
    """A validated file kept server-side until the coordinator confirms (or it expires)."""

    token: str
    kind: str
    filename: str
    user_id: int
    created_at: datetime
    path: Path


def _uploads_dir(data_dir: Path) -> Path:
    folder = data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(
    data_dir: Path, *, kind: str, filename: str, user_id: int, content: bytes
) -> PendingUpload:
    """Keeps an uploaded file under a random token."""
    folder = _uploads_dir(data_dir)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.upload"
    path.write_bytes(content)
    path.chmod(0o600)
    now = utcnow()
    meta = {"kind": kind, "filename": filename, "user_id": user_id, "at": now.isoformat()}
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return PendingUpload(token, kind, filename, user_id, now, path)


def get_upload(data_dir: Path, token: str, *, max_age: timedelta) -> PendingUpload | None:
    """Gets a pending upload by token, unless it is unknown or expired."""
    if not _TOKEN.match(token):
        return None
    folder = _uploads_dir(data_dir)
    meta_path, path = folder / f"{token}.json", folder / f"{token}.upload"
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    created = datetime.fromisoformat(str(meta.get("at")))
    if not path.exists() or utcnow() - created > max_age:
        delete_upload(data_dir, token)
        return None
    return PendingUpload(
        token, str(meta["kind"]), str(meta["filename"]), int(meta["user_id"]), created, path
    )


def delete_upload(data_dir: Path, token: str) -> None:
    """Forgets a pending upload."""
    if not _TOKEN.match(token):
        return
    folder = _uploads_dir(data_dir)
    for suffix in (".json", ".upload"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def purge_uploads(data_dir: Path, *, max_age: timedelta) -> int:
    """Deletes the pending uploads older than `max_age`; returns how many."""
    folder = _uploads_dir(data_dir)
    cutoff = utcnow() - max_age
    removed = 0
    for meta_path in folder.glob("*.json"):
        try:
            created = datetime.fromisoformat(json.loads(meta_path.read_text())["at"])
        except (OSError, ValueError, KeyError):
            created = cutoff - timedelta(seconds=1)
        if created < cutoff:
            delete_upload(data_dir, meta_path.stem)
            removed += 1
    return removed
