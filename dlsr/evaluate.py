"""Batch evaluation: reconstruct every image of a dataset split (or read another tool's meshes) and score it.

`evaluate` runs the whole job and returns an `EvalRun`; `summarise` turns result records into the per-category
table; `merge_results` joins the shards of an array job; `write_report` draws the HTML report.

**What one sample's score is.** The predicted mesh (marching cubes of the network's SDF via `dlsr.pipeline`, or a
mesh file with `predictions=`) and the ground truth (`dlsr.layouts.load_truth`) are compared in dlsr's
normalised frame (bounding box centred, longest side 1, y up, ShapeNet v1 axes) with `dlsr.metrics`:

* Chamfer-L1 / L2, normal consistency, F-score at 1 % and 2 %: `metrics.mesh_metrics` with `points` (default
  100 000) area-uniform samples of the prediction, against the object's `pointcloud.npz` as stored (ONet) or as
  many samples of the true mesh (or voxel surface). Definitions and scale factors: `dlsr.metrics`.
* IoU, protocol ``onet``: occupancy of 100 000 points uniform in the padded box (side 1.1) against the true
  labels (`points.npz`, or the true mesh's inside, `layouts.inside_mesh`, or for ONet data without points.npz its
  ShapeNetCore.v2 mesh's, `layouts.v2_mesh_on_cloud`). The model's occupancy is the sign of
  its SDF resampled exactly as for meshing (trilinear between those samples: the mesh's own inside); a mesh
  file's is `layouts.inside_mesh` (ray parity when watertight, else |winding number| > 0.5). Protocol
  ``r2n2``: the prediction voxelised like binvox
  (`groundtruth.voxelize`: cells the solid or surface passes through) on the true voxel grid, IoU over voxels.
* Topology: components and genus of the predicted and true mesh (`metrics.topology`); they match when both
  numbers are equal; unknown (None) when the truth is a point cloud.

A prediction that fails (unreadable image, no surface, missing or unreadable mesh file) scores the worst case
(`dlsr.metrics`) and is counted as a failure; a sample whose *ground truth* cannot be read is an error: it gets
no numbers, is left out of the means and makes the run exit non-zero.

**The results file** (JSON lines) starts with a header record (`"type": "header"`: dataset, layout, the full
configuration, weights and their SHA-256, library versions, total sample count, shard) followed by one
`"type": "sample"` record per sample, appended and flushed as each is computed. `resume=True` re-reads it,
drops a torn last line (a run killed mid-write), refuses a file made with other settings, and scores only the
missing samples. Random draws depend only on the seed and the sample's key, so shards, workers and resumed runs
give the same numbers as one uninterrupted run; `merge_results` checks the shards cover every sample once.

**Predictions from another tool** (`predictions=DIR`) are mesh files (.obj, .ply, .off, .stl, .glb) named
``DIR/<category>/<model_id>/<view>.<ext>`` (view as in the results: "00" for synth and 3D-R2N2, "000" for
ONet, the image's stem for Pix3D, "0" for a plain folder), or ``DIR/<category>/<model_id>.<ext>`` for one mesh
per object. They must be in the normalised frame above; `align=` applies one of `dlsr.layouts.ALIGNMENTS` to
them first, and unless `frame_check=False` the first samples are tested for a better-fitting axis permutation or
v1/v2 rotation, which stops the run with a message naming the `--align` to use (it never re-aligns silently).
Voxel predictions (.binvox, or .npy occupancy probabilities (D, D, D) indexed [x][y][z]) are taken to lie on the
ground truth's own voxel grid, as 3D-R2N2-style methods output them: protocol r2n2 compares them cell by cell
(occupied where >= `voxel_threshold`); protocol onet reads a point's cell; the surface metrics use the boundary
of the occupied cells; `align=` permutes the array's axes about its centre.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr import __version__
from dlsr.config import config_from_dict
from dlsr.conventions import AUTO_PROTOCOL, DEFAULT_MESH_RESOLUTION, DEFAULT_POINTS, PROTOCOLS, either, parse_shard
from dlsr.errors import ConfigError, DatasetError, DlsrError, EmptySurfaceError, OutputError
from dlsr.layouts import (
    ALIGNMENTS,
    Sample,
    Truth,
    TruthSource,
    category_names,
    inside_mesh,
    load_truth,
    object_seed,
    read_samples,
)

if TYPE_CHECKING:
    import trimesh

    from dlsr.nearest import NearestIndex
    from dlsr.pipeline import LoadedModel
    from dlsr.sdf import Grid

logger = logging.getLogger(__name__)

FORMAT = "dlsr-eval/1"
STATUSES = ("ok", "empty", "failed", "error")
TABLE_METRICS = (
    "iou",
    "chamfer_l1",
    "chamfer_l2",
    "normal_consistency",
    "fscore@0.01",
    "fscore@0.02",
    "topology_match",
)
"""The summary's columns, in order; means over the samples that have a value."""

VOXEL_EXTENSIONS = (".binvox", ".npy")
"""Voxel predictions: a binvox file, or a numpy (D, D, D) array of occupancy probabilities indexed [x][y][z], on
the ground truth's own voxel grid (3D-R2N2's 32^3 for its layout)."""

FRAME_CHECK_SAMPLES = 5
"""How many samples the frame check looks at before scoring starts."""
FRAME_CHECK_POINTS = 2048
FRAME_CHECK_RATIO = 0.5
"""An alignment is reported when its Chamfer-L1 is below this fraction of the chosen one's on most checked samples."""

_VERSIONED = ("numpy", "scipy", "trimesh", "scikit-image", "torch", "libigl")


