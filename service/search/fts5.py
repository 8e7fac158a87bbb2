"""Embedded search backend: SQLite FTS5 with BM25, in its own SQLite file."""

# ruff: noqa: S608  (table and column names come from code, values are bound parameters)

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.search import query as q
from service.search.base import (
    MARK_CLOSE,
    MARK_OPEN,
    Document,
    FacetCount,
    Hit,
    SearchError,
    SearchPage,
    SearchQuery,
)
from service.search.documents import INDEXES, IndexSchema, schema_for
from service.search.facet_mirror import FacetMirror, estimated_facets
from service.search.semantic import (
    DENSE_DEPTH,
    LEXICAL_DEPTH,
    VectorMirror,
    best_correction,
    fuse,
    to_blob,
)

TOKENIZER = "unicode61 remove_diacritics 2"
# Bump when the table layout changes: the index is derived data, so it is rebuilt.
SCHEMA_VERSION = 5
_SUFFIXES = ("vocab", "fts", "facets", "docs", "vectors")
# Ranks given to the fused head of a hybrid result, below every BM25 rank (which are > -1e6).
_FUSED_RANK = -1e12
# A hybrid query whose words match more documents than this ranks them by meaning (BM25 over
# tens of thousands of matches of a common word costs a second and orders little), and counts
# the facets on a sample of this many matches, scaled to the total.
BROAD_MATCHES = 2_000


def tag(schema: IndexSchema, field: str, key: str) -> str:
    """Encodes a facet value as one FTS5 token, so keyword filters run inside the full-text
    index (posting-list intersection) instead of as SQL over a companion table."""
    return f"t{schema.keywords.index(field)}x{key.encode().hex()}"


def _tags(schema: IndexSchema, clause: q.KeywordClause) -> str:
    """Writes a keyword filter as an FTS5 expression over the facet tags."""
    return "tags : (" + " OR ".join(f'"{tag(schema, clause.field, k)}"' for k in clause.keys) + ")"


def match_expression(
    words: Sequence[str], *, any_term: bool, prefix_last: bool, columns: Sequence[str] = ()
) -> str:
    """Builds an FTS5 MATCH expression from sanitised words; user text never reaches it raw."""
    parts: list[str] = []
    for position, word in enumerate(words):
        star = "*" if prefix_last and position == len(words) - 1 else ""
        options = [f'"{word}"{star}']
        for alternative in q.synonyms(word):
            tokens = q.phrase_words(alternative)
            if tokens:
                options.append('"' + " ".join(tokens) + '"')
        parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
    expression = (" OR " if any_term else " AND ").join(parts)
    if columns and expression:
        expression = "{" + " ".join(columns) + "} : (" + expression + ")"
    return expression


