"""Speed and statistics of the procedural shape generators, per category.

Usage: python bench/bench_shapes.py [--seeds N] [--grid R] [--category NAME ...]

Columns: mean and maximum time of `generate` (parts, manifold3d booleans and normalisation, ms), mean time of
`Shape.sdf` on an R^3 grid (the ground-truth field; ms), mean and maximum face count, the share of objects with
genus > 0, the genus distribution (genus: count), and the number of distinct style strings seen. The last line is
the overall rate in objects per second for generation alone and for generation plus the grid.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.sdf import Grid
from dlsr.synth.shapes import CATEGORIES, category_id, generate


def _genus(mesh: trimesh.Trimesh) -> int:
    """Total genus over the mesh's bodies (a closed body of genus g has Euler number 2 - 2g)."""
    return sum((2 - body.euler_number) // 2 for body in mesh.split(only_watertight=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="objects per category (seeds 0..N-1)")
    parser.add_argument("--grid", type=int, default=32, help="resolution of the SDF grid timed per object")
    parser.add_argument("--category", nargs="*", default=list(CATEGORIES), help="synset ids or names")
    args = parser.parse_args()
    points = Grid(args.grid).points().reshape(-1, 3)
    generate("chair", 0)  # warm-up: imports and manifold3d's first call

    header = (
        f"{'category':12s} {'gen ms':>7s} {'max':>6s} {'sdf ms':>7s} {'faces':>6s} {'max':>6s} {'genus>0':>7s} "
        f"{'bodies>1':>8s} {'styles':>6s}  genus: count"
    )
    print(header)
    total_gen, total_sdf, total = 0.0, 0.0, 0
    for name in args.category:
        synset = category_id(name)
        gen_times, sdf_times, faces, genera, bodies, styles = [], [], [], [], [], set()
        for seed in range(args.seeds):
            start = time.perf_counter()
            shape = generate(synset, seed)
            gen_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            shape.sdf(points)
            sdf_times.append(time.perf_counter() - start)
            mesh = shape.mesh()
            faces.append(len(mesh.faces))
            genera.append(_genus(mesh))
            bodies.append(shape.components)
            styles.add(shape.style)
        counts = collections.Counter(genera)
        distribution = " ".join(f"{g}:{counts[g]}" for g in sorted(counts))
        print(
            f"{CATEGORIES[synset]:12s} {1e3 * statistics.mean(gen_times):7.1f} {1e3 * max(gen_times):6.1f} "
            f"{1e3 * statistics.mean(sdf_times):7.1f} {statistics.mean(faces):6.0f} {max(faces):6d} "
            f"{np.mean(np.array(genera) > 0):7.2f} {np.mean(np.array(bodies) > 1):8.2f} {len(styles):6d}  "
            f"{distribution}"
        )
        total_gen += sum(gen_times)
        total_sdf += sum(sdf_times)
        total += args.seeds
    print(
        f"overall: {total / total_gen:.1f} objects/s generated, {total / (total_gen + total_sdf):.1f} objects/s with "
        f"a {args.grid}^3 SDF grid ({total} objects)"
    )


if __name__ == "__main__":
    main()
