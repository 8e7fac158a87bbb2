"""The semantic half of hybrid search and typo correction, shared by the SQL backends.

Document vectors are mirrored in memory from the backend's own table (refreshed by sequence
number, so a web process sees what the worker wrote); the nearest neighbours are looked for only
among the documents the reader's index holds and the filters keep, so meaning never reveals a
document that keywords would not. Lexical and semantic ranks are fused by reciprocal rank.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from matching.index import VectorIndex, top_k_indices
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF, NEEDS

# Semantic neighbours a hybrid search adds to the keyword matches.
DENSE_DEPTH = 50
# ... and only those whose cosine similarity to the query is at least the index's floor: every
# text, gibberish included, has DENSE_DEPTH nearest neighbours, but not ones this close. One rule
# for the three backends (`dense_floor`; on Meilisearch, applied to its neighbours' scores,
# `meili.similarity_score`). Chosen for the query model (e5) on bench/search_quality.py's tuning
# half (docs/search.md, "A floor under meaning"): DENSE_FLOOR in the experts' indexes (whole
# profiles; `--floors`), NEEDS_FLOOR in the needs' index (title, skills and description;
# `--needs --floors`).
DENSE_FLOOR = 0.82
NEEDS_FLOOR = 0.78
FLOORED_INDEXES = (EXPERTS_STAFF, EXPERTS_PUBLIC)


def dense_floor(index: str) -> float:
    """Gets the cosine a neighbour by meaning must reach in an index's hybrid search (-1: any)."""
    if index == NEEDS:
        return NEEDS_FLOOR
    return DENSE_FLOOR if index in FLOORED_INDEXES else -1.0


# Keyword matches that take part in the fusion (the rest follow, in BM25 order).
LEXICAL_DEPTH = 100
RRF_K = 60.0
# Up to this many candidate rows the neighbours are exact (a scan of 20,000 x 384 floats takes a
# few milliseconds); above, sign bits shortlist RESCORED x k rows or one row in SHORTLIST_SHARE,
# whichever is more, rescored exactly. Recall of the exact top 10 by the shortlist, measured on
# the 3,000 benchmark profiles (USE vectors): 0.74 at 1% of the rows, 0.86 at 2%, 0.91 at 3.3%,
# 0.96 at 6.7%; 5% of 100,000 rows costs ~1 ms more than 1%.
EXACT_ROWS = 20_000
RESCORED = 20
SHORTLIST_SHARE = 20
FloatArray = NDArray[np.float32]


def to_blob(vector: Sequence[float]) -> bytes:
    """Packs a vector as little-endian float32 bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> FloatArray:
    """Unpacks float32 bytes into a vector."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


