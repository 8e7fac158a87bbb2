"""The matcher inside the service: records from the models, vectors kept in the database,
the in-memory index kept in step, and proposals stored for coordinators.

Embedding and ranking run in the worker (or in a CLI command), never inside a web request.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, bindparam
from sqlalchemy import Select as SaSelect
from sqlalchemy import select as table_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from matching.constraints import MatchPolicy
from matching.encoders import Encoder
from matching.fusion import FusionWeights
from matching.matcher import Matcher, StoredVector
from matching.pool import POOL, SKILL_POOL, PoolRanker, pool_dimensions
from matching.records import Candidate, ExpertRecord, NeedRecord
from matching.texts import lexical_query_text
from service.config import Settings
from service.core import policy
from service.core.changes import expert_document
from service.core.indexing import reindex_all
from service.core.match_groups import PARTITION_FLOOR, SharedPartitions
from service.core.match_pool import pool_fingerprints, prune_pool, send_to_pool
from service.core.need_vectors import embed_open_needs
from service.core.proposals import NOT_FOR_YOU
from service.core.public_vectors import NeedEmbedder, PublicEmbedder
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
from service.repos import proposals as proposals_repo
from service.repos.embeddings import upsert_vectors
from service.repos.needs import open_need_ids
from service.repos.upserts import table_of
from service.search import EXPERTS_STAFF, SearchBackend, outbox
from service.search.factory import make_search_backend
from service.search.meili_pool import MeiliCandidatePool

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


def committed_hours(session: Session, expert_ids: Iterable[int] | None = None) -> dict[int, float]:
    """Sums the weekly hours each expert (or each of some experts) has already promised to
    running engagements."""
    statement = (
        select(Engagement.expert_id, func.sum(func.coalesce(Need.hours_per_week, 0)))
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .where(col(Engagement.status).in_(COMMITTING), col(Engagement.expert_id).is_not(None))
        .group_by(col(Engagement.expert_id))
    )
    if expert_ids is not None:
        statement = statement.where(col(Engagement.expert_id).in_(list(expert_ids)))
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


# Experts are read from the database this many at a time: never every row (or every vector,
# 10 kB each) at once.
READ_CHUNK = 1000
# Changes stamped up to this long before a refresh began are looked at again by the next one: a
# transaction that stamped a row but committed later, or another machine's clock, still lands.
WATERMARK_OVERLAP = timedelta(seconds=60)
# A stamped row the index has read, by where the stamp comes from and the row's key, with the
# stamp it had then: a row of that window still carrying it is not read again.
StampKey = tuple[str, int]


class MatchingEngine:
    """One matcher for the process: its index mirrors the experts and vectors of the database.

    `sync` reads everything (start-up); `refresh` reads only what changed since the last look
    (the experts a job names, and every expert, vector or engagement stamped since then, by
    this process or any other), so a re-matching job costs what changed, not the roster.
    """

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
        # Every change stamped before this moment is in the index (None: nothing read yet).
        self.seen_until: datetime | None = None
        self.overlap = WATERMARK_OVERLAP
        # The rows stamped since `seen_until` that the index already holds, with their stamps:
        # for a minute after a bulk write every job's look back finds the whole write, and
        # reads only the rows it has not seen (or that changed again, or committed late).
        self.seen: dict[StampKey, datetime] = {}
        # One read at a time: a slower read must not file older rows under newer stamps.
        self.reading = threading.RLock()
        # Embeds what institutions may read of each expert, for their search index.
        self.public = (
            PublicEmbedder.for_encoder(encoder, search_query_model) if search_query_model else None
        )
        # Embeds the searchable text of each need, for the needs index.
        self.needs = (
            NeedEmbedder.for_encoder(encoder, search_query_model) if search_query_model else None
        )
        # With a candidate pool (Meilisearch), needs are ranked from its candidates.
        self.pool: MeiliCandidatePool | None = None
        self.ranker: PoolRanker | None = None
        # The pool's partitions, shared with the other workers through Meilisearch.
        self.groups: SharedPartitions | None = None

    def use_pool(
        self,
        pool: MeiliCandidatePool,
        *,
        size: int = POOL,
        skills: int = SKILL_POOL,
        partition_floor: int | None = PARTITION_FLOOR,
    ) -> None:
        """Ranks needs from the pool's candidates from now on; `sync` keeps the pool current
        and, a pool sharing its partitions (`versioned`), partitioned from `partition_floor`
        experts (None: never)."""
        self.pool = pool
        self.ranker = PoolRanker(self.matcher, pool, size=size, skills=skills)
        self.groups = (
            SharedPartitions(
                pool,
                floor=partition_floor,
                dimensions=pool_dimensions(self.matcher) - 1,
                lock=self.lock,
            )
            if pool.versioned and partition_floor is not None
            else None
        )

    def sync(
        self, engine: Engine, *, batch_size: int = 64, progress: Progress | None = None
    ) -> SyncResult:
        """Brings the index up to date: reuses stored vectors, embeds what changed, in batches.

        Experts and vectors are read a chunk at a time; each embedded batch is committed, so an
        interrupted run resumes where it stopped.
        """
        with self.reading:
            return self._sync(engine, batch_size=batch_size, progress=progress)

    def _sync(self, engine: Engine, *, batch_size: int, progress: Progress | None) -> SyncResult:
        started = utcnow()
        with Session(engine) as session:
            # Read before the rows: what changes later carries a newer stamp.
            stamps = _changed_stamps(session, self.model, started - self.overlap)
            ids = [
                int(i)
                for i in session.exec(select(ExpertProfile.id).order_by(col(ExpertProfile.id)))
                if i is not None
            ]
            hours = committed_hours(session)
        with self.lock:
            current = {str(i) for i in ids}
            stale = [e for e in list(self.matcher.index.ids) if e not in current]
            for expert_id in stale:
                self.matcher.remove(expert_id)
            # One allocation for the whole roster: grown by doubling, the index held its old
            # and new rows together at each step.
            self.matcher.reserve(len(ids))
        known = pool_fingerprints(self.pool) if self.pool is not None else {}
        if self.groups is not None:
            # File what is sent below under the stored centroids, if any.
            self.groups.adopt()
        embedded = 0
        done = 0
        for begin in range(0, len(ids), READ_CHUNK):
            chunk = ids[begin : begin + READ_CHUNK]
            with Session(engine) as session:
                experts = session.exec(
                    select(ExpertProfile)
                    .where(col(ExpertProfile.id) >= chunk[0], col(ExpertProfile.id) <= chunk[-1])
                    .order_by(col(ExpertProfile.id))
                ).all()
                stored = self._stored_vectors(session, low=chunk[0], high=chunk[-1])
            records = [
                expert_record(e, committed_hours_per_week=hours.get(e.id or 0, 0.0))
                for e in experts
            ]
            for start in range(0, len(records), batch_size):
                embedded += self._index(engine, records[start : start + batch_size], stored)
                done += len(records[start : start + batch_size])
                if progress is not None:
                    progress(done, len(ids))
            self._send_to_pool(experts, records, known=known)
            del experts, stored, records
        with self.lock:
            # Ranking from the pool standardises on the moments across blocks.
            self.matcher.prepare_population(joint=self.ranker is not None)
            if self.pool is not None:
                prune_pool(self.pool, self.matcher, known)
        if self.groups is not None:
            # Every expert's row is indexed: train centroids if due, file every document.
            self.groups.settle(self.matcher)
        # Open needs posted before needs search had meaning get their search vector too.
        with Session(engine) as session:
            embed_open_needs(session, self.needs)
        self._advance(started, stamps)
        return SyncResult(indexed=len(ids), embedded=embedded, removed=len(stale))

    def refresh(self, engine: Engine, *, expert_ids: Iterable[int] = ()) -> SyncResult:
        """Reads only what changed since the last sync or refresh (and the experts named):
        the index then equals what a full `sync` would build."""
        with self.reading:
            if self.seen_until is None:
                return self._sync(engine, batch_size=64, progress=None)
            return self._refresh(engine, expert_ids=expert_ids, since=self.seen_until)

    def _refresh(self, engine: Engine, *, expert_ids: Iterable[int], since: datetime) -> SyncResult:
        started = utcnow()
        with Session(engine) as session:
            stamps = _changed_stamps(session, self.model, since)
            changed = {int(i) for i in expert_ids} | {
                expert_id
                for key, (expert_id, stamp) in stamps.items()
                if self.seen.get(key) != stamp
            }
            experts = (
                session.exec(
                    select(ExpertProfile).where(col(ExpertProfile.id).in_(sorted(changed)))
                ).all()
                if changed
                else []
            )
            hours = committed_hours(session, changed) if changed else {}
            stored = self._stored_vectors(session, ids=changed) if changed else {}
            total = session.exec(select(func.count()).select_from(ExpertProfile)).one()
        records = [
            expert_record(e, committed_hours_per_week=hours.get(e.id or 0, 0.0)) for e in experts
        ]
        found = {r.expert_id for r in records}
        with self.lock:
            gone = [str(i) for i in changed if str(i) not in found and str(i) in self.matcher.index]
            for expert_id in gone:
                self.matcher.remove(expert_id)
        embedded = self._index(engine, records, stored)
        removed = len(gone)
        self._send_to_pool(experts, records, removed=gone)
        if len(self.matcher) != total:
            # A row removed (or added) without a stamp: compare ids, read only the difference.
            removed += self._reconcile(engine)
        if self.groups is not None:
            self.groups.follow()
        self._advance(started, stamps)
        return SyncResult(indexed=len(records), embedded=embedded, removed=removed)

    def _index(
        self, engine: Engine, records: list[ExpertRecord], stored: dict[str, StoredVector]
    ) -> int:
        """Indexes records (embedding those without a current stored vector, then storing
        the new vectors); returns how many were embedded."""
        if not records:
            return 0
        with self.lock:
            computed = self.matcher.index_experts(records, stored)
        public = self._embed_public(engine, records)
        if computed or public:
            self._store(engine, computed, public)
        return len(computed)

    def _embed_public(self, engine: Engine, records: list[ExpertRecord]) -> dict[int, StoredVector]:
        """Embeds the public text (headline, skills) of the experts whose text changed."""
        if self.public is None:
            return {}
        with Session(engine) as session:
            known = self.public.stored(session, [int(r.expert_id) for r in records])
        return self.public.embed_changed(records, known)

    def _reconcile(self, engine: Engine) -> int:
        with Session(engine) as session:
            ids = {str(i) for i in session.exec(select(ExpertProfile.id))}
        with self.lock:
            extra = [e for e in list(self.matcher.index.ids) if e not in ids]
            for expert_id in extra:
                self.matcher.remove(expert_id)
            missing = [int(i) for i in ids if i not in self.matcher.index]
        for begin in range(0, len(missing), READ_CHUNK):
            chunk = missing[begin : begin + READ_CHUNK]
            with Session(engine) as session:
                experts = session.exec(
                    select(ExpertProfile).where(col(ExpertProfile.id).in_(chunk))
                ).all()
                hours = committed_hours(session, chunk)
                stored = self._stored_vectors(session, ids=chunk)
            records = [
                expert_record(e, committed_hours_per_week=hours.get(e.id or 0, 0.0))
                for e in experts
            ]
            self._index(engine, records, stored)
            self._send_to_pool(experts, records)
        if extra and self.pool is not None:
            self._send_to_pool([], [], removed=extra)
        return len(extra)

    def _send_to_pool(
        self,
        experts: Sequence[ExpertProfile],
        records: Sequence[ExpertRecord],
        *,
        removed: Sequence[str] = (),
        known: dict[str, str] | None = None,
    ) -> None:
        """Keeps the candidate pool (when there is one) in step with what was just indexed."""
        if self.pool is None or self.ranker is None:
            return
        with self.lock:
            send_to_pool(self.pool, self.matcher, experts, records, known=known)
            self.pool.delete(list(removed))

    def _advance(self, started: datetime, stamps: dict[StampKey, tuple[int, datetime]]) -> None:
        """Moves the watermark to the start of this read less the overlap, and remembers the
        rows this read found stamped in that window (read now, or already held)."""
        mark = started - self.overlap
        with self.lock:
            if self.seen_until is None or mark > self.seen_until:
                self.seen_until = mark
            until = self.seen_until
            self.seen = {key: stamp for key, (_, stamp) in stamps.items() if stamp >= until}

    def _stored_vectors(
        self,
        session: Session,
        *,
        ids: Iterable[int] | None = None,
        low: int | None = None,
        high: int | None = None,
    ) -> dict[str, StoredVector]:
        """Stored vectors of some experts (by ids, or an id range), columns only: no ORM rows."""
        statement = select(
            Embedding.owner_id, Embedding.content_hash, Embedding.model_version, Embedding.vector
        ).where(Embedding.owner_type == EXPERT, Embedding.model == self.model)
        if ids is not None:
            statement = statement.where(col(Embedding.owner_id).in_(sorted(ids)))
        if low is not None and high is not None:
            statement = statement.where(
                col(Embedding.owner_id) >= low, col(Embedding.owner_id) <= high
            )
        return {
            str(owner_id): StoredVector(
                content_hash, model_version, np.frombuffer(vector, dtype=np.float32)
            )
            for owner_id, content_hash, model_version, vector in session.exec(statement)
        }

    def _store(
        self,
        engine: Engine,
        computed: dict[str, StoredVector],
        public: dict[int, StoredVector] | None = None,
    ) -> None:
        with Session(engine) as session:
            ids = [int(expert_id) for expert_id in computed]
            upsert_vectors(
                session,
                owner_type=EXPERT,
                model=self.model,
                vectors={int(expert_id): vector for expert_id, vector in computed.items()},
            )
            if public and self.public is not None:
                self.public.store(session, public)
            session.flush()
            # The search documents carry a slice of these vectors (hybrid search) and the
            # public vectors: refresh them. Each profile is read FOR SHARE: a request saving it
            # now has queued its own document first, so this one waits for that commit and
            # reads what it saved (or the request waits for this commit); the outbox's newest
            # document is then never built from an older read.
            for owner_id in sorted({*ids, *(public or {})}):
                expert = session.get(ExpertProfile, owner_id, with_for_update={"read": True})
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
            if self.ranker is not None:
                return self.ranker.rank_experts(need, lexical_scores=lexical, k=k, exclude=exclude)
            return self.matcher.rank_experts(need, lexical_scores=lexical, k=k, exclude=exclude)

    def rank_for_expert(
        self, expert: ExpertRecord, needs: Sequence[NeedRecord], *, k: int
    ) -> list[Candidate]:
        """Ranks open needs for an expert ("Needs for you")."""
        with self.lock:
            return self.matcher.rank_needs(expert, needs, k=k)


def _changed_stamps(
    session: Session, model: str, since: datetime
) -> dict[StampKey, tuple[int, datetime]]:
    """Rows stamped since a moment that may change what the index holds of an expert (their
    profile, stored vector or committed hours): each by its source and key, with the expert it
    concerns and its stamp."""
    # One statement per stamp, each read through its index (an OR of the three scans the table).
    sources: list[tuple[str, Any]] = [
        (name, select(ExpertProfile.id, ExpertProfile.id, stamp).where(col(stamp) >= since))
        for name, stamp in (
            ("profile", ExpertProfile.updated_at),
            ("confirmed", ExpertProfile.availability_confirmed_at),
            ("consent", ExpertProfile.consent_matching_at),
        )
    ]
    sources.append(
        (
            "vector",
            select(Embedding.owner_id, Embedding.owner_id, Embedding.updated_at).where(
                Embedding.owner_type == EXPERT,
                Embedding.model == model,
                col(Embedding.updated_at) >= since,
            ),
        )
    )
    # Committed hours follow engagements, and the hours of the needs they are for: two
    # statements, so each reads its own stamp's index (one OR across two tables scans).
    sources.append(
        (
            "engagement",
            select(Engagement.expert_id, Engagement.id, Engagement.updated_at).where(
                col(Engagement.expert_id).is_not(None), col(Engagement.updated_at) >= since
            ),
        )
    )
    sources.append(
        (
            "engaged_need",
            select(Engagement.expert_id, Engagement.id, Need.updated_at)
            .join(Need, col(Need.id) == col(Engagement.need_id))
            .where(col(Engagement.expert_id).is_not(None), col(Need.updated_at) >= since),
        )
    )
    out: dict[StampKey, tuple[int, datetime]] = {}
    for name, statement in sources:
        for expert_id, key, stamp in session.exec(statement):
            if expert_id is not None and stamp is not None:
                out[(name, int(key))] = (int(expert_id), stamp)
    return out


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
    # One statement per kind of write, each conditional in the database: another worker's
    # job for this need, or an expert's job for one of its pairs, may have written since the
    # read above (a pair inserted meanwhile is updated, a decision made meanwhile is kept).
    proposals_repo.upsert_ranked_for_need(
        session,
        need_id=need_id,
        ranked=[
            {"expert_id": int(candidate.expert_id), "rank": rank, **_scoring(candidate, matching)}
            for rank, candidate in enumerate(candidates, start=1)
        ],
        now=now,
    )
    ranked_ids = [int(candidate.expert_id) for candidate in candidates]
    # The need no longer ranks these experts: its own pending proposals are withdrawn; one the
    # expert's "needs for you" holds stays, unranked, with the expert's side's score.
    proposals_repo.withdraw_unranked_for_need(session, need_id=need_id, ranked=ranked_ids, now=now)
    for expert_id, proposal in existing.items():
        if (
            expert_id not in ranked_ids
            and proposal.status == ProposalStatus.PROPOSED
            and proposal.origin == ProposalOrigin.EXPERT
            and proposal.rank != 0
        ):
            proposals_repo.unrank_held_by_expert(
                session,
                need_id=need_id,
                expert_id=expert_id,
                scoring=_score_for_expert(session, matching, expert_id, need, institution),
                now=now,
            )
        elif expert_id not in ranked_ids and proposal.status == ProposalStatus.APPROVED:
            # An offer the need no longer ranks keeps its place, with reasons read from the
            # need as it is now (its coordinator and expert see what changed).
            scoring = _score_for_expert(session, matching, expert_id, need, institution)
            if scoring is not None:
                proposals_repo.rescore_approved(
                    session, proposal_id=proposal.id or 0, scoring=scoring, now=now
                )
    stored = _proposals(session, col(MatchProposal.need_id) == need_id)
    return sorted(stored, key=lambda p: (p.rank == 0, p.rank))


def _proposals(session: Session, where: ColumnElement[bool]) -> list[MatchProposal]:
    """Reads proposals as stored now (the session's copies refreshed: they were written by
    statements, not through the session)."""
    statement = select(MatchProposal).where(where).execution_options(populate_existing=True)
    return list(session.exec(statement))


def _score_for_expert(
    session: Session,
    matching: MatchingEngine,
    expert_id: int,
    need: Need,
    institution: Institution | None,
) -> dict[str, Any] | None:
    """Gets the score and reasons the expert's side gives a pair it holds (what its job would
    store), or None when the expert no longer qualifies for the need (the pair is withdrawn)."""
    expert = session.get(ExpertProfile, expert_id)
    hours = committed_hours(session, [expert_id]).get(expert_id, 0.0)
    ranked = (
        matching.rank_for_expert(
            expert_record(expert, committed_hours_per_week=hours),
            [need_record(need, institution)],
            k=1,
        )
        if expert is not None
        else []
    )
    return _scoring(ranked[0], matching) if ranked else None


def _scoring(candidate: Candidate, matching: MatchingEngine) -> dict[str, Any]:
    """Gets what a proposal stores of a candidate: its score, the parts and the reasons."""
    return {
        "score": candidate.score,
        "components": candidate.components,
        "explanation": candidate.to_dict()["explanation"],
        "model_version": matching.version,
    }


def _open_to_institutions(session: Session, expert_id: int) -> bool:
    expert = session.get(ExpertProfile, expert_id)
    return expert is not None and policy.open_to_institutions(expert)


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
    # In id order: needs that score alike are ranked the same way by every process.
    needs = list(
        session.exec(select(Need).where(Need.status == NeedStatus.OPEN).order_by(col(Need.id)))
    )
    institution_ids = {n.institution_id for n in needs}
    institutions = {
        i.id: i
        for i in session.exec(select(Institution).where(col(Institution.id).in_(institution_ids)))
    }
    hours = committed_hours(session, [expert_id]).get(expert_id, 0.0)
    record = expert_record(expert, committed_hours_per_week=hours)
    ranked = matching.rank_for_expert(
        record, [need_record(n, institutions.get(n.institution_id)) for n in needs], k=k
    )
    now = utcnow()
    # Conditional in the database, as in `rematch_need`: the pair's need's job may write it at
    # the same moment.
    proposals_repo.upsert_ranked_for_expert(
        session,
        expert_id=expert_id,
        ranked=[
            {"need_id": int(candidate.need_id), **_scoring(candidate, matching)}
            for candidate in ranked
        ],
        now=now,
    )
    kept = [int(candidate.need_id) for candidate in ranked]
    proposals_repo.release_for_expert(session, expert_id=expert_id, kept=kept, now=now)
    stored = {p.need_id: p for p in _proposals(session, col(MatchProposal.expert_id) == expert_id)}
    return [stored[need_id] for need_id in kept]


def needs_touched_by(session: Session, *, expert_id: int) -> list[int]:
    """Open needs whose proposals may change when an expert changes: those the expert is
    proposed for (they may leave or move) and those the expert now fits best, their "needs
    for you" (where they may enter). Other needs keep their proposals until they change."""
    statement = (
        select(MatchProposal.need_id)
        .join(Need, col(Need.id) == col(MatchProposal.need_id))
        .where(
            MatchProposal.expert_id == expert_id,
            MatchProposal.status == ProposalStatus.PROPOSED,
            Need.status == NeedStatus.OPEN,
        )
        .order_by(col(MatchProposal.need_id))
    )
    return [int(need_id) for need_id in session.exec(statement)]


