"""Candidates from Meilisearch's vector store, re-ranked by the matcher, against the exact scan.

Usage: eval "$(.ci/meili.sh start)"   # or HOMEWARD_MEILI_URL / HOMEWARD_MEILI_KEY
       OPENBLAS_NUM_THREADS=1 python bench/meili_pool.py [--json] [--sizes 10000 100000]
           [--needs 100] [--pool 1000] [--sections document [headline]] [--vectors random|real]
           [--split [never|unfiltered|always]] [--first N] [--[no-]parallel]
           [--store stable|experimental] [--keep] [--fill-only]
           [--variants SPLIT[,parallel|serial][,first=N][,pool=N][,store=S][,first_store=S]
                       [,sections=A+B][,reach=SHARE][,first_reach=SHARE][,service] ...]

(One BLAS thread: on a loaded 2-core machine OpenBLAS's two threads doubled both paths' time.)

Experts: random rows in the default encoder's layout (as bench/matching_speed.py makes them:
USE, e5 and MiniLM blocks of the document section, USE of the headline, each unit-normed),
with random constraint fields (modes, languages, availability windows and confirmations,
about 5 % inactive or opted out) and skills drawn from a vocabulary (for the skill feedback).
Random unit vectors have no cluster structure: the hardest case for an approximate index.
`--vectors real` draws them instead from the real embeddings of the 3,000 benchmark profiles
(`real_rows`: a profile mixed with one of its 10 nearest, plus noise, so clustered by
occupation and language as a roster is), and the needs' vectors from the benchmark's English
and French needs; its indexes are apart (prefix `bench_<n>_real_`).
`--split` asks Meilisearch each search as four searches over disjoint quarters of the index
(`MeiliCandidatePool(split="always")`), which its vector store answers exactly; `--split
unfiltered` splits only the search without a filter (the feedback stage's first search);
`--split never`, none; without `--split`, the pool's default (`DEFAULT_SPLIT`). `--first N`
asks the first search for N hits (`PoolRanker(first=)`: arroy walks its trees until it holds
about N times its number of trees candidates, so more hits is a wider search); `--parallel`
(the pool's default) sends a split search's four parts as concurrent requests, `--no-parallel`
as one multi-search; `--pool` defaults to the service's pool (`matching.pool.POOL`).
`--variants` measures several of these on one filled index, interleaved need by need, each
beside its own exact scan (one row each; `never,first=1000` is no split and 1,000 first
hits, `always,parallel,pool=2000` a split of every search sent concurrently, 2,000 pool hits;
`store=experimental` searches an index in Meilisearch's experimental HNSW store,
`first_store=experimental` sends only the unfiltered first search, whole, to such an index;
`sections=document` searches an index holding the document section's blocks; `reach=0.1`
searches only the groups nearest the query until they hold a tenth of the index: every
document is filed in one of sqrt(n) groups, `matching.partitions`, trained on the run's rows,
and the groups are a filter that leaves under half the index, answered exactly);
`first_reach=0.05` reads a twentieth for the unfiltered first search alone (it only has to
hold the feedback stage's best few); `service` searches as the service does above its
roster floor (shared partitions filed under their version, `service.core.match_groups`). `--store
experimental` makes the HNSW store every variant's default (its indexes are apart, prefix
`bench_<n>_hnsw_`: `MeiliCandidatePool(store=)`).
They go into the matcher's in-memory index (the exact scan) and into a Meilisearch index of
their pool vectors (`<prefix>match_experts` layout; `--sections` picks the blocks it holds:
by default the whole row, as the service, prefix `bench_<n>_`; `--sections document`, the
document section's blocks only, prefix `bench_<n>_document_`); `--keep` reuses that index when it
already holds n experts (indexing time is then not measured again; Meilisearch's own
per-batch rates of the fill are still printed).

Per need (random query vectors, English and French titles so both weight sets run):
- exact: `Matcher.rank_experts(k=100)`, the full scan, is the reference;
- Recall@100: share of the exact top-100 present in the pool (`PoolRanker.candidate_rows`);
- top-10 overlap: `PoolRanker.rank_experts(k=10)` against the exact top-10, and against the
  exact scan's best 10 when it checks constraints on a wider window (its k=100 run), with the
  mean score of the pool's top-10 minus the exact top-10's (positive: the pool found experts
  who score higher, that the scan's window of 50 missed);
- latency: the whole ranking of a top-10 each way, interleaved (pool: two Meilisearch
  searches plus the re-ranking; exact: the full scan), and the pool's part spent in
  Meilisearch (round trips, and Meilisearch's own `processingTimeMs`, per search) apart
  from the Python part (population statistics, candidates, re-ranking);
- projection to 1M: log p95 fitted on log n over every measured size (`project`).

`--json` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.encoders import Block, Encoder  # noqa: E402
from matching.matcher import Matcher  # noqa: E402
from matching.partitions import Partitions, train_partitions  # noqa: E402
from matching.pool import FIRST_STAGE, POOL, PoolRanker, pool_dimensions, pool_fields, pool_vectors  # noqa: E402
from matching.records import ExpertRecord, NeedRecord  # noqa: E402
from service.core.match_pool import pool_columns  # noqa: E402
from service.search.meili import quote  # noqa: E402
from service.search.meili_pool import (  # noqa: E402
    BATCH,
    DEFAULT_PARALLEL,
    DEFAULT_REACH,
    DEFAULT_SPLIT,
    DEFAULT_STORE,
    SPLITS,
    STORES,
    MeiliCandidatePool,
)

TODAY = date(2026, 12, 1)
# The real vectors (`--vectors real`): the benchmark's profiles and needs, embedded once.
REAL_CACHE = (
    Path(os.environ.get("HOMEWARD_BENCH_CACHE", ROOT / "bench" / ".cache")) / "meili_pool_real.npz"
)
REAL_NOISE = 0.35  # norm of the noise added to each block of a mixed real profile
BLOCKS = (Block("use", 0, 512), Block("e5", 512, 896), Block("minilm", 896, 1280))
LANGUAGES = ("en", "fr", "es", "ar", "pt")
MODES = ("remote", "mission", "hybrid")
SKILLS = [f"skill{i}" for i in range(400)]
TITLES = {
    "en": "Support for the hospital and the teachers of the region",
    "fr": "Appui pour les enseignants et la formation des équipes de la région",
}


def layout_encoder() -> Encoder:
    """An encoder with the default encoder's blocks and no model: rows are generated here."""
    members: dict[str, Any] = {block.name: None for block in BLOCKS}
    return Encoder(None, "homeward-fused", "bench", BLOCKS, members=members)  # type: ignore[arg-type]


