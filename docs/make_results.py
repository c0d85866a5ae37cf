"""Print the tables of docs/RESULTS.md from finished runs and their `dlsr train score --json` files.

Usage: python docs/make_results.py --runs RUNS_DIR --data DATASET [--sensitivity] [--real REALDATA]
                                   [--eval EVAL_DIR ...] [--paired RUN_A RUN_B]

RUNS_DIR holds run folders and, beside each, `<run>-test.json` written by
`dlsr train score DATASET --weights <run> --split test --json`. `--sensitivity` adds the metric-ceiling table:
the IoU of the true SDF against itself with the surface moved by 0.01 (0.28 voxel) inwards and outwards, per
category of the test split, which shows how much of the 32³ sign IoU is lost to sub-voxel errors alone.
`--real ../shared/realdata` compares the inside share of the synthetic objects with that of the real ShapeNet
objects there that have solid voxels (Occupancy Networks' 128³ `model_normalized.solid.binvox`), sampled on
the same 32³ grid in the same normalised frame: are the synthetic parts unrealistically thin?
`--paired RUN_A RUN_B` scores two run folders on every test image and prints the class-mean IoU difference
A - B with a 95 % bootstrap interval over test objects (resampled within each category): how much of a gap
could come from which objects happen to be in the test split. It does not measure training-seed noise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.synth.shapes import CATEGORIES


def table(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    """Markdown table: one column per run, one row per category, then the class and instance means."""
    categories = sorted(next(iter(rows.values()))["categories"])
    lines = ["| category | " + " | ".join(columns) + " |", "| --- | " + " | ".join("---:" for _ in columns) + " |"]
    for category in categories:
        cells = [f"{rows[c]['categories'][category]['iou']:.3f}" for c in columns]
        lines.append(f"| {CATEGORIES.get(category, category)} | " + " | ".join(cells) + " |")
    lines.append("| **class mean** | " + " | ".join(f"**{rows[c]['class_mean']:.3f}**" for c in columns) + " |")
    lines.append("| instance mean | " + " | ".join(f"{rows[c]['instance_mean']:.3f}" for c in columns) + " |")
    # Rifles without an inside grid sample score 1 for an empty prediction (RESULTS.md), which swamps the mean.
    others = [category for category in categories if CATEGORIES.get(category) != "rifle"]

    def without_rifle(column: str) -> float:
        return float(np.mean([rows[column]["categories"][category]["iou"] for category in others]))

    lines.append("| class mean without rifle | " + " | ".join(f"{without_rifle(c):.3f}" for c in columns) + " |")
    return "\n".join(lines)


def run_summary(folder: Path) -> str:
    """Epochs, seconds and validation IoU of a run, from its metrics.jsonl."""
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    seconds = sum(r["epoch_seconds"] for r in records)
    rate = np.mean([r["samples_per_second"] for r in records])
    best = max(r["val_iou"] for r in records)
    return f"{len(records)} epoch(s), {seconds / 60:.1f} min, {rate:.1f} samples/s, best val IoU {best:.3f}"


def sensitivity(data: Path) -> str:
    """The metric-ceiling table (see the module docstring)."""
    import torch

    from dlsr.metrics import iou_sdf
    from dlsr.sdf import Grid
    from dlsr.train.arrays import read_sdf_grid, read_split

    grid = Grid(32)
    per: dict[str, list[tuple[float, float, float]]] = {}
    for record in read_split(data, "test"):
        sdf = torch.from_numpy(read_sdf_grid(record, grid))[None]
        occupied = float((sdf < 0).float().mean())
        per.setdefault(record.category, []).append(
            (float(iou_sdf(sdf + 0.01, sdf)[0]), float(iou_sdf(sdf - 0.01, sdf)[0]), occupied)
        )
    lines = [
        "| category | inside voxels (share of 32³) | IoU, surface 0.01 inwards | IoU, surface 0.01 outwards |",
        "| --- | ---: | ---: | ---: |",
    ]
    for category, values in sorted(per.items()):
        inwards, outwards, occupied = np.mean(values, axis=0)
        lines.append(f"| {CATEGORIES[category]} | {occupied:.2%} | {inwards:.3f} | {outwards:.3f} |")
    means = np.mean([np.mean(v, axis=0) for v in per.values()], axis=0)
    lines.append(f"| **class mean** | {means[2]:.2%} | **{means[0]:.3f}** | **{means[1]:.3f}** |")
    return "\n".join(lines)


def real_thickness(realdata: Path, data: Path) -> str:
    """The inside share at 32³ of the real solid-voxel objects beside the synthetic test split's (module docstring)."""
    from dlsr.binvox import read_binvox
    from dlsr.eval.truth import VoxelTruth
    from dlsr.mesh_input import load_mesh
    from dlsr.sdf import Grid
    from dlsr.train.arrays import read_sdf_grid, read_split

    grid = Grid(32)
    centres = grid.points().reshape(-1, 3)
    synthetic: dict[str, list[float]] = {}
    for record in read_split(data, "test"):
        synthetic.setdefault(record.category, []).append(float((read_sdf_grid(record, grid) < 0).mean()))
    lines = ["| object | inside share of 32³, real | synthetic test split, same category (mean, range) |"]
    lines.append("| --- | ---: | ---: |")
    for solid in sorted(realdata.glob("onet/ShapeNetCore.v2/*/*/models/model_normalized.solid.binvox")):
        voxels = read_binvox(solid)
        low, high = load_mesh(solid.with_name("model_normalized.obj")).bounds
        # The normalised frame's point q is the mesh's point q * longest side + box centre; the binvox header
        # places the voxels in the mesh's frame.
        model = centres * float(np.max(high - low)) + (low + high) / 2
        placed = VoxelTruth(voxels.occupancy, voxels.translate, voxels.scale / voxels.resolution)
        inside = placed.values_at(voxels.occupancy, model)
        category = solid.parents[2].name
        shares = synthetic.get(category, [float("nan")])
        lines.append(
            f"| {CATEGORIES.get(category, category)} {solid.parents[1].name[:8]} | {inside.mean():.2%} "
            f"| {np.mean(shares):.2%} ({np.min(shares):.2%} to {np.max(shares):.2%}) |"
        )
    return "\n".join(lines)