@dataclass(frozen=True, slots=True)
class RankedNeed:
    """An open need as "Needs for you" lists it."""

    id: int
    title: str
    mode: str
    duration_weeks: int
    hours_per_week: int


def ranked_needs_for_expert(
    session: Session, *, expert_id: int, limit: int = 10
) -> list[tuple[RankedNeed, dict[str, Any], float]]:
    """Lists the open needs ranked for an expert, best first, each with its proposal's
    explanation (as stored) and score: one query, of the columns the list shows."""
    rows = session.execute(_ranked_needs(limit), {"expert_id": expert_id})
    return [
        (
            RankedNeed(r.id, r.title, r.mode, r.duration_weeks, r.hours_per_week),
            r.explanation,
            r.score,
        )
        for r in rows
    ]


@functools.cache
def _ranked_needs(limit: int) -> SaSelect[Any]:
    """The statement of `ranked_needs_for_expert` (the expert's "needs for you"), built once per
    limit with the expert as a parameter: building it cost more than running it. On the tables,
    not the models: the page only reads the rows."""
    p, n = table_of(MatchProposal), table_of(Need)
    return (
        table_select(
            n.c.id,
            n.c.title,
            n.c.mode,
            n.c.duration_weeks,
            n.c.hours_per_week,
            p.c.explanation,
            p.c.score,
        )
        .select_from(p.join(n, n.c.id == p.c.need_id))
        .where(
            p.c.expert_id == bindparam("expert_id"),
            n.c.status == NeedStatus.OPEN,
            # An approved proposal is an offer now, on the offers page; a rejected or
            # withdrawn one ranks the need for the expert no more.
            p.c.status.not_in(sorted(NOT_FOR_YOU)),
        )
        .order_by(p.c.score.desc())
        .limit(limit)
    )


def load_engine(settings: Settings) -> MatchingEngine:
    """Loads the configured encoder into a matching engine (seconds: call it once); with
    Meilisearch configured, needs are ranked from its candidate pool."""
    from matching.encoders import load_encoder

    engine = MatchingEngine(
        load_encoder(
            settings.embedding_model,
            threads=settings.embedding_threads,
            precision=settings.embedding_precision,
        ),
        search_query_model=settings.search_query_model,
    )
    if settings.search_backend == "meilisearch":
        engine.use_pool(
            MeiliCandidatePool(
                url=settings.meili_url,
                api_key=settings.meili_key,
                index_prefix=settings.meili_index_prefix,
                dimensions=pool_dimensions(engine.matcher),
                versioned=True,
            )
        )
    return engine


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
