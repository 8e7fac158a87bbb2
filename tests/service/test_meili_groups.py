"""The candidate pool's partitions, shared by the workers through Meilisearch: trained by the
sync that finds a roster at the floor or above, stored beside the pool, every document filed
under them before a search filters by group, and never a search that hides an expert filed
under other centroids. Below the floor nothing changes.

The demo world has 210 experts: the floor is lowered to 100 for it (14 groups).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from matching.encoders import Encoder
from matching.partitions import Partitions, groups_for
from matching.pool import PoolRanker, indexed_pool_vectors, pool_dimensions
from matching.texts import lexical_query_text
from service.config import Settings
from service.core import match_groups
from service.core.indexing import reindex_all
from service.core.match_groups import FOLLOW_S, GROWTH, PARTITION_FLOOR
from service.core.match_pool import refile_pool
from service.core.matching import MatchingEngine, load_engine, need_record, open_need_ids
from service.core.seed import seed_world
from service.models import Institution, Need
from service.search import EXPERTS_STAFF, SearchBackend
from service.search.meili_groups import StoredPartitions, load_partitions, store_partitions
from service.search.meili_pool import DEFAULT_REACH, MeiliCandidatePool
from tests.fusion_weights import with_feedback

MEILI_URL = os.environ.get("HOMEWARD_TEST_MEILI_URL", "")
MEILI_KEY = os.environ.get("HOMEWARD_TEST_MEILI_KEY", "")
pytestmark = pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set")
FLOOR = 100
POOL_SIZE = 40
SKILL_POOL_SIZE = 10
K = 10


@pytest.fixture
def prefix() -> Iterator[str]:
    made = f"test_{uuid.uuid4().hex[:8]}_"
    yield made
    MeiliCandidatePool(url=MEILI_URL, api_key=MEILI_KEY, index_prefix=made, dimensions=1).drop()


@pytest.fixture
def world(
    session: Session, settings: Settings, engine: Engine, search_backend: SearchBackend
) -> None:
    seed_world(session, settings=settings)
    reindex_all(engine, search_backend)


def _worker(hashing: Encoder, prefix: str, *, floor: int | None = FLOOR) -> MatchingEngine:
    """A worker's engine, as `load_engine` makes it, with its own client of the shared pool."""
    made = MatchingEngine(hashing, weights_for=with_feedback(0.02))
    pool = MeiliCandidatePool(
        url=MEILI_URL,
        api_key=MEILI_KEY,
        index_prefix=prefix,
        dimensions=pool_dimensions(made.matcher),
        versioned=True,
    )
    if floor is None:
        made.use_pool(pool, size=POOL_SIZE, skills=SKILL_POOL_SIZE)
    else:
        made.use_pool(pool, size=POOL_SIZE, skills=SKILL_POOL_SIZE, partition_floor=floor)
    return made


def _documents(pool: MeiliCandidatePool) -> dict[str, dict[str, object]]:
    """Every document's id, group, grouping and fingerprint."""
    index = pool.client.index(pool.uid)
    fields = ["id", "group", "grouping", "fingerprint"]
    page = index.get_documents({"fields": fields, "limit": 10_000})
    return {str(dict(d)["id"]): dict(d) for d in page.results}


def _pool(made: MatchingEngine) -> MeiliCandidatePool:
    assert made.pool is not None
    return made.pool