def paired(data: Path, first: Path, second: Path, resamples: int = 2000) -> str:
    """Class-mean sign IoU of two runs on the test split and a bootstrap interval of their difference."""
    from dlsr.train import score_split

    runs = [score_split(data, weights=folder, split="test", device="cpu").scores for folder in (first, second)]
    if runs[0].categories != runs[1].categories:
        raise SystemExit(f"{first} and {second} were scored on different test objects; they cannot be paired")
    per_object = [scores.per_image.mean(axis=1) for scores in runs]
    categories = np.asarray(runs[0].categories)
    names = sorted(set(categories.tolist()))
    members = [np.flatnonzero(categories == name) for name in names]

    def class_mean_difference(picks: list[np.ndarray]) -> float:
        return float(np.mean([per_object[0][p].mean() - per_object[1][p].mean() for p in picks]))

    observed = class_mean_difference(members)
    rng = np.random.default_rng(0)
    draws = [
        class_mean_difference([rng.choice(indices, size=len(indices)) for indices in members]) for _ in range(resamples)
    ]
    low, high = np.percentile(draws, [2.5, 97.5])
    return (
        f"{first.name} - {second.name}: class-mean IoU difference {observed:+.4f}, 95 % bootstrap interval over "
        f"test objects [{low:+.4f}, {high:+.4f}] ({resamples} resamples, {len(categories)} objects)"
    )


def eval_table(folders: list[Path]) -> str:
    """Markdown table of `dlsr eval` summaries (class means), one row per evaluation folder."""
    columns = ["iou", "chamfer_l1", "chamfer_l2", "normal_consistency", "fscore@0.01", "fscore@0.02", "topology_match"]
    lines = [
        "| run | images | empty | IoU (onet) | Chamfer-L1 | Chamfer-L2 | normal consistency | F@1% | F@2% "
        "| topology match |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text())["summary"]
        means = summary["class_mean"]
        cells = " | ".join(f"{means[c]:.3f}" if c != "chamfer_l2" else f"{means[c]:.4f}" for c in columns)
        lines.append(f"| {folder.name} | {summary['count']} | {summary['empty']} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--sensitivity", action="store_true")
    parser.add_argument("--real", type=Path, help="../shared/realdata: compare thickness with real objects")
    parser.add_argument("--paired", type=Path, nargs=2, metavar="RUN", help="two run folders to compare")
    parser.add_argument("--eval", type=Path, nargs="*", default=[], help="`dlsr eval --out` folders to tabulate")
    args = parser.parse_args()
    if args.eval:
        print(eval_table(args.eval))
        print()
    scores = {
        path.name.removesuffix("-test.json"): json.loads(path.read_text())
        for path in sorted(args.runs.glob("*-test.json"))
    }
    if scores:
        # The objectives first, in the order RESULTS.md discusses them, then ablations and variants by name.
        leading = ["dlsr-dls-logistic-32", "dlsr-dls-squared-32", "dlsr-voxel-32"]
        leading += ["dls", "dls-paper", "voxel", "sdf-l2"]
        columns = sorted(scores, key=lambda name: (leading.index(name) if name in leading else len(leading), name))
        print(table(scores, columns))
        print()
        for name in scores:
            folder = args.runs / name
            if (folder / "metrics.jsonl").is_file():
                print(f"- `{name}`: {run_summary(folder)}; test views per object: {len(scores[name]['views'])}")
    if args.sensitivity:
        print()
        print(sensitivity(args.data))
    if args.real:
        print()
        print(real_thickness(args.real, args.data))
    if args.paired:
        print()
        print(paired(args.data, *args.paired))


if __name__ == "__main__":
    main()
