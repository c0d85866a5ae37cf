"""Speed of the reconstruction metrics on this machine: nearest neighbours, Chamfer/F-score, topology, mesh_metrics.

Usage: OMP_NUM_THREADS=1 python bench/bench_metrics.py [--points N] [--repeats K] [--pairs PAIRS.npz]

Sections:
1. `nearest` (dlsr.nearest, build + query) for N query points against N reference points, uniform in the unit
   cube, on a sphere (surface samples, the metric's real input) and from a sphere half the size (far queries, a
   poor prediction), against scipy's cKDTree with its default settings on all cores and on one, and pykdtree (the
   KD-tree Occupancy Networks' evaluation vendors) when it is installed. With --pairs, also on real pairs: an .npz
   of NAME__p (prediction samples) and NAME__t (true samples) arrays, both directions, as `chamfer_and_fscore`
   queries them (each tree's leaf order as the other's query order).
2. `chamfer_and_fscore` on two N-point surface samplings (two trees, two queries, normals, two F-scores).
3. `topology` of a ~160k-face double-torus-like mesh and of a 32^3 marching-cubes mesh.
4. `mesh_metrics` with N samples per mesh (ONet's protocol: N = 100k), prediction and truth both meshes, and
   with a given point cloud as truth; plus the same with IoU on N occupancy points (libigl winding numbers).
Times are medians over K runs, with the best run in brackets (wall clock; other jobs on the machine inflate
them, the best run least).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial import cKDTree

try:  # not a dependency of dlsr: compared with when installed
    from pykdtree.kdtree import KDTree
except ImportError:
    KDTree = None

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.errors import MissingDependencyError
from dlsr.mesh import extract_mesh
from dlsr.metrics import chamfer_and_fscore, mesh_metrics, topology
from dlsr.nearest import NearestIndex, nearest
from dlsr.sdf import Grid, sample_sdf, sphere, torus, union


def median_seconds(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, best) wall-clock seconds over `repeats` calls; the best is the least disturbed by other jobs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def on_sphere(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    normals = rng.normal(size=(n, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return 0.5 * normals, normals


def report(name: str, seconds: tuple[float, float]) -> None:
    median, best = seconds
    print(f"  {name:62s} {median * 1000:8.1f} ms  (best {best * 1000:.1f})")


def dlsr_both(pred: np.ndarray, true: np.ndarray, true_index: NearestIndex) -> None:
    """Both directions as `chamfer_and_fscore` runs them: the prediction's tree built, the truth's given."""
    pred_index = NearestIndex(pred)
    true_index.query(pred, order=pred_index.order)
    pred_index.query(true, order=true_index.order)


def pykdtree_both(pred: np.ndarray, true: np.ndarray, true_tree: object) -> None:
    true_tree.query(pred, k=1)  # type: ignore[attr-defined]
    KDTree(pred).query(true, k=1)


def pairs(path: str, repeats: int) -> None:
    """Both nearest-neighbour directions of real (prediction, truth) sample pairs, averaged over the pairs."""
    arrays = np.load(path)
    names = sorted({key.rsplit("__", 1)[0] for key in arrays.files})
    totals = {"dlsr.nearest": 0.0, "pykdtree": 0.0}
    for name in names:
        pred, true = arrays[f"{name}__p"], arrays[f"{name}__t"]
        # The truth's tree is built once per object by an evaluation, outside the timing.
        totals["dlsr.nearest"] += median_seconds(functools.partial(dlsr_both, pred, true, NearestIndex(true)), repeats)[
            0
        ]
        if KDTree is not None:
            totals["pykdtree"] += median_seconds(functools.partial(pykdtree_both, pred, true, KDTree(true)), repeats)[0]
    print(f"   {len(names)} real pairs from {path}, both directions, the prediction's tree built each time:")
    for label, seconds in totals.items():
        if label == "dlsr.nearest" or KDTree is not None:
            print(f"  {label + ', per pair (sum of medians / pairs)':62s} {seconds / len(names) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000, help="points per cloud / samples per mesh")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing (median reported)")
    parser.add_argument("--pairs", help="an .npz of NAME__p / NAME__t surface samples to time as well")
    args = parser.parse_args()
    n, k = args.points, args.repeats
    rng = np.random.default_rng(0)
    print(f"cores: {os.cpu_count()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, N = {n:,}")

    print(f"1. nearest, {n:,} x {n:,} points")
    cube_q, cube_r = rng.random((n, 3)), rng.random((n, 3))
    (sphere_q, _), (sphere_r, _) = on_sphere(n, rng), on_sphere(n, rng)
    # A poor prediction: a sphere of half the radius inside the true one, every query 0.25 from the reference sphere
    # (a missed part). Far queries cost a KD-tree several times near ones.
    cases = (
        ("cube", cube_q, cube_r),
        ("sphere surface", sphere_q, sphere_r),
        ("far surface", 0.5 * sphere_q, sphere_r),
    )
    for label, query, reference in cases:
        report(f"dlsr.nearest, {label}", median_seconds(lambda q=query, r=reference: nearest(q, r), k))
        if KDTree is not None:
            report(
                f"pykdtree defaults, all threads, {label}",
                median_seconds(lambda q=query, r=reference: KDTree(r).query(q, k=1), k),
            )
        report(
            f"cKDTree defaults, all workers, {label}",
            median_seconds(lambda q=query, r=reference: cKDTree(r).query(q, workers=-1), k),
        )
        if label != "far surface":  # 30 s a run
            report(
                f"cKDTree defaults, 1 worker, {label}",
                median_seconds(lambda q=query, r=reference: cKDTree(r).query(q, workers=1), k),
            )

    if args.pairs:
        pairs(args.pairs, k)

    print(f"2. chamfer_and_fscore, two {n:,}-point surface samplings with normals")
    pred, pred_n = on_sphere(n, rng)
    true, true_n = on_sphere(n, rng)
    report("chamfer_and_fscore", median_seconds(lambda: chamfer_and_fscore(pred + 0.01, pred_n, true, true_n), k))

    print("3. topology")
    big = trimesh.creation.torus(1.0, 0.3, major_sections=400, minor_sections=200)
    report(f"torus, {len(big.faces):,} faces", median_seconds(lambda: topology(big), k))
    grid = Grid(32)
    marched = extract_mesh(
        sample_sdf(union(sphere(radius=0.3), torus(center=(0.0, 0.3, 0.0), major_radius=0.3, minor_radius=0.08)), grid),
        grid,
    )
    report(f"32^3 marching-cubes mesh, {len(marched.faces):,} faces", median_seconds(lambda: topology(marched), k))

    print(f"4. mesh_metrics, {n:,} samples per mesh")
    truth = trimesh.creation.icosphere(5, radius=0.5)
    prediction = extract_mesh(sample_sdf(sphere(radius=0.48), Grid(64)), Grid(64))
    cloud = on_sphere(n, rng)
    report(
        f"mesh vs mesh ({len(prediction.faces):,} / {len(truth.faces):,} faces)",
        median_seconds(lambda: mesh_metrics(prediction, truth, n_points=n), k),
    )
    report(
        "mesh vs point cloud (ONet pointcloud.npz)",
        median_seconds(lambda: mesh_metrics(prediction, cloud, n_points=n), k),
    )
    iou_points = rng.uniform(-0.55, 0.55, size=(n, 3))
    occupancy = np.linalg.norm(iou_points, axis=1) < 0.5
    try:
        result = mesh_metrics(prediction, cloud, n_points=n, iou_points=iou_points, true_occupancy=occupancy)
    except MissingDependencyError as exc:  # the IoU needs libigl (the data extra)
        print(f"  (IoU skipped: {exc})")
        result = mesh_metrics(prediction, cloud, n_points=n)
    else:
        seconds = median_seconds(
            lambda: mesh_metrics(prediction, cloud, n_points=n, iou_points=iou_points, true_occupancy=occupancy), k
        )
        report(f"mesh vs point cloud + IoU on {n:,} points", seconds)
    print(
        "  check (sphere r=0.48 vs r=0.5): "
        + ", ".join(f"{key} {result[key]:.4g}" for key in ("iou", "chamfer_l1", "normal_consistency", "fscore@0.01"))
    )


if __name__ == "__main__":
    main()