def unit_blocks(rng: np.random.Generator, n: int, spans: list[tuple[int, int]], dim: int) -> Any:
    """n rows, random within each span, each span unit-normed, zero elsewhere."""
    rows = np.zeros((n, dim), dtype=np.float32)
    for start, stop in spans:
        block = rng.standard_normal((n, stop - start), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        rows[:, start:stop] = block
    return rows


def make_expert(rng: np.random.Generator, i: int) -> ExpertRecord:
    """An expert with random constraint fields."""
    windowed = rng.random() < 0.3
    start = TODAY + timedelta(days=int(rng.integers(-200, 200)))
    return ExpertRecord(
        expert_id=str(i),
        headline="",
        skills=list(rng.choice(SKILLS, size=int(rng.integers(2, 7)), replace=False)),
        languages=list(rng.choice(LANGUAGES, size=int(rng.integers(1, 4)), replace=False)),
        modes=list(rng.choice(MODES, size=int(rng.integers(1, 4)), replace=False)),
        available_from=start if windowed else None,
        available_until=start + timedelta(days=int(rng.integers(30, 400))) if windowed else None,
        active=bool(rng.random() > 0.03),
        opted_out=bool(rng.random() < 0.02),
        availability_confirmed_on=TODAY - timedelta(days=int(rng.integers(0, 120))),
    )


def make_need(rng: np.random.Generator, i: int) -> NeedRecord:
    """A need with random constraints, English or French (both weight sets)."""
    language = "en" if i % 2 == 0 else "fr"
    dated = rng.random() < 0.5
    start = TODAY + timedelta(days=int(rng.integers(0, 120)))
    return NeedRecord(
        need_id=f"n{i}",
        title=TITLES[language],
        languages=list(rng.choice(LANGUAGES[:3], size=int(rng.integers(0, 2)), replace=False)),
        mode=MODES[int(rng.integers(0, 3))],
        widen_modes=bool(rng.random() < 0.2),
        start=start if dated else None,
        end=start + timedelta(weeks=int(rng.integers(2, 20))) if dated else None,
    )


def real_embeddings(log: Any = print) -> dict[str, Any]:
    """The benchmark's real vectors (`/work/shared/bench`, through bench/matching_quality.py's
    embedding cache): the 3,000 profiles' rows in the matcher's layout, and the query vectors
    of the English and French needs (one row per query side). Kept in `REAL_CACHE` after the
    first call; the first call loads the encoder and embeds what its cache lacks."""
    if REAL_CACHE.exists():
        with np.load(REAL_CACHE) as data:
            return {key: data[key] for key in data.files}
    sys.path.insert(0, str(ROOT / "bench"))
    import matching_quality as mq  # the benchmark's texts, encoder and embedding cache

    from matching.texts import PROFILE_SECTIONS, QUERY_SIDES, SECTION_MODELS

    experts = [mq.expert_from_row(r) for r in mq.read_jsonl(mq.BENCH_DIR / "profiles.jsonl")]
    fused = mq.load_encoder(mq.DEFAULT_ENCODER, threads=mq.THREADS)
    members = [mq.load_encoder(block.name, threads=mq.THREADS) for block in fused.blocks]
    sections = [mq.profile_section_texts(e) for e in experts]
    only = {s: [b.name for b in fused.document_blocks(SECTION_MODELS[s])] for s in PROFILE_SECTIONS}
    out = {
        "profiles": np.concatenate(
            [
                mq.cached_vectors(members, "document", [t[i] for t in sections], log, only[s])
                for i, s in enumerate(PROFILE_SECTIONS)
            ],
            axis=1,
        )
    }
    for track in ("desc_en", "desc_fr"):
        sides = [
            mq.need_side_texts(mq.need_from_row(r)) for r in mq.load_track(mq.BENCH_DIR, track)[0]
        ]
        out[track] = np.stack(
            [
                mq.cached_vectors(members, "query", [t[i] for t in sides], log)
                for i in range(len(QUERY_SIDES))
            ],
            axis=1,
        )
    REAL_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(REAL_CACHE, **out)
    return out


def real_rows(
    rng: np.random.Generator, n: int, base: Any, spans: list[tuple[int, int]], dim: int
) -> Any:
    """n distinct rows drawn from the real profiles' distribution: each a mixture of a real
    profile and one of its 10 nearest profiles (by cosine over the stored blocks, so within
    its occupation), weight U(0.5, 1) on the first, plus Gaussian noise of norm `REAL_NOISE` per
    block, each block unit-normed again (blocks the profiles leave empty stay empty)."""
    base = np.asarray(base, dtype=np.float32)
    lo, hi = spans[0][0], spans[-1][1]
    document = base[:, lo:hi] / np.maximum(
        np.linalg.norm(base[:, lo:hi], axis=1, keepdims=True), 1e-9
    )
    similar = document @ document.T
    np.fill_diagonal(similar, -np.inf)
    neighbours = np.argsort(-similar, axis=1)[:, :10]
    first = rng.integers(0, len(base), n)
    second = neighbours[first, rng.integers(0, neighbours.shape[1], n)]
    share = rng.uniform(0.5, 1.0, n).astype(np.float32)[:, None]
    rows = np.zeros((n, dim), dtype=np.float32)
    for start, stop in spans:
        mixed = share * base[first, start:stop] + (1 - share) * base[second, start:stop]
        norms = np.linalg.norm(mixed, axis=1, keepdims=True)
        noise = rng.standard_normal(mixed.shape, dtype=np.float32)
        noise *= REAL_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
        block = np.where(norms > 1e-6, mixed / np.maximum(norms, 1e-9) + noise, 0.0)
        rows[:, start:stop] = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-9)
    return rows


