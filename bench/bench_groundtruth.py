"""Speed of ground-truth generation on this machine: signed distance backends, samples, voxels, real meshes.

Usage: python bench/bench_groundtruth.py [--repeats K] [--realdata DIR]

Sections:
1. Signed distance of a ~10k-face torus mesh at the samples of 32^3 and 64^3 grids and at 100k random points:
   dlsr's backend (libigl AABB tree + fast winding number hierarchy, built once, chunked queries) against
   libigl's one-call `signed_distance(..., FAST_WINDING_NUMBER)` and point-cloud-utils'
   `signed_distance_to_mesh`, with each one's sign agreement and largest error against the exact torus SDF.
2. occupancy_samples / surface_samples (100k points) and voxelize (32^3) for an analytic SDF and for a mesh.
3. Per real mesh in shared/realdata/meshes: load + normalise + 32^3 SDF grid + 100k occupancy samples + 100k
   surface samples + 32^3 voxels, i.e. what `dlsr data prepare` spends per model.
Times are medians over K runs (wall clock; other jobs on the machine inflate them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr import groundtruth as gt
from dlsr.mesh import extract_mesh
from dlsr.mesh_input import find_meshes, load_mesh
from dlsr.sdf import Grid, sample_sdf, torus

DEFAULT_REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def median_seconds(step: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of `step()` over `repeats` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def torus_mesh(target_faces: int = 10_000):
    """Marching-cubes mesh of dlsr.sdf.torus() with about `target_faces` faces."""
    resolution = int(64 * np.sqrt(target_faces / 11_000))
    grid = Grid(resolution, 0.55)
    return extract_mesh(sample_sdf(torus(), grid), grid)


def bench_backends(repeats: int) -> None:
    import igl
    import point_cloud_utils as pcu

    mesh = torus_mesh()
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    backends = {
        "dlsr (igl AABB + FWN BVH)": lambda p: gt.mesh_signed_distance(mesh, p),
        "igl.signed_distance FWN": lambda p: igl.signed_distance(
            p, vertices, faces, igl.SIGNED_DISTANCE_TYPE_FAST_WINDING_NUMBER
        )[0],
        "pcu.signed_distance_to_mesh": lambda p: pcu.signed_distance_to_mesh(p, vertices, faces)[0],
    }
    queries = {
        "32^3 grid": Grid(32, 0.55).points().reshape(-1, 3),
        "64^3 grid": Grid(64, 0.55).points().reshape(-1, 3),
        "100k points": np.random.default_rng(0).uniform(-0.55, 0.55, size=(100_000, 3)),
    }
    print(f"1. signed distance, torus mesh with {len(faces)} faces")
    print(f"   {'backend':30s} {'query':12s} {'seconds':>8s} {'sign ok':>8s} {'max err':>9s}")
    for query_name, points in queries.items():
        exact = torus()(points)
        away = np.abs(exact) > 2e-3  # beyond the tessellation error
        for name, backend in backends.items():
            seconds, result = median_seconds(lambda backend=backend, points=points: backend(points), repeats)
            values = np.asarray(result)
            sign_ok = np.mean(np.sign(values[away]) == np.sign(exact[away]))
            error = np.abs(values - exact).max()
            print(f"   {name:30s} {query_name:12s} {seconds:8.3f} {sign_ok:8.4f} {error:9.2e}")


def bench_samples(repeats: int) -> None:
    mesh = torus_mesh()
    print(f"2. samples and voxels (analytic torus vs its {len(mesh.faces)}-face mesh)")
    for label, source in (("analytic", torus()), ("mesh", mesh)):
        jobs = {
            "occupancy_samples 100k": lambda s=source: gt.occupancy_samples(s, rng=np.random.default_rng(0)),
            "sdf_grid 32^3": lambda s=source: gt.sdf_grid(s, Grid(32)),
            "voxelize 32^3": lambda s=source: gt.voxelize(s, 32),
        }
        if label == "mesh":
            jobs["surface_samples 100k"] = lambda: gt.surface_samples(mesh, rng=np.random.default_rng(0))
        for name, job in jobs.items():
            seconds, _ = median_seconds(job, repeats)
            print(f"   {label:9s} {name:24s} {seconds:7.3f} s")


def bench_real_meshes(root: Path, repeats: int) -> None:
    folder = root / "meshes"
    if not folder.is_dir():
        print(f"3. real meshes: skipped, {folder} not found")
        return
    entries, _ = find_meshes(folder)
    print(f"3. per real mesh (load, normalise, sdf 32^3, occupancy 100k, surface 100k, voxels 32^3) in {folder}")
    for entry in entries:

        def prepare(path: Path = entry.path) -> dict[str, float]:
            parts: dict[str, float] = {}
            start = time.perf_counter()
            mesh, _, _ = gt.normalise(load_mesh(path))
            parts["load"] = time.perf_counter() - start
            field = gt.MeshField(mesh)  # one set of search trees for all four products
            for name, job in (
                ("sdf", lambda: gt.sdf_grid(field, Grid(32))),
                ("occ", lambda: gt.occupancy_samples(field, rng=np.random.default_rng(0))),
                ("surf", lambda: gt.surface_samples(field, rng=np.random.default_rng(0))),
                ("vox", lambda: gt.voxelize(field, 32)),
            ):
                begin = time.perf_counter()
                job()
                parts[name] = time.perf_counter() - begin
            parts["total"] = time.perf_counter() - start
            return parts

        _, parts = median_seconds(prepare, repeats)
        faces = len(load_mesh(entry.path).faces)
        detail = " ".join(f"{key} {value:.2f}" for key, value in parts.items())  # type: ignore[union-attr]
        print(f"   {entry.model_id:12s} {faces:6d} faces  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median reported)")
    parser.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA, help="shared/realdata folder")
    args = parser.parse_args()
    bench_backends(args.repeats)
    bench_samples(args.repeats)
    bench_real_meshes(args.realdata, args.repeats)


if __name__ == "__main__":
    main()
