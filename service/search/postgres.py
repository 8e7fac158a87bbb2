"""Search backend on PostgreSQL full-text search (tsvector, ts_rank_cd), in `search_*` tables.

Hybrid search and typo correction work as on the embedded backend (service/search/semantic.py):
document vectors live in a table beside the documents and are mirrored in memory by sequence
number; a query vector's neighbours, among the documents of the reader's index the filters keep,
are fused with the keyword matches by reciprocal rank. Words the index does not know are replaced
by the closest word of its vocabulary (a table kept in step with the documents; candidates come
from a pg_trgm index when the extension is available, else from the word's first letters), and
the page says which correction it searched for.

A search matches its words once: one statement hands back every match's id and rank, from
which the order, the total and the fused head are worked out; facet counts come from the facet
values held in memory (service/search/facet_mirror.py, following the tables as the vectors
do); keyword filters match the documents' facet tags through a GIN index the planner combines
with the words'. A hybrid search on words more than BROAD_MATCHES documents hold (a common word)
takes FTS5's broad path: a ranked sample of them, the neighbours by meaning first, every match
counted (docs/search.md, "Hybrid search").
"""

# ruff: noqa: S608  (table and column names come from code, values are bound parameters)

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

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
from service.search.documents import INDEXES, IndexSchema, schema_for
from service.search.facet_mirror import FacetMirror, IntArray, estimated_facets
from service.search.semantic import (
    DENSE_DEPTH,
    LEXICAL_DEPTH,
    VectorMirror,
    allowed_edits,
    best_correction,
    fuse,
    to_blob,
)

_T = TypeVar("_T")
_TSQ = "to_tsquery(CAST(:cfg AS regconfig), :tsq)"
# A hybrid search whose words match at least this many documents (a common word) is not
# ranked as a whole, as on FTS5 (its BROAD_MATCHES): see `PostgresBackend.search`.
BROAD_MATCHES = 2_000
# The broad path reads its neighbours' ranks with the page's documents when the page holds
# neighbours only (one statement instead of two; False: two, as the tests' reference).
PAGE_WITH_RANKS = True
# A hybrid search whose vector cannot depend on a correction works out its neighbours while
# the database matches its words (`PostgresBackend._match_beside`; False: one after the other).
OVERLAP = True
_PREFIX = re.compile(r"^search_[a-z0-9_]{0,40}$")
# Correction candidates a word looks at (the closest by trigram similarity).
_CANDIDATES = 200
# Documents written since the last analysis, at least this many and more than this share of
# what the planner believes the table holds, re-analyse the search tables (`_refresh_statistics`).
STALE_STATISTICS_ROWS = 200
# The pending list of new entries a GIN index keeps before merging them, in kB (PostgreSQL's
# default: 4 MB). Every scan reads the whole list: after a bulk fill, a typo's trigram lookup
# read the pending entries of most of the vocabulary (see `_limit_pending_lists`).
GIN_PENDING_KB = 64
STALE_STATISTICS_SHARE = 0.2


def tsquery_text(
    words: Sequence[str], *, any_term: bool, prefix_last: bool, whole_last: str | None = None
) -> str:
    """Builds to_tsquery input from sanitised words (letters and digits only). `whole_last`:
    the one word of the index the last word (a prefix) can match, searched as a whole word."""
    parts: list[str] = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        star = ":*" if prefix_last and last else ""
        whole = (whole_last or "").replace("\\", "\\\\").replace("'", "''")
        options = [f"'{whole}'" if last and whole else f"'{word}'{star}"]
        for alternative in q.synonyms(word):
            tokens = q.phrase_words(alternative)
            if tokens:
                options.append("(" + " <-> ".join(f"'{t}'" for t in tokens) + ")")
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(options) + ")")
    return (" | " if any_term else " & ").join(parts)


@dataclass(frozen=True)
class _Words:
    """What the vocabulary says of a search's words, read in one statement (`_read_words`).

    `lexemes`: each word as the text search configuration makes it (None unless exactly one
    lexeme); `held`: for each, the vocabulary words starting with that lexeme (at most two)
    and the documents holding them; `known`: the folded words some vocabulary word starts with
    (the typo check's own test); `latest`: the index's latest write (sequence number);
    `candidates`: for each folded word a correction may change that no vocabulary word starts
    with, the vocabulary words that may be its correction, with the documents holding them."""

    words: tuple[str, ...]
    lexemes: tuple[str | None, ...]
    held: tuple[tuple[tuple[str, int], ...], ...]
    known: frozenset[str]
    latest: int
    candidates: dict[str, list[tuple[str, int]]] = dataclasses.field(default_factory=dict)

    def all_known(self) -> bool:
        """Whether a correction would leave the words as they are: every word it may change
        (`_correctable`) is one a vocabulary word starts with."""
        return all(not _correctable(word) or q.fold(word) in self.known for word in self.words)

    def match_nothing(self) -> bool:
        """Whether no document can hold every word: one word (without synonyms) is one lexeme
        that no word of the index starts with (a typo), so no statement need ask."""
        return any(
            lexeme is not None and not held and not q.synonyms(word)
            for word, lexeme, held in zip(self.words, self.lexemes, self.held, strict=True)
        )

    def whole_last(self) -> str | None:
        """The one word of the index the last word, searched as a prefix, can match (None: none,
        several, or synonyms). A prefix is a partial match in the GIN index, which gathers the
        documents of every word it matches before intersecting them with the other words' (12 ms
        for 'finance':* at 100,000 experts, even beside a word no document holds); a whole word
        is intersected as it is read (0.1 ms)."""
        if not self.words or q.synonyms(self.words[-1]) or len(self.held[-1]) != 1:
            return None
        return self.held[-1][0][0]

    def count_one(self) -> int | None:
        """The documents holding the one word searched, from the vocabulary (None: not one
        word, or a prefix several words of the index start with, or synonyms)."""
        if len(self.words) != 1 or q.synonyms(self.words[0]) or len(self.held[0]) != 1:
            return None
        return self.held[0][0][1]


