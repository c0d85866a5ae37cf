"""The exact nearest-neighbour search against brute force: near, far and degenerate inputs, ties, threads."""

from __future__ import annotations

import numpy as np
import pytest

from dlsr.nearest import LEAF_SIZE, NearestIndex, nearest, spatial_order, thread_count


def naive_nearest(query: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over the full (N, M) distance matrix; argmin takes the lowest index among equal distances."""
    matrix = np.sqrt(((query[:, None, :] - reference[None, :, :]) ** 2).sum(axis=-1))
    index = matrix.argmin(axis=1)
    return matrix[np.arange(len(query)), index], index


def sphere_points(n: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    directions = rng.normal(size=(n, 3))
    return radius * directions / np.linalg.norm(directions, axis=1, keepdims=True)


def assert_exact(query: np.ndarray, reference: np.ndarray, index: NearestIndex | None = None) -> None:
    distances, indices = (index or NearestIndex(reference)).query(query)
    naive_distances, naive_indices = naive_nearest(query, reference)
    # Bit for bit: the same float64 arithmetic as the brute force, not merely close.
    np.testing.assert_array_equal(distances, naive_distances)
    np.testing.assert_array_equal(indices, naive_indices)
    assert distances.dtype == np.float64 and indices.dtype == np.int64


def test_random_points_match_brute_force() -> None:
    rng = np.random.default_rng(2)
    assert_exact(rng.random((700, 3)), rng.random((900, 3)))
    distances, indices = nearest(rng.random((50, 3)), rng.random((60, 3)))  # the one-call form
    assert distances.shape == indices.shape == (50,)


def test_surface_samples_near_and_far_queries() -> None:
    """The metrics' case: samples of a surface queried from near it and far from it (a missed part), in any
    order, including queries outside the reference's bounding box."""
    rng = np.random.default_rng(4)
    reference = sphere_points(3000, 0.4, rng)
    index = NearestIndex(reference)
    near = reference[:1000] + rng.normal(0.0, 0.005, size=(1000, 3))
    far = 0.3 * rng.normal(size=(700, 3)) + np.array([0.0, 0.0, 2.0])
    inside = sphere_points(500, 0.1, rng)  # every reference point is 0.3 away, give or take
    for query in (near, far, far[::-1], inside, np.concatenate([far, near, inside])):
        assert_exact(query, reference, index)
    assert index.query(reference[7:8])[0][0] == 0.0  # a query on a reference point


@pytest.mark.parametrize(
    "reference",
    [
        np.array([[0.1, 0.2, 0.3]]),  # one point: the root is the only leaf
        np.random.default_rng(0).random((LEAF_SIZE - 1, 3)),  # fewer than a leaf
        np.random.default_rng(1).random((LEAF_SIZE * 4 + 3, 3)),  # uneven leaves
        np.zeros((100, 3)),  # every point the same: flat boxes, all ties
        np.stack([np.linspace(0, 1, 200), np.zeros(200), np.zeros(200)], axis=1),  # on a line
        np.stack([*np.meshgrid(np.arange(20.0), np.arange(20.0)), np.zeros((20, 20))], axis=-1).reshape(-1, 3),
    ],
    ids=["one-point", "under-a-leaf", "uneven", "all-equal", "collinear", "planar-lattice"],
)
def test_degenerate_references(reference: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    low, high = reference.min(axis=0) - 1.0, reference.max(axis=0) + 1.0
    query = np.concatenate([low + (high - low) * rng.random((300, 3)), reference[:40]])
    assert_exact(query, reference)


def test_ties_go_to_the_lowest_index_whatever_the_order_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an integer lattice many reference points are exactly as near as each other, and duplicates are exactly
    tied: the answer must be brute force's (lowest index), for any query order and thread count, so that a
    sharded or multi-threaded evaluation picks the same neighbour's normal as a single run."""
    rng = np.random.default_rng(6)
    lattice = np.stack(np.meshgrid(*[np.arange(8.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    reference = np.concatenate([lattice, lattice[::-1]])  # every point twice, in two index orders
    rng.shuffle(reference)
    # Half-integer queries sit at equal distances from 2 to 8 lattice points; 20k of them give several threads work.
    query = rng.integers(-1, 9, size=(20_000, 3)) + rng.choice([0.0, 0.5], size=(20_000, 3))
    index = NearestIndex(reference)
    naive_distances, naive_indices = naive_nearest(query, reference)
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        for order in (None, np.arange(len(query)), rng.permutation(len(query))):
            distances, indices = index.query(query, order=order)
            np.testing.assert_array_equal(distances, naive_distances)
            np.testing.assert_array_equal(indices, naive_indices)


def test_another_trees_order_is_a_query_order() -> None:
    rng = np.random.default_rng(7)
    reference, query = sphere_points(5000, 0.5, rng), sphere_points(4000, 0.45, rng)
    query_index = NearestIndex(query)
    assert sorted(query_index.order.tolist()) == list(range(len(query)))
    np.testing.assert_array_equal(
        NearestIndex(reference).query(query, order=query_index.order)[0], naive_nearest(query, reference)[0]
    )
    # The leaf order is spatially coherent: consecutive points are far closer than in the given random order.
    steps = np.linalg.norm(np.diff(query[query_index.order], axis=0), axis=1)
    assert np.median(steps) < 0.2 * np.median(np.linalg.norm(np.diff(query, axis=0), axis=1))


def test_spatial_order_is_a_permutation_grouping_cells() -> None:
    rng = np.random.default_rng(8)
    points = rng.random((1000, 3))
    order = spatial_order(points)
    assert sorted(order.tolist()) == list(range(1000))
    cells = (points[order] * 31.0 / np.ptp(points, axis=0).max()).astype(int)
    assert len({tuple(c) for c in cells}) > 100
    assert spatial_order(np.ones((5, 3))).tolist() == [0, 1, 2, 3, 4]  # no extent: nothing to sort by


def test_bad_input_is_refused() -> None:
    good = np.zeros((4, 3))
    with pytest.raises(ValueError, match="no points"):
        NearestIndex(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"reference must be \(N, 3\)"):
        NearestIndex(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        NearestIndex(np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="leaf_size"):
        NearestIndex(good, leaf_size=0)
    index = NearestIndex(good)
    with pytest.raises(ValueError, match=r"query must be \(N, 3\)"):
        index.query(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        index.query(np.array([[np.inf, 0.0, 0.0]]))
    for order in (np.arange(3), np.array([0, 0]), np.array([0, 2]), np.array([-1, 0]), np.array([0.0, 1.0])):
        with pytest.raises(ValueError, match="permutation of the 2 queries"):
            index.query(np.zeros((2, 3)), order=order)
    distances, indices = index.query(np.zeros((0, 3)))
    assert distances.shape == indices.shape == (0,)


def test_thread_count_follows_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dlsr.nearest.available_cpus", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert thread_count() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "16")  # a cap, not a demand: never more threads than CPUs
    assert thread_count() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")  # ignored, as OpenMP ignores it
    assert thread_count() == 4
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_count() == 4
