"""Matching and search work for the worker: re-match after a change, drain the search outbox."""

from __future__ import annotations

import threading

from service.core import changes
from service.core.indexing import drain_outbox, reindex_all
from service.core.jobs import EMBED_SKILLS, REINDEX_SEARCH, REMATCH_EXPERT, REMATCH_NEED
from service.core.matching import (
    MatchingEngine,
    load_engine,
    needs_touched_by,
    rematch_expert,
    rematch_need,
)
from service.core.need_vectors import embed_need
from service.core.skill_merging import embed_asked_skills
from service.state import AppState
from service.worker.queue import JobContext, register_handler

DRAIN_SEARCH = "drain_search_outbox"
_loading = threading.Lock()


def matching_engine(state: AppState) -> MatchingEngine:
    """Gets the process's matching engine, loading the encoder on first use."""
    with _loading:
        if state.matching is None:
            state.matching = load_engine(state.settings)
    return state.matching


def _rematch_need(context: JobContext) -> None:
    matching = matching_engine(context.state)
    matching.refresh(context.state.engine)
    embed_need(context.session, matching.needs, int(context.payload["need_id"]))
    rematch_need(
        context.session,
        matching,
        need_id=int(context.payload["need_id"]),
        search=context.state.search,
        k=context.settings.proposals_per_need,
    )


def _rematch_expert(context: JobContext) -> None:
    matching = matching_engine(context.state)
    expert_id = int(context.payload["expert_id"])
    matching.refresh(context.state.engine, expert_ids=[expert_id])
    rematch_expert(context.session, matching, expert_id=expert_id)
    # The needs the expert may have entered or left the proposals of are ranked again.
    for need_id in needs_touched_by(context.session, expert_id=expert_id):
        changes.queue_need_rematch(context.session, need_id=need_id)


def _embed_skills(context: JobContext) -> None:
    matching = matching_engine(context.state)
    embed_asked_skills(
        context.session, model=matching.model, encode=matching.matcher.encode_phrases
    )


def _drain_search(context: JobContext) -> None:
    drain_outbox(context.state.engine, context.state.search)


def _reindex_search(context: JobContext) -> None:
    reindex_all(context.state.engine, context.state.search)


def install() -> None:
    """Registers the handlers of the matching and search jobs."""
    register_handler(REMATCH_NEED, _rematch_need)
    register_handler(REMATCH_EXPERT, _rematch_expert)
    register_handler(EMBED_SKILLS, _embed_skills)
    register_handler(DRAIN_SEARCH, _drain_search, every_s=5.0)
    register_handler(REINDEX_SEARCH, _reindex_search)
