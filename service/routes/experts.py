"""Expert profiles over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.core.experts import update_profile, view_for
from service.core.search import search_experts
from service.core.search_vectors import query_embedder
from service.deps import CurrentUser, RequireExpert, RequireStaff, SessionDep, StateDep
from service.errors import NotFound
from service.models import Role, Visibility
from service.repos import experts as experts_repo
from service.routes.pagination import PageDep, envelope
from service.routes.search_params import SearchRequestDep
from service.schemas.experts import ExpertProfileUpdate

router = APIRouter(prefix="/api/experts", tags=["experts"])


@router.get("")
def search(user: CurrentUser, state: StateDep, request: SearchRequestDep) -> dict[str, Any]:
    """Searches the roster: ?q= text, ?country= ?residence= ?language= ?sector= ?mode=
    ?available= (now, YYYY-MM or a date) filters, with facet counts and highlights."""
    embed = query_embedder(state.settings).embed
    return search_experts(state.search, reader=user, request=request, embed=embed)


@router.get("/me")
def my_profile(user: RequireExpert, session: SessionDep) -> dict[str, Any]:
    """Gets the current expert's own profile, in full."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    return view_for(expert, email=user.email, reader=user)


@router.put("/me")
def save_my_profile(
    body: ExpertProfileUpdate, user: RequireExpert, session: SessionDep
) -> dict[str, Any]:
    """Replaces the current expert's profile."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    update_profile(session, expert=expert, actor=user, data=body)
    session.commit()
    return view_for(expert, email=user.email, reader=user)


@router.get("/roster")
def roster(user: RequireStaff, session: SessionDep, page: PageDep) -> dict[str, Any]:
    """Lists every expert, for coordinators."""
    experts, total = experts_repo.list_experts(session, offset=page.offset, limit=page.size)
    items = [
        view_for(e, email=experts_repo.get_expert_email(session, e), reader=user) for e in experts
    ]
    return envelope(items, total=total, page=page)


@router.get("/{expert_id}")
def get_expert(expert_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets an expert as the caller may see them; hidden profiles are simply not found."""
    expert = experts_repo.get_expert(session, expert_id)
    visible = expert is not None and (
        user.is_staff
        or expert.user_id == user.id
        or (
            user.role == Role.INSTITUTION
            and expert.active
            and expert.visibility == Visibility.INSTITUTIONS
        )
    )
    if expert is None or not visible:
        raise NotFound("This expert does not exist.")
    return view_for(expert, email=experts_repo.get_expert_email(session, expert), reader=user)
