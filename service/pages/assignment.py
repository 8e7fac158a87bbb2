"""The assignment plan page: the solver's plan beside the greedy one, locks, exclusions,
approval of the whole plan or need by need."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from service.core.assignment import approve_plan, plan_assignments
from service.deps import RequireStaff, SessionDep, StateDep
from service.errors import Conflict
from service.i18n import N_, translate_message
from service.models import User
from service.models.experts import SECTORS
from service.pages.forms import read_form
from service.schemas.assignment import PlanApproval, PlanRequest
from service.templating import flash, render

router = APIRouter(prefix="/coordinator/assignment")
PLAN_FIELDS = ("locked", "excluded")


def plan_url(plan: PlanRequest, **change: list[int]) -> str:
    """The plan page's address for these filters, locks and exclusions."""
    query: list[tuple[str, Any]] = [
        (name, value)
        for name, value in (("country", plan.country), ("sector", plan.sector))
        if value
    ]
    for name in PLAN_FIELDS:
        query += [(name, i) for i in change.get(name, getattr(plan, name))]
    return "/coordinator/assignment" + (f"?{urlencode(query)}" if query else "")


def _request_from(data: dict[str, Any]) -> tuple[PlanRequest, dict[str, str]]:
    """Reads filters, locks and exclusions; what is not valid is reported and left out."""
    errors: dict[str, str] = {}
    fields = {
        "country": str(data.get("country") or "").strip().upper() or None,
        "sector": str(data.get("sector") or "") or None,
        "locked": [int(v) for v in data.get("locked", []) if str(v).isdigit()],
        "excluded": [int(v) for v in data.get("excluded", []) if str(v).isdigit()],
    }
    try:
        return PlanRequest.model_validate(fields), errors
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "__all__"
            errors.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
            fields[name] = None if name in ("country", "sector") else []
        if "__all__" in errors:
            fields["excluded"] = []
        return PlanRequest.model_validate(fields), errors


def _plan_page(
    request: Request,
    session: SessionDep,
    state: StateDep,
    user: User,
    plan: PlanRequest,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = plan_assignments(
        session,
        reader=user,
        settings=state.settings,
        country=plan.country,
        sector=plan.sector,
        locked=plan.locked,
        excluded=plan.excluded,
    )
    return render(
        request,
        "assignment/plan.html",
        {
            "view": view,
            "request_plan": plan,
            "plan_url": plan_url,
            "sectors": SECTORS,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def plan_page(
    request: Request, user: RequireStaff, session: SessionDep, state: StateDep
) -> HTMLResponse:
    """Shows the plan over the open needs beside the greedy one, with each offer's reasons."""
    params = request.query_params
    data = {**params, **{name: params.getlist(name) for name in PLAN_FIELDS}}
    plan, errors = _request_from(data)
    return _plan_page(
        request, session, state, user, plan, errors=errors, status_code=422 if errors else 200
    )


@router.post("/approve")
async def approve(
    request: Request, user: RequireStaff, session: SessionDep, state: StateDep
) -> Response:
    """Approves the ticked offers of the plan, the whole plan or one need's, all or none."""
    data = await read_form(request, list_fields=("proposal_ids", *PLAN_FIELDS))
    plan, _ = _request_from(data)
    ids = [int(v) for v in data.get("proposal_ids", []) if str(v).isdigit()]
    try:
        approval = PlanApproval(proposal_ids=ids)
        approve_plan(
            session, proposal_ids=approval.proposal_ids, coordinator=user, settings=state.settings
        )
    except ValidationError:
        errors = {"approve": N_("The plan has no offer to approve.")}
        return _plan_page(request, session, state, user, plan, errors=errors, status_code=422)
    except Conflict as exc:
        session.rollback()
        errors = {"approve": translate_message(exc.message, exc.params)}
        return _plan_page(request, session, state, user, plan, errors=errors, status_code=409)
    session.commit()
    response = RedirectResponse(plan_url(plan), status_code=303)
    flash(response, request, N_("The offers are made: the experts are notified."), "success")
    return response