class Fts5Backend:
    """Search over SQLite FTS5 tables, one set of tables per logical index."""

    name = "fts5"

    def __init__(self, *, path: str = ":memory:") -> None:
        self.path = path
        self._memory = path == ":memory:"
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        self._ready = False
        self.needs_reindex = False
        self._mirrors: dict[str, VectorMirror] = {}
        self._facet_mirrors: dict[str, FacetMirror] = {}
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def _open(self) -> sqlite3.Connection:
        """Opens a connection in autocommit mode; transactions are explicit."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """Lends a connection: one per thread for a file, one shared (locked) in memory."""
        if self._memory:
            with self._lock:
                if self._shared is None:
                    self._shared = self._open()
                yield self._shared
            return
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Runs a write transaction (one writer at a time)."""
        self.ensure_indexes()
        with self._write_lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def ensure_indexes(self) -> None:
        """Creates the tables of every index (idempotent)."""
        if self._ready:
            return
        with self._write_lock, self._conn() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                # An older layout (or a fresh file): start over; `reindex` refills it.
                self.needs_reindex = version != 0
                for index in INDEXES:
                    for suffix in _SUFFIXES:
                        conn.execute(f"DROP TABLE IF EXISTS {index}_{suffix}")
            for index in INDEXES:
                conn.executescript(_ddl(schema_for(index)))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._ready = True

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Adds or replaces documents."""
        schema = schema_for(index)
        with self._write() as conn:
            seq = _next_seq(conn, schema)
            for doc in documents:
                _remove(conn, schema, int(doc["id"]), seq)
                _insert(conn, schema, doc, seq)

    def delete(self, index: str, ids: Sequence[int]) -> None:
        """Removes documents by id."""
        schema = schema_for(index)
        with self._write() as conn:
            seq = _next_seq(conn, schema)
            for doc_id in ids:
                _remove(conn, schema, int(doc_id), seq)

    def all_ids(self, index: str) -> set[int]:
        """Lists every document id of an index."""
        schema = schema_for(index)
        self.ensure_indexes()
        with self._conn() as conn:
            return {row[0] for row in conn.execute(f"SELECT id FROM {schema.name}_docs")}

    def search(self, index: str, query: SearchQuery) -> SearchPage:
        """Runs a search: BM25 order (or the requested sort), filters, facets, highlights."""
        schema = schema_for(index)
        today = query.today or date.today()
        clauses = q.compile_filters(schema, query.filters, today=today)
        sort = q.parse_sort(schema, query.sort)
        facets = q.check_facets(schema, query.facets)
        page, per_page = q.check_page(query.page, query.per_page)
        words = q.terms(query.text)
        keyword = [c for c in clauses if isinstance(c, q.KeywordClause)]
        if any(not c.keys for c in keyword):
            return SearchPage(hits=[], total=0, page=page, per_page=per_page, facets={})
        tags = [_tags(schema, c) for c in keyword]
        where, where_params = _where(schema, [c for c in clauses if c not in keyword])
        order = [_order_term(k) for k in sort] + ["m.rank", "m.id"]
        suggestion: str | None = None
        self.ensure_indexes()
        with self._conn() as conn:
            try:
                # One scratch table per connection, emptied by each search (cheaper than a
                # CREATE and DROP per search).
                conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS matches (id INTEGER PRIMARY KEY, rank REAL)"
                )
                hybrid = query.semantic and bool(words)
                expression = self._match(conn, schema, words, tags, where, where_params, hybrid)
                total = conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0]
                if not total and words:
                    corrected = _correct(conn, schema, words)
                    if corrected != words:
                        expression = self._match(
                            conn, schema, corrected, tags, where, where_params, hybrid
                        )
                        total = conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0]
                        suggestion = " ".join(corrected) if total else None
                        words = corrected if total else words
                # The words are settled: embed the text searched (a typo's correction).
                vector = query.vector_for(suggestion or query.text)
                if hybrid and vector is None and total >= BROAD_MATCHES:
                    # Nothing to rank by meaning after all: rank every match by BM25, and
                    # count them all (the sample stopped at BROAD_MATCHES).
                    hybrid = False
                    self._match(conn, schema, words, tags, where, where_params, False)
                    total = conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0]
                scale = 1.0
                if hybrid and total >= BROAD_MATCHES:
                    total = _count(conn, schema, expression, where, where_params)
                    scale = total / BROAD_MATCHES
                broad = scale > 1.0
                mirror, facet_mirror = self._refresh(conn, schema)
                # A broad query's facets are estimated from its sample (scaled), plus the
                # neighbours by meaning added below (counted as they are).
                sample = _match_ids(conn) if broad and facets else None
                if vector is not None:
                    added = self._blend(
                        conn,
                        schema,
                        (mirror, facet_mirror),
                        vector,
                        query.semantic_ratio,
                        words,
                        clauses,
                        where,
                        where_params,
                        broad,
                    )
                    total += added
                rows = _page(conn, schema, order, bool(sort), per_page, (page - 1) * per_page)
                counts = _facets(conn, schema, facet_mirror, facets, today, scale, sample)
                marks = (
                    _highlights(conn, schema, expression, [r[0] for r in rows])
                    if words and query.highlight and rows
                    else {}
                )
                conn.execute("DELETE FROM temp.matches")
            except sqlite3.OperationalError as exc:
                raise SearchError(f"embedded search failed: {exc}") from exc
        hits = [
            Hit(
                id=row[0],
                document=json.loads(row[2]),
                score=-row[1] if words else None,
                highlights=marks.get(row[0], {}),
            )
            for row in rows
        ]
        return SearchPage(
            hits=hits,
            total=total,
            page=page,
            per_page=per_page,
            facets=counts,
            suggestion=suggestion,
        )

    def _match(
        self,
        conn: sqlite3.Connection,
        schema: IndexSchema,
        words: Sequence[str],
        tags: Sequence[str],
        where: str,
        where_params: Sequence[Any],
        broad: bool,
    ) -> str:
        """Fills temp.matches with the documents matching the words and filters (BM25 rank;
        with `broad`, only a sample when they are many); returns the MATCH expression."""
        # No column filter: it makes FTS5 decode position lists and costs 2x. A user word
        # could only hit a facet tag by spelling its hex code, which reveals nothing.
        text_match = match_expression(words, any_term=False, prefix_last=True) if words else ""
        expression = " AND ".join(([f"({text_match})"] if text_match else []) + list(tags))
        select, params = _selection(schema, expression, bool(text_match), where, where_params)
        conn.execute("DELETE FROM temp.matches")
        if broad and text_match:
            # Unranked first: without BM25, FTS5 decodes no positions, so a sample of a common
            # word costs ~5x less than ranking it (measured at 100k); few matches are re-read
            # with their ranks below.
            sample, sample_params = _selection(schema, expression, False, where, where_params)
            conn.execute(
                f"INSERT INTO temp.matches {sample} LIMIT ?", [*sample_params, BROAD_MATCHES]
            )
            if conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0] >= BROAD_MATCHES:
                return expression
            conn.execute("DELETE FROM temp.matches")
        conn.execute(f"INSERT INTO temp.matches {select}", params)
        return expression

    def _blend(
        self,
        conn: sqlite3.Connection,
        schema: IndexSchema,
        mirrors: tuple[VectorMirror, FacetMirror],
        vector: Sequence[float],
        semantic_ratio: float,
        words: Sequence[str],
        clauses: Sequence[q.Clause],
        where: str,
        where_params: Sequence[Any],
        broad: bool,
    ) -> int:
        """Adds the semantic neighbours the filters allow to temp.matches and ranks the head of
        the result by reciprocal-rank fusion; returns how many documents it added. A broad query
        (a common word) puts its neighbours by meaning first."""
        mirror, facet_mirror = mirrors
        allowed: NDArray[np.int64] | None = None
        keywords = [c for c in clauses if isinstance(c, q.KeywordClause)]
        windows = [c for c in clauses if isinstance(c, q.WindowClause)]
        if len(keywords) + len(windows) == len(clauses):
            if clauses:  # keyword and availability filters: from the arrays in memory
                with facet_mirror.lock:
                    allowed = facet_mirror.allowed(keywords, windows)
        else:
            tags = [_tags(schema, c) for c in keywords]
            select, params = _selection(schema, " AND ".join(tags), False, where, where_params)
            allowed = np.fromiter((row[0] for row in conn.execute(select, params)), np.int64)
        with mirror.lock:
            dense = mirror.nearest(vector, allowed, DENSE_DEPTH)
        lexical = (
            [
                int(row[0])
                for row in conn.execute(
                    "SELECT id FROM temp.matches ORDER BY rank, id LIMIT ?", (LEXICAL_DEPTH,)
                )
            ]
            if words and not broad
            else []
        )
        fused = fuse(lexical, dense, 1.0 if broad else semantic_ratio)
        before = int(conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0])
        conn.executemany(
            "INSERT INTO temp.matches (id, rank) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET rank = excluded.rank",
            [(doc_id, _FUSED_RANK + position) for position, doc_id in enumerate(fused)],
        )
        return int(conn.execute("SELECT count(*) FROM temp.matches").fetchone()[0]) - before

    def _refresh(
        self, conn: sqlite3.Connection, schema: IndexSchema
    ) -> tuple[VectorMirror, FacetMirror]:
        """Brings the in-memory vectors and facet values of an index up to date with its tables
        (every write leaves its sequence number on the rows of `_vectors` it changed)."""
        # Made once per index (setdefault keeps the first of two racing threads' mirrors).
        mirror = self._mirrors.get(schema.name)
        if mirror is None:
            mirror = self._mirrors.setdefault(schema.name, VectorMirror(schema.name))
        facets = self._facet_mirrors.get(schema.name)
        if facets is None:
            facets = self._facet_mirrors.setdefault(schema.name, FacetMirror(schema.keywords))
        t = schema.name
        with mirror.lock, facets.lock:
            latest = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {t}_vectors").fetchone()[0]
            if latest < mirror.seq:  # the table was rebuilt: start over
                mirror.seq, mirror.index = 0, None
                facets.clear()
            if latest != mirror.seq:
                since = mirror.seq
                changed = conn.execute(
                    f"SELECT id, seq, vec FROM {t}_vectors WHERE seq > ?", (since,)
                ).fetchall()
                mirror.apply(changed)
                # A first load reads every row (a third cheaper than through the id list).
                ids = f"IN (SELECT id FROM {t}_vectors WHERE seq > ?)" if since else ">= ?"
                facets.apply(
                    (row[0] for row in changed),
                    conn.execute(
                        f"SELECT id, win_start, win_end FROM {t}_docs WHERE id {ids}", (since,)
                    ),
                    conn.execute(
                        f"SELECT field, key, value, group_concat(doc_id) FROM {t}_facets "
                        f"WHERE doc_id {ids} GROUP BY field, key, value",
                        (since,),
                    ),
                )
        return mirror, facets

    def lexical_scores(self, index: str, text: str, limit: int = 100) -> list[tuple[int, float]]:
        """Scores documents matching any term of the text by BM25 (higher is better)."""
        schema = schema_for(index)
        words = q.terms(text, limit=q.MAX_LEXICAL_TERMS)
        if not words or limit <= 0:
            return []
        expression = match_expression(words, any_term=True, prefix_last=False)
        weights = ", ".join([*(str(f.weight) for f in schema.searchable), "0.0"])
        t = schema.name
        self.ensure_indexes()
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT rowid, bm25({t}_fts, {weights}) AS r FROM {t}_fts "
                f"WHERE {t}_fts MATCH ? ORDER BY r, rowid LIMIT ?",
                (expression, limit),
            ).fetchall()
        return [(int(row[0]), -float(row[1])) for row in rows]

    def drop(self) -> None:
        """Drops every table of every index."""
        with self._write_lock, self._conn() as conn:
            for index in INDEXES:
                for suffix in _SUFFIXES:
                    conn.execute(f"DROP TABLE IF EXISTS {index}_{suffix}")
        self._ready = False
        self._mirrors.clear()
        self._facet_mirrors.clear()

    def close(self) -> None:
        """Closes the connections this thread or the shared memory database holds."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None
            self._ready = False