def test_a_sync_above_the_floor_trains_files_and_shares_the_centroids(
    world: None,
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    hashing: Encoder,
    prefix: str,
) -> None:
    first = _worker(hashing, prefix)
    first.sync(engine)
    pool = _pool(first)
    stored = load_partitions(pool)
    assert stored is not None
    assert (stored.trained_on, stored.filed, len(stored.partitions)) == (210, True, 14)
    assert groups_for(210) == 14
    assert pool.filed and pool.version == stored.version
    # Every document is filed under the stored centroids, in its nearest group.
    documents = _documents(pool)
    assert len(documents) == 210
    ids = sorted(documents)
    groups = stored.partitions.assign(indexed_pool_vectors(first.matcher, ids))
    assert [documents[i]["group"] for i in ids] == groups.tolist()
    assert {documents[i]["grouping"] for i in ids} == {stored.version}
    assert all(str(documents[i]["fingerprint"]).endswith(f":{stored.version}") for i in ids)

    # Another worker starts: it takes the stored centroids, trains nothing, sends nothing.
    second = _worker(hashing, prefix)
    second.sync(engine)
    other = _pool(second)
    assert other.version == stored.version and other.filed
    assert _documents(other) == documents
    # A search with few hits reads only the groups nearest its query.
    query = indexed_pool_vectors(second.matcher, ["3"])[0]
    near = other._probe(query, 5, DEFAULT_REACH)
    assert near is not None and len(near) < len(stored.partitions)
    found = other.candidates(query, None, limit=5)
    assert found and all(documents[i]["group"] in near for i in found)

    exact = MatchingEngine(hashing, weights_for=with_feedback(0.02))
    exact.sync(engine)
    same, compared = 0, 0
    for need_id in open_need_ids(session):
        need = session.get_one(Need, need_id)
        record = need_record(need, session.get(Institution, need.institution_id))
        expected = [c.expert_id for c in exact.rank_need(record, search=search_backend, k=K)]
        found = [c.expert_id for c in second.rank_need(record, search=search_backend, k=K)]
        compared += 1
        same += found == expected
        assert len(set(found) & set(expected)) >= K - 1, (need_id, expected, found)
    assert compared >= 50
    # The tolerance of the unpartitioned pool's test (tests/service/test_meili_pool.py).
    assert same >= 0.95 * compared, (same, compared)

    # With searches of 12 and 20 hits, under half the index, the ranking's searches read the
    # nearest groups only; compared with the same searches over every document. The hashing
    # encoder's vectors barely cluster (as random ones: docs/deploy.md, sixth round), so the
    # groups miss some of the best: stated tolerance 85 % of the top-10s shared (measured 93 %,
    # 53 of 78 needs with the same top-10); on real embeddings the benchmark measures it.
    grouped = PoolRanker(second.matcher, other, size=20, skills=SKILL_POOL_SIZE, first=12)
    whole = MeiliCandidatePool(
        url=MEILI_URL, api_key=MEILI_KEY, index_prefix=prefix, dimensions=other.dimensions
    )
    ungrouped = PoolRanker(second.matcher, whole, size=20, skills=SKILL_POOL_SIZE, first=12)
    shared, compared = 0, 0
    for need_id in open_need_ids(session):
        need = session.get_one(Need, need_id)
        record = need_record(need, session.get(Institution, need.institution_id))
        scores = search_backend.lexical_scores(EXPERTS_STAFF, lexical_query_text(record), 50)
        lexical = {str(doc_id): score for doc_id, score in scores}
        expected = [c.expert_id for c in ungrouped.rank_experts(record, lexical_scores=lexical)]
        found = [c.expert_id for c in grouped.rank_experts(record, lexical_scores=lexical)]
        compared += 1
        shared += len(set(found) & set(expected))
    assert shared >= 0.85 * K * compared, (shared, compared)


