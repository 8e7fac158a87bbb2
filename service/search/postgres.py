"""Search backend on PostgreSQL full-text search (tsvector, ts_rank_cd), in `search_*` tables.

Hybrid search and typo correction work as on the embedded backend (service/search/semantic.py):
document vectors live in a table beside the documents and are mirrored in memory by sequence
number; a query vector's neighbours, among the documents of the reader's index the filters keep,
are fused with the keyword matches by reciprocal rank. Words the index does not know are replaced
by the closest word of its vocabulary (a table kept in step with the documents; candidates come
from a pg_trgm index when the extension is available, else from the word's first letters), and
the page says which correction it searched for.
"""

# ruff: noqa: S608  (table and column names come from code, values are bound parameters)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

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
from service.search.semantic import (
    DENSE_DEPTH,
    LEXICAL_DEPTH,
    VectorMirror,
    best_correction,
    fuse,
    to_blob,
)

_TSQ = "to_tsquery(CAST(:cfg AS regconfig), :tsq)"
_PREFIX = re.compile(r"^search_[a-z0-9_]{0,40}$")
# Correction candidates a word looks at (the closest by trigram similarity).
_CANDIDATES = 200
# Documents written since the last analysis, at least this many and more than this share of
# what the planner believes the table holds, re-analyse the search tables (`_refresh_statistics`).
STALE_STATISTICS_ROWS = 200
STALE_STATISTICS_SHARE = 0.2


