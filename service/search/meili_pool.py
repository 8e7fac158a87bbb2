"""The matcher's candidate pool in Meilisearch: one document per expert, holding the
expert's stored row as a user-provided vector and the hard constraints as filterable fields.

A separate index (`<prefix>match_experts`) from the search indexes: its vectors are the
matcher's own rows (`matching.pool.pool_vector`), searched with the matcher's composite
queries, never with a text. The pool may hold some of a pool vector's columns only
(`columns`: say the document section's blocks, without the headline's): Meilisearch's
indexing and search cost grow with the dimension, and the matcher re-ranks the candidates
with its full rows anyway; the padding column is then recomputed over the columns kept, so
every document keeps one common norm and the cosine still orders experts by dot product.
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Literal

import meilisearch
import numpy as np
from numpy.typing import NDArray

from matching.partitions import Partitions
from matching.pool import PoolFilter
from service.search.base import SearchError
from service.search.meili import _call, quote

INDEX = "match_experts"
GROUPS_INDEX = "match_groups"
EMBEDDER = "match"
BATCH = 5000  # documents per request: about 10 kB each, within the 100 MB payload limit
# Pool vectors are sent as integers, scaled: a cosine does not see the scale, and "-412"
# parses several times faster than "-0.041234567" (float32 values printed as float64 are
# 18 digits long). The rounding (5e-5) is well under the int8 index's own step.
SCALE = 10_000.0
# Every document carries `part`, a fixed hash of its id in 0..PARTS-1, so that a search can
# be split into PARTS searches over disjoint quarters of the index (`split`): Meilisearch's
# vector store (arroy) compares the query with every candidate itself, exactly, when the
# filter leaves fewer than half the documents, and walks its approximate trees otherwise.
PARTS = 4
# Which searches are split: "never"; "unfiltered", the searches without a filter only (the
# feedback stage's first search, where the approximate trees lose the recall: a filtered
# search that leaves under half the index is exact already); "always".
Split = Literal["never", "unfiltered", "always"]
SPLITS: tuple[Split, ...] = ("never", "unfiltered", "always")
DEFAULT_SPLIT: Split = "always"
# A split search's parts as concurrent requests by default (measured in docs/deploy.md).
DEFAULT_PARALLEL = True
# Meilisearch 1.21's vector stores: "stable" (arroy, random-projection trees) or
# "experimental" (hannoy, an HNSW graph; behind the `vectorStoreSetting` experimental feature).
# Not the default: 1.21's HNSW store indexed several times slower, missed the best experts on
# random vectors, and failed every search of one 40,000-expert index (docs/deploy.md).
Store = Literal["stable", "experimental"]
STORES: tuple[Store, ...] = ("stable", "experimental")
DEFAULT_STORE: Store = "stable"
# With partitions (`matching.partitions`), a search reads the groups nearest its query until
# they hold this share of the index (at least four times the hits asked): a filter that leaves
# under half the index, which Meilisearch's vector store answers exactly. 0.15 held 0.9815 of
# the scan's top-100 at 100,000 real-distribution experts, 0.1 held 0.977 (docs/deploy.md).
DEFAULT_REACH = 0.15
# The hits a search that reads partitions asks for at most: at 100,000 real-distribution
# experts, reach 0.15, 1,000 hits held as much of the scan's top-100 as 2,000 (0.9825 both:
# what the groups left unread bounds it, not the hits) at 0.88 times the ranking's p95
# (docs/deploy.md, seventh round).
PARTITIONED_HITS = 1000
# How long the groups' sizes (a facet count) are trusted before they are asked again.
SIZES_TTL_S = 60.0
# The documents' groups are counted in one facet: every group must be (sqrt(n) of them).
FACET_VALUES = 1000
FILTERABLE = [
    "part",
    "group",
    "eligible",
    "open",
    "modes",
    "languages",
    "from_day",
    "until_day",
    "confirmed_day",
]


def filter_expression(constraints: PoolFilter, *, open_only: bool) -> str:
    """Gets the Meilisearch filter of a need's hard constraints."""
    terms = ["eligible = true"]
    if open_only:
        terms.append("open = true")
    if constraints.modes is not None:
        terms.append(f"modes IN [{', '.join(quote(m) for m in constraints.modes)}]")
    if constraints.any_mode:
        terms.append("modes IS NOT EMPTY")
    if constraints.languages:
        terms.append(f"languages IN [{', '.join(quote(lang) for lang in constraints.languages)}]")
    terms.append(f"until_day >= {constraints.available_on}")
    terms.append(f"confirmed_day >= {constraints.confirmed_since}")
    if constraints.window is not None:
        first, last = constraints.window
        terms.append(f"until_day >= {first}")
        terms.append(f"from_day <= {last}")
    return " AND ".join(terms)


