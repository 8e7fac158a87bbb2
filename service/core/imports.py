"""Roster imports: read a CSV or JSONL file as it streams, check every row, then upsert.

A file is read twice: first every row is checked (nothing is written), then, if no row is
bad, the rows are written in one transaction. With `partial`, one pass writes the good rows
a batch (one transaction) at a time and reports the bad ones. Rows are matched on their
`external_id`, so importing a file again updates what changed and skips the rest quickly:
that is also how an interrupted import resumes. Embeddings are not made here; the rows
written are picked up by the embedding pass (content hashes) afterwards.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial as partial_
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlmodel import Session, SQLModel, col

from service.core import changes, policy
from service.core.audit import record
from service.core.exports import expert_record, institution_record, need_record
from service.errors import DomainError
from service.i18n import N_, NN_
from service.models import (
    ExpertProfile,
    Institution,
    InstitutionMember,
    Need,
    NeedStatus,
    Role,
    SearchOutbox,
    User,
)
from service.models.types import utcnow
from service.repos import imports as imports_repo
from service.schemas.common import REQUIRED
from service.schemas.imports import (
    COLUMNS,
    KINDS,
    CellType,
    ExpertRow,
    InstitutionRow,
    Kind,
    NeedRow,
)
from service.search.documents import expert_documents

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 1000
Format = Literal["csv", "jsonl"]
Progress = Callable[[str, int, int], None]  # (phase, bytes read, file size)

_INTEGER = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


# A message about a count, as (singular, plural): a page or a command says it with ngettext_
# once it reads the count, in the reader's language and plural form (3 colonnes, 3 أعمدة).
MORE_CELLS = NN_(
    "More cells than the %(num)s column: check the quoting or the delimiter.",
    "More cells than the %(num)s columns: check the quoting or the delimiter.",
)


def _more_cells(line: int, columns: int) -> RowError:
    """A row with more cells than the header has columns (a stray delimiter or quote)."""
    singular, plural = MORE_CELLS
    return RowError(line, "line", singular, {"num": columns}, plural=plural)


def unusable_password() -> str:
    """Makes a password hash no password matches: the person signs in by resetting it."""
    return "!" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class RowError:
    """A problem with one row (or the file), named by physical line and field.

    `message` is a catalogue message (or pydantic's English, which the catalogue reads back)
    and `params` fill it: the report page translates it into the reader's language
    (`service.templating`'s `row_error`); `text` is the English, for a terminal.
    """

    line: int
    field: str
    message: str
    # (`dataclasses.field` by its full name: `field` is this class's column name.)
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    item: int | None = None  # the 1-based item of a list cell the message is about
    # A message about a count: `message` is its singular, this its plural, `params["num"]` the
    # count that picks the form (see MORE_CELLS).
    plural: str = dataclasses.field(default="", compare=False)

    @property
    def text(self) -> str:
        """Says the problem in English."""
        message = self.plural if self.plural and self.params.get("num") != 1 else self.message
        said = message % self.params if self.params else message
        return ITEM % {"n": self.item, "problem": said} if self.item is not None else said

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.text}"


class CellError(ValueError):
    """A CSV cell that does not read as its column's kind of value."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


ITEM = N_("Item %(n)s: %(problem)s")
ALSO_ON_LINE = N_("“%(value)s” is also on line %(line)s.")
# An email the row would give an account of another kind, by that account's role.
OTHER_ROLE = {
    Role.EXPERT: N_("%(value)s belongs to an expert's account."),
    Role.INSTITUTION: N_("%(value)s belongs to an institution account."),
    Role.COORDINATOR: N_("%(value)s belongs to a coordinator's account."),
    Role.ADMIN: N_("%(value)s belongs to an administrator's account."),
}


@dataclass
class ImportReport:
    """What an import did, or would do, and every bad row."""

    kind: str
    source: str
    dry_run: bool = False
    partial: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        """Tells whether every row was good."""
        return self.error_count == 0

    def add_errors(self, errors: list[RowError]) -> None:
        """Counts a bad row's errors; only the first thousand are kept for the report."""
        self.error_count += len(errors)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def reset_counts(self) -> None:
        """Forgets the counts of a checking pass before the writing pass."""
        self.rows = self.created = self.updated = self.unchanged = 0
        self.bad_rows = self.error_count = 0
        self.errors = []

    def summary(self) -> str:
        """Says in one line what happened."""
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        errors = f"{self.error_count} error{'s' if self.error_count != 1 else ''}"
        if self.error_count and not self.written:
            return f"{self.source}: {errors} in {self.rows} rows, nothing imported"
        if self.error_count:
            good = self.rows - self.bad_rows
            return (
                f"{self.source}: {errors} in {self.rows} rows; {good} rows imported ({counts}), "
                f"{self.bad_rows} rows left out"
            )
        if self.dry_run:
            return f"{self.source}: {self.rows} rows would be imported ({counts}); nothing written"
        return f"{self.source}: {self.rows} rows imported ({counts})"

    def lines(self) -> list[str]:
        """Gets the summary and each reported error, for a terminal."""
        out = [self.summary(), *(f"  {error}" for error in self.errors)]
        if self.error_count > len(self.errors):
            out.append(f"  ... and {self.error_count - len(self.errors)} more errors")
        return out


class BadFile(DomainError):
    """The file cannot be read as a roster."""

    status_code = 422

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


# --- reading ------------------------------------------------------------------------------
@dataclass
class RawRow:
    """One record as read: its first physical line, its values and the cells that did not read."""

    line: int
    values: dict[str, Any]
    errors: list[RowError]


def detect_format(path: Path) -> Format:
    """Tells CSV from JSONL by the file's extension, or else by its first character."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


class RowReader:
    """Streams the rows of a file, keeping only the current record in memory."""

    def __init__(self, path: Path, *, kind: Kind, fmt: Format | None = None) -> None:
        self.path = path
        self.kind = kind
        self.format: Format = fmt or detect_format(path)
        self.columns = COLUMNS[kind]
        self.size = path.stat().st_size
        self.position = 0

    def __iter__(self) -> Iterator[RawRow]:
        self.position = 0
        with self.path.open("rb") as fh:
            if self.format == "jsonl":
                yield from self._jsonl(fh)
            else:
                yield from self._csv(fh)

    def _lines(self, fh: Any) -> Iterator[tuple[int, str]]:
        for number, raw in enumerate(fh, 1):
            self.position += len(raw)
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadFile(
                    [
                        RowError(
                            number,
                            "file",
                            N_("This line is not UTF-8: save the file as “CSV UTF-8”."),
                        )
                    ]
                ) from None

    def _jsonl(self, fh: Any) -> Iterator[RawRow]:
        for number, text in self._lines(fh):
            if not text.strip():
                yield RawRow(number, {}, [RowError(number, "line", N_("Blank line."))])
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                problem = RowError(
                    number, "json", N_("Not valid JSON (%(detail)s)."), {"detail": exc.msg}
                )
                yield RawRow(number, {}, [problem])
                continue
            if not isinstance(data, dict):
                yield RawRow(
                    number, {}, [RowError(number, "json", N_("Each line must be a JSON object."))]
                )
                continue
            values: dict[str, Any] = {}
            errors: list[RowError] = []
            for key, value in data.items():
                name = str(key).strip().lower()
                if name not in self.columns:
                    errors.append(RowError(number, str(key), N_("Unknown field.")))
                else:
                    values[name] = value
            yield RawRow(number, values, errors)

    def _csv(self, fh: Any) -> Iterator[RawRow]:
        lines = self._lines(fh)
        first = next(lines, None)
        if first is None:
            return
        header_text = first[1]
        delimiter = ";" if header_text.count(";") > header_text.count(",") else ","
        header = next(csv.reader([header_text], delimiter=delimiter), [])
        names = [name.strip().lower() for name in header]
        self._check_header(names, header)
        reader = csv.reader((text for _number, text in lines), delimiter=delimiter)
        previous = 1
        for cells in reader:
            line = previous + 1
            previous = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            values: dict[str, Any] = {}
            errors: list[RowError] = []
            if len(cells) > len(names):
                extra = [c for c in cells[len(names) :] if c.strip()]
                if extra:
                    errors.append(_more_cells(line, len(names)))
            for name, cell in zip(names, cells, strict=False):
                if not name or not cell.strip():
                    continue
                try:
                    values[name] = read_cell(cell, self.columns[name])
                except CellError as exc:
                    errors.append(RowError(line, name, exc.message, exc.params))
            yield RawRow(line, values, errors)

    def _check_header(self, names: list[str], header: list[str]) -> None:
        errors = []
        for name, original in zip(names, header, strict=True):
            if name and name not in self.columns:
                errors.append(RowError(1, original.strip(), N_("Unknown column.")))
        duplicates = sorted({n for n in names if n and names.count(n) > 1})
        errors.extend(RowError(1, name, N_("This column appears twice.")) for name in duplicates)
        if "external_id" not in names:
            errors.append(RowError(1, "external_id", N_("This column is required.")))
        if errors:
            expected = ", ".join(self.columns)
            columns = RowError(
                1, "header", N_("The columns are: %(columns)s."), {"columns": expected}
            )
            raise BadFile([*errors, columns])


def read_cell(cell: str, kind: CellType) -> Any:
    """Reads one CSV cell into the value the row model expects; raises CellError otherwise."""
    text = cell.strip()
    if kind == "text":
        return text
    if kind == "list":
        return _items(text)
    if kind == "languages":
        languages = []
        for item in _items(text):
            code, _, level = item.partition(":")
            entry = {"code": code.strip()}
            if level.strip():
                entry["level"] = level.strip().lower()
            languages.append(entry)
        return languages
    if kind == "members":
        members = []
        for item in _items(text):
            parts = [part.strip() for part in item.split("|")]
            if len(parts) > 3:
                raise CellError(N_("Write each member as email|display name|locale."))
            member = {"email": parts[0]}
            if len(parts) > 1 and parts[1]:
                member["display_name"] = parts[1]
            if len(parts) > 2 and parts[2]:
                member["locale"] = parts[2]
            members.append(member)
        return members
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise CellError(N_("“%(value)s” is not true or false (also yes/no, 1/0)."), value=text)
    if kind == "int":
        if not _INTEGER.match(text):
            raise CellError(
                N_("“%(value)s” is not a whole number: write 12, not 12.0 or 12 h."), value=text
            )
        return int(text)
    if kind == "date":
        if not _ISO_DATE.match(text):
            raise CellError(
                N_(
                    "“%(value)s” is not a date as YYYY-MM-DD: "
                    "format the column as text in the spreadsheet."
                ),
                value=text,
            )
        return text
    return text


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()]


# --- checking -----------------------------------------------------------------------------
@dataclass
class Seen:
    """What earlier rows of the same file used, to refuse duplicates."""

    external_ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)


@dataclass
class Planned:
    """A good row and what writing it means."""

    line: int
    op: Literal["create", "update", "unchanged"]
    row: Any
    record: Any = None
    user: User | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _merge(model: type[BaseModel], base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Lays the row over the stored record; null clears an optional field to its default."""
    merged = dict(base)
    for name, value in values.items():
        if value is None:
            info = model.model_fields.get(name)
            merged[name] = (
                info.get_default(call_default_factory=True)
                if info is not None and not info.is_required()
                else None
            )
        else:
            merged[name] = value
    return merged


def _validate(
    model: type[BaseModel], data: dict[str, Any], line: int
) -> tuple[Any, list[RowError]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            message = str(error["msg"]).removeprefix("Value error, ")
            item = None
            if loc:
                name = loc[0]
                if len(loc) > 1 and loc[1].isdigit():
                    item = int(loc[1]) + 1
            else:
                name = next((f for f in model.model_fields if f in message), "row")
            if error["type"] == "missing":
                message = REQUIRED
            errors.append(RowError(line, name, message, item=item))
        return None, errors


def _external_id(raw: RawRow, seen: Seen) -> tuple[str | None, list[RowError]]:
    value = raw.values.get("external_id")
    if not isinstance(value, str) or not value.strip():
        return None, [RowError(raw.line, "external_id", REQUIRED)]
    value = value.strip()
    first = seen.external_ids.get(value)
    if first is not None:
        also = RowError(raw.line, "external_id", ALSO_ON_LINE, {"value": value, "line": first})
        return None, [also]
    seen.external_ids[value] = raw.line
    return value, []


def _email_of(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _keep_external_id(record: ExpertProfile | Institution | Need, external_id: str) -> None:
    """Stores the row's roster id, unless it is the name an export gave a site record."""
    if imports_repo.external_id_of(record) != external_id:
        record.external_id = external_id


def _same(record: Any, values: dict[str, Any]) -> bool:
    return all(getattr(record, name) == value for name, value in values.items())


def _detect_language(*texts: str) -> str:
    from matching.fusion import detect_language

    return detect_language(" ".join(texts))


def _plan_experts(
    session: Session, rows: list[RawRow], seen: Seen, now: datetime
) -> tuple[list[Planned], list[list[RowError]]]:
    ids = [str(r.values.get("external_id", "")).strip() for r in rows]
    existing = imports_repo.by_external_ids(session, ExpertProfile, [i for i in ids if i])
    owners = imports_repo.users_by_ids(
        session, [e.user_id for e in existing.values() if e.user_id is not None]
    )
    by_email = imports_repo.users_by_emails(
        session, [e for r in rows if (e := _email_of(r.values.get("email")))]
    )
    profiles = imports_repo.experts_by_user_ids(
        session, [u.id or 0 for u in by_email.values() if u.role == Role.EXPERT]
    )
    planned: list[Planned] = []
    bad: list[list[RowError]] = []
    for raw in rows:
        external_id, errors = _external_id(raw, seen)
        errors = [*raw.errors, *errors]
        expert = existing.get(external_id or "")
        user = owners.get(expert.user_id or 0) if expert is not None else None
        email = _email_of(raw.values.get("email")) or (user.email if user else None)
        if email is not None and external_id is not None:
            first = seen.emails.get(email)
            if first is not None:
                errors.append(
                    RowError(raw.line, "email", ALSO_ON_LINE, {"value": email, "line": first})
                )
            seen.emails[email] = raw.line
            owner = by_email.get(email)
            if owner is not None and (user is None or owner.id != user.id):
                other = profiles.get(owner.id or 0)
                if owner.role != Role.EXPERT:
                    errors.append(
                        RowError(raw.line, "email", OTHER_ROLE[Role(owner.role)], {"value": email})
                    )
                elif expert is not None or (other is not None and other.external_id):
                    holder = imports_repo.external_id_of(other) if other else ""
                    errors.append(
                        RowError(
                            raw.line,
                            "email",
                            N_("%(value)s is already used by %(holder)s.")
                            if holder
                            else N_("%(value)s is already used by another account."),
                            {"value": email, "holder": holder} if holder else {"value": email},
                        )
                    )
                else:
                    expert, user = other, owner  # an expert who registered on the site
        base = expert_record(expert, user) if expert is not None else {}
        row, invalid = _validate(ExpertRow, _merge(ExpertRow, base, raw.values), raw.line)
        errors.extend(invalid)
        if errors or row is None:
            bad.append(errors)
            continue
        values = _expert_values(row, expert, now)
        op: Literal["create", "update", "unchanged"] = "create"
        if expert is not None:
            same = (
                imports_repo.external_id_of(expert) == row.external_id
                and _same(expert, values)
                and user is not None
                and _same(user, _user_values(row))
            )
            op = "unchanged" if same else "update"
        planned.append(Planned(raw.line, op, row, expert, user, {"values": values}))
    return planned, bad


def _expert_values(row: ExpertRow, expert: ExpertProfile | None, now: datetime) -> dict[str, Any]:
    values = row.model_dump(exclude={"external_id", "email", "locale", "consent_matching"})
    values["languages"] = [language.model_dump(mode="json") for language in row.languages]
    values["modes"] = [str(mode) for mode in row.modes]
    values["visibility"] = str(row.visibility)
    if not row.text_lang:
        values["text_lang"] = _detect_language(row.headline, row.bio, " ".join(row.skills))
    if row.availability_confirmed_at is None and expert is None:
        values["availability_confirmed_at"] = now
    return values


def _user_values(row: ExpertRow) -> dict[str, Any]:
    return {"email": row.email, "locale": row.locale}


def _write_experts(session: Session, planned: list[Planned], now: datetime) -> None:
    """Creates new experts in bulk (Core inserts); updates the others through the ORM."""
    creates = [item for item in planned if item.record is None]
    updates = [item for item in planned if item.record is not None]
    if creates:
        _create_experts(session, creates, now)
    for item in updates:
        if item.user is None:
            item.user = User(
                email=item.row.email,
                password_hash=unusable_password(),
                role=Role.EXPERT,
                display_name=item.row.display_name,
                locale=item.row.locale,
                created_at=now,
            )
        else:
            for name, value in _user_values(item.row).items():
                setattr(item.user, name, value)
        session.add(item.user)
    if updates:
        session.flush()
    for item in updates:
        expert = item.record
        _keep_external_id(expert, item.row.external_id)
        if expert.user_id is None and item.user is not None:
            expert.user_id = item.user.id
        for name, value in item.extra["values"].items():
            setattr(expert, name, value)
        expert.updated_at = now
        session.add(expert)
    if updates:
        session.flush()
    for item in updates:
        changes.expert_changed(session, item.record, bulk=True)


def _create_experts(session: Session, creates: list[Planned], now: datetime) -> None:
    # Building ORM objects costs more than the database work here, so rows go as dicts.
    new_users = [item for item in creates if item.user is None]
    user_ids: dict[str, int] = {}
    if new_users:
        rows = [
            _row(
                User,
                now,
                email=item.row.email,
                password_hash=unusable_password(),
                role=str(Role.EXPERT),
                display_name=item.row.display_name,
                locale=item.row.locale,
            )
            for item in new_users
        ]
        statement = insert(User).returning(
            col(User.id), col(User.email), sort_by_parameter_order=True
        )
        user_ids = {email: id_ for id_, email in session.execute(statement, rows).all()}
    for item in creates:
        if item.user is not None:
            session.add(item.user)
            for name, value in _user_values(item.row).items():
                setattr(item.user, name, value)
    session.flush()
    emails = [item.row.email for item in creates]
    rows = [
        _row(
            ExpertProfile,
            now,
            user_id=item.user.id if item.user is not None else user_ids[item.row.email],
            external_id=item.row.external_id,
            consent_terms_at=now,
            consent_matching_at=now,
            **item.extra["values"],
        )
        for item in creates
    ]
    made = insert(ExpertProfile).returning(col(ExpertProfile.id), sort_by_parameter_order=True)
    ids = [int(id_ or 0) for id_ in session.execute(made, rows).scalars()]
    experts_created(session, rows=rows, ids=ids, emails=emails, now=now)


_DEFAULTS: dict[type[SQLModel], list[tuple[str, Any, Callable[[], Any] | None]]] = {}


def _row(model: type[SQLModel], now: datetime, **values: Any) -> dict[str, Any]:
    """Builds a table row as a dict, with the model's defaults (a moment default is `now`)."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = [
            (name, info.default, info.default_factory)  # type: ignore[misc]
            for name, info in model.model_fields.items()
            if name != "id"
        ]
        _DEFAULTS[model] = defaults
    row: dict[str, Any] = {}
    for name, default, factory in defaults:
        if name in values:
            row[name] = values[name]
        elif factory is utcnow:
            row[name] = now
        elif factory is not None:
            row[name] = factory()
        else:
            row[name] = default
    return row


def _plan_institutions(
    session: Session, rows: list[RawRow], seen: Seen, now: datetime
) -> tuple[list[Planned], list[list[RowError]]]:
    ids = [str(r.values.get("external_id", "")).strip() for r in rows]
    existing = imports_repo.by_external_ids(session, Institution, [i for i in ids if i])
    members = imports_repo.members_of(session, [i.id or 0 for i in existing.values()])
    emails = [
        e
        for r in rows
        if isinstance(r.values.get("members"), list)
        for m in r.values["members"]
        if isinstance(m, dict) and (e := _email_of(m.get("email")))
    ]
    users = imports_repo.users_by_emails(session, emails)
    memberships = imports_repo.memberships_by_user_ids(session, [u.id or 0 for u in users.values()])
    planned: list[Planned] = []
    bad: list[list[RowError]] = []
    for raw in rows:
        external_id, errors = _external_id(raw, seen)
        errors = [*raw.errors, *errors]
        institution = existing.get(external_id or "")
        current = members.get(institution.id or 0, []) if institution is not None else []
        base = institution_record(institution, current) if institution is not None else {}
        row, invalid = _validate(InstitutionRow, _merge(InstitutionRow, base, raw.values), raw.line)
        errors.extend(invalid)
        if row is not None:
            for member in row.members:
                first = seen.emails.get(member.email)
                if first is not None and first != raw.line:
                    errors.append(
                        RowError(
                            raw.line,
                            "members",
                            ALSO_ON_LINE,
                            {"value": member.email, "line": first},
                        )
                    )
                seen.emails[member.email] = raw.line
                user = users.get(member.email)
                if user is None:
                    continue
                if user.role != Role.INSTITUTION:
                    errors.append(
                        RowError(
                            raw.line,
                            "members",
                            OTHER_ROLE[Role(user.role)],
                            {"value": member.email},
                        )
                    )
                membership = memberships.get(user.id or 0)
                if membership is not None and (
                    institution is None or membership.institution_id != institution.id
                ):
                    errors.append(
                        RowError(
                            raw.line,
                            "members",
                            N_("%(value)s already acts for another institution."),
                            {"value": member.email},
                        )
                    )
        if errors or row is None:
            bad.append(errors)
            continue
        values = row.model_dump(include={"name", "city", "website", "description", "country"})
        values["type"] = str(row.type)
        op: Literal["create", "update", "unchanged"] = "create"
        if institution is not None:
            same = (
                imports_repo.external_id_of(institution) == row.external_id
                and _same(institution, values)
                and institution.verified == row.verified
                and _members_unchanged(row, current)
            )
            op = "unchanged" if same else "update"
        planned.append(
            Planned(raw.line, op, row, institution, None, {"values": values, "users": users})
        )
    return planned, bad


def _members_unchanged(row: InstitutionRow, current: list[User]) -> bool:
    by_email = {user.email: user for user in current}
    for member in row.members:
        user = by_email.get(member.email)
        if user is None or user.locale != member.locale:
            return False
        if member.display_name and user.display_name != member.display_name:
            return False
    return True


def _write_institutions(
    session: Session, planned: list[Planned], actor: User | None, now: datetime
) -> None:
    for item in planned:
        row: InstitutionRow = item.row
        institution = item.record
        if institution is None:
            institution = Institution(
                external_id=row.external_id, created_at=now, **item.extra["values"]
            )
        else:
            _keep_external_id(institution, row.external_id)
            for name, value in item.extra["values"].items():
                setattr(institution, name, value)
        was_verified = institution.verified
        if row.verified and not was_verified:
            institution.verified_at = now
            institution.verified_by_id = actor.id if actor else None
        elif not row.verified and was_verified:
            institution.verified_at = None
            institution.verified_by_id = None
        institution.updated_at = now
        session.add(institution)
        session.flush()
        if item.record is not None:
            changes.institution_changed(session, institution)
        item.record = institution
        if row.verified != was_verified:
            record(
                session,
                actor=actor,
                action="institution.verified" if row.verified else "institution.unverified",
                entity_type="institution",
                entity_id=institution.id,
                from_state="verified" if was_verified else "pending",
                to_state="verified" if row.verified else "pending",
                reason="import",
            )
        users: dict[str, User] = item.extra["users"]
        for member in row.members:
            user = users.get(member.email)
            if user is None:
                user = User(
                    email=member.email,
                    password_hash=unusable_password(),
                    role=Role.INSTITUTION,
                    display_name=member.display_name,
                    locale=member.locale,
                    created_at=now,
                )
                session.add(user)
                session.flush()
                users[member.email] = user
            else:
                user.locale = member.locale
                if member.display_name:
                    user.display_name = member.display_name
                session.add(user)
            if (
                imports_repo.memberships_by_user_ids(session, [user.id or 0]).get(user.id or 0)
                is None
            ):
                session.add(
                    InstitutionMember(
                        institution_id=institution.id or 0, user_id=user.id or 0, created_at=now
                    )
                )
    session.flush()


def _plan_needs(
    session: Session, rows: list[RawRow], seen: Seen, now: datetime
) -> tuple[list[Planned], list[list[RowError]]]:
    ids = [str(r.values.get("external_id", "")).strip() for r in rows]
    existing = imports_repo.by_external_ids(session, Need, [i for i in ids if i])
    owners = imports_repo.institutions_by_ids(
        session, [n.institution_id for n in existing.values()]
    )
    wanted = [v.strip() for r in rows if isinstance(v := r.values.get("institution"), str)]
    institutions = imports_repo.by_external_ids(session, Institution, wanted)
    for owner in owners.values():
        institutions.setdefault(imports_repo.external_id_of(owner), owner)
    planned: list[Planned] = []
    bad: list[list[RowError]] = []
    for raw in rows:
        external_id, errors = _external_id(raw, seen)
        errors = [*raw.errors, *errors]
        need = existing.get(external_id or "")
        base: dict[str, Any] = {}
        if need is not None:
            holder = owners.get(need.institution_id)
            base = need_record(need, imports_repo.external_id_of(holder) if holder else "")
        row, invalid = _validate(NeedRow, _merge(NeedRow, base, raw.values), raw.line)
        errors.extend(invalid)
        institution = institutions.get(row.institution) if row is not None else None
        if row is not None and institution is None:
            errors.append(
                RowError(
                    raw.line,
                    "institution",
                    N_("No institution has the external_id “%(value)s”."),
                    {"value": row.institution},
                )
            )
        if errors or row is None or institution is None:
            bad.append(errors)
            continue
        values = _need_values(row, need, institution, now)
        op: Literal["create", "update", "unchanged"] = "create"
        if need is not None:
            op = (
                "unchanged"
                if imports_repo.external_id_of(need) == row.external_id and _same(need, values)
                else "update"
            )
        planned.append(Planned(raw.line, op, row, need, None, {"values": values}))
    return planned, bad


def _need_values(
    row: NeedRow, need: Need | None, institution: Institution, now: datetime
) -> dict[str, Any]:
    values = row.model_dump(exclude={"external_id", "institution"})
    values["mode"] = str(row.mode)
    values["support"] = [str(item) for item in row.support]
    values["status"] = str(row.status) if institution.verified else str(NeedStatus.DRAFT)
    values["institution_id"] = institution.id
    if not values["city"] and need is None:
        values["city"] = institution.city
    if not row.text_lang:
        values["text_lang"] = _detect_language(row.title, row.description)
    if values["posted_at"] is None and values["status"] == NeedStatus.OPEN:
        values["posted_at"] = need.posted_at if need and need.posted_at else now
    return values


def _write_needs(
    session: Session, planned: list[Planned], actor: User | None, now: datetime
) -> None:
    for item in planned:
        need = item.record
        if need is None:
            need = Need(
                external_id=item.row.external_id,
                created_by_id=actor.id if actor else None,
                created_at=now,
                **item.extra["values"],
            )
        else:
            _keep_external_id(need, item.row.external_id)
            for name, value in item.extra["values"].items():
                setattr(need, name, value)
        need.updated_at = now
        session.add(need)
        item.record = need
    session.flush()
    # The batch's institutions in one query, held while need_changed finds each in the session.
    _held = imports_repo.institutions_by_ids(
        session, [item.record.institution_id for item in planned]
    )
    for item in planned:
        changes.need_changed(session, item.record, bulk=True)


# --- experts created in bulk reach the search outbox (the others through changes) -------
def experts_created(
    session: Session,
    *,
    rows: list[dict[str, Any]],
    ids: list[int],
    emails: list[str],
    now: datetime,
) -> None:
    """Records the search-outbox rows of experts created in bulk, in one insert."""
    outbox_rows = []
    for row, expert_id, email in zip(rows, ids, emails, strict=True):
        # The same document service.core.changes.expert_document builds from a profile.
        document = {
            **row,
            "id": expert_id,
            "email": email,
            "languages": [str(item.get("code", "")) for item in row["languages"]],
            "active": policy.in_matching(
                active=bool(row["active"]), consenting=row["consent_matching_at"] is not None
            ),
        }
        for index, payload in expert_documents(document).items():
            outbox_rows.append(
                _row(
                    SearchOutbox,
                    now,
                    index=index,
                    document_id=expert_id,
                    op="delete" if payload is None else "upsert",
                    payload=payload,
                )
            )
    session.execute(insert(SearchOutbox), outbox_rows)


# --- the import ---------------------------------------------------------------------------
PLANNERS = {"experts": _plan_experts, "institutions": _plan_institutions, "needs": _plan_needs}


def _batches(reader: RowReader, size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in reader:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(
    session: Session, kind: Kind, planned: list[Planned], actor: User | None, now: datetime
) -> None:
    if not planned:
        return
    if kind == "experts":
        _write_experts(session, planned, now)
    elif kind == "institutions":
        _write_institutions(session, planned, actor, now)
    else:
        _write_needs(session, planned, actor, now)


def _run_pass(
    session: Session,
    *,
    reader: RowReader,
    report: ImportReport,
    actor: User | None,
    write: bool,
    commit_each_batch: bool,
    batch_size: int,
    progress: Progress | None,
    now: datetime,
) -> None:
    seen = Seen()
    phase = "writing" if write else "checking"
    if progress is not None:
        progress(phase, 0, reader.size)
    for batch in _batches(reader, batch_size):
        planned, bad = PLANNERS[reader.kind](session, batch, seen, now)
        report.rows += len(batch)
        report.bad_rows += len(bad)
        for errors in bad:
            report.add_errors(errors)
        for item in planned:
            if item.op == "create":
                report.created += 1
            elif item.op == "update":
                report.updated += 1
            else:
                report.unchanged += 1
        if write and (commit_each_batch or report.ok):
            _write(session, reader.kind, [p for p in planned if p.op != "unchanged"], actor, now)
            session.flush()
            if commit_each_batch:
                session.commit()
        session.expunge_all()
        if progress is not None:
            progress(phase, reader.position, reader.size)


def import_file(
    session: Session,
    *,
    kind: Kind,
    path: Path,
    actor: User | None,
    source: str = "",
    fmt: Format | None = None,
    dry_run: bool = False,
    partial: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Imports a roster file; all or nothing unless `partial`. Commits what it writes."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    now = now or utcnow()
    report = ImportReport(kind=kind, source=source or path.name, dry_run=dry_run, partial=partial)
    reader = RowReader(path, kind=kind, fmt=fmt)
    run = partial_(
        _run_pass,
        session,
        reader=reader,
        report=report,
        actor=actor,
        batch_size=batch_size,
        progress=progress,
        now=now,
    )
    try:
        if not partial or dry_run:
            run(write=False, commit_each_batch=False)
            session.rollback()
            if dry_run or not report.ok:
                return report
            if not report.created and not report.updated:
                report.written = True  # nothing to write: a re-run ends after the check
                return report
            report.reset_counts()
            run(write=True, commit_each_batch=False)
            if not report.ok:  # the database changed between the two passes
                session.rollback()
                return report
        else:
            run(write=True, commit_each_batch=True)
    except BadFile as exc:
        session.rollback()
        report.add_errors(exc.errors)
        report.written = report.partial and (report.created + report.updated) > 0
        if report.written and kind == "experts" and report.created:
            changes.experts_added(session)  # the batches committed before the bad file
            session.commit()
        return report
    except BaseException:
        session.rollback()
        raise
    report.written = True
    if report.created or report.updated:
        _record_import(session, report=report, actor=actor)
    if kind == "experts" and report.created:
        changes.experts_added(session)
    session.commit()
    return report


def _record_import(session: Session, *, report: ImportReport, actor: User | None) -> None:
    record(
        session,
        actor=actor,
        action=f"import.{report.kind}",
        entity_type="import",
        entity_id=None,
        data={
            "file": report.source,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "errors": report.error_count,
            "partial": report.partial,
        },
    )


def column_names(kind: Kind) -> list[str]:
    """Gets the columns of a kind, in the order of export."""
    return list(COLUMNS[kind])


__all__ = [
    "BadFile",
    "ImportReport",
    "RowError",
    "RowReader",
    "column_names",
    "detect_format",
    "import_file",
    "read_cell",
    "unusable_password",
]
