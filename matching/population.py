"""How the indexed experts spread along any query, without a pass over the index per query.

`rank_needs` judges one expert against every indexed expert: per signal, the z-score of the
expert's cosine among the cosines of all rows. A signal is a dot product of one block of each
row with a query vector `q`, so over the population

    mean = (sum of rows) . q / n        E[x^2] = q . (sum of row outer products) . q / n

Keeping, per block, the sum of the rows and the sum of their outer products (built once in
one chunked pass, then updated row by row as experts change) gives the mean and standard
deviation of any query's scores in O(width^2), instead of a pass over every row for every
open need on every expert change.

Kept `joint`, the outer products span the whole stored row (every block against every
other), so the spread of any linear function of a row is known too: a weighted sum of signals
from several blocks (the pool ranker's fused relevance, `mean_std_of`), not only one block's.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from matching.index import VectorIndex

FloatArray = NDArray[np.float32]
_CHUNK = 4096


class BlockMoments:
    """Row count, row sums and outer-product sums of each block of a `VectorIndex` (of the
    whole stored row when `joint`: width^2 floats, 26 MB for the default encoder's rows)."""

    def __init__(self, index: VectorIndex, *, joint: bool = False) -> None:
        self.index = index
        self.joint = joint
        self.count = 0
        # Where each block lives in a stored row.
        offsets = np.cumsum([0] + [stop - start for start, stop in index.blocks])
        self.layout = [(int(lo), int(hi)) for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)]
        width = int(offsets[-1])
        if joint:
            self._sum = np.zeros(width, dtype=np.float64)
            self._joint = np.zeros((width, width), dtype=np.float64)
            # Each block's moments are views into the joint ones.
            self._sums = [self._sum[lo:hi] for lo, hi in self.layout]
            self._outer = [self._joint[lo:hi, lo:hi] for lo, hi in self.layout]
        else:
            self._sums = [np.zeros(hi - lo, dtype=np.float64) for lo, hi in self.layout]
            self._outer = [np.zeros((hi - lo, hi - lo), dtype=np.float64) for lo, hi in self.layout]
        n = len(index)
        for begin in range(0, n, _CHUNK):
            self.add(np.arange(begin, min(n, begin + _CHUNK)))

    def add(self, rows: NDArray[np.integer], sign: float = 1.0) -> None:
        """Counts rows of the index in (sign 1) or out (sign -1), with their current values."""
        if len(rows) == 0:
            return
        if self.joint:
            values = np.concatenate(
                [self.index.block_rows(rows, b) for b in range(len(self.layout))], axis=1
            )
            self._sum += sign * values.sum(axis=0, dtype=np.float64)
            self._joint += sign * (values.T @ values).astype(np.float64)
            self.count += int(sign) * len(rows)
            return
        for block in range(len(self._sums)):
            # float32 products per chunk (twice as fast, ~1e-7 relative), float64 totals.
            values = self.index.block_rows(rows, block)
            self._sums[block] += sign * values.sum(axis=0, dtype=np.float64)
            self._outer[block] += sign * (values.T @ values).astype(np.float64)
        self.count += int(sign) * len(rows)

    def mean_std(self, block: int, query: NDArray[np.floating]) -> tuple[float, float]:
        """Mean and (population) standard deviation of `row . query` over the counted rows."""
        if self.count <= 0:
            return 0.0, 0.0
        q = np.asarray(query, dtype=np.float64)
        mean = float(self._sums[block] @ q) / self.count
        second = float(q @ self._outer[block] @ q) / self.count
        return mean, math.sqrt(max(second - mean * mean, 0.0))

    def mean_std_of(self, query: NDArray[np.floating]) -> tuple[float, float]:
        """Mean and (population) standard deviation of `stored row . query` over the counted
        rows, for a query as wide as the stored row (joint moments only)."""
        if not self.joint:
            raise ValueError("the spread across blocks needs joint moments")
        if self.count <= 0:
            return 0.0, 0.0
        q = np.asarray(query, dtype=np.float64)
        mean = float(self._sum @ q) / self.count
        second = float(q @ (self._joint @ q)) / self.count
        return mean, math.sqrt(max(second - mean * mean, 0.0))