def part_of(expert_id: str) -> int:
    """The quarter of the index an expert's document is in: a fixed hash of the id."""
    return zlib.crc32(expert_id.encode()) % PARTS


class MeiliCandidatePool:
    """Experts' rows in a Meilisearch index; `candidates` is the matcher's `CandidatePool`."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str = "",
        index_prefix: str = "homeward_",
        dimensions: int,
        columns: Sequence[int] | None = None,
        open_only: bool = True,
        split: bool | Split = DEFAULT_SPLIT,
        parallel: bool = DEFAULT_PARALLEL,
        store: Store = DEFAULT_STORE,
        partitions: Partitions | None = None,
        reach: float | None = DEFAULT_REACH,
        first_reach: float | None = None,
        versioned: bool = False,
        timeout_s: int = 30,
        task_timeout_s: float = 600.0,
    ) -> None:
        self.client = meilisearch.Client(url, api_key or None, timeout=timeout_s)
        self.uid = f"{index_prefix}{INDEX}"
        # Where the shared partitions are stored (`service.search.meili_groups`).
        self.groups_uid = f"{index_prefix}{GROUPS_INDEX}"
        # The pool vector's columns Meilisearch holds, the padding column last (None: all).
        self.columns = None if columns is None else np.asarray(columns, dtype=np.intp)
        self.dimensions = dimensions if self.columns is None else len(self.columns)
        # Institutions are only proposed experts open to them (service.core.policy).
        self.open_only = open_only
        # Which searches go as PARTS exact searches over the quarters of the index (see PARTS,
        # Split; True is "always", False "never").
        self.split: Split = ("always" if split else "never") if isinstance(split, bool) else split
        if self.split not in SPLITS:
            raise ValueError(f"split: one of {SPLITS}, not {split!r}")
        # A split search's parts as concurrent requests (Meilisearch answers a multi-search's
        # queries one after the other, concurrent searches on several threads).
        self.parallel = parallel
        if store not in STORES:
            raise ValueError(f"store: one of {STORES}, not {store!r}")
        # Which of Meilisearch's vector stores the index uses (see Store).
        self.store: Store = store
        # The groups documents are filed in, and the share of the index a search reads (see
        # DEFAULT_REACH); without partitions, or with no reach, every search reads the whole
        # index, split or not.
        self.partitions = partitions
        self.reach = reach
        # The share the unfiltered search reads (None: `reach`). It only has to hold the
        # feedback stage's best few, which sit in the groups nearest the query.
        self.first_reach = first_reach
        # Partitions shared by several processes (the service: `service.core.match_groups`):
        # each document also carries `grouping`, the version of the centroids it was filed
        # under; a search filters by group only once the centroids are marked `filed` (every
        # document sent under them), and even then reads every document filed under another
        # version (`grouping != version`), so that a worker filing under other centroids
        # meanwhile (a retraining, two workers racing) never hides an expert from it.
        self.versioned = versioned
        self.version = partitions.version if partitions is not None and versioned else None
        self.filed = True
        self._sizes: tuple[float, NDArray[np.intp]] | None = None
        self._clients = [
            meilisearch.Client(url, api_key or None, timeout=timeout_s)
            for _ in range(PARTS if parallel else 0)
        ]
        self._executor = ThreadPoolExecutor(PARTS) if parallel else None
        self.task_timeout_ms = int(task_timeout_s * 1000)
        # The latest searches: (round trip, Meilisearch's own processing time) in ms, and the
        # hits returned (for the benchmark's breakdown).
        self.searches: deque[tuple[float, float, int]] = deque(maxlen=64)

    def ensure_index(self) -> None:
        """Creates the index with its embedder and filterable fields (idempotent)."""
        try:
            self._wait(_call(partial(self.client.create_index, self.uid, {"primaryKey": "id"})))
        except SearchError as exc:
            if "index_already_exists" not in str(exc):
                raise
        settings = {
            "filterableAttributes": FILTERABLE,
            "searchableAttributes": ["id"],
            "embedders": {EMBEDDER: {"source": "userProvided", "dimensions": self.dimensions}},
            "pagination": {"maxTotalHits": 10_000},
        }
        if self.partitions is not None:
            # The groups' sizes come from a facet count: every group must be counted.
            settings["faceting"] = {"maxValuesPerFacet": max(100, len(self.partitions))}
        if self.versioned:
            # Partitions may come later (`use_partitions`): room for a million experts' groups.
            settings["filterableAttributes"] = [*FILTERABLE, "grouping"]
            groups = len(self.partitions) if self.partitions is not None else 0
            settings["faceting"] = {"maxValuesPerFacet": max(FACET_VALUES, groups)}
        if self.store != "stable":
            # The setting is refused unless its experimental feature is on (a server-wide flag).
            _call(
                partial(
                    self.client.http.patch, "experimental-features", {"vectorStoreSetting": True}
                )
            )
            settings["vectorStore"] = self.store
        self._wait(_call(partial(self.client.index(self.uid).update_settings, settings)))

    def document(
        self, expert_id: str, vector: NDArray[np.floating], fields: dict[str, Any], *, open_: bool
    ) -> dict[str, Any]:
        """Builds an expert's document: its pool vector (the columns the pool holds) and its
        constraint fields."""
        full = np.asarray(vector, dtype=np.float64)
        kept = full
        if self.columns is not None:
            kept = full[self.columns]
            # The padding takes up what the dropped columns held: one norm for every expert.
            body = kept[:-1]
            kept[-1] = np.sqrt(max(0.0, float(full @ full) - float(body @ body)))
        values = np.rint(kept * SCALE).astype(np.int32).tolist()
        grouped: dict[str, Any] = {}
        if self.partitions is not None:
            grouped["group"] = int(self.partitions.assign(full[None, :])[0])
            if self.version is not None:
                grouped["grouping"] = self.version
        return {
            "id": expert_id,
            **fields,
            **grouped,
            "part": part_of(expert_id),
            "open": open_,
            "_vectors": {EMBEDDER: {"embeddings": values, "regenerate": False}},
        }

    def use_partitions(self, partitions: Partitions | None, *, filed: bool) -> None:
        """Files and probes with these shared centroids from now on (None: none); searches
        filter by group only when `filed` (see `versioned`)."""
        if partitions is not None and len(partitions) > FACET_VALUES:
            faceting = {"faceting": {"maxValuesPerFacet": len(partitions)}}
            self._wait(_call(partial(self.client.index(self.uid).update_settings, faceting)))
        self.partitions = partitions
        self.version = partitions.version if partitions is not None and self.versioned else None
        self.filed = filed
        self._sizes = None

    def upsert(
        self, documents: Sequence[dict[str, Any]], *, wait: bool = True, partial_: bool = False
    ) -> list[int]:
        """Adds or replaces documents in batches (`partial_`: updates the fields given, keeps
        the others); returns the task ids (waited for by default)."""
        index = self.client.index(self.uid)
        send = index.update_documents if partial_ else index.add_documents
        tasks = []
        for start in range(0, len(documents), BATCH):
            batch = list(documents[start : start + BATCH])
            tasks.append(_call(partial(send, batch, "id")))
        uids = [task.task_uid for task in tasks]
        if wait:
            self.wait(uids)
        return uids

    def fingerprints(self) -> dict[str, str]:
        """Gets every document's fingerprint (what it was made from), by expert id."""
        index = self.client.index(self.uid)
        out: dict[str, str] = {}
        offset = 0
        while True:
            params = {"fields": ["id", "fingerprint"], "offset": offset, "limit": 10_000}
            page = _call(partial(index.get_documents, params))
            for document in page.results:
                values = dict(document)
                out[str(values.get("id"))] = str(values.get("fingerprint", ""))
            offset += len(page.results)
            if not page.results or offset >= page.total:
                return out

    def delete(self, ids: Sequence[str]) -> None:
        """Removes experts from the pool."""
        if ids:
            index = self.client.index(self.uid)
            self._wait(_call(partial(index.delete_documents, list(ids))))

    def wait(self, task_ids: Sequence[int]) -> None:
        """Waits for tasks `upsert(..., wait=False)` queued."""
        for uid in task_ids:
            self._wait_uid(uid)

    def candidates(
        self, query: NDArray[np.float32], constraints: PoolFilter | None, *, limit: int
    ) -> list[str]:
        """Gets up to `limit` expert ids, best first, by cosine with `query`, among those who
        pass `constraints` (everyone when None)."""
        values = np.asarray(query, dtype=np.float64)
        if self.columns is not None:
            values = values[self.columns]
        peak = float(np.abs(values).max()) if values.size else 0.0
        # Scaled and rounded (the cosine does not see the scale): a short request body.
        params: dict[str, Any] = {
            "vector": np.round(values / (peak or 1.0), 6).tolist(),
            "hybrid": {"embedder": EMBEDDER, "semanticRatio": 1.0},
            "limit": limit,
            "attributesToRetrieve": ["id"],
            "retrieveVectors": False,
        }
        expression = (
            filter_expression(constraints, open_only=self.open_only) if constraints else None
        )
        started = time.perf_counter()
        constrained = bool(expression)
        reach = self.first_reach if expression is None else self.reach
        groups = self._probe(query, limit, reach if reach is not None else self.reach)
        if groups is not None:
            limit = min(limit, PARTITIONED_HITS)
            params["limit"] = limit
            near = f"group IN [{', '.join(str(g) for g in groups)}]"
            if self.version is not None:
                # Documents filed under other centroids are read whole (see `versioned`).
                version = quote(self.version)
                near = f"(({near} AND grouping = {version}) OR grouping != {version})"
            expression = " AND ".join([near, *([expression] if expression else [])])
        if expression:
            params["filter"] = expression
        # Split or not as without groups: each quarter of the groups read is exact as well, and
        # its parts go to both cores.
        if self.split == "never" or (self.split == "unfiltered" and constrained):
            result = _call(partial(self.client.index(self.uid).search, "", params))
            processing = float(result.get("processingTimeMs", 0))
            ids = [str(hit["id"]) for hit in result["hits"]]
        else:
            ids, processing = self._split_search(params, expression, limit)
        elapsed = (time.perf_counter() - started) * 1000.0
        self.searches.append((elapsed, processing, len(ids)))
        return ids

    def _probe(
        self, query: NDArray[np.float32], limit: int, reach: float | None
    ) -> list[int] | None:
        """The groups a search reads (None: the whole index): the nearest to the query until
        they hold `reach` of the index, or four times the hits asked."""
        if self.partitions is None or reach is None or not self.filed:
            return None
        sizes = self.group_sizes()
        total = int(sizes.sum())
        groups = self.partitions.probe(query, sizes, reach=int(max(reach * total, 4 * limit)))
        if 2 * int(sizes[groups].sum()) >= total:
            return None  # half the index or more: a filter would not make the search exact
        return groups

    def group_sizes(self) -> NDArray[np.intp]:
        """Documents per group (a facet count over the index, asked again after SIZES_TTL_S)."""
        assert self.partitions is not None
        now = time.monotonic()
        if self._sizes is None or now - self._sizes[0] > SIZES_TTL_S:
            params: dict[str, Any] = {"limit": 0, "facets": ["group"]}
            if self.version is not None:
                params["filter"] = f"grouping = {quote(self.version)}"
            result = _call(partial(self.client.index(self.uid).search, "", params))
            counts = (result.get("facetDistribution") or {}).get("group") or {}
            sizes = np.zeros(len(self.partitions), dtype=np.intp)
            for group, count in counts.items():
                if 0 <= int(group) < len(sizes):
                    sizes[int(group)] = int(count)
            self._sizes = (now, sizes)
        return self._sizes[1]

    def _split_search(
        self, params: dict[str, Any], expression: str | None, limit: int
    ) -> tuple[list[str], float]:
        """PARTS queries, one per quarter of the index (each exact in Meilisearch's vector
        store), as one multi-search or, `parallel`, as concurrent searches; merged by score:
        the best `limit` of the union. Each
        quarter is asked for its expected share of the best `limit` plus four deviations
        (where they fall is a binomial draw: the part is a hash of the id)."""
        share = limit / PARTS
        each = min(limit, math.ceil(share + 4 * math.sqrt(share)))
        queries = []
        for part in range(PARTS):
            term = f"part = {part}"
            queries.append(
                {
                    **params,
                    "limit": each,
                    "filter": f"{term} AND {expression}" if expression else term,
                    "showRankingScore": True,
                }
            )
        if self._executor is not None:
            searches = [
                self._executor.submit(_call, partial(client.index(self.uid).search, "", query))
                for client, query in zip(self._clients, queries, strict=True)
            ]
            response = {"results": [search.result() for search in searches]}
        else:
            queries = [{**query, "indexUid": self.uid} for query in queries]
            response = _call(partial(self.client.multi_search, queries))
        hits = [
            (float(hit.get("_rankingScore", 0.0)), str(hit["id"]))
            for result in response["results"]
            for hit in result["hits"]
        ]
        hits.sort(key=lambda item: -item[0])
        processing = sum(float(r.get("processingTimeMs", 0)) for r in response["results"])
        return [expert_id for _, expert_id in hits[:limit]], processing

    def drop(self) -> None:
        """Deletes the index and the stored partitions' (tests, benchmarks)."""
        for uid in (self.uid, self.groups_uid):
            with contextlib.suppress(SearchError):
                self._wait(_call(partial(self.client.delete_index, uid)))

    def _wait(self, task: Any) -> None:
        self._wait_uid(task.task_uid)

    def _wait_uid(self, uid: int) -> None:
        done = _call(
            partial(
                self.client.wait_for_task,
                uid,
                timeout_in_ms=self.task_timeout_ms,
                interval_in_ms=50,
            )
        )
        if done.status != "succeeded":
            error = done.error or {}
            raise SearchError(
                f"Meilisearch task {done.uid} {done.status}: "
                f"{error.get('code', '')} {error.get('message', '')}".strip()
            )