def _ddl(schema: IndexSchema) -> str:
    """Writes the tables of one index: documents, full text and facet values."""
    t = schema.name
    sort_columns = "".join(f", sort_{name}" for name in schema.sortable)
    number_columns = "".join(f", num_{name} INTEGER" for name in schema.numbers)
    bool_columns = "".join(f", bool_{name} INTEGER" for name in schema.booleans)
    text_columns = ", ".join(s.name for s in schema.searchable)
    return f"""
        CREATE TABLE IF NOT EXISTS {t}_docs (
            id INTEGER PRIMARY KEY, doc TEXT NOT NULL,
            win_start INTEGER NOT NULL, win_end INTEGER NOT NULL
            {sort_columns}{number_columns}{bool_columns}
        );
        CREATE INDEX IF NOT EXISTS {t}_docs_window ON {t}_docs (win_start, win_end);
        CREATE INDEX IF NOT EXISTS {t}_docs_span ON {t}_docs (id, win_start, win_end);
        CREATE TABLE IF NOT EXISTS {t}_facets (
            field TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, doc_id INTEGER NOT NULL,
            PRIMARY KEY (field, key, doc_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS {t}_facets_doc ON {t}_facets (doc_id, field, key, value);
        CREATE VIRTUAL TABLE IF NOT EXISTS {t}_fts USING fts5(
            {text_columns}, tags, tokenize = '{TOKENIZER}', prefix = '2 3 4'
        );
        CREATE VIRTUAL TABLE IF NOT EXISTS {t}_vocab USING fts5vocab({t}_fts, 'row');
        CREATE TABLE IF NOT EXISTS {t}_vectors (
            id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, vec BLOB
        );
        CREATE INDEX IF NOT EXISTS {t}_vectors_seq ON {t}_vectors (seq);
    """


