"""Ground truth of one object: signed distances, occupancy samples, surface samples and voxels from a mesh or SDF.

Everything here describes ONE shape in dlsr's normalised frame (bounding box centred at the origin, longest side
1, y up; see `dlsr.sdf`), given either as an analytic `SdfFunction` (procedural shapes, exact) or as a
`trimesh.Trimesh` (users' meshes, rarely watertight). The arrays it returns are consistent with each other: the
occupancy labels, SDF grids and voxels of a mesh all take inside/outside from the same winding-number test.

Inside/outside of a mesh is the generalised winding number w (Jacobson et al. 2013): |w| > 0.5 is inside. It is
robust to holes, open surfaces, self-intersections and polygon soups, unlike ray parity. Two cleaning steps come
first, because real meshes break the winding number otherwise:

* ShapeNet meshes are *double-sided*: every triangle is stored twice with opposite orientations, so w is exactly
  0 everywhere. Faces that repeat a vertex triple (after merging vertices by position) are kept once.
* Taking |w| rather than w makes a part whose triangles all face inwards still count as solid.

Distances are exact point-to-triangle distances from libigl's AABB tree; the sign comes from libigl's fast
winding number hierarchy. Both structures are built once per call and queried in chunks, so memory stays bounded
for any number of points. (libigl's one-call `signed_distance(..., FAST_WINDING_NUMBER)` and point-cloud-utils'
`signed_distance_to_mesh`, which returns identical values, run at the same speed but their magnitudes are off by
up to 1 % of the distance, and they rebuild both trees on every call, so chunking them costs a rebuild per chunk.
`bench/bench_groundtruth.py` measures all three.)

Voxels (`voxelize`) mark every cell the solid or its surface passes through, as binvox does, so thin parts
survive at 32^3; see its docstring for the exact rule and how it compares with real binvox files.

Every function taking a `source` also accepts a `MeshField`, so one mesh's search trees can serve several calls.

Files written from these arrays follow Occupancy Networks' formats (`points.npz`, `pointcloud.npz`), so ONet's
loaders read them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from dlsr.conventions import DEFAULT_POINTS, IOU_PADDING
from dlsr.errors import MeshError
from dlsr.sdf import Grid, SdfFunction

if TYPE_CHECKING:
    import trimesh

CHUNK_POINTS = 1 << 17
"""Points per distance query: bounds the memory of the closest-point arrays (about 40 bytes per point)."""

WINDING_ACCURACY = 2.0
"""libigl's fast winding number accuracy scale (its default; larger is more exact and slower)."""

VOXEL_REFINE_LEVELS = 3
"""Octree levels `voxelize` uses to decide whether the surface passes through a cell (leaf = cell/8)."""

_TOUCH_TOLERANCE = 1e-3
"""Depth, as a fraction of half a cell, that a surface must enter a cell by for `voxelize` to count it: less is
"touching". It absorbs rounding, e.g. binvox headers store 6 digits, which moves faces by ~1e-4 cell."""

_ANALYTIC_SURFACE_RESOLUTION = 96
"""Marching-cubes samples per axis when an analytic SDF needs surface points."""


