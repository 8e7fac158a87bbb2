"""Exact in-memory vector index: rows stored as int8 (or float32), top-k by `np.argpartition`.

A row is laid out in column blocks (one per model and profile section). Each stored block
keeps its own scale, so an int8 row costs one byte per stored column plus four per block;
columns outside every block are zero and cost nothing. Scores are exact dot products with
the stored (dequantised) rows, so top-k is exact over what the index holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]
Storage = Literal["int8", "float32"]

# Rows dequantised per step: a (chunk x stored columns) float32 buffer stays in the CPU cache.
_CHUNK = 256
_INT8_MAX = 127.0


def tie_key(item_id: str) -> tuple[int, str]:
    """How ties between equal scores are ordered: by id, the shorter first, so numeric ids go
    in number order ("9" before "10"). An id, not a row: rows move when experts are removed
    or re-embedded, and two processes holding the same experts must rank them alike."""
    return (len(item_id), item_id)


def top_k_indices(
    scores: NDArray[np.floating], k: int, id_of: Callable[[int], str] | None = None
) -> NDArray[np.intp]:
    """Indices of the k highest scores, best first (exact, O(n) selection + O(k log k) sort).

    Equal scores are ordered by `tie_key` of `id_of(index)` when given (every score equal
    to the k-th is considered, so which of them make the cut does not depend on positions
    either), else by index.
    """
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if k < n:
        # With ids, the (k+1)-th score is placed too: it tells whether ties cross the cut.
        part = np.argpartition(-scores, k - 1 if id_of is None else (k - 1, k))
        chosen = part[:k]
        kth = scores[part[k - 1]]
        if id_of is not None and scores[part[k]] == kth:
            # Rows tied with the k-th score on both sides of the cut: take them all, the
            # ids decide below.
            tied = np.flatnonzero(scores == kth)
            chosen = np.concatenate([chosen[scores[chosen] != kth], tied])
    else:
        chosen = np.arange(n)
    order = np.asarray(chosen[np.lexsort((chosen, -scores[chosen]))], dtype=np.intp)
    if id_of is not None:
        order = _ties_by_id(order, scores[order], id_of)
    return order[:k]


def _ties_by_id(
    order: NDArray[np.intp], sorted_scores: NDArray[np.floating], id_of: Callable[[int], str]
) -> NDArray[np.intp]:
    """Reorders each run of equal scores in `order` (sorted best first) by `tie_key`."""
    if order.size < 2:
        return order
    same = sorted_scores[1:] == sorted_scores[:-1]
    if not same.any():
        return order
    order = order.copy()
    # Starts and ends of the runs of equal scores.
    edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1
    for start, stop in zip(starts, stops, strict=True):
        run = order[start:stop]
        order[start:stop] = sorted(run.tolist(), key=lambda i: tie_key(id_of(i)))
    return order


def quantise(vectors: NDArray[np.floating]) -> tuple[NDArray[np.int8], FloatArray]:
    """Symmetric int8 codes of each row, with the row's scale (code * scale ~ value)."""
    values = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(values).max(axis=1) if values.shape[1] else np.zeros(values.shape[0])
    scales = np.where(peak > 0, peak / _INT8_MAX, 1.0).astype(np.float32)
    codes = np.clip(np.rint(values / scales[:, None]), -_INT8_MAX, _INT8_MAX).astype(np.int8)
    return codes, scales


