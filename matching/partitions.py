"""Partitions of the experts' pool vectors, so that a vector store searches a share of them.

An inverted-file layout: the pool vectors are grouped by their nearest centroid (spherical
k-means over the vectors' body, the padding column left out), each document carries its
group, and a search asks only the groups whose centroids best match the query (`probe`),
as a filter. A vector store that compares the query with every document a filter leaves
(Meilisearch's, below half its index) then reads a share of the roster instead of all of it.

Embeddings cluster (by occupation, language, field), so the best experts for a query sit in
the groups nearest it; random vectors do not, and there a share of the groups holds about
that share of the best (`bench/meili_pool.py` measures both).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
IntArray = NDArray[np.intp]

ITERATIONS = 12
TRAINING_SAMPLE = 20_000
CHUNK = 10_000  # vectors assigned at a time (a 10,000 x groups matrix of scores)


@dataclass(frozen=True)
class Partitions:
    """Centroids of the groups (one unit row each, over a pool vector's body)."""

    centroids: FloatArray

    def __len__(self) -> int:
        return len(self.centroids)

    @property
    def version(self) -> str:
        """A fingerprint of the centroids (their float32 bytes and shape): workers that hold
        the same centroids name them alike, and any change of one value renames them."""
        values = np.ascontiguousarray(self.centroids, dtype=np.float32)
        digest = hashlib.sha256(repr(values.shape).encode() + values.tobytes())
        return digest.hexdigest()[:16]

    def assign(self, vectors: NDArray[np.floating]) -> IntArray:
        """Gets each pool vector's group: its nearest centroid by cosine."""
        values = np.asarray(vectors, dtype=np.float32)[:, : self.centroids.shape[1]]
        groups = [
            np.argmax(values[start : start + CHUNK] @ self.centroids.T, axis=1)
            for start in range(0, len(values), CHUNK)
        ]
        return np.concatenate(groups).astype(np.intp) if groups else np.zeros(0, np.intp)

    def probe(
        self, query: NDArray[np.floating], sizes: NDArray[np.integer], *, reach: int
    ) -> list[int]:
        """Gets the groups to search for a query: the nearest centroids first, until they
        hold at least `reach` documents (`sizes`: documents per group), or every group."""
        scores = self.centroids @ np.asarray(query, dtype=np.float32)[: self.centroids.shape[1]]
        order = np.argsort(-scores, kind="stable")
        held = np.cumsum(np.asarray(sizes)[order])
        stop = int(np.searchsorted(held, reach)) + 1
        return sorted(int(group) for group in order[:stop])


def groups_for(n: int) -> int:
    """How many groups a roster of n experts is partitioned into: round(sqrt(n)), at least one
    (a search then reads about `reach` x n documents over groups of sqrt(n) each)."""
    return max(1, round(math.sqrt(n)))


def train_partitions(
    vectors: NDArray[np.floating],
    groups: int,
    *,
    seed: int = 0,
    iterations: int = ITERATIONS,
    sample: int = TRAINING_SAMPLE,
) -> Partitions:
    """Spherical k-means over a sample of the pool vectors' bodies (the padding column, last,
    left out): `groups` centroids (k-means++ seeds), each the normalised mean of the vectors
    nearest it."""
    values = np.asarray(vectors, dtype=np.float32)[:, :-1]
    if len(values) == 0 or groups <= 0:
        raise ValueError("partitions need vectors and at least one group")
    rng = np.random.default_rng(seed)
    if len(values) > sample:
        values = values[rng.choice(len(values), sample, replace=False)]
    values = values / np.maximum(np.linalg.norm(values, axis=1, keepdims=True), 1e-9)
    groups = min(groups, len(values))
    centroids = _spread_seeds(values, groups, rng)
    for _ in range(iterations):
        nearest = np.argmax(values @ centroids.T, axis=1)
        members = np.zeros((groups, len(values)), dtype=np.float32)
        members[nearest, np.arange(len(values))] = 1.0
        sums = members @ values
        counts = np.bincount(nearest, minlength=groups)
        # An empty group keeps its centroid (a vector of the sample, so never far from all).
        filled = counts > 0
        centroids[filled] = sums[filled]
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    return Partitions(centroids.astype(np.float32))


def _spread_seeds(values: FloatArray, groups: int, rng: np.random.Generator) -> FloatArray:
    """k-means++ seeds: each next seed drawn with odds growing with its distance (1 - cosine)
    to the nearest seed so far, so that two seeds rarely start in one cluster."""
    seeds = [int(rng.integers(len(values)))]
    nearest = 1.0 - values @ values[seeds[0]]
    for _ in range(1, groups):
        odds = np.maximum(nearest, 0.0) ** 2
        total = float(odds.sum())
        pick = (
            int(rng.choice(len(values), p=odds / total))
            if total > 0
            else int(rng.integers(len(values)))
        )
        seeds.append(pick)
        nearest = np.minimum(nearest, 1.0 - values @ values[pick])
    return values[seeds].copy()
