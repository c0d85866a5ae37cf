"""Ground truth for evaluation: one object's surface, IoU points and voxels, loaded into dlsr's normalised frame.

**The frame** every ground truth is brought into (the frame of dlsr's predictions, `dlsr.sdf`): ShapeNet v1's
axes (y up, front +x), bounding box centred at the origin, longest side 1.

* synth: already there (written so by `dlsr.synth`).
* r2n2: the binvox header does not place the voxels in the renderings' frame (shared/realdata/README.md); the box
  of the occupied voxel *cubes* is the rendered mesh's box (`dlsr.binvox.r2n2_frame`), so it is centred and its
  longest side scaled to 1. Axes: binvox's [x][z][y] storage is swapped to [x][y][z] on read (`dlsr.binvox`).
  There is no mesh: the surface is the boundary of the occupied cubes (`voxel_surface`).
* onet: `pointcloud.npz` and `points.npz` points are ONet's normalised ShapeNet v1 frame, which is this one
  (measured: the real table's cloud spans exactly [-0.5, 0.5] along its longest axis, centred). `loc`/`scale`
  (the way back to the raw mesh) are not used. No mesh, so no ground-truth topology. A ShapeNetCore.v2 mesh
  (when there is no `points.npz`) is turned a quarter about y into v1's axes and its bounding box put on the
  bounding box of `pointcloud.npz` (`v2_mesh_on_cloud`; Chamfer-L1 to the cloud 0.002-0.007 measured on 34
  objects); IoU points are then drawn as for a mesh and labelled by its winding number (iou_source
  "shapenet-v2 mesh"). Objects without that .obj have no IoU truth: the 128^3 `.solid.binvox` beside it was
  tried and rejected, its cells agree with the mesh's winding-number inside at IoU 0.16-0.77 only (thin parts).
* pix3d, folder: the mesh's bounding box is centred and scaled (`dlsr.groundtruth.normalise`); its axes are
  taken as they are (y up is assumed; Pix3D's front direction is not verified here).

Where the prediction's frame may differ from this one (another tool's meshes, ShapeNetCore v2 output, arrays
written with two axes swapped), `ALIGNMENTS` names the fixes that `dlsr.eval.score` applies to predictions on
request; it never picks one silently.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlsr.conventions import DEFAULT_POINTS, IOU_PADDING
from dlsr.errors import DatasetError, DlsrError
from dlsr.eval.layouts import TruthSource

if TYPE_CHECKING:
    import trimesh

ALIGNMENTS: dict[str, np.ndarray] = {
    "none": np.eye(3),
    "swap-xy": np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "swap-xz": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "swap-yz": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
    # ShapeNetCore v2 -> v1 is a quarter turn about y (dlsr.mesh_input.SHAPENET_V2_TO_V1 holds v1 -> v2's inverse).
    "v2-to-v1": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "v1-to-v2": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),
}
"""Linear maps applied to predicted vertices (row vectors: `v @ M.T`) before scoring. The swaps are reflections
(what transposing two axes of a voxel array does); the v1/v2 pair are rotations."""


@dataclass(frozen=True)
class VoxelTruth:
    """Ground-truth voxels placed in the normalised frame: cell [i, j, k] spans origin + ([i, j, k] + [0, 1]) * cell."""

    occupancy: np.ndarray  # bool (D, D, D) indexed [x][y][z]
    origin: np.ndarray  # float64 (3,) corner of cell [0, 0, 0], normalised frame
    cell: float  # side of a cell, normalised frame

    def values_at(self, values: np.ndarray, points: np.ndarray) -> np.ndarray:
        """`values` (D, D, D), laid out on this grid, at the cell each of `points` float (P, 3) falls in; points
        outside the grid get 0 (False for booleans). Returns (P,) of `values`' dtype."""
        cell = np.floor((np.asarray(points, dtype=np.float64) - self.origin) / self.cell).astype(np.int64)
        within = np.all((cell >= 0) & (cell < np.array(values.shape)), axis=1)
        found = np.zeros(len(cell), dtype=values.dtype)
        inner = cell[within]
        found[within] = values[inner[:, 0], inner[:, 1], inner[:, 2]]
        return found


