"""The facet values and availability windows of one index in memory, for the embedded backend.

Counting a page's facets in SQL walked every match's facet rows through an index (~10 ms for a
sample of 2,000 matches at 100k documents, whatever the query); the same counts over arrays held
in memory take well under a millisecond, and so does the set of documents the keyword and
availability filters keep (which the semantic half needs). The arrays follow the index's table by
sequence number, as the vectors do (service/search/semantic.py `VectorMirror`), so a web process
sees what the worker wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray

from service.search import query as q
from service.search.base import FacetCount
from service.search.documents import IndexSchema

IntArray = NDArray[np.int64]


class FacetMirror:
    """Each document's facet keys (as small integer codes) and availability window, by id."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forgets every document (as when the table was rebuilt)."""
        self._present = np.zeros(0, dtype=bool)
        self._start = np.zeros(0, dtype=np.int64)
        self._end = np.zeros(0, dtype=np.int64)
        # Per field, one row per document id: the codes of its values, -1 where it has fewer.
        # A code stands for one (key, value) pair: values that fold to one key are counted
        # together under the smallest value the matches hold, as SQL's min(value) would.
        self._codes = {name: np.full((0, 1), -1, dtype=np.int32) for name in self.fields}
        self._code_of: dict[str, dict[tuple[str, str], int]] = {name: {} for name in self.fields}
        self._codes_of_key: dict[str, dict[str, list[int]]] = {name: {} for name in self.fields}
        self._pairs: dict[str, list[tuple[str, str]]] = {name: [] for name in self.fields}

    def apply(
        self,
        changed: Iterable[int],
        windows: Iterable[tuple[int, int, int]],
        groups: Iterable[tuple[str, str, str, str]],
    ) -> None:
        """Replaces what it holds of the changed ids by their current rows: windows (id, start,
        end) of the documents that exist, and each facet value with the ids holding it (field,
        key, value, comma-separated ids: one group per value, so a first load of 100,000
        documents runs in numpy, not in a loop over a million rows); caller holds the lock."""
        ids = np.fromiter(changed, dtype=np.int64)
        if ids.size:
            self._grow(int(ids.max()) + 1)
            self._present[ids] = False
            for codes in self._codes.values():
                codes[ids] = -1
        spans = np.array(list(windows), dtype=np.int64).reshape(-1, 3)
        if spans.size:
            self._grow(int(spans[:, 0].max()) + 1)
            self._present[spans[:, 0]] = True
            self._start[spans[:, 0]], self._end[spans[:, 0]] = spans[:, 1], spans[:, 2]
        filled = {name: np.zeros(0, dtype=np.int32) for name in self.fields}
        for name, key, value, held in groups:
            if name not in self._codes:
                continue
            docs = np.array(held.split(","), dtype=np.int64)
            self._grow(int(docs.max()) + 1)
            code = self._code_of[name].get((key, value))
            if code is None:
                pairs = self._pairs[name]
                code = self._code_of[name][(key, value)] = len(pairs)
                pairs.append((key, value))
                self._codes_of_key[name].setdefault(key, []).append(code)
            codes = self._codes[name]
            fill = filled[name]
            if fill.size < codes.shape[0]:
                fill = filled[name] = np.resize(fill, codes.shape[0])
                fill[:] = (codes >= 0).sum(axis=1)  # slots the unchanged documents use
                fill[ids[ids < fill.size]] = 0
            slots = fill[docs]
            if int(slots.max()) >= codes.shape[1]:
                wider = np.full((codes.shape[0], int(slots.max()) + 1), -1, dtype=np.int32)
                wider[:, : codes.shape[1]] = codes
                codes = self._codes[name] = wider
            codes[docs, slots] = code
            fill[docs] += 1

    def _grow(self, size: int) -> None:
        old = self._present.size
        if size <= old:
            return
        size = max(size, 2 * old)
        present = np.zeros(size, dtype=bool)
        present[:old] = self._present
        start, end = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        start[:old], end[:old] = self._start, self._end
        self._present, self._start, self._end = present, start, end
        for name, codes in self._codes.items():
            grown = np.full((size, codes.shape[1]), -1, dtype=np.int32)
            grown[:old] = codes
            self._codes[name] = grown

    def _known(self, ids: IntArray) -> IntArray:
        ids = ids[(ids >= 0) & (ids < self._present.size)]
        return ids[self._present[ids]]

    def counts(self, ids: IntArray, name: str) -> list[tuple[str, int]]:
        """Counts how many of the documents hold each value of a field (values held by none
        are left out), most frequent first, then by value."""
        codes = self._codes[name][self._known(ids)].ravel()
        tally = np.bincount(codes[codes >= 0], minlength=len(self._pairs[name]))
        pairs = self._pairs[name]
        by_key: dict[str, tuple[str, int]] = {}
        for code in np.flatnonzero(tally):
            key, value = pairs[code]
            label, count = by_key.get(key, (value, 0))
            by_key[key] = (min(label, value), count + int(tally[code]))
        found = list(by_key.values())
        found.sort(key=lambda item: (-item[1], item[0]))
        return found

    def window_counts(self, ids: IntArray, spans: Sequence[tuple[int, int]]) -> list[int]:
        """Counts how many of the documents' windows overlap each span (start, end in days)."""
        known = self._known(ids)
        start, end = self._start[known], self._end[known]
        return [int(np.count_nonzero((start <= hi) & (end >= lo))) for lo, hi in spans]

    def allowed(
        self, keywords: Sequence[q.KeywordClause], windows: Sequence[q.WindowClause]
    ) -> IntArray:
        """Ids of the documents every clause keeps (a keyword clause: any of its keys; a window
        clause: overlapping any of its spans)."""
        keep = self._present.copy()
        for clause in keywords:
            known = self._codes_of_key[clause.field]
            codes = [code for key in clause.keys for code in known.get(key, ())]
            if not codes:
                return np.zeros(0, dtype=np.int64)
            held = np.zeros_like(keep)
            for column in self._codes[clause.field].T:  # a few values a document at most
                for code in codes:
                    held |= column == code  # ~5x faster than np.isin(...).any(axis=1)
            keep &= held
        for window in windows:
            overlaps = np.zeros_like(keep)
            for lo, hi in window.spans:
                overlaps |= (self._start <= hi) & (self._end >= lo)
            keep &= overlaps
        return np.flatnonzero(keep).astype(np.int64)


