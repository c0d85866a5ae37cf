"""Single-view reconstruction metrics: IoU, Chamfer distances, normal consistency, F-score and topology.

Pure functions of arrays (numpy, or anything `np.asarray` takes; `iou_sdf` also takes torch tensors) that return
plain Python floats, or dicts of them. Every distance is in dlsr's normalised frame (bounding box centred at the
origin, longest side 1; see `dlsr.sdf`): normalising is the caller's job, so a threshold of 0.01 is 1 % of the
box side. Definitions, with P the predicted surface samples, T the true ones, d(x, S) = min_{s in S} |x - s|
(Euclidean, unsquared) and n(x) the unit normal at a sample:

* **IoU** |A ∩ B| / |A ∪ B| of two occupancy sets. `iou_points` follows Occupancy Networks (ONet's
  `compute_iou`): occupancies of 100k points drawn uniformly in the padded bounding box, a value counts as
  occupied when >= 0.5 (booleans are 0/1). `iou_voxels` follows 3D-R2N2 (`evaluate_voxel_prediction`): the
  prediction is occupied where `pred >= threshold` (>=, as 3D-R2N2's code). `iou_sdf` is the Deep Level Sets
  validation protocol: inside where the SDF is strictly negative, for the prediction and the truth alike.
  Two empty sets have IoU 1.0 here (they agree everywhere; ONet's code divides 0 by 0 and yields NaN there).
  Real ground truth is never empty, so this only decides degenerate test cases.
* **Accuracy** mean_{p in P} d(p, T); **completeness** mean_{t in T} d(t, P) (ONet's names and directions).
* **Chamfer-L1** = 0.5 * (accuracy + completeness), ONet's `chamfer-L1`. ONet's tables print it x 10 (their
  README: unit 1 = 1/10 of the box's longest edge), so a value of 0.2 in their tables is 0.02 here.
* **Chamfer-L2** = 0.5 * (mean_P d(p, T)^2 + mean_T d(t, P)^2), ONet's `chamfer-L2`: squared, not rooted.
  Other papers differ by a factor: DeepSDF reports the sum of the two means (2x this, no halving) and many
  point-set papers scale by 1000 or 10^4; convert before comparing numbers across papers.
* **Normal consistency** = 0.5 * (mean_P |n(p) . n(nn_T(p))| + mean_T |n(t) . n(nn_P(t))|), nn the nearest
  sample; the absolute value forgives flipped normals (ONet's `normals`).
* **F-score at τ** (Tatarchenko et al. 2019): precision = share of P with d(p, T) < τ, recall = share of T with
  d(t, P) < τ (strict <, as their code), F = 2PR / (P + R), and 0 when P = R = 0. τ = 0.01 and 0.02 are 1 % and
  2 % of the box side.
* **Topology** (components, genus): see `topology`.

An empty or failed prediction scores the worst case instead of raising (ONet's `EMPTY_PCL_DICT`): IoU 0,
accuracy = completeness = Chamfer-L1 = `EMPTY_CHAMFER` (√3, the diagonal of the unit box: no two points of
the normalised object are further apart), Chamfer-L2 = 3 (`EMPTY_CHAMFER_SQUARED`), normal consistency 0
(ONet writes the sentinel -1, which would pull means below any real score), precision = recall = F-score = 0,
0 components.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.conventions import DEFAULT_POINTS
from dlsr.errors import MeshError, MissingDependencyError
from dlsr.nearest import NearestIndex, as_points
from dlsr.sampling import sample_with_normals

if TYPE_CHECKING:
    import torch
    import trimesh
    from numpy.typing import ArrayLike

EMPTY_CHAMFER = math.sqrt(3.0)
"""Accuracy, completeness and Chamfer-L1 of an empty prediction: the diagonal of the unit box, in the normalised
frame the largest distance between two points of the object (ONet's value)."""

EMPTY_CHAMFER_SQUARED = 3.0
"""Mean squared distances and Chamfer-L2 of an empty prediction: `EMPTY_CHAMFER` squared, exactly."""

FSCORE_THRESHOLDS = (0.01, 0.02)
"""Default F-score distance thresholds τ: 1 % and 2 % of the bounding box side."""

OCCUPANCY_THRESHOLD = 0.5
"""Occupancy probabilities at or above this count as occupied (ONet's `compute_iou`, 3D-R2N2's default)."""


def iou_points(pred_occupancy: ArrayLike, true_occupancy: ArrayLike) -> float:
    """Volumetric IoU of two occupancy labellings of the same points (Occupancy Networks protocol).

    Args:
        pred_occupancy: bool or probability, any shape (typically (N,) for N = 100k points drawn uniformly in
            the padded bounding box); values >= 0.5 count as occupied.
        true_occupancy: the same shape, same rule.

    Returns:
        |pred ∩ true| / |pred ∪ true| over all elements; 1.0 when both are empty.

    Raises:
        ValueError: the shapes differ.
    """
    pred, true = _occupied(pred_occupancy, OCCUPANCY_THRESHOLD), _occupied(true_occupancy, OCCUPANCY_THRESHOLD)
    _check_same_shape(pred, true, "pred_occupancy", "true_occupancy")
    return _iou(pred, true)


def iou_voxels(pred: ArrayLike, true: ArrayLike, threshold: float = OCCUPANCY_THRESHOLD) -> float:
    """Voxel IoU (3D-R2N2 protocol): `pred >= threshold` against the true voxels.

    Args:
        pred: occupancy probabilities or booleans, typically (R, R, R); occupied where `pred >= threshold`.
        true: the same shape, booleans or 0/1 (occupied where >= 0.5, independent of `threshold`, so sweeping
            the threshold as 3D-R2N2 does (0.3 to 0.5) only moves the prediction).
        threshold: decision threshold on `pred`.

    Returns:
        IoU over all voxels; 1.0 when both are empty.

    Raises:
        ValueError: the shapes differ.
    """
    occupied_pred = _occupied(pred, threshold)
    occupied_true = _occupied(true, OCCUPANCY_THRESHOLD)
    _check_same_shape(occupied_pred, occupied_true, "pred", "true")
    return _iou(occupied_pred, occupied_true)


def iou_sdf(pred_sdf: np.ndarray | torch.Tensor, true_sdf: np.ndarray | torch.Tensor) -> np.ndarray:
    """Per-item IoU of the insides (SDF < 0) of two batches of grids (Deep Level Sets validation protocol).

    Torch tensors are compared on their own device and only the per-item IoUs are copied back, so validation
    on a GPU moves B numbers, not B·R³. A sample exactly at 0 (or NaN) counts as outside.

    Args:
        pred_sdf: float (..., R, R, R) numpy array or torch tensor, negative inside (the network's φ).
        true_sdf: float, the same shape (the true SDF on the same grid); numpy or torch.

    Returns:
        float64 numpy array (...) of IoUs, shape () for a single grid (`float(...)` gives the number); 1.0 for
        an item where both insides are empty.

    Raises:
        ValueError: the shapes differ or have fewer than 3 dimensions.
    """
    tensors = sys.modules.get("torch")  # a tensor can only exist if torch is already imported: no import here
    if tensors is not None and (isinstance(pred_sdf, tensors.Tensor) or isinstance(true_sdf, tensors.Tensor)):
        device = pred_sdf.device if isinstance(pred_sdf, tensors.Tensor) else true_sdf.device
        pred_t, true_t = _tensor(pred_sdf, device, tensors), _tensor(true_sdf, device, tensors)
        _check_grids(tuple(pred_t.shape), tuple(true_t.shape))
        inside_pred, inside_true = pred_t < 0, true_t < 0
        intersection = (inside_pred & inside_true).sum(dim=(-3, -2, -1))
        union = (inside_pred | inside_true).sum(dim=(-3, -2, -1))
        return _ratio(intersection.cpu().numpy(), union.cpu().numpy())
    pred_a, true_a = np.asarray(pred_sdf), np.asarray(true_sdf)
    _check_grids(pred_a.shape, true_a.shape)
    inside_pred, inside_true = pred_a < 0, true_a < 0
    axes = (-3, -2, -1)
    return _ratio(
        np.count_nonzero(inside_pred & inside_true, axis=axes), np.count_nonzero(inside_pred | inside_true, axis=axes)
    )


def chamfer_and_fscore(
    pred_points: ArrayLike,
    pred_normals: ArrayLike | None,
    true_points: ArrayLike,
    true_normals: ArrayLike | None,
    thresholds: Sequence[float] = FSCORE_THRESHOLDS,
    true_index: NearestIndex | None = None,
) -> dict[str, float]:
    """Accuracy, completeness, Chamfer-L1/L2, normal consistency and F-scores of two surface samplings.

    Definitions are in the module docstring. An empty prediction scores the worst case (no error).

    Args:
        pred_points: float (N, 3) samples of the predicted surface, normalised frame.
        pred_normals: float (N, 3) their normals (any length, normalised here; zero vectors score 0), or None.
        true_points: float (M, 3), M >= 1, samples of the true surface.
        true_normals: float (M, 3) or None.
        thresholds: F-score thresholds τ > 0, normalised units.
        true_index: a `NearestIndex` already built on `true_points` (an evaluation scores many views of one
            object against the same truth), or None to build one.

    Returns:
        'accuracy', 'completeness', 'chamfer_l1', 'accuracy_squared', 'completeness_squared', 'chamfer_l2',
        'normal_accuracy', 'normal_completeness', 'normal_consistency' (the three are NaN when either normals
        argument is None), and for each τ 'precision@τ', 'recall@τ', 'fscore@τ' with τ written by `f"{τ:g}"`
        (e.g. 'fscore@0.01').

    Raises:
        ValueError: bad shapes, no true points, non-finite coordinates, or a threshold <= 0.
    """
    taus = _thresholds(thresholds)
    pred = as_points(pred_points, "pred_points")
    true = as_points(true_points, "true_points")
    if len(true) == 0:
        raise ValueError("true_points is empty; the ground truth needs at least one surface sample")
    normals = None
    if pred_normals is not None and true_normals is not None:
        normals = (
            _unit_normals(pred_normals, len(pred), "pred_normals"),
            _unit_normals(true_normals, len(true), "true_normals"),
        )
    if len(pred) == 0:
        return _worst_case(taus, with_normals=normals is not None)

    if true_index is None:
        true_index = NearestIndex(true)
    elif len(true_index.points) != len(true):
        raise ValueError(f"true_index holds {len(true_index.points)} points, true_points {len(true)}")
    pred_index = NearestIndex(pred)
    # Each tree's leaf order is a spatially coherent order in which to query its points against the other tree.
    to_true, nearest_true = true_index.query(pred, order=pred_index.order)  # accuracy: prediction -> truth
    to_pred, nearest_pred = pred_index.query(true, order=true_index.order)  # completeness: truth -> prediction
    result = {
        "accuracy": float(to_true.mean()),
        "completeness": float(to_pred.mean()),
        "accuracy_squared": float(np.mean(to_true**2)),
        "completeness_squared": float(np.mean(to_pred**2)),
    }
    result["chamfer_l1"] = 0.5 * (result["accuracy"] + result["completeness"])
    result["chamfer_l2"] = 0.5 * (result["accuracy_squared"] + result["completeness_squared"])
    if normals is not None:
        pred_n, true_n = normals
        normal_accuracy = float(np.mean(np.abs(np.sum(pred_n * true_n[nearest_true], axis=1))))
        normal_completeness = float(np.mean(np.abs(np.sum(true_n * pred_n[nearest_pred], axis=1))))
    else:
        normal_accuracy = normal_completeness = math.nan
    result["normal_accuracy"] = normal_accuracy
    result["normal_completeness"] = normal_completeness
    result["normal_consistency"] = 0.5 * (normal_accuracy + normal_completeness)
    for tau in taus:
        precision = float(np.count_nonzero(to_true < tau)) / len(to_true)
        recall = float(np.count_nonzero(to_pred < tau)) / len(to_pred)
        result.update(_fscore_entries(tau, precision, recall))
    return result


def topology(mesh: trimesh.Trimesh) -> tuple[int, int]:
    """Connected components and total genus of a triangle mesh.

    The mesh is cleaned first as `dlsr.groundtruth.clean_triangles` does: vertices merged by exact position
    (so an unindexed triangle soup counts like the indexed mesh), faces with a non-finite or repeated vertex
    dropped, faces repeating a vertex triple kept once. Components are the connected sets of faces sharing a
    vertex. Per component with V vertices, E edges, F faces and b boundary loops (connected sets of edges used
    by one face only), the genus is g = (2 - χ - b) / 2 with χ = V - E + F: for a closed orientable surface
    (b = 0) that is χ = 2 - 2g; an open surface gets the genus of the closed surface made by capping each
    hole with a disk (a disk or open cylinder 0, a torus with a hole 1). Non-manifold or non-orientable
    components have no genus in this sense; they get max(0, floor((2 - χ - b) / 2)), an estimate.

    Args:
        mesh: any `trimesh.Trimesh` (not modified).

    Returns:
        (components, genus summed over components); (0, 0) for a mesh without usable faces.
    """
    from scipy.sparse.csgraph import connected_components

    from dlsr.groundtruth import clean_triangles

    vertices, faces = clean_triangles(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    if len(faces) == 0:
        return 0, 0
    n = len(vertices)
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    # One int64 key per edge: np.unique on a 1-D array is ~20x faster than on rows (axis=0).
    keys, faces_per_edge = np.unique(edges[:, 0] * n + edges[:, 1], return_counts=True)
    edges = np.stack([keys // n, keys % n], axis=1)
    count, labels = connected_components(_graph(edges, n), directed=False)

    v = np.bincount(labels, minlength=count)  # clean_triangles keeps only referenced vertices
    e = np.bincount(labels[edges[:, 0]], minlength=count)
    f = np.bincount(labels[faces[:, 0]], minlength=count)
    boundary = edges[faces_per_edge == 1]
    loops = np.zeros(count, dtype=np.int64)
    if len(boundary):
        _, loop_labels = connected_components(_graph(boundary, n), directed=False)
        # One boundary edge per loop names the loop's component.
        _, first_edge = np.unique(loop_labels[boundary[:, 0]], return_index=True)
        loops = np.bincount(labels[boundary[first_edge, 0]], minlength=count)
    genus = np.maximum(0, (2 - (v - e + f) - loops) // 2)
    return int(count), int(genus.sum())


def mesh_metrics(
    pred_mesh: trimesh.Trimesh | None,
    truth: trimesh.Trimesh | tuple[ArrayLike, ArrayLike] | Mapping[str, ArrayLike],
    *,
    n_points: int = DEFAULT_POINTS,
    rng: np.random.Generator | int = 0,
    thresholds: Sequence[float] = FSCORE_THRESHOLDS,
    iou_points: ArrayLike | None = None,
    true_occupancy: ArrayLike | None = None,
    true_index: NearestIndex | None = None,
) -> dict[str, float]:
    """Every metric of one predicted mesh against its ground truth, ONet's evaluation in one call.

    `n_points` samples with face normals are drawn uniformly by area from the prediction (and from the truth
    when it is a mesh; a given point cloud is used as it is, e.g. all 100k points of ONet's `pointcloud.npz`).
    An empty or failed prediction (None, no faces, zero area, a non-finite vertex) never raises: it scores the
    worst case (module docstring) with 'empty' True.

    Args:
        pred_mesh: the prediction in the normalised frame, or None when reconstruction failed.
        truth: the true surface: a mesh, a (points float (M, 3), normals float (M, 3)) pair, or a mapping with
            'points' and 'normals' (an opened `pointcloud.npz`).
        n_points: surface samples per mesh.
        rng: generator or seed for the sampling (the prediction is sampled first, then a true mesh).
        thresholds: F-score thresholds τ.
        iou_points: float (P, 3) IoU points (ONet's `points.npz`); with `true_occupancy` (bool (P,)) the
            volumetric IoU is computed, the prediction's inside being |winding number| > 0.5 as for dlsr's
            ground truth (needs libigl, the `data` extra). Without them 'iou' is NaN, except for an empty
            prediction, whose IoU against any non-empty truth is 0.
        true_occupancy: bool (P,) or None.
        true_index: a `NearestIndex` on the true points, when the truth is a point cloud scored many times.

    Returns:
        The keys of `chamfer_and_fscore`, plus 'iou', 'empty' (bool), 'components' and 'genus' (int, of the
        prediction; 0 when empty), 'true_components' and 'true_genus' (int, NaN when the truth is a point cloud).

    Raises:
        ValueError: bad arguments or a truth without samples.
        MissingDependencyError: IoU points were given and libigl is not installed.
    """
    if n_points < 1:
        raise ValueError(f"n_points must be at least 1, got {n_points}")
    if (iou_points is None) != (true_occupancy is None):
        raise ValueError("pass both iou_points and true_occupancy, or neither")
    generator = np.random.default_rng(rng)
    mesh = None if _is_empty(pred_mesh) else pred_mesh
    if mesh is None:
        pred_points, pred_normals = np.zeros((0, 3)), np.zeros((0, 3))
    else:
        pred_points, pred_normals = sample_with_normals(mesh, n_points, generator)
    if true_index is not None and not isinstance(truth, tuple | Mapping):
        raise ValueError("true_index needs a point-cloud truth: a true mesh is sampled afresh on every call")
    true_points, true_normals, true_topology = _truth_samples(truth, n_points, generator)

    result = chamfer_and_fscore(pred_points, pred_normals, true_points, true_normals, thresholds, true_index)
    if mesh is None:
        result["iou"] = 0.0
    elif iou_points is not None and true_occupancy is not None:  # checked above: both or neither
        result["iou"] = _mesh_iou(mesh, iou_points, true_occupancy)
    else:
        result["iou"] = math.nan
    components, genus = (0, 0) if mesh is None else topology(mesh)
    result.update({"empty": mesh is None, "components": components, "genus": genus})
    result.update({"true_components": true_topology[0], "true_genus": true_topology[1]})
    return result


def _mesh_iou(mesh: trimesh.Trimesh, points: ArrayLike, true_occupancy: ArrayLike) -> float:
    """IoU of the mesh's inside (|winding number| > 0.5, dlsr's ground-truth rule) at `points` (P, 3) with
    `true_occupancy` (P,). Needs libigl (the `data` extra)."""
    try:
        from dlsr.groundtruth import MeshField

        inside = MeshField(mesh).inside(as_points(points, "iou_points"))
    except ImportError as exc:
        raise MissingDependencyError(
            "the IoU of a mesh needs libigl's winding numbers, which is not installed; "
            "install the data extra: pip install 'dlsr[data]' (or pip install libigl)"
        ) from exc
    except MeshError:  # no usable face after cleaning: as empty as a mesh can be
        return 0.0
    return iou_points(inside, true_occupancy)


def _tensor(values: Any, device: Any, tensors: Any) -> Any:
    """`values` as a tensor on `device`, detached; a read-only array is copied (torch cannot wrap one)."""
    if isinstance(values, tensors.Tensor):
        return values.detach().to(device)
    array = np.asarray(values)
    return tensors.as_tensor(array if array.flags.writeable else array.copy(), device=device)


def _occupied(values: ArrayLike, threshold: float) -> np.ndarray:
    array = np.asarray(values)
    return array if array.dtype == bool else array >= threshold


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(_ratio(np.count_nonzero(a & b), np.count_nonzero(a | b)))


def _ratio(intersection: Any, union: Any) -> np.ndarray:
    """intersection / union as float64, 1.0 where the union is empty (two empty sets agree)."""
    intersection = np.asarray(intersection, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    return np.divide(intersection, union, out=np.ones_like(union), where=union > 0)


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def _check_grids(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> None:
    if shape_a != shape_b or len(shape_a) < 3:
        raise ValueError(f"pred_sdf and true_sdf must both be (..., R, R, R) of one shape, got {shape_a}, {shape_b}")


def _unit_normals(normals: ArrayLike, count: int, name: str) -> np.ndarray:
    array = np.asarray(normals, dtype=np.float64)
    if array.shape != (count, 3):
        raise ValueError(f"{name} must be ({count}, 3) like its points, got shape {array.shape}")
    length = np.linalg.norm(array, axis=1, keepdims=True)
    # A zero normal (degenerate face, float16 underflow) stays zero and so scores |cos| = 0, not NaN.
    return np.divide(array, length, out=np.zeros_like(array), where=length > 0)


def _thresholds(thresholds: Sequence[float]) -> tuple[float, ...]:
    taus = tuple(float(t) for t in thresholds)
    if not all(t > 0 for t in taus):
        raise ValueError(f"F-score thresholds must be positive distances, got {taus}")
    return taus


def _fscore_entries(tau: float, precision: float, recall: float) -> dict[str, float]:
    fscore = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {f"precision@{tau:g}": precision, f"recall@{tau:g}": recall, f"fscore@{tau:g}": fscore}


def _worst_case(taus: Sequence[float], with_normals: bool) -> dict[str, float]:
    normal = 0.0 if with_normals else math.nan
    result = {
        "accuracy": EMPTY_CHAMFER,
        "completeness": EMPTY_CHAMFER,
        "accuracy_squared": EMPTY_CHAMFER_SQUARED,
        "completeness_squared": EMPTY_CHAMFER_SQUARED,
        "chamfer_l1": EMPTY_CHAMFER,
        "chamfer_l2": EMPTY_CHAMFER_SQUARED,
        "normal_accuracy": normal,
        "normal_completeness": normal,
        "normal_consistency": normal,
    }
    for tau in taus:
        result.update(_fscore_entries(tau, 0.0, 0.0))
    return result


def _is_empty(mesh: trimesh.Trimesh | None) -> bool:
    """True for a missing or unusable prediction: None, no faces, zero area or a non-finite vertex."""
    if mesh is None or len(mesh.faces) == 0:
        return True
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    return not np.isfinite(vertices).all() or not float(mesh.area) > 0


def _truth_samples(
    truth: Any, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """(points, normals, (components, genus)) of the ground truth; topology is NaN for a point cloud."""
    if isinstance(truth, Mapping):
        missing = {"points", "normals"} - set(truth)
        if missing:
            raise ValueError(f"a ground-truth point cloud needs 'points' and 'normals', missing {sorted(missing)}")
        return np.asarray(truth["points"]), np.asarray(truth["normals"]), (math.nan, math.nan)
    if isinstance(truth, tuple):
        if len(truth) != 2:
            raise ValueError(f"a ground-truth point cloud is a (points, normals) pair, got {len(truth)} items")
        return np.asarray(truth[0]), np.asarray(truth[1]), (math.nan, math.nan)
    if _is_empty(truth):
        raise ValueError("the ground-truth mesh has no usable faces (none, zero area or non-finite vertices)")
    points, normals = sample_with_normals(truth, count, rng)
    return points, normals, topology(truth)


def _graph(edges: np.ndarray, n: int) -> Any:
    """Sparse adjacency (n, n) of undirected `edges` (K, 2)."""
    from scipy.sparse import coo_matrix

    return coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
