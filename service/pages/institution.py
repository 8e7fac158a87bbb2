"""The institution's pages: its space and its needs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.needs import edit_need, post_need, readable_need
from service.deps import MemberInstitution, RequireMember, SessionDep, VerifiedInstitution
from service.models import Mode, Need, Support
from service.models.experts import SECTORS
from service.pages.forms import read_form, validate_form
from service.repos import needs as needs_repo
from service.schemas.needs import NeedWrite
from service.templating import flash, render

router = APIRouter(prefix="/institution")

LIST_FIELDS = ("required_skills", "languages", "support")


def _editor_context(
    values: dict[str, object], errors: dict[str, str], need: Need | None = None
) -> dict[str, object]:
    return {
        "values": values,
        "errors": errors,
        "need": need,
        "sectors": SECTORS,
        "modes": list(Mode),
        "supports": list(Support),
    }


async def _read_need_form(
    request: Request,
) -> tuple[NeedWrite | None, dict[str, str], dict[str, object]]:
    data = await read_form(request, list_fields=LIST_FIELDS)
    data["live_sessions"] = data.get("live_sessions") == "on"
    for name in ("start_from", "start_until"):
        if data.get(name) == "":
            data[name] = None
    form, errors = validate_form(NeedWrite, data)
    return form, errors, data


@router.get("", response_class=HTMLResponse)
def home(
    request: Request, user: RequireMember, institution: MemberInstitution, session: SessionDep
) -> HTMLResponse:
    """Shows the institution's space: its state and its needs."""
    needs, total = needs_repo.list_needs(session, institution_id=institution.id, limit=100)
    return render(
        request,
        "institution/home.html",
        {"institution": institution, "needs": needs, "total": total},
    )


@router.get("/needs/new", response_class=HTMLResponse)
def new_need_page(
    request: Request, user: RequireMember, institution: VerifiedInstitution
) -> HTMLResponse:
    """Shows the form to post a need."""
    values: dict[str, object] = {
        "mode": "remote",
        "status": "open",
        "duration_weeks": 6,
        "hours_per_week": 4,
    }
    return render(request, "institution/need_form.html", _editor_context(values, {}))


@router.post("/needs/new")
async def new_need_submit(
    request: Request, user: RequireMember, institution: VerifiedInstitution, session: SessionDep
) -> Response:
    """Posts a need."""
    form, errors, data = await _read_need_form(request)
    if form is None:
        return render(
            request, "institution/need_form.html", _editor_context(data, errors), status_code=422
        )
    need = post_need(session, institution=institution, author=user, data=form)
    session.commit()
    response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
    flash(response, request, "Your need is posted.", "success")
    return response


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def need_page(
    request: Request, need_id: int, user: RequireMember, session: SessionDep
) -> HTMLResponse:
    """Shows one of the institution's needs."""
    need = readable_need(session, need_id=need_id, reader=user)
    return render(request, "institution/need.html", {"need": need})


@router.get("/needs/{need_id}/edit", response_class=HTMLResponse)
def edit_need_page(
    request: Request,
    need_id: int,
    user: RequireMember,
    institution: VerifiedInstitution,
    session: SessionDep,
) -> HTMLResponse:
    """Shows the form to edit a need."""
    need = readable_need(session, need_id=need_id, reader=user)
    return render(
        request, "institution/need_form.html", _editor_context(need.model_dump(), {}, need)
    )


@router.post("/needs/{need_id}/edit")
async def edit_need_submit(
    request: Request,
    need_id: int,
    user: RequireMember,
    institution: VerifiedInstitution,
    session: SessionDep,
) -> Response:
    """Saves changes to a need."""
    need = readable_need(session, need_id=need_id, reader=user)
    form, errors, data = await _read_need_form(request)
    if form is None:
        return render(
            request,
            "institution/need_form.html",
            _editor_context(data, errors, need),
            status_code=422,
        )
    edit_need(session, need=need, actor=user, data=form)
    session.commit()
    response = RedirectResponse(f"/institution/needs/{need.id}", status_code=303)
    flash(response, request, "Your need is saved.", "success")
    return response
