"""How the indexed experts spread along any query, without a pass over the index per query.

`rank_needs` judges one expert against every indexed expert: per signal, the z-score of the
expert's cosine among the cosines of all rows. A signal is a dot product of one block of each
row with a query vector `q`, so over the population

    mean = (sum of rows) . q / n        E[x^2] = q . (sum of row outer products) . q / n

Keeping, per block, the sum of the rows and the sum of their outer products (built once in
one chunked pass, then updated row by row as experts change) gives the mean and standard
deviation of any query's scores in O(width^2), instead of a pass over every row for every
open need on every expert change.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from matching.index import VectorIndex

FloatArray = NDArray[np.float32]
_CHUNK = 4096


class BlockMoments:
    """Row count, row sums and outer-product sums of each block of a `VectorIndex`."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        widths = [stop - start for start, stop in index.blocks]
        self.count = 0
        self._sums = [np.zeros(w, dtype=np.float64) for w in widths]
        self._outer = [np.zeros((w, w), dtype=np.float64) for w in widths]
        n = len(index)
        for begin in range(0, n, _CHUNK):
            self.add(np.arange(begin, min(n, begin + _CHUNK)))

    def add(self, rows: NDArray[np.integer], sign: float = 1.0) -> None:
        """Counts rows of the index in (sign 1) or out (sign -1), with their current values."""
        if len(rows) == 0:
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