def build(n: int, seed: int, vectors: str = "random") -> tuple[Matcher, list[ExpertRecord], Any]:
    """The matcher with n generated experts in its index; the experts and their rows
    (`vectors`: "random", random unit blocks; "real", drawn from the real profiles)."""
    rng = np.random.default_rng(seed)
    matcher = Matcher(layout_encoder(), today=lambda: TODAY)
    experts = [make_expert(rng, i) for i in range(n)]
    spans = list(matcher.index.blocks)
    if vectors == "real":
        base = real_embeddings()["profiles"]
        rows = real_rows(rng, n, base, spans, matcher.index.dim)
    else:
        rows = unit_blocks(rng, n, spans, matcher.index.dim)
    for begin in range(0, n, 10_000):
        chunk = experts[begin : begin + 10_000]
        matcher.index.upsert([e.expert_id for e in chunk], rows[begin : begin + len(chunk)])
        for expert in chunk:
            matcher._remember(expert)
    return matcher, experts, rows


def fill_pool(
    pool: MeiliCandidatePool, matcher: Matcher, experts: list[ExpertRecord], rows: Any, keep: bool
) -> float | None:
    """Indexes the experts' pool vectors; returns the seconds it took (None when kept)."""
    if keep:
        try:
            stats = pool.client.index(pool.uid).get_stats()
            if stats.number_of_documents == len(experts):
                return None
        except Exception:  # noqa: BLE001 - no such index yet: build it
            pass
    pool.drop()
    pool.ensure_index()
    started = time.perf_counter()
    tasks: list[int] = []
    for begin in range(0, len(experts), BATCH):
        chunk = experts[begin : begin + BATCH]
        vectors = pool_vectors(matcher, rows[begin : begin + len(chunk)])
        documents = [
            pool.document(e.expert_id, vector, pool_fields(e), open_=True)
            for e, vector in zip(chunk, vectors, strict=True)
        ]
        # Queued without waiting: Meilisearch batches the queued additions together.
        tasks += pool.upsert(documents, wait=False)
    pool.wait(tasks)
    return time.perf_counter() - started