class PostgresBackend:
    """Search in the application's PostgreSQL database, in tables named `search_*`."""

    name = "postgres"
    needs_reindex = False  # no layout versions: the tables are created where missing

    def __init__(self, *, engine: Engine, table_prefix: str = "search_") -> None:
        if not _PREFIX.match(table_prefix):
            raise ValueError("table_prefix must look like 'search_...'")
        self.engine = engine
        self.docs = f"{table_prefix}documents"
        self.facets = f"{table_prefix}facets"
        self.vectors = f"{table_prefix}vectors"
        self.vocab = f"{table_prefix}vocab"
        self.config = "simple"
        # The schema holding pg_trgm, when it is installed (else prefix candidates only).
        self.trigrams: str | None = None
        self._mirrors: dict[str, VectorMirror] = {}
        self._facet_mirrors: dict[str, FacetMirror] = {}
        self._facets_loaded: set[str] = set()
        self._forget_mirrors()
        self._ready = False
        # Runs a search's match statement while its thread embeds the query and finds its
        # neighbours (`_match_beside`); made again in a forked process (its threads stay behind).
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-match")
        self._pool_pid = os.getpid()

    def _forget_mirrors(self) -> None:
        """Starts the in-memory vectors and facet values of every index afresh."""
        self._mirrors = {index: VectorMirror(index) for index in INDEXES}
        self._facet_mirrors = {index: FacetMirror(schema_for(index).keywords) for index in INDEXES}
        self._facets_loaded = set()

    def ensure_indexes(self) -> None:
        """Creates the tables and the accent-folding text search configuration (idempotent)."""
        if self._ready:
            return
        try:
            with self.engine.begin() as conn:
                self.config = _text_config(conn)
                self.trigrams = _trigram_schema(conn)
                conn.execute(text(_ddl(self.docs, self.facets, self.vectors, self.vocab)))
                if self.trigrams:
                    conn.execute(
                        text(
                            f"CREATE INDEX IF NOT EXISTS {self.vocab}_trgm ON {self.vocab} "
                            f'USING gin (term "{self.trigrams}".gin_trgm_ops) '
                            f"WITH (gin_pending_list_limit = {GIN_PENDING_KB})"
                        )
                    )
                self._lock_writes(conn)  # one process counts what an older index holds
                self._fill_vocabulary(conn)
                self._fill_tags(conn)
                conn.execute(
                    text(
                        f"CREATE INDEX IF NOT EXISTS {self.docs}_tags ON {self.docs} "
                        f"USING gin (tags) WITH (gin_pending_list_limit = {GIN_PENDING_KB})"
                    )
                )
                self._limit_pending_lists(conn)
        except SQLAlchemyError as exc:
            raise _error(exc) from exc
        self._ready = True

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Adds or replaces documents."""
        schema = schema_for(index)
        self.ensure_indexes()
        ids = [int(doc["id"]) for doc in documents]
        try:
            with self.engine.begin() as conn:
                seq = self._lock_writes(conn)
                self._remove(conn, schema, ids, seq)
                for doc in documents:
                    self._insert(conn, schema, doc, seq)
                self._count_words(conn, schema, ids, +1)
                self._refresh_statistics(conn, len(documents))
        except SQLAlchemyError as exc:
            raise _error(exc) from exc

    def delete(self, index: str, ids: Sequence[int]) -> None:
        """Removes documents by id."""
        schema = schema_for(index)
        self.ensure_indexes()
        try:
            with self.engine.begin() as conn:
                seq = self._lock_writes(conn)
                self._remove(conn, schema, [int(i) for i in ids], seq)
        except SQLAlchemyError as exc:
            raise _error(exc) from exc

    def all_ids(self, index: str) -> set[int]:
        """Lists every document id of an index."""
        schema_for(index)
        self.ensure_indexes()
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT id FROM {self.docs} WHERE index_name = :i"),
                {"i": index},
            )
            return {int(row[0]) for row in rows}

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        """Runs a search: ts_rank_cd order (or the requested sort), filters, facets, highlights.

        The words are matched once (one statement hands back every match's id and rank); the
        order, the total and the fused head are worked out from those, facets are counted from
        the facet values held in memory, and one last statement reads the page's documents
        with their highlights. A hybrid search ordered by relevance whose words match more
        than BROAD_MATCHES documents ranks only the first BROAD_MATCHES the scan meets: its
        neighbours by meaning come first, then that sample by rank; its total counts every
        match (`_count`) and the neighbours the words miss, and its facets are the sample's,
        scaled, plus those neighbours (as on FTS5)."""
        schema = schema_for(index)
        today = query.today or date.today()
        clauses = q.compile_filters(schema, query.filters, today=today)
        sort = q.parse_sort(schema, query.sort)
        facets = q.check_facets(schema, query.facets)
        page, per_page = q.check_page(query.page, query.per_page)
        words = q.terms(query.text)
        tsq = tsquery_text(words, any_term=False, prefix_last=True) if words else ""
        self.ensure_indexes()
        params: dict[str, Any] = {"i": index, "cfg": self.config, "tsq": tsq}
        where = _where(clauses, params)
        suggestion: str | None = None
        # A hybrid search ordered by relevance reads at most BROAD_MATCHES matches first: when
        # its words match more (a common word), they are not all ranked (below).
        sample = BROAD_MATCHES if words and query.semantic and not sort else None
        empty: tuple[IntArray, NDArray[np.float32]] = (
            np.empty(0, np.int64),
            np.empty(0, np.float32),
        )
        try:
            # One snapshot for the whole search: the vocabulary read first says what the
            # match statements may take for granted (`_Words`).
            with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                known = self._read_words(conn, index, words) if words else None
                if known is not None:
                    params["tsq"] = _matching(words, known)
                found = empty
                early: tuple[Sequence[float] | None, list[int]] | None = None
                mirrors: tuple[VectorMirror, FacetMirror] | None = None
                if known is not None and self._beside(query, clauses, known):
                    # Its vector and neighbours are what they will be whatever the match
                    # finds: worked out here while the database matches the words.
                    refreshed = mirrors = self._refresh(conn, index, known.latest)
                    found, early = self._match_beside(
                        conn,
                        (where, params, sample),
                        lambda: self._early(query, refreshed, clauses, query.text),
                    )
                elif known is None or not known.match_nothing():
                    found = self._match(conn, where, params, sample)
                ids, ranks = found
                if not ids.size and known is not None:
                    corrected = _correct(words, known)
                    retried = (
                        self._read_words(conn, index, corrected, correct=False)
                        if corrected != words
                        else None
                    )
                    if retried is not None and not retried.match_nothing():
                        retry = {**params, "tsq": _matching(corrected, retried)}
                        if self._beside_retry(query, clauses, retried):
                            # The corrected words surely match: their vector and neighbours
                            # are worked out while the database matches them.
                            fixed = " ".join(corrected)
                            again = mirrors = self._refresh(conn, index, retried.latest)
                            found, early = self._match_beside(
                                conn,
                                (where, retry, sample),
                                lambda: self._early(query, again, clauses, fixed),
                            )
                        else:
                            found = self._match(conn, where, retry, sample)
                        if found[0].size:
                            suggestion, ids, ranks = " ".join(corrected), *found
                            tsq = tsquery_text(corrected, any_term=False, prefix_last=True)
                            params, words, known = retry, corrected, retried
                vector = query.vector_for(suggestion or query.text) if early is None else early[0]
                matched = int(ids.size)
                if sample is not None and ids.size >= sample:
                    # Its words may match more: with a vector, count them (a common word
                    # takes the broad path); without one, rank them all.
                    matched = (
                        self._count(conn, known, clauses, where, params)
                        if vector is not None and known is not None
                        else 0
                    )
                    if matched < ids.size:
                        ids, ranks = self._match(conn, where, params)
                        matched = int(ids.size)
                broad = matched > ids.size
                sampled = ids
                latest = known.latest if known is not None else None
                if mirrors is None and (vector is not None or facets):
                    mirrors = self._refresh(conn, index, latest)
                fused: list[int] = []
                outside: IntArray = np.empty(0, np.int64)
                rows: dict[int, tuple[Document, dict[str, str]]] | None = None
                if vector is not None and mirrors is not None:
                    dense = (
                        self._neighbours(conn, mirrors, vector, clauses, where, params)
                        if early is None
                        else early[1]
                    )
                    if broad:
                        # A common word: its neighbours by meaning first (as on FTS5), then its
                        # sample by rank; the neighbours' own ranks are read for their scores.
                        fused = fuse([], dense, 1.0)
                        offset, end = (page - 1) * per_page, page * per_page
                        if PAGE_WITH_RANKS and end <= len(fused):
                            # The page is neighbours only: read with their ranks.
                            marks = tsq if query.highlight else ""
                            held, rows = self._ranks_and_page(
                                conn, schema, dense, fused[offset:end], where, params, marks
                            )
                        else:
                            held = self._ranks_among(conn, dense, where, params)
                        near = np.asarray(dense, dtype=np.int64)
                        outside = near[~np.isin(near, np.fromiter(held, np.int64, len(held)))]
                        extra = np.setdiff1d(np.fromiter(held, np.int64, len(held)), ids)
                        ids = np.concatenate([ids, extra, outside])
                        ranks = np.concatenate(
                            [
                                ranks,
                                np.asarray([held[int(d)] for d in extra], np.float32),
                                np.zeros(outside.size, np.float32),
                            ]
                        )
                    else:
                        lexical = (
                            ids[_ranked(ids, ranks, (), LEXICAL_DEPTH)].tolist() if tsq else []
                        )
                        fused = fuse(lexical, dense, query.semantic_ratio)
                        if tsq and dense:  # the neighbours the words missed join the matches
                            added = np.setdiff1d(np.asarray(dense, dtype=np.int64), ids)
                            ids = np.concatenate([ids, added])
                            ranks = np.concatenate([ranks, np.zeros(added.size, np.float32)])
                total = matched + int(outside.size) if broad else int(ids.size)
                offset, end = (page - 1) * per_page, page * per_page
                if sort:
                    head = self._sorted_page(conn, schema, sort, (ids, ranks), fused, params, end)
                    chosen = head[offset:]
                else:
                    chosen = ids[_ranked(ids, ranks, fused, end)[offset:]].tolist()
                rank_of = _ranks_of(ids, ranks, chosen) if tsq else {}
                counts: dict[str, list[FacetCount]] = {}
                if facets and mirrors is not None and broad:
                    # Estimated from the sample read (scaled to every match), plus the
                    # neighbours by meaning the words do not match, counted once.
                    parts = [(sampled, matched / sampled.size), (outside, 1.0)]
                    counts = estimated_facets(schema, mirrors[1], parts, facets, today)
                elif facets and mirrors is not None:
                    counts = _facet_counts(schema, mirrors[1], ids, facets, today)
                if rows is None or any(doc_id not in rows for doc_id in chosen):
                    rows = self._documents(conn, schema, tsq if query.highlight else "", chosen)
        except DBAPIError as exc:
            raise _error(exc) from exc
        hits = [
            Hit(
                id=doc_id,
                document=rows[doc_id][0],
                score=rank_of.get(doc_id) if tsq else None,
                highlights=rows[doc_id][1],
            )
            for doc_id in chosen
            if doc_id in rows
        ]
        return SearchPage(
            hits=hits,
            total=total,
            page=page,
            per_page=per_page,
            facets=counts,
            suggestion=suggestion,
        )

    def _beside(self, query: SearchQuery, clauses: Sequence[q.Clause], known: _Words) -> bool:
        """Whether the query's vector and neighbours can be worked out while the words are
        matched: a hybrid query whose words the match statement is run for, whose filters
        are all in memory (keywords, availability), and whose text cannot be corrected (a
        vector given, or every word one the vocabulary knows: a correction changes only
        unknown words)."""
        return (
            OVERLAP
            and query.semantic
            and not known.match_nothing()
            and all(isinstance(c, q.KeywordClause | q.WindowClause) for c in clauses)
            and (query.vector is not None or known.all_known())
        )

    def _beside_retry(
        self, query: SearchQuery, clauses: Sequence[q.Clause], corrected: _Words
    ) -> bool:
        """Whether a corrected search's vector and neighbours can be worked out while its words
        are matched: as `_beside`, and the corrected words surely match (the vector is the
        correction's only if they do): a vector given, or one word some document holds and no
        filter."""
        return (
            OVERLAP
            and query.semantic
            and all(isinstance(c, q.KeywordClause | q.WindowClause) for c in clauses)
            and (
                query.vector is not None
                or (not clauses and len(corrected.words) == 1 and bool(corrected.held[0]))
            )
        )

    def _early(
        self,
        query: SearchQuery,
        mirrors: tuple[VectorMirror, FacetMirror],
        clauses: Sequence[q.Clause],
        searched: str,
    ) -> tuple[Sequence[float] | None, list[int]]:
        """The vector of the text searched (embedded on the searching thread, as always) and
        its neighbours among the documents the filters keep, from memory only."""
        vector = query.vector_for(searched)
        if vector is None:
            return None, []
        mirror, facet_mirror = mirrors
        allowed: IntArray | None = None
        if clauses:
            keywords = [c for c in clauses if isinstance(c, q.KeywordClause)]
            windows = [c for c in clauses if isinstance(c, q.WindowClause)]
            with facet_mirror.lock:
                allowed = facet_mirror.allowed(keywords, windows)
        with mirror.lock:
            return vector, mirror.nearest(vector, allowed, DENSE_DEPTH)

    def _match_beside(
        self,
        conn: Connection,
        match: tuple[str, dict[str, Any], int | None],
        work: Callable[[], _T],
    ) -> tuple[tuple[IntArray, NDArray[np.float32]], _T]:
        """Runs `_match` on a pool thread (the connection is its alone until it returns) while
        `work` runs on this one: the embedding and the neighbours are CPU, the match mostly
        the database's time."""
        if self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-match")
            self._pool_pid = os.getpid()
        future = self._pool.submit(self._match, conn, *match)
        try:
            done = work()
        except BaseException:
            wait([future])
            raise
        return future.result(), done

    def _match(
        self, conn: Connection, where: str, params: dict[str, Any], limit: int | None = None
    ) -> tuple[IntArray, NDArray[np.float32]]:
        """Gets the ids and ranks of the documents matching the words (`:tsq`, none: every
        document) and the filters, in one statement: each id and rank as one comma-joined
        binary string numpy reads as it is (a Python row per match cost more than the match;
        parsing their text, a third of it). With a limit, only the first matches the scan
        meets (in no particular order) are read and ranked."""
        if params["tsq"]:
            select = (
                f"SELECT d.id, ts_rank_cd(d.tsv, {_TSQ}) AS rank FROM {self.docs} d "
                f"WHERE d.index_name = :i AND d.tsv @@ {_TSQ} AND {where}"
            )
        else:
            select = f"SELECT d.id, 0.0::real AS rank FROM {self.docs} d "
            select += f"WHERE d.index_name = :i AND {where}"
        if limit is not None:
            select += f" LIMIT {int(limit)}"
        joined_ids, joined_ranks = conn.execute(
            text(
                "SELECT string_agg(int8send(m.id), ''), string_agg(float4send(m.rank), '') "
                f"FROM ({select}) m"
            ),
            params,
        ).one()
        if not joined_ids:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return (
            np.frombuffer(joined_ids, dtype=">i8").astype(np.int64),
            np.frombuffer(joined_ranks, dtype=">f4").astype(np.float32),
        )

    def _count(
        self,
        conn: Connection,
        known: _Words,
        clauses: Sequence[q.Clause],
        where: str,
        params: dict[str, Any],
    ) -> int:
        """Counts the documents matching the words (`:tsq`) and the filters, without ranking
        them. One word, no filter: from the vocabulary, when a single word of it starts with
        the word's lexeme (the number of documents holding it, kept with every write, read
        with the words); that reads one index entry where counting the matches reads each of
        them (the documents' rows: ~0.5 s for 63,000 at 100,000 experts)."""
        one = known.count_one()
        if one is not None and not clauses:
            return one
        return int(
            conn.execute(
                text(
                    f"SELECT count(*) FROM {self.docs} d "
                    f"WHERE d.index_name = :i AND d.tsv @@ {_TSQ} AND {where}"
                ),
                params,
            ).scalar_one()
        )

    def _ranks_among(
        self, conn: Connection, ids: Sequence[int], where: str, params: dict[str, Any]
    ) -> dict[int, float]:
        """Gets the ranks of those of these documents that match the words and filters."""
        if not ids:
            return {}
        rows = conn.execute(
            text(
                f"SELECT d.id, ts_rank_cd(d.tsv, {_TSQ}) FROM {self.docs} d "
                f"WHERE d.index_name = :i AND d.id = ANY(:among) AND d.tsv @@ {_TSQ} "
                f"AND {where}"
            ),
            {**params, "among": list(ids)},
        ).all()
        return {int(row[0]): float(row[1]) for row in rows}

    def _ranks_and_page(
        self,
        conn: Connection,
        schema: IndexSchema,
        ids: Sequence[int],
        page: Sequence[int],
        where: str,
        params: dict[str, Any],
        marks: str,
    ) -> tuple[dict[int, float], dict[int, tuple[Document, dict[str, str]]]]:
        """`_ranks_among` and `_documents` of the page (some of those documents) in one
        statement: the broad path's first pages are its neighbours by meaning."""
        if not ids:
            return {}, {}
        columns, extra = self._document_columns(schema, marks, "d.id = ANY(:page)")
        rows = conn.execute(
            text(
                f"SELECT d.id, CASE WHEN d.tsv @@ {_TSQ} AND {where} "
                f"THEN ts_rank_cd(d.tsv, {_TSQ}) END, d.id = ANY(:page){columns} "
                f"FROM {self.docs} d WHERE d.index_name = :i AND d.id = ANY(:among)"
            ),
            {**params, **extra, "among": list(ids), "page": list(page)},
        ).all()
        held = {int(row[0]): float(row[1]) for row in rows if row[1] is not None}
        return held, _read_documents(schema, [(row[0], *row[3:]) for row in rows if row[2]])

    def _sorted_page(
        self,
        conn: Connection,
        schema: IndexSchema,
        sort: Sequence[q.SortKey],
        matches: tuple[IntArray, NDArray[np.float32]],
        fused: Sequence[int],
        params: dict[str, Any],
        limit: int,
    ) -> list[int]:
        """Orders the matches by the requested sort over their stored documents (then the
        fused head, the rank and the id); returns the ids up to the end of the page."""
        order = [_order_term(schema, key) for key in sort]
        order += ["f.pos NULLS LAST", "m.rank DESC", "m.id"]
        ids, ranks = matches
        rows = conn.execute(
            text(
                "SELECT m.id FROM unnest(CAST(:ids AS bigint[]), CAST(:ranks AS real[])) "
                f"AS m(id, rank) JOIN {self.docs} d ON d.index_name = :i AND d.id = m.id "
                "LEFT JOIN unnest(CAST(:fused AS bigint[])) WITH ORDINALITY AS f(id, pos) "
                f"ON f.id = m.id ORDER BY {', '.join(order)} LIMIT :limit"
            ),
            {
                **params,
                "ids": ids.tolist(),
                "ranks": ranks.tolist(),
                "fused": list(fused),
                "limit": limit,
            },
        ).all()
        return [int(row[0]) for row in rows]

    def _neighbours(
        self,
        conn: Connection,
        mirrors: tuple[VectorMirror, FacetMirror],
        vector: Sequence[float],
        clauses: Sequence[q.Clause],
        where: str,
        params: dict[str, Any],
    ) -> list[int]:
        """Gets the documents closest to the query vector among those the filters keep (keyword
        and availability filters from the facet values in memory, others in SQL)."""
        mirror, facet_mirror = mirrors
        allowed: set[int] | IntArray | None = None
        keywords = [c for c in clauses if isinstance(c, q.KeywordClause)]
        windows = [c for c in clauses if isinstance(c, q.WindowClause)]
        if len(keywords) + len(windows) < len(clauses):
            allowed = {
                int(row[0])
                for row in conn.execute(
                    text(f"SELECT d.id FROM {self.docs} d WHERE d.index_name = :i AND {where}"),
                    params,
                )
            }
        elif clauses:
            with facet_mirror.lock:
                allowed = facet_mirror.allowed(keywords, windows)
        with mirror.lock:
            return mirror.nearest(vector, allowed, DENSE_DEPTH)

    def _refresh(
        self, conn: Connection, index: str, latest: int | None = None
    ) -> tuple[VectorMirror, FacetMirror]:
        """Brings the in-memory vectors and facet values of an index up to date with its tables
        (every write leaves its sequence number on the rows of the vectors table it changed,
        one row per document, with or without a vector). `latest`: the index's latest sequence
        number, when already read in this snapshot (with the words)."""
        mirror, facets = self._mirrors[index], self._facet_mirrors[index]
        with mirror.lock, facets.lock:
            if latest is None:
                latest = int(
                    conn.execute(
                        text(
                            f"SELECT coalesce(max(seq), 0) FROM {self.vectors} "
                            "WHERE index_name = :i"
                        ),
                        {"i": index},
                    ).scalar_one()
                )
            if latest < mirror.seq:  # the table was rebuilt: start over
                mirror.seq, mirror.index = 0, None
                facets.clear()
                self._facets_loaded.discard(index)
            loaded = index in self._facets_loaded
            if latest == mirror.seq and loaded:
                return mirror, facets
            since = mirror.seq
            changed = conn.execute(
                text(f"SELECT id, seq, vec FROM {self.vectors} WHERE index_name = :i AND seq > :s"),
                {"i": index, "s": since},
            ).all()
            mirror.apply((int(r[0]), int(r[1]), bytes(r[2]) if r[2] else None) for r in changed)
            # A first load reads every document (some older ones may have no vector row).
            scope = (
                f"IN (SELECT id FROM {self.vectors} WHERE index_name = :i AND seq > :s)"
                if loaded
                else "IS NOT NULL"
            )
            params = {"i": index, "s": since}
            windows = conn.execute(
                text(
                    f"SELECT id, win_start, win_end FROM {self.docs} "
                    f"WHERE index_name = :i AND id {scope}"
                ),
                params,
            )
            groups = conn.execute(
                text(
                    f"SELECT field, key, value, string_agg(doc_id::text, ',') FROM {self.facets} "
                    f"WHERE index_name = :i AND doc_id {scope} GROUP BY field, key, value"
                ),
                params,
            )
            facets.apply(
                (int(r[0]) for r in changed),
                ((int(r[0]), int(r[1]), int(r[2])) for r in windows),
                ((str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in groups),
            )
            self._facets_loaded.add(index)
        return mirror, facets

    def _read_words(
        self, conn: Connection, index: str, words: Sequence[str], *, correct: bool = True
    ) -> _Words:
        """Reads, in one statement, what the vocabulary says of the words (`_Words`): each
        word's lexeme, the vocabulary words starting with it (two at most) with the documents
        holding them, whether a vocabulary word starts with its folded form, the index's latest
        sequence number, and (`correct`) the correction candidates of every word a correction
        may change that no vocabulary word starts with: those sharing its first two letters,
        and (pg_trgm) the closest by trigrams, for words whose typo is in the first two letters.
        A candidate is read whether or not the words match (they are a typo's, read before the
        match and a round trip sooner; nothing is read for a known word)."""
        folded = [q.fold(word) for word in words]
        lengths = "length(v.term) BETWEEN length(u.f) - 2 AND length(u.f) + 2 AND v.ndoc > 0"
        gate = "u.e AND NOT k.known"
        branches = [
            f"SELECT v.term, v.ndoc FROM {self.vocab} v WHERE {gate} AND v.index_name = :i "
            f"AND {lengths} AND v.term >= left(u.f, 2) AND v.term < left(u.f, 2) || chr(1114111)"
        ]
        if self.trigrams:
            branches.append(
                f"SELECT v.term, v.ndoc FROM {self.vocab} v WHERE {gate} AND v.index_name = :i "
                f'AND v.term OPERATOR("{self.trigrams}".%) u.f AND {lengths} '
                f'ORDER BY "{self.trigrams}".similarity(v.term, u.f) DESC LIMIT :n'
            )
        rows = conn.execute(
            text(
                "SELECT u.n, l.lexeme, v.terms, v.ndocs, k.known, "
                f"(SELECT coalesce(max(seq), 0) FROM {self.vectors} WHERE index_name = :i), "
                "c.terms, c.ndocs "
                "FROM unnest(CAST(:ws AS text[]), CAST(:fs AS text[]), CAST(:es AS boolean[])) "
                "WITH ORDINALITY AS u(w, f, e, n) "
                "CROSS JOIN LATERAL (SELECT CASE WHEN count(*) = 1 THEN min(t.lexeme) END "
                "AS lexeme FROM unnest(to_tsvector(CAST(:cfg AS regconfig), u.w)) t) l "
                "CROSS JOIN LATERAL (SELECT array_agg(h.term ORDER BY h.term) AS terms, "
                "array_agg(h.ndoc ORDER BY h.term) AS ndocs FROM (SELECT term, ndoc FROM "
                f"{self.vocab} WHERE index_name = :i AND term >= l.lexeme "
                "AND term < l.lexeme || chr(1114111) AND ndoc > 0 ORDER BY term LIMIT 2) h) v "
                f"CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM {self.vocab} x "
                "WHERE x.index_name = :i AND x.term >= u.f AND x.term < u.f || chr(1114111) "
                "AND x.ndoc > 0) AS known) k "
                "CROSS JOIN LATERAL (SELECT array_agg(b.term) AS terms, array_agg(b.ndoc) AS ndocs "
                f"FROM ({' UNION ALL '.join(f'({b})' for b in branches)}) b) c "
                "ORDER BY u.n"
            ),
            {
                "i": index,
                "ws": list(words),
                "fs": folded,
                "es": [correct and _correctable(word) for word in words],
                "cfg": self.config,
                "n": _CANDIDATES,
            },
        ).all()
        return _Words(
            words=tuple(words),
            lexemes=tuple(None if r[1] is None else str(r[1]) for r in rows),
            held=tuple(
                tuple(zip((str(t) for t in r[2] or ()), (int(n) for n in r[3] or ()), strict=True))
                for r in rows
            ),
            known=frozenset(f for f, r in zip(folded, rows, strict=True) if r[4]),
            latest=int(rows[0][5]) if rows else 0,
            candidates={
                f: list(zip((str(t) for t in r[6]), (int(n) for n in r[7]), strict=True))
                for f, r in zip(folded, rows, strict=True)
                if r[6]
            },
        )

    def lexical_scores(self, index: str, text_: str, limit: int = 100) -> list[tuple[int, float]]:
        """Scores documents matching any term of the text by ts_rank_cd (higher is better)."""
        schema_for(index)
        words = q.terms(text_, limit=q.MAX_LEXICAL_TERMS)
        if not words or limit <= 0:
            return []
        self.ensure_indexes()
        tsq = tsquery_text(words, any_term=True, prefix_last=False)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        f"SELECT id, ts_rank_cd(tsv, {_TSQ}) AS r "
                        f"FROM {self.docs} WHERE index_name = :i AND tsv @@ {_TSQ} "
                        "ORDER BY r DESC, id LIMIT :limit"
                    ),
                    {"cfg": self.config, "tsq": tsq, "i": index, "limit": limit},
                ).all()
        except DBAPIError as exc:
            raise _error(exc) from exc
        return [(int(row[0]), float(row[1])) for row in rows]

    def drop(self) -> None:
        """Drops the search tables."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"DROP TABLE IF EXISTS {self.facets}, {self.docs}, {self.vectors}, {self.vocab}"
                )
            )
        self._ready = False
        self._forget_mirrors()

    def close(self) -> None:
        """Stops the match threads (the engine belongs to the application)."""
        self._pool.shutdown(wait=False)

    def _lock_writes(self, conn: Connection) -> int:
        """Serialises writes (so sequence numbers commit in order, and readers that fetched the
        vectors up to one miss none below it); returns this write's sequence number."""
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": self.vectors})
        return int(
            conn.execute(text(f"SELECT coalesce(max(seq), 0) + 1 FROM {self.vectors}")).scalar_one()
        )

    def _gin_indexes(self) -> list[str]:
        """Names the GIN indexes of the search tables."""
        names = [f"{self.docs}_tsv", f"{self.docs}_tags"]
        return names + ([f"{self.vocab}_trgm"] if self.trigrams else [])

    def _limit_pending_lists(self, conn: Connection) -> None:
        """Keeps the GIN indexes' pending lists small (GIN_PENDING_KB), also on indexes created
        before the limit was part of their definition."""
        setting = f"gin_pending_list_limit={GIN_PENDING_KB}"
        for name in self._gin_indexes():
            options = conn.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = to_regclass(:n)"),
                {"n": name},
            ).scalar()
            if setting not in (options or []):
                conn.execute(text(f"ALTER INDEX {name} SET ({setting})"))

    def _refresh_statistics(self, conn: Connection, written: int) -> None:
        """Re-analyses the search tables once the rows written since their last analysis
        (this write included) outgrow a share of what the planner believes they hold.
        Right after a bulk fill the planner still believes the tables empty, plans a nested
        loop that re-runs the text match once per facet row, and a search at 2,000 documents
        takes 50 s instead of 75 ms until autovacuum gets round to them."""
        if written == 0:
            return
        believed, changed = conn.execute(
            text(
                "SELECT greatest(c.reltuples, 0), coalesce(s.n_mod_since_analyze, 0) "
                "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.oid = CAST(:t AS regclass)"
            ),
            {"t": self.docs},
        ).one()
        changed = int(changed) + written
        if changed >= STALE_STATISTICS_ROWS and changed > STALE_STATISTICS_SHARE * believed:
            conn.execute(text(f"ANALYZE {self.docs}, {self.facets}, {self.vectors}, {self.vocab}"))
            # And merges what the bulk write left in the GIN indexes' pending lists.
            for name in self._gin_indexes():
                conn.execute(
                    text("SELECT gin_clean_pending_list(CAST(:n AS regclass))"),
                    {"n": name},
                )

    def _count_words(
        self, conn: Connection, schema: IndexSchema, ids: list[int], sign: int
    ) -> None:
        """Adds (or takes away) the words of these documents to the index's vocabulary."""
        if not ids:
            return
        words = (
            f"SELECT w AS term, count(*) AS n FROM {self.docs} d, "
            "unnest(tsvector_to_array(d.tsv)) AS w "
            "WHERE d.index_name = :i AND d.id = ANY(:ids) GROUP BY w"
        )
        params = {"i": schema.name, "ids": ids}
        if sign > 0:
            conn.execute(
                text(
                    f"INSERT INTO {self.vocab} (index_name, term, ndoc) "
                    f"SELECT :i, c.term, c.n FROM ({words}) c "
                    "ON CONFLICT (index_name, term) DO UPDATE "
                    f"SET ndoc = {self.vocab}.ndoc + excluded.ndoc"
                ),
                params,
            )
            return
        counts = conn.execute(
            text(
                f"UPDATE {self.vocab} v SET ndoc = v.ndoc - c.n FROM ({words}) c "
                "WHERE v.index_name = :i AND v.term = c.term RETURNING v.term, v.ndoc"
            ),
            params,
        ).all()
        gone = [term for term, ndoc in counts if ndoc <= 0]
        if gone:
            conn.execute(
                text(f"DELETE FROM {self.vocab} WHERE index_name = :i AND term = ANY(:t)"),
                {"i": schema.name, "t": gone},
            )

    def _fill_vocabulary(self, conn: Connection) -> None:
        """Counts the words of documents indexed before the vocabulary table existed (once)."""
        for index in INDEXES:
            params = {"i": index}
            if (
                conn.execute(
                    text(f"SELECT 1 FROM {self.vocab} WHERE index_name = :i LIMIT 1"),
                    params,
                ).first()
                or not conn.execute(
                    text(f"SELECT 1 FROM {self.docs} WHERE index_name = :i LIMIT 1"),
                    params,
                ).first()
            ):
                continue
            conn.execute(
                text(
                    f"INSERT INTO {self.vocab} (index_name, term, ndoc) "
                    "SELECT :i, w, count(*) FROM "
                    f"{self.docs} d, unnest(tsvector_to_array(d.tsv)) AS w "
                    "WHERE d.index_name = :i GROUP BY w"
                ),
                params,
            )

    def _fill_tags(self, conn: Connection) -> None:
        """Gives the documents indexed before they carried their facet tags their tags (once:
        the column is NOT NULL once they all have them)."""
        filled = conn.execute(
            text(
                "SELECT attnotnull FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
                "AND attname = 'tags' AND NOT attisdropped"
            ),
            {"t": self.docs},
        ).scalar()
        if filled:
            return
        if filled is None:
            conn.execute(text(f"ALTER TABLE {self.docs} ADD COLUMN tags TEXT[]"))
        conn.execute(
            text(
                f"UPDATE {self.docs} d SET tags = coalesce((SELECT array_agg(f.field || '=' || "
                f"f.key) FROM {self.facets} f WHERE f.index_name = d.index_name "
                "AND f.doc_id = d.id), '{}') WHERE d.tags IS NULL"
            )
        )
        conn.execute(
            text(
                f"ALTER TABLE {self.docs} ALTER COLUMN tags SET DEFAULT '{{}}', "
                "ALTER COLUMN tags SET NOT NULL"
            )
        )

    def _remove(self, conn: Connection, schema: IndexSchema, ids: list[int], seq: int) -> None:
        """Deletes documents, their facet values and words; each leaves a tombstone in the
        vectors table (whether it had a vector or not: the facet values in memory follow it)."""
        if not ids:
            return
        params = {"i": schema.name, "ids": ids}
        self._count_words(conn, schema, ids, -1)
        conn.execute(
            text(
                f"INSERT INTO {self.vectors} (index_name, id, seq, vec) "
                f"SELECT :i, d.id, :seq, NULL FROM {self.docs} d "
                "WHERE d.index_name = :i AND d.id = ANY(:ids) "
                "ON CONFLICT (index_name, id) DO UPDATE SET vec = NULL, seq = excluded.seq"
            ),
            {**params, "seq": seq},
        )
        conn.execute(
            text(f"DELETE FROM {self.facets} WHERE index_name = :i AND doc_id = ANY(:ids)"),
            params,
        )
        conn.execute(
            text(f"DELETE FROM {self.docs} WHERE index_name = :i AND id = ANY(:ids)"),
            params,
        )

    def _insert(self, conn: Connection, schema: IndexSchema, doc: Document, seq: int) -> None:
        """Writes one document, its weighted tsvector, its vector and its facet values. Every
        document gets a row in the vectors table (without a vector: NULL), carrying this write's
        sequence number for the readers' in-memory copies."""
        doc_id = int(doc["id"])
        vector = doc.get("embedding")
        conn.execute(
            text(
                f"INSERT INTO {self.vectors} (index_name, id, seq, vec) "
                "VALUES (:i, :id, :seq, :vec) ON CONFLICT (index_name, id) "
                "DO UPDATE SET seq = excluded.seq, vec = excluded.vec"
            ),
            {
                "i": schema.name,
                "id": doc_id,
                "seq": seq,
                "vec": to_blob(vector) if vector else None,
            },
        )
        stored = {k: v for k, v in doc.items() if k != "embedding"}
        start, end = q.window_days(
            doc.get(schema.window.start_field), doc.get(schema.window.end_field)
        )
        params: dict[str, Any] = {
            "i": schema.name,
            "id": doc_id,
            "doc": json.dumps(stored, ensure_ascii=False),
            "ws": start,
            "we": end,
            "cfg": self.config,
        }
        vectors = []
        for n, field in enumerate(schema.searchable):
            # Index words only, split exactly as query terms are (PostgreSQL's parser would
            # otherwise keep "name@example.org" or "v1.2" as single tokens).
            params[f"t{n}"] = q.words_only(q.searchable_text(doc.get(field.name)))
            vectors.append(
                f"setweight(to_tsvector(CAST(:cfg AS regconfig), :t{n}), '{field.pg_class}')"
            )
        rows = []
        for name in schema.keywords:
            raw = doc.get(name)
            items = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
            for value in dict.fromkeys(str(v) for v in items):
                rows.append(
                    {
                        "i": schema.name,
                        "f": name,
                        "k": q.keyword_key(value),
                        "v": value,
                        "d": doc_id,
                    }
                )
        # The facet keys as tags ("field=key"), which keyword filters match through a GIN
        # index the planner combines with the words' (see `_where`).
        params["tags"] = list(dict.fromkeys(f"{row['f']}={row['k']}" for row in rows))
        conn.execute(
            text(
                f"INSERT INTO {self.docs} (index_name, id, doc, tsv, win_start, win_end, tags) "
                f"VALUES (:i, :id, CAST(:doc AS jsonb), {' || '.join(vectors)}, :ws, :we, "
                "CAST(:tags AS text[]))"
            ),
            params,
        )
        if rows:
            conn.execute(
                text(
                    f"INSERT INTO {self.facets} (index_name, field, key, value, doc_id) "
                    "VALUES (:i, :f, :k, :v, :d) ON CONFLICT DO NOTHING"
                ),
                rows,
            )

    def _documents(
        self, conn: Connection, schema: IndexSchema, tsq: str, ids: Sequence[int]
    ) -> dict[int, tuple[Document, dict[str, str]]]:
        """Reads the page's documents, with their matched words marked by ts_headline when
        there are words (`tsq`), in one statement."""
        if not ids:
            return {}
        columns, extra = self._document_columns(schema, tsq)
        rows = conn.execute(
            text(
                f"SELECT d.id{columns} FROM {self.docs} d "
                "WHERE d.index_name = :i AND d.id = ANY(:ids)"
            ),
            {"i": schema.name, "ids": list(ids), **extra},
        ).all()
        return _read_documents(schema, rows)

    def _document_columns(
        self, schema: IndexSchema, tsq: str, only: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """The columns reading a document of `d` and, when there are words (`tsq`, bound as
        `:marks`), its highlights (ts_headline); `only`: a condition the document is read
        under (else NULL). Returns them with their parameters."""
        params: dict[str, Any] = {}
        expressions = ["d.doc"]
        if tsq:
            snippets = {s.name for s in schema.searchable if s.snippet}
            base = f'StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}"'
            params.update(cfg=self.config, marks=tsq)
            marks = "to_tsquery(CAST(:cfg AS regconfig), :marks)"
            for n, name in enumerate(schema.highlight):
                value = (
                    "array_to_string(ARRAY(SELECT jsonb_array_elements_text("
                    f"d.doc->'{name}')), ' ; ')"
                    if name in schema.list_fields
                    else f"coalesce(d.doc->>'{name}', '')"
                )
                expressions.append(f"ts_headline(CAST(:cfg AS regconfig), {value}, {marks}, :o{n})")
                params[f"o{n}"] = (
                    f'{base}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
                    if name in snippets
                    else f"{base}, HighlightAll=true"
                )
        if only:
            expressions = [f"CASE WHEN {only} THEN {e} END" for e in expressions]
        return "".join(f", {e}" for e in expressions), params


def _read_documents(
    schema: IndexSchema, rows: Sequence[Sequence[Any]]
) -> dict[int, tuple[Document, dict[str, str]]]:
    """Reads rows of (id, document, highlight...) as `_document_columns` wrote them."""
    return {
        int(row[0]): (
            row[1] if isinstance(row[1], dict) else json.loads(row[1]),
            {
                name: q.safe_highlight(value)
                for name, value in zip(schema.highlight, row[2:], strict=False)
                if value and MARK_OPEN in value
            },
        )
        for row in rows
    }


def _correct(words: Sequence[str], known: _Words) -> list[str]:
    """Replaces the words the index does not know (a typo) by the closest words it does, from
    the candidates read with the words (`_Words.candidates`)."""
    return [
        (best_correction(f, known.candidates.get(f, ())) or word)
        if _correctable(word) and f not in known.known
        else word
        for word, f in ((word, q.fold(word)) for word in words)
    ]


def _correctable(word: str) -> bool:
    """Whether a correction may replace the word: no synonyms, and long enough for an edit
    (`semantic.allowed_edits`: a shorter word's only candidate would be itself)."""
    return not q.synonyms(word) and allowed_edits(q.fold(word)) > 0


def _matching(words: Sequence[str], known: _Words) -> str:
    """The tsquery the match statements search for the words: the last word searched as the
    one word of the index it can match, when there is one (`_Words.whole_last`); the same
    documents and ranks as its prefix (highlights keep the prefix: `ts_headline` reads the
    documents' text, whose words the index may not hold)."""
    return tsquery_text(words, any_term=False, prefix_last=True, whole_last=known.whole_last())


def _ranked(
    ids: IntArray,
    ranks: NDArray[np.float32],
    fused: Sequence[int] = (),
    limit: int | None = None,
) -> IntArray:
    """Positions of the matches in result order (the fused head first, then by rank, highest
    first, then by id), the first `limit` only: only the matches ranked at least as high as
    the limit-th are sorted."""
    head = np.full(ids.size, len(fused), dtype=np.int64)
    if fused:
        position = {doc_id: n for n, doc_id in enumerate(fused)}
        for at in np.flatnonzero(np.isin(ids, np.asarray(fused, dtype=np.int64))):
            head[at] = position[int(ids[at])]
    chosen = np.arange(ids.size)
    if limit is not None and limit < ids.size:
        kth = np.partition(ranks, ids.size - limit)[ids.size - limit]
        chosen = np.flatnonzero((ranks >= kth) | (head < len(fused)))
    order = np.lexsort((ids[chosen], -ranks[chosen], head[chosen]))
    return chosen[order][:limit]


def _ranks_of(ids: IntArray, ranks: NDArray[np.float32], chosen: Sequence[int]) -> dict[int, float]:
    """Gets the ranks of the page's matches as psycopg reads a real: from the shortest text
    that reads back as the same float32 (1.6, not 1.600000023841858), as PostgreSQL prints it."""
    at = np.flatnonzero(np.isin(ids, np.asarray(chosen, dtype=np.int64)))
    return {int(ids[n]): float(str(ranks[n])) for n in at}


def _facet_counts(
    schema: IndexSchema,
    mirror: FacetMirror,
    ids: IntArray,
    names: Sequence[str],
    today: date,
) -> dict[str, list[FacetCount]]:
    """Counts the values of the asked facets over the matches, from the facet values held in
    memory (most frequent first, then by value; availability buckets in their own order)."""
    counts: dict[str, list[FacetCount]] = {}
    with mirror.lock:
        for name in names:
            if name == schema.window.name:
                buckets = q.window_buckets(today)
                tally = mirror.window_counts(ids, [span for _, span in buckets])
                counts[name] = [
                    FacetCount(label, count)
                    for (label, _), count in zip(buckets, tally, strict=True)
                    if count
                ]
                continue
            counts[name] = [
                FacetCount(value, count)
                for value, count in mirror.counts(ids, name)[: q.MAX_FACET_VALUES]
            ]
    return counts


def _text_config(conn: Connection) -> str:
    """Gets an accent-folding text search configuration, or 'simple' when unaccent is missing."""
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except DBAPIError:
        pass  # not allowed to install it: fall back to whatever exists
    schema = conn.execute(
        text(
            "SELECT n.nspname FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace "
            "WHERE d.dictname = 'unaccent' LIMIT 1"
        )
    ).scalar()
    if schema is None:
        return "simple"
    exists = conn.execute(
        text(
            "SELECT 1 FROM pg_ts_config WHERE cfgname = 'search_folded' "
            "AND cfgnamespace = to_regnamespace(current_schema())"
        )
    ).scalar()
    if not exists:
        try:
            with conn.begin_nested():
                conn.execute(text("CREATE TEXT SEARCH CONFIGURATION search_folded (COPY = simple)"))
                conn.execute(
                    text(
                        "ALTER TEXT SEARCH CONFIGURATION search_folded ALTER MAPPING FOR "
                        f'hword, hword_part, word WITH "{schema}".unaccent, simple'
                    )
                )
        except DBAPIError:
            pass  # created concurrently by another process
    current = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f'"{current}".search_folded'


def _trigram_schema(conn: Connection) -> str | None:
    """Gets the schema of pg_trgm, installing it if allowed (None: not available)."""
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError:
        pass  # not allowed: candidates come from the words' first letters only
    schema = conn.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    return str(schema) if schema else None


def _ddl(docs: str, facets: str, vectors: str, vocab: str) -> str:
    """Writes the search tables."""
    return f"""
        CREATE TABLE IF NOT EXISTS {docs} (
            index_name TEXT NOT NULL, id BIGINT NOT NULL, doc JSONB NOT NULL,
            tsv TSVECTOR NOT NULL, win_start INTEGER NOT NULL, win_end INTEGER NOT NULL,
            tags TEXT[] NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (index_name, id)
        );
        CREATE INDEX IF NOT EXISTS {docs}_tsv ON {docs} USING gin (tsv)
            WITH (gin_pending_list_limit = {GIN_PENDING_KB});

        CREATE TABLE IF NOT EXISTS {facets} (
            index_name TEXT NOT NULL, field TEXT NOT NULL, key TEXT NOT NULL,
            value TEXT NOT NULL, doc_id BIGINT NOT NULL,
            PRIMARY KEY (index_name, field, key, doc_id)
        );
        CREATE INDEX IF NOT EXISTS {facets}_doc ON {facets} (index_name, doc_id);
        CREATE TABLE IF NOT EXISTS {vectors} (
            index_name TEXT NOT NULL, id BIGINT NOT NULL, seq BIGINT NOT NULL, vec BYTEA,
            PRIMARY KEY (index_name, id)
        );
        CREATE INDEX IF NOT EXISTS {vectors}_seq ON {vectors} (index_name, seq);
        CREATE INDEX IF NOT EXISTS {vectors}_write_seq ON {vectors} (seq);
        CREATE TABLE IF NOT EXISTS {vocab} (
            index_name TEXT NOT NULL, term TEXT COLLATE "C" NOT NULL, ndoc INTEGER NOT NULL,
            PRIMARY KEY (index_name, term)
        );
    """


def _order_term(schema: IndexSchema, key: q.SortKey) -> str:
    """Writes one ORDER BY term over the stored JSON document, missing values last."""
    direction = "DESC" if key.descending else "ASC"
    if key.field in schema.numbers:
        expression = f"(d.doc->>'{key.field}')::bigint"
    else:
        expression = f"lower(d.doc->>'{key.field}')"
    return f"{expression} {direction} NULLS LAST"


def _where(clauses: Sequence[q.Clause], params: dict[str, Any]) -> str:
    """Writes the filter clauses as SQL over the documents table `d`. A keyword filter matches
    the document's tags: a subquery on the facets table instead made the planner walk a
    facet's documents one by one (8,000 at 100k: 0.5 s) rather than combine the indexes."""
    sql = ["TRUE"]
    for n, clause in enumerate(clauses):
        if isinstance(clause, q.KeywordClause):
            params[f"k{n}"] = [f"{clause.field}={key}" for key in clause.keys]
            sql.append(f"d.tags && CAST(:k{n} AS text[])")
        elif isinstance(clause, q.NumberClause):
            value = f"(d.doc->>'{clause.field}')::bigint"
            if clause.gte is not None:
                params[f"lo{n}"] = clause.gte
                sql.append(f"{value} >= :lo{n}")
            if clause.lte is not None:
                params[f"hi{n}"] = clause.lte
                sql.append(f"{value} <= :hi{n}")
        elif isinstance(clause, q.BoolClause):
            params[f"b{n}"] = clause.value
            sql.append(f"(d.doc->>'{clause.field}')::boolean = :b{n}")
        else:
            spans = []
            for m, (start, end) in enumerate(clause.spans):
                params[f"ws{n}_{m}"], params[f"we{n}_{m}"] = start, end
                spans.append(f"(d.win_start <= :we{n}_{m} AND d.win_end >= :ws{n}_{m})")
            sql.append("(" + " OR ".join(spans) + ")" if spans else "FALSE")
    return " AND ".join(sql)


def _error(exc: SQLAlchemyError) -> SearchError:
    """Turns a database failure into a search error (unavailable when the link is down)."""
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return BackendUnavailable(str(exc))
    return SearchError(str(exc))