class VectorIndex:
    """Rows of one fixed dimension, keyed by id; add, replace and remove without a rebuild.

    `blocks` are the (start, stop) column ranges that are stored (default: every column, one
    block); `storage` is "float32" (exact) or "int8" (a quarter of the memory, one scale per
    row and block).
    """

    def __init__(
        self,
        dim: int,
        capacity: int = 1024,
        *,
        blocks: Sequence[tuple[int, int]] | None = None,
        storage: Storage = "float32",
    ) -> None:
        self.dim = dim
        self.blocks: tuple[tuple[int, int], ...] = tuple(blocks or ((0, dim),))
        previous = 0
        for start, stop in self.blocks:
            if not previous <= start < stop <= dim:
                raise ValueError(f"blocks must be ordered, disjoint ranges within {dim} columns")
            previous = stop
        self.storage: Storage = storage
        # Where each block lives in a stored row.
        offsets = np.cumsum([0] + [stop - start for start, stop in self.blocks])
        self._stored: tuple[tuple[int, int], ...] = tuple(
            (int(lo), int(hi)) for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)
        )
        self.stored_dim = int(offsets[-1])
        rows = max(capacity, 1)
        self._codes: NDArray[np.int8] | FloatArray = (
            np.zeros((rows, self.stored_dim), dtype=np.int8)
            if storage == "int8"
            else np.zeros((rows, self.stored_dim), dtype=np.float32)
        )
        self._scales: FloatArray = np.ones((rows, len(self.blocks)), dtype=np.float32)
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._row_of

    @property
    def ids(self) -> Sequence[str]:
        """Ids in row order (row i of every score array belongs to `ids[i]`)."""
        return self._ids

    @property
    def bytes_per_row(self) -> int:
        """Memory one row takes: its codes, plus one scale per block when quantised."""
        scales = 4 * len(self.blocks) if self.storage == "int8" else 0
        return self.stored_dim * self._codes.itemsize + scales

    @property
    def nbytes(self) -> int:
        """Memory the live rows take (the allocated capacity may be up to twice that)."""
        return len(self._ids) * self.bytes_per_row

    @property
    def stored(self) -> NDArray[np.int8] | FloatArray:
        """The live stored rows, blocks side by side (a view: do not keep it across updates)."""
        return self._codes[: len(self._ids)]

    def row(self, item_id: str) -> int:
        """Returns the row of an id."""
        return self._row_of[item_id]

    def vector(self, item_id: str) -> FloatArray:
        """Returns the stored vector of an id (dequantised), zero outside the blocks."""
        row = self._row_of[item_id]
        out = np.zeros(self.dim, dtype=np.float32)
        for number, (start, stop) in enumerate(self.blocks):
            out[start:stop] = self.block_rows(np.array([row]), number)[0]
        return out

    def block_rows(self, rows: NDArray[np.integer], block: int) -> FloatArray:
        """The stored values of one block for some rows (dequantised), one row each."""
        lo, hi = self._stored[block]
        values = self._codes[rows, lo:hi].astype(np.float32)
        if self.storage == "int8":
            values *= self._scales[rows, block][:, None]
        return values

    def stored_rows(self, rows: NDArray[np.integer]) -> FloatArray:
        """The stored values of some rows (dequantised), blocks side by side."""
        values: FloatArray = self._codes[rows].astype(np.float32)
        if self.storage == "int8":
            for number, (lo, hi) in enumerate(self._stored):
                values[:, lo:hi] *= self._scales[rows, number][:, None]
        return values

    def reserve(self, capacity: int) -> None:
        """Makes room for `capacity` rows at once (rows never written take no memory): an index
        that doubles as it fills holds its old and new arrays together at each step (+112 MB
        when 65,536 int8 rows of the default layout double)."""
        self._grow(capacity, exact=True)

    def upsert(self, ids: Sequence[str], vectors: NDArray[np.floating]) -> None:
        """Adds new ids and replaces the vectors of known ones."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        rows = np.empty(len(ids), dtype=np.intp)
        for position, item_id in enumerate(ids):
            row = self._row_of.get(item_id)
            if row is None:
                row = len(self._ids)
                self._grow(row + 1)
                self._ids.append(item_id)
                self._row_of[item_id] = row
            rows[position] = row
        # A repeated id keeps its last vector, as a loop of single upserts would.
        last = {int(row): position for position, row in enumerate(rows)}
        if len(last) < len(rows):
            # Only then a copy of the batch: a sync's batches never repeat an id.
            rows = np.fromiter(last.keys(), dtype=np.intp, count=len(last))
            vectors = vectors[np.fromiter(last.values(), dtype=np.intp, count=len(last))]
        for number, ((start, stop), (lo, hi)) in enumerate(
            zip(self.blocks, self._stored, strict=True)
        ):
            if self.storage == "int8":
                codes, scales = quantise(vectors[:, start:stop])
                self._codes[rows, lo:hi] = codes
                self._scales[rows, number] = scales
            else:
                self._codes[rows, lo:hi] = vectors[:, start:stop]

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
                self._codes[row] = self._codes[last]
                self._scales[row] = self._scales[last]
                self._ids[row] = moved
                self._row_of[moved] = row
            self._ids.pop()
            removed += 1
        return removed

    def block_scores(self, queries: Sequence[tuple[int, NDArray[np.floating]]]) -> FloatArray:
        """Dot products of every row with several queries, each over one block.

        `queries` holds (block number, vector of that block's width); the result has one
        column per query. Quantised rows are dequantised a chunk at a time, once for all
        queries, so memory stays at the compact size.
        """
        n = len(self._ids)
        out = np.empty((n, len(queries)), dtype=np.float32)
        if n == 0 or not queries:
            return out
        columns: dict[int, list[int]] = {}
        for column, (block, _) in enumerate(queries):
            columns.setdefault(block, []).append(column)
        matrices = {
            block: np.stack([np.asarray(queries[c][1], dtype=np.float32) for c in cols], axis=1)
            for block, cols in columns.items()
        }
        if self.storage == "float32":
            for block, cols in columns.items():
                lo, hi = self._stored[block]
                out[:, cols] = self._codes[:n, lo:hi] @ matrices[block]
            return out
        buffer = np.empty((_CHUNK, self.stored_dim), dtype=np.float32)
        for begin in range(0, n, _CHUNK):
            end = min(n, begin + _CHUNK)
            chunk = buffer[: end - begin]
            for block, cols in columns.items():
                lo, hi = self._stored[block]
                np.copyto(chunk[:, lo:hi], self._codes[begin:end, lo:hi], casting="unsafe")
                part = chunk[:, lo:hi] @ matrices[block]
                part *= self._scales[begin:end, block, None]
                out[begin:end, cols] = part
        return out

    def scores(self, query: NDArray[np.floating]) -> FloatArray:
        """Dot products of every row with a query of the full dimension."""
        q = np.asarray(query, dtype=np.float32)
        per_block = self.block_scores(
            [(number, q[start:stop]) for number, (start, stop) in enumerate(self.blocks)]
        )
        return np.asarray(per_block.sum(axis=1), dtype=np.float32)

    def search(
        self, query: NDArray[np.floating], k: int, allowed: BoolArray | None = None
    ) -> list[tuple[str, float]]:
        """Exact top-k ids by dot product, restricted to rows where `allowed` is true (equal
        scores ordered by id, as `top_k_indices`)."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed[: len(scores)], scores, -np.inf).astype(np.float32)
            k = min(k, int(np.count_nonzero(allowed[: len(scores)])))
        best = top_k_indices(scores, k, self._ids.__getitem__)
        return [(self._ids[i], float(scores[i])) for i in best]

    def _grow(self, needed: int, *, exact: bool = False) -> None:
        if needed <= self._codes.shape[0]:
            return
        # Doubling keeps appends amortised O(dim); untouched rows of np.zeros take no RAM.
        capacity = needed if exact else max(needed, 2 * self._codes.shape[0])
        codes = np.zeros((capacity, self.stored_dim), dtype=self._codes.dtype)
        codes[: len(self._ids)] = self._codes[: len(self._ids)]
        scales = np.ones((capacity, len(self.blocks)), dtype=np.float32)
        scales[: len(self._ids)] = self._scales[: len(self._ids)]
        self._codes, self._scales = codes, scales
