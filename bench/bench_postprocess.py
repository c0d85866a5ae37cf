"""Choosing the mesh finish defaults: stray-part removal and Taubin smoothing against ground truth.

Renders one procedural object per category (two views each, `dlsr.synth`), reconstructs each view on white with
the shipped weights at the default resolution, and scores the mesh against the object's true surface points for
each setting: Chamfer-L1, normal consistency and F-score at 1 % (`dlsr.metrics.mesh_metrics`, 20k samples).

    python bench/bench_postprocess.py
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np

from dlsr import image as data
from dlsr.errors import EmptySurfaceError
from dlsr.metrics import mesh_metrics
from dlsr.pipeline import DEFAULT_MESH_RESOLUTION, load_model, mesh_sdf, predict_sdf
from dlsr.postprocess import MeshFinish, finish_mesh
from dlsr.synth import SynthConfig, make_dataset

SETTINGS = [(keep, smooth) for keep in (0.0, 0.05, 1.0) for smooth in (0, 5, 10, 20)]


def main() -> None:
    model = load_model(device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        config = SynthConfig(per_category=1, views=2, points=2000, surface_points=20000, split=(0, 0, 1), seed=11)
        make_dataset(config, folder)
        renders = sorted(Path(folder).glob("*/*/rendering/*.png"))
        pixels = [data.load_image(path, model.info.preprocess).pixels for path in renders]
        sdfs = predict_sdf(model, pixels)
        scores: dict[tuple[float, int], list[dict[str, float]]] = {setting: [] for setting in SETTINGS}
        parts = []
        for path, sdf in zip(renders, sdfs, strict=True):
            with np.load(path.parents[1] / "pointcloud.npz") as cloud:
                truth = (cloud["points"].astype(np.float64), cloud["normals"].astype(np.float64))
            try:
                mesh, _ = mesh_sdf(sdf, model.info.grid, DEFAULT_MESH_RESOLUTION, model.info.level)
            except EmptySurfaceError:
                print(f"{path}: no surface; skipped")
                continue
            parts.append(len(mesh.split(only_watertight=False)))
            for keep, smooth in SETTINGS:
                finished = finish_mesh(mesh, MeshFinish(keep_parts=keep, smooth_iterations=smooth))
                scores[(keep, smooth)].append(mesh_metrics(finished, truth, n_points=20000, rng=0))
    print(f"{len(parts)} meshes; parts per raw mesh: median {statistics.median(parts)}, max {max(parts)}, "
          f"{sum(p > 1 for p in parts)} with more than one")  # fmt: skip
    keys = sorted(next(iter(scores.values()))[0])
    chamfer = next(k for k in keys if k.startswith("chamfer"))
    normals = next(k for k in keys if "normal" in k)
    fscore = next(k for k in keys if k.startswith("f") and "1" in k)
    print(f"keep_parts smooth   {chamfer:>14s} {normals:>18s} {fscore:>10s}")
    for (keep, smooth), rows in scores.items():
        mean = {key: statistics.mean(row[key] for row in rows) for key in (chamfer, normals, fscore)}
        print(f"{keep:10.2f} {smooth:6d}   {mean[chamfer]:14.5f} {mean[normals]:18.4f} {mean[fscore]:10.4f}")


if __name__ == "__main__":
    main()