@dataclass
class Truth:
    """One object's ground truth, loaded and in the normalised frame."""

    surface_points: np.ndarray  # float64 (M, 3)
    surface_normals: np.ndarray  # float64 (M, 3)
    surface_source: str  # "pointcloud.npz", "mesh" or "voxels"
    topology: tuple[float, float] = (float("nan"), float("nan"))  # (components, genus); NaN without a mesh
    iou_points: np.ndarray | None = None  # float64 (P, 3) uniform in the padded box
    occupancy: np.ndarray | None = None  # bool (P,)
    iou_source: str = ""  # "points.npz", "mesh", "shapenet-v2 mesh" or "" (none)
    voxels: VoxelTruth | None = None
    mesh: trimesh.Trimesh | None = field(default=None, repr=False)  # for pictures


def object_seed(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on `seed` and a sample or object key: the same numbers in every shard."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def load_truth(
    source: TruthSource, *, surface_points: int = DEFAULT_POINTS, iou_points: int = DEFAULT_POINTS, seed: int = 0
) -> Truth:
    """Load one object's ground truth into the normalised frame (module docstring).

    Surface samples: `pointcloud.npz` as stored (all its points, ONet's protocol) when there is one; else
    `surface_points` samples drawn uniformly by area from the mesh, or from the voxel surface. IoU points:
    `points.npz` when it holds at least `iou_points` uniform points (ONet's files: all of them; dlsr's: the
    first `uniform_count`); else `iou_points` uniform points in the padded box labelled by the mesh's winding
    number; else the uniform points of `points.npz` there are; else the same uniform points labelled by an ONet
    object's ShapeNetCore.v2 mesh (`v2_mesh_on_cloud`); else none. Uniform points depend only on `seed` and the
    object (`object_seed`).

    Raises:
        DatasetError: a file is missing or unreadable; nothing to sample a surface from.
    """
    from dlsr.metrics import topology
    from dlsr.sampling import sample_with_normals

    rng = object_seed(seed, f"{source.category}/{source.model_id}")
    mesh = _truth_mesh(source.mesh, source.mesh_normalised) if source.mesh is not None else None
    voxels = _truth_voxels(source.voxels, source.voxel_frame) if source.voxels is not None else None
    topo: tuple[float, float] = (float("nan"), float("nan"))
    if mesh is not None:
        topo = tuple(float(v) for v in topology(mesh))  # type: ignore[assignment]
    if source.pointcloud is not None:
        points, normals = _read_pointcloud(source.pointcloud)
        surface_source = "pointcloud.npz"
    elif mesh is not None:
        points, normals = sample_with_normals(mesh, surface_points, rng)
        surface_source = "mesh"
    elif voxels is not None:
        mesh = voxel_surface(voxels)
        topo = tuple(float(v) for v in topology(mesh))  # type: ignore[assignment]
        points, normals = sample_with_normals(mesh, surface_points, rng)
        surface_source = "voxels"
    else:
        raise DatasetError(f"{source.category}/{source.model_id}: no ground-truth surface (mesh, pointcloud, voxels)")
    truth = Truth(points, normals, surface_source, topo, voxels=voxels, mesh=mesh)
    stored = _read_iou_points(source.points) if source.points is not None else None
    half = (1.0 + IOU_PADDING) / 2.0
    if stored is not None and len(stored[0]) >= iou_points:
        truth.iou_points, truth.occupancy, truth.iou_source = stored[0], stored[1], "points.npz"
    elif mesh is not None and truth.surface_source != "voxels":
        uniform = rng.uniform(-half, half, size=(iou_points, 3))
        truth.iou_points, truth.occupancy, truth.iou_source = uniform, inside_mesh(mesh, uniform), "mesh"
    elif stored is not None:
        truth.iou_points, truth.occupancy, truth.iou_source = stored[0], stored[1], "points.npz"
    elif source.v2_mesh is not None:
        from dlsr.groundtruth import MeshField

        # Shown in reports; topology stays unknown (ShapeNet's meshes are polygon soups: their parts and genus are
        # not the object's).
        truth.mesh = v2_mesh_on_cloud(_truth_mesh(source.v2_mesh, True), points)
        uniform = rng.uniform(-half, half, size=(iou_points, 3))
        # Always the winding number, never ray parity: a soup of overlapping closed parts can pass as watertight,
        # and a ray through two overlapping parts crosses 4 faces and calls the point outside.
        truth.iou_points, truth.occupancy = uniform, MeshField(truth.mesh).inside(uniform)
        truth.iou_source = "shapenet-v2 mesh"
    return truth


