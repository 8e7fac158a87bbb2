"""Partitions of pool vectors: k-means groups that follow the clusters, and a probe that reads
the nearest groups until they hold what it must reach."""

from __future__ import annotations

import numpy as np
import pytest

from matching.partitions import Partitions, groups_for, train_partitions


def clustered(rng: np.random.Generator, clusters: int, each: int, dim: int) -> np.ndarray:
    """Unit vectors around `clusters` random centres, plus a padding column (as pool vectors)."""
    centres = rng.standard_normal((clusters, dim))
    rows = np.repeat(centres, each, axis=0) + 0.2 * rng.standard_normal((clusters * each, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return np.concatenate([rows, np.zeros((len(rows), 1))], axis=1).astype(np.float32)


def test_groups_follow_the_clusters_and_assignment_is_stable() -> None:
    rng = np.random.default_rng(1)
    vectors = clustered(rng, 8, 50, 32)
    partitions = train_partitions(vectors, 8, seed=3)
    assert partitions.centroids.shape == (8, 32)
    groups = partitions.assign(vectors)
    # Each true cluster lands whole in one group, and no two clusters share one.
    per_cluster = [set(groups[i * 50 : (i + 1) * 50].tolist()) for i in range(8)]
    assert all(len(found) == 1 for found in per_cluster)
    assert len(set().union(*per_cluster)) == 8
    np.testing.assert_array_equal(partitions.assign(vectors[::-1]), groups[::-1])


def test_probe_reads_nearest_groups_until_it_reaches_enough() -> None:
    centroids = np.eye(4, dtype=np.float32)
    partitions = Partitions(centroids)
    sizes = np.array([10, 20, 30, 40])
    query = np.array([0.1, 0.9, 0.5, 0.0, 7.0], dtype=np.float32)  # padding column ignored
    assert partitions.probe(query, sizes, reach=15) == [1]
    assert partitions.probe(query, sizes, reach=21) == [1, 2]
    assert partitions.probe(query, sizes, reach=60) == [0, 1, 2]
    assert partitions.probe(query, sizes, reach=1000) == [0, 1, 2, 3]


def test_nearest_neighbours_of_clustered_vectors_sit_in_the_probed_groups() -> None:
    rng = np.random.default_rng(2)
    vectors = clustered(rng, 20, 100, 48)
    partitions = train_partitions(vectors, 20, seed=0)
    groups = partitions.assign(vectors)
    sizes = np.bincount(groups, minlength=len(partitions))
    for row in rng.choice(len(vectors), 10, replace=False):
        query = vectors[row] + 0.05 * rng.standard_normal(vectors.shape[1]).astype(np.float32)
        best = np.argsort(-(vectors @ query))[:50]
        probed = partitions.probe(query, sizes, reach=200)
        assert sum(int(groups[b]) in probed for b in best) >= 49


def test_training_refuses_nothing_to_train_on() -> None:
    with pytest.raises(ValueError):
        train_partitions(np.zeros((0, 5), np.float32), 3)


def test_version_names_the_centroids_exactly() -> None:
    rng = np.random.default_rng(4)
    centroids = rng.standard_normal((5, 8)).astype(np.float32)
    version = Partitions(centroids).version
    assert version == Partitions(centroids.copy()).version
    nudged = centroids.copy()
    nudged[3, 2] = np.nextafter(nudged[3, 2], np.float32(10))
    assert Partitions(nudged).version != version
    # The same values in another shape are other centroids.
    assert Partitions(centroids.reshape(8, 5)).version != version


@pytest.mark.parametrize(
    ("n", "groups"), [(1, 1), (2, 1), (210, 14), (20_000, 141), (100_000, 316)]
)
def test_a_roster_has_round_sqrt_n_groups(n: int, groups: int) -> None:
    assert groups_for(n) == groups