def _selection(
    schema: IndexSchema, expression: str, ranked: bool, where: str, where_params: Sequence[Any]
) -> tuple[str, list[Any]]:
    """Writes the SELECT (id, rank) of the documents matching an FTS5 expression and filters."""
    t = schema.name
    weights = ", ".join([*(str(f.weight) for f in schema.searchable), "0.0"])
    rank = f"bm25({t}_fts, {weights})" if ranked else "0.0"
    if expression and where == "1 = 1":
        return f"SELECT rowid, {rank} FROM {t}_fts WHERE {t}_fts MATCH ?", [expression]
    if expression:
        return (
            f"SELECT f.rowid, {rank} FROM {t}_fts f JOIN {t}_docs d ON d.id = f.rowid "
            f"WHERE {t}_fts MATCH ? AND {where}",
            [expression, *where_params],
        )
    return f"SELECT d.id, 0.0 FROM {t}_docs d WHERE {where}", list(where_params)


def _count(
    conn: sqlite3.Connection,
    schema: IndexSchema,
    expression: str,
    where: str,
    where_params: Sequence[Any],
) -> int:
    """Counts the documents matching an expression and filters, without ranking them."""
    select, params = _selection(schema, expression, False, where, where_params)
    return int(conn.execute(f"SELECT count(*) FROM ({select})", params).fetchone()[0])


