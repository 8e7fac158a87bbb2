"""Exact in-memory vector index: normalised float32 rows, top-k by `np.argpartition`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]


def top_k_indices(scores: NDArray[np.floating], k: int) -> NDArray[np.intp]:
    """Indices of the k highest scores, best first (exact, O(n) selection + O(k log k) sort)."""
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    # Ties broken by position so results are deterministic.
    order = np.lexsort((part, -scores[part]))
    return np.asarray(part[order], dtype=np.intp)


class VectorIndex:
    """Rows of one fixed dimension, keyed by id; add, replace and remove without a rebuild."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._matrix: FloatArray = np.zeros((max(capacity, 1), dim), dtype=np.float32)
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._row_of

    @property
    def ids(self) -> Sequence[str]:
        """Ids in row order (row i of `matrix` belongs to `ids[i]`)."""
        return self._ids

    @property
    def matrix(self) -> FloatArray:
        """The live rows (a view: do not keep it across updates)."""
        return self._matrix[: len(self._ids)]

    def row(self, item_id: str) -> int:
        """Returns the row of an id."""
        return self._row_of[item_id]

    def vector(self, item_id: str) -> FloatArray:
        """Returns a copy of the stored vector of an id."""
        return np.array(self._matrix[self._row_of[item_id]], dtype=np.float32)

    def upsert(self, ids: Sequence[str], vectors: NDArray[np.floating]) -> None:
        """Adds new ids and replaces the vectors of known ones."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        for item_id, vector in zip(ids, vectors, strict=True):
            row = self._row_of.get(item_id)
            if row is None:
                row = len(self._ids)
                self._grow(row + 1)
                self._ids.append(item_id)
                self._row_of[item_id] = row
            self._matrix[row] = vector

    def remove(self, ids: Iterable[str]) -> int:
        """Removes ids (unknown ones are ignored); returns how many were removed."""
        removed = 0
        for item_id in ids:
            row = self._row_of.pop(item_id, None)
            if row is None:
                continue
            # Move the last row into the hole, so rows stay contiguous and removal is O(dim).
            last = len(self._ids) - 1
            if row != last:
                moved = self._ids[last]
                self._matrix[row] = self._matrix[last]
                self._ids[row] = moved
                self._row_of[moved] = row
            self._ids.pop()
            removed += 1
        return removed

    def scores(self, query: NDArray[np.floating], columns: slice | None = None) -> FloatArray:
        """Dot products of every row with the query (optionally over one column block)."""
        q = np.asarray(query, dtype=np.float32)
        matrix = self.matrix if columns is None else self.matrix[:, columns]
        return np.asarray(matrix @ q, dtype=np.float32)

    def search(
        self, query: NDArray[np.floating], k: int, allowed: BoolArray | None = None
    ) -> list[tuple[str, float]]:
        """Exact top-k ids by dot product, restricted to rows where `allowed` is true."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed[: len(scores)], scores, -np.inf).astype(np.float32)
            k = min(k, int(np.count_nonzero(allowed[: len(scores)])))
        return [(self._ids[i], float(scores[i])) for i in top_k_indices(scores, k)]

    def _grow(self, needed: int) -> None:
        if needed <= self._matrix.shape[0]:
            return
        # Doubling keeps appends amortised O(dim).
        capacity = max(needed, 2 * self._matrix.shape[0])
        grown = np.zeros((capacity, self.dim), dtype=np.float32)
        grown[: len(self._ids)] = self._matrix[: len(self._ids)]
        self._matrix = grown