def file_versioned(pool: MeiliCandidatePool, experts: list[ExpertRecord]) -> None:
    """Files every document of a filled index under the pool's centroids as the service does
    (`grouping`, their version, beside `group`; partial updates, the vectors kept) and marks
    them filed, so that searches filter by group as the service's do."""
    assert pool.partitions is not None and pool.version is not None
    pool.ensure_index()
    index = pool.client.index(pool.uid)
    filed = index.search("", {"limit": 0, "filter": f"grouping = {quote(pool.version)}"})
    if filed.get("estimatedTotalHits") != len(experts):
        pool.upsert([{"id": e.expert_id, "grouping": pool.version} for e in experts], partial_=True)
    pool.use_partitions(pool.partitions, filed=True)


def fill_batches(pool: MeiliCandidatePool) -> list[dict[str, Any]]:
    """Meilisearch's own record of the document batches it indexed into the pool's index,
    oldest first: documents, seconds, documents per second, and the index size before each
    (how the indexing rate falls as the vector store grows)."""
    created = _instant(pool.client.get_raw_index(pool.uid)["createdAt"])
    response = pool.client.http.get(
        f"batches?indexUids={pool.uid}&types=documentAdditionOrUpdate&limit=1000"
    )
    done: list[dict[str, Any]] = []
    for batch in reversed(response.get("results", [])):
        if _instant(batch.get("startedAt") or "") < created:
            continue  # an earlier index of the same name
        details = batch.get("details") or {}
        received = int(details.get("receivedDocuments") or 0)
        seconds = _iso_seconds(batch.get("duration") or "")
        if received and seconds:
            done.append({"documents": received, "seconds": round(seconds, 1)})
    before = 0
    for row in done:
        row["index_size_before"] = before
        row["docs_per_s"] = round(row["documents"] / row["seconds"], 1)
        before += row["documents"]
    return done


def _instant(stamp: str) -> str:
    """A Meilisearch timestamp cut to microseconds, comparable as text ("" sorts first)."""
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{head}.{(fraction + '000000')[:6]}" if head else ""


