"""The user's own data: a page to download it all, and to delete the account."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from service.core import policy
from service.core.privacy import delete_account, erasure_cancels, export_user_data
from service.deps import CurrentUser, ReaderDep, SessionDep, SessionUser, StateDep
from service.errors import FieldErrors
from service.models import User
from service.pages.accounts import end_browser_session
from service.pages.forms import read_form
from service.templating import flash, render

router = APIRouter(prefix="/account")


def _context(
    session: Session, *, user: User, can_delete: bool, errors: dict[str, str]
) -> dict[str, Any]:
    """What the page shows: the deletion form, and what deleting the account would cancel."""
    cancels = erasure_cancels(session, user=user) if can_delete else []
    return {"errors": errors, "can_delete": can_delete, "cancels": cancels}


@router.get("/data", response_class=HTMLResponse)
def data_page(
    request: Request, user: CurrentUser, reader: ReaderDep, session: SessionDep
) -> HTMLResponse:
    """Explains what is kept, offers the download and the deletion of the account (saying
    which current engagements it would cancel)."""
    can_delete = policy.may(reader, policy.Action.ERASE_OWN_ACCOUNT)
    context = _context(session, user=user, can_delete=can_delete, errors={})
    return render(request, "privacy_data/data.html", context)


@router.get("/data.json")
def data_download(user: CurrentUser, session: SessionDep) -> Response:
    """Downloads everything stored about the user, as JSON."""
    body = json.dumps(export_user_data(session, user=user), indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="homeward-my-data.json"'},
    )


@router.post("/delete")
async def delete_submit(
    request: Request, user: SessionUser, state: StateDep, session: SessionDep
) -> Response:
    """Deletes the account once the password is typed again."""
    data = await read_form(request)
    try:
        delete_account(
            session,
            user=user,
            password=str(data.get("password", ""))[:200],
            settings=state.settings,
        )
    except FieldErrors as exc:
        session.rollback()
        context = _context(session, user=user, can_delete=True, errors=exc.errors)
        return render(request, "privacy_data/data.html", context, status_code=exc.page_status)
    session.commit()
    response = RedirectResponse("/", status_code=303)
    end_browser_session(response, state=state)
    flash(response, request, "Your account and personal data are deleted.", "success")
    return response
