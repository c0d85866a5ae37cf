"""Quality of a model on real and held-out data: every target of the model issue, in one table.

Usage:
    python bench/bench_quality.py [--weights W ...] [--work DIR] [--views all|0,6,12,18] [--only NAME,...]

For each weights file (default: the shipped default model) it measures, with dlsr's own commands:

  realval   real ShapeNet renderings, ../shared/realval (Occupancy Networks' layout, 34 benches and tables):
            `dlsr eval --split all`: empty predictions, F@1 %, Chamfer-L1, IoU (class means); IoU needs the
            occupancy truth that dlsr makes from the ShapeNetCore.v2 meshes beside the layout.
  r2n2      real 3D-R2N2 chairs, ../shared/realdata/r2n2: `dlsr eval --protocol r2n2 --split all`, voxel IoU at 32^3.
  pix3d     Pix3D validation shapes rendered with our camera: `dlsr data prepare ../shared/shapes/pix3d WORK/pix3d`
            (its split.tsv is kept; or --pix3d DIR, prepared before), then `dlsr train score --split val`: sign
            IoU at the model's grid R^3 (the paper's protocol), against the true SDF made at R^3 (`--resolution R`).
  fresh     a synthetic set of a seed never trained on: `dlsr data synth WORK/fresh --per-category 5 --seed 90210`
            (`--resolution R`), `dlsr train score` over all its splits: sign IoU at R^3, class mean and the lowest
            category.
  photos    every photo and render in ../shared/realdata/{photos,renders}: `dlsr reconstruct`, then the share of
            the mesh's volume in its largest connected part (the worst and the mean over images).

Targets (the model issue): realval no empty, F@1 % >= 0.25, Chamfer-L1 <= 0.08, IoU >= 0.40; r2n2 IoU >= 0.45;
pix3d IoU >= 0.50; fresh class mean >= 0.60 and every category >= 0.35; photos largest part >= 95 % each.

Data made here goes to WORK (default /tmp/dlsr-bench-quality) and is reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dlsr.checkpoint import DEFAULT_WEIGHTS_FILE

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FRESH_SEED = 90210  # never used for training data (training seeds are recorded in the model card)
PHOTO_FOLDERS = ("realdata/photos", "realdata/renders/onet_demo", "realdata/renders/r2n2_imgs")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

TARGETS = {
    "realval empty": ("<=", 0),
    "realval F@1%": (">=", 0.25),
    "realval Chamfer-L1": ("<=", 0.08),
    "realval IoU": (">=", 0.40),
    "r2n2 IoU": (">=", 0.45),
    "pix3d IoU": (">=", 0.50),
    "fresh IoU": (">=", 0.60),
    "fresh lowest category": (">=", 0.35),
    "photos worst largest part": (">=", 0.95),
}


def dlsr(*args: str) -> str:
    """Run a dlsr command (this checkout's package), return its stdout; stop with its stderr on failure."""
    command = [sys.executable, "-m", "dlsr", *args]
    found = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if found.returncode not in (0, 1):
        sys.exit(f"failed ({found.returncode}): {' '.join(command)}\n{found.stderr[-2000:]}")
    return found.stdout


def eval_summary(dataset: Path, weights: Path, *extra: str) -> dict[str, Any]:
    """`dlsr eval --json` on a dataset: the summary's class means and counts."""
    with tempfile.TemporaryDirectory() as folder:
        dlsr("eval", str(dataset), "--weights", str(weights), "--out", folder, "-q", *extra)
        return json.loads((Path(folder) / "summary.json").read_text())["summary"]


def realval(weights: Path, views: str) -> dict[str, float | None]:
    summary = eval_summary(SHARED / "realval" / "onet" / "ShapeNet", weights, "--split", "all", "--views", views)
    means = summary["class_mean"]
    return {
        "realval empty": summary["empty"],
        "realval F@1%": means.get("fscore@0.01"),
        "realval Chamfer-L1": means.get("chamfer_l1"),
        "realval IoU": means.get("iou"),
    }


def r2n2(weights: Path) -> dict[str, float | None]:
    summary = eval_summary(SHARED / "realdata" / "r2n2", weights, "--split", "all", "--protocol", "r2n2")
    return {"r2n2 IoU": summary["class_mean"].get("iou")}


def score(dataset: Path, weights: Path, split: str) -> dict[str, Any] | None:
    """`dlsr train score --json` at the weights' own iso-level; None for a split with no objects."""
    found = dlsr("train", "score", str(dataset), "--weights", str(weights), "--split", split, "--json")
    return json.loads(found) if found.strip() else None


def grid_resolution(weights: Path) -> int:
    """R of the weights' output grid: their truth is made at R^3, so a model is scored at its own grid."""
    from dlsr.checkpoint import read_weights_info

    return read_weights_info(weights).grid.resolution


def truth_folder(work: Path, name: str, resolution: int) -> Path:
    """WORK/name for 32^3 truth (the folders earlier runs made), WORK/name-R for other grids."""
    return work / (name if resolution == 32 else f"{name}-{resolution}")


def sdf_resolution(dataset: Path) -> int:
    return int(json.loads((dataset / "dataset.json").read_text())["config"]["sdf_resolution"])


def pix3d(weights: Path, work: Path, prepared: list[Path]) -> dict[str, float | None]:
    resolution = grid_resolution(weights)
    matching = [folder for folder in prepared if sdf_resolution(folder) == resolution]
    data = matching[0] if matching else truth_folder(work, "pix3d", resolution)
    if not (data / "metadata.json").is_file():
        source = str(SHARED / "shapes" / "pix3d")
        dlsr("data", "prepare", source, str(data), "--resolution", str(resolution), "--workers", "2", "-q")
    result = score(data, weights, "val")
    return {"pix3d IoU": result["class_mean"] if result else None}


def fresh(weights: Path, work: Path) -> dict[str, float | None]:
    resolution = grid_resolution(weights)
    data = truth_folder(work, "fresh", resolution)
    if not (data / "metadata.json").is_file():
        dlsr(
            "data", "synth", str(data), "--per-category", "5", "--seed", str(FRESH_SEED),
            "--resolution", str(resolution), "--workers", "2", "-q",
        )  # fmt: skip
    pooled: dict[str, list[float]] = {}
    for split in ("train", "val", "test"):  # 5 objects per category leave the val split empty
        result = score(data, weights, split)
        for row in (result or {"categories": {}})["categories"].values():
            pooled.setdefault(row["name"], []).extend([row["iou"]] * row["images"])
    means = {name: float(np.mean(values)) for name, values in pooled.items()}
    lowest = min(means, key=means.__getitem__)
    print(f"  fresh by category: {', '.join(f'{n} {v:.3f}' for n, v in sorted(means.items()))}")
    return {"fresh IoU": float(np.mean(list(means.values()))), "fresh lowest category": means[lowest]}


def photos(weights: Path, work: Path) -> dict[str, float | None]:
    import trimesh

    images = [
        path
        for folder in PHOTO_FOLDERS
        for path in sorted((SHARED / folder).iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    out = work / f"photos-{weights.stem}"
    out.mkdir(parents=True, exist_ok=True)
    shares = []
    for image in images:
        mesh_path = out / f"{image.parent.name}-{image.stem}.obj"
        dlsr("reconstruct", str(image), "-o", str(mesh_path), "--weights", str(weights), "--overwrite", "-q")
        if not mesh_path.is_file():
            shares.append(0.0)
            print(f"  {image.relative_to(SHARED)}: no mesh")
            continue
        mesh = trimesh.load(mesh_path, process=False)
        volumes = [abs(part.volume) for part in mesh.split(only_watertight=False)]
        share = max(volumes) / sum(volumes) if sum(volumes) > 0 else 0.0
        shares.append(share)
        print(f"  {image.relative_to(SHARED)}: largest part {share:.3f} of {len(volumes)} parts")
    return {"photos worst largest part": min(shares), "photos mean largest part": float(np.mean(shares))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", type=Path, default=[ROOT / "weights" / DEFAULT_WEIGHTS_FILE])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dlsr-bench-quality")
    parser.add_argument("--views", default="all", help="realval views: all, or e.g. 0,6,12,18 for a quick look")
    parser.add_argument("--only", default="realval,r2n2,pix3d,fresh,photos")
    parser.add_argument(
        "--pix3d",
        type=Path,
        action="append",
        default=[],
        help="Pix3D already prepared by `dlsr data prepare` (skips making it); repeat for other grid resolutions",
    )
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED}: the shared data is absent; this benchmark needs it")
    args.work.mkdir(parents=True, exist_ok=True)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    measures = {
        "realval": lambda w: realval(w, args.views),
        "r2n2": r2n2,
        "pix3d": lambda w: pix3d(w, args.work, args.pix3d),
        "fresh": lambda w: fresh(w, args.work),
        "photos": lambda w: photos(w, args.work),
    }
    print(f"load average {os.getloadavg()[0]:.2f}; work folder {args.work}")
    table: dict[str, dict[str, Any]] = {}
    for weights in args.weights:
        print(f"{weights}:")
        row: dict[str, Any] = {}
        for name in chosen:
            started = time.perf_counter()
            measured = measures[name](weights)
            row.update(measured)
            figures = ", ".join(f"{key} {value:.3f}" for key, value in measured.items() if value is not None)
            print(f"  {name}: {figures} ({time.perf_counter() - started:.0f} s)", flush=True)
        table[str(weights)] = row
    keys = list(dict.fromkeys(key for row in table.values() for key in row))
    print()
    print(f"{'measure':28s} {'target':>8s} " + " ".join(f"{Path(w).stem[:22]:>22s}" for w in table))
    for key in keys:
        sign, goal = TARGETS.get(key, ("", None))
        cells = []
        for row in table.values():
            value = row.get(key)
            if value is None:
                cells.append(f"{'-':>22s}")
                continue
            met = goal is not None and (value <= goal if sign == "<=" else value >= goal)
            cells.append(f"{value:>20.3f} {'*' if met else ' '}")
        target = f"{sign}{goal}" if goal is not None else ""
        print(f"{key:28s} {target:>8s} " + " ".join(cells))
    print("(* target met)")
    print(json.dumps(table))


if __name__ == "__main__":
    main()
