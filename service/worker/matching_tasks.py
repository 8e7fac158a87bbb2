"""Matching and search work for the worker: re-match after a change, drain the search outbox."""

from __future__ import annotations

import threading

from sqlmodel import Session

from service.core import changes
from service.core.indexing import drain_outbox
from service.core.matching import (
    MatchingEngine,
    load_engine,
    needs_touched_by,
    rematch_expert,
    rematch_need,
)
from service.state import AppState
from service.worker.queue import JobContext, enqueue, register_handler

REMATCH_NEED = "rematch_need"
REMATCH_EXPERT = "rematch_expert"
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
        _schedule_need(context.session, need_id)


def _drain_search(context: JobContext) -> None:
    drain_outbox(context.state.engine, context.state.search)


def _schedule_need(session: Session, need_id: int) -> None:
    enqueue(
        session,
        kind=REMATCH_NEED,
        key=f"{REMATCH_NEED}:{need_id}",
        payload={"need_id": need_id},
        again=True,
    )


def _schedule_expert(session: Session, expert_id: int) -> None:
    enqueue(
        session,
        kind=REMATCH_EXPERT,
        key=f"{REMATCH_EXPERT}:{expert_id}",
        payload={"expert_id": expert_id},
        again=True,
    )


def install() -> None:
    """Registers the handlers, and the re-matching that follows every change."""
    register_handler(REMATCH_NEED, _rematch_need)
    register_handler(REMATCH_EXPERT, _rematch_expert)
    register_handler(DRAIN_SEARCH, _drain_search, every_s=5.0)
    changes.on_change("need", _schedule_need)
    changes.on_change("expert", _schedule_expert)