class MeshField:
    """Signed and unsigned distance to one mesh, with the search structures built once.

    Args:
        mesh: any triangle mesh; it is not modified. Vertices are merged by position and repeated faces kept
            once (see the module docstring), which changes neither the surface nor the distances.

    Raises:
        MeshError: the mesh has no usable face.
    """

    def __init__(self, mesh: trimesh.Trimesh) -> None:
        import igl

        vertices, faces = clean_triangles(np.asarray(mesh.vertices), np.asarray(mesh.faces))
        if len(faces) == 0:
            raise MeshError("mesh has no faces with finite, distinct vertices; nothing to measure a distance to")
        self.vertices = np.ascontiguousarray(vertices, dtype=np.float64)
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        self._tree = igl.AABB()
        self._tree.init(self.vertices, self.faces)
        self._winding = igl.FastWindingNumberBVH()
        self._winding.init(self.vertices, self.faces, 2)

    def unsigned(self, points: np.ndarray) -> np.ndarray:
        """Distance float64 (N,) from each point (N, 3) to the nearest triangle."""
        return self._chunked(points, self._unsigned_chunk)

    def winding_number(self, points: np.ndarray) -> np.ndarray:
        """Generalised winding number float64 (N,) at each point (N, 3): about 1 inside, 0 outside."""
        return self._chunked(points, lambda chunk: self._winding.winding_number(chunk, WINDING_ACCURACY))

    def inside(self, points: np.ndarray) -> np.ndarray:
        """bool (N,): |winding number| > 0.5 (the absolute value makes inward-facing parts count as solid).

        Equal to `np.signbit(self.signed(points))`, at a fraction of the cost (no distance query).
        """
        return np.abs(self.winding_number(points)) > 0.5

    def signed(self, points: np.ndarray) -> np.ndarray:
        """Signed distance float64 (N,), negative inside."""
        points = _as_points(points)
        distance = self.unsigned(points)
        return np.where(self.inside(points), -distance, distance)

    def towards_surface(self, points: np.ndarray) -> np.ndarray:
        """Unit vectors float64 (N, 3) from each point (N, 3) to its closest surface point (0 on the surface)."""
        points = _as_points(points)
        closest = np.empty_like(points)
        for start in range(0, len(points), CHUNK_POINTS):
            chunk = np.ascontiguousarray(points[start : start + CHUNK_POINTS])
            closest[start : start + CHUNK_POINTS] = self._tree.squared_distance(self.vertices, self.faces, chunk)[2]
        return _unit(closest - points)

    def _unsigned_chunk(self, chunk: np.ndarray) -> np.ndarray:
        squared, _, _ = self._tree.squared_distance(self.vertices, self.faces, chunk)
        return np.sqrt(squared)

    @staticmethod
    def _chunked(points: np.ndarray, query: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        points = _as_points(points)
        out = np.empty(len(points), dtype=np.float64)
        for start in range(0, len(points), CHUNK_POINTS):
            chunk = np.ascontiguousarray(points[start : start + CHUNK_POINTS])
            out[start : start + CHUNK_POINTS] = query(chunk)
        return out


class _FunctionField:
    """The `MeshField` interface over an analytic SDF (its absolute value is the distance to the surface)."""

    def __init__(self, function: SdfFunction) -> None:
        self.function = function

    def signed(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(self.function(_as_points(points)), dtype=np.float64)

    def unsigned(self, points: np.ndarray) -> np.ndarray:
        return np.abs(self.signed(points))

    def inside(self, points: np.ndarray) -> np.ndarray:
        return np.signbit(self.signed(points))

    def towards_surface(self, points: np.ndarray) -> np.ndarray:
        """Unit vectors float64 (N, 3) along -sign(f) * grad f: the way to the zero set (central differences)."""
        points = _as_points(points)
        return _unit(-np.sign(self.signed(points))[:, None] * _gradient(self.function, points))


def clean_triangles(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices by exact position and drop unusable or repeated triangles.

    Dropped: faces touching a non-finite vertex, faces with a repeated vertex after merging, and all but the
    first of faces sharing the same three vertices (in any order, so both sides of a double-sided triangle).

    Args:
        vertices: float (V, 3).
        faces: int (F, 3) indices into `vertices`.

    Returns:
        (vertices float64 (V', 3), faces int64 (F', 3)): only referenced vertices are kept.
    """
    vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    finite = np.all(np.isfinite(vertices), axis=1)
    faces = faces[finite[faces].all(axis=1)]
    unique, inverse = np.unique(vertices, axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[faces]
    distinct = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = faces[distinct]
    _, first = np.unique(np.sort(faces, axis=1), axis=0, return_index=True)
    faces = faces[np.sort(first)]
    used, compact = np.unique(faces, return_inverse=True)
    return unique[used], compact.reshape(-1, 3).astype(np.int64)


def mesh_signed_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """Signed distance from points to a mesh: exact magnitude, winding-number sign.

    Works on open meshes, meshes with holes, self-intersecting and double-sided polygon soups (see the module
    docstring). Near a hole the sign follows the winding number, which closes the hole smoothly.

    Args:
        mesh: triangle mesh, in the same frame as `points`.
        points: float (N, 3).

    Returns:
        float64 (N,): distance to the nearest triangle, negative where |winding number| > 0.5.

    Raises:
        MeshError: the mesh has no usable face.
        ValueError: `points` is not (N, 3) or holds NaN/inf.
    """
    return MeshField(mesh).signed(points)


def sdf_grid(source: SdfFunction | trimesh.Trimesh | MeshField, grid: Grid) -> np.ndarray:
    """Signed distances at every sample of `grid` (the convention of `dlsr.sdf`).

    Args:
        source: analytic SDF or mesh, in the normalised frame.
        grid: where to sample.

    Returns:
        float32 (R, R, R), `sdf[i, j, k]` at `grid.to_world([i, j, k])`, negative inside.
    """
    field = _field(source)
    points = grid.points().reshape(-1, 3)
    return field.signed(points).astype(np.float32).reshape((grid.resolution,) * 3)


def occupancy_samples(
    source: SdfFunction | trimesh.Trimesh | MeshField,
    n: int = DEFAULT_POINTS,
    *,
    rng: np.random.Generator,
    padding: float = IOU_PADDING,
    near_surface_fraction: float = 0.5,
    sigma: float = 0.01,
    loc: np.ndarray | None = None,
    scale: float = 1.0,
    surface: trimesh.Trimesh | None = None,
) -> dict[str, np.ndarray]:
    """Points with inside/outside labels, in Occupancy Networks' `points.npz` format.

    The first `uniform_count = n - round(n * near_surface_fraction)` points are uniform in the padded cube
    `[-(1 + padding)/2, (1 + padding)/2]^3` (ONet's `boxsize = 1 + padding`); the rest are points sampled
    uniformly by area on the surface plus isotropic Gaussian noise N(0, sigma^2) per coordinate (ONet's
    `points_sigma`). Labels are the sign of the SDF evaluated at the float16-rounded points that are stored, so a
    stored point and its label always agree: `np.signbit(sdf)`, which is `sdf < 0` except that a point exactly
    on a mesh's surface (distance 0, signed -0.0 or +0.0) keeps the winding-number decision.

    Args:
        source: analytic SDF or mesh in the normalised frame.
        n: number of points.
        rng: the only source of randomness; the same seed gives the same arrays.
        padding: the uniform cube's side is 1 + padding.
        near_surface_fraction: share of the points near the surface, in [0, 1] (ONet's default data used 0).
        sigma: standard deviation of the noise added to surface points, world units.
        loc: float (3,) with `scale`: the transform back to the source mesh frame, `original = points * scale +
            loc` (ONet's meaning); defaults to zeros.
        scale: see `loc`.
        surface: a mesh of the same shape to draw the near-surface points from; for an analytic `source` this
            saves finding its zero set (a mesh whose vertices lie on the analytic surface, such as a procedural
            shape's, is exact enough: the labels still come from `source`).

    Returns:
        'points' float16 (n, 3); 'occupancies' uint8 (ceil(n/8),) = `np.packbits(inside)` (unpack with
        `np.unpackbits(occupancies)[:n]`); 'loc' float32 (3,); 'scale' float32 (); plus dlsr's extras
        'uniform_count' int64 () (how many leading points are uniform), 'padding' float32 () and 'sigma'
        float32 ().

    Raises:
        ValueError: `n` < 1, or `near_surface_fraction`, `padding` or `sigma` out of range.
        MeshError: the mesh has no usable face.
        EmptySurfaceError: an analytic SDF has no zero crossing inside the padded cube.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0.0 <= near_surface_fraction <= 1.0:
        raise ValueError(f"near_surface_fraction must be in [0, 1], got {near_surface_fraction}")
    if padding < 0 or sigma < 0:
        raise ValueError(f"padding and sigma must be >= 0, got padding={padding}, sigma={sigma}")
    field = _field(source)
    near_count = round(n * near_surface_fraction)
    uniform_count = n - near_count
    half = (1.0 + padding) / 2.0
    uniform = rng.uniform(-half, half, size=(uniform_count, 3))
    if near_count:
        if surface is not None:
            vertices = np.asarray(surface.vertices, dtype=np.float64)
            on_surface = _sample_triangles(vertices, np.asarray(surface.faces), near_count, rng)[0]
        else:
            on_surface = _surface_points(
                field if isinstance(field, MeshField) else field.function, near_count, rng, bound=half
            )
        near = on_surface + rng.normal(0.0, sigma, size=on_surface.shape)
    else:
        near = np.zeros((0, 3))
    points = np.concatenate([uniform, near]).astype(np.float16)
    # The sign alone: for a mesh that is the winding number, without the costly distance query.
    inside = field.inside(points.astype(np.float64))
    return {
        "points": points,
        "occupancies": np.packbits(inside),
        **_transform(loc, scale),
        "uniform_count": np.asarray(uniform_count, dtype=np.int64),
        "padding": np.asarray(padding, dtype=np.float32),
        "sigma": np.asarray(sigma, dtype=np.float32),
    }


def surface_samples(
    mesh: trimesh.Trimesh | MeshField,
    n: int = DEFAULT_POINTS,
    *,
    rng: np.random.Generator,
    loc: np.ndarray | None = None,
    scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Points on the surface with normals, in Occupancy Networks' `pointcloud.npz` format.

    Points are uniform by area over the triangles (each double-sided triangle counted once). Normals are face
    normals, turned to point outwards: towards the side where the winding number is nearer 0. For a watertight,
    consistently wound mesh that is its own outward normal; for soups and double-sided meshes it repairs the
    orientation the file lost.

    Args:
        mesh: triangle mesh in the normalised frame.
        n: number of points.
        rng: the only source of randomness.
        loc: float (3,) with `scale`: `original = points * scale + loc`; defaults to zeros.
        scale: see `loc`.

    Returns:
        'points' float16 (n, 3), 'normals' float16 (n, 3) unit length, 'loc' float32 (3,), 'scale' float32 ().

    Raises:
        ValueError: `n` < 1.
        MeshError: the mesh has no face with positive area.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    field = mesh if isinstance(mesh, MeshField) else MeshField(mesh)
    points, face = _sample_triangles(field.vertices, field.faces, n, rng)
    sampled, which = np.unique(face, return_inverse=True)
    normals = _outward_face_normals(field, sampled)[which]
    return {"points": points.astype(np.float16), "normals": normals.astype(np.float16), **_transform(loc, scale)}


def voxelize(
    source: SdfFunction | trimesh.Trimesh | MeshField, resolution: int = 32, *, bound: float = 0.5
) -> np.ndarray:
    """Occupancy of voxel cells: a cell is filled when the solid or the surface passes through its interior.

    The cells tile `[-bound, bound]^3`, R per axis; cell [i, j, k] is centred at `-bound + (i + 0.5) * h` (and
    likewise in y, z) with `h = 2 * bound / R`: they are the cells between the samples of `Grid(R + 1, bound)`.

    This is what binvox stores (ShapeNet's and 3D-R2N2's 32^3 `model.binvox`, ONet's `.solid.binvox`): every
    voxel the surface passes through is set and the interior is filled, so thin parts such as chair legs and
    zero-thickness sheets still show, which a test of the cell centre alone would drop. A surface that only
    touches a cell's face is not counted, as binvox does not: the binvox cube is fitted to the bounding box, so
    axis-aligned faces of CAD models lie exactly on cell faces. (A zero-thickness sheet lying exactly on a cell
    face therefore fills neither neighbour.)

    The test per cell, with d the distance from its centre to the surface: filled if the centre is inside
    (SDF < 0) or the closest surface point lies strictly inside the cell; empty if d >= h*sqrt(3)/2 (the
    surface misses the circumscribed ball). Cells in between are split into 8 children, VOXEL_REFINE_LEVELS
    times; at the last level a child is filled if the tangent plane at its closest point crosses it (exact for
    locally flat surfaces).

    Against real binvox files of double-sided ShapeNet soups (IoU, tests/test_groundtruth.py): trimesh's
    `chair_model.binvox` (32^3, 3D-R2N2 style) 0.954; ONet's 128^3 `.solid.binvox` of a bench and a table 0.976
    and 0.918, or 0.987 and 0.948 pooled to 32^3. Filling cells the surface merely touches, or testing only the
    centre, does worse on the ONet files (0.84 / 0.76 and 0.67 / 0.68 at 128^3).

    Args:
        source: analytic SDF (an exact distance outside the shape) or mesh, in the normalised frame.
        resolution: R, cells per axis.
        bound: half side of the voxelised cube.

    Returns:
        bool (R, R, R) indexed [x][y][z].

    Raises:
        ConfigError: `resolution` < 1 or `bound` <= 0.
    """
    cell_corners = Grid(resolution + 1, bound)  # validates both arguments
    field = _field(source)
    index = np.stack(np.meshgrid(*(np.arange(resolution),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    centres = cell_corners.to_world(index + 0.5)
    children = np.stack(np.meshgrid(*([-1.0, 1.0],) * 3, indexing="ij"), axis=-1).reshape(8, 3)
    filled = np.zeros(len(centres), dtype=bool)
    owner, points, half = np.arange(len(centres)), centres, cell_corners.spacing / 2.0
    margin = _TOUCH_TOLERANCE * half
    for level in range(VOXEL_REFINE_LEVELS + 1):
        if level:
            half /= 2.0
            owner = np.repeat(owner, 8)
            points = (points[:, None, :] + half * children[None]).reshape(-1, 3)
        # Signed, not unsigned: a (child) cell whose centre is inside overlaps the solid whatever the distance,
        # which also keeps the test right for SDFs that are only a lower bound of the distance inside (unions).
        signed = field.signed(points)
        # Strict inequalities, with a margin for rounding, so a surface that only touches a face stays undecided,
        # then out.
        inner = half - margin
        hit = signed < inner
        near = np.flatnonzero(~hit & (signed < np.sqrt(3.0) * half))
        if len(near):
            direction = np.abs(field.towards_surface(points[near]))
            distance = signed[near]
            inside_cell = distance * direction.max(axis=1) < inner
            if level == VOXEL_REFINE_LEVELS:
                inside_cell |= distance * direction.sum(axis=1) < inner
            hit[near] = inside_cell
        filled[owner[hit]] = True
        keep = np.zeros(len(points), dtype=bool)
        keep[near] = True
        keep &= ~filled[owner]
        owner, points = owner[keep], points[keep]
    return filled.reshape((resolution,) * 3)


def normalise(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, np.ndarray, float]:
    """Centre the bounding box at the origin and scale its longest side to 1 (dlsr's and ONet's frame).

    Args:
        mesh: any mesh; it is not modified.

    Returns:
        (normalised copy, loc float64 (3,), scale) with `original = normalised * scale + loc`: loc is the
        bounding box centre and scale its longest side.

    Raises:
        MeshError: the mesh has no vertices or all vertices coincide.
    """
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    if len(faces):  # the bounding box of the surface, not of stray unreferenced vertices
        vertices = vertices[np.unique(faces)]
    if len(vertices) == 0 or not np.isfinite(vertices).all():
        raise MeshError("cannot normalise a mesh without vertices or with non-finite vertices")
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    loc = (low + high) / 2.0
    scale = float((high - low).max())
    if not scale > 0:
        raise MeshError("cannot normalise a mesh whose vertices all coincide (zero size)")
    normalised = mesh.copy()
    normalised.vertices = (np.asarray(mesh.vertices, dtype=np.float64) - loc) / scale
    return normalised, loc, scale


def _field(source: SdfFunction | trimesh.Trimesh | MeshField) -> MeshField | _FunctionField:
    import trimesh

    if isinstance(source, MeshField):
        return source
    if isinstance(source, trimesh.Trimesh):
        return MeshField(source)
    if callable(source):
        return _FunctionField(source)
    raise TypeError(f"expected an SDF function or a trimesh.Trimesh, got {type(source).__name__}")


def _as_points(points: np.ndarray) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"expected points of shape (N, 3), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("points hold NaN or infinite values")
    return array


def _unit(vectors: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)


def _gradient(function: SdfFunction, points: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central-difference gradient float64 (N, 3) of an SDF function at points (N, 3)."""
    return np.stack(
        [(function(points + step * e) - function(points - step * e)) / (2.0 * step) for e in np.eye(3)], axis=-1
    )


def _transform(loc: np.ndarray | None, scale: float) -> dict[str, np.ndarray]:
    location = np.zeros(3) if loc is None else np.asarray(loc, dtype=np.float64).reshape(3)
    return {"loc": location.astype(np.float32), "scale": np.asarray(scale, dtype=np.float32)}


def _sample_triangles(
    vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Area-uniform points float64 (n, 3) on triangles and the index int64 (n,) of the face each lies on."""
    corners = vertices[faces]
    area = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    total = area.sum()
    if not total > 0:
        raise MeshError("mesh has no face with positive area; cannot sample its surface")
    face = rng.choice(len(faces), size=n, p=area / total)
    # Uniform barycentrics by folding the unit square onto the triangle.
    u, v = rng.random(n), rng.random(n)
    fold = u + v > 1.0
    u[fold], v[fold] = 1.0 - u[fold], 1.0 - v[fold]
    a = corners[face]
    points = a[:, 0] + u[:, None] * (a[:, 1] - a[:, 0]) + v[:, None] * (a[:, 2] - a[:, 0])
    return points, face


def _outward_face_normals(field: MeshField, faces: np.ndarray) -> np.ndarray:
    """Unit normals float64 (len(faces), 3) of the given faces, each turned away from the larger |winding number|.

    Tested once per face at its centroid, so all samples of a face share one normal and the cost is bounded by
    the number of faces sampled, not the number of samples.
    """
    corners = field.vertices[field.faces[faces]]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    centroids = corners.mean(axis=1)
    # The step must clear the float error of the centroid yet stay far below any part's thickness.
    step = 1e-4 * float(np.ptp(field.vertices, axis=0).max())
    front = np.abs(field.winding_number(centroids + step * normals))
    back = np.abs(field.winding_number(centroids - step * normals))
    return np.where((front > back)[:, None], -normals, normals)


def _surface_points(source: MeshField | SdfFunction, n: int, rng: np.random.Generator, *, bound: float) -> np.ndarray:
    """Area-uniform points float64 (n, 3) on a mesh's triangles or on an analytic SDF's zero set."""
    if isinstance(source, MeshField):
        return _sample_triangles(source.vertices, source.faces, n, rng)[0]
    from dlsr.mesh import extract_mesh

    # An analytic shape has no triangles: mesh its zero set finely, sample that, then project the samples back
    # onto the exact surface with Newton steps along the SDF gradient (the marching-cubes facets cut corners).
    grid = Grid(_ANALYTIC_SURFACE_RESOLUTION, bound + 2.0 * bound / _ANALYTIC_SURFACE_RESOLUTION)
    facets = extract_mesh(np.asarray(source(grid.points()), dtype=np.float32), grid)
    points, _ = _sample_triangles(np.asarray(facets.vertices), np.asarray(facets.faces), n, rng)
    for _ in range(3):
        gradient = _gradient(source, points)
        norm2 = np.maximum((gradient**2).sum(axis=1), 1e-12)
        points = points - (source(points) / norm2)[:, None] * gradient
    return points
