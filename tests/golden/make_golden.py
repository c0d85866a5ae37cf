"""Golden outputs of the three end-to-end paths, kept to guard refactors that must not change behaviour or bytes.

What is recorded (all through the CLI, as a user runs it):

- `dlsr data synth` on a tiny dataset (airplane and chair, one object each, two views, an 8^3 SDF): every array of
  sdf.npz, the occupancy bits and the voxels in full, strided subsamples of the 100,000-point clouds with their
  sums, the mesh's vertices and faces, the rendered pixels, the cameras, and the settings and split files;
- `dlsr eval run` of the shipped weights on that dataset: every per-sample record and the summary;
- `dlsr reconstruct` of a fixed image (`input.png`) with the shipped weights: the mesh and the saved SDF grid.

Regenerate only after a change that is meant to change these outputs, and say so in the commit:
`python tests/golden/make_golden.py`. The test (`tests/test_golden.py`) compares floats with `RTOL`/`ATOL` (another
CPU may round differently) and integers, booleans and strings exactly.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

GOLDEN = Path(__file__).resolve().parent
WEIGHTS = GOLDEN.parents[1] / "weights" / "dlsr-dls-32.safetensors"
INPUT_IMAGE = GOLDEN / "input.png"
SYNTH_FILE = GOLDEN / "synth.npz"
EVAL_FILE = GOLDEN / "eval.json"
RECONSTRUCT_FILE = GOLDEN / "reconstruct.npz"

RTOL = 1e-5
ATOL = 1e-6
"""Float tolerance: relative and absolute, as in `numpy.isclose`; a real change moves far more than this."""

STRIDE = 997
"""Every STRIDE-th point of the 100,000-point clouds is kept (a prime, so no pattern of the sampler lines up)."""

SYNTH_ARGS = ("--categories", "airplane,chair", "--per-category", "1", "--views", "2", "--resolution", "8")
EVAL_ARGS = (
    "--split", "all", "--points", "2000", "--iou-points", "2000", "--resolution", "32", "--workers", "1",
    "--device", "cpu",
)  # fmt: skip
RECONSTRUCT_ARGS = ("--resolution", "32", "--device", "cpu", "--save-sdf", "--format", "obj")

_VOLATILE_HEADER = ("dataset", "created_utc", "versions")
"""Header fields that name this machine, this checkout or this moment, not the evaluation."""


def run_cli(*args: str) -> None:
    """Run `dlsr ARGS` in this process; raise with its output unless it exits 0."""
    from typer.testing import CliRunner

    from dlsr.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exit_code != 0:
        raise RuntimeError(f"dlsr {' '.join(args)} exited {result.exit_code}:\n{result.output}\n{result.exception!r}")


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices float64 (V, 3) and faces int64 (F, 3) (0-based) of an OBJ file's `v` and `f` lines."""
    vertices, faces = [], []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "v":
            vertices.append([float(value) for value in fields[1:4]])
        elif fields and fields[0] == "f":
            faces.append([int(value.split("/")[0]) - 1 for value in fields[1:]])
    return np.asarray(vertices, dtype=np.float64).reshape(-1, 3), np.asarray(faces, dtype=np.int64).reshape(-1, 3)