def estimated_facets(
    schema: IndexSchema,
    mirror: FacetMirror,
    parts: Sequence[tuple[IntArray, float]],
    names: Sequence[str],
    today: date,
) -> dict[str, list[FacetCount]]:
    """Counts the values of the asked facets over parts of the matches, each part's counts
    multiplied by its weight (a broad query's sample scaled to every match; FTS5 and
    PostgreSQL alike), rounded, at least 1 for a value the parts hold."""
    counts: dict[str, list[FacetCount]] = {}
    with mirror.lock:
        for name in names:
            found: dict[str, float] = {}
            if name == schema.window.name:
                buckets = q.window_buckets(today)
                for part, weight in parts:
                    tally = mirror.window_counts(part, [span for _, span in buckets])
                    for (label, _), count in zip(buckets, tally, strict=True):
                        found[label] = found.get(label, 0.0) + count * weight
                # Buckets keep their order ("now", then the months), not the counts'.
                counts[name] = [
                    FacetCount(label, max(1, round(found[label])))
                    for label, _ in buckets
                    if found[label]
                ]
                continue
            for part, weight in parts:
                for value, count in mirror.counts(part, name):
                    found[value] = found.get(value, 0.0) + count * weight
            rounded = [(value, max(1, round(count))) for value, count in found.items() if count]
            rounded.sort(key=lambda item: (-item[1], item[0]))
            counts[name] = [FacetCount(v, c) for v, c in rounded[: q.MAX_FACET_VALUES]]
    return counts