def _iso_seconds(duration: str) -> float:
    """Seconds of an ISO 8601 duration as Meilisearch writes them ("PT1M10.5S")."""
    match = re.fullmatch(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    if not match:
        return 0.0
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _share(text: str) -> bool:
    try:
        return 0.0 < float(text) < 1.0
    except ValueError:
        return False


def percentile_ms(samples: list[float], q: float) -> float:
    """A percentile of durations in seconds, in milliseconds."""
    return round(float(np.percentile(np.array(samples) * 1000.0, q)), 1)


def make_pool(
    matcher: Matcher,
    n: int,
    sections: tuple[str, ...],
    url: str,
    key: str,
    vectors: str = "random",
    split: str = "never",
    parallel: bool = DEFAULT_PARALLEL,
    store: str = DEFAULT_STORE,
    partitions: Partitions | None = None,
    reach: float | None = None,
    first_reach: float | None = None,
    versioned: bool = False,
) -> MeiliCandidatePool:
    """The pool of n experts holding the blocks of `sections` (one index per layout,
    distribution of vectors and vector store); its documents are filed in `partitions`'
    groups, and searches read `reach` of the index (None: all of it)."""
    columns = pool_columns(matcher, sections)
    whole = len(columns) == pool_dimensions(matcher)
    real = "real_" if vectors == "real" else ""
    real += "hnsw_" if store == "experimental" else ""
    return MeiliCandidatePool(
        url=url,
        api_key=key,
        # The whole row keeps the earlier rounds' name, so that `--keep` reuses their fill.
        index_prefix=f"bench_{n}_{real}" if whole else f"bench_{n}_{real}{'_'.join(sections)}_",
        dimensions=pool_dimensions(matcher),
        columns=None if whole else columns,
        split=split,  # type: ignore[arg-type]
        parallel=parallel,
        store=store,  # type: ignore[arg-type]
        partitions=partitions,
        reach=reach,
        first_reach=first_reach,
        versioned=versioned,
        # A first fill of 100k at 1,793 numbers took 38 minutes here in one Meilisearch batch.
        task_timeout_s=4 * 3600.0,
    )


@dataclass(frozen=True)
class Variant:
    """How the pool asks Meilisearch: which searches are split (`MeiliCandidatePool(split=)`),
    the hits of the first, unfiltered search (`PoolRanker(first=)`), whether a split search's
    parts go as concurrent requests (`parallel`), and the hits of the second search (`pool`,
    `PoolRanker(size=)`; None: `--pool`), and the vector store (`store`; None: `--store`)."""

    split: str = DEFAULT_SPLIT
    first: int = FIRST_STAGE
    parallel: bool = DEFAULT_PARALLEL
    pool: int | None = None
    store: str | None = None
    first_store: str | None = None
    sections: tuple[str, ...] | None = None
    reach: float | None = None
    first_reach: float | None = None
    # As the service searches above its floor: shared, versioned partitions (`grouping`) and
    # the service's reach (`service.core.match_groups`).
    service: bool = False

    @classmethod
    def parse(cls, text: str) -> Variant:
        """ "unfiltered", "always,parallel", "never,first=1000", "always,pool=2000", ...: the
        split, then any of `parallel`, `serial`, `first=N`, `pool=N`, `store=S`."""
        split, *options = text.split(",")
        if split not in SPLITS:
            raise argparse.ArgumentTypeError(f"{split!r}: one of {SPLITS}")
        values: dict[str, Any] = {"split": split}
        for option in options:
            name, _, value = option.partition("=")
            if name == "service" and not value:
                values["service"] = True
            elif name in ("parallel", "serial") and not value:
                values["parallel"] = name == "parallel"
            elif name in ("first", "pool") and value.isdigit():
                values[name] = int(value)
            elif name in ("store", "first_store") and value in STORES:
                values[name] = value
            elif name == "sections" and value:
                values[name] = tuple(value.split("+"))
            elif name in ("reach", "first_reach") and _share(value):
                values[name] = float(value)
            else:
                raise argparse.ArgumentTypeError(
                    f"{option!r}: parallel, serial, first=N, pool=N, store=S, first_store=S "
                    f"(S: {'|'.join(STORES)}), sections=A+B, reach=SHARE, first_reach=SHARE "
                    "(0 < SHARE < 1)"
                )
        return cls(**values)

    @property
    def name(self) -> str:
        name = self.split + (",parallel" if self.parallel else ",serial")
        name += f",first={self.first}" if self.first != FIRST_STAGE else ""
        name += f",pool={self.pool}" if self.pool else ""
        name += f",store={self.store}" if self.store else ""
        name += f",first_store={self.first_store}" if self.first_store else ""
        name += f",reach={self.reach:g}" if self.reach else ""
        name += f",first_reach={self.first_reach:g}" if self.first_reach else ""
        name += ",service" if self.service else ""
        return name + (f",sections={'+'.join(self.sections)}" if self.sections else "")


class Routed:
    """A pool whose unfiltered searches (the feedback stage's first search) go to another index
    (`first`, searched whole: say an HNSW store) and the others to `main`."""

    def __init__(self, main: MeiliCandidatePool, first: MeiliCandidatePool) -> None:
        self.main, self.first = main, first
        self.uid, self.store, self.dimensions = (
            main.uid,
            f"{main.store}+{first.store}",
            main.dimensions,
        )
        self.client = main.client
        self.searches = main.searches
        first.searches = main.searches

    def candidates(self, query: Any, constraints: Any, *, limit: int) -> list[str]:
        pool = self.main if constraints is not None else self.first
        return pool.candidates(query, constraints, limit=limit)


def measure(
    n: int,
    needs: int,
    pool_size: int,
    keep: bool,
    sections: tuple[str, ...],
    url: str,
    key: str,
    vectors: str = "random",
    variants: tuple[Variant, ...] = (Variant(),),
    store: str = DEFAULT_STORE,
) -> list[dict[str, Any]]:
    """Recall@100, top-10 overlap and whole-ranking latency at n experts, one row per variant
    (all on one filled index, interleaved need by need, each beside its own exact scan)."""
    started = time.perf_counter()
    matcher, experts, rows = build(n, seed=n, vectors=vectors)
    build_s = time.perf_counter() - started
    # Every document is filed in a group (the groups of sqrt(n), trained on this run's rows),
    # so that `reach=` variants search the same index as the others.
    started = time.perf_counter()
    partitions = train_partitions(pool_vectors(matcher, rows), round(math.sqrt(n)), seed=n)
    partitions_s = time.perf_counter() - started
    pools: list[Any] = [
        make_pool(
            matcher,
            n,
            v.sections or sections,
            url,
            key,
            vectors,
            v.split,
            v.parallel,
            v.store or store,
            partitions,
            DEFAULT_REACH if v.service and v.reach is None else v.reach,
            v.first_reach,
            v.service,
        )
        for v in variants
    ]
    real = real_embeddings() if vectors == "real" else None
    # Each index the variants search, filled once (variants may use different vector stores).
    filled: dict[str, float | None] = {}
    for position, (pool, variant) in enumerate(zip(pools, variants, strict=True)):
        searched = [pool]
        if variant.first_store:
            first = make_pool(
                matcher,
                n,
                variant.sections or sections,
                url,
                key,
                vectors,
                "never",
                False,
                variant.first_store,
                partitions,
            )
            searched.append(first)
            pools[position] = Routed(pool, first)
        for each in searched:
            if each.uid not in filled:
                filled[each.uid] = fill_pool(each, matcher, experts, rows, keep)
    for pool, variant in zip(pools, variants, strict=True):
        if variant.service:
            file_versioned(pool, experts)
    rankers = [
        PoolRanker(matcher, pool, size=v.pool or pool_size, first=v.first)
        for pool, v in zip(pools, variants, strict=True)
    ]
    rng = np.random.default_rng(7)
    query_spans = [(b.start, b.stop) for b in BLOCKS]
    stats = [_Stats() for _ in variants]
    spent = [_time_stages(ranker) for ranker in rankers]
    for i in range(needs):
        need = make_need(rng, i)
        if real is None:
            query = unit_blocks(rng, 2, query_spans, matcher.encoder.dim)
        else:  # a real need of the need's language (English for even i, French for odd)
            track = real["desc_en" if i % 2 == 0 else "desc_fr"]
            query = np.asarray(track[int(rng.integers(0, len(track)))], dtype=np.float32)
        reference = matcher.rank_experts(need, query_vectors=query, k=100, explain=False)
        for pool, ranker, stat, times in zip(pools, rankers, stats, spent, strict=True):
            stat.add(matcher, pool, ranker, times, need, query, reference)
    out = []
    for pool, variant, stat in zip(pools, variants, stats, strict=True):
        index_s = filled[pool.uid]
        out.append(
            {
                "n_experts": n,
                "needs": needs,
                "pool_limit": variant.pool or pool_size,
                "dimensions": pool.dimensions,
                "sections": list(variant.sections or sections),
                "vectors": vectors,
                "store": pool.store,
                "variant": variant.name,
                "split": variant.split,
                "parallel": variant.parallel,
                "first_stage": variant.first,
                "generate_s": round(build_s, 1),
                "partitions": len(partitions),
                "partitions_s": round(partitions_s, 1),
                "reach": variant.reach,
                "meili_index_s": round(index_s, 1) if index_s is not None else None,
                "meili_docs_per_s": round(n / index_s, 1) if index_s else None,
                "meili_batches": fill_batches(pool),
                **stat.summary(),
                "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                "load_avg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    return out


class _Stats:
    """One variant's measures, need by need."""

    def __init__(self) -> None:
        self.recall: list[float] = []
        self.overlap: list[float] = []
        self.overlap_wide: list[float] = []
        self.gain: list[float] = []
        self.pool_sizes: list[int] = []
        self.timings: dict[str, list[float]] = {"pool": [], "exact": []}
        # Per pool ranking: the Meilisearch round trips, and Meilisearch's own processing time.
        self.meili: dict[str, list[float]] = {
            "meili_round_trip": [],
            "meili_processing": [],
            "pool_python": [],
            # Where the time goes: each search apart (the first, unfiltered, for the feedback
            # stage's best few; the second, filtered, the pool), and the Python part in three.
            "first_search_round_trip": [],
            "first_search_processing": [],
            "second_search_round_trip": [],
            "second_search_processing": [],
            "python_statistics": [],
            "python_rerank": [],
            "python_candidates": [],
        }

    def add(
        self,
        matcher: Matcher,
        pool: MeiliCandidatePool,
        ranker: PoolRanker,
        spent: dict[str, float],
        need: NeedRecord,
        query: Any,
        reference: list[Any],
    ) -> None:
        """Measures one need: the pool's recall against `reference` (the scan's top-100),
        then the pool's ranking and the scan's, interleaved, so both see the same machine."""
        rows_in_pool = ranker.candidate_rows(need, query_vectors=query)
        ids = matcher.index.ids
        in_pool = {ids[int(r)] for r in rows_in_pool}
        if reference:
            self.recall.append(sum(c.expert_id in in_pool for c in reference) / len(reference))
        self.pool_sizes.append(len(rows_in_pool))
        timings, meili = self.timings, self.meili
        pool.searches.clear()
        spent.clear()
        begin = time.perf_counter()
        from_pool = ranker.rank_experts(need, query_vectors=query, k=10, explain=False)
        timings["pool"].append(time.perf_counter() - begin)
        meili["meili_round_trip"].append(sum(s[0] for s in pool.searches) / 1000.0)
        meili["meili_processing"].append(sum(s[1] for s in pool.searches) / 1000.0)
        meili["pool_python"].append(timings["pool"][-1] - meili["meili_round_trip"][-1])
        searches = list(pool.searches)
        for name, search in zip(("first_search", "second_search"), searches, strict=False):
            meili[f"{name}_round_trip"].append(search[0] / 1000.0)
            meili[f"{name}_processing"].append(search[1] / 1000.0)
        meili["python_statistics"].append(spent.pop("_scoring", 0.0))
        meili["python_rerank"].append(spent.pop("_rank_rows", 0.0))
        meili["python_candidates"].append(
            meili["pool_python"][-1] - meili["python_statistics"][-1] - meili["python_rerank"][-1]
        )
        begin = time.perf_counter()
        exact = matcher.rank_experts(need, query_vectors=query, k=10, explain=False)
        timings["exact"].append(time.perf_counter() - begin)
        if exact:
            expected = {c.expert_id for c in exact}
            self.overlap.append(len(expected & {c.expert_id for c in from_pool}) / len(expected))
            # The scan checks constraints on its 50 most relevant experts, eligible or not;
            # with k=100 it looks at 400: its best 10 there are the wide-window reference.
            wide = {c.expert_id for c in reference[:10]}
            self.overlap_wide.append(len(wide & {c.expert_id for c in from_pool}) / len(wide))
            self.gain.append(
                float(np.mean([c.score for c in from_pool]) - np.mean([c.score for c in exact]))
            )

    def summary(self) -> dict[str, Any]:
        return {
            "recall_at_100": round(float(np.mean(self.recall)), 4),
            "recall_at_100_min": round(float(np.min(self.recall)), 4),
            "top10_overlap": round(float(np.mean(self.overlap)), 4),
            "top10_overlap_wide": round(float(np.mean(self.overlap_wide)), 4),
            "top10_score_gain": round(float(np.mean(self.gain)), 3),
            "pool_mean": round(float(np.mean(self.pool_sizes)), 1),
            **{f"{name}_p50_ms": percentile_ms(t, 50) for name, t in self.timings.items()},
            **{f"{name}_p95_ms": percentile_ms(t, 95) for name, t in self.timings.items()},
            **{f"{name}_p50_ms": percentile_ms(t, 50) for name, t in self.meili.items()},
            **{f"{name}_p95_ms": percentile_ms(t, 95) for name, t in self.meili.items()},
        }


def _time_stages(ranker: PoolRanker) -> dict[str, float]:
    """Times the ranker's population statistics (`_scoring`) and its re-ranking of the pool
    (`_rank_rows`), in seconds per call, into the dict returned (read and cleared per need)."""
    spent: dict[str, float] = {}
    for name in ("_scoring", "_rank_rows"):
        method = getattr(ranker, name)

        def timed(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            begin = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - begin

        setattr(ranker, name, timed)
    return spent


def project(rows: list[dict[str, Any]], target: int = 1_000_000) -> dict[str, Any] | None:
    """p95 at `target` experts from the measured growth: a least-squares fit of
    log(p95) = a + b log(n) over every measured size (a power law; b is the growth exponent:
    1 for a linear scan, near 0 for a cost that does not grow with the roster), per path."""
    if len(rows) < 2:
        return None
    sizes = np.log([r["n_experts"] for r in rows])
    out: dict[str, Any] = {"n_experts": target, "from": [r["n_experts"] for r in rows]}
    for name in ("pool_p95_ms", "exact_p95_ms", "meili_round_trip_p95_ms", "pool_python_p95_ms"):
        if not all(r.get(name) for r in rows):
            continue
        slope, intercept = np.polyfit(sizes, np.log([r[name] for r in rows]), 1)
        out[name] = round(float(np.exp(intercept + slope * np.log(target))), 1)
        out[name.replace("_ms", "_exponent")] = round(float(slope), 3)
    rates = [r["n_experts"] / r["meili_index_s"] for r in rows if r.get("meili_index_s")]
    if rates:
        out["meili_index_s_at_slowest_rate"] = round(target / min(rates), 0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--needs", type=int, default=100)
    parser.add_argument("--pool", type=int, default=POOL)
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["document", "headline"],
        help="profile sections whose blocks Meilisearch holds (default: the whole row, as the "
        "service; `document`: the document section's blocks only)",
    )
    parser.add_argument(
        "--vectors",
        choices=("random", "real"),
        default="random",
        help="experts' vectors: random unit blocks (default), or drawn from the 3,000 benchmark "
        "profiles' real embeddings (mixtures of near neighbours plus noise), with real needs",
    )
    parser.add_argument(
        "--split",
        nargs="?",
        choices=SPLITS,
        const="always",
        default=None,
        help="which searches go to Meilisearch as four exact searches over quarters of the "
        "index (`MeiliCandidatePool(split=)`; `--split` alone: always; default: the pool's)",
    )
    parser.add_argument(
        "--first",
        type=int,
        default=FIRST_STAGE,
        help="hits asked of the first (unfiltered) search, for the feedback stage's best few",
    )
    parser.add_argument(
        "--parallel",
        action=argparse.BooleanOptionalAction,
        default=DEFAULT_PARALLEL,
        help="a split search's four parts as concurrent requests (--no-parallel: as one "
        "multi-search; default: the pool's)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        type=Variant.parse,
        default=[],
        metavar="SPLIT[,parallel][,first=N][,pool=N]",
        help="measure several ways of asking Meilisearch on one filled index, interleaved need "
        "by need (e.g. `never unfiltered always,parallel never,first=1000 always,pool=2000`); "
        "overrides --split, --first and --parallel",
    )
    parser.add_argument(
        "--store",
        choices=STORES,
        default=DEFAULT_STORE,
        help="Meilisearch's vector store: stable (arroy's trees) or experimental (hannoy's HNSW "
        "graph; its indexes are apart, prefix `bench_<n>_hnsw_`)",
    )
    parser.add_argument("--keep", action="store_true", help="reuse a filled Meilisearch index")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--fill-only", action="store_true", help="fill the Meilisearch indexes, measure nothing"
    )
    args = parser.parse_args()
    url = os.environ.get("HOMEWARD_MEILI_URL") or os.environ.get("HOMEWARD_TEST_MEILI_URL", "")
    key = os.environ.get("HOMEWARD_MEILI_KEY") or os.environ.get("HOMEWARD_TEST_MEILI_KEY", "")
    if not url:
        sys.exit('set HOMEWARD_MEILI_URL (or run: eval "$(.ci/meili.sh start)")')
    results = []
    for n in args.sizes:
        if args.fill_only:
            matcher, experts, rows = build(n, seed=n, vectors=args.vectors)
            pool = make_pool(
                matcher, n, tuple(args.sections), url, key, args.vectors, store=args.store
            )
            seconds = fill_pool(pool, matcher, experts, rows, args.keep)
            rate = round(n / seconds, 1) if seconds else None
            print(
                json.dumps(
                    {
                        "n_experts": n,
                        "meili_index_s": seconds,
                        "docs_per_s": rate,
                        "meili_batches": fill_batches(pool),
                        "load_avg": os.getloadavg(),
                    }
                ),
                flush=True,
            )
            continue
        variants = tuple(args.variants) or (
            Variant(args.split or DEFAULT_SPLIT, args.first, args.parallel),
        )
        rows = measure(
            n,
            args.needs,
            args.pool,
            args.keep,
            tuple(args.sections),
            url,
            key,
            args.vectors,
            variants,
            args.store,
        )
        results += rows
        if not args.json:
            for row in rows:
                print(json.dumps(row), file=sys.stderr, flush=True)
    # The growth to 1M of the first variant (the pool's defaults unless --variants says).
    first = results[0]["variant"] if results else None
    report = {
        "sizes": results,
        "projection": project([r for r in results if r["variant"] == first]),
    }
    if args.json:
        print(json.dumps(report))
        return
    columns = [
        ("n_experts", "experts"),
        ("variant", "variant"),
        ("meili_index_s", "index s"),
        ("recall_at_100", "Recall@100"),
        ("recall_at_100_min", "min"),
        ("top10_overlap", "top-10 ="),
        ("top10_overlap_wide", "wide ="),
        ("top10_score_gain", "score +"),
        ("pool_p50_ms", "pool p50"),
        ("pool_p95_ms", "pool p95"),
        ("exact_p50_ms", "exact p50"),
        ("exact_p95_ms", "exact p95"),
    ]
    print(" | ".join(f"{title:>10}" for _, title in columns))
    for row in results:
        print(" | ".join(f"{row[name]!s:>10}" for name, _ in columns))
    if report["projection"]:
        print("projection:", json.dumps(report["projection"]))
    print("load average:", [round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    main()
