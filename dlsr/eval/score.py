"""Scoring one sample: its prediction (a mesh file, voxels, or the network's SDF meshed) against its ground truth."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.errors import DatasetError, DlsrError, EmptySurfaceError
from dlsr.eval.config import VOXEL_EXTENSIONS, EvalConfig
from dlsr.eval.layouts import Sample, TruthSource
from dlsr.eval.results import jsonable
from dlsr.eval.truth import ALIGNMENTS, Truth, inside_mesh, load_truth, object_seed

if TYPE_CHECKING:
    import trimesh

    from dlsr.nearest import NearestIndex
    from dlsr.sdf import Grid

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One sample's scoring work, sent to a worker process."""

    sample: Sample
    config: EvalConfig
    sdf: np.ndarray | None = None  # float32 (R, R, R), the network's prediction
    grid: Grid | None = None
    prediction: Path | None = None  # a mesh file
    error: str | None = None  # the prediction already failed (e.g. unreadable image)


@lru_cache(maxsize=4)
def cached_truth(source: TruthSource, points: int, iou_points: int, seed: int) -> Truth:
    """Per-process cache: the views of one object come together, so its ground truth is loaded once."""
    return load_truth(source, surface_points=points, iou_points=iou_points, seed=seed)


@lru_cache(maxsize=4)
def cached_truth_index(source: TruthSource, points: int, iou_points: int, seed: int) -> NearestIndex:
    """The KD-tree on an object's true surface samples, built once for all its views (as `_truth`)."""
    from dlsr.nearest import NearestIndex

    return NearestIndex(cached_truth(source, points, iou_points, seed).surface_points)


def score_job(job: Job) -> dict[str, Any]:
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


def _score(job: Job) -> dict[str, Any]:
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
        truth = cached_truth(sample.truth, config.points, config.iou_points, config.seed)
    except DlsrError as exc:
        record.update(status="error", error=f"ground truth: {exc}", seconds=round(time.perf_counter() - started, 4))
        return record
    status, error = "ok", job.error
    prediction = _Prediction(None)
    if error is None:
        try:
            prediction = predicted(job, truth)
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
    true_index = cached_truth_index(sample.truth, config.points, config.iou_points, config.seed)
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


def predicted(job: Job, truth: Truth) -> _Prediction:
    """The prediction of a job: a mesh file, a voxel file, or the network's SDF meshed."""
    matrix = ALIGNMENTS[job.config.align]
    if job.prediction is not None and job.prediction.suffix.lower() in VOXEL_EXTENSIONS:
        return _voxel_prediction(job.prediction, job.config, truth)
    if job.prediction is not None:
        from dlsr.mesh_input import load_mesh

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
    from dlsr.eval.truth import VoxelTruth, voxel_surface

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
    return jsonable(scores)


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