def synth_snapshot(root: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Make the tiny dataset in `root`; its arrays by name, and its text files."""
    from PIL import Image

    from dlsr.binvox import read_binvox

    run_cli("data", "synth", str(root), *SYNTH_ARGS, "-q")
    arrays: dict[str, np.ndarray] = {}
    texts: dict[str, Any] = {}
    for name in ("dataset.json", "metadata.json"):
        settings = json.loads((root / name).read_text())
        settings.pop("dlsr_version", None)  # the package's version, not the data's (synth_version is kept)
        texts[name] = settings
    for split_list in sorted(root.glob("*/*.lst")):
        texts[split_list.relative_to(root).as_posix()] = split_list.read_text()
    for folder in sorted(path.parent for path in root.glob("*/*/model.obj")):
        key = folder.relative_to(root).as_posix()
        for archive in ("sdf", "points", "pointcloud"):
            with np.load(folder / f"{archive}.npz") as data:
                for name in data.files:
                    value = data[name]
                    if value.ndim == 2 and len(value) > 10 * STRIDE:  # a point cloud: a sample and its sums
                        arrays[f"{key}/{archive}/{name}[::{STRIDE}]"] = value[::STRIDE]
                        arrays[f"{key}/{archive}/{name}.sum"] = value.astype(np.float64).sum(axis=0)
                        arrays[f"{key}/{archive}/{name}.abs_sum"] = np.abs(value.astype(np.float64)).sum(axis=0)
                    else:
                        arrays[f"{key}/{archive}/{name}"] = value
        voxels = read_binvox(folder / "model.binvox")
        arrays[f"{key}/binvox/occupancy"] = np.asarray(voxels.occupancy, dtype=np.uint8)
        arrays[f"{key}/binvox/translate"] = np.asarray(voxels.translate, dtype=np.float64)
        arrays[f"{key}/binvox/scale"] = np.asarray(voxels.scale, dtype=np.float64)
        vertices, faces = read_obj(folder / "model.obj")
        arrays[f"{key}/mesh/vertices"], arrays[f"{key}/mesh/faces"] = vertices, faces
        rendering = folder / "rendering"
        for picture in sorted(rendering.glob("*.png")):
            arrays[f"{key}/rendering/{picture.name}"] = np.asarray(Image.open(picture))
        arrays[f"{key}/rendering/cameras"] = np.loadtxt(rendering / "rendering_metadata.txt", ndmin=2)
        texts[f"{key}/rendering/renderings.txt"] = (rendering / "renderings.txt").read_text()
    return arrays, texts


def eval_snapshot(dataset: Path, out: Path) -> dict[str, Any]:
    """Evaluate the shipped weights on `dataset` into `out`; the records and the summary, less what is volatile."""
    run_cli("eval", "run", str(dataset), "--weights", str(WEIGHTS), *EVAL_ARGS, "--out", str(out), "-q")
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for record in lines:
        record.pop("seconds", None)
    summary = json.loads((out / "summary.json").read_text())
    for header in (lines[0], summary["header"]):
        for name in _VOLATILE_HEADER:
            header.pop(name, None)
        if header.get("weights"):
            header["weights"]["path"] = Path(header["weights"]["path"]).name
    return {"results": lines, "summary": summary}


def reconstruct_snapshot(out: Path) -> dict[str, np.ndarray]:
    """`dlsr reconstruct` of the fixed image with the shipped weights: mesh and SDF grid."""
    mesh_path = out / "input.obj"
    run_cli("reconstruct", str(INPUT_IMAGE), "-o", str(mesh_path), "--weights", str(WEIGHTS), *RECONSTRUCT_ARGS, "-q")
    vertices, faces = read_obj(mesh_path)
    arrays = {"mesh/vertices": vertices, "mesh/faces": faces}
    sdf_files = sorted(out.glob("*.sdf.npz"))
    if len(sdf_files) != 1:
        raise RuntimeError(f"expected one saved SDF in {out}, found {[p.name for p in sdf_files]}")
    with np.load(sdf_files[0]) as data:
        arrays.update({f"sdf/{name}": data[name] for name in data.files})
    return arrays


def make_all(work: Path) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
    """The three snapshots, made in the scratch folder `work`: synth arrays and texts, evaluation, reconstruction."""
    (work / "recon").mkdir()
    synth_arrays, synth_texts = synth_snapshot(work / "data")
    evaluation = eval_snapshot(work / "data", work / "eval")
    return synth_arrays, synth_texts, evaluation, reconstruct_snapshot(work / "recon")


# ------------------------------------------------------------------------------------------ comparing


def compare_arrays(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> list[str]:
    """Differences between two snapshots: floats beyond RTOL/ATOL, anything else not equal. Empty when they match."""
    problems = [f"{name}: missing" for name in sorted(set(expected) - set(actual))]
    problems += [f"{name}: not in the golden file" for name in sorted(set(actual) - set(expected))]
    for name in sorted(set(expected) & set(actual)):
        want, got = np.asarray(expected[name]), np.asarray(actual[name])
        if want.shape != got.shape or want.dtype != got.dtype:
            problems.append(f"{name}: {got.dtype}{got.shape}, golden {want.dtype}{want.shape}")
        elif np.issubdtype(want.dtype, np.floating):
            close = np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=RTOL, atol=ATOL)
            if not close.all():
                worst = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
                problems.append(f"{name}: {int((~close).sum())} of {close.size} values differ (max {worst:.3g})")
        elif not np.array_equal(want, got):
            problems.append(f"{name}: {int(np.sum(want != got))} of {want.size} values differ")
    return problems


def compare_json(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Differences between two JSON values: floats beyond RTOL/ATOL, anything else not equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = [f"{where}/{key}: missing" for key in expected.keys() - actual.keys()]
        problems += [f"{where}/{key}: not in the golden file" for key in actual.keys() - expected.keys()]
        for key in expected.keys() & actual.keys():
            problems += compare_json(expected[key], actual[key], f"{where}/{key}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} items, golden {len(expected)}"]
        problems = []
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problems += compare_json(want, got, f"{where}[{i}]")
        return problems
    if isinstance(expected, float) and isinstance(actual, float | int) and not isinstance(actual, bool):
        if math.isclose(actual, expected, rel_tol=RTOL, abs_tol=ATOL):
            return []
    elif type(expected) is type(actual) and expected == actual:
        return []
    return [f"{where}: {actual!r}, golden {expected!r}"]


def main() -> int:
    """Write the golden files afresh."""
    with tempfile.TemporaryDirectory() as scratch:
        synth_arrays, synth_texts, evaluation, reconstruction = make_all(Path(scratch))
    np.savez_compressed(SYNTH_FILE, **synth_arrays)
    (GOLDEN / "synth.json").write_text(json.dumps(synth_texts, indent=1, sort_keys=True) + "\n")
    EVAL_FILE.write_text(json.dumps(evaluation, indent=1, sort_keys=True) + "\n")
    np.savez_compressed(RECONSTRUCT_FILE, **reconstruction)
    for path in (SYNTH_FILE, GOLDEN / "synth.json", EVAL_FILE, RECONSTRUCT_FILE):
        print(f"{path.relative_to(GOLDEN.parents[1])}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
