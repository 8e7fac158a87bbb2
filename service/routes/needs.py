"""Needs over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.core.needs import edit_need, editable_need, post_need, readable_need
from service.core.search import search_needs
from service.core.search_vectors import search_embed
from service.core.suggestions import suggest_expert
from service.deps import (
    CurrentUser,
    MemberInstitution,
    ReaderDep,
    SessionDep,
    StateDep,
)
from service.repos import needs as needs_repo
from service.routes.pagination import PageDep, PageOf, envelope
from service.routes.params import Id
from service.routes.search_params import SearchRequestDep
from service.schemas.errors import ConflictBody
from service.schemas.needs import NeedCreate, NeedPublic, NeedWrite
from service.schemas.search import SearchResults
from service.schemas.suggestions import SuggestionCreate, SuggestionPublic

router = APIRouter(prefix="/api/needs", tags=["needs"])


def _public(need: object) -> dict[str, Any]:
    return NeedPublic.model_validate(need).model_dump(mode="json")


@router.get("", response_model=SearchResults)
def search(user: CurrentUser, state: StateDep, request: SearchRequestDep) -> dict[str, Any]:
    """Searches the open needs: ?q= text, ?country= ?language= ?sector= ?mode= ?start=
    (now, YYYY-MM or a date) filters, with facet counts and highlights."""
    embed = search_embed(state.settings)
    return search_needs(state.search, request=request, embed=embed)


@router.get("/mine", response_model=PageOf[NeedPublic])
def my_needs(institution: MemberInstitution, session: SessionDep, page: PageDep) -> dict[str, Any]:
    """Lists the needs of the member's institution, whatever their status, less the drafts it
    discarded."""
    rows, total = needs_repo.institution_needs(
        session, institution.id or 0, offset=page.offset, limit=page.size
    )
    return envelope([_public(row) for row in rows], total=total, page=page)


@router.post("", status_code=201, response_model=NeedPublic)
def create_need(
    body: NeedCreate, user: CurrentUser, institution: MemberInstitution, session: SessionDep
) -> dict[str, Any]:
    """Posts a need for the caller's institution, open or a draft (only a draft until the
    institution is verified); it is filled or closed later, never born so."""
    need = post_need(session, institution=institution, author=user, data=body)
    session.commit()
    return _public(need)


@router.get("/{need_id}", response_model=NeedPublic)
def get_need(need_id: Id, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Gets a need the caller may see."""
    return _public(readable_need(session, need_id=need_id, reader=user))


@router.put("/{need_id}", response_model=NeedPublic)
def update_need(
    need_id: Id, body: NeedWrite, user: CurrentUser, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    """Replaces a need; only its institution's members and coordinators may (drafts only
    until the institution is verified)."""
    need = editable_need(session, need_id=need_id, editor=user)
    edit_need(session, need=need, actor=user, data=body, settings=state.settings)
    session.commit()
    return _public(need)


@router.post(
    "/{need_id}/suggestions",
    status_code=201,
    response_model=SuggestionPublic,
    responses={
        200: {"model": SuggestionPublic, "description": "Already suggested: nothing changed."},
        409: {"model": ConflictBody, "description": "The need is not open."},
    },
)
def suggest_expert_for_need(
    need_id: Id,
    body: SuggestionCreate,
    user: CurrentUser,
    reader: ReaderDep,
    session: SessionDep,
    state: StateDep,
    response: Response,
) -> dict[str, Any]:
    """Suggests an expert found in the roster for one of the caller's institution's open needs
    (verified institutions only); the coordinators are told and may offer them the engagement.

    201 when recorded, 200 when the expert was already suggested for the need (nothing
    changes); 404 for a need not the institution's or an expert it may not see in the roster;
    409 when the need is not open; 422 naming the field for a bad body."""
    suggestion, new = suggest_expert(
        session,
        reader=reader,
        actor=user,
        need_id=need_id,
        expert_id=body.expert_id,
        settings=state.settings,
    )
    session.commit()
    if not new:
        response.status_code = 200
    return SuggestionPublic(
        need_id=suggestion.need_id,
        expert_id=suggestion.expert_id,
        suggested_at=suggestion.created_at,
    ).model_dump(mode="json")