@dataclass(frozen=True)
class EvalConfig:
    """Everything that decides the numbers of an evaluation (recorded in every output; resume checks it)."""

    protocol: str = "onet"  # IoU protocol: "onet" (100k points in the padded box), "r2n2" (32^3 voxels) or "auto"
    split: str = "test"  # train, val, test, or all (layouts without split lists)
    categories: tuple[str, ...] = ()  # synset ids or names; empty = all
    views: tuple[int, ...] | None = None  # view positions per object; None = all
    limit: int | None = None  # keep the first N samples of each category (before sharding)
    layout: str | None = None  # None = detect
    split_file: str | None = None  # r2n2 / pix3d: explicit split
    align: str = "none"  # a dlsr.layouts.ALIGNMENTS name applied to predictions
    points: int = DEFAULT_POINTS  # surface samples per mesh
    iou_points: int = DEFAULT_POINTS  # uniform IoU points (protocol onet)
    thresholds: tuple[float, ...] = (0.01, 0.02)  # F-score distances, fractions of the box side
    mesh_resolution: int = DEFAULT_MESH_RESOLUTION  # marching cubes on the SDF resampled to this
    level: float | None = None  # iso-level of the predicted surface; None: the weights' calibrated level
    seed: int = 0
    predictions: str | None = None  # folder of another tool's meshes (or voxel grids) instead of running the model
    voxel_threshold: float = 0.5  # voxel predictions (.npy probabilities): occupied where >= this

    def __post_init__(self) -> None:
        if self.protocol not in (*PROTOCOLS, AUTO_PROTOCOL):
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose {either((*PROTOCOLS, AUTO_PROTOCOL))}")
        if self.align not in ALIGNMENTS:
            raise ConfigError(f"unknown alignment {self.align!r}; choose one of {', '.join(ALIGNMENTS)}")
        if self.points < 1 or self.iou_points < 1:
            raise ConfigError(f"points and iou_points must be positive, got {self.points}, {self.iou_points}")
        if self.views is not None:
            _refuse_repeated_views(self.views)
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {self.limit}")
        if self.mesh_resolution < 2:
            raise ConfigError(f"--resolution must be at least 2, got {self.mesh_resolution}")
        if self.level is not None and not math.isfinite(self.level):
            raise ConfigError(f"level must be a finite iso-level in world units, got {self.level}")
        if not 0.0 < self.voxel_threshold <= 1.0:
            raise ConfigError(f"--voxel-threshold must be in (0, 1], got {self.voxel_threshold}")


@dataclass
class EvalRun:
    """What `evaluate` did."""

    results: Path  # the JSON-lines file
    header: dict[str, Any]
    summary: dict[str, Any]
    scored: int  # samples scored by this call
    skipped: int  # samples already in the file (resume)
    seconds: float


@dataclass(frozen=True)
class _Job:
    """One sample's scoring work, sent to a worker process."""

    sample: Sample
    config: EvalConfig
    sdf: np.ndarray | None = None  # float32 (R, R, R), the network's prediction
    grid: Grid | None = None
    prediction: Path | None = None  # a mesh file
    error: str | None = None  # the prediction already failed (e.g. unreadable image)


# ------------------------------------------------------------------------------------------ planning


def parse_views(text: str | None) -> tuple[int, ...] | None:
    """'all' or None -> None; '0,6,12' -> (0, 6, 12).

    Raises:
        ConfigError: not 'all' or comma-separated non-negative integers.
    """
    if text is None or text.strip().lower() == "all":
        return None
    try:
        views = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--views {text!r}: expected 'all' or view numbers like 0,6,12") from None
    if not views or min(views) < 0:
        raise ConfigError(f"--views {text!r}: expected 'all' or non-negative view numbers like 0,6,12")
    _refuse_repeated_views(views)
    return views


def _refuse_repeated_views(views: Sequence[int]) -> None:
    """A view given twice would be scored twice: two records with one key, counted twice in the means."""
    repeated = sorted({view for view in views if list(views).count(view) > 1})
    if repeated:
        listed = ",".join(str(view) for view in views)
        raise ConfigError(f"--views {listed}: view {repeated[0]} is given twice; name each view once")


def plan_samples(root: str | os.PathLike[str], config: EvalConfig) -> tuple[str, list[Sample]]:
    """The layout and the ordered, indexed samples an evaluation covers (before sharding)."""
    layout, samples = read_samples(
        root,
        layout=config.layout,
        split=config.split,
        categories=config.categories,
        views=config.views,
        split_file=config.split_file,
    )
    if config.limit is not None:
        # Per category, so a quick evaluation still covers every category.
        seen: dict[str, int] = {}
        kept = []
        for sample in samples:
            seen[sample.category] = seen.get(sample.category, 0) + 1
            if seen[sample.category] <= config.limit:
                kept.append(sample)
        samples = kept
    return layout, samples


def protocol_for(layout: str) -> str:
    """The IoU protocol the layout's ground truth supports: r2n2 for 3D-R2N2 (binvox voxels are its only truth),
    onet (points in the padded box) for every other layout."""
    return "r2n2" if layout == "r2n2" else "onet"


def in_shard(sample: Sample, shard: tuple[int, int] | None) -> bool:
    """Shards interleave (index mod n), so each gets a share of every category."""
    return shard is None or sample.index % shard[1] == shard[0]


