"""The matcher inside the service: records from the models, vectors kept in the database,
the in-memory index kept in step, and proposals stored for coordinators.

Embedding and ranking run in the worker (or in a CLI command), never inside a web request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from matching.constraints import MatchPolicy
from matching.encoders import Encoder
from matching.fusion import FusionWeights
from matching.matcher import Matcher, StoredVector
from matching.records import Candidate, ExpertRecord, NeedRecord
from matching.texts import lexical_query_text
from service.config import Settings
from service.core import policy
from service.core.changes import expert_document
from service.core.indexing import reindex_all
from service.core.public_vectors import PublicEmbedder, PublicVector
from service.models import (
    Embedding,
    Engagement,
    EngagementStatus,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
    NeedStatus,
    ProposalOrigin,
    ProposalStatus,
)
from service.models.types import utcnow
from service.search import EXPERTS_STAFF, SearchBackend, outbox
from service.search.factory import make_search_backend

EXPERT = "expert"
# Engagements that hold an expert's hours.
COMMITTING = (EngagementStatus.ACCEPTED, EngagementStatus.CONFIRMED, EngagementStatus.ACTIVE)
WEEKS_PER_MONTH = 52 / 12
LEXICAL_POOL = 300
Progress = Callable[[int, int], None]


def expert_record(expert: ExpertProfile, *, committed_hours_per_week: float = 0.0) -> ExpertRecord:
    """Gets what the matcher knows of an expert: no name, no contact details."""
    confirmed = expert.availability_confirmed_at
    return ExpertRecord(
        expert_id=str(expert.id),
        headline=expert.headline,
        skills=list(expert.skills),
        bio=expert.bio,
        languages=expert.language_codes,
        modes=[m for m in expert.modes if m in ("remote", "mission", "hybrid")],  # type: ignore[misc]
        country_ties=[c for c in dict.fromkeys([expert.origin_country]) if c],
        timezone=expert.timezone or None,
        available_from=expert.available_from,
        available_until=expert.available_until,
        hours_per_week=expert.hours_per_month / WEEKS_PER_MONTH if expert.hours_per_month else None,
        committed_hours_per_week=committed_hours_per_week,
        active=expert.active,
        opted_out=expert.consent_matching_at is None,
        availability_confirmed_on=confirmed.date() if confirmed else None,
    )


def need_record(need: Need, institution: Institution | None) -> NeedRecord:
    """Gets what the matcher knows of a need."""
    end = None
    if need.start_until and need.duration_weeks:
        end = date.fromordinal(need.start_until.toordinal() + 7 * need.duration_weeks)
    return NeedRecord(
        need_id=str(need.id),
        title=need.title,
        description=need.description,
        required_skills=list(need.required_skills),
        languages=list(need.languages),
        mode=need.mode if need.mode in ("remote", "mission", "hybrid") else "remote",  # type: ignore[arg-type]
        widen_modes=need.widen_modes,
        country=institution.country if institution else None,
        timezone=(institution.timezone or None) if institution else None,
        live_sessions=need.live_sessions,
        start=need.start_from,
        end=end,
        hours_per_week=float(need.hours_per_week) if need.hours_per_week else None,
    )


def committed_hours(session: Session) -> dict[int, float]:
    """Sums the weekly hours each expert has already promised to running engagements."""
    statement = (
        select(Engagement.expert_id, func.sum(func.coalesce(Need.hours_per_week, 0)))
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .where(col(Engagement.status).in_(COMMITTING), col(Engagement.expert_id).is_not(None))
        .group_by(col(Engagement.expert_id))
    )
    return {
        int(expert_id): float(hours or 0)
        for expert_id, hours in session.exec(statement)
        if expert_id is not None
    }


@dataclass(frozen=True)
class SyncResult:
    indexed: int
    embedded: int
    removed: int


class MatchingEngine:
    """One matcher for the process: its index mirrors the experts and vectors of the database."""

    def __init__(
        self,
        encoder: Encoder,
        *,
        today: Callable[[], date] | None = None,
        weights_for: Callable[[str], FusionWeights] = FusionWeights.for_language,
        policy: MatchPolicy | None = None,
        search_query_model: str | None = None,
    ) -> None:
        self.matcher = Matcher(
            encoder,
            policy=policy,
            today=today or (lambda: datetime.now(UTC).date()),
            weights_for=weights_for,
        )
        self.model = encoder.name
        self.version = self.matcher.version
        # Ranking reads the index while a sync may write it.
        self.lock = threading.RLock()
        # Embeds what institutions may read of each expert, for their search index.
        self.public = (
            PublicEmbedder.for_encoder(encoder, search_query_model) if search_query_model else None
        )

    def sync(
        self, engine: Engine, *, batch_size: int = 64, progress: Progress | None = None
    ) -> SyncResult:
        """Brings the index up to date: reuses stored vectors, embeds what changed, in batches.

        Each batch is committed, so an interrupted run resumes where it stopped.
        """
        with Session(engine, expire_on_commit=False) as session:
            experts = list(session.exec(select(ExpertProfile).order_by(col(ExpertProfile.id))))
            hours = committed_hours(session)
            stored = self._stored_vectors(session)
        records = [
            expert_record(e, committed_hours_per_week=hours.get(e.id or 0, 0.0)) for e in experts
        ]
        embedded = 0
        with self.lock:
            current = {r.expert_id for r in records}
            stale = [
                expert_id for expert_id in list(self.matcher.index.ids) if expert_id not in current
            ]
            for expert_id in stale:
                self.matcher.remove(expert_id)
        public_stored: dict[int, str] = {}
        if self.public is not None:
            with Session(engine) as session:
                public_stored = self.public.stored(session, [e.id or 0 for e in experts])
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            with self.lock:
                computed = self.matcher.index_experts(chunk, stored)
            public = self.public.embed_changed(chunk, public_stored) if self.public else {}
            if computed or public:
                self._store(engine, computed, public)
                embedded += len(computed)
            if progress is not None:
                progress(min(start + batch_size, len(records)), len(records))
        return SyncResult(indexed=len(records), embedded=embedded, removed=len(stale))

    def _stored_vectors(self, session: Session) -> dict[str, StoredVector]:
        rows = session.exec(
            select(Embedding).where(Embedding.owner_type == EXPERT, Embedding.model == self.model)
        )
        return {
            str(row.owner_id): StoredVector(
                row.content_hash, row.model_version, np.frombuffer(row.vector, dtype=np.float32)
            )
            for row in rows
        }

    def _store(
        self,
        engine: Engine,
        computed: dict[str, StoredVector],
        public: dict[int, PublicVector] | None = None,
    ) -> None:
        with Session(engine) as session:
            ids = [int(expert_id) for expert_id in computed]
            existing = {
                row.owner_id: row
                for row in session.exec(
                    select(Embedding).where(
                        Embedding.owner_type == EXPERT,
                        Embedding.model == self.model,
                        col(Embedding.owner_id).in_(ids),
                    )
                )
            }
            now = utcnow()
            for expert_id, vector in computed.items():
                row = existing.get(int(expert_id)) or Embedding(
                    owner_type=EXPERT,
                    owner_id=int(expert_id),
                    model=self.model,
                    model_version="",
                    content_hash="",
                    dim=0,
                    vector=b"",
                )
                row.model_version = vector.version
                row.content_hash = vector.content_hash
                row.dim = int(vector.vector.shape[0])
                row.vector = np.asarray(vector.vector, dtype=np.float32).tobytes()
                row.updated_at = now
                session.add(row)
            if public and self.public is not None:
                self.public.store(session, public)
            session.flush()
            # The search documents carry a slice of these vectors (hybrid search) and the
            # public vectors: refresh them.
            for owner_id in sorted({*ids, *(public or {})}):
                expert = session.get(ExpertProfile, owner_id)
                if expert is not None:
                    outbox.sync_expert(session, expert=expert_document(session, expert))
            session.commit()

    def rank_need(
        self, need: NeedRecord, *, search: SearchBackend | None, k: int, exclude: Iterable[str] = ()
    ) -> list[Candidate]:
        """Ranks experts for a need: meaning, keywords from the search backend, hard facts."""
        lexical: dict[str, float] | None = None
        if search is not None:
            scores = search.lexical_scores(EXPERTS_STAFF, lexical_query_text(need), LEXICAL_POOL)
            lexical = {str(doc_id): score for doc_id, score in scores}
        with self.lock:
            return self.matcher.rank_experts(need, lexical_scores=lexical, k=k, exclude=exclude)

    def rank_for_expert(
        self, expert: ExpertRecord, needs: Sequence[NeedRecord], *, k: int
    ) -> list[Candidate]:
        """Ranks open needs for an expert ("Needs for you")."""
        with self.lock:
            return self.matcher.rank_needs(expert, needs, k=k)


def rematch_need(
    session: Session,
    matching: MatchingEngine,
    *,
    need_id: int,
    search: SearchBackend | None,
    k: int = 10,
) -> list[MatchProposal]:
    """Recomputes a need's proposals: new candidates are added, decided ones are kept as they
    were decided, and pending ones the matcher no longer ranks are withdrawn (no commit)."""
    need = session.get(Need, need_id)
    if need is None:
        return []
    existing = {
        p.expert_id: p
        for p in session.exec(select(MatchProposal).where(MatchProposal.need_id == need_id))
    }
    if need.status != NeedStatus.OPEN:
        return list(existing.values())
    institution = session.get(Institution, need.institution_id)
    candidates = [
        candidate
        for candidate in matching.rank_need(need_record(need, institution), search=search, k=k)
        # Only experts institutions may be proposed (the policy); the others stay withdrawn.
        if _open_to_institutions(session, int(candidate.expert_id))
    ]
    now = utcnow()
    ranked_ids = set()
    for rank, candidate in enumerate(candidates, start=1):
        expert_id = int(candidate.expert_id)
        ranked_ids.add(expert_id)
        proposal = existing.get(expert_id) or MatchProposal(need_id=need_id, expert_id=expert_id)
        if proposal.status == ProposalStatus.WITHDRAWN:
            proposal.status = ProposalStatus.PROPOSED
        proposal.rank = rank
        proposal.score = candidate.score
        proposal.components = candidate.components
        proposal.explanation = candidate.to_dict()["explanation"]
        proposal.model_version = matching.version
        proposal.updated_at = now
        session.add(proposal)
        existing[expert_id] = proposal
    for expert_id, proposal in existing.items():
        if (
            expert_id not in ranked_ids
            and proposal.status == ProposalStatus.PROPOSED
            and proposal.origin == ProposalOrigin.NEED
        ):
            proposal.status = ProposalStatus.WITHDRAWN
            proposal.rank = 0
            proposal.updated_at = now
            session.add(proposal)
    return sorted(existing.values(), key=lambda p: (p.rank == 0, p.rank))


def _open_to_institutions(session: Session, expert_id: int) -> bool:
    expert = session.get(ExpertProfile, expert_id)
    return expert is not None and policy.open_to_institutions(expert)


def open_need_ids(session: Session) -> list[int]:
    """Lists the needs open to proposals."""
    statement = select(Need.id).where(Need.status == NeedStatus.OPEN).order_by(col(Need.id))
    return [int(need_id) for need_id in session.exec(statement) if need_id is not None]


def rematch_open_needs(
    engine: Engine,
    matching: MatchingEngine,
    *,
    search: SearchBackend | None,
    k: int = 10,
    progress: Progress | None = None,
) -> int:
    """Recomputes the proposals of every open need, one commit per need; returns the count."""
    with Session(engine) as session:
        need_ids = open_need_ids(session)
    for done, need_id in enumerate(need_ids, start=1):
        with Session(engine) as session:
            rematch_need(session, matching, need_id=need_id, search=search, k=k)
            session.commit()
        if progress is not None:
            progress(done, len(need_ids))
    return len(need_ids)


def rematch_expert(
    session: Session, matching: MatchingEngine, *, expert_id: int, k: int = 5
) -> list[MatchProposal]:
    """Recomputes the open needs an expert fits best ("Needs for you"), stored as proposals of
    expert origin; the need-side proposals and every decision are left as they are (no commit)."""
    expert = session.get(ExpertProfile, expert_id)
    if expert is None:
        return []
    needs = list(session.exec(select(Need).where(Need.status == NeedStatus.OPEN)))
    institution_ids = {n.institution_id for n in needs}
    institutions = {
        i.id: i
        for i in session.exec(select(Institution).where(col(Institution.id).in_(institution_ids)))
    }
    hours = committed_hours(session).get(expert_id, 0.0)
    record = expert_record(expert, committed_hours_per_week=hours)
    ranked = matching.rank_for_expert(
        record, [need_record(n, institutions.get(n.institution_id)) for n in needs], k=k
    )
    existing = {
        p.need_id: p
        for p in session.exec(select(MatchProposal).where(MatchProposal.expert_id == expert_id))
    }
    now = utcnow()
    kept: set[int] = set()
    for candidate in ranked:
        need_id = int(candidate.need_id)
        kept.add(need_id)
        proposal = existing.get(need_id) or MatchProposal(
            need_id=need_id, expert_id=expert_id, origin=ProposalOrigin.EXPERT
        )
        if proposal.status == ProposalStatus.WITHDRAWN:
            proposal.status = ProposalStatus.PROPOSED
        proposal.score = candidate.score
        proposal.components = candidate.components
        proposal.explanation = candidate.to_dict()["explanation"]
        proposal.model_version = matching.version
        proposal.updated_at = now
        session.add(proposal)
        existing[need_id] = proposal
    for need_id, proposal in existing.items():
        if (
            need_id not in kept
            and proposal.origin == ProposalOrigin.EXPERT
            and proposal.status == ProposalStatus.PROPOSED
        ):
            proposal.status = ProposalStatus.WITHDRAWN
            proposal.updated_at = now
            session.add(proposal)
    return [existing[need_id] for need_id in (int(c.need_id) for c in ranked)]


def needs_for_expert(session: Session, *, expert_id: int, limit: int = 10) -> list[MatchProposal]:
    """Lists the open needs ranked for an expert, best first, with their explanations."""
    statement = (
        select(MatchProposal)
        .join(Need, col(Need.id) == col(MatchProposal.need_id))
        .where(
            MatchProposal.expert_id == expert_id,
            Need.status == NeedStatus.OPEN,
            col(MatchProposal.status).not_in([ProposalStatus.WITHDRAWN, ProposalStatus.REJECTED]),
        )
        .order_by(col(MatchProposal.score).desc())
        .limit(limit)
    )
    return list(session.exec(statement))


def load_engine(settings: Settings) -> MatchingEngine:
    """Loads the configured encoder into a matching engine (seconds: call it once)."""
    from matching.encoders import load_encoder

    return MatchingEngine(
        load_encoder(settings.embedding_model, threads=settings.embedding_threads),
        search_query_model=settings.search_query_model,
    )


def refresh_everything(
    engine: Engine,
    settings: Settings,
    *,
    matching: MatchingEngine | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MatchingEngine:
    """Rebuilds the search indexes, embeds what changed, and re-matches every open need:
    what follows a bulk load (the demo world, an import)."""
    search = make_search_backend(settings, engine)
    try:
        reindex_all(engine, search)
        matching = matching or load_engine(settings)
        matching.sync(engine, progress=(lambda d, t: progress("embed", d, t)) if progress else None)
        rematch_open_needs(
            engine,
            matching,
            search=search,
            k=settings.proposals_per_need,
            progress=(lambda d, t: progress("match", d, t)) if progress else None,
        )
    finally:
        search.close()
    return matching