def tsquery_text(words: Sequence[str], *, any_term: bool, prefix_last: bool) -> str:
    """Builds to_tsquery input from sanitised words (letters and digits only)."""
    parts: list[str] = []
    for position, word in enumerate(words):
        star = ":*" if prefix_last and position == len(words) - 1 else ""
        options = [f"'{word}'{star}"]
        for alternative in q.synonyms(word):
            tokens = q.phrase_words(alternative)
            if tokens:
                options.append("(" + " <-> ".join(f"'{t}'" for t in tokens) + ")")
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(options) + ")")
    return (" | " if any_term else " & ").join(parts)


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
        self._mirrors: dict[str, VectorMirror] = {index: VectorMirror() for index in INDEXES}
        self._ready = False

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
                            f'USING gin (term "{self.trigrams}".gin_trgm_ops)'
                        )
                    )
                self._lock_writes(conn)  # one process counts what an older index holds
                self._fill_vocabulary(conn)
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
        """Runs a search: ts_rank_cd order (or the requested sort), filters, facets, highlights."""
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
        where = _where(self.facets, clauses, params)
        suggestion: str | None = None
        order = [_order_term(schema, key) for key in sort]
        order += ["f.pos NULLS LAST", "m.rank DESC", "m.id"]
        try:
            with self.engine.connect() as conn:
                cte = self._matches(tsq, where, [])
                total = _count(conn, cte, params)
                if not total and words:
                    corrected = self._correct(conn, index, words)
                    retry = {
                        **params,
                        "tsq": tsquery_text(corrected, any_term=False, prefix_last=True),
                    }
                    found = _count(conn, cte, retry) if corrected != words else 0
                    if found:
                        suggestion, params, total = " ".join(corrected), retry, found
                        tsq = retry["tsq"]
                fused: list[int] = []
                vector = query.vector_for(suggestion or query.text)
                if vector is not None:
                    cte, params, total, fused = self._blend(
                        conn, index, query, vector, where, params, total
                    )
                cte += ", f AS (SELECT * FROM unnest(CAST(:fused AS bigint[])) "
                cte += "WITH ORDINALITY AS f(id, pos)) "
                params = {**params, "fused": fused}
                rows = conn.execute(
                    text(
                        cte + f"SELECT m.id, m.rank, d.doc FROM m JOIN {self.docs} d "
                        "ON d.index_name = :i AND d.id = m.id LEFT JOIN f ON f.id = m.id "
                        f"ORDER BY {', '.join(order)} LIMIT :limit OFFSET :offset"
                    ),
                    {**params, "limit": per_page, "offset": (page - 1) * per_page},
                ).all()
                counts = {
                    name: self._facet(conn, schema, cte, params, name, today) for name in facets
                }
                marks = (
                    self._highlights(conn, schema, tsq, [int(r[0]) for r in rows])
                    if tsq and query.highlight and rows
                    else {}
                )
        except DBAPIError as exc:
            raise _error(exc) from exc
        hits = [
            Hit(
                id=int(row[0]),
                document=row[2] if isinstance(row[2], dict) else json.loads(row[2]),
                score=float(row[1]) if tsq else None,
                highlights=marks.get(int(row[0]), {}),
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

    def _blend(
        self,
        conn: Connection,
        index: str,
        query: SearchQuery,
        vector: Sequence[float],
        where: str,
        params: dict[str, Any],
        total: int,
    ) -> tuple[str, dict[str, Any], int, list[int]]:
        """Adds the semantic neighbours the filters allow to the matches and ranks the head of
        the result by reciprocal-rank fusion; returns the matches CTE, its parameters, the new
        total and the fused head."""
        tsq = str(params["tsq"])
        cte = self._matches(tsq, where, [])
        dense = self._neighbours(conn, index, vector, where, params)
        lexical = (
            [
                int(row[0])
                for row in conn.execute(
                    text(cte + "SELECT id FROM m ORDER BY rank DESC, id LIMIT :depth"),
                    {**params, "depth": LEXICAL_DEPTH},
                )
            ]
            if tsq
            else []
        )
        fused = fuse(lexical, dense, query.semantic_ratio)
        if tsq and dense:
            cte = self._matches(tsq, where, dense)
            params = {**params, "dense": dense}
            total = _count(conn, cte, params)
        return cte, params, total, fused

    def _matches(self, tsq: str, where: str, dense: Sequence[int]) -> str:
        """Writes the CTE `m` (id, rank) of the documents matching the words and filters, plus
        the semantic neighbours `:dense` (already filtered) when there are any."""
        if not tsq:
            return (
                f"WITH m AS (SELECT d.id, 0.0 AS rank FROM {self.docs} d "
                f"WHERE d.index_name = :i AND {where}) "
            )
        lexical = (
            f"SELECT d.id, ts_rank_cd(d.tsv, {_TSQ}) AS rank "
            f"FROM {self.docs} d WHERE d.index_name = :i AND d.tsv @@ {_TSQ} AND {where}"
        )
        if dense:
            # A second branch keeps the full-text index usable for the first.
            lexical += (
                f" UNION ALL SELECT d.id, 0.0 FROM {self.docs} d WHERE d.index_name = :i "
                f"AND d.id = ANY(:dense) AND NOT (d.tsv @@ {_TSQ})"
            )
        return f"WITH m AS ({lexical}) "

    def _neighbours(
        self,
        conn: Connection,
        index: str,
        vector: Sequence[float],
        where: str,
        params: dict[str, Any],
    ) -> list[int]:
        """Gets the documents closest to the query vector among those the filters keep."""
        allowed: set[int] | None = None
        if where != "TRUE":
            allowed = {
                int(row[0])
                for row in conn.execute(
                    text(f"SELECT d.id FROM {self.docs} d WHERE d.index_name = :i AND {where}"),
                    params,
                )
            }
        mirror = self._refresh(conn, index)
        with mirror.lock:
            return mirror.nearest(vector, allowed, DENSE_DEPTH)

    def _refresh(self, conn: Connection, index: str) -> VectorMirror:
        """Brings the in-memory vectors of an index up to date with its table."""
        mirror = self._mirrors[index]
        with mirror.lock:
            latest = int(
                conn.execute(
                    text(f"SELECT coalesce(max(seq), 0) FROM {self.vectors} WHERE index_name = :i"),
                    {"i": index},
                ).scalar_one()
            )
            if latest < mirror.seq:  # the table was rebuilt: start over
                mirror.seq, mirror.index = 0, None
            if latest != mirror.seq:
                rows = conn.execute(
                    text(
                        f"SELECT id, seq, vec FROM {self.vectors} "
                        "WHERE index_name = :i AND seq > :s"
                    ),
                    {"i": index, "s": mirror.seq},
                ).all()
                mirror.apply((int(r[0]), int(r[1]), bytes(r[2]) if r[2] else None) for r in rows)
        return mirror

    def _correct(self, conn: Connection, index: str, words: Sequence[str]) -> list[str]:
        """Replaces the words the index does not know by the closest words it does (typos)."""
        corrected: list[str] = []
        for word in words:
            folded = q.fold(word)
            known = (
                q.synonyms(word)
                or conn.execute(
                    text(
                        f"SELECT 1 FROM {self.vocab} WHERE index_name = :i AND term >= :w "
                        "AND term < :w || chr(1114111) AND ndoc > 0 LIMIT 1"
                    ),
                    {"i": index, "w": folded},
                ).first()
            )
            if known or len(folded) < 2:
                corrected.append(word)
                continue
            corrected.append(best_correction(folded, self._candidates(conn, index, folded)) or word)
        return corrected

    def _candidates(self, conn: Connection, index: str, word: str) -> list[tuple[str, int]]:
        """Gets the vocabulary words that may be a word's correction, with their frequency."""
        params = {"i": index, "w": word, "lo": len(word) - 2, "hi": len(word) + 2}
        lengths = "length(term) BETWEEN :lo AND :hi AND ndoc > 0"
        rows = list(
            conn.execute(
                text(
                    f"SELECT term, ndoc FROM {self.vocab} WHERE index_name = :i AND {lengths} "
                    "AND term >= :head AND term < :head || chr(1114111)"
                ),
                {**params, "head": word[:2]},
            )
        )
        if self.trigrams:
            # Also words whose typo is in the first two letters.
            rows += conn.execute(
                text(
                    f"SELECT term, ndoc FROM {self.vocab} WHERE index_name = :i "
                    f'AND term OPERATOR("{self.trigrams}".%) :w AND {lengths} '
                    f'ORDER BY "{self.trigrams}".similarity(term, :w) DESC LIMIT :n'
                ),
                {**params, "n": _CANDIDATES},
            )
        return [(str(term), int(ndoc)) for term, ndoc in rows]

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
        self._mirrors = {index: VectorMirror() for index in INDEXES}

    def close(self) -> None:
        """Nothing to release: the engine belongs to the application."""

    def _lock_writes(self, conn: Connection) -> int:
        """Serialises writes (so sequence numbers commit in order, and readers that fetched the
        vectors up to one miss none below it); returns this write's sequence number."""
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": self.vectors})
        return int(
            conn.execute(text(f"SELECT coalesce(max(seq), 0) + 1 FROM {self.vectors}")).scalar_one()
        )

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
                    text(f"SELECT 1 FROM {self.vocab} WHERE index_name = :i LIMIT 1"), params
                ).first()
                or not conn.execute(
                    text(f"SELECT 1 FROM {self.docs} WHERE index_name = :i LIMIT 1"), params
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

    def _remove(self, conn: Connection, schema: IndexSchema, ids: list[int], seq: int) -> None:
        """Deletes documents, their facet values and words; their vectors leave a tombstone."""
        if not ids:
            return
        params = {"i": schema.name, "ids": ids}
        self._count_words(conn, schema, ids, -1)
        conn.execute(
            text(
                f"UPDATE {self.vectors} SET vec = NULL, seq = :seq "
                "WHERE index_name = :i AND id = ANY(:ids) AND vec IS NOT NULL"
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
        """Writes one document, its weighted tsvector, its vector and its facet values."""
        doc_id = int(doc["id"])
        vector = doc.get("embedding")
        if vector:
            conn.execute(
                text(
                    f"INSERT INTO {self.vectors} (index_name, id, seq, vec) "
                    "VALUES (:i, :id, :seq, :vec) ON CONFLICT (index_name, id) "
                    "DO UPDATE SET seq = excluded.seq, vec = excluded.vec"
                ),
                {"i": schema.name, "id": doc_id, "seq": seq, "vec": to_blob(vector)},
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
        conn.execute(
            text(
                f"INSERT INTO {self.docs} (index_name, id, doc, tsv, win_start, win_end) "
                f"VALUES (:i, :id, CAST(:doc AS jsonb), {' || '.join(vectors)}, :ws, :we)"
            ),
            params,
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
        if rows:
            conn.execute(
                text(
                    f"INSERT INTO {self.facets} (index_name, field, key, value, doc_id) "
                    "VALUES (:i, :f, :k, :v, :d) ON CONFLICT DO NOTHING"
                ),
                rows,
            )

    def _facet(
        self,
        conn: Connection,
        schema: IndexSchema,
        cte: str,
        params: dict[str, Any],
        name: str,
        today: date,
    ) -> list[FacetCount]:
        """Counts facet values over the matches."""
        if name == schema.window.name:
            buckets = q.window_buckets(today)
            sums = []
            extra: dict[str, Any] = {}
            for n, (_, (start, end)) in enumerate(buckets):
                sums.append(
                    f"count(*) FILTER (WHERE d.win_start <= :be{n} AND d.win_end >= :bs{n})"
                )
                extra[f"be{n}"], extra[f"bs{n}"] = end, start
            row = conn.execute(
                text(
                    cte + f"SELECT {', '.join(sums)} FROM m JOIN {self.docs} d "
                    "ON d.index_name = :i AND d.id = m.id"
                ),
                {**params, **extra},
            ).one()
            return [
                FacetCount(label, int(count))
                for (label, _), count in zip(buckets, row, strict=True)
                if count
            ]
        rows = conn.execute(
            text(
                cte + f"SELECT min(fa.value), count(*) AS n FROM m JOIN {self.facets} fa "
                "ON fa.index_name = :i AND fa.doc_id = m.id AND fa.field = :facet "
                "GROUP BY fa.key ORDER BY n DESC, min(fa.value) LIMIT :max"
            ),
            {**params, "facet": name, "max": q.MAX_FACET_VALUES},
        ).all()
        return [FacetCount(str(value), int(count)) for value, count in rows]

    def _highlights(
        self, conn: Connection, schema: IndexSchema, tsq: str, ids: list[int]
    ) -> dict[int, dict[str, str]]:
        """Marks matched words with ts_headline in the page's documents."""
        snippets = {s.name for s in schema.searchable if s.snippet}
        base = f'StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}"'
        calls = []
        for n, name in enumerate(schema.highlight):
            value = (
                f"array_to_string(ARRAY(SELECT jsonb_array_elements_text(doc->'{name}')), ' ; ')"
                if name in schema.list_fields
                else f"coalesce(doc->>'{name}', '')"
            )
            calls.append(f"ts_headline(CAST(:cfg AS regconfig), {value}, {_TSQ}, :o{n})")
        params: dict[str, Any] = {"cfg": self.config, "tsq": tsq, "i": schema.name, "ids": ids}
        for n, name in enumerate(schema.highlight):
            params[f"o{n}"] = (
                f'{base}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
                if name in snippets
                else f"{base}, HighlightAll=true"
            )
        rows = conn.execute(
            text(
                f"SELECT id, {', '.join(calls)} FROM {self.docs} "
                "WHERE index_name = :i AND id = ANY(:ids)"
            ),
            params,
        ).all()
        return {
            int(row[0]): {
                name: q.safe_highlight(value)
                for name, value in zip(schema.highlight, row[1:], strict=True)
                if value and MARK_OPEN in value
            }
            for row in rows
        }


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


def _count(conn: Connection, cte: str, params: dict[str, Any]) -> int:
    """Counts the matches of a CTE `m`."""
    return int(conn.execute(text(cte + "SELECT count(*) FROM m"), params).scalar_one())


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
            PRIMARY KEY (index_name, id)
        );
        CREATE INDEX IF NOT EXISTS {docs}_tsv ON {docs} USING gin (tsv);
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


def _where(facets: str, clauses: Sequence[q.Clause], params: dict[str, Any]) -> str:
    """Writes the filter clauses as SQL over the documents table `d`."""
    sql = ["TRUE"]
    for n, clause in enumerate(clauses):
        if isinstance(clause, q.KeywordClause):
            params[f"f{n}"], params[f"k{n}"] = clause.field, list(clause.keys)
            sql.append(
                f"d.id IN (SELECT doc_id FROM {facets} WHERE index_name = :i "
                f"AND field = :f{n} AND key = ANY(:k{n}))"
            )
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