def test_searches_read_everything_while_new_centroids_are_filed(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    worker = _worker(hashing, prefix)
    worker.sync(engine)
    pool = _pool(worker)
    query = indexed_pool_vectors(worker.matcher, ["3"])[0]
    assert pool._probe(query, 5, DEFAULT_REACH) is not None
    # Another worker stores new centroids (a retraining) and has not filed them yet.
    rng = np.random.default_rng(9)
    body = pool_dimensions(worker.matcher) - 1
    centroids = rng.standard_normal((14, body)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    retrained = StoredPartitions(Partitions(centroids), trained_on=400, filed=False)
    store_partitions(pool, retrained)
    assert worker.groups is not None
    worker.groups.adopt()
    assert pool.version == retrained.version and not pool.filed
    assert pool._probe(query, 5, DEFAULT_REACH) is None
    # Unfiltered: the whole index, as without partitions (Meilisearch's own order).
    everything = MeiliCandidatePool(
        url=MEILI_URL,
        api_key=MEILI_KEY,
        index_prefix=prefix,
        dimensions=pool.dimensions,
    )
    assert pool.candidates(query, None, limit=5) == everything.candidates(query, None, limit=5)
    # The worker's next sync files every document under them and marks them filed.
    worker.sync(engine)
    again = load_partitions(pool)
    assert again is not None and again.version == retrained.version and again.filed
    assert {d["grouping"] for d in _documents(pool).values()} == {retrained.version}
    assert pool.filed and pool._probe(query, 5, DEFAULT_REACH) is not None


def test_a_document_filed_under_other_centroids_is_never_hidden(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    """A worker filing under other centroids (a race) files an expert in a far group: the
    searches of a worker holding the filed centroids still read that expert."""
    worker = _worker(hashing, prefix)
    worker.sync(engine)
    pool = _pool(worker)
    assert pool.partitions is not None
    query = indexed_pool_vectors(worker.matcher, ["3"])[0]
    best = pool.candidates(query, None, limit=1)
    near = pool._probe(query, 1, DEFAULT_REACH)
    assert best and near is not None
    far = next(g for g in range(len(pool.partitions)) if g not in near)
    pool.upsert([{"id": best[0], "group": far, "grouping": "other"}], partial_=True)
    assert pool.candidates(query, None, limit=1) == best
    # Filed under the same centroids in that far group, it would be out of reach.
    pool.upsert([{"id": best[0], "group": far, "grouping": pool.version}], partial_=True)
    assert best[0] not in pool.candidates(query, None, limit=1)


def test_a_roster_grown_past_twice_the_centroids_training_is_retrained(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    worker = _worker(hashing, prefix)
    worker.sync(engine)
    pool = _pool(worker)
    stored = load_partitions(pool)
    assert stored is not None
    # Centroids trained on a roster under half today's: due again.
    small = StoredPartitions(stored.partitions, trained_on=210 // GROWTH - 1, filed=True)
    store_partitions(pool, small)
    worker.sync(engine)
    again = load_partitions(pool)
    assert again is not None and (again.trained_on, again.filed) == (210, True)
    # Trained on the same roster with the same seed: the same centroids.
    assert again.version == stored.version


def test_below_the_floor_nothing_is_partitioned(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    worker = _worker(hashing, prefix, floor=None)  # the service's floor: 20,000 experts
    worker.sync(engine)
    pool = _pool(worker)
    assert pool.partitions is None and pool.version is None
    assert load_partitions(pool) is None
    indexes = {i.uid for i in pool.client.get_indexes({"limit": 1000})["results"]}
    assert pool.uid in indexes and pool.groups_uid not in indexes
    documents = _documents(pool)
    assert len(documents) == 210
    assert all("group" not in d and "grouping" not in d for d in documents.values())
    assert all(":" not in str(d["fingerprint"]) for d in documents.values())


def test_a_worker_whose_centroids_were_replaced_while_filing_files_under_the_new_ones(
    world: None,
    engine: Engine,
    hashing: Encoder,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers trained at once from different rosters: the other stored its centroids
    while this one was filing its own. This one does not mark its own filed; it files under
    the stored ones and marks those."""
    worker = _worker(hashing, prefix)
    pool = _pool(worker)
    rng = np.random.default_rng(11)
    centroids = rng.standard_normal((14, pool_dimensions(worker.matcher) - 1)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    theirs = StoredPartitions(Partitions(centroids), trained_on=210, filed=False)
    filings: list[str | None] = []

    def refile_then_race(*args: object) -> int:
        done = refile_pool(*args)  # type: ignore[arg-type]
        filings.append(pool.version)
        if len(filings) == 1:
            store_partitions(pool, theirs)
        return done

    monkeypatch.setattr(match_groups, "refile_pool", refile_then_race)
    worker.sync(engine)
    ours = filings[0]
    assert ours is not None and ours != theirs.version
    assert filings == [ours, theirs.version]
    stored = load_partitions(pool)
    assert stored is not None and (stored.version, stored.filed) == (theirs.version, True)
    assert pool.version == theirs.version and pool.filed
    assert {d["grouping"] for d in _documents(pool).values()} == {theirs.version}


def test_the_service_shares_its_pool_partitions_from_the_floor(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "search_backend": "meilisearch",
            "meili_url": MEILI_URL,
            "meili_key": MEILI_KEY,
            "embedding_model": "hashing",
            "search_query_model": None,
        }
    )
    made = load_engine(configured)
    assert made.pool is not None and made.pool.versioned
    assert made.groups is not None and made.groups.floor == PARTITION_FLOOR == 20_000


def test_centroids_of_another_layout_are_retrained(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    """Centroids stored for another model's vectors (another dimension) are never used."""
    worker = _worker(hashing, prefix)
    pool = _pool(worker)
    pool.ensure_index()
    other = np.eye(14, 32, dtype=np.float32)
    store_partitions(pool, StoredPartitions(Partitions(other), trained_on=210, filed=True))
    worker.sync(engine)
    stored = load_partitions(pool)
    assert stored is not None and stored.filed
    assert stored.partitions.centroids.shape == (14, pool_dimensions(worker.matcher) - 1)
    assert pool.version == stored.version


def test_a_running_worker_takes_up_centroids_another_filed(
    world: None, engine: Engine, hashing: Encoder, prefix: str
) -> None:
    running = _worker(hashing, prefix)
    running.sync(engine)
    pool = _pool(running)
    first = pool.version
    rng = np.random.default_rng(13)
    centroids = rng.standard_normal((14, pool_dimensions(running.matcher) - 1)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    retrained = StoredPartitions(Partitions(centroids), trained_on=210, filed=False)
    store_partitions(pool, retrained)
    # Another worker starts, files every document under the stored centroids, marks them.
    _worker(hashing, prefix).sync(engine)
    running.refresh(engine)
    assert pool.version == first  # looked less than a minute ago
    assert running.groups is not None
    running.groups.followed -= FOLLOW_S
    running.refresh(engine)
    assert pool.version == retrained.version != first and pool.filed