def find_predictions(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Index a predictions folder: 'category/model_id/view' or 'category/model_id' -> mesh file.

    Raises:
        DatasetError: not a folder, or two files for one name.
    """
    from dlsr.meshio import MESH_EXTENSIONS

    extensions = (*MESH_EXTENSIONS, *VOXEL_EXTENSIONS)
    base = Path(folder)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such predictions folder")
    found: dict[str, Path] = {}
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() not in extensions or not path.is_file():
            continue
        name = path.relative_to(base).with_suffix("").as_posix()
        if name in found:
            raise DatasetError(f"{base}: both {found[name].name} and {path.name} predict {name}; keep one")
        found[name] = path
    return found


def prediction_for(sample: Sample, index: dict[str, Path]) -> Path | None:
    """The mesh file predicting `sample` (per view first, then per object), or None."""
    for name in (sample.key, f"{sample.category}/{sample.model_id}"):
        if name in index:
            return index[name]
    return None


# ------------------------------------------------------------------------------------------ results file


def make_header(
    root: str | os.PathLike[str],
    layout: str,
    config: EvalConfig,
    total: int,
    shard: tuple[int, int] | None,
    model: LoadedModel | None,
) -> dict[str, Any]:
    """The header record: what was evaluated, how, with what (resume compares everything but time and versions)."""
    weights = None
    if model is not None:
        weights = {
            "path": str(model.info.path),
            "sha256": model.info.sha256(),
            "arch": model.info.arch,
            "grid": {"resolution": model.info.grid.resolution, "bound": model.info.grid.bound},
        }
    return {
        "type": "header",
        "format": FORMAT,
        "dataset": str(Path(root).resolve()),
        "layout": layout,
        "config": _jsonable(asdict(config)),
        "weights": weights,
        "total": total,
        "shard": list(shard) if shard else None,
        "versions": versions(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def versions() -> dict[str, str]:
    """dlsr, Python and the versions of the libraries that compute the numbers."""
    from dlsr.about import library_versions

    return {"dlsr": __version__, "python": platform.python_version(), **library_versions(_VERSIONED)}


_VOLATILE = ("created_utc", "versions")


def iter_results(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Stream a results file's records (header first), one line at a time: memory does not grow with the file.

    Everything after the last newline is a write cut short by a kill (each record is one write ending in a
    newline): it is skipped. A damaged line before that is corruption.

    Raises:
        DatasetError: unreadable file, a damaged line, a second header, or records without a header.
    """
    file = Path(path)
    try:
        stream = open(file, "rb")
    except OSError as exc:
        raise DatasetError(f"{file}: cannot read results ({exc.strerror or exc})") from None
    with stream:
        seen_header = seen_records = False
        for number, line in enumerate(stream):
            if not line.endswith(b"\n"):
                return  # the torn tail of a killed run
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise DatasetError(
                    f"{file}: line {number + 1} is damaged (not a JSON object); restore the file or start over"
                )
            if record.get("type") == "header":
                if seen_header or seen_records:
                    raise DatasetError(
                        f"{file}: a second header at line {number + 1}; results files do not concatenate"
                    )
                seen_header = True
            elif not seen_header:
                raise DatasetError(f"{file}: no header line; not a `dlsr eval` results file")
            else:
                seen_records = True
            yield record


def read_results(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, list[dict[str, Any]], int]:
    """Read a whole results file: (header or None, sample records, bytes of its complete lines).

    See `iter_results` for torn and damaged lines; resume truncates the file to the returned length.
    """
    header: dict[str, Any] | None = None
    records = []
    for record in iter_results(path):
        if record.get("type") == "header":
            header = record
        else:
            records.append(record)
    return header, records, _complete_length(Path(path))


def _complete_length(path: Path) -> int:
    """Bytes up to and including the last newline (reads the tail only)."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        position = size
        while position > 0:
            start = max(0, position - (1 << 16))
            stream.seek(start)
            chunk = stream.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            position = start
    return 0


def _same_settings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of the header fields that differ (ignoring time and versions)."""
    differ = []
    for key in sorted(set(old) | set(new)):
        if key in _VOLATILE:
            continue
        if key == "config":
            differ += [
                f"config.{k}" for k in sorted(set(old[key]) | set(new[key])) if old[key].get(k) != new[key].get(k)
            ]
        elif key == "weights" and old.get(key) and new.get(key):
            # The same file may move; its content is what counts.
            if (old[key]["sha256"], old[key]["arch"]) != (new[key]["sha256"], new[key]["arch"]):
                differ.append(key)
        elif old.get(key) != new.get(key):
            differ.append(key)
    return differ


def _open_results(path: Path, header: dict[str, Any], resume: bool, overwrite: bool) -> tuple[set[str], Any]:
    """Prepare the results file; returns (keys already scored, append stream)."""
    done: set[str] = set()
    if path.exists() and path.stat().st_size > 0 and not overwrite:
        if not resume:
            raise OutputError(f"{path}: results exist; pass --resume to continue them, or --overwrite to start over")
        old = None
        for record in iter_results(path):  # streamed: only the keys are kept
            if record.get("type") == "header":
                old = record
            elif "key" in record:
                done.add(record["key"])
        good = _complete_length(path)
        if old is not None:
            differ = _same_settings(old, header)
            if differ:
                raise ConfigError(
                    f"{path}: made with other settings ({', '.join(differ)} differ); resume with the same options, "
                    "or write to another --results"
                )
        try:
            with open(path, "r+b") as handle:  # drop a torn last line before appending
                handle.truncate(good)
            if old is None:
                _append_line(path, header)
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot continue the results ({exc.strerror or exc}); make the file writable, or write to "
                "another --results"
            ) from None
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(header) + "\n")
        except OSError as exc:
            raise OutputError(f"{path}: cannot write results ({exc.strerror or exc})") from None
    try:
        stream = open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot append results ({exc.strerror or exc})") from None
    return done, stream


