"""The candidate pool's partitions, shared by every worker through Meilisearch: when they are
trained, how each worker comes to file and probe with the same centroids, and when a search
may read only the groups nearest its query.

A search filters by group only once the stored centroids are marked `filed` (every document
sent under them); while they are re-filed it searches every document, as without partitions.
And whatever a worker holds, a search reads whole every document filed under other centroids
(`MeiliCandidatePool.versioned`): a change of centroids never hides an expert.

Two workers may train at once (both found none stored, or both found the roster grown). Both
train deterministically (`partition_roster`: a sample drawn from the sorted ids with one seed),
so from the same roster they store the same centroids, the same version. From different
rosters the last store wins: the other worker re-reads before marking its centroids filed,
finds them replaced, and files under the stored ones instead (a few rounds at most), so every
worker converges on the centroids stored last. Meilisearch has no conditional write; the
re-reads narrow the race and the `grouping` filter makes what is left of it cost speed only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from matching.matcher import Matcher
from matching.pool import partition_roster
from service.core.match_pool import refile_pool
from service.search.meili_groups import StoredPartitions, load_partitions, store_partitions
from service.search.meili_pool import MeiliCandidatePool

# The roster from which the service partitions its pool: below it the four exact quarter
# searches are already fast (about 100 ms of Meilisearch's processing at 10,000 experts on
# the development machine, docs/deploy.md), and sqrt(n) groups would be few and large.
PARTITION_FLOOR = 20_000
# Centroids are re-trained once the roster is more than this many times what they were
# trained on: groups grown past sqrt(n) each read more than a search needs.
GROWTH = 2
# One seed for every worker: the same roster trains the same centroids anywhere.
SEED = 0
# How many times a worker files under centroids another worker replaced meanwhile.
ROUNDS = 3
# How often a worker looks for centroids another worker stored or finished filing.
FOLLOW_S = 60.0


def due(stored: StoredPartitions | None, experts: int, floor: int) -> bool:
    """Whether centroids must be (re-)trained for a roster of `experts`."""
    if experts < floor:
        return False
    return stored is None or experts > GROWTH * stored.trained_on


def fits(stored: StoredPartitions | None, dimensions: int) -> StoredPartitions | None:
    """The stored centroids if they are over pool vectors of this many columns (without the
    padding); None if they were trained for another layout (another model)."""
    if stored is None or stored.partitions.centroids.shape[1] != dimensions:
        return None
    return stored


class SharedPartitions:
    """Keeps a pool's partitions in step with the centroids stored beside it."""

    def __init__(
        self,
        pool: MeiliCandidatePool,
        *,
        floor: int,
        dimensions: int,
        lock: threading.RLock | None = None,
    ) -> None:
        self.pool = pool
        # A pool vector's columns without the padding: what the centroids are over.
        self.dimensions = dimensions
        # The roster size from which centroids are trained (PARTITION_FLOOR in the service).
        self.floor = floor
        # Held while the pool's partitions change (searches read them under it).
        self.lock = lock or threading.RLock()
        self.followed = time.monotonic()

    def adopt(self) -> StoredPartitions | None:
        """Files and probes with the stored centroids (if any), as stored: filed or not."""
        stored = fits(load_partitions(self.pool), self.dimensions)
        if stored is not None and stored.version != self.pool.version:
            with self.lock:
                self.pool.use_partitions(stored.partitions, filed=stored.filed)
        elif stored is not None and stored.filed and not self.pool.filed:
            self.pool.filed = True
        self.followed = time.monotonic()
        return stored

    def settle(self, matcher: Matcher) -> None:
        """After a full read of the roster: trains centroids when due (none stored, or the
        roster grown past GROWTH times theirs), files every document under the stored ones,
        and marks them filed when they are still the stored ones."""
        for _ in range(ROUNDS):
            stored = fits(load_partitions(self.pool), self.dimensions)
            if due(stored, len(matcher), self.floor):
                trained = partition_roster(matcher, seed=SEED)
                # Re-read: another worker may have stored centroids while these trained.
                latest = fits(load_partitions(self.pool), self.dimensions)
                if latest is None or due(latest, len(matcher), self.floor):
                    stored = StoredPartitions(trained, trained_on=len(matcher), filed=False)
                    store_partitions(self.pool, stored)
                else:
                    stored = latest
            if stored is None:
                return
            if stored.version != self.pool.version:
                with self.lock:
                    self.pool.use_partitions(stored.partitions, filed=stored.filed)
            refile_pool(self.pool, matcher, self.pool.fingerprints())
            if stored.filed:
                self.pool.filed = True
                return
            latest = load_partitions(self.pool)
            if latest is not None and latest.version == stored.version:
                store_partitions(self.pool, replace(stored, filed=True))
                self.pool.filed = True
                return
        # Replaced every round: searches stay exact until `follow` finds centroids filed.

    def follow(self) -> None:
        """At most every FOLLOW_S: takes up what another worker stored (new centroids, searched
        exactly while they are re-filed) or finished filing."""
        if time.monotonic() - self.followed >= FOLLOW_S:
            self.adopt()
