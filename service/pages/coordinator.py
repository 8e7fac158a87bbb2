"""The coordinator's pages: the dashboard of queues and institution verification."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.institutions import verify_institution
from service.deps import RequireStaff, SessionDep
from service.errors import NotFound
from service.repos import institutions as institutions_repo
from service.repos import stats as stats_repo
from service.templating import flash, render

router = APIRouter(prefix="/coordinator")


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, user: RequireStaff, session: SessionDep) -> HTMLResponse:
    """Shows the queues a coordinator works through."""
    pending, pending_total = institutions_repo.list_institutions(session, verified=False, limit=50)
    return render(
        request,
        "coordinator/dashboard.html",
        {
            "pending": pending,
            "pending_total": pending_total,
            "figures": stats_repo.platform_figures(session),
        },
    )


@router.post("/institutions/{institution_id}/verify")
def verify(
    request: Request, institution_id: int, user: RequireStaff, session: SessionDep
) -> Response:
    """Verifies an institution."""
    institution = institutions_repo.get_institution(session, institution_id)
    if institution is None:
        raise NotFound("This institution does not exist.")
    verify_institution(session, institution=institution, coordinator=user)
    session.commit()
    response = RedirectResponse("/coordinator", status_code=303)
    flash(response, request, "Institution verified.", "success")
    return response