class VectorMirror:
    """One index's vectors in memory, kept in step with its table by sequence number.

    Beside the vectors it keeps each row's document id (and the row of each id), so a filter's
    ids become rows without a Python loop, and, once the index is large, each row's sign bits
    (48 bytes for 384 dimensions instead of 1,536): the neighbours of a query among many rows are
    preselected by Hamming distance over the bits, then the best of them rescored exactly.
    """

    def __init__(self, index: str = "") -> None:
        self.name = index  # the search index whose vectors these are (its `dense_floor`)
        self.seq = 0
        self.index: VectorIndex | None = None
        self.lock = threading.Lock()
        self._synced: VectorIndex | None = None  # the index the arrays below describe
        self._doc_ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._row_of_id: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._bits: NDArray[np.uint64] | None = None
        self._center: FloatArray | None = None
        self._fitted_rows = 0

    def apply(self, rows: Iterable[tuple[int, int, bytes | None]]) -> None:
        """Applies changed rows (id, seq, vector or None for removed); caller holds the lock."""
        touched: set[int] = set()
        for doc_id, seq, blob in rows:
            self.seq = max(self.seq, int(seq))
            key = str(doc_id)
            if blob is None:
                if self.index is not None and key in self.index:
                    # The last row moves into the hole: that row's derived data changes.
                    touched.add(self.index.row(key))
                    self.index.remove([key])
                    self._forget(int(doc_id))
                continue
            vector = from_blob(blob)
            if self.index is None or self.index.dim != vector.shape[0]:
                self.index = VectorIndex(vector.shape[0])
            self.index.upsert([key], vector[None, :])
            touched.add(self.index.row(key))
        self._sync(touched)

    def _forget(self, doc_id: int) -> None:
        if self._synced is self.index and 0 <= doc_id < self._row_of_id.size:
            self._row_of_id[doc_id] = -1

    def _sync(self, touched: set[int]) -> None:
        """Brings the ids, the id-to-row map and the sign bits in step with the index."""
        index = self.index
        if index is None:
            self._synced, self._bits = None, None
            return
        n = len(index)
        if self._synced is not index:  # a new index (or the first): derive everything
            self._synced, self._bits = index, None
            self._doc_ids = np.zeros(0, dtype=np.int64)
            self._row_of_id = np.zeros(0, dtype=np.int64)
            touched = set(range(n))
        self._doc_ids = np.resize(self._doc_ids, n)
        rows = np.fromiter((r for r in touched if r < n), dtype=np.intp)
        if rows.size == 0:
            return
        ids = np.fromiter((int(index.ids[r]) for r in rows), dtype=np.int64, count=rows.size)
        self._doc_ids[rows] = ids
        top = int(ids.max()) + 1
        if top > self._row_of_id.size:
            grown = np.full(max(top, 2 * self._row_of_id.size), -1, dtype=np.int64)
            grown[: self._row_of_id.size] = self._row_of_id
            self._row_of_id = grown
        self._row_of_id[ids] = rows
        if self._bits is not None:
            if n > 2 * self._fitted_rows:  # grown a lot since the bits' centre was fitted
                self._bits = None
            else:
                self._bits = np.resize(self._bits, (n, self._bits.shape[1]))
                self._bits[rows] = self._sign_bits(index.stored[rows])

    def _sign_bits(self, vectors: NDArray[np.floating] | NDArray[np.int8]) -> NDArray[np.uint64]:
        """Packs which side of the centre each coordinate lies on, 64 to a word."""
        assert self._center is not None
        above = np.asarray(vectors, dtype=np.float32) > self._center
        words = -(-above.shape[1] // 64)
        packed = np.packbits(above, axis=1, bitorder="little")
        padded = np.zeros((above.shape[0], words * 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        return padded.view(np.uint64)

    def _fit_bits(self, index: VectorIndex) -> NDArray[np.uint64]:
        """Derives every row's sign bits around the rows' mean (vectors of one model share a
        common direction: centred, each bit splits the rows about evenly)."""
        stored = index.stored
        self._center = np.asarray(stored.mean(axis=0), dtype=np.float32)
        self._fitted_rows = stored.shape[0]
        self._bits = self._sign_bits(stored)
        return self._bits

    def rows_of(self, allowed: Collection[int] | NDArray[np.integer]) -> NDArray[np.intp]:
        """Rows of the allowed document ids that have a vector, in row order."""
        ids = np.asarray(
            allowed if isinstance(allowed, np.ndarray) else np.fromiter(allowed, dtype=np.int64),
            dtype=np.int64,
        )
        ids = ids[(ids >= 0) & (ids < self._row_of_id.size)]
        rows = self._row_of_id[ids]
        return np.sort(rows[rows >= 0]).astype(np.intp)

    def nearest(
        self,
        query: Sequence[float],
        allowed: Collection[int] | NDArray[np.integer] | None,
        k: int = DENSE_DEPTH,
    ) -> list[int]:
        """Ids of the k documents closest to the query, among the allowed ones (None: all),
        that are at least the index's `dense_floor` similar to it."""
        index = self.index
        if index is None or len(index) == 0 or k <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape != (index.dim,):
            return []  # a query from another model: no meaningful neighbours
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            return []
        vector = vector / norm
        if self._synced is not index:
            self._sync(set())
        rows = None if allowed is None else self.rows_of(allowed)
        count = len(index) if rows is None else rows.size
        if count == 0:
            return []
        if count > EXACT_ROWS:
            size = max(k * RESCORED, count // SHORTLIST_SHARE)
            shortlist = self._shortlist(index, vector, rows, size)
            rows = shortlist if rows is None else rows[shortlist]
        candidates = index.stored if rows is None else index.stored[rows]
        # einsum, not BLAS: on a busy machine a threaded BLAS call can wait on its other thread
        # for longer than this whole product takes (at most EXACT_ROWS rows).
        scores = np.einsum("ij,j->i", candidates, vector)
        best = top_k_indices(scores, k)
        best = best[scores[best] >= dense_floor(self.name)]
        return [int(self._doc_ids[i if rows is None else rows[i]]) for i in best]

    def _shortlist(
        self, index: VectorIndex, vector: FloatArray, rows: NDArray[np.intp] | None, size: int
    ) -> NDArray[np.intp]:
        """Positions (in `rows`, or rows when None) of the `size` candidates whose sign bits
        differ least from the query's, in no particular order."""
        bits = self._bits if self._bits is not None else self._fit_bits(index)
        code = self._sign_bits(vector[None, :])[0]
        differing = np.bitwise_count((bits if rows is None else bits[rows]) ^ code)
        distance = differing[:, 0].astype(np.uint16)
        for word in range(1, differing.shape[1]):  # column adds beat sum(axis=1) about 5x here
            distance += differing[:, word]
        if size >= distance.shape[0]:
            return np.arange(distance.shape[0], dtype=np.intp)
        return np.argpartition(distance, size - 1)[:size].astype(np.intp)


def fuse(lexical: Sequence[int], dense: Sequence[int], semantic_ratio: float) -> list[int]:
    """Reciprocal-rank fusion of two ranked id lists, the semantic side weighted by the ratio."""
    ratio = min(1.0, max(0.0, semantic_ratio))
    scores: dict[int, float] = {}
    for weight, ranked in ((1.0 - ratio, lexical), (ratio, dense)):
        for rank, doc_id in enumerate(ranked):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (RRF_K + rank + 1)
    return sorted(scores, key=lambda doc_id: (-scores[doc_id], doc_id))


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (a transposition counts once), capped above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(word: str) -> int:
    """How many edits a word may be away from a correction: none under 4 letters, one under 8."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def best_correction(word: str, candidates: Iterable[tuple[str, int]]) -> str | None:
    """Picks the closest known word (then the most frequent) within the allowed edits."""
    limit = allowed_edits(word)
    best: tuple[int, int, str] | None = None
    for term, frequency in candidates:
        if term == word or not term.isalpha():
            continue
        distance = edit_distance(word, term, limit)
        if distance <= limit:
            key = (distance, -int(frequency), term)
            if best is None or key < best:
                best = key
    return best[2] if best else None
