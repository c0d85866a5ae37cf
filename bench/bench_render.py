"""Rendering cost: BVH build per mesh and milliseconds per 137x137 view, for meshes of about 1k, 10k and 100k faces.

Run: python bench/bench_render.py [--repeats N]. Prints medians; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import trimesh

from dlsr.camera import bounding_box_diagonal, sample_cameras
from dlsr.render import Renderer, random_appearance


def sphere_with_faces(target: int) -> trimesh.Trimesh:
    """A UV sphere with about `target` faces (about 4 * count^2 for count x count segments)."""
    count = max(4, round((target / 4) ** 0.5))
    return trimesh.creation.uv_sphere(radius=0.5, count=(count, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20, help="views per mesh")
    parser.add_argument("--size", type=int, default=137, help="picture side, pixels")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'faces':>8} {'BVH build ms':>13} {'view ms':>8} {'ss2 ms':>7} {'smooth ms':>10} {'ss3 ms':>7}")
    for target in (1_000, 10_000, 100_000):
        mesh = sphere_with_faces(target)
        builds = []
        for _ in range(5):
            started = time.perf_counter()
            renderer = Renderer(mesh)
            builds.append(time.perf_counter() - started)
        smooth_renderer = Renderer(mesh, smooth=True)
        cameras = sample_cameras(args.repeats, rng, diagonal=bounding_box_diagonal(mesh.vertices))
        appearance = random_appearance(rng)
        timings: dict[str, list[float]] = {"plain": [], "ss2": [], "smooth": [], "ss3": []}
        variants = {"plain": (renderer, 1), "ss2": (renderer, 2), "smooth": (smooth_renderer, 1), "ss3": (renderer, 3)}
        for camera in cameras:
            for name, (which, supersample) in variants.items():
                started = time.perf_counter()
                which.render(camera, args.size, appearance=appearance, supersample=supersample)
                timings[name].append(time.perf_counter() - started)
        medians = {name: 1000 * statistics.median(values) for name, values in timings.items()}
        print(
            f"{len(mesh.faces):>8} {1000 * statistics.median(builds):>13.1f} {medians['plain']:>8.1f} "
            f"{medians['ss2']:>7.1f} {medians['smooth']:>10.1f} {medians['ss3']:>7.1f}"
        )


if __name__ == "__main__":
    main()