def _next_seq(conn: sqlite3.Connection, schema: IndexSchema) -> int:
    """Gets the sequence number of a write, so readers fetch only the vectors it changed."""
    row = conn.execute(f"SELECT coalesce(max(seq), 0) + 1 FROM {schema.name}_vectors").fetchone()
    return int(row[0])


def _correct(conn: sqlite3.Connection, schema: IndexSchema, words: Sequence[str]) -> list[str]:
    """Replaces the words the index does not know by the closest words it does (typos)."""
    vocab = f"{schema.name}_vocab"
    corrected: list[str] = []
    for word in words:
        folded = q.fold(word)
        known = (
            q.synonyms(word)
            or conn.execute(
                f"SELECT 1 FROM {vocab} WHERE term >= ? AND term < ? LIMIT 1",
                (folded, folded + "\U0010ffff"),
            ).fetchone()
        )
        if known or len(folded) < 2:
            corrected.append(word)
            continue
        head = folded[:2]
        candidates = conn.execute(
            f"SELECT term, doc FROM {vocab} WHERE term >= ? AND term < ? "
            "AND length(term) BETWEEN ? AND ?",
            (head, head + "\U0010ffff", len(folded) - 2, len(folded) + 2),
        ).fetchall()
        corrected.append(best_correction(folded, candidates) or word)
    return corrected


def _remove(conn: sqlite3.Connection, schema: IndexSchema, doc_id: int, seq: int) -> None:
    """Deletes one document from the tables of an index (its vector leaves a tombstone)."""
    t = schema.name
    conn.execute(f"UPDATE {t}_vectors SET vec = NULL, seq = ? WHERE id = ?", (seq, doc_id))
    conn.execute(f"DELETE FROM {t}_fts WHERE rowid = ?", (doc_id,))
    conn.execute(f"DELETE FROM {t}_facets WHERE doc_id = ?", (doc_id,))
    conn.execute(f"DELETE FROM {t}_docs WHERE id = ?", (doc_id,))