def v2_mesh_on_cloud(mesh: trimesh.Trimesh, cloud: np.ndarray) -> trimesh.Trimesh:
    """A ShapeNetCore.v2 mesh moved onto its object's ONet surface points: turned into v1's axes
    (`ALIGNMENTS["v2-to-v1"]`), then its bounding box centred on the cloud's and scaled (uniformly) to the
    cloud's longest side.

    v2's `model_normalized` is centred with diagonal 1, ONet's frame is longest side 1 (module docstring), and
    the two differ by a small offset besides the turn (shared/realdata/README.md). Measured on the 34 objects with
    a mesh in shared/realdata and shared/realval: Chamfer-L1 to pointcloud.npz 0.0023-0.0074 (20k samples each;
    that includes the sampling spacing), and the per-axis scale ratios agree to 0.2 %, so one scale fits.

    Args:
        mesh: the v2 mesh as loaded.
        cloud: float (N, 3) the object's pointcloud.npz points, normalised frame.

    Returns:
        A moved copy, in the normalised frame.
    """
    turned = np.asarray(mesh.vertices, dtype=np.float64) @ ALIGNMENTS["v2-to-v1"].T
    low, high = turned.min(axis=0), turned.max(axis=0)
    cloud_low, cloud_high = cloud.min(axis=0), cloud.max(axis=0)
    scale = float((cloud_high - cloud_low).max() / (high - low).max())
    moved = mesh.copy()
    moved.vertices = (turned - (low + high) / 2.0) * scale + (cloud_low + cloud_high) / 2.0
    return moved


