"""The coordinator's roster import: upload a file, read the report, confirm."""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath
from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from service.core import policy
from service.core.imports import ImportReport, import_file
from service.deps import ReaderDep, RequireStaff, SessionDep, StateDep
from service.errors import NotFound
from service.i18n import N_, ngettext_
from service.models import User
from service.repos import imports as imports_repo
from service.schemas.imports import Kind
from service.templating import flash, render

router = APIRouter(prefix="/coordinator/import")

UPLOAD_TTL = timedelta(hours=1)
KINDS: tuple[str, ...] = get_args(Kind)
SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".txt")


def _form(request: Request, errors: dict[str, str], kind: str, status_code: int) -> HTMLResponse:
    return render(
        request,
        "imports/upload.html",
        {"errors": errors, "values": {"kind": kind}, "kinds": KINDS},
        status_code=status_code,
    )


def _pending(state: StateDep, token: str, reader: policy.Reader) -> imports_repo.PendingUpload:
    upload = imports_repo.get_upload(state.settings.data_dir, token, max_age=UPLOAD_TTL)
    if upload is None or not policy.may_use_upload(reader, upload.user_id):
        raise NotFound(N_("This upload has expired. Please upload the file again."))
    return upload


def _check(session: SessionDep, upload: imports_repo.PendingUpload, user: User) -> ImportReport:
    return import_file(
        session,
        kind=upload.kind,  # type: ignore[arg-type]
        path=upload.path,
        actor=user,
        source=upload.filename,
        dry_run=True,
    )


def _imported(report: ImportReport) -> str:
    """Says what an import wrote, in the reader's language (the flash shows it as it is)."""
    counts = {
        "file": report.source,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    return ngettext_(
        "%(file)s: %(num)s row imported (%(created)s new, %(updated)s updated, "
        "%(unchanged)s unchanged).",
        "%(file)s: %(num)s rows imported (%(created)s new, %(updated)s updated, "
        "%(unchanged)s unchanged).",
        report.rows,
    ) % {"num": report.rows, **counts}


@router.get("", response_class=HTMLResponse)
def import_page(
    request: Request,
    user: RequireStaff,
    reader: ReaderDep,
    state: StateDep,
    session: SessionDep,
    token: str = "",
) -> HTMLResponse:
    """Shows the upload form, or the report of an uploaded file with the confirm button."""
    if not token:
        return _form(request, {}, "experts", 200)
    upload = _pending(state, token, reader)
    report = _check(session, upload, user)
    return render(
        request,
        "imports/report.html",
        {"upload": upload, "report": report},
        status_code=200 if report.ok else 422,
    )


@router.post("")
async def upload(request: Request, user: RequireStaff, state: StateDep) -> Response:
    """Keeps an uploaded file under a random token and shows its report; writes nothing."""
    form = await request.form()
    kind, file = form.get("kind"), form.get("file")
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = N_("Choose what the file holds.")
    if not isinstance(file, UploadFile) or not file.filename:
        errors["file"] = N_("Choose a CSV or JSONL file.")
    elif PurePath(file.filename).suffix.lower() not in SUFFIXES:
        errors["file"] = N_("Upload a .csv or .jsonl file.")
    if errors or not isinstance(file, UploadFile):
        return _form(request, errors, str(kind or ""), 422)
    content = await file.read(state.settings.max_body_bytes + 1)
    if not content.strip():
        return _form(request, {"file": N_("This file is empty.")}, str(kind), 422)
    if len(content) > state.settings.max_body_bytes:
        return _form(request, {"file": N_("This file is too large.")}, str(kind), 422)
    imports_repo.purge_uploads(state.settings.data_dir, max_age=UPLOAD_TTL)
    pending = imports_repo.save_upload(
        state.settings.data_dir,
        kind=str(kind),
        filename=PurePath(file.filename or "upload").name[:200],
        user_id=user.id or 0,
        content=content,
    )
    return RedirectResponse(f"/coordinator/import?token={pending.token}", status_code=303)


@router.post("/confirm")
async def confirm(
    request: Request, user: RequireStaff, reader: ReaderDep, state: StateDep, session: SessionDep
) -> Response:
    """Checks the kept file again and, if every row is good, writes it all."""
    form = await request.form()
    token = form.get("token")
    upload = _pending(state, token if isinstance(token, str) else "", reader)
    report = import_file(
        session,
        kind=upload.kind,  # type: ignore[arg-type]
        path=upload.path,
        actor=user,
        source=upload.filename,
    )
    if not report.ok:
        return render(
            request, "imports/report.html", {"upload": upload, "report": report}, status_code=422
        )
    imports_repo.delete_upload(state.settings.data_dir, upload.token)
    response = RedirectResponse("/coordinator/import", status_code=303)
    flash(response, request, _imported(report), "success")
    return response
