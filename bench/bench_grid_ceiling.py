"""The ceiling an SDF grid's resolution puts on the metrics: mesh the TRUE grid and score it like a prediction.

Usage:
    dlsr data prepare ../shared/realval/onet/ShapeNetCore.v2 /tmp/realval-32 --views 1 --workers 2
    python bench/bench_grid_ceiling.py /tmp/realval-32 [--levels 0,1] [--points 30000]

For every object of a dataset folder made by `dlsr data synth` or `dlsr data prepare` (its `sdf.npz` at the
grid resolution chosen with `--resolution`), the true SDF grid is meshed exactly as a prediction is
(`dlsr.pipeline.mesh_sdf`, 64^3 resampling) at each level (in voxels of that grid) and scored against the
object's `pointcloud.npz` and `points.npz` with `dlsr.metrics.mesh_metrics`. A model that predicted the true grid
perfectly would score this; no model of that resolution scores more. A grid that never crosses the level (an
object thinner than the grid's samples everywhere) is an empty prediction and scores the worst case.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dlsr.errors import EmptySurfaceError
from dlsr.metrics import mesh_metrics
from dlsr.pipeline import mesh_sdf
from dlsr.sdf import Grid
from dlsr.synth.shapes import CATEGORIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="dataset folder (dlsr data synth / prepare)")
    parser.add_argument("--levels", default="0,1", help="levels in voxels of the dataset's grid")
    parser.add_argument("--points", type=int, default=30_000, help="surface samples of each mesh")
    args = parser.parse_args()
    levels = [float(value) for value in args.levels.split(",")]
    rows: dict[tuple[str, float], list[tuple[float, float, float, bool]]] = {}
    for folder in sorted(args.data.glob("*/*")):
        if not (folder / "sdf.npz").is_file():
            continue
        sdf = np.load(folder / "sdf.npz")["sdf"]
        grid = Grid(sdf.shape[0])
        surface = np.load(folder / "pointcloud.npz")
        samples = np.load(folder / "points.npz")
        occupancy = np.unpackbits(samples["occupancies"])[: len(samples["points"])].astype(bool)
        for voxels in levels:
            try:
                mesh, _ = mesh_sdf(sdf, grid, 64, voxels * grid.spacing)
            except EmptySurfaceError:
                mesh = None
            scores = mesh_metrics(
                mesh, surface, iou_points=samples["points"], true_occupancy=occupancy, n_points=args.points
            )
            rows.setdefault((folder.parent.name, voxels), []).append(
                (scores["fscore@0.01"], scores["chamfer_l1"], scores["iou"], mesh is None)
            )
    print(f"{'category':12s} {'level':>6s} {'objects':>7s} {'F@1%':>6s} {'CD-L1':>7s} {'IoU':>6s} {'empty':>5s}")
    for voxels in levels:
        means = []
        for (category, level), values in sorted(rows.items()):
            if level != voxels:
                continue
            table = np.array(values, dtype=np.float64)
            f_score, chamfer, iou = table[:, :3].mean(axis=0)
            means.append((f_score, chamfer, iou))
            name = CATEGORIES.get(category, category)
            print(
                f"{name:12s} {voxels:6g} {len(table):7d} {f_score:6.3f} {chamfer:7.4f} {iou:6.3f} "
                f"{int(table[:, 3].sum()):5d}"
            )
        f_score, chamfer, iou = np.mean(means, axis=0)
        print(f"{'class mean':12s} {voxels:6g} {'':7s} {f_score:6.3f} {chamfer:7.4f} {iou:6.3f}")


if __name__ == "__main__":
    main()