def _insert(conn: sqlite3.Connection, schema: IndexSchema, doc: Document, seq: int) -> None:
    """Writes one document into the tables of an index."""
    t = schema.name
    doc_id = int(doc["id"])
    vector = doc.get("embedding")
    # A row for every document, with or without a vector: readers learn from the sequence
    # numbers which documents changed (their facet values too).
    conn.execute(
        f"INSERT OR REPLACE INTO {t}_vectors (id, seq, vec) VALUES (?, ?, ?)",
        (doc_id, seq, to_blob(vector) if vector else None),
    )
    stored = {k: v for k, v in doc.items() if k != "embedding"}
    start, end = q.window_days(doc.get(schema.window.start_field), doc.get(schema.window.end_field))
    columns = ["id", "doc", "win_start", "win_end"]
    values: list[Any] = [doc_id, json.dumps(stored, ensure_ascii=False), start, end]
    for name in schema.sortable:
        columns.append(f"sort_{name}")
        values.append(_sort_value(schema, name, doc.get(name)))
    for name in schema.numbers:
        columns.append(f"num_{name}")
        values.append(doc.get(name))
    for name in schema.booleans:
        columns.append(f"bool_{name}")
        values.append(int(bool(doc.get(name))))
    conn.execute(
        f"INSERT INTO {t}_docs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        values,
    )
    facet_rows = []
    for name in schema.keywords:
        raw = doc.get(name)
        items = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
        for value in items:
            facet_rows.append((name, q.keyword_key(value), str(value), doc_id))
    tags = " ".join(dict.fromkeys(tag(schema, name, key) for name, key, _, _ in facet_rows))
    conn.execute(
        f"INSERT INTO {t}_fts (rowid, {', '.join(s.name for s in schema.searchable)}, tags) "
        f"VALUES (?, {', '.join('?' * len(schema.searchable))}, ?)",
        [doc_id, *(q.searchable_text(doc.get(s.name)) for s in schema.searchable), tags],
    )
    conn.executemany(
        f"INSERT OR IGNORE INTO {t}_facets (field, key, value, doc_id) VALUES (?, ?, ?, ?)",
        facet_rows,
    )


def _sort_value(schema: IndexSchema, name: str, value: object) -> object:
    """Gives the sortable form of a field: folded text, a day number or the number."""
    if value is None:
        return None
    if name in (schema.window.start_field, schema.window.end_field):
        return q.window_days(value, None)[0] or None
    if isinstance(value, str):
        return q.fold(value)
    return value


def _order_term(key: q.SortKey) -> str:
    """Writes one ORDER BY term, missing values last."""
    return f"sort_{key.field} {'DESC' if key.descending else 'ASC'} NULLS LAST"


def _where(schema: IndexSchema, clauses: Sequence[q.Clause]) -> tuple[str, list[Any]]:
    """Writes the filter clauses as SQL over the documents table `d`."""
    sql: list[str] = ["1 = 1"]
    params: list[Any] = []
    t = schema.name
    for clause in clauses:
        if isinstance(clause, q.KeywordClause):
            if not clause.keys:
                sql.append("0 = 1")
                continue
            marks = ", ".join("?" * len(clause.keys))
            sql.append(
                f"d.id IN (SELECT doc_id FROM {t}_facets WHERE field = ? AND key IN ({marks}))"
            )
            params += [clause.field, *clause.keys]
        elif isinstance(clause, q.NumberClause):
            if clause.gte is not None:
                sql.append(f"d.num_{clause.field} >= ?")
                params.append(clause.gte)
            if clause.lte is not None:
                sql.append(f"d.num_{clause.field} <= ?")
                params.append(clause.lte)
        elif isinstance(clause, q.BoolClause):
            sql.append(f"d.bool_{clause.field} = ?")
            params.append(int(clause.value))
        else:
            spans = " OR ".join("(d.win_start <= ? AND d.win_end >= ?)" for _ in clause.spans)
            sql.append(f"({spans})" if spans else "0 = 1")
            for start, end in clause.spans:
                params += [end, start]
    return " AND ".join(sql), params


