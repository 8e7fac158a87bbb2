"""The candidate pool's partitions, stored in Meilisearch beside the pool so that every
worker files and probes with the same centroids: one document (`current`) in a small index
(`<prefix>match_groups`).

The centroids travel as their float32 bytes (base64): exact, so every worker computes the
same `Partitions.version` from them, and a fifth of the size of the values written out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import partial

import numpy as np

from matching.partitions import Partitions
from service.search.base import SearchError
from service.search.meili import _call
from service.search.meili_pool import MeiliCandidatePool

CURRENT = "current"


@dataclass(frozen=True)
class StoredPartitions:
    """Centroids as stored: how many experts they were trained on, and whether every
    document of the pool has been sent under them (`filed`)."""

    partitions: Partitions
    trained_on: int
    filed: bool

    @property
    def version(self) -> str:
        """The centroids' version (`Partitions.version`)."""
        return self.partitions.version


def load_partitions(pool: MeiliCandidatePool) -> StoredPartitions | None:
    """Gets the stored partitions (None: none stored yet)."""
    try:
        document = dict(_call(partial(pool.client.index(pool.groups_uid).get_document, CURRENT)))
    except SearchError as exc:
        if "not_found" in str(exc):
            return None
        raise
    groups, dimensions = int(document["groups"]), int(document["dimensions"])
    values = np.frombuffer(base64.b64decode(document["centroids"]), dtype="<f4")
    centroids = values.reshape(groups, dimensions).astype(np.float32)
    return StoredPartitions(
        Partitions(centroids), trained_on=int(document["trained_on"]), filed=bool(document["filed"])
    )


def store_partitions(pool: MeiliCandidatePool, stored: StoredPartitions) -> None:
    """Replaces the stored partitions (creating their index the first time)."""
    try:
        created = _call(partial(pool.client.create_index, pool.groups_uid, {"primaryKey": "id"}))
        pool.wait([created.task_uid])
        # Nothing to search in it: the centroids' text is not worth indexing.
        settings = {"searchableAttributes": ["id"], "filterableAttributes": []}
        updated = _call(partial(pool.client.index(pool.groups_uid).update_settings, settings))
        pool.wait([updated.task_uid])
    except SearchError as exc:
        if "index_already_exists" not in str(exc):
            raise
    centroids = np.ascontiguousarray(stored.partitions.centroids, dtype="<f4")
    document = {
        "id": CURRENT,
        "version": stored.version,
        "groups": int(centroids.shape[0]),
        "dimensions": int(centroids.shape[1]),
        "centroids": base64.b64encode(centroids.tobytes()).decode("ascii"),
        "trained_on": stored.trained_on,
        "filed": stored.filed,
    }
    index = pool.client.index(pool.groups_uid)
    pool.wait([_call(partial(index.add_documents, [document], "id")).task_uid])
