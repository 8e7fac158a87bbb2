"""Search backend on Meilisearch: typo tolerance, synonyms, facets and hybrid search."""

from __future__ import annotations

import json
import math
import re
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
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
from service.search.meili_words import ONE_TYPO, TWO_TYPOS, Guess, IndexWords, Vocabulary
from service.search.semantic import (
    DENSE_DEPTH,
    allowed_edits,
    best_correction,
    dense_floor,
    edit_distance,
)

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
# Meilisearch's hybrid search shows the keyword matches alone when each scores this much once
# weighted (0.9 at a semantic ratio of 0.5): milli's `GOOD_ENOUGH_SCORE`.
GOOD_ENOUGH_SCORE = 0.45
# How long a search waits for its text's vector before sending its words without it: a
# remembered text's comes back at once, and then goes in the same request.
READY_S = 0.002
# How often (at most) a search asks whether another process changed an index since its words
# were read (they are then read again in the background: ~0.6 s of CPU per 10,000 documents,
# so not more often), and the documents read per request.
REFRESH_S = 300.0
WORDS_PAGE = 5_000
# Requests sent beside a search's own, at once, each on a kept-alive session of its thread: a
# fused page's counts, and its nearest neighbours by meaning (with the keywords matched among
# them), which Meilisearch runs on another core while it answers the page, and which for a new
# text go as soon as its embedding is known rather than after the keyword part came back. Two
# pools of threads: a counts request never queues behind neighbours waiting for an embedding.
BESIDE_THREADS = 8
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
        # A chosen sort is the page's order, as on the other backends; without one the rule
        # does nothing and the words rules rank.
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
        "typoTolerance": {
            "enabled": True,
            # Not the sizes of `semantic.allowed_edits` (4 and 8): with a typo allowed from 4
            # letters, Meilisearch 1.21 panics highlighting a 4-letter word matched to a
            # 3-letter one ("range end index 4 out of range for slice of length 3").
            "minWordSizeForTypos": {"oneTypo": ONE_TYPO, "twoTypos": TWO_TYPOS},
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


@dataclass(frozen=True)
class _Plan:
    """What the requests of one search share."""

    uid: str
    schema: IndexSchema
    filters: list[str]
    keyword_facets: list[str]  # the facets counted by Meilisearch (not the window's buckets)
    buckets: list[tuple[str, tuple[int, int]]]
    sort: Sequence[q.SortKey]
    offset: int
    per_page: int
    highlight: bool
    ratio: float


def similarity_score(cosine: float) -> float:
    """Meilisearch's ranking score of a neighbour at this cosine similarity to the query: its
    vector store's distance is (1 - cos) / 2 and the score 1 - distance (a userProvided
    embedder with no `distribution`; checked on 1.21 by tests/search/test_contract.py
    `test_a_neighbour_by_meaning_counts_from_the_floor_on_every_backend`)."""
    return (1.0 + cosine) / 2.0


def _hybrid(words: Sequence[str], vector: Sequence[float] | None) -> bool:
    """Whether a search is hybrid: words to match, and a vector to find their meaning with."""
    return bool(words) and vector is not None


_embedding: ThreadPoolExecutor | None = None
_embedding_lock = threading.Lock()


def _embedding_thread() -> ThreadPoolExecutor:
    """The thread that embeds search texts while their words are searched (one: the query
    model embeds one text at a time, and the first text asked is embedded first)."""
    global _embedding
    with _embedding_lock:
        if _embedding is None:
            _embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meili-embed")
        return _embedding


class _Vector:
    """A search text's query vector: the one given, the text embedded now, or, `background`,
    the text being embedded on the embedding thread while requests go out."""

    def __init__(self, query: SearchQuery, text: str, *, background: bool) -> None:
        self._future: Future[Sequence[float] | None] | None = None
        self._value: Sequence[float] | None = None
        if background and query.vector is None and query.embed is not None:
            self._future = _embedding_thread().submit(query.vector_for, text)
        else:
            self._value = query.vector_for(text)

    def ready(self) -> Sequence[float] | None:
        """Gets the vector if it is known now (a remembered text's, within `READY_S`), else
        None."""
        if self._future is None:
            return self._value
        try:
            return self._future.result(timeout=READY_S)
        except TimeoutError:
            return None

    def get(self) -> Sequence[float] | None:
        """Gets the vector, waiting for its embedding."""
        return self._value if self._future is None else self._future.result()

    def some(self) -> _Vector | None:
        """Itself, unless it is known already that there is no vector (a search by keywords)."""
        return None if self._future is None and self._value is None else self


# A search's answers by part, its words (corrected or as typed), its suggestion, its vector.
_Outcome = tuple[dict[str, list[dict[str, Any]]], list[str], str | None, _Vector]


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
        correct_from_words: bool = True,
    ) -> None:
        self.client = meilisearch.Client(url, api_key or None, timeout=timeout_s)
        # Searches go through one kept-alive HTTP session per thread: the client library opens
        # a new connection for every call (`requests.post`), which costs more than a small
        # search takes on a busy machine.
        self._base_url = url.rstrip("/")
        self._search_url = self._base_url + "/multi-search"
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
        # their queries), in ms: what a benchmark reads to tell the server's time apart. Those
        # a search waits for one after the other in `searches`, those sent beside them on
        # other threads (`_neighbours_beside`) in `beside`.
        self.searches: deque[tuple[float, float]] = deque(maxlen=64)
        self.beside: deque[tuple[float, float]] = deque(maxlen=64)
        # The words of each index, for corrections without a round trip (`_guess`); without
        # them, a typo's correction comes from the server's answers alone (the way a search
        # falls back to when they are out of step), which benchmarks compare against.
        self.vocabulary = Vocabulary()
        self.correct_from_words = correct_from_words
        self._reading: set[str] = set()  # the indexes whose words are being read
        self._reading_lock = threading.Lock()
        self._beside_pools: dict[str, ThreadPoolExecutor] = {}
        self._beside_lock = threading.Lock()

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
        self._learn(index, documents)

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
        self._learn(index, [doc for batch in batches for doc in batch])

    def _learn(self, index: str, documents: Sequence[Document]) -> None:
        """Adds the words of documents this process indexed to the index's words, if read."""
        words = self.vocabulary.get(self.uid(index))
        if words is not None:
            words.add(documents)

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
        and says so (`SearchPage.suggestion`), as the other backends do.

        A hybrid search of words lists what it counts, whatever the sort or page, as the other
        backends do: the keyword matches and the nearest neighbours by meaning at or above the
        floor (`_neighbours_request`), never Meilisearch's own hybrid results (its semantic
        half holds every document). Unsorted, its page is fused here, by Meilisearch's own
        rule (`_fuse`), from the keyword matches and those neighbours: one vector search, not
        two. Sorted, the keyword matches come first, in Meilisearch's order, then the
        neighbours they do not match, by the sort (`_neighbours_page`). Its words are checked
        while the text is embedded (a request without the vector, on a thread of its own), and
        a typo's correction is searched while the correction is embedded."""
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
        plan = _Plan(
            uid=self.uid(schema.name),
            schema=schema,
            filters=_filter(clauses),
            keyword_facets=[f for f in facets if f != schema.window.name],
            buckets=q.window_buckets(today) if schema.window.name in facets else [],
            sort=sort,
            offset=(page - 1) * per_page,
            per_page=per_page,
            highlight=query.highlight,
            ratio=query.semantic_ratio,
        )
        fused = bool(words) and query.semantic and not sort
        # The words a correction may change. The index's words (`meili_words`) tell their
        # correction before any request: a typo is then one request (the corrected search,
        # carrying what confirms the correction), not two or three.
        asked = self._correctable(words)
        guess = self._guess(schema, words, asked) if words and self.correct_from_words else None
        outcome: _Outcome | None = None
        tallied: dict[str, int] | None = None
        if guess is not None and guess.changed:
            outcome, tallied = self._corrected_first(plan, query, guess, asked, fused=fused)
        if outcome is None:
            outcome = self._typed_first(
                schema, plan, query, words, asked, guess, fused=fused, tallied=tallied
            )
        results, words, suggestion, vector = outcome
        query_vector = vector.get()
        hybrid = _hybrid(words, query_vector)
        if hybrid and "neighbours" not in results:
            assert query_vector is not None
            results |= self._multi_search_named(
                {"neighbours": [self._neighbours_request(plan, query_vector, fused=fused)]}
            )
            results["neighbours"] = _floored(plan, results["neighbours"])
        first = results["page"][0]
        counted: dict[str, Any]
        if fused:
            keyword_hits = first.get("hits", [])
            raws = (
                _fuse(keyword_hits, results["neighbours"][0].get("hits", []), plan)
                if hybrid
                else keyword_hits[plan.offset :]
            )
            counted = results["keyword"][0]
        else:
            raws, counted = first.get("hits", []), first
        hits = [self._hit(schema, raw) for raw in raws]
        total = int(counted.get("totalHits", counted.get("estimatedTotalHits", len(hits))))
        distribution: dict[str, dict[str, int]] = counted.get("facetDistribution") or {}
        in_buckets = [int(r.get("totalHits", 0)) for r in results["buckets"]]
        if hybrid:
            # As on the other backends: the keyword matches, and the nearest neighbours by
            # meaning the keywords do not match, each counted once.
            keyword = results["keyword"][0]
            added = self._unmatched(plan, words, results)
            total = int(keyword.get("totalHits", 0)) + len(added)
            distribution = _add_values(
                keyword.get("facetDistribution") or {}, added, plan.keyword_facets
            )
            for i, (_, (start, end)) in enumerate(plan.buckets):
                in_buckets[i] += sum(
                    1 for d in added if int(d["win_start"]) <= end and int(d["win_end"]) >= start
                )
            if not fused:
                shown = len(raws)
                raws += self._neighbours_page(plan, added, matched=total - len(added), shown=shown)
                hits += [self._hit(schema, raw) for raw in raws[shown:]]
        counts: dict[str, list[FacetCount]] = {}
        for name in facets:
            if name == schema.window.name:
                counts[name] = [
                    FacetCount(label, n)
                    for (label, _), n in zip(plan.buckets, in_buckets, strict=True)
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

    def _typed_first(
        self,
        schema: IndexSchema,
        plan: _Plan,
        query: SearchQuery,
        words: list[str],
        asked: Sequence[int],
        guess: Guess | None,
        *,
        fused: bool,
        tallied: dict[str, int] | None = None,
    ) -> _Outcome:
        """Searches the words as typed; when no document holds them all, corrects them and
        searches the correction (a second request) unless the index's words already tell
        (`_settles`) that there is nothing to correct. With `tallied`, the server confirmed the
        vocabulary's guess but no document held its correction with the other words: the
        words the page shows no candidate for take the vocabulary's (no probe), the candidates
        already counted are not counted again, and that correction is not searched again."""
        typed = _Vector(query, query.text, background=fused)
        # (Counted already when the server confirmed the guess.)
        counted = [words[i] for i in asked] if tallied is None else []
        results = self._send(
            plan, words, vector=typed.ready(), fused=fused, counted=counted, meaning=typed.some()
        )
        if not words or _exact(results["probe"][0]):
            return results, words, None, typed
        if tallied is not None and guess is not None:
            held = {i: int(guess.held[i]) for i in asked}
        else:
            held = {
                i: int(r.get("estimatedTotalHits", 0))
                for i, r in zip(asked, results["held"], strict=True)
            }
        seen = results["page"][0].get("hits", []) if query.highlight else []
        if guess is not None and _settles(guess, held, seen):
            return results, words, None, typed
        confirmed = guess if guess is not None and tallied is not None else None
        corrected = self._correct(
            schema,
            words,
            seen=seen,
            held=held,
            known=confirmed.options if confirmed is not None else None,
            counted=tallied,
        )
        if confirmed is not None and corrected == confirmed.corrected:
            return results, words, None, typed
        # A word no document holds, left as typed, cannot match exactly: searching the
        # other words' corrections would find no exact match either (the last word may be
        # a prefix, though).
        stuck = any(
            not n and corrected[i] == words[i] for i, n in held.items() if i < len(words) - 1
        )
        if corrected != words and not stuck:
            text = " ".join(corrected)
            # A given vector stays the same: its neighbours, already read, are asked which
            # of them the corrected words match, in the corrected search's request.
            same = query.vector is not None and "neighbours" in results
            again = typed if query.vector is not None else _Vector(query, text, background=fused)
            retried = self._send(
                plan,
                corrected,
                vector=again.ready(),
                fused=fused,
                neighbours=results["neighbours"] if same else None,
                meaning=again.some(),
            )
            if _exact(retried["probe"][0]):
                return retried, corrected, text, again
        return results, words, None, typed

    def _corrected_first(
        self, plan: _Plan, query: SearchQuery, guess: Guess, asked: Sequence[int], *, fused: bool
    ) -> tuple[_Outcome | None, dict[str, int] | None]:
        """Searches the vocabulary's correction first, with the probe of the typed words and
        the counts the correction rests on in the same request. Gives the search when the
        server confirms it: no document holds the typed words, each word is held or not as the
        vocabulary says, the equally close candidates counted choose the same words, and a
        document holds the corrected ones. Else no search: the typed search and the server's
        own candidates decide (a correction no document holds with the other words may have a
        neighbour one does, which the typed search's page shows), with the candidates' counts
        when only the last check failed (the vocabulary was in step with the server)."""
        corrected = guess.corrected
        text = " ".join(corrected)
        ties = guess.ties()
        vector = _Vector(query, text if query.vector is None else query.text, background=fused)
        extra = {
            "typed": [self._probe_request(plan, " ".join(guess.words))],
            "held_typed": [self._count_probe(plan.uid, guess.words[i]) for i in asked],
            "ties": [self._count_probe(plan.uid, w) for w in ties],
        }
        results = self._send(
            plan, corrected, vector=vector.ready(), fused=fused, extra=extra, meaning=vector.some()
        )
        if _exact(results["typed"][0]):
            return None, None
        for i, counted in zip(asked, results["held_typed"], strict=True):
            if (int(counted.get("estimatedTotalHits", 0)) > 0) != guess.held[i]:
                return None, None
        frequency = {
            w: int(r.get("estimatedTotalHits", 0))
            for w, r in zip(ties, results["ties"], strict=True)
        }
        if guess.choose(frequency) != corrected:
            return None, None
        if not _exact(results["probe"][0]):
            return None, frequency
        return (results, list(corrected), text, vector), frequency

    def _guess(
        self, schema: IndexSchema, words: Sequence[str], asked: Sequence[int]
    ) -> Guess | None:
        """Corrects the words from the index's words (None while they are being read)."""
        index_words = self._index_words(schema)
        return index_words.guess(words, asked) if index_words is not None else None

    def _index_words(self, schema: IndexSchema) -> IndexWords | None:
        """Gets the words of an index: read from its documents on its first search (here if
        they fit in one page, `WORDS_PAGE`, else on a thread of their own: None until then),
        then read again in the background when another process changed the index
        (`REFRESH_S`)."""
        uid = self.uid(schema.name)
        words = self.vocabulary.get(uid)
        if words is None:
            with self._reading_lock:
                if uid in self._reading:
                    return None
                self._reading.add(uid)
            words = IndexWords(schema)
            try:
                self.ensure_indexes()
                words.task_uid = self._last_task(uid)
                offset = self._read_words(schema, words, pages=1)
            except BaseException:
                self._reading.discard(uid)
                raise
            if offset is not None:
                threading.Thread(
                    target=self._finish_words, args=(schema, words, offset), daemon=True
                ).start()
                return None
            self.vocabulary.put(uid, words)
            self._reading.discard(uid)
        elif time.monotonic() - words.checked_at > REFRESH_S:
            words.checked_at = time.monotonic()
            threading.Thread(target=self._refresh_words, args=(schema, words), daemon=True).start()
        return words

    def _finish_words(self, schema: IndexSchema, words: IndexWords, offset: int) -> None:
        """Reads the rest of an index's words, then lets searches use them."""
        uid = self.uid(schema.name)
        try:
            self._read_words(schema, words, offset=offset)
            self.vocabulary.put(uid, words)
        except (SearchError, requests.exceptions.RequestException, ValueError):
            pass  # the next search starts again
        finally:
            self._reading.discard(uid)

    def _refresh_words(self, schema: IndexSchema, words: IndexWords) -> None:
        """Reads an index's words again if a task changed it since they were read."""
        uid = self.uid(schema.name)
        try:
            task = self._last_task(uid)
            if task != words.task_uid:
                fresh = IndexWords(schema)
                fresh.task_uid = task
                self._read_words(schema, fresh)
                self.vocabulary.put(uid, fresh)
        except (SearchError, requests.exceptions.RequestException, ValueError):
            words.checked_at = 0.0  # try again at the next search

    def _read_words(
        self, schema: IndexSchema, words: IndexWords, *, offset: int = 0, pages: int | None = None
    ) -> int | None:
        """Adds the words of an index's documents (their searchable fields) from `offset`,
        at most `pages` pages of them; gives where to go on from (None: all were read)."""
        uid = self.uid(schema.name)
        fields = ",".join(s.name for s in schema.searchable)
        read = 0
        while pages is None or read < pages:
            response = requests.get(
                f"{self._base_url}/indexes/{uid}/documents",
                params={"fields": fields, "limit": str(WORDS_PAGE), "offset": str(offset)},
                headers=self._headers,
                timeout=self._timeout_s,
            )
            if response.status_code >= 400:
                raise SearchError(f"Meilisearch refused the documents: {response.text[:200]}")
            body = response.json()
            words.add(body["results"])
            offset += len(body["results"])
            read += 1
            if not body["results"] or offset >= int(body["total"]):
                words.checked_at = time.monotonic()
                return None
        return offset

    def _last_task(self, uid: str) -> int | None:
        """The uid of the last task that succeeded on an index (None: none yet)."""
        response = requests.get(
            f"{self._base_url}/tasks",
            params={"indexUids": uid, "statuses": "succeeded", "limit": "1"},
            headers=self._headers,
            timeout=self._timeout_s,
        )
        if response.status_code >= 400:
            raise SearchError(f"Meilisearch refused the tasks: {response.text[:200]}")
        results = response.json().get("results") or []
        return int(results[0]["uid"]) if results else None

    @staticmethod
    def _probe_request(plan: _Plan, text: str) -> dict[str, Any]:
        """A query of the best keyword match of the words, with its ranking details (does it
        hold every word as typed?)."""
        return {
            "indexUid": plan.uid,
            "q": text,
            "filter": plan.filters,
            "limit": 1,
            "attributesToRetrieve": ["id"],
            "showRankingScoreDetails": True,
            "matchingStrategy": "all",
        }

    def _send(
        self,
        plan: _Plan,
        words: Sequence[str],
        *,
        vector: Sequence[float] | None,
        fused: bool,
        counted: Sequence[str] = (),
        neighbours: list[dict[str, Any]] | None = None,
        extra: dict[str, list[dict[str, Any]]] | None = None,
        meaning: _Vector | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Sends one search as one multi-search, its results by part: the page (`page`), one
        count per availability bucket (`buckets`), and, with words, a probe of the best keyword
        match (`probe`: is there a document holding every word as typed?), the count of each
        `counted` word as typed (`held`); for a hybrid search, its keyword matches (`keyword`)
        and its nearest neighbours by meaning (`neighbours`), or, when `neighbours` were read
        already, which of them the words match (`among`).

        The bucket counts carry no vector: with no hits asked, a hybrid count is the keyword
        count (its semantic half returns nothing), and seven copies of the vector made most of
        the request (61 kB of 70 at 384 dimensions)."""
        text = " ".join(words)
        parts: dict[str, list[dict[str, Any]]] = {
            "page": [self._page_request(plan, words, vector=vector, fused=fused)],
            "buckets": [
                {
                    "indexUid": plan.uid,
                    "q": text,
                    "filter": [*plan.filters, f"win_start <= {end} AND win_end >= {start}"],
                    "page": 1,
                    "hitsPerPage": 0,
                    "matchingStrategy": "all",
                }
                for _, (start, end) in plan.buckets
            ],
            "held": [self._count_probe(plan.uid, word) for word in counted],
        }
        if words:
            parts["probe"] = [self._probe_request(plan, text)]
        if fused or _hybrid(words, vector):
            parts["keyword"] = [self._keyword_count(plan, text)]
        beside: Future[dict[str, list[dict[str, Any]]]] | None = None
        counts: Future[dict[str, list[dict[str, Any]]]] | None = None
        keyword = _Answer()
        if fused and words:
            # The counts (the keyword count with its facets, the availability buckets) in a
            # request of their own, beside the page's: Meilisearch runs them on another core.
            split = {"keyword": parts.pop("keyword"), "buckets": parts.pop("buckets")}
            counts = self._beside("counts").submit(self._counts_beside, split, keyword)
        if neighbours is not None:
            parts["among"] = [self._among(plan, text, neighbours[0].get("hits", []))]
        elif fused and words and meaning is not None:
            among = not self._broad(plan, words)
            beside = self._beside("neighbours").submit(
                self._neighbours_beside, plan, text, meaning, among, keyword
            )
        elif _hybrid(words, vector):
            assert vector is not None
            parts["neighbours"] = [self._neighbours_request(plan, vector, fused=fused)]
        parts.update(extra or {})
        results = self._multi_search_named(parts)
        if "neighbours" in results:
            results["neighbours"] = _floored(plan, results["neighbours"])
        if neighbours is not None:
            results["neighbours"] = neighbours
        if counts is not None:
            results |= counts.result()
        if beside is not None:
            results |= beside.result()
        return results

    def _counts_beside(
        self, parts: dict[str, list[dict[str, Any]]], keyword: _Answer
    ) -> dict[str, list[dict[str, Any]]]:
        """Runs a search's counts beside its page, and tells the neighbours' thread the
        keyword count as soon as it came."""
        results = self._multi_search_named(parts, beside=True)
        keyword.set(results["keyword"][0])
        return results

    def _neighbours_beside(
        self, plan: _Plan, text: str, meaning: _Vector, among: bool, keyword: _Answer
    ) -> dict[str, list[dict[str, Any]]]:
        """Reads a fused page's nearest neighbours by meaning once its vector is known (none
        without one), then, with `among`, which of them the words match: needed when the
        words match more documents than the keyword count returns ids of, and fewer than
        `BROAD_MATCHES` (`_outside`). When the keyword count came back already, it tells;
        else the question goes at once, beside the search's own request still running,
        rather than after it."""
        vector = meaning.get()
        if vector is None:
            return {}
        found = _floored(
            plan,
            self._multi_search([self._neighbours_request(plan, vector, fused=True)], beside=True),
        )
        hits = found[0].get("hits", [])
        counted = keyword.now()
        if not among or not hits or (counted is not None and _outside(counted, hits)[1]):
            return {"neighbours": found}
        matched = self._multi_search([self._among(plan, text, hits)], beside=True)
        return {"neighbours": found, "among": matched}

    def _broad(self, plan: _Plan, words: Sequence[str]) -> bool:
        """Whether the index's words tell that a search matches `BROAD_MATCHES` documents or
        more (one word, no filter, held by that many): which neighbours the words match is then
        not asked (`_unmatched`). When they are out of step, `_unmatched` asks if need be."""
        index_words = self.vocabulary.get(plan.uid)
        if index_words is None or plan.filters or len(words) != 1:
            return False
        return index_words.frequency.get(q.fold(words[0]), 0) >= BROAD_MATCHES

    def _beside(self, kind: str) -> ThreadPoolExecutor:
        """The threads sending one kind of request beside a search's own."""
        with self._beside_lock:
            pool = self._beside_pools.get(kind)
            if pool is None:
                pool = self._beside_pools[kind] = ThreadPoolExecutor(
                    max_workers=BESIDE_THREADS, thread_name_prefix=f"meili-{kind}"
                )
            return pool

    def _multi_search_named(
        self, parts: dict[str, list[dict[str, Any]]], *, beside: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        """Runs named groups of queries in one multi-search; gives each group its results."""
        queries = [query for group in parts.values() for query in group]
        results = self._multi_search(queries, beside=beside)
        named: dict[str, list[dict[str, Any]]] = {}
        at = 0
        for name, group in parts.items():
            named[name], at = results[at : at + len(group)], at + len(group)
        return named

    def _page_request(
        self, plan: _Plan, words: Sequence[str], *, vector: Sequence[float] | None, fused: bool
    ) -> dict[str, Any]:
        """The query of the page: with `fused`, the best keyword matches down to the page's
        last (the page is fused from them and the neighbours by meaning), else the page
        itself, by Meilisearch's own hybrid search when there is a vector."""
        main: dict[str, Any] = {
            "indexUid": plan.uid,
            "q": " ".join(words),
            "filter": plan.filters,
            "showRankingScore": True,
            "matchingStrategy": "all",
            # The page shows the public fields only: the vectors and the window bounds stay.
            "attributesToRetrieve": list(plan.schema.fields),
        }
        if fused:
            main["limit"] = plan.offset + plan.per_page
        else:
            main["page"] = plan.offset // plan.per_page + 1 if plan.per_page else 1
            main["hitsPerPage"] = plan.per_page
            if plan.keyword_facets and not _hybrid(words, vector):
                # (A hybrid search's facets come from its keyword count: `_keyword_count`.)
                main["facets"] = plan.keyword_facets
        if plan.sort:
            main["sort"] = _sort_terms(plan.sort)
        elif not words and vector is None:
            main["sort"] = ["id:asc"]
        if words and plan.highlight:
            snippets = [s.name for s in plan.schema.searchable if s.snippet]
            main.update(
                attributesToHighlight=list(plan.schema.highlight),
                highlightPreTag=MARK_OPEN,
                highlightPostTag=MARK_CLOSE,
                attributesToCrop=[f"{name}:24" for name in snippets],
                cropMarker="…",
            )
        if vector is not None and not words:
            # By meaning alone. (With words, the page holds the keyword matches and the
            # neighbours at or above the floor: `search`.)
            main["vector"] = self._vector(vector)
            main["hybrid"] = {"embedder": EMBEDDER, "semanticRatio": plan.ratio}
        return main

    def _vector(self, vector: Sequence[float]) -> list[float]:
        """A query vector as a request carries it (the backend must know its dimensions)."""
        if not self.dimensions:
            raise SearchError("hybrid search needs embedding_dimensions on the backend")
        return _short(vector)

    @staticmethod
    def _keyword_count(plan: _Plan, text: str) -> dict[str, Any]:
        """The keyword half of a hybrid search's count: the keyword matches' count, facets and
        the ids of the best `KNOWN_MATCHES` (Meilisearch's own hybrid count would be every
        document the filters allow: its semantic side matches them all)."""
        keyword: dict[str, Any] = {
            "indexUid": plan.uid,
            "q": text,
            "filter": plan.filters,
            "page": 1,
            "hitsPerPage": KNOWN_MATCHES,
            "attributesToRetrieve": ["id"],
            "matchingStrategy": "all",
        }
        if plan.keyword_facets:
            keyword["facets"] = plan.keyword_facets
        return keyword

    def _neighbours_request(
        self, plan: _Plan, vector: Sequence[float], *, fused: bool
    ) -> dict[str, Any]:
        """The `DENSE_DEPTH` nearest neighbours by meaning the filters allow: their ids, facet
        values and availability window (what they add to the count), and for a page fused from
        them, their score and public fields."""
        fields = list(plan.schema.fields) if fused else ["id", *plan.keyword_facets]
        request: dict[str, Any] = {
            "indexUid": plan.uid,
            "filter": plan.filters,
            "limit": DENSE_DEPTH,
            "attributesToRetrieve": [*fields, *_INTERNAL],
            "vector": self._vector(vector),
            "hybrid": {"embedder": EMBEDDER, "semanticRatio": 1.0},
            # The floor is applied to the answer (`_floored`), not sent as a
            # `rankingScoreThreshold`: with one, Meilisearch 1.21 looks further than the limit
            # when few neighbours reach it (300 ms at 10,000 documents, against 4-9 without).
            "showRankingScore": True,
        }
        return request

    def _neighbours_page(
        self, plan: _Plan, added: Sequence[dict[str, Any]], *, matched: int, shown: int
    ) -> list[dict[str, Any]]:
        """The neighbours by meaning the words do not match that a sorted page shows after
        the `shown` keyword matches of its `matched`: they follow the last keyword match, by
        the sort (then id)."""
        start, room = max(0, plan.offset - matched), plan.per_page - shown
        if room <= 0 or start >= len(added):
            return []
        ids = ", ".join(str(int(n["id"])) for n in added)
        request = {
            "indexUid": plan.uid,
            "filter": [*plan.filters, f"id IN [{ids}]"],
            "offset": start,
            "limit": room,
            "sort": [*_sort_terms(plan.sort), "id:asc"],
            "attributesToRetrieve": list(plan.schema.fields),
        }
        return list(self._multi_search([request])[0].get("hits", []))

    @staticmethod
    def _among(plan: _Plan, text: str, neighbours: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """A query asking which of the neighbours by meaning the words match."""
        ids = ", ".join(str(int(n["id"])) for n in neighbours)
        return {
            "indexUid": plan.uid,
            "q": text,
            "filter": [*plan.filters, f"id IN [{ids}]"],
            "limit": max(1, len(neighbours)),
            "attributesToRetrieve": ["id"],
            "matchingStrategy": "all",
        }

    def _unmatched(
        self, plan: _Plan, words: Sequence[str], results: dict[str, list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The neighbours by meaning the keywords do not match. Known from the keyword
        count's ids when it returned every match; for a common word (`BROAD_MATCHES` or more),
        every neighbour outside those ids; otherwise from the request that asked which of the
        neighbours the words match (`among`), or from one more request asking it."""
        neighbours = results["neighbours"][0].get("hits", [])[:DENSE_DEPTH]
        unknown, settled = _outside(results["keyword"][0], neighbours)
        if settled:
            return unknown
        among = results.get("among")
        if among is None:
            among = self._multi_search([self._among(plan, " ".join(words), unknown)])
        also = {int(hit["id"]) for hit in among[0].get("hits", [])}
        return [n for n in unknown if int(n["id"]) not in also]

    @staticmethod
    def _correctable(words: Sequence[str]) -> list[int]:
        """Positions of the words a correction may replace: long enough to hold a typo, and
        with no synonyms (a synonym is a word the index answers for)."""
        return [i for i, w in enumerate(words) if allowed_edits(q.fold(w)) and not q.synonyms(w)]

    @staticmethod
    def _count_probe(uid: str, word: str) -> dict[str, Any]:
        """A query counting the documents holding a word exactly (a phrase: no typo, no
        prefix)."""
        return {
            "indexUid": uid,
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
        known: dict[int, list[str]] | None = None,
        counted: dict[str, int] | None = None,
    ) -> list[str]:
        """Replaces each word no document holds by the closest word the index holds, by the
        rule of the other backends (`semantic.best_correction`: fewest edits, then the most
        documents). Meilisearch's own typo tolerance finds the candidates, read from the
        highlights of the documents it matched: first from `seen` (the hits of the search just
        run, which matched the typed words with their typos), then, for the words still
        without one, from a search of each such word alone. `held` counts, by position, the
        documents holding each word exactly: a word some document holds is kept without
        looking further (without `held`, only the word searched alone tells). `known` gives,
        by position, the candidates the index's words found (confirmed by the server), which
        then stand for the search of the word alone; `counted`, candidates already counted."""
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
        if known is not None:
            closest.update({i: known[i] for i in asked if known.get(i)})
            asked = []
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
        frequency: dict[str, int] = dict(counted or {})
        ties = [
            (i, w)
            for i, options in closest.items()
            for w in options
            if len(options) > 1 and w not in frequency
        ]
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
            self.vocabulary.forget(self.uid(index))
            try:
                self._wait(_call(partial(self.client.delete_index, self.uid(index))))
            except SearchError as exc:
                if "index_not_found" not in str(exc):
                    raise
        self._ready = False

    def close(self) -> None:
        """Closes this thread's search session (the client opens a connection per request),
        and the threads sending requests beside a search's (with their sessions)."""
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is not None:
            session.close()
            self._sessions.session = None
        with self._beside_lock:
            pools, self._beside_pools = self._beside_pools, {}
        for pool in pools.values():
            pool.shutdown(wait=False)

    def _multi_search(
        self, queries: list[dict[str, Any]], *, beside: bool = False
    ) -> list[dict[str, Any]]:
        """Runs several searches in one request, creating the indexes if they are missing."""
        self.ensure_indexes()
        try:
            return self._post_search(queries, beside=beside)
        except SearchError as exc:
            if "index_not_found" not in str(exc):
                raise
        self._ready = False
        self.ensure_indexes()
        return self._post_search(queries, beside=beside)

    def _post_search(
        self, queries: list[dict[str, Any]], *, beside: bool = False
    ) -> list[dict[str, Any]]:
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
        (self.beside if beside else self.searches).append(
            (elapsed, float(sum(r.get("processingTimeMs", 0) for r in results)))
        )
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


def _floored(plan: _Plan, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The neighbours by meaning at or above the index's floor (`semantic.dense_floor`, the
    rule `VectorMirror.nearest` applies): the nearest `DENSE_DEPTH` first, then the floor,
    which keeps the same ones as the floor first."""
    floor = similarity_score(dense_floor(plan.schema.name))
    return [
        {**answer, "hits": [h for h in answer.get("hits", []) if h["_rankingScore"] >= floor]}
        for answer in answers
    ]


def _sort_terms(sort: Sequence[q.SortKey]) -> list[str]:
    """Writes a sort as Meilisearch's `field:asc` / `field:desc` terms."""
    return [f"{k.field}:{'desc' if k.descending else 'asc'}" for k in sort]


def _short(vector: Sequence[float]) -> list[float]:
    """A query vector at seven significant digits: a cosine does not see the difference, and
    the request is half as long as float32 values printed as float64."""
    return [float(f"{x:.7g}") for x in vector]


def _f32(x: float) -> float:
    """Rounds a number to float32, as Meilisearch holds a semantic ratio."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _fuse(
    keyword: Sequence[dict[str, Any]], semantic: Sequence[dict[str, Any]], plan: _Plan
) -> list[dict[str, Any]]:
    """The page of a hybrid search as Meilisearch 1.21 fuses its keyword and semantic
    results (milli's `execute_hybrid`): the keyword matches alone when each of the best down to
    the page's last is good enough (`GOOD_ENOUGH_SCORE`), else both lists merged by their
    ranking scores weighted by the semantic ratio (a tie goes to meaning), each document at
    its first place. A document both lists hold keeps its keyword highlights."""
    depth = plan.offset + plan.per_page
    keyword, semantic = keyword[:depth], semantic[:depth]
    ratio = _f32(plan.ratio)
    weight = _f32(1.0 - ratio)
    if ratio >= 1.0:  # Meilisearch then searches by meaning alone
        return list(semantic[plan.offset :])
    if ratio <= 0.0 or (
        len(keyword) >= depth
        and all(float(hit["_rankingScore"]) * weight >= GOOD_ENOUGH_SCORE for hit in keyword)
    ):  # (and by keywords alone at a ratio of 0)
        return list(keyword[plan.offset :])
    matched = {int(hit["id"]): hit for hit in keyword}
    merged: list[dict[str, Any]] = []
    placed: set[int] = set()
    i = j = 0
    while i < len(semantic) or j < len(keyword):
        if j >= len(keyword) or (
            i < len(semantic)
            and _at_least(
                float(semantic[i]["_rankingScore"]) * ratio,
                float(keyword[j]["_rankingScore"]) * weight,
            )
        ):
            raw, i = semantic[i], i + 1
        else:
            raw, j = keyword[j], j + 1
        doc_id = int(raw["id"])
        if doc_id not in placed:
            placed.add(doc_id)
            merged.append({**matched.get(doc_id, raw), "_rankingScore": raw["_rankingScore"]})
    return merged[plan.offset : depth]


def _at_least(left: float, right: float) -> bool:
    """Meilisearch's comparison of two weighted scores (equal within one float epsilon)."""
    return abs(left - right) <= sys.float_info.epsilon or left > right


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


def _outside(
    keyword: dict[str, Any], neighbours: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """The neighbours by meaning outside the keyword count's ids, and whether those are the
    neighbours the keywords do not match without asking (the count returned every match, or
    none is outside, or the words match `BROAD_MATCHES` documents or more)."""
    matched = int(keyword.get("totalHits", 0))
    known = {int(hit["id"]) for hit in keyword.get("hits", [])}
    unknown = [n for n in neighbours if int(n["id"]) not in known]
    settled = not matched or not unknown or matched <= len(known) or matched >= BROAD_MATCHES
    return unknown, settled


class _Answer:
    """A request's answer another thread may look at before deciding to ask more."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: dict[str, Any] | None = None

    def set(self, value: dict[str, Any] | None) -> None:
        """Gives the answer."""
        self._value = value
        self._done.set()

    def now(self) -> dict[str, Any] | None:
        """The answer if it came already, else None."""
        return self._value if self._done.is_set() else None


def _exact(probe: dict[str, Any]) -> bool:
    """Whether a keyword probe's best match holds every word as typed (no typo counted)."""
    hits = probe.get("hits") or []
    if not hits:
        return False
    typo = (hits[0].get("_rankingScoreDetails") or {}).get("typo") or {}
    return int(typo.get("typoCount", 0)) == 0


def _settles(guess: Guess, held: dict[int, int], seen: Sequence[dict[str, Any]]) -> bool:
    """Whether the typed search's answers confirm the vocabulary's finding that no word needs
    correcting: each word is held or not as it says, and the page shows no candidate for a
    word it found none for (or took for a word being typed)."""
    if guess.changed or any((held[i] > 0) != known for i, known in guess.held.items()):
        return False
    found = _matched_words(seen)
    last = len(guess.words) - 1
    return not any(
        _closest(guess.words[i], found, last=i == last)
        for i, known in guess.held.items()
        if not known and i not in guess.options
    )


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