def _page(
    conn: sqlite3.Connection,
    schema: IndexSchema,
    order: Sequence[str],
    sorted_by_field: bool,
    limit: int,
    offset: int,
) -> list[tuple[int, float, str]]:
    """Gets one page of matches (id, rank, stored document), in order."""
    t = schema.name
    if sorted_by_field:
        return conn.execute(
            f"SELECT m.id, m.rank, d.doc FROM temp.matches m "
            f"JOIN {t}_docs d ON d.id = m.id ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
    # Rank order needs no document: pick the page's ids first, then read only their documents
    # (a join would carry every match's document through the sort).
    ranked = conn.execute(
        "SELECT id, rank FROM temp.matches ORDER BY rank, id LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    if not ranked:
        return []
    marks = ", ".join("?" * len(ranked))
    docs = dict(
        conn.execute(
            f"SELECT id, doc FROM {t}_docs WHERE id IN ({marks})", [r[0] for r in ranked]
        ).fetchall()
    )
    return [(doc_id, rank, docs[doc_id]) for doc_id, rank in ranked if doc_id in docs]


def _match_ids(conn: sqlite3.Connection) -> NDArray[np.int64]:
    """Gets the ids held in temp.matches (in no particular order: they are counted).

    One comma-joined string parsed by numpy: a Python row per match cost about 0.7 µs each
    (2,000 matches of a common word: 1.5 ms of a search, 3x this)."""
    joined = conn.execute("SELECT group_concat(id) FROM temp.matches").fetchone()[0]
    if not joined:
        return np.empty(0, np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def _facets(
    conn: sqlite3.Connection,
    schema: IndexSchema,
    mirror: FacetMirror,
    names: Sequence[str],
    today: date,
    scale: float = 1.0,
    sample: NDArray[np.int64] | None = None,
) -> dict[str, list[FacetCount]]:
    """Counts the values of the asked facets over the current matches, from the facet values
    held in memory; with a sample, its counts are scaled and the other matches counted once."""
    if not names:
        return {}
    ids = _match_ids(conn)
    parts = [(ids, 1.0)]
    if sample is not None and scale > 1.0:
        parts = [(sample, scale), (np.setdiff1d(ids, sample, assume_unique=True), 1.0)]

    return estimated_facets(schema, mirror, parts, names, today)


def _highlights(
    conn: sqlite3.Connection, schema: IndexSchema, expression: str, ids: Sequence[int]
) -> dict[int, dict[str, str]]:
    """Marks the matched words in the highlighted fields of the page's documents."""
    t = schema.name
    columns = [s.name for s in schema.searchable]
    wanted = [(name, columns.index(name)) for name in schema.highlight]
    snippets = {s.name for s in schema.searchable if s.snippet}
    calls = [
        f"snippet({t}_marks, {i}, ?, ?, '…', 24)"
        if name in snippets
        else f"highlight({t}_marks, {i}, ?, ?)"
        for name, i in wanted
    ]
    params: list[Any] = [MARK_OPEN, MARK_CLOSE] * len(calls)
    marks = ", ".join("?" * len(ids))
    text = ", ".join([*columns, "tags"])
    # The page's rows are copied into a scratch table of the same tokenizer and matched there:
    # same marks, but the expression runs over 20 rows, not over the posting lists of the whole
    # index (a common word's: ~10 ms at 100k, whatever the page). The scratch index keeps its
    # text in a plain table (external content), so emptying it is FTS5's 'delete-all', which
    # drops its segments, instead of a delete per row that tokenizes each text again: 0.86
    # against 1.24 ms a page of 20 experts (process time, /tmp world of bench/page_profile.py).
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {t}_marks_text (id INTEGER PRIMARY KEY, {text})")
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{t}_marks USING fts5("
        f"{text}, tokenize = '{TOKENIZER}', content = '{t}_marks_text', content_rowid = 'id')"
    )
    try:
        conn.execute(
            f"INSERT INTO temp.{t}_marks_text (id, {text}) "
            f"SELECT rowid, {text} FROM main.{t}_fts WHERE rowid IN ({marks})",
            list(ids),
        )
        conn.execute(
            f"INSERT INTO temp.{t}_marks (rowid, {text}) SELECT id, {text} FROM temp.{t}_marks_text"
        )
        rows = conn.execute(
            f"SELECT rowid, {', '.join(calls)} FROM temp.{t}_marks WHERE {t}_marks MATCH ?",
            [*params, expression],
        ).fetchall()
    finally:
        conn.execute(f"INSERT INTO temp.{t}_marks ({t}_marks) VALUES ('delete-all')")
        conn.execute(f"DELETE FROM temp.{t}_marks_text")
    result: dict[int, dict[str, str]] = {}
    for row in rows:
        result[int(row[0])] = {
            name: q.safe_highlight(text)
            for (name, _), text in zip(wanted, row[1:], strict=True)
            if text and MARK_OPEN in text
        }
    return result
