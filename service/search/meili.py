"""Search backend on Meilisearch: typo tolerance, synonyms, facets and hybrid search."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any, TypeVar

import meilisearch
import requests
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)

from service.search import query as q
from service.search.base import (
    MARK_CLOSE,
    MARK_OPEN,
    BackendUnavailable,
    Document,
    FacetCount,
    Hit,
    SearchError,
    SearchPage,
    SearchQuery,
)
from service.search.documents import INDEXES, SYNONYM_GROUPS, IndexSchema, schema_for
from service.search.semantic import DENSE_DEPTH, allowed_edits, best_correction, edit_distance

T = TypeVar("T")
EMBEDDER = "default"
MAX_LEXICAL_QUERIES = 24
LEXICAL_DEPTH = 200  # candidates per term, independent of the limit so scores are stable
_INTERNAL = ("win_start", "win_end")
# Fields whose words are never corrected (nor matched with typos).
_NO_TYPOS = ("email", "phone")
# Documents read per misspelled word for the words Meilisearch matched it to (the closest
# first: its ranking puts fewer typos first).
CORRECTION_DEPTH = 50
# Keyword matches whose ids a hybrid search's count query returns: when the words match no
# more, the neighbours by meaning the keywords also match are known without a second request.
KNOWN_MATCHES = 100
# From this many keyword matches (a common word), the neighbours by meaning outside the known
# ids are counted as not matched, without asking (at most DENSE_DEPTH over), as FTS5 counts
# the neighbours outside its sample of a common word's matches (its BROAD_MATCHES).
BROAD_MATCHES = 2_000
_MARKED = re.compile(f"[^\\W_]*{MARK_OPEN}[^{MARK_CLOSE}]*{MARK_CLOSE}[^\\W_]*")


def settings_for(schema: IndexSchema, *, dimensions: int | None) -> dict[str, Any]:
    """Builds the Meilisearch settings of one index from its schema."""
    synonyms: dict[str, list[str]] = {}
    for group in SYNONYM_GROUPS:
        for member in group:
            synonyms[member] = [m for m in group if m != member]
    settings: dict[str, Any] = {
        "searchableAttributes": [s.name for s in schema.searchable],
        "filterableAttributes": [
            *schema.keywords,
            *schema.numbers,
            *schema.booleans,
            *_INTERNAL,
            "id",
        ],
        "sortableAttributes": [*schema.sortable, "id"],
        "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
        "typoTolerance": {
            "enabled": True,
            # Not the sizes of `semantic.allowed_edits` (4 and 8): with a typo allowed from 4
            # letters, Meilisearch 1.21 panics highlighting a 4-letter word matched to a
            # 3-letter one ("range end index 4 out of range for slice of length 3").
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnAttributes": [s.name for s in schema.searchable if s.name in _NO_TYPOS],
        },
        "synonyms": synonyms,
        "faceting": {"maxValuesPerFacet": q.MAX_FACET_VALUES},
        "pagination": {"maxTotalHits": 10_000},
    }
    if dimensions:
        settings["embedders"] = {EMBEDDER: {"source": "userProvided", "dimensions": dimensions}}
    return settings


def quote(value: str) -> str:
    """Quotes a string for a Meilisearch filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MeiliBackend:
    """Search in a Meilisearch server, one Meilisearch index per logical index."""

    name = "meilisearch"
    needs_reindex = False  # settings are applied in place; documents stay

    def __init__(
        self,
        *,
        url: str,
        api_key: str = "",
        index_prefix: str = "homeward_",
        embedding_dimensions: int | None = None,
        timeout_s: int = 10,
        task_timeout_s: float = 60.0,
    ) -> None:
        self.client = meilisearch.Client(url, api_key or None, timeout=timeout_s)
        # Searches go through one kept-alive HTTP session per thread: the client library opens
        # a new connection for every call (`requests.post`), which costs more than a small
        # search takes on a busy machine.
        self._search_url = url.rstrip("/") + "/multi-search"
        # Uncompressed answers: Meilisearch gzips a roster page (35 kB of JSON) when asked, and
        # that took 45 of the 55 ms one search waited on a loaded machine (its own processing:
        # 5 ms); on the network next to it, the bytes cost far less than the compression.
        self._headers = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout_s = timeout_s
        self._sessions = threading.local()
        self.prefix = index_prefix
        self.dimensions = embedding_dimensions
        self.task_timeout_ms = int(task_timeout_s * 1000)
        self._ready = False
        # The latest multi-searches' (round trip, Meilisearch's own processing time summed over
        # their queries), in ms: what a benchmark reads to tell the server's time apart.
        self.searches: deque[tuple[float, float]] = deque(maxlen=64)

    def uid(self, index: str) -> str:
        """Gets the Meilisearch index uid of a logical index."""
        return f"{self.prefix}{schema_for(index).name}"

    def ensure_indexes(self) -> None:
        """Creates the indexes and applies their settings, waiting for both (idempotent)."""
        if self._ready:
            return
        for index in INDEXES:
            uid = self.uid(index)
            try:
                self._wait(_call(partial(self.client.create_index, uid, {"primaryKey": "id"})))
            except SearchError as exc:
                if "index_already_exists" not in str(exc):
                    raise
            settings = settings_for(schema_for(index), dimensions=self.dimensions)
            self._wait(_call(partial(self.client.index(uid).update_settings, settings)))
        self._ready = True

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Adds or replaces documents and waits until Meilisearch has indexed them."""
        schema = schema_for(index)
        self.ensure_indexes()
        if not documents:
            return
        body = [self._to_meili(schema, doc) for doc in documents]
        self._wait(_call(lambda: self.client.index(self.uid(index)).add_documents(body, "id")))

    def upsert_batches(self, index: str, batches: Sequence[Sequence[Document]]) -> None:
        """Adds or replaces many batches: all are queued first (Meilisearch then indexes
        consecutive additions together), then each is waited for. For bulk loads."""
        schema = schema_for(index)
        self.ensure_indexes()
        uid = self.uid(index)
        target = self.client.index(uid)
        tasks = []
        for batch in batches:
            if batch:
                body = [self._to_meili(schema, doc) for doc in batch]
                tasks.append(_call(partial(target.add_documents, body, "id")))
        for task in tasks:
            self._wait(task)

    def delete(self, index: str, ids: Sequence[int]) -> None:
        """Removes documents by id and waits for the deletion."""
        self.ensure_indexes()
        if not ids:
            return
        id_filter = f"id IN [{', '.join(str(int(i)) for i in ids)}]"
        self._wait(
            _call(lambda: self.client.index(self.uid(index)).delete_documents(filter=id_filter))
        )

    def all_ids(self, index: str) -> set[int]:
        """Lists every document id of an index."""
        self.ensure_indexes()
        ids: set[int] = set()
        offset = 0
        while True:
            params = {"fields": ["id"], "limit": 1000, "offset": offset}
            batch = _call(partial(self.client.index(self.uid(index)).get_documents, params))
            ids.update(int(getattr(d, "id")) for d in batch.results)  # noqa: B009
            offset += len(batch.results)
            if not batch.results or offset >= batch.total:
                return ids

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        """Runs a keyword or hybrid search with filters, facets, sort and highlights; when no
        document holds the words as typed, searches the closest words the index holds instead
        and says so (`SearchPage.suggestion`), as the other backends do."""
        schema = schema_for(index)
        today = query.today or date.today()
        clauses = q.compile_filters(schema, query.filters, today=today)
        sort = q.parse_sort(schema, query.sort)
        facets = q.check_facets(schema, query.facets)
        page, per_page = q.check_page(query.page, query.per_page)
        if any(
            (isinstance(c, q.KeywordClause) and not c.keys)
            or (isinstance(c, q.WindowClause) and not c.spans)
            for c in clauses
        ):
            return SearchPage(hits=[], total=0, page=page, per_page=per_page, facets={})
        words = q.terms(query.text)
        filters = _filter(clauses)
        buckets = q.window_buckets(today) if schema.window.name in facets else []

        # The words a correction may change, each counted in the index as typed in the same
        # request as the search: a typo then costs one more round trip (the corrected search),
        # not two (the correction probes, then the search).
        asked = self._correctable(words)

        def run(
            typed: Sequence[str], text: str, counted: Sequence[int]
        ) -> tuple[list[dict[str, Any]], bool]:
            """Sends one search's queries; says whether they end with a hybrid search's counts."""
            vector = query.vector_for(text)
            searched = replace(query, vector=vector, embed=None)
            requests_ = self._requests(
                schema, searched, typed, filters, facets, sort, page, per_page, buckets
            )
            requests_ += [self._count_probe(schema, typed[i]) for i in counted]
            hybrid = vector is not None and bool(typed)
            if hybrid:
                assert vector is not None
                requests_ += self._hybrid_counts(schema, vector, typed, filters, facets)
            return self._multi_search(requests_), hybrid

        results, hybrid = run(words, query.text, asked)
        probe_at = 1 + len(buckets)  # the best keyword match, after the page and the buckets
        suggestion: str | None = None
        if words and not _exact(results[probe_at]):
            held = {
                i: int(r.get("estimatedTotalHits", 0))
                for i, r in zip(
                    asked, results[probe_at + 1 : probe_at + 1 + len(asked)], strict=True
                )
            }
            seen = results[0].get("hits", []) if query.highlight else []
            corrected = self._correct(schema, words, seen=seen, held=held)
            # A word no document holds, left as typed, cannot match exactly: searching the
            # other words' corrections would find no exact match either (the last word may be
            # a prefix, though).
            stuck = any(
                not n and corrected[i] == words[i] for i, n in held.items() if i < len(words) - 1
            )
            if corrected != words and not stuck:
                retried, retried_hybrid = run(corrected, " ".join(corrected), [])
                if _exact(retried[probe_at]):
                    results, suggestion = retried, " ".join(corrected)
                    hybrid, words = retried_hybrid, corrected
        first = results[0]
        hits = [self._hit(schema, raw) for raw in first.get("hits", [])]
        total = int(first.get("totalHits", first.get("estimatedTotalHits", len(hits))))
        distribution: dict[str, dict[str, int]] = first.get("facetDistribution") or {}
        in_buckets = [int(r.get("totalHits", 0)) for r in results[1 : 1 + len(buckets)]]
        if hybrid:
            # As on the other backends: the keyword matches, and the nearest neighbours by
            # meaning the keywords do not match, each counted once.
            keyword, neighbours = results[-2], results[-1].get("hits", [])
            added = self._unmatched(schema, words, filters, keyword, neighbours)
            total = int(keyword.get("totalHits", 0)) + len(added)
            distribution = _add_values(
                keyword.get("facetDistribution") or {},
                added,
                [f for f in facets if f != schema.window.name],
            )
            for i, (_, (start, end)) in enumerate(buckets):
                in_buckets[i] += sum(
                    1 for d in added if int(d["win_start"]) <= end and int(d["win_end"]) >= start
                )
        counts: dict[str, list[FacetCount]] = {}
        for name in facets:
            if name == schema.window.name:
                counts[name] = [
                    FacetCount(label, n)
                    for (label, _), n in zip(buckets, in_buckets, strict=True)
                    if n
                ]
            else:
                values = distribution.get(name) or {}
                ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
                counts[name] = [
                    FacetCount(str(v), int(n)) for v, n in ordered[: q.MAX_FACET_VALUES] if n
                ]
        return SearchPage(
            hits=hits,
            total=total,
            page=page,
            per_page=per_page,
            facets=counts,
            suggestion=suggestion,
        )

    def _requests(
        self,
        schema: IndexSchema,
        query: SearchQuery,
        words: Sequence[str],
        filters: list[str],
        facets: Sequence[str],
        sort: Sequence[q.SortKey],
        page: int,
        per_page: int,
        buckets: Sequence[tuple[str, tuple[int, int]]],
    ) -> list[dict[str, Any]]:
        """Writes one search as the queries of one multi-search: the page (with the keyword
        facets), one count per availability bucket, and, when there are words, last, a probe
        of the best keyword match (is there a document holding every word as typed?).

        The bucket counts carry no vector: with no hits asked, a hybrid count is the keyword
        count (its semantic half returns nothing), and seven copies of the vector made most of
        the request (61 kB of 70 at 384 dimensions)."""
        uid = self.uid(schema.name)
        text = " ".join(words)
        main: dict[str, Any] = {
            "indexUid": uid,
            "q": text,
            "filter": filters,
            "page": page,
            "hitsPerPage": per_page,
            "showRankingScore": True,
            "matchingStrategy": "all",
            # The page shows the public fields only: the vectors and the window bounds stay.
            "attributesToRetrieve": list(schema.fields),
        }
        keyword_facets = [f for f in facets if f != schema.window.name]
        if keyword_facets and not (words and query.vector is not None):
            # (A hybrid search's facets come from its keyword count: `_hybrid_counts`.)
            main["facets"] = keyword_facets
        if sort:
            main["sort"] = [f"{k.field}:{'desc' if k.descending else 'asc'}" for k in sort]
        elif not words and query.vector is None:
            main["sort"] = ["id:asc"]
        if words and query.highlight:
            snippets = [s.name for s in schema.searchable if s.snippet]
            main.update(
                attributesToHighlight=list(schema.highlight),
                highlightPreTag=MARK_OPEN,
                highlightPostTag=MARK_CLOSE,
                attributesToCrop=[f"{name}:24" for name in snippets],
                cropMarker="…",
            )
        if query.vector is not None:
            if not self.dimensions:
                raise SearchError("hybrid search needs embedding_dimensions on the backend")
            main["vector"] = _short(query.vector)
            main["hybrid"] = {"embedder": EMBEDDER, "semanticRatio": query.semantic_ratio}
        queries = [main]
        for _, (start, end) in buckets:
            queries.append(
                {
                    "indexUid": uid,
                    "q": text,
                    "filter": [*filters, f"win_start <= {end} AND win_end >= {start}"],
                    "page": 1,
                    "hitsPerPage": 0,
                    "matchingStrategy": "all",
                }
            )
        if words:
            queries.append(
                {
                    "indexUid": uid,
                    "q": text,
                    "filter": filters,
                    "limit": 1,
                    "attributesToRetrieve": ["id"],
                    "showRankingScoreDetails": True,
                    "matchingStrategy": "all",
                }
            )
        return queries

    def _hybrid_counts(
        self,
        schema: IndexSchema,
        vector: Sequence[float],
        words: Sequence[str],
        filters: list[str],
        facets: Sequence[str],
    ) -> list[dict[str, Any]]:
        """The two queries a hybrid search is counted from, last in its multi-search: the
        keyword matches (their count, facets and the ids of the best `KNOWN_MATCHES`), and the
        `DENSE_DEPTH` nearest neighbours by meaning the filters allow (their ids, facet values
        and availability window). Meilisearch's own hybrid count would be every document the
        filters allow: its semantic side matches them all."""
        uid = self.uid(schema.name)
        keyword_facets = [f for f in facets if f != schema.window.name]
        keyword: dict[str, Any] = {
            "indexUid": uid,
            "q": " ".join(words),
            "filter": filters,
            "page": 1,
            "hitsPerPage": KNOWN_MATCHES,
            "attributesToRetrieve": ["id"],
            "matchingStrategy": "all",
        }
        if keyword_facets:
            keyword["facets"] = keyword_facets
        semantic = {
            "indexUid": uid,
            "filter": filters,
            "limit": DENSE_DEPTH,
            "attributesToRetrieve": ["id", *keyword_facets, *_INTERNAL],
            "vector": _short(vector),
            "hybrid": {"embedder": EMBEDDER, "semanticRatio": 1.0},
        }
        return [keyword, semantic]

    def _unmatched(
        self,
        schema: IndexSchema,
        words: Sequence[str],
        filters: list[str],
        keyword: dict[str, Any],
        neighbours: Sequence[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The neighbours by meaning the keywords do not match. Known from the keyword
        count's ids when it returned every match; for a common word (`BROAD_MATCHES` or more),
        every neighbour outside those ids; otherwise one more request asks which of the others
        the words match (a keyword query among their ids)."""
        matched = int(keyword.get("totalHits", 0))
        known = {int(hit["id"]) for hit in keyword.get("hits", [])}
        unknown = [n for n in neighbours if int(n["id"]) not in known]
        if not matched or not unknown or matched <= len(known) or matched >= BROAD_MATCHES:
            return unknown
        ids = ", ".join(str(int(n["id"])) for n in unknown)
        (found,) = self._multi_search(
            [
                {
                    "indexUid": self.uid(schema.name),
                    "q": " ".join(words),
                    "filter": [*filters, f"id IN [{ids}]"],
                    "limit": len(unknown),
                    "attributesToRetrieve": ["id"],
                    "matchingStrategy": "all",
                }
            ]
        )
        also = {int(hit["id"]) for hit in found.get("hits", [])}
        return [n for n in unknown if int(n["id"]) not in also]

    @staticmethod
    def _correctable(words: Sequence[str]) -> list[int]:
        """Positions of the words a correction may replace: long enough to hold a typo, and
        with no synonyms (a synonym is a word the index answers for)."""
        return [i for i, w in enumerate(words) if allowed_edits(q.fold(w)) and not q.synonyms(w)]

    def _count_probe(self, schema: IndexSchema, word: str) -> dict[str, Any]:
        """A query counting the documents holding a word exactly (a phrase: no typo, no
        prefix)."""
        return {
            "indexUid": self.uid(schema.name),
            "q": f'"{word}"',
            "limit": 0,
        }

    def _correct(
        self,
        schema: IndexSchema,
        words: Sequence[str],
        *,
        seen: Sequence[dict[str, Any]] = (),
        held: dict[int, int] | None = None,
    ) -> list[str]:
        """Replaces each word no document holds by the closest word the index holds, by the
        rule of the other backends (`semantic.best_correction`: fewest edits, then the most
        documents). Meilisearch's own typo tolerance finds the candidates, read from the
        highlights of the documents it matched: first from `seen` (the hits of the search just
        run, which matched the typed words with their typos), then, for the words still
        without one, from a search of each such word alone. `held` counts, by position, the
        documents holding each word exactly: a word some document holds is kept without
        looking further (without `held`, only the word searched alone tells)."""
        uid = self.uid(schema.name)
        fields = [s.name for s in schema.searchable if s.name not in _NO_TYPOS]
        asked = [i for i in self._correctable(words) if not (held or {}).get(i)]
        if not asked:
            return list(words)
        corrected = list(words)
        closest: dict[int, list[str]] = {}
        if held is not None and seen:
            found = _matched_words(seen)
            unsure = []
            for i in asked:
                options = _closest(words[i], found, last=i == len(words) - 1)
                if options is None:
                    continue  # a prefix of words the index holds: a word being typed
                if options:
                    closest[i] = options
                else:
                    unsure.append(i)
            asked = unsure
        probes = [
            {
                "indexUid": uid,
                "q": words[i],
                "limit": CORRECTION_DEPTH,
                "attributesToRetrieve": ["id"],
                "attributesToHighlight": fields,
                # Three words around each match: a crop of one word panics Meilisearch 1.21
                # on some words ("range end index 10 out of range" cropping a headline
                # holding "coordinator"), which broke the typo bench's lexical run.
                "attributesToCrop": [f"{name}:3" for name in fields],
                "cropMarker": "",
                "highlightPreTag": MARK_OPEN,
                "highlightPostTag": MARK_CLOSE,
                "matchingStrategy": "all",
            }
            for i in asked
        ]
        results: list[dict[str, Any]] = []
        if probes:
            try:
                results = self._multi_search(probes)
            except BackendUnavailable as exc:
                if "panicked" not in str(exc):
                    raise
                # Meilisearch 1.21 panics cropping some texts: the same probes, whole fields.
                for probe in probes:
                    del probe["attributesToCrop"]
                results = self._multi_search(probes)
        for i, result in zip(asked, results, strict=True):
            options = _closest(
                words[i], _matched_words(result.get("hits", [])), last=i == len(words) - 1
            )
            if options:
                closest[i] = options
        ties = [(i, w) for i, options in closest.items() for w in options if len(options) > 1]
        frequency: dict[str, int] = {}
        if ties:  # several words as close: the one most documents hold (exact phrase counts)
            counts = self._multi_search(
                [{"indexUid": uid, "q": f'"{w}"', "limit": 0} for _, w in ties]
            )
            for (_, w), result in zip(ties, counts, strict=True):
                frequency[w] = int(result.get("estimatedTotalHits", 0))
        for i, options in closest.items():
            choice = best_correction(q.fold(words[i]), ((w, frequency.get(w, 0)) for w in options))
            corrected[i] = choice or words[i]
        return corrected

    def lexical_scores(self, index: str, text: str, limit: int = 100) -> list[tuple[int, float]]:
        """Scores documents matching any term: sum over terms of idf x Meilisearch score."""
        words = q.terms(text, limit=MAX_LEXICAL_QUERIES)
        if not words or limit <= 0:
            return []
        uid = self.uid(index)
        queries: list[dict[str, Any]] = [{"indexUid": uid, "q": "", "page": 1, "hitsPerPage": 0}]
        for word in words:
            queries.append(
                {
                    "indexUid": uid,
                    "q": word,
                    "limit": max(limit, LEXICAL_DEPTH),
                    "showRankingScore": True,
                    "attributesToRetrieve": ["id"],
                    "matchingStrategy": "all",
                }
            )
        results = self._multi_search(queries)
        n_docs = max(1, int(results[0].get("totalHits", 0)))
        scores: dict[int, float] = {}
        for result in results[1:]:
            n = int(result.get("estimatedTotalHits", 0))
            idf = math.log(1 + (n_docs - n + 0.5) / (n + 0.5))
            for raw in result.get("hits", []):
                doc_id = int(raw["id"])
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * float(raw["_rankingScore"])
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]

    def drop(self) -> None:
        """Deletes the three indexes of this prefix."""
        for index in INDEXES:
            try:
                self._wait(_call(partial(self.client.delete_index, self.uid(index))))
            except SearchError as exc:
                if "index_not_found" not in str(exc):
                    raise
        self._ready = False

    def close(self) -> None:
        """Closes this thread's search session (the client opens a connection per request)."""
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is not None:
            session.close()
            self._sessions.session = None

    def _multi_search(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Runs several searches in one request, creating the indexes if they are missing."""
        self.ensure_indexes()
        try:
            return self._post_search(queries)
        except SearchError as exc:
            if "index_not_found" not in str(exc):
                raise
        self._ready = False
        self.ensure_indexes()
        return self._post_search(queries)

    def _post_search(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Posts one multi-search on this thread's kept-alive session."""
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        body = json.dumps({"queries": queries})
        started = time.perf_counter()
        try:
            response = session.post(
                self._search_url, data=body, headers=self._headers, timeout=self._timeout_s
            )
        except requests.exceptions.RequestException as exc:
            raise BackendUnavailable(f"Meilisearch unreachable: {exc}") from exc
        if response.status_code >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {}
            code, message = error.get("code", ""), error.get("message", response.text[:200])
            if response.status_code >= 500:
                raise BackendUnavailable(f"Meilisearch failed: {code} {message}")
            raise SearchError(f"Meilisearch refused the request: {code} {message}")
        results: list[dict[str, Any]] = response.json()["results"]
        elapsed = (time.perf_counter() - started) * 1000.0
        self.searches.append((elapsed, float(sum(r.get("processingTimeMs", 0) for r in results))))
        return results

    def _wait(self, task: Any) -> None:
        """Waits for an asynchronous task; raises if it failed."""
        done = _call(
            lambda: self.client.wait_for_task(
                task.task_uid, timeout_in_ms=self.task_timeout_ms, interval_in_ms=20
            )
        )
        if done.status != "succeeded":
            error = done.error or {}
            raise SearchError(
                f"Meilisearch task {done.uid} {done.status}: "
                f"{error.get('code', '')} {error.get('message', '')}".strip()
            )

    def _to_meili(self, schema: IndexSchema, doc: Document) -> Document:
        """Adds the window bounds and the user-provided vector Meilisearch needs."""
        body = {k: v for k, v in doc.items() if k in schema.fields}
        body["win_start"], body["win_end"] = q.window_days(
            doc.get(schema.window.start_field), doc.get(schema.window.end_field)
        )
        if self.dimensions:
            vector = doc.get("embedding")
            body["_vectors"] = (
                {EMBEDDER: {"embeddings": vector, "regenerate": False}}
                if vector
                else {EMBEDDER: None}
            )
        return body

    def _hit(self, schema: IndexSchema, raw: dict[str, Any]) -> Hit:
        """Turns a Meilisearch hit into a Hit: public fields, score and safe highlights."""
        formatted = raw.get("_formatted") or {}
        highlights: dict[str, str] = {}
        for name in schema.highlight:
            value = formatted.get(name)
            if isinstance(value, list):
                value = " ; ".join(str(v) for v in value)
            if isinstance(value, str) and MARK_OPEN in value:
                highlights[name] = q.safe_highlight(value)
        return Hit(
            id=int(raw["id"]),
            document={k: raw.get(k) for k in schema.fields},
            score=raw.get("_rankingScore"),
            highlights=highlights,
        )


def _filter(clauses: Sequence[q.Clause]) -> list[str]:
    """Writes the clauses as Meilisearch filter expressions (ANDed)."""
    out: list[str] = []
    for clause in clauses:
        if isinstance(clause, q.KeywordClause):
            out.append(f"{clause.field} IN [{', '.join(quote(v) for v in clause.values)}]")
        elif isinstance(clause, q.NumberClause):
            if clause.gte is not None:
                out.append(f"{clause.field} >= {int(clause.gte)}")
            if clause.lte is not None:
                out.append(f"{clause.field} <= {int(clause.lte)}")
        elif isinstance(clause, q.BoolClause):
            out.append(f"{clause.field} = {'true' if clause.value else 'false'}")
        else:
            out.append(
                " OR ".join(f"(win_start <= {e} AND win_end >= {s})" for s, e in clause.spans)
            )
    return out


def _short(vector: Sequence[float]) -> list[float]:
    """A query vector at seven significant digits: a cosine does not see the difference, and
    the request is half as long as float32 values printed as float64."""
    return [float(f"{x:.7g}") for x in vector]


def _add_values(
    distribution: dict[str, dict[str, int]],
    documents: Sequence[dict[str, Any]],
    facets: Sequence[str],
) -> dict[str, dict[str, int]]:
    """Adds the facet values of more documents to a Meilisearch facet distribution (a value
    counted once per document, as Meilisearch counts a list)."""
    out = {name: dict(values) for name, values in distribution.items()}
    for name in facets:
        counted = out.setdefault(name, {})
        for doc in documents:
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            for v in {str(v) for v in values if v is not None and v != ""}:
                counted[v] = counted.get(v, 0) + 1
    return out


def _call(fn: Callable[[], T]) -> T:
    """Calls the Meilisearch client, turning its failures into search errors."""
    try:
        return fn()
    except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
        raise BackendUnavailable(f"Meilisearch unreachable: {exc}") from exc
    except requests.exceptions.RequestException as exc:
        raise BackendUnavailable(f"Meilisearch unreachable: {exc}") from exc
    except MeilisearchApiError as exc:
        if exc.status_code >= 500:
            raise BackendUnavailable(f"Meilisearch failed: {exc.code} {exc.message}") from exc
        raise SearchError(f"Meilisearch refused the request: {exc.code} {exc.message}") from exc


def _exact(probe: dict[str, Any]) -> bool:
    """Whether a keyword probe's best match holds every word as typed (no typo counted)."""
    hits = probe.get("hits") or []
    if not hits:
        return False
    typo = (hits[0].get("_rankingScoreDetails") or {}).get("typo") or {}
    return int(typo.get("typoCount", 0)) == 0


def _closest(word: str, found: dict[str, int], *, last: bool) -> list[str] | None:
    """The words found closest to a typed word within its allowed edits (none: []), or None
    when the index holds the word as typed (the last word may be a prefix: still being typed)."""
    folded = q.fold(word)
    if folded in found or (last and any(w.startswith(folded) for w in found)):
        return None
    limit = allowed_edits(folded)
    near = [(edit_distance(folded, w, limit), w) for w in found if w.isalpha()]
    near = [(d, w) for d, w in near if d <= limit]
    if not near:
        return []
    best = min(d for d, _ in near)
    return sorted(w for d, w in near if d == best)


def _matched_words(hits: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Counts the (folded) document words a search matched, from its cropped highlights."""
    found: dict[str, int] = {}
    for hit in hits:
        words: set[str] = set()
        for value in (hit.get("_formatted") or {}).values():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and MARK_OPEN in text:
                    for match in _MARKED.finditer(text):
                        plain = match.group().replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
                        words.add(q.fold(plain))
        for word in words:
            found[word] = found.get(word, 0) + 1
    return found
