"""Speed of the reconstruction metrics on this machine: nearest neighbours, Chamfer/F-score, topology, mesh_metrics.

Usage: python bench/bench_metrics.py [--points N] [--repeats K] [--pairs DATASET]
       (python bench/bench_eval.py --data DATASET makes a dataset of unseen objects, 13 categories x 24 views)

Sections:
1. `nearest` (dlsr.nearest, build + query) for N query points against N reference points, uniform in the unit
   cube, on a sphere (surface samples, the metric's real input) and from a sphere half the size (far queries, a
   poor prediction), against scipy's cKDTree with its default settings on all cores and on one, and pykdtree (the
   KD-tree Occupancy Networks' evaluation vendors; dlsr's search before dlsr.nearest) with spatially sorted
   queries when it is installed. dlsr.nearest and pykdtree use OMP_NUM_THREADS threads (default: all cores).
   With --pairs DATASET, also on real pairs, the real input of an evaluation: the shipped model's predictions
   for views 0 and 12 of each object (100k samples of the 64^3 mesh) and the object's 100k true samples, both
   directions as `chamfer_and_fscore` queries them (each tree's leaf order as the other's query order).
2. `chamfer_and_fscore` on two N-point surface samplings (two trees, two queries, normals, two F-scores).
3. `topology` of a ~160k-face double-torus-like mesh and of a 32^3 marching-cubes mesh.
4. surface sampling (dlsr's and trimesh's, which draw the same points), then `mesh_metrics` with N samples per
   mesh (ONet's protocol: N = 100k), prediction and truth both meshes, and
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
from dlsr.nearest import NearestIndex, nearest, spatial_order
from dlsr.sampling import sample_surface
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


def pykdtree_sorted(tree: object, query: np.ndarray) -> None:
    """pykdtree with the queries in `spatial_order` (dlsr's search before dlsr.nearest): sorting takes 25-50 %
    off pykdtree's time on surface samples, and far more on far ones."""
    order = spatial_order(query)
    tree.query(np.ascontiguousarray(query[order]), k=1)  # type: ignore[attr-defined]


def pykdtree_both(pred: np.ndarray, true: np.ndarray, true_tree: object) -> None:
    pykdtree_sorted(true_tree, pred)
    pykdtree_sorted(KDTree(pred), true)


def real_pairs(root: str, points: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(prediction samples (P, 3), true samples (T, 3)) for views 0 and 12 of each object with a surface."""
    from dlsr.eval import EvalConfig
    from dlsr.eval.layouts import read_samples
    from dlsr.eval.plan import input_pixels
    from dlsr.eval.score import Job, cached_truth, predicted
    from dlsr.pipeline import load_model, predict_sdf

    model = load_model(None, "cpu")
    config = EvalConfig(split="all")
    found = []
    for sample in read_samples(Path(root), split="all")[1]:
        if sample.view not in ("00", "12"):
            continue
        (sdf,) = predict_sdf(model, [input_pixels(sample, model)])
        if not (sdf < 0).any():  # an empty prediction: nothing to query
            continue
        truth = cached_truth(sample.truth, config.points, config.iou_points, config.seed)
        mesh = predicted(Job(sample, config, sdf=sdf, grid=model.info.grid), truth).mesh
        if mesh is not None and len(mesh.faces) and float(mesh.area) > 0:
            found.append((sample_surface(mesh, points, np.random.default_rng(0))[0], truth.surface_points))
    return found


def pairs(root: str, points: int, repeats: int) -> None:
    """Both nearest-neighbour directions of real (prediction, truth) sample pairs, averaged over the pairs."""
    totals = {"dlsr.nearest": 0.0, "pykdtree, sorted queries": 0.0}
    found = real_pairs(root, points)
    for pred, true in found:
        # The truth's tree is built once per object by an evaluation, outside the timing.
        ours = functools.partial(dlsr_both, pred, true, NearestIndex(true))
        totals["dlsr.nearest"] += median_seconds(ours, repeats)[0]
        if KDTree is not None:
            theirs = functools.partial(pykdtree_both, pred, true, KDTree(true))
            totals["pykdtree, sorted queries"] += median_seconds(theirs, repeats)[0]
    print(f"   {len(found)} real pairs from {root}, both directions, the prediction's tree built each time:")
    for label, seconds in totals.items():
        if label == "dlsr.nearest" or KDTree is not None:
            print(f"  {label + ', per pair (sum of medians / pairs)':62s} {seconds / len(found) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000, help="points per cloud / samples per mesh")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing (median reported)")
    parser.add_argument("--pairs", help="a dataset folder: also time real prediction/truth pairs from it")
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
                f"pykdtree, sorted queries, {label}",
                median_seconds(lambda q=query, r=reference: pykdtree_sorted(KDTree(r), q), k),
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
        pairs(args.pairs, n, k)

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

    print(f"4. surface sampling and mesh_metrics, {n:,} samples per mesh")
    truth = trimesh.creation.icosphere(5, radius=0.5)
    prediction = extract_mesh(sample_sdf(sphere(radius=0.48), Grid(64)), Grid(64))
    cloud = on_sphere(n, rng)
    generator = np.random.default_rng(0)
    report(
        f"dlsr.sampling.sample_surface, {len(prediction.faces):,} faces",
        median_seconds(lambda: sample_surface(prediction, n, generator), k),
    )
    report(
        "trimesh.sample.sample_surface (identical output for one seed)",
        median_seconds(lambda: trimesh.sample.sample_surface(prediction, n, seed=generator), k),
    )
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
