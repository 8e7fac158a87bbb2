"""Expert profiles over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.core import policy
from service.core.experts import update_profile, view_for
from service.core.search import search_experts
from service.core.search_vectors import search_embed
from service.deps import (
    CurrentUser,
    ReaderDep,
    RequireExpert,
    RequireRosterReader,
    RequireStaff,
    SessionDep,
    StateDep,
)
from service.errors import NotFound
from service.repos import experts as experts_repo
from service.routes.pagination import PageDep, envelope
from service.routes.params import Id
from service.routes.search_params import SearchRequestDep
from service.schemas.experts import ExpertPage, ExpertProfileUpdate, ExpertRead
from service.schemas.search import SearchResults

router = APIRouter(prefix="/api/experts", tags=["experts"])


@router.get("", response_model=SearchResults)
def search(
    user: RequireRosterReader, reader: ReaderDep, state: StateDep, request: SearchRequestDep
) -> dict[str, Any]:
    """Searches the roster: ?q= text, ?country= ?residence= ?language= ?sector= ?mode=
    ?available= (now, YYYY-MM or a date) filters, with facet counts and highlights."""
    embed = search_embed(state.settings)
    return search_experts(state.search, reader=reader, request=request, embed=embed)


@router.get("/me", response_model=ExpertRead, response_model_exclude_unset=True)
def my_profile(user: RequireExpert, session: SessionDep) -> dict[str, Any]:
    """Gets the current expert's own profile, in full."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    return view_for(session, expert, reader=user)


@router.put("/me", response_model=ExpertRead, response_model_exclude_unset=True)
def save_my_profile(
    body: ExpertProfileUpdate, user: RequireExpert, session: SessionDep
) -> dict[str, Any]:
    """Replaces the current expert's profile."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    update_profile(session, expert=expert, actor=user, data=body)
    session.commit()
    return view_for(session, expert, reader=user)


@router.get("/roster", response_model=ExpertPage, response_model_exclude_unset=True)
def roster(user: RequireStaff, session: SessionDep, page: PageDep) -> dict[str, Any]:
    """Lists every expert, for coordinators."""
    experts, total = experts_repo.list_experts(session, offset=page.offset, limit=page.size)
    items = [view_for(session, e, reader=user) for e in experts]
    return envelope(items, total=total, page=page)


@router.get("/{expert_id}", response_model=ExpertRead, response_model_exclude_unset=True)
def get_expert(
    expert_id: Id, user: CurrentUser, reader: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    """Gets an expert as the caller may see them; hidden profiles are simply not found."""
    expert, view = policy.readable_expert(reader, experts_repo.get_expert(session, expert_id))
    return view_for(session, expert, reader=user, view=view)