def inside_mesh(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """bool (P,): which points (P, 3) lie inside the mesh.

    A watertight mesh is tested by ray parity with embree (`trimesh.Trimesh.contains`): 25x faster than the
    winding number on 100k points (0.05-0.1 s vs 1.2-2.4 s for dlsr's procedural meshes), with identical labels
    there. Anything else (open meshes, soups, no embree) gets dlsr's ground-truth rule, |winding number| > 0.5
    (`dlsr.groundtruth.MeshField.inside`), which is robust to holes but slow.

    Raises:
        MeshError: the mesh has no usable face.
    """
    import trimesh

    if mesh.is_watertight and getattr(trimesh.ray, "has_embree", False):
        return np.asarray(mesh.contains(np.asarray(points, dtype=np.float64)), dtype=bool)
    from dlsr.groundtruth import MeshField

    return MeshField(mesh).inside(np.asarray(points, dtype=np.float64))


def voxel_surface(voxels: VoxelTruth) -> trimesh.Trimesh:
    """The boundary of the occupied cells as a triangle mesh (two triangles per exposed cell face), normalised frame.

    Used as the surface of voxel-only ground truth (3D-R2N2), so Chamfer distances and F-scores can be given
    there too; they measure against the blocky surface the voxels define, not the original mesh.
    """
    import trimesh

    occupied = np.pad(voxels.occupancy, 1)
    vertices: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    count = 0
    for axis in range(3):
        for step in (1, -1):
            # A face is exposed where an occupied cell's neighbour along (axis, step) is empty.
            exposed = occupied & ~np.roll(occupied, -step, axis=axis)
            cells = np.argwhere(exposed[1:-1, 1:-1, 1:-1]).astype(np.float64)
            if len(cells) == 0:
                continue
            u, v = [a for a in range(3) if a != axis]
            corner = cells.copy()
            corner[:, axis] += 1.0 if step > 0 else 0.0
            quad = np.repeat(corner[:, None, :], 4, axis=1)
            quad[:, 1, u] += 1.0
            quad[:, 2, u] += 1.0
            quad[:, 2, v] += 1.0
            quad[:, 3, v] += 1.0
            vertices.append(quad.reshape(-1, 3))
            index = count + 4 * np.arange(len(cells))[:, None]
            count += 4 * len(cells)
            # The quad (corner, +u, +u+v, +v) faces along e_u x e_v: +x, -y, +z for axis 0, 1, 2. The winding
            # number that labels the inside needs every face turned outwards (towards `step`).
            along = -1 if axis == 1 else 1
            order = np.array([0, 1, 2, 0, 2, 3]) if along == step else np.array([0, 2, 1, 0, 3, 2])
            faces.append((index + order).reshape(-1, 3))
    if not faces:
        raise DatasetError("the ground-truth voxel grid has no occupied cell")
    points = voxels.origin + np.concatenate(vertices) * voxels.cell
    mesh = trimesh.Trimesh(points, np.concatenate(faces), process=False)
    mesh.merge_vertices()
    return mesh


def _truth_mesh(path: Path, normalised: bool) -> trimesh.Trimesh:
    from dlsr.groundtruth import normalise
    from dlsr.mesh_input import load_mesh

    try:
        mesh = load_mesh(path)
    except DlsrError as exc:
        raise DatasetError(str(exc)) from None  # the caller says it is the ground truth
    return mesh if normalised else normalise(mesh)[0]


def _truth_voxels(path: Path, frame: str) -> VoxelTruth:
    from dlsr.binvox import read_binvox

    voxels = read_binvox(path)
    occupancy = voxels.occupancy
    size = np.array(occupancy.shape, dtype=np.float64)
    if frame == "header":
        cell = voxels.scale / float(size[0])
        return VoxelTruth(occupancy, voxels.translate.copy(), cell)
    index = np.argwhere(occupancy)
    if len(index) == 0:
        raise DatasetError(f"{path}: no occupied voxel; the ground truth is empty")
    low, high = index.min(axis=0).astype(np.float64), index.max(axis=0) + 1.0
    longest = float((high - low).max())
    # Cell i spans [i, i + 1) in index units; centre the box of occupied cubes, longest side 1.
    return VoxelTruth(occupancy, -(low + high) / 2.0 / longest, 1.0 / longest)


def _read_pointcloud(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as archive:
            points = np.asarray(archive["points"], dtype=np.float64)
            normals = np.asarray(archive["normals"], dtype=np.float64)
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing ground-truth surface samples") from None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # EOFError: an empty file
        needs = "it needs 'points' and 'normals'"
        raise DatasetError(f"{path}: unreadable pointcloud.npz ({_why(exc)}); {needs}") from None
    if points.ndim != 2 or points.shape[1] != 3 or normals.shape != points.shape or len(points) == 0:
        raise DatasetError(f"{path}: expected points and normals of one shape (N, 3), found {points.shape}")
    if not np.isfinite(points).all():
        raise DatasetError(f"{path}: holds non-finite points")
    return points, normals


def _read_iou_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as archive:
            points = np.asarray(archive["points"], dtype=np.float64)
            packed = np.asarray(archive["occupancies"])
            uniform = int(archive["uniform_count"]) if "uniform_count" in archive.files else len(points)
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing occupancy samples") from None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # EOFError: an empty file
        needs = "it needs 'points' and 'occupancies'"
        raise DatasetError(f"{path}: unreadable points.npz ({_why(exc)}); {needs}") from None
    # ONet packs occupancies into bits (np.packbits); unpacked files hold one value per point.
    occupancy = np.unpackbits(packed)[: len(points)] if packed.size < len(points) else packed.reshape(-1)
    if points.ndim != 2 or points.shape[1] != 3 or len(occupancy) != len(points):
        raise DatasetError(f"{path}: points {points.shape} and occupancies {packed.shape} do not match")
    if not np.isfinite(points).all():  # NaN points are outside everything: IoU would drift to 0 unnoticed
        raise DatasetError(f"{path}: holds non-finite points; regenerate the file")
    return points[:uniform], occupancy[:uniform].astype(bool)


def _why(exc: BaseException) -> str:
    """A reader's exception as a short reason ("empty file" for np.load's EOFError on a zero-byte file)."""
    if isinstance(exc, EOFError):
        return "empty file"
    return str(exc) or type(exc).__name__
