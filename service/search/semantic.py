"""The semantic half of hybrid search and typo correction, shared by the SQL backends.

Document vectors are mirrored in memory from the backend's own table (refreshed by sequence
number, so a web process sees what the worker wrote); the nearest neighbours are looked for only
among the documents the reader's index holds and the filters keep, so meaning never reveals a
document that keywords would not. Lexical and semantic ranks are fused by reciprocal rank.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from matching.index import VectorIndex, top_k_indices

# Semantic neighbours a hybrid search adds to the keyword matches.
DENSE_DEPTH = 50
# Keyword matches that take part in the fusion (the rest follow, in BM25 order).
LEXICAL_DEPTH = 100
RRF_K = 60.0
FloatArray = NDArray[np.float32]


def to_blob(vector: Sequence[float]) -> bytes:
    """Packs a vector as little-endian float32 bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> FloatArray:
    """Unpacks float32 bytes into a vector."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


class VectorMirror:
    """One index's vectors in memory, kept in step with its table by sequence number."""

    def __init__(self) -> None:
        self.seq = 0
        self.index: VectorIndex | None = None
        self.lock = threading.Lock()

    def apply(self, rows: Iterable[tuple[int, int, bytes | None]]) -> None:
        """Applies changed rows (id, seq, vector or None for removed); caller holds the lock."""
        for doc_id, seq, blob in rows:
            self.seq = max(self.seq, int(seq))
            key = str(doc_id)
            if blob is None:
                if self.index is not None:
                    self.index.remove([key])
                continue
            vector = from_blob(blob)
            if self.index is None or self.index.dim != vector.shape[0]:
                self.index = VectorIndex(vector.shape[0])
            self.index.upsert([key], vector[None, :])

    def nearest(
        self, query: Sequence[float], allowed: set[int] | None, k: int = DENSE_DEPTH
    ) -> list[int]:
        """Ids of the k documents closest to the query, among the allowed ones (None: all)."""
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
        if allowed is None:
            scores = index.stored @ vector
            return [int(index.ids[i]) for i in top_k_indices(scores, k)]
        rows = np.fromiter(
            (index.row(str(i)) for i in allowed if str(i) in index),
            dtype=np.intp,
        )
        if rows.size == 0:
            return []
        scores = index.stored[rows] @ vector
        return [int(index.ids[rows[i]]) for i in top_k_indices(scores, k)]


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
