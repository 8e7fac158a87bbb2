"""The PostgreSQL backend's search as it was before it matched the words once (issue 13): kept
as an oracle for tests/search/test_postgres_oracle.py, which checks that the current search
returns what this one does. Its SQL re-evaluates the matches for the page, the count, every
facet and the highlights; it reads the tables the current backend writes.
"""

# ruff: noqa: S608  (table and column names come from code, values are bound parameters)

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from service.search import query as q
from service.search.base import (
    MARK_CLOSE,
    MARK_OPEN,
    FacetCount,
    Hit,
    SearchPage,
    SearchQuery,
)
from service.search.documents import INDEXES, IndexSchema, schema_for
from service.search.postgres import _TSQ, PostgresBackend, _error, _order_term, tsquery_text
from service.search.semantic import (
    DENSE_DEPTH,
    LEXICAL_DEPTH,
    VectorMirror,
    best_correction,
    fuse,
)

_CANDIDATES = 200


class OldSqlSearch:
    """The former search of a PostgreSQL backend, over that backend's tables."""

    def __init__(self, backend: PostgresBackend) -> None:
        backend.ensure_indexes()
        self.engine = backend.engine
        self.docs, self.facets, self.vocab = backend.docs, backend.facets, backend.vocab
        self.vectors = backend.vectors
        self.config, self.trigrams = backend.config, backend.trigrams
        self._mirrors: dict[str, VectorMirror] = {index: VectorMirror(index) for index in INDEXES}

    def ensure_indexes(self) -> None:
        """Nothing to do: the backend made the tables."""

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


def _count(conn: Connection, cte: str, params: dict[str, Any]) -> int:
    """Counts the matches of a CTE `m`."""
    return int(conn.execute(text(cte + "SELECT count(*) FROM m"), params).scalar_one())


def _where(facets: str, clauses: Sequence[q.Clause], params: dict[str, Any]) -> str:
    """Writes the filter clauses as SQL over the documents table `d` (keyword filters through
    the facets table)."""
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