def _append_line(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")


# ------------------------------------------------------------------------------------------ scoring


@lru_cache(maxsize=4)
def _truth(source: TruthSource, points: int, iou_points: int, seed: int) -> Truth:
    """Per-process cache: the views of one object come together, so its ground truth is loaded once."""
    return load_truth(source, surface_points=points, iou_points=iou_points, seed=seed)


@lru_cache(maxsize=4)
def _truth_index(source: TruthSource, points: int, iou_points: int, seed: int) -> NearestIndex:
    """The KD-tree on an object's true surface samples, built once for all its views (as `_truth`)."""
    from dlsr.nearest import NearestIndex

    return NearestIndex(_truth(source, points, iou_points, seed).surface_points)


def score_job(job: _Job) -> dict[str, Any]:
    """Score one sample; never raises for data problems (they become the record's status and error).

    BLAS runs on one thread meanwhile, as in a worker process: a BLAS product's rounding depends on its thread
    count (measured: resampling the SDF for marching cubes moved Chamfer distances in the 10th digit), and a
    sample must score the same bits whether it was scored in this process or in a worker.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _score(job)


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _score(job: _Job) -> dict[str, Any]:
    started = time.perf_counter()
    sample, config = job.sample, job.config
    record: dict[str, Any] = {
        "type": "sample",
        "index": sample.index,
        "key": sample.key,
        "category": sample.category,
        "model_id": sample.model_id,
        "view": sample.view,
    }
    try:
        truth = _truth(sample.truth, config.points, config.iou_points, config.seed)
    except DlsrError as exc:
        record.update(status="error", error=f"ground truth: {exc}", seconds=round(time.perf_counter() - started, 4))
        return record
    status, error = "ok", job.error
    prediction = _Prediction(None)
    if error is None:
        try:
            prediction = _predicted(job, truth)
        except EmptySurfaceError as exc:
            status, error = "empty", str(exc)
        except DlsrError as exc:
            error = str(exc)
        except Exception as exc:  # a bug or a third-party failure on one mesh must not end a long run
            logger.exception("scoring %s failed", sample.key)
            error = f"internal error: {type(exc).__name__}: {exc}"
    if error is not None and status == "ok":
        status = "failed"
    record.update(status=status, error=error)
    true_index = _truth_index(sample.truth, config.points, config.iou_points, config.seed)
    record.update(_scores(prediction, truth, config, sample.key, true_index))
    if prediction.mesh is not None and record.get("empty"):
        record["status"] = "empty"
        record["error"] = record["error"] or "the predicted mesh has no usable faces"
    record["seconds"] = round(time.perf_counter() - started, 4)
    return record


@dataclass(frozen=True)
class _Prediction:
    """One prediction, in the aligned frame."""

    mesh: trimesh.Trimesh | None
    # The model's SDF at points float (P, 3): resampled as for meshing, interpolated trilinearly. Its sign is the
    # mesh's own inside (measured: identical labels) at a fraction of the cost of a ray or winding-number test;
    # its values are not distances.
    field: Callable[[np.ndarray], np.ndarray] | None = None
    voxels: np.ndarray | None = None  # a voxel prediction: float or bool (D, D, D) on the true voxel grid


def _predicted(job: _Job, truth: Truth) -> _Prediction:
    """The prediction of a job: a mesh file, a voxel file, or the network's SDF meshed."""
    matrix = ALIGNMENTS[job.config.align]
    if job.prediction is not None and job.prediction.suffix.lower() in VOXEL_EXTENSIONS:
        return _voxel_prediction(job.prediction, job.config, truth)
    if job.prediction is not None:
        from dlsr.meshio import load_mesh

        return _Prediction(_aligned(load_mesh(job.prediction), matrix))
    if job.sdf is None or job.grid is None:
        raise DatasetError(f"{job.sample.key}: no prediction (no mesh file and no SDF)")
    from scipy.ndimage import map_coordinates

    from dlsr.mesh import extract_mesh
    from dlsr.pipeline import resample_for_meshing

    level = job.config.level or 0.0
    fine, fine_grid = resample_for_meshing(job.sdf, job.grid, job.config.mesh_resolution)
    mesh = extract_mesh(fine, fine_grid, level)

    def field(points: np.ndarray) -> np.ndarray:
        original = np.asarray(points, dtype=np.float64).reshape(-1, 3) @ matrix  # aligned -> network frame
        values = map_coordinates(fine, fine_grid.to_index(original).T, order=1, mode="nearest")
        return np.asarray(values) - level  # negative inside the surface at `level`

    return _Prediction(_aligned(mesh, matrix), field)


def _voxel_prediction(path: Path, config: EvalConfig, truth: Truth) -> _Prediction:
    """A voxel grid prediction placed on the true voxel grid; its surface is the boundary of its occupied cells.

    `--align` acts on the array's axes about its centre (a swap transposes two axes), the way published voxel
    predictions are mis-stored.

    Raises:
        DatasetError: unreadable file, no voxel ground truth, or a grid of another shape.
        EmptySurfaceError: no voxel at or above the threshold.
    """
    from dlsr.binvox import read_binvox
    from dlsr.layouts import VoxelTruth, voxel_surface

    if truth.voxels is None:
        raise DatasetError(f"{path}: a voxel prediction needs voxel ground truth (3D-R2N2's or dlsr's model.binvox)")
    if path.suffix.lower() == ".binvox":
        values: np.ndarray = read_binvox(path).occupancy
    else:
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:  # EOFError: an empty file
            raise DatasetError(f"{path}: not a readable .npy array ({exc or 'empty file'})") from None
    expected = truth.voxels.occupancy.shape
    if values.shape != expected:
        raise DatasetError(f"{path}: voxel prediction of shape {values.shape}; the ground truth is {expected}")
    values = align_array(np.asarray(values), config.align)
    occupied = values >= config.voxel_threshold
    if not occupied.any():
        raise EmptySurfaceError(f"{path}: no voxel at or above the threshold {config.voxel_threshold}")
    mesh = voxel_surface(VoxelTruth(occupied, truth.voxels.origin, truth.voxels.cell))
    return _Prediction(mesh, voxels=values)


def align_array(values: np.ndarray, alignment: str) -> np.ndarray:
    """Apply an `ALIGNMENTS` map to a cubic array (D, D, D) indexed [x][y][z], about its centre.

    Entry i moves to i' with i' - c = M (i - c), c = (D - 1) / 2: a swap transposes two axes, a quarter turn
    transposes and flips.
    """
    matrix = ALIGNMENTS[alignment]
    source = [int(np.flatnonzero(row)[0]) for row in matrix]
    moved = np.transpose(values, source)
    for axis, row in enumerate(matrix):
        if row[source[axis]] < 0:
            moved = np.flip(moved, axis=axis)
    return np.ascontiguousarray(moved)


def _aligned(mesh: trimesh.Trimesh, matrix: np.ndarray) -> trimesh.Trimesh:
    if np.array_equal(matrix, np.eye(3)):
        return mesh
    moved = mesh.copy()
    moved.vertices = np.asarray(mesh.vertices, dtype=np.float64) @ matrix.T
    if np.linalg.det(matrix) < 0:  # a reflection turns faces inside out; keep normals outward
        moved.faces = np.asarray(mesh.faces)[:, ::-1]
    return moved


def _scores(
    prediction: _Prediction,
    truth: Truth,
    config: EvalConfig,
    key: str,
    true_index: NearestIndex | None = None,
) -> dict[str, Any]:
    from dlsr.metrics import iou_points, iou_voxels, mesh_metrics

    rng = object_seed(config.seed, key)
    mesh = prediction.mesh
    result = mesh_metrics(
        mesh,
        (truth.surface_points, truth.surface_normals),
        n_points=config.points,
        rng=rng,
        thresholds=config.thresholds,
        true_index=true_index,
    )
    empty = bool(result["empty"])
    iou: float | None = None
    iou_source = ""
    if config.protocol == "onet" and truth.iou_points is not None and truth.occupancy is not None:
        iou_source = truth.iou_source
        if empty or mesh is None:
            iou = 0.0
        else:
            inside = _inside(prediction, truth, truth.iou_points, config.voxel_threshold)
            iou = iou_points(inside, truth.occupancy)
    elif config.protocol == "r2n2" and truth.voxels is not None:
        iou_source = "voxels"
        if empty or mesh is None:
            iou = 0.0
        elif prediction.voxels is not None:  # already on the true grid: 3D-R2N2's own comparison
            iou = iou_voxels(prediction.voxels, truth.voxels.occupancy, config.voxel_threshold)
        else:
            iou = iou_voxels(_voxelise(mesh, truth), truth.voxels.occupancy)
    true_components, true_genus = truth.topology
    match = None
    if not math.isnan(true_components):
        match = int(result["components"]) == int(true_components) and int(result["genus"]) == int(true_genus)
    scores: dict[str, Any] = {k: v for k, v in result.items() if k not in ("iou", "true_components", "true_genus")}
    scores.update(
        iou=iou,
        iou_protocol=config.protocol,
        iou_source=iou_source,
        true_components=None if math.isnan(true_components) else int(true_components),
        true_genus=None if math.isnan(true_genus) else int(true_genus),
        topology_match=match,
        surface_source=truth.surface_source,
    )
    return _jsonable(scores)


def _inside(prediction: _Prediction, truth: Truth, points: np.ndarray, threshold: float) -> np.ndarray:
    """bool (P,): the prediction's occupancy at points (P, 3), aligned frame."""
    if prediction.field is not None:
        return np.asarray(prediction.field(points) < 0)
    if prediction.voxels is not None and truth.voxels is not None:  # the cell each point falls in
        return truth.voxels.values_at(np.asarray(prediction.voxels) >= threshold, points)
    if prediction.mesh is None:
        return np.zeros(len(points), dtype=bool)
    try:
        return inside_mesh(prediction.mesh, points)
    except DlsrError:  # no usable face: nothing is inside
        return np.zeros(len(points), dtype=bool)


def _voxelise(mesh: trimesh.Trimesh, truth: Truth) -> np.ndarray:
    """The predicted mesh's binvox-style voxels bool (D, D, D) on the true voxel grid (`groundtruth.voxelize`).

    Always from the mesh, also for the model: voxelising its SDF directly is 20x faster, but an SDF that nears 0
    without crossing it (a thin part lost at 32^3) then fills cells the mesh leaves empty (measured: 410 cells
    against the mesh's 330 on a 16^3 chair), so the two protocols would score different shapes.
    """
    from dlsr.groundtruth import voxelize

    voxels = truth.voxels
    if voxels is None:
        raise DatasetError("no ground-truth voxels")
    size = voxels.occupancy.shape[0]
    moved = mesh.copy()
    # voxelize's cells tile [-0.5, 0.5]^3; map the true grid's cells onto them.
    moved.vertices = (np.asarray(mesh.vertices, dtype=np.float64) - voxels.origin) / (voxels.cell * size) - 0.5
    return voxelize(moved, size, bound=0.5)


# ------------------------------------------------------------------------------------------ the run


def evaluate(
    root: str | os.PathLike[str],
    results: str | os.PathLike[str],
    config: EvalConfig = EvalConfig(),
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str = "auto",
    batch_size: int = 16,
    workers: int | None = None,
    shard: tuple[int, int] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    frame_check: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_item: Callable[[dict[str, Any]], None] | None = None,
) -> EvalRun:
    """Evaluate a model (or `config.predictions`) on a dataset split, appending one record per sample to `results`.

    Args:
        root: dataset folder (any layout of `dlsr.layouts`).
        results: JSON-lines file to write (or continue with `resume`).
        config: what to score and how; protocol "auto" becomes `protocol_for(layout)` (recorded in the header).
        weights: weights file for the model (ignored with `config.predictions`); None finds the default.
        device: torch device for the network.
        batch_size: images per forward pass on a GPU (on the CPU one image per pass, so scores do not depend on it).
        workers: processes for meshing and metrics (1: in this process); None: `dlsr.workers.auto_workers` of the
            samples to score (one per CPU for a large run). The results do not depend on it.
        shard: (i, n): score only samples with index % n == i.
        resume: continue an existing results file (not together with `overwrite`).
        overwrite: replace an existing results file.
        frame_check: test the first samples for a better alignment before scoring (see the module docstring).
        on_start: called once with (samples to score now, samples already in the file).
        on_item: called with each record as it is written.

    Returns:
        The run's results path, header, summary (of the whole file) and counts.

    Raises:
        DatasetError, ConfigError, OutputError, WeightsError: before any sample is scored.
    """
    started = time.perf_counter()
    if batch_size < 1 or (workers is not None and workers < 1):
        raise ConfigError(f"--batch-size and --workers must be at least 1, got {batch_size}, {workers}")
    if resume and overwrite:
        # Overwriting would silently throw away the samples that resume was asked to keep.
        raise ConfigError("resume continues the results file and overwrite replaces it: choose one")
    path = Path(results)
    if path.is_file() and path.stat().st_size > 0 and not (resume or overwrite):
        # Checked again when the file is opened; here so that nothing is loaded or run before the refusal.
        raise OutputError(f"{path}: results exist; pass --resume to continue them, or --overwrite to start over")
    layout, samples = plan_samples(root, config)
    if config.protocol == AUTO_PROTOCOL:  # the header records the protocol used, so resume compares that
        config = replace(config, protocol=protocol_for(layout))
    model = None
    predictions: dict[str, Path] = {}
    if config.predictions is not None:
        predictions = find_predictions(config.predictions)
    else:
        from dlsr.pipeline import load_model

        model = load_model(weights, device)
    if config.level is None:  # recorded resolved, so a resume with other weights' level is refused
        config = replace(config, level=model.info.level if model is not None else 0.0)
    header = make_header(root, layout, config, len(samples), shard, model)
    mine = [sample for sample in samples if in_shard(sample, shard)]
    if frame_check:
        # Before the results file is touched: a refusal leaves nothing behind.
        check_frames(_jobs(mine[:FRAME_CHECK_SAMPLES], config, model, predictions, batch_size))
    done, stream = _open_results(path, header, resume, overwrite)
    todo = [sample for sample in mine if sample.key not in done]
    if on_start:
        on_start(len(todo), len(mine) - len(todo))
    if workers is None:
        from dlsr.workers import auto_workers

        workers = auto_workers(len(todo))
    try:
        # closing: an interrupt here stops the workers at once, not whenever the generator is collected.
        with closing(_run_jobs(_jobs(todo, config, model, predictions, batch_size), workers)) as records:
            for record in records:
                try:
                    stream.write(json.dumps(record) + "\n")
                    stream.flush()
                except OSError as exc:  # a full disk mid-run; what was flushed so far is kept for --resume
                    raise OutputError(f"{path}: cannot append results ({exc.strerror or exc})") from None
                if on_item:
                    on_item(record)
    finally:
        stream.close()
    summary = summarise(iter_results(path), category_names(root))
    return EvalRun(path, header, summary, len(todo), len(mine) - len(todo), time.perf_counter() - started)


def _jobs(
    samples: Sequence[Sample],
    config: EvalConfig,
    model: LoadedModel | None,
    predictions: dict[str, Path],
    batch_size: int,
) -> Iterator[_Job]:
    """Jobs in sample order; `batch_size` images are read at a time, lazily, and the network runs on them together
    on a GPU, one at a time on the CPU (see below)."""
    if model is None:
        for sample in samples:
            path = prediction_for(sample, predictions)
            error = None if path is not None else f"{sample.key}: no prediction file in {config.predictions}"
            yield _Job(sample, config, prediction=path, error=error)
        return
    from dlsr.pipeline import predict_sdf

    for first in range(0, len(samples), batch_size):
        batch = samples[first : first + batch_size]
        pixels, errors = [], {}
        for sample in batch:
            try:
                pixels.append(input_pixels(sample, model))
            except DlsrError as exc:
                errors[sample.key] = str(exc)
        if model.device.type == "cpu":
            # On CPU a forward pass's rounding depends on how many images it holds (measured with the shipped
            # weights: all 16 SDFs differ in the last bits, up to 2.4e-7, between batches of 1 and 16; none
            # between positions in batches of one size), so a sample's score would depend on --batch-size, resume
            # and shards. One image per pass gives every sample the same bits, and costs nothing here (5.0 ms
            # against 5.4 ms per image on one thread).
            sdfs = iter([predict_sdf(model, [image])[0] for image in pixels])
        else:
            sdfs = iter(predict_sdf(model, pixels))
        for sample in batch:
            if sample.key in errors:
                yield _Job(sample, config, error=errors[sample.key])
            else:
                yield _Job(sample, config, sdf=next(sdfs), grid=model.info.grid)


def input_pixels(sample: Sample, model: LoadedModel) -> np.ndarray:
    """The network input uint8 (S, S, 3) for a sample's image; a Pix3D mask cuts the object out first.

    Raises:
        InputImageError: unreadable image or mask, or no object in it.
    """
    from dlsr.data import load_image

    # The same preprocessing as `dlsr reconstruct` (and training): the mask, when there is one, is the alpha.
    name = str(sample.image)
    return load_image(sample.image, model.info.preprocess, name, mask=sample.mask).pixels


def _run_jobs(jobs: Iterable[_Job], workers: int) -> Generator[dict[str, Any], None, None]:
    """Score jobs in this process or in `workers` processes (a bounded number in flight: flat memory)."""
    from dlsr.workers import map_in_workers

    yield from map_in_workers(score_job, jobs, workers)


# ------------------------------------------------------------------------------------------ frames


def frame_hint(pred_points: np.ndarray, true_points: np.ndarray) -> tuple[str, dict[str, float]]:
    """Which alignment of `pred_points` (N, 3) fits `true_points` (M, 3) best, by Chamfer-L1.

    Returns:
        (best alignment name, Chamfer-L1 under every alignment of `dlsr.layouts.ALIGNMENTS`).
    """
    from dlsr.nearest import nearest

    distances = {}
    for name, matrix in ALIGNMENTS.items():
        moved = pred_points @ matrix.T
        distances[name] = 0.5 * float(nearest(moved, true_points)[0].mean() + nearest(true_points, moved)[0].mean())
    return min(distances, key=lambda name: distances[name]), distances


def check_frames(jobs: Iterable[_Job]) -> None:
    """Refuse to score when most of the first samples fit the truth far better under another alignment.

    Raises:
        ConfigError: naming the alignment that fits, and how much better.
    """
    from dlsr.sampling import sample_surface

    votes: dict[str, list[tuple[float, float]]] = {}
    checked = 0
    current = "none"
    for job in jobs:
        current = job.config.align
        if job.error is not None:
            continue
        try:
            truth = _truth(job.sample.truth, job.config.points, job.config.iou_points, job.config.seed)
            mesh = _predicted(job, truth).mesh
        except DlsrError:
            continue  # scoring reports these; the check only needs the samples that work
        if mesh is None or len(mesh.faces) == 0 or not float(mesh.area) > 0:
            continue
        rng = object_seed(job.config.seed, "frame-check/" + job.sample.key)
        pred = sample_surface(mesh, FRAME_CHECK_POINTS, rng)[0]
        pick = rng.choice(len(truth.surface_points), size=min(FRAME_CHECK_POINTS, len(truth.surface_points)))
        best, distances = frame_hint(pred, truth.surface_points[pick])
        checked += 1
        if best != "none" and distances[best] < FRAME_CHECK_RATIO * distances["none"]:
            votes.setdefault(best, []).append((distances["none"], distances[best]))
    for name, pairs in votes.items():
        if checked and len(pairs) * 2 > checked:
            as_is = float(np.mean([a for a, _ in pairs]))
            better = float(np.mean([b for _, b in pairs]))
            raise ConfigError(
                f"the predictions do not sit in the ground truth's frame: on {len(pairs)} of the first {checked} "
                f"samples Chamfer-L1 is {as_is:.4f} as aligned (--align {current}) but {better:.4f} after a further "
                f"{name}; pass the alignment that makes them agree (e.g. --align {name} when starting from none), "
                "or --no-frame-check to score them as they are"
            )


# ------------------------------------------------------------------------------------------ summaries


def summarise(records: Iterable[dict[str, Any]], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Per-category means, class mean (mean of category means) and instance mean (mean over samples).

    Samples with status "error" (unreadable ground truth) are counted but left out of every mean; failed and
    empty predictions are in the means with their worst-case values. A metric without a value (None or NaN:
    IoU without IoU points, topology without a true mesh) is left out of that metric's mean only. Running sums,
    so memory does not grow with the number of records (means are summed in record order).

    Returns:
        JSON-able {"metrics": [...], "categories": {id: {"name", "count", "failures", "empty", "errors", <metric>:
        mean or None}}, "class_mean": {...}, "instance_mean": {...}, "count", "failures", "empty", "errors",
        "iou_sources": {the IoU truth ("points.npz", "mesh", "shapenet-v2 mesh", "voxels" or "none"): samples}}.
    """
    names = names or {}
    sums: dict[str, dict[str, list[float]]] = {}  # category -> metric -> [sum, count]
    counts: dict[str, dict[str, int]] = {}
    iou_sources: dict[str, int] = {}
    for record in records:
        if record.get("type") != "sample":
            continue
        category = record["category"]
        tally = counts.setdefault(category, dict.fromkeys(STATUSES, 0))
        tally[record["status"]] = tally.get(record["status"], 0) + 1
        if record["status"] == "error":
            continue
        source = record.get("iou_source") or "none"
        iou_sources[source] = iou_sources.get(source, 0) + 1
        column = sums.setdefault(category, {metric: [0.0, 0] for metric in TABLE_METRICS})
        for metric in TABLE_METRICS:
            value = record.get(metric)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                column[metric][0] += float(value)
                column[metric][1] += 1
    rows: dict[str, Any] = {}
    for category in sorted(counts):
        tally = counts[category]
        column = sums.get(category, {metric: [0.0, 0] for metric in TABLE_METRICS})
        row: dict[str, Any] = {
            "name": names.get(category, category),
            "count": sum(tally.values()),
            "failures": tally["failed"] + tally["empty"],
            "empty": tally["empty"],
            "errors": tally["error"],
        }
        row.update({metric: _ratio(*column[metric]) for metric in TABLE_METRICS})
        rows[category] = row
    instance = {}
    for metric in TABLE_METRICS:
        total = sum(column[metric][0] for column in sums.values())
        count = sum(column[metric][1] for column in sums.values())
        instance[metric] = _ratio(total, count)
    class_mean = {
        metric: _mean([row[metric] for row in rows.values() if row[metric] is not None]) for metric in TABLE_METRICS
    }
    return {
        "metrics": list(TABLE_METRICS),
        "categories": rows,
        "class_mean": class_mean,
        "instance_mean": instance,
        "count": sum(row["count"] for row in rows.values()),
        "failures": sum(row["failures"] for row in rows.values()),
        "empty": sum(row["empty"] for row in rows.values()),
        "errors": sum(row["errors"] for row in rows.values()),
        "iou_sources": dict(sorted(iou_sources.items())),
    }


def _ratio(total: float, count: float) -> float | None:
    return total / count if count else None


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def write_csv(summary: dict[str, Any], path: str | os.PathLike[str], header: dict[str, Any] | None = None) -> Path:
    """The summary table as CSV: one row per category, then the class mean and instance mean rows.

    With `header` (the results' header record) a first line `# {json}` records the dataset, configuration,
    weights and versions (read it back with e.g. pandas' `read_csv(..., comment="#")`).
    """
    from dlsr.files import atomic_write

    buffer = io.StringIO()
    if header is not None:
        buffer.write("# " + json.dumps({k: v for k, v in header.items() if k != "type"}) + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    metrics = summary["metrics"]
    writer.writerow(["category", "name", *metrics, "count", "failures", "empty", "errors"])
    for category, row in summary["categories"].items():
        counts = (row["count"], row["failures"], row["empty"], row["errors"])
        writer.writerow([category, row["name"], *(_cell(row[m]) for m in metrics), *counts])
    for label in ("class_mean", "instance_mean"):
        counts = (summary["count"], summary["failures"], summary["empty"], summary["errors"])
        writer.writerow([label, "", *(_cell(summary[label][m]) for m in metrics), *counts])
    return atomic_write(path, buffer.getvalue().encode())


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def merge_results(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *, overwrite: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Join the results files of `--shard i/n` runs into one, as a single run would have written it.

    Records are sorted by sample index; the header is the shards' own with `shard` None and `merged_from` added.

    Returns:
        (merged header, summary).

    Raises:
        DatasetError: files of different evaluations, a missing or repeated shard or sample.
        OutputError: the output exists (without `overwrite`) or cannot be written.
    """
    from dlsr.files import atomic_write

    if not inputs:
        raise ConfigError("dlsr eval merge needs at least one results file")
    headers = []
    for name in inputs:
        header = next(iter_results(name), None)
        if header is None:
            raise DatasetError(f"{name}: empty results file; rerun that shard")
        headers.append((name, header))
    first_name, first = headers[0]
    for name, header in headers[1:]:
        differ = _same_settings({**first, "shard": None}, {**header, "shard": None})
        if differ:
            raise DatasetError(f"{name} and {first_name} come from different evaluations ({', '.join(differ)} differ)")
    shards = [tuple(h["shard"]) if h["shard"] else None for _, h in headers]
    count = shards[0][1] if shards[0] else 1
    expected = {(i, count) for i in range(count)} if shards[0] else {None}
    if len(set(shards)) != len(shards) or set(shards) != expected:
        have = ", ".join("whole" if s is None else f"{s[0]}/{s[1]}" for s in shards)
        raise DatasetError(f"shards given: {have}; merge needs each of 0/{count} .. {count - 1}/{count} exactly once")
    # Records are kept as their JSON text, a third of the size of the parsed dicts.
    by_index: dict[int, str] = {}
    for name, _ in headers:
        for record in iter_results(name):
            if record.get("type") == "header":
                continue
            if record["index"] in by_index:
                raise DatasetError(f"sample {record['key']} appears twice across the inputs")
            by_index[record["index"]] = json.dumps(record)
    total = int(first["total"])
    missing = [i for i in range(total) if i not in by_index]
    if missing:
        raise DatasetError(
            f"{len(missing)} of {total} samples are missing (first index {missing[0]}); finish the shards with "
            "--resume, then merge"
        )
    merged_header = {**first, "shard": None, "merged_from": [str(name) for name in inputs]}

    def write(stream: Any) -> None:
        stream.write((json.dumps(merged_header) + "\n").encode())
        for index in range(total):
            stream.write((by_index[index] + "\n").encode())

    atomic_write(output, write, overwrite=overwrite)
    names = category_names(first["dataset"]) if Path(first["dataset"]).is_dir() else {}
    return merged_header, summarise(iter_results(output), names)


def _jsonable(values: Any) -> Any:
    """NaN -> None, numpy scalars -> Python, tuples -> lists, recursively (JSON has no NaN)."""
    if isinstance(values, dict):
        return {key: _jsonable(value) for key, value in values.items()}
    if isinstance(values, list | tuple):
        return [_jsonable(value) for value in values]
    if isinstance(values, np.generic):
        values = values.item()
    if isinstance(values, float) and not math.isfinite(values):
        return None
    if isinstance(values, Path):
        return str(values)
    return values


# ------------------------------------------------------------------------------------------ report


@dataclass
class _Picked:
    record: dict[str, Any]
    rank: str  # best, median, worst
    pictures: list[str] = field(default_factory=list)  # base64 PNGs: input, truth, prediction


def pick_examples(records: Iterable[dict[str, Any]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per category, the best, median and worst scored sample by IoU (by Chamfer-L1 where there is no IoU).

    Keeps a few fields per record, not the records, so it streams over any results file.
    """
    kept = ("index", "key", "category", "status", "iou", "chamfer_l1")
    by_category: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
    for record in records:
        if record.get("type") != "sample" or record["status"] == "error":
            continue
        goodness = float(record["iou"]) if record.get("iou") is not None else -float(record.get("chamfer_l1") or 9.0)
        small = {key: record.get(key) for key in kept}
        by_category.setdefault(record["category"], []).append((-goodness, record["index"], small))
    picked: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for category, group in sorted(by_category.items()):
        ordered = [item[2] for item in sorted(group, key=lambda item: (item[0], item[1]))]
        chosen = [("best", ordered[0]), ("median", ordered[len(ordered) // 2]), ("worst", ordered[-1])]
        seen: set[int] = set()
        picked[category] = []
        for rank, record in chosen:
            if record["index"] not in seen:
                seen.add(record["index"])
                picked[category].append((rank, record))
    return picked


def write_report(
    results: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str = "auto",
    picture_size: int = 160,
    overwrite: bool = True,
) -> Path:
    """One self-contained HTML page: the summary table and, per category, best/median/worst samples drawn as
    input image | ground truth | prediction (rendered with `dlsr.render`; images inlined as base64 PNG).

    Predictions are recomputed for the few samples shown (the model, or the prediction files, of the header).

    Raises:
        DatasetError: unreadable results. MissingDependencyError: the renderer (data extra) is missing.
    """
    from dlsr.files import atomic_write

    header = next(iter_results(results), None)
    if header is None:
        raise DatasetError(f"{results}: no results to report")
    config = config_from_dict(EvalConfig, header["config"], what=f"{results} header config")
    names = category_names(header["dataset"]) if Path(header["dataset"]).is_dir() else {}
    summary = summarise(iter_results(results), names)
    _, samples = plan_samples(header["dataset"], config)
    by_key = {sample.key: sample for sample in samples}
    model = None
    predictions: dict[str, Path] = {}
    if config.predictions is not None:
        predictions = find_predictions(config.predictions)
    else:
        from dlsr.pipeline import load_model

        model = load_model(weights or (header["weights"] or {}).get("path"), device)
    sections = []
    for category, chosen in pick_examples(iter_results(results)).items():
        rows = []
        for rank, record in chosen:
            sample = by_key.get(record["key"])
            pictures = _pictures(sample, config, model, predictions, picture_size) if sample else ["", "", ""]
            rows.append(_Picked(record, rank, pictures))
        sections.append((category, summary["categories"][category]["name"], rows))
    page = _html_page(header, summary, sections)
    return atomic_write(output, page.encode("utf-8"), overwrite=overwrite)


def _pictures(
    sample: Sample, config: EvalConfig, model: LoadedModel | None, predictions: dict[str, Path], size: int
) -> list[str]:
    from dlsr.data import png_bytes
    from dlsr.render import contact_sheet

    def encode(pixels: np.ndarray) -> str:
        return base64.b64encode(png_bytes(pixels)).decode("ascii")

    from PIL import Image

    blank = np.full((size, size, 3), 235, dtype=np.uint8)
    try:
        if model is not None:
            source = input_pixels(sample, model)  # what the network saw
        else:
            from dlsr.data import read_image

            source = np.asarray(read_image(sample.image).convert("RGB"))
        source = np.asarray(Image.fromarray(source).resize((size, size), Image.Resampling.LANCZOS))
    except DlsrError:
        source = blank
    truth: Truth | None = None
    truth_picture = predicted = blank
    try:
        truth = _truth(sample.truth, config.points, config.iou_points, config.seed)
        if truth.mesh is not None:
            truth_picture = contact_sheet(truth.mesh, views=1, size=size)
        else:
            truth_picture = point_picture(truth.surface_points, truth.surface_normals, size)
    except DlsrError:
        pass
    (job,) = list(_jobs([sample], config, model, predictions, 1))
    try:
        mesh = _predicted(job, truth).mesh if job.error is None and truth is not None else None
        if mesh is not None and len(mesh.faces):
            predicted = contact_sheet(mesh, views=1, size=size)
    except DlsrError:
        pass
    return [encode(source), encode(truth_picture), encode(predicted)]


def point_picture(points: np.ndarray, normals: np.ndarray, size: int) -> np.ndarray:
    """A point cloud (N, 3) with normals (N, 3) splatted from `contact_sheet`'s first view, uint8 (size, size, 3).

    For ground truth that is only a point cloud (ONet's `pointcloud.npz`): nearest point per pixel wins, grey
    shaded by |cos| between normal and view direction, so it reads like the rendered meshes beside it.
    """
    from dlsr.camera import Camera, bounding_box_diagonal, fitting_distance_ratio
    from dlsr.render import normalise_for_display

    picture = np.full((size, size, 3), 255, dtype=np.uint8)
    cloud = normalise_for_display(np.asarray(points, dtype=np.float64))
    if len(cloud) == 0:
        return picture
    camera = Camera(azimuth=45.0, elevation=25.0, distance_ratio=0.65 * bounding_box_diagonal(cloud))
    camera = camera.with_distance_ratio(max(camera.distance_ratio, fitting_distance_ratio(camera, cloud, margin=0.05)))
    pixel = np.floor(camera.project(cloud, size)).astype(np.int64)
    towards = camera.position - cloud
    depth = np.linalg.norm(towards, axis=1)
    unit = np.asarray(normals, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    shade = 0.3 + 0.6 * np.abs(np.sum(unit * towards, axis=1) / np.maximum(depth, 1e-12))
    seen = np.all((pixel >= 0) & (pixel < size), axis=1)
    order = np.argsort(-depth[seen])  # far first: nearer points overwrite them
    u, v = pixel[seen][order, 0], pixel[seen][order, 1]
    picture[v, u] = (255 * shade[seen][order, None] * np.array([0.72, 0.72, 0.72])).astype(np.uint8)
    return picture


def _html_page(header: dict[str, Any], summary: dict[str, Any], sections: list[tuple[str, str, list[_Picked]]]) -> str:
    metrics = summary["metrics"]
    esc = html.escape

    def cells(row: dict[str, Any]) -> str:
        return "".join(f"<td>{'' if row[m] is None else f'{row[m]:.4f}'}</td>" for m in metrics)

    # The table scrolls on its own when it is wider than the window, instead of running off the page.
    table = ["<div class=wide><table><tr><th>category</th>" + "".join(f"<th>{esc(m)}</th>" for m in metrics)]
    table[0] += "<th>count</th><th>failures</th></tr>"
    for category, row in summary["categories"].items():
        table.append(
            f"<tr><td>{esc(row['name'])} ({esc(category)})</td>{cells(row)}"
            f"<td>{row['count']}</td><td>{row['failures']}</td></tr>"
        )
    for label in ("class_mean", "instance_mean"):
        table.append(f"<tr class=mean><td>{label.replace('_', ' ')}</td>{cells(summary[label])}<td></td><td></td></tr>")
    table.append("</table></div>")
    body = []
    for category, name, rows in sections:
        body.append(f"<h2>{esc(name)} ({esc(category)})</h2><div class=grid>")
        for picked in rows:
            record = picked.record
            score = "" if record.get("iou") is None else f"IoU {record['iou']:.3f}, "
            caption = f"{picked.rank}: {esc(record['key'])}, {score}Chamfer-L1 {record['chamfer_l1']:.4f}"
            images = "".join(
                f'<figure><img alt="{label}" src="data:image/png;base64,{data}"><figcaption>{label}</figcaption>'
                "</figure>"
                if data
                else f"<figure><figcaption>{label}: n/a</figcaption></figure>"
                for label, data in zip(("input", "ground truth", "prediction"), picked.pictures, strict=True)
            )
            body.append(f"<div class=sample><p>{caption} ({esc(record['status'])})</p>{images}</div>")
        body.append("</div>")
    config = esc(json.dumps(header["config"]))
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>dlsr eval report</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}tr.mean{font-weight:bold}figure{display:inline-block;margin:4px}"
        "figcaption{font-size:small;text-align:center}.sample{margin-bottom:1em}.wide{overflow-x:auto}</style>"
        "</head><body>"
        f"<h1>dlsr eval: {esc(header['dataset'])}</h1>"
        f"<p>layout {esc(header['layout'])}, {summary['count']} samples, {summary['failures']} failures, "
        f"{summary['errors']} errors; dlsr {esc(header['versions']['dlsr'])}</p>"
        f"<p><small>configuration: {config}</small></p>" + "".join(table) + "".join(body) + "</body></html>\n"
    )


def with_shard_suffix(path: Path, shard: tuple[int, int] | None) -> Path:
    """results.jsonl -> results.shard-0-of-4.jsonl for a shard, unchanged otherwise."""
    if shard is None:
        return path
    return path.with_name(f"{path.stem}.shard-{shard[0]}-of-{shard[1]}{path.suffix}")


__all__ = [
    "EvalConfig",
    "EvalRun",
    "evaluate",
    "merge_results",
    "parse_shard",
    "parse_views",
    "plan_samples",
    "read_results",
    "summarise",
    "write_csv",
    "write_report",
]
