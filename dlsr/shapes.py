"""Procedural training objects: randomised part assemblies standing in for the 13 ShapeNet categories.

ShapeNet cannot be shipped or downloaded here, so dlsr trains on objects it makes itself. This module owns:

* `Part`: one primitive (box, rounded box, ellipsoid, torus, solid of revolution, extruded polygon, tube along a
  polyline, or the intersection / difference of such parts) placed by a rigid motion. Each part knows its signed
  distance (exact for every primitive except the ellipsoid, whose sign is exact and distance a close
  approximation; intersections and differences are bounds) and its triangle mesh (manifold3d).
* `Shape`: the union of some parts minus the union of some holes, in the normalised frame. `Shape.sdf` is the
  matching analytic field (union = min, subtraction = max(a, -b)); `Shape.mesh` is one watertight mesh made with
  manifold3d booleans; `Shape.mesh_with_labels` also says which part each face came from.
* `generate(category, seed)`: one deterministic random object of a category; `CATEGORIES` lists them.

Canonical frame (ShapeNet v1 as 3D-R2N2 uses it; checked on the real samples in `shared/realdata`):

* +y is up; objects stand on the bottom face of their box (a sailboat's keel reaches down to it).
* +x is the front. A chair's backrest is on its -x side, so a sitter looks towards +x: measured on both 3D-R2N2
  chair voxel grids and on trimesh's ShapeNet chair mesh (the tall part of the chair is at low x). The ShapeNet v2
  bench, turned into the v1 frame (x1 = -z2), also has its backrest at -x and its length along z; the v2 table's
  long side also maps to z. So benches, sofas, tables and cabinets are wide along z and face +x.
* Categories without a real sample here follow the same convention: the object's front faces +x. Vehicles and
  long objects point their front along +x (airplane nose, car bonnet, rifle muzzle, ship bow), displays,
  loudspeakers, cabinets and phones show their screen / drivers / doors towards +x (phones stand upright, as
  ShapeNet's cellphones do), and a lamp's arm reaches towards +x.
* Normalisation: the bounding box of the mesh is centred at the origin and scaled so its longest side is 1
  (the dlsr convention of `dlsr.sdf`); parts, holes, field and mesh all live in that frame.

`Shape.mesh_with_labels` labels a face with the index of its part in `Shape.parts`, or with
`len(parts) + j` when the face lies on the surface cut by hole `j`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dlsr.errors import ConfigError

if TYPE_CHECKING:
    import trimesh

__all__ = ["CATEGORIES", "Part", "PartKind", "Shape", "category_id", "generate"]

CATEGORIES: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "loudspeaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}
"""ShapeNet synset id -> category name, for the 13 categories single-view reconstruction is benchmarked on."""

PartKind = Literal["box", "round_box", "ellipsoid", "torus", "revolve", "extrude", "tube", "intersection", "difference"]
PART_KINDS: tuple[str, ...] = PartKind.__args__  # type: ignore[attr-defined]

_IDENTITY: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

_CHORD_TOLERANCE = 0.0015
"""Largest gap between a curved surface and its tessellation, in generator units (objects are built about one
unit across, so about 0.15 % of the final box): far below the 0.01 the mesh/SDF agreement is tested at."""


# ---------------------------------------------------------------------------------------------------------------
# Parts: exact signed distances and meshes of placed primitives


@dataclass(frozen=True)
class Part:
    """One primitive placed by a rigid motion: `world = rotation @ local + translation`.

    Local shapes, by `kind` (all lengths in world units; `size` holds lengths only, so scaling is uniform):

    * "box": `size = (hx, hy, hz)` half extents, centred at the origin.
    * "round_box": `size = (hx, hy, hz, r)`: the box of those half extents with edges rounded by radius r.
    * "ellipsoid": `size = (rx, ry, rz)` semi-axes (a sphere when equal).
    * "torus": `size = (R, r)`: ring of radius R around the local y axis, tube radius r.
    * "revolve": `profile` = polygon in the (radius, y) half plane (radius >= 0), revolved about local y.
    * "extrude": `profile` = polygon in local (x, y), extruded along local z over `size = (half_depth,)`.
    * "tube": a round tube of `size = (r,)` along the polyline `path` with round ends (a chain of capsules).
    * "intersection" / "difference": `children[0]` intersected with / minus the union of `children[1:]`, each
      placed in this part's local frame.

    `segments` is the number of facets around a full circle of the tessellation (0 for flat kinds); `name`
    says what the part is ("seat", "leg") and plays no role in geometry.
    """

    kind: PartKind
    size: tuple[float, ...] = ()
    profile: tuple[tuple[float, float], ...] = ()
    path: tuple[tuple[float, float, float], ...] = ()
    children: tuple[Part, ...] = ()
    rotation: tuple[float, ...] = _IDENTITY  # row-major 3x3 rotation, local -> parent
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    segments: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PART_KINDS:
            raise ValueError(f"unknown part kind {self.kind!r}; use one of {', '.join(PART_KINDS)}")
        expected = {"box": 3, "round_box": 4, "ellipsoid": 3, "torus": 2, "extrude": 1, "tube": 1}
        if self.kind in expected and len(self.size) != expected[self.kind]:
            raise ValueError(f"a {self.kind} part needs {expected[self.kind]} sizes, got {len(self.size)}")
        if any(not s > 0 for s in self.size):
            raise ValueError(f"part sizes must be positive, got {self.size} for a {self.kind}")
        if self.kind == "round_box" and self.size[3] > min(self.size[:3]):
            raise ValueError(f"round_box radius {self.size[3]} exceeds its smallest half extent {self.size[:3]}")
        if self.kind == "torus" and self.size[1] >= self.size[0]:
            raise ValueError(f"torus tube radius {self.size[1]} must be below its ring radius {self.size[0]}")
        if self.kind in ("revolve", "extrude") and len(self.profile) < 3:
            raise ValueError(f"a {self.kind} part needs a profile polygon of at least 3 points")
        if self.kind == "revolve" and min(r for r, _ in self.profile) < 0:
            raise ValueError("a revolve profile must lie in the half plane radius >= 0")
        if self.kind == "tube" and len(self.path) < 2:
            raise ValueError("a tube part needs a path of at least 2 points")
        if self.kind in ("intersection", "difference") and len(self.children) < 2:
            raise ValueError(f"an {self.kind} part needs at least 2 children")
        if len(self.rotation) != 9 or len(self.translation) != 3:
            raise ValueError("rotation must have 9 entries (row-major 3x3) and translation 3")

    # -- geometry ---------------------------------------------------------------------------------------------

    @property
    def matrix(self) -> np.ndarray:
        """float64 (3, 3) rotation, local -> parent."""
        return np.asarray(self.rotation, dtype=np.float64).reshape(3, 3)

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """Signed distance float64 (N,) at parent-frame points float (N, 3); negative inside."""
        local = (np.asarray(points, dtype=np.float64) - np.asarray(self.translation)) @ self.matrix
        d = _LOCAL_SDF[self.kind](self, local)
        if self.kind in _BOUND_KINDS:
            # These fields only bound the distance. The distance to the part's box bounds it from below too, often
            # more tightly, and using it keeps `Shape.sdf`'s bounding-box culling exact.
            d = np.maximum(d, _box_lower_bound(local, np.stack(_local_bounds(self))))
        return d

    def bounds(self) -> np.ndarray:
        """float64 (2, 3): a box in the parent frame that contains the part (corners lo, hi)."""
        lo, hi = _local_bounds(self)
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        world = corners @ self.matrix.T + np.asarray(self.translation)
        return np.stack([world.min(axis=0), world.max(axis=0)])

    def moved(self, rotation: np.ndarray, translation: Sequence[float] | np.ndarray) -> Part:
        """This part after the rigid motion `p -> rotation @ p + translation` of its parent frame."""
        r = np.asarray(rotation, dtype=np.float64)
        return _with_pose(self, r @ self.matrix, r @ np.asarray(self.translation) + np.asarray(translation))

    def scaled(self, factor: float, offset: Sequence[float] | np.ndarray = (0.0, 0.0, 0.0)) -> Part:
        """This part after the similarity `p -> factor * p + offset` (factor > 0) of its parent frame."""
        if not factor > 0:
            raise ValueError(f"scale factor must be positive, got {factor}")
        f = float(factor)
        return Part(
            kind=self.kind,
            size=tuple(f * s for s in self.size),
            profile=tuple((f * u, f * v) for u, v in self.profile),
            path=tuple((f * x, f * y, f * z) for x, y, z in self.path),
            children=tuple(child.scaled(f) for child in self.children),
            rotation=self.rotation,
            translation=_tuple3(f * np.asarray(self.translation) + np.asarray(offset, dtype=np.float64)),
            segments=self.segments,
            name=self.name,
        )

    def manifold(self) -> Any:
        """This part as a `manifold3d.Manifold` in the parent frame (raises if the tessellation is invalid)."""
        m3 = _manifold3d()
        local = _LOCAL_MESH[self.kind](self, m3)
        matrix = np.hstack([self.matrix, np.asarray(self.translation)[:, None]])
        placed = local.transform(matrix)
        _check_manifold(placed, f"{self.kind} part {self.name!r}")
        return placed


def _tuple3(v: Iterable[float]) -> tuple[float, float, float]:
    x, y, z = (float(c) for c in v)
    return (x, y, z)


def _with_pose(part: Part, rotation: np.ndarray, translation: np.ndarray) -> Part:
    return Part(
        kind=part.kind,
        size=part.size,
        profile=part.profile,
        path=part.path,
        children=part.children,
        rotation=tuple(float(v) for v in np.asarray(rotation).reshape(9)),
        translation=_tuple3(translation),
        segments=part.segments,
        name=part.name,
    )


# Local signed distances (Inigo Quilez's formulas, rewritten vectorised). `p` is float64 (N, 3) in the part frame.


def _sdf_box(part: Part, p: np.ndarray) -> np.ndarray:
    return _box_distance(p, np.asarray(part.size))


def _box_distance(p: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Exact distance float (N,) from points (N, 3) to the box of half extents `half` centred at 0."""
    qx, qy, qz = (np.abs(p[:, k]) - half[k] for k in range(3))
    outside = np.sqrt(np.maximum(qx, 0.0) ** 2 + np.maximum(qy, 0.0) ** 2 + np.maximum(qz, 0.0) ** 2)
    return outside + np.minimum(np.maximum(np.maximum(qx, qy), qz), 0.0)


def _sdf_round_box(part: Part, p: np.ndarray) -> np.ndarray:
    hx, hy, hz, r = part.size
    return _box_distance(p, np.array([hx - r, hy - r, hz - r])) - r


def _sdf_ellipsoid(part: Part, p: np.ndarray) -> np.ndarray:
    # Quilez's bound k0 (k0 - 1) / k1: exact sign, exact for spheres, within a few percent near the surface.
    radii = np.asarray(part.size)
    k0 = np.linalg.norm(p / radii, axis=-1)
    k1 = np.linalg.norm(p / radii**2, axis=-1)
    centre = k1 < 1e-12
    d = np.empty(len(p))
    d[~centre] = k0[~centre] * (k0[~centre] - 1.0) / k1[~centre]
    d[centre] = -radii.min()
    return d


def _sdf_torus(part: Part, p: np.ndarray) -> np.ndarray:
    ring, tube = part.size
    return np.hypot(np.hypot(p[:, 0], p[:, 2]) - ring, p[:, 1]) - tube


def _sdf_revolve(part: Part, p: np.ndarray) -> np.ndarray:
    # The nearest surface point lies in the plane through the axis and p, where the solid's section is the profile
    # together with its mirror image across the axis; edges lying on the axis are interior to that section.
    profile = np.asarray(part.profile)
    mirror = profile[::-1] * np.array([-1.0, 1.0])
    a, b = _polygon_edges([profile, mirror])
    on_axis = (np.abs(a[:, 0]) < 1e-12) & (np.abs(b[:, 0]) < 1e-12)
    q = np.stack([np.hypot(p[:, 0], p[:, 2]), p[:, 1]], axis=-1)
    return _polygon_distance(q, a[~on_axis], b[~on_axis])


def _sdf_extrude(part: Part, p: np.ndarray) -> np.ndarray:
    a, b = _polygon_edges([np.asarray(part.profile)])
    d2 = _polygon_distance(p[:, :2], a, b)
    w = np.stack([d2, np.abs(p[:, 2]) - part.size[0]], axis=-1)
    return np.minimum(w.max(axis=-1), 0.0) + np.linalg.norm(np.maximum(w, 0.0), axis=-1)


def _sdf_tube(part: Part, p: np.ndarray) -> np.ndarray:
    path = np.asarray(part.path)
    d = np.full(len(p), np.inf)
    for a, b in itertools.pairwise(path):
        d = np.minimum(d, _segment_distance(p, a, b))
    return d - part.size[0]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip((p - a) @ ab / max(float(ab @ ab), 1e-300), 0.0, 1.0)
    return np.linalg.norm(p - a - t[:, None] * ab, axis=-1)


def _sdf_intersection(part: Part, p: np.ndarray) -> np.ndarray:
    return np.max([child.sdf(p) for child in part.children], axis=0)


def _sdf_difference(part: Part, p: np.ndarray) -> np.ndarray:
    cut = np.min([child.sdf(p) for child in part.children[1:]], axis=0)
    return np.maximum(part.children[0].sdf(p), -cut)


def _polygon_edges(contours: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points float (M, 2) of the closed contours' edges."""
    starts = np.concatenate([np.asarray(c, dtype=np.float64) for c in contours])
    ends = np.concatenate([np.roll(np.asarray(c, dtype=np.float64), -1, axis=0) for c in contours])
    return starts, ends


def _polygon_distance(q: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Exact signed distance float (N,) from 2-D points q (N, 2) to the region bounded by the given edges.

    Inside is decided by the even-odd rule (a crossing count), so several contours, holes and doubled edges work.
    One edge at a time keeps memory at O(N) for the 100k-point grids this runs on; the coordinates are kept in
    separate contiguous arrays because numpy reduces over a length-2 axis slowly.
    """
    qx, qy = np.ascontiguousarray(q[:, 0]), np.ascontiguousarray(q[:, 1])
    d2 = np.full(len(q), np.inf)
    inside = np.zeros(len(q), dtype=bool)
    for (ax, ay), (bx, by) in zip(starts.tolist(), ends.tolist(), strict=True):
        ex, ey = bx - ax, by - ay
        wx, wy = qx - ax, qy - ay
        t = (wx * ex + wy * ey) * (1.0 / max(ex * ex + ey * ey, 1e-300))
        np.clip(t, 0.0, 1.0, out=t)
        wx -= t * ex
        wy -= t * ey
        np.minimum(d2, wx * wx + wy * wy, out=d2)
        if ey != 0.0:
            crosses = (ay <= qy) != (by <= qy)
            inside ^= crosses & (qx < ax + (qy - ay) * (ex / ey))
    return np.where(inside, -1.0, 1.0) * np.sqrt(d2)


_BOUND_KINDS = frozenset({"ellipsoid", "intersection", "difference"})
"""Kinds whose field is a bound on the distance rather than the exact distance (the sign is always exact)."""

_LOCAL_SDF: dict[str, Callable[[Part, np.ndarray], np.ndarray]] = {
    "box": _sdf_box,
    "round_box": _sdf_round_box,
    "ellipsoid": _sdf_ellipsoid,
    "torus": _sdf_torus,
    "revolve": _sdf_revolve,
    "extrude": _sdf_extrude,
    "tube": _sdf_tube,
    "intersection": _sdf_intersection,
    "difference": _sdf_difference,
}


def _local_bounds(part: Part) -> tuple[np.ndarray, np.ndarray]:
    kind, s = part.kind, np.asarray(part.size)
    if kind in ("box", "round_box", "ellipsoid"):
        return -s[:3], s[:3]
    if kind == "torus":
        outer = s[0] + s[1]
        return np.array([-outer, -s[1], -outer]), np.array([outer, s[1], outer])
    if kind == "revolve":
        prof = np.asarray(part.profile)
        r = prof[:, 0].max()
        return np.array([-r, prof[:, 1].min(), -r]), np.array([r, prof[:, 1].max(), r])
    if kind == "extrude":
        prof = np.asarray(part.profile)
        lo, hi = prof.min(axis=0), prof.max(axis=0)
        return np.array([lo[0], lo[1], -s[0]]), np.array([hi[0], hi[1], s[0]])
    if kind == "tube":
        path = np.asarray(part.path)
        return path.min(axis=0) - s[0], path.max(axis=0) + s[0]
    if kind == "intersection":
        boxes = np.array([child.bounds() for child in part.children])
        return boxes[:, 0].max(axis=0), boxes[:, 1].min(axis=0)
    return tuple(part.children[0].bounds())  # difference: inside its first child


# Local meshes. Every vertex lies on the exact surface, so a tessellation is inscribed in its shape.

# manifold3d's revolve turns a (radius, y) section about its z axis; this rotation makes that axis local y.
_REVOLVE_TO_Y = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0]])


def _mesh_box(part: Part, m3: Any) -> Any:
    return m3.Manifold.cube(tuple(2.0 * s for s in part.size), True)


def _mesh_round_box(part: Part, m3: Any) -> Any:
    # A box surface gridded with extra lines in the rounded band, each vertex pushed onto the rounded surface
    # (flat faces stay one cell). Band lines sit at r tan(phi) for evenly spaced phi, so after the push the
    # rounded edges have evenly spaced facets. (A convex hull of corner spheres would be simpler, but manifold3d's
    # hull mishandles their many coplanar points and leaves slivers.)
    half, r = np.asarray(part.size[:3]), part.size[3]
    quarter = max(part.segments // 4, 2)
    band = r * np.tan(np.radians(np.linspace(0.0, 45.0, quarter + 1)[1:]))
    axes = [np.unique(np.concatenate([-(h - r) - band[::-1], [-(h - r), h - r], (h - r) + band])) for h in half]
    vertices, faces = _grid_box_surface(axes)
    inner = np.clip(vertices, -(half - r), half - r)
    offset = vertices - inner
    length = np.linalg.norm(offset, axis=1, keepdims=True)
    vertices = inner + r * offset / np.maximum(length, 1e-300)
    return _manifold_from_mesh(vertices, faces, m3)


def _grid_box_surface(axes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and outward triangles (F, 3) of the surface of the box gridded by per-axis coordinates."""
    shape = tuple(len(a) for a in axes)
    index = -np.ones(shape, dtype=np.int64)
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    boundary = np.zeros(shape, dtype=bool)
    for axis in range(3):
        boundary[(slice(None),) * axis + (0,)] = True
        boundary[(slice(None),) * axis + (-1,)] = True
    index[boundary] = np.arange(int(boundary.sum()))
    vertices = grid[boundary]
    faces = []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side, sign in ((0, -1.0), (-1, 1.0)):
            sheet = np.moveaxis(index, (axis, u, v), (0, 1, 2))[side]
            a, b = sheet[:-1, :-1], sheet[1:, :-1]
            c, d = sheet[1:, 1:], sheet[:-1, 1:]
            quads = np.stack([a, b, c, d], axis=-1).reshape(-1, 4)
            tris = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
            normal = np.cross(vertices[tris[:, 1]] - vertices[tris[:, 0]], vertices[tris[:, 2]] - vertices[tris[:, 0]])
            flip = normal[:, axis] * sign < 0
            tris[flip] = tris[flip][:, ::-1]
            faces.append(tris)
    return vertices, np.concatenate(faces)


def _capsule_surface(
    a: np.ndarray, b: np.ndarray, radius: float, segments: int, phase: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and outward triangles of the capsule around segment ab: two hemispheres joined by a cylinder.

    `phase` (a fraction of one facet) turns the tessellation about the axis.
    """
    quarter = max(segments // 4, 2)
    ring = np.linspace(0.0, 2 * np.pi, segments, endpoint=False) + 2 * np.pi * phase / segments
    lat = np.linspace(-np.pi / 2, np.pi / 2, 2 * quarter + 1)[1:-1]  # rings, equator included once
    axis = b - a
    length = float(np.linalg.norm(axis))
    rings: list[np.ndarray] = []
    for phi in lat:
        z = radius * math.sin(phi)
        circle = np.stack([radius * math.cos(phi) * np.cos(ring), radius * math.cos(phi) * np.sin(ring)], axis=-1)
        heights = [z, z + length] if phi == 0.0 else [z + (length if phi > 0 else 0.0)]
        rings.extend(np.column_stack([circle, np.full(segments, h)]) for h in heights)
    poles = np.array([[0.0, 0.0, -radius], [0.0, 0.0, length + radius]])
    local = np.concatenate([poles, *rings])
    n, count = segments, len(rings)
    faces = []
    j = np.arange(n)
    first = 2 + j
    faces.append(np.column_stack([np.zeros(n, dtype=np.int64), (first + 1 - 2) % n + 2, first]))
    for k in range(count - 1):
        lo, hi = 2 + k * n + j, 2 + (k + 1) * n + j
        lo_next, hi_next = 2 + k * n + (j + 1) % n, 2 + (k + 1) * n + (j + 1) % n
        faces.append(np.column_stack([lo, lo_next, hi_next]))
        faces.append(np.column_stack([lo, hi_next, hi]))
    last = 2 + (count - 1) * n + j
    faces.append(np.column_stack([np.ones(n, dtype=np.int64), last, 2 + (count - 1) * n + (j + 1) % n]))
    turn = _y_to(axis) @ np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # local z -> direction
    return local @ turn.T + a, np.concatenate(faces)


def _manifold_from_mesh(vertices: np.ndarray, faces: np.ndarray, m3: Any) -> Any:
    mesh = m3.Mesh64(
        vert_properties=np.ascontiguousarray(vertices, dtype=np.float64),
        tri_verts=np.ascontiguousarray(faces, dtype=np.uint64),
    )
    return m3.Manifold(mesh)


def _mesh_ellipsoid(part: Part, m3: Any) -> Any:
    return m3.Manifold.sphere(1.0, part.segments).scale(tuple(part.size))


def _mesh_torus(part: Part, m3: Any) -> Any:
    ring, tube = part.size
    minor = _segments_for(tube)
    section = m3.CrossSection.circle(tube, minor).translate((ring, 0.0))
    return m3.Manifold.revolve(section, part.segments).transform(_REVOLVE_TO_Y)


def _mesh_revolve(part: Part, m3: Any) -> Any:
    section = m3.CrossSection([_counter_clockwise(np.asarray(part.profile))])
    return m3.Manifold.revolve(section, part.segments).transform(_REVOLVE_TO_Y)


def _mesh_extrude(part: Part, m3: Any) -> Any:
    depth = part.size[0]
    section = m3.CrossSection([_counter_clockwise(np.asarray(part.profile))])
    return m3.Manifold.extrude(section, 2.0 * depth).translate((0.0, 0.0, -depth))


def _mesh_tube(part: Part, m3: Any) -> Any:
    path = np.asarray(part.path)
    capsules = [
        # Neighbouring capsules share a joint sphere; turning each by a different fraction of a facet keeps their
        # vertices from coinciding there (coincident vertices make manifold3d leave needle faces).
        _manifold_from_mesh(*_capsule_surface(a, b, part.size[0], part.segments, (0.618034 * k) % 1.0), m3)
        for k, (a, b) in enumerate(itertools.pairwise(path))
    ]
    return capsules[0] if len(capsules) == 1 else m3.Manifold.batch_boolean(capsules, m3.OpType.Add)


def _mesh_intersection(part: Part, m3: Any) -> Any:
    return m3.Manifold.batch_boolean([child.manifold() for child in part.children], m3.OpType.Intersect)


def _mesh_difference(part: Part, m3: Any) -> Any:
    cuts = [child.manifold() for child in part.children[1:]]
    cut = cuts[0] if len(cuts) == 1 else m3.Manifold.batch_boolean(cuts, m3.OpType.Add)
    return part.children[0].manifold() - cut


_LOCAL_MESH: dict[str, Callable[[Part, Any], Any]] = {
    "box": _mesh_box,
    "round_box": _mesh_round_box,
    "ellipsoid": _mesh_ellipsoid,
    "torus": _mesh_torus,
    "revolve": _mesh_revolve,
    "extrude": _mesh_extrude,
    "tube": _mesh_tube,
    "intersection": _mesh_intersection,
    "difference": _mesh_difference,
}


def _counter_clockwise(polygon: np.ndarray) -> np.ndarray:
    x, y = polygon[:, 0], polygon[:, 1]
    area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    if abs(area) < 1e-12:
        raise ValueError("degenerate profile polygon (zero area)")
    return polygon if area > 0 else polygon[::-1].copy()


def _segments_for(radius: float) -> int:
    """Facets around a circle of `radius` so the chord sag r (1 - cos(pi / n)) stays under _CHORD_TOLERANCE."""
    n = math.ceil(math.pi * math.sqrt(max(radius, 1e-9) / (2.0 * _CHORD_TOLERANCE)))
    return int(min(max(4 * math.ceil(n / 4), 12), 64))


def _manifold3d() -> Any:
    try:
        import manifold3d
    except ImportError as error:  # an optional dependency: only shape generation needs it
        raise ImportError("procedural shapes need manifold3d: pip install manifold3d") from error
    return manifold3d


def _check_manifold(manifold: Any, what: str) -> None:
    m3 = _manifold3d()
    status = manifold.status()
    if status != m3.Error.NoError or manifold.is_empty():
        # manifold3d reports invalid input by returning an empty result, not by raising.
        raise RuntimeError(f"mesh boolean failed for {what}: status {status.name}, empty={manifold.is_empty()}")


# ---------------------------------------------------------------------------------------------------------------
# Shapes


@dataclass(frozen=True)
class Shape:
    """A procedural object: the union of `parts` minus the union of `holes`.

    `generate` returns shapes in the normalised frame (see the module docstring); `normalised` puts any shape
    there. The mesh is built on first use and cached (the dataclass stays immutable as far as callers can see).
    """

    category: str  # ShapeNet synset id (a key of CATEGORIES)
    parts: tuple[Part, ...]  # union of these ...
    holes: tuple[Part, ...] = ()  # ... minus these
    style: str = ""  # the generator's choices, e.g. "chair/pedestal/padded/rests/star5" (for inspection and stats)
    components: int = 1  # separate bodies the generator designed (tests check the mesh has exactly this many)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ConfigError(f"unknown category {self.category!r}; use a synset id of {sorted(CATEGORIES)}")
        if not self.parts:
            raise ValueError("a shape needs at least one part")

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """Signed distance at world points: min over parts, then max(d, -hole) for each hole.

        The sign is always exact. Outside the object the value is the exact distance wherever the nearest part is
        exact (all kinds but ellipsoids, intersections and differences, which give lower bounds) and no hole is
        involved; inside, and near holes, it is a bound. Parts are only evaluated where their bounding box could
        beat the running minimum; that changes no value (a box's distance bounds every part's field from below).

        Args:
            points: float (N, 3) or (..., 3), world coordinates of the normalised frame.

        Returns:
            float64 (N,) or (...), negative inside.
        """
        pts = np.asarray(points, dtype=np.float64)
        flat = pts.reshape(-1, 3)
        d = np.full(len(flat), np.inf)
        for part in self.parts:
            todo = _box_lower_bound(flat, part.bounds()) < d
            if todo.any():
                d[todo] = np.minimum(d[todo], part.sdf(flat[todo]))
        for hole in self.holes:
            # max(d, -hole) only changes where -hole > d, and -hole <= -(lower bound of hole).
            todo = _box_lower_bound(flat, hole.bounds()) < -d
            if todo.any():
                d[todo] = np.maximum(d[todo], -hole.sdf(flat[todo]))
        return d.reshape(pts.shape[:-1])

    def mesh(self) -> trimesh.Trimesh:
        """One watertight, consistently wound triangle mesh of the shape (manifold3d booleans)."""
        return self.mesh_with_labels()[0]

    def mesh_with_labels(self) -> tuple[trimesh.Trimesh, np.ndarray]:
        """The mesh and, for each face, the index of the part it lies on.

        Returns:
            `(mesh, face_part)`: face_part is int64 (F,), `i` for a face of `parts[i]`, `len(parts) + j` for a face
            on the surface cut by `holes[j]`.
        """
        vertices, faces, labels = self.mesh_arrays()
        return _trimesh(vertices, faces), labels

    def normalised(self) -> Shape:
        """This shape moved and scaled so its mesh's bounding box is centred at 0 with longest side 1."""
        vertices, faces, labels = self.mesh_arrays()
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        factor = 1.0 / float((hi - lo).max())
        offset = -factor * 0.5 * (lo + hi)
        shape = Shape(
            category=self.category,
            parts=tuple(part.scaled(factor, offset) for part in self.parts),
            holes=tuple(hole.scaled(factor, offset) for hole in self.holes),
            style=self.style,
            components=self.components,
        )
        # Move the mesh instead of rebuilding it from the scaled parts: same surface, half the cost.
        shape._cache["mesh"] = (vertices * factor + offset, faces, labels)
        return shape

    def mesh_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`mesh_with_labels` as plain arrays: vertices float64 (V, 3), faces int64 (F, 3), face_part int64 (F,)."""
        if "mesh" not in self._cache:
            self._cache["mesh"] = _boolean_mesh(self.parts, self.holes)
        vertices, faces, labels = self._cache["mesh"]
        return vertices.copy(), faces.copy(), labels.copy()


def _box_lower_bound(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Distance float (N,) from points to an axis-aligned box (lo, hi); -inf inside it (no bound there)."""
    centre, half = 0.5 * (box[0] + box[1]), 0.5 * (box[1] - box[0])
    d = _box_distance(points - centre, half)
    d[d <= 0.0] = -np.inf
    return d


def _boolean_mesh(parts: Sequence[Part], holes: Sequence[Part]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of parts minus union of holes: vertices (V, 3), faces (F, 3), face -> part label (F,)."""
    m3 = _manifold3d()
    label_of_id: dict[int, int] = {}
    solids = []
    for index, part in enumerate([*parts, *holes]):
        solid = part.manifold().as_original()
        label_of_id[solid.original_id()] = index
        solids.append(solid)
    body = _union(solids[: len(parts)], m3)
    if holes:
        body = body - _union(solids[len(parts) :], m3)
    _check_manifold(body, "the shape")
    out = body.to_mesh64()
    vertices = np.array(out.vert_properties[:, :3], dtype=np.float64)
    faces = np.array(out.tri_verts, dtype=np.int64)
    labels = np.empty(len(faces), dtype=np.int64)
    run_index = np.asarray(out.run_index, dtype=np.int64) // 3
    for start, stop, original in zip(run_index[:-1], run_index[1:], out.run_original_id, strict=True):
        labels[start:stop] = label_of_id[int(original)]
    return _clean(vertices, faces, labels)


_COLLAPSE_LENGTH = 1e-6
"""Edges at most this long (generator units, objects about one unit across) are collapsed after the booleans:
far below any feature or the tessellation's chord error, far above floating-point noise."""

_CAP_AREA = 1e-10
"""Faces with less area than this (generator units squared) after the booleans count as degenerate."""


def _clean(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove the zero-area faces manifold3d leaves where primitives touch, keeping the surface and topology.

    Where surfaces touch exactly or nearly (a rail through a post's top, a shelf meeting a leg's corner, capsules
    meeting at a joint) manifold3d resolves the coincidence symbolically and leaves needles: vertices a hair apart
    joined by an edge, or "caps" whose third vertex lies on their longest edge. Both are repaired by local
    operations that keep the mesh closed and manifold and its Euler number unchanged; if the result is not a
    closed manifold anyway, the input is returned untouched (valid, just with needles).
    """
    cleaned = _split_flat_caps(*_collapse_short_edges(vertices, faces, labels))
    if cleaned[1] is faces:  # nothing to repair
        return vertices, faces, labels
    return cleaned if _is_closed_manifold(cleaned[1], len(cleaned[0])) else (vertices, faces, labels)


def _is_closed_manifold(faces: np.ndarray, vertex_count: int) -> bool:
    """Whether every directed edge occurs exactly once and its reverse occurs too (closed, oriented, manifold)."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2).astype(np.int64)
    keys = np.sort(directed[:, 0] * vertex_count + directed[:, 1])
    reverse = np.sort(directed[:, 1] * vertex_count + directed[:, 0])
    return bool(np.all(keys[1:] != keys[:-1]) and np.array_equal(keys, reverse))


def _face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=-1)


def _collapse_short_edges(
    vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse edges no longer than _COLLAPSE_LENGTH (each collapse drops one vertex, three edges, two faces).

    Coincident vertices that share no edge (two sheets touching at a point) are left alone: merging those would
    change the topology.
    """
    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    short = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1) <= _COLLAPSE_LENGTH
    if not short.any():
        return vertices, faces, labels
    parent = np.arange(len(vertices))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in edges[short]:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    remap = np.arange(len(vertices))
    for i in np.unique(edges[short]):
        remap[i] = root(int(i))
    new_faces = remap[faces]
    keep = (
        (new_faces[:, 0] != new_faces[:, 1])
        & (new_faces[:, 1] != new_faces[:, 2])
        & (new_faces[:, 2] != new_faces[:, 0])
    )
    used, compact = np.unique(new_faces[keep], return_inverse=True)
    return vertices[used], compact.reshape(-1, 3), labels[keep]


def _split_flat_caps(
    vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove caps: zero-area faces (a, b, c) with c on their longest edge ab.

    The cap and its neighbour (b, a, d) across ab become (c, a, d) and (b, c, d): the neighbour split at c, in
    its own plane, so the surface does not move. A cap glued to its mirror image (d = c) is a flat pocket: both
    faces go.
    """
    caps = np.flatnonzero(_face_areas(vertices, faces) < _CAP_AREA)
    if len(caps) == 0:
        return vertices, faces, labels
    faces, labels = faces.copy(), labels.copy()
    alive = np.ones(len(faces), dtype=bool)
    # Only faces around the caps' vertices can take part (new faces reuse those vertices too).
    nearby = np.flatnonzero(np.isin(faces, faces[caps]).any(axis=1))
    owner = {(int(faces[i, k]), int(faces[i, (k + 1) % 3])): int(i) for i in nearby for k in range(3)}

    def edges_of(i: int) -> list[tuple[int, int]]:
        return [(int(faces[i, k]), int(faces[i, (k + 1) % 3])) for k in range(3)]

    for i in map(int, caps):
        if not alive[i] or _face_areas(vertices, faces[i : i + 1])[0] >= _CAP_AREA:
            continue  # already rebuilt as a neighbour of an earlier cap
        f = faces[i]
        k = int(np.argmax(np.linalg.norm(vertices[np.roll(f, -1)] - vertices[f], axis=1)))
        a, b, c = int(f[k]), int(f[(k + 1) % 3]), int(f[(k + 2) % 3])
        j = owner.get((b, a))
        if j is None or not alive[j]:
            continue
        d = next(int(v) for v in faces[j] if v not in (a, b))
        if d != c and ((c, d) in owner or (d, c) in owner):
            continue  # c and d are already joined: splitting would duplicate that edge
        for edge in edges_of(i) + edges_of(j):
            owner.pop(edge, None)
        if d == c:
            alive[i] = alive[j] = False
            continue
        faces[i], faces[j] = (c, a, d), (b, c, d)
        labels[i] = labels[j]
        owner.update({edge: int(i) for edge in edges_of(i)})
        owner.update({edge: int(j) for edge in edges_of(j)})
    return vertices, faces[alive], labels[alive]


def _union(solids: Sequence[Any], m3: Any) -> Any:
    return solids[0] if len(solids) == 1 else m3.Manifold.batch_boolean(list(solids), m3.OpType.Add)


def _trimesh(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    import trimesh

    return trimesh.Trimesh(vertices.copy(), faces.copy(), process=False)


# ---------------------------------------------------------------------------------------------------------------
# Public entry point


def category_id(category: str) -> str:
    """The synset id of `category`, given as a synset id or a name ("chair")."""
    if category in CATEGORIES:
        return category
    by_name = {name: synset for synset, name in CATEGORIES.items()}
    if category in by_name:
        return by_name[category]
    choices = ", ".join(f"{synset} ({name})" for synset, name in CATEGORIES.items())
    raise ConfigError(f"unknown category {category!r}; use one of {choices}")


def generate(category: str, seed: int) -> Shape:
    """A random object of `category`, the same for the same (category, seed), normalised to the unit box.

    Args:
        category: synset id (a key of CATEGORIES) or category name.
        seed: any non-negative integer; seeds draw independent objects.

    Returns:
        A `Shape` whose mesh has been built (and cached) during normalisation.

    Raises:
        ConfigError: unknown category or negative seed.
    """
    synset = category_id(category)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    # Mixing the synset into the seed keeps (chair, 3) and (table, 3) unrelated.
    rng = np.random.default_rng([int(seed), int(synset)])
    draft = _Draft()
    _GENERATORS[synset](rng, draft)
    raw = Shape(
        category=synset,
        parts=tuple(draft.parts),
        holes=tuple(draft.holes),
        style="/".join([CATEGORIES[synset], *draft.style]),
        components=draft.components,
    )
    return raw.normalised()


# ---------------------------------------------------------------------------------------------------------------
# Building blocks for the generators (generator units: objects are built roughly one unit across)


@dataclass
class _Draft:
    """What a generator builds: parts, holes, its style choices and the number of bodies it designed."""

    parts: list[Part] = field(default_factory=list)
    holes: list[Part] = field(default_factory=list)
    style: list[str] = field(default_factory=list)
    components: int = 1

    def add(self, *parts: Part) -> None:
        self.parts.extend(parts)

    def cut(self, *holes: Part) -> None:
        self.holes.extend(holes)


Vec = Sequence[float] | np.ndarray


def _rotation(axis: Vec, degrees: float) -> np.ndarray:
    """float64 (3, 3): rotation by `degrees` about `axis` (right-handed)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = math.radians(degrees)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * cross + (1 - math.cos(a)) * cross @ cross


def _y_to(direction: Vec) -> np.ndarray:
    """A rotation taking +y to the unit vector along `direction`."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    y = np.array([0.0, 1.0, 0.0])
    c = float(y @ d)
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-12:
        return _rotation((1, 0, 0), 180.0)
    return _rotation(np.cross(y, d), math.degrees(math.acos(c)))


# Extrusion planes: the columns are where local x, y, z go (local z is the extrusion direction).
_PLANES: dict[str, np.ndarray] = {
    "xy": np.eye(3),  # profile (x, y), extruded along z
    "xz": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),  # profile (x, z), extruded along y
    "zy": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),  # profile (z, y), extruded along x
}


def _placed(part: Part, centre: Vec, rotation: np.ndarray | None = None) -> Part:
    return _with_pose(part, np.eye(3) if rotation is None else rotation, np.asarray(centre, dtype=np.float64))


def _box(centre: Vec, half: Vec, rotation: np.ndarray | None = None, name: str = "") -> Part:
    return _placed(Part("box", size=tuple(float(h) for h in half), name=name), centre, rotation)


def _rbox(centre: Vec, half: Vec, radius: float, rotation: np.ndarray | None = None, name: str = "") -> Part:
    r = min(float(radius), 0.95 * float(min(half)))
    size = (*(float(h) for h in half), r)
    return _placed(Part("round_box", size=size, segments=_segments_for(r), name=name), centre, rotation)


def _ellipsoid(centre: Vec, radii: Vec, rotation: np.ndarray | None = None, name: str = "") -> Part:
    size = tuple(float(r) for r in radii)
    return _placed(Part("ellipsoid", size=size, segments=_segments_for(max(size)), name=name), centre, rotation)


def _sphere(centre: Vec, radius: float, name: str = "") -> Part:
    return _ellipsoid(centre, (radius, radius, radius), name=name)


def _revolve(base: Vec, direction: Vec, profile: Sequence[Vec], name: str = "") -> Part:
    """Solid of revolution about the axis through `base` along `direction`; profile points are (radius, height)."""
    prof = tuple((float(r), float(h)) for r, h in profile)
    part = Part("revolve", profile=prof, segments=_segments_for(max(r for r, _ in prof)), name=name)
    return _placed(part, base, _y_to(direction))


def _frustum(a: Vec, b: Vec, radius_a: float, radius_b: float, name: str = "") -> Part:
    """Truncated cone (a cylinder when the radii are equal) from point a to point b."""
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    length = float(np.linalg.norm(b_ - a_))
    profile = [(0.0, 0.0), (radius_a, 0.0), (radius_b, length), (0.0, length)]
    return _revolve(a_, b_ - a_, profile, name=name)


def _cylinder(a: Vec, b: Vec, radius: float, name: str = "") -> Part:
    return _frustum(a, b, radius, radius, name=name)


def _ring(base: Vec, direction: Vec, r_in_a: float, r_in_b: float, length: float, wall: float, name: str = "") -> Part:
    """A hollow conical shell open at both ends (a lamp shade, an engine nacelle): genus 1."""
    profile = [(r_in_a, 0.0), (r_in_a + wall, 0.0), (r_in_b + wall, length), (r_in_b, length)]
    return _revolve(base, direction, profile, name=name)


def _torus(centre: Vec, ring: float, tube: float, axis: Vec = (0, 1, 0), name: str = "") -> Part:
    part = Part("torus", size=(float(ring), float(tube)), segments=_segments_for(ring + tube), name=name)
    return _placed(part, centre, _y_to(axis))


def _tube(points: Sequence[Vec], radius: float, name: str = "") -> Part:
    path = tuple(_tuple3(p) for p in points)
    return Part("tube", size=(float(radius),), path=path, segments=_segments_for(radius), name=name)


def _extrude(
    centre: Vec,
    polygon: Sequence[Vec],
    half_depth: float,
    plane: str = "xy",
    rotation: np.ndarray | None = None,
    name: str = "",
) -> Part:
    """A prism: `polygon` drawn in `plane` ("xy", "xz" or "zy", first letter = first coordinate) around `centre`,
    extruded both ways by `half_depth` along the remaining axis, then turned by `rotation` about `centre`."""
    prof = tuple((float(u), float(v)) for u, v in polygon)
    frame = _PLANES[plane] if rotation is None else rotation @ _PLANES[plane]
    return _placed(Part("extrude", size=(float(half_depth),), profile=prof, name=name), centre, frame)


def _intersection(children: Sequence[Part], name: str = "") -> Part:
    return Part("intersection", children=tuple(children), name=name)


def _difference(children: Sequence[Part], name: str = "") -> Part:
    return Part("difference", children=tuple(children), name=name)


def _about(parts: Iterable[Part], rotation: np.ndarray, pivot: Vec) -> list[Part]:
    """Parts turned by `rotation` about the point `pivot`."""
    c = np.asarray(pivot, dtype=np.float64)
    return [p.moved(rotation, c - rotation @ c) for p in parts]


def _shifted(parts: Iterable[Part], offset: Vec) -> list[Part]:
    return [p.moved(np.eye(3), offset) for p in parts]


def _mirror_z(parts: Iterable[Part]) -> list[Part]:
    """Parts mirrored across the plane z = 0."""
    return [_mirrored(p) for p in parts]


_FLIP_Z = np.diag([1.0, 1.0, -1.0])


def _mirrored(part: Part) -> Part:
    # With F the reflection, F (R l + t) = (F R F)(F l) + F t: a proper rotation F R F applied to the local shape
    # reflected in its own z. Every primitive but the tube is symmetric in local z; composites recurse.
    if part.kind == "tube":
        local = Part(
            "tube",
            size=part.size,
            path=tuple((x, y, -z) for x, y, z in part.path),
            segments=part.segments,
            name=part.name,
        )
    elif part.kind in ("intersection", "difference"):
        local = Part(part.kind, children=tuple(_mirrored(c) for c in part.children), name=part.name)
    else:
        local = part
    return _with_pose(local, _FLIP_Z @ part.matrix @ _FLIP_Z, _FLIP_Z @ np.asarray(part.translation))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _ellipse(a: float, b: float, n: int = 48) -> list[tuple[float, float]]:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return [(a * math.cos(v), b * math.sin(v)) for v in t]


def _rounded_rect(hx: float, hy: float, r: float, n: int = 5) -> list[tuple[float, float]]:
    """Rectangle (+-hx, +-hy) with corners rounded by r, counter-clockwise, n points per corner."""
    r = min(r, 0.95 * min(hx, hy))
    points = []
    for cx, cy, start in ((hx - r, hy - r, 0), (-hx + r, hy - r, 90), (-hx + r, -hy + r, 180), (hx - r, -hy + r, 270)):
        for t in np.linspace(start, start + 90, n):
            points.append((cx + r * math.cos(math.radians(t)), cy + r * math.sin(math.radians(t))))
    return points


def _arc(centre: Vec, radius: float, start: float, stop: float, n: int, plane: str = "xy") -> list[np.ndarray]:
    """Points on a circular arc from angle `start` to `stop` (degrees) in a coordinate plane through `centre`."""
    c = np.asarray(centre, dtype=np.float64)
    i, j = {"xy": (0, 1), "xz": (0, 2), "zy": (2, 1)}[plane]
    out = []
    for t in np.radians(np.linspace(start, stop, n)):
        p = c.copy()
        p[i] += radius * math.cos(t)
        p[j] += radius * math.sin(t)
        out.append(p)
    return out


def _leg_point(foot: np.ndarray, top: np.ndarray, y: float) -> np.ndarray:
    """The point at height y on the straight leg from `foot` to `top`."""
    t = (y - foot[1]) / (top[1] - foot[1])
    return foot + t * (top - foot)


def _stretchers(legs: Sequence[tuple[np.ndarray, np.ndarray]], y: float, radius: float, style: str) -> list[Part]:
    """Bars joining four legs (ordered (-x,-z), (-x,+z), (+x,-z), (+x,+z)) at height y: "box" = all four sides,
    "h" = the two sides along x and a cross bar between their middles."""
    p = [_leg_point(foot, top, y) for foot, top in legs]
    if style == "box":
        pairs = [(0, 1), (2, 3), (0, 2), (1, 3)]
        return [_tube([p[a], p[b]], radius, name="stretcher") for a, b in pairs]
    sides = [_tube([p[0], p[2]], radius, name="stretcher"), _tube([p[1], p[3]], radius, name="stretcher")]
    return [*sides, _tube([(p[0] + p[2]) / 2, (p[1] + p[3]) / 2], radius, name="stretcher")]


def _legs(
    corners: Sequence[tuple[float, float]],
    y_top: float,
    radius: float,
    shape: str,
    splay: float = 0.0,
) -> tuple[list[Part], list[tuple[np.ndarray, np.ndarray]]]:
    """Legs from the floor up to `y_top` under `corners` (x, z): "square" boxes, "round" cylinders or "tapered"
    cones; a splayed leg's foot moves outwards by `splay`. Returns the parts and each leg's (foot, top) axis."""
    parts, axes = [], []
    for x, z in corners:
        top = np.array([x, y_top, z])
        foot = np.array([x + math.copysign(splay, x), 0.0, z + math.copysign(splay, z)])
        if shape == "square" and splay == 0.0:
            parts.append(_box((x, y_top / 2, z), (radius, y_top / 2, radius), name="leg"))
        else:
            foot_radius = radius * (0.6 if shape == "tapered" else 1.0)
            parts.append(_frustum(foot, top, foot_radius, radius, name="leg"))
        axes.append((foot, top))
    return parts, axes


# Chairs (03001627): seat on four legs / a pedestal / sled runners; solid, pierced, slatted, ladder or padded
# backrest on the -x side; optional arms.


def _chair(rng: np.random.Generator, d: _Draft) -> None:
    seat_h, sw, sd, st = _u(rng, 0.40, 0.50), _u(rng, 0.42, 0.58), _u(rng, 0.40, 0.54), _u(rng, 0.03, 0.08)
    y_bot = seat_h - st
    base = _pick(rng, {"legs": 0.55, "pedestal": 0.25, "sled": 0.2})
    back = _pick(rng, {"solid": 0.25, "pierced": 0.15, "slats": 0.2, "ladder": 0.15, "padded": 0.25})
    arms = _pick(rng, {"none": 0.55, "rests": 0.3, "panels": 0.15})
    d.style += [base, back, arms]
    seat_centre, seat_half = (0.0, seat_h - st / 2, 0.0), (sd / 2, st / 2, sw / 2)
    if back == "padded" or rng.random() < 0.4:
        d.add(_rbox(seat_centre, seat_half, _u(rng, 0.3, 0.9) * st / 2, name="seat"))
    else:
        d.add(_box(seat_centre, seat_half, name="seat"))

    if base == "legs":
        r, inset = _u(rng, 0.014, 0.028), _u(rng, 0.01, 0.05)
        splay = _u(rng, 0.01, 0.06) if rng.random() < 0.4 else 0.0
        shape = _pick(rng, {"square": 0.4, "round": 0.4, "tapered": 0.2})
        xs, zs = sd / 2 - inset - r, sw / 2 - inset - r
        corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
        legs, axes = _legs(corners, y_bot + 0.01, r, shape, splay)
        d.add(*legs)
        if rng.random() < 0.4:
            style = _pick(rng, {"box": 0.5, "h": 0.5})
            d.add(*_stretchers(axes, _u(rng, 0.08, 0.2), 0.6 * r, style))
            d.style.append(f"stretchers-{style}")
    elif base == "pedestal":
        col_r, hub_y = _u(rng, 0.022, 0.045), _u(rng, 0.06, 0.1)
        d.add(_box((0.0, y_bot - 0.01, 0.0), (0.08, 0.015, 0.08), name="plate"))
        if rng.random() < 0.75:
            n, reach, spoke_r = int(rng.choice([4, 5])), _u(rng, 0.22, 0.32), _u(rng, 0.014, 0.022)
            casters = rng.random() < 0.6
            end_y = 0.045 if casters else spoke_r + 0.003
            phase = _u(rng, 0.0, 360.0)
            d.add(_cylinder((0.0, hub_y - 1.5 * spoke_r, 0.0), (0.0, y_bot + 0.01, 0.0), col_r, name="column"))
            d.add(
                _cylinder((0.0, hub_y - 1.5 * spoke_r, 0.0), (0.0, hub_y + 1.5 * spoke_r, 0.0), 1.4 * col_r, name="hub")
            )
            for k in range(n):
                a = math.radians(phase + 360.0 * k / n)
                end = (reach * math.cos(a), end_y, reach * math.sin(a))
                d.add(_tube([(0.0, hub_y, 0.0), end], spoke_r, name="spoke"))
                if casters:
                    d.add(_sphere((end[0], 0.025, end[2]), 0.025, name="caster"))
            d.style.append(f"star{n}")
        else:
            radius = _u(rng, 0.18, 0.26)
            d.add(_frustum((0.0, 0.0, 0.0), (0.0, 0.035, 0.0), radius, 0.8 * radius, name="base"))
            d.add(_cylinder((0.0, 0.02, 0.0), (0.0, y_bot + 0.01, 0.0), col_r, name="column"))
            d.style.append("disk")
    else:  # sled: a closed runner on each side, joined to the seat at both ends (a loop per side)
        r, z0 = _u(rng, 0.011, 0.018), sw / 2 - _u(rng, 0.02, 0.05)
        front, rear = sd / 2 + _u(rng, -0.02, 0.05), -sd / 2 - _u(rng, -0.02, 0.04)
        for sz in (-1.0, 1.0):
            z = sz * z0
            d.add(
                _tube(
                    [
                        (sd / 2 - 0.05, y_bot + st / 2, z),
                        (front, r + 0.001, z),
                        (rear, r + 0.001, z),
                        (-sd / 2 + 0.05, y_bot + st / 2, z),
                    ],
                    r,
                    name="runner",
                )
            )
        if rng.random() < 0.4:
            d.add(_tube([(rear, r + 0.001, -z0), (rear, r + 0.001, z0)], r, name="crossbar"))

    tilt = _u(rng, 0.0, 14.0)
    bh, bw = _u(rng, 0.3, 0.55), sw * _u(rng, 0.82, 1.0)
    bt = _u(rng, 0.06, 0.12) if back == "padded" else _u(rng, 0.02, 0.05)
    x_c, y0, y1 = -sd / 2 + bt / 2, y_bot + 0.005, seat_h + bh
    back_parts: list[Part] = []
    back_holes: list[Part] = []
    if back in ("solid", "pierced"):
        back_parts.append(_box((x_c, (y0 + y1) / 2, 0.0), (bt / 2, (y1 - y0) / 2, bw / 2), name="back"))
        if back == "pierced":
            yc, hy, hz = seat_h + bh * _u(rng, 0.55, 0.72), bh * _u(rng, 0.1, 0.17), bw * _u(rng, 0.12, 0.24)
            if rng.random() < 0.5:
                back_holes.append(_rbox((x_c, yc, 0.0), (bt, hy, hz), 0.9 * min(hy, hz), name="back-hole"))
            else:
                radius = min(hy, hz)
                back_holes.append(_cylinder((x_c - bt, yc, 0.0), (x_c + bt, yc, 0.0), radius, name="back-hole"))
    elif back == "padded":
        back_parts.append(
            _rbox((x_c, (y0 + y1) / 2, 0.0), (bt / 2, (y1 - y0) / 2, bw / 2), _u(rng, 0.02, bt / 2), name="back")
        )
    else:
        pw = _u(rng, 0.015, 0.03)
        for sz in (-1.0, 1.0):
            back_parts.append(_box((x_c, (y0 + y1) / 2, sz * (bw / 2 - pw)), (bt / 2, (y1 - y0) / 2, pw), name="post"))
        if back == "slats":
            rh = _u(rng, 0.04, 0.1)
            back_parts.append(_box((x_c, y1 - rh / 2, 0.0), (bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            inner = bw - 4 * pw
            k = int(rng.integers(1, 6))
            half_w = min(_u(rng, 0.008, 0.03), 0.3 * inner / (2 * k))
            for i in range(k):
                z = -inner / 2 + inner * (i + 0.5) / k
                back_parts.append(
                    _box((x_c, (y0 + y1 - rh) / 2, z), (0.8 * bt / 2, (y1 - rh - y0) / 2 + 0.005, half_w), name="slat")
                )
            d.style.append(f"slats{k}")
        else:
            k = int(rng.integers(2, 5))
            rh = _u(rng, 0.025, 0.05)
            for y in np.linspace(seat_h + 0.1, y1 - rh / 2, k):
                back_parts.append(_box((x_c, float(y), 0.0), (0.8 * bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            d.style.append(f"rails{k}")
    turn = _rotation((0.0, 0.0, 1.0), tilt)
    pivot = (-sd / 2, seat_h, 0.0)
    d.add(*_about(back_parts, turn, pivot))
    d.cut(*_about(back_holes, turn, pivot))

    if arms != "none":
        ah, aw, at = _u(rng, 0.16, 0.26), _u(rng, 0.03, 0.06), _u(rng, 0.02, 0.04)
        z_arm = bw / 2 - aw / 2
        x_rear = -sd / 2 + bt / 2 - ah * math.tan(math.radians(tilt))
        x_front = sd / 2 + _u(rng, -0.03, 0.03)
        for sz in (-1.0, 1.0):
            z = sz * z_arm
            if arms == "rests":
                px = sd / 2 - _u(rng, 0.03, 0.08)
                d.add(_box((px, seat_h + ah / 2 - 0.005, z), (0.015, ah / 2 + 0.005, 0.4 * aw), name="arm-post"))
                d.add(
                    _box(
                        ((x_rear + x_front) / 2, seat_h + ah, z),
                        ((x_front - x_rear) / 2, at / 2, aw / 2),
                        name="armrest",
                    )
                )
            else:
                d.add(
                    _box(
                        ((x_rear + x_front) / 2, seat_h + ah / 2, z),
                        ((x_front - x_rear) / 2, ah / 2 + 0.01, aw / 2),
                        name="arm",
                    )
                )


# Tables (04379243): rectangular, square, round or oval tops (long side along z) on four legs (with aprons,
# stretchers or a shelf), one or two pedestals, trestles or panel ends.


def _table(rng: np.random.Generator, d: _Draft) -> None:
    top = _pick(rng, {"rect": 0.45, "square": 0.15, "round": 0.25, "oval": 0.15})
    height = _u(rng, 0.66, 0.78) if rng.random() < 0.75 else _u(rng, 0.38, 0.5)
    tt = _u(rng, 0.025, 0.06)
    if top == "rect":
        length = _u(rng, 1.0, 1.9)
        hz, hx = length / 2, _u(rng, 0.55, min(1.0, 0.8 * length)) / 2
    elif top == "oval":
        hz, hx = _u(rng, 1.1, 1.9) / 2, _u(rng, 0.6, 0.95) / 2
    else:
        hz = hx = _u(rng, 0.6, 1.2) / 2
    y_under = height - tt
    if top in ("rect", "square"):
        if rng.random() < 0.5:
            d.add(_rbox((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), _u(rng, 0.005, tt / 2), name="top"))
        else:
            d.add(_box((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), name="top"))
    elif top == "round":
        d.add(_cylinder((0.0, y_under, 0.0), (0.0, height, 0.0), hx, name="top"))
    else:
        d.add(_extrude((0.0, y_under + tt / 2, 0.0), _ellipse(hx, hz, 64), tt / 2, "xz", name="top"))
    support_weights = {
        "rect": {"legs": 0.45, "trestle": 0.25, "panels": 0.2, "pedestal": 0.1},
        "square": {"legs": 0.6, "pedestal": 0.3, "panels": 0.1},
        "round": {"legs": 0.35, "pedestal": 0.65},
        "oval": {"legs": 0.4, "pedestal": 0.3, "trestle": 0.3},
    }[top]
    support = _pick(rng, support_weights)
    d.style += [top, support]
    y_leg = y_under + 0.01

    if support == "legs":
        r = _u(rng, 0.018, 0.04)
        shape = _pick(rng, {"square": 0.35, "round": 0.35, "tapered": 0.3})
        splay = _u(rng, 0.02, 0.07) if rng.random() < 0.25 else 0.0
        if top in ("rect", "square"):
            inset = _u(rng, 0.02, 0.1) + r
            xs, zs = hx - inset, hz - inset
        else:
            k = _u(rng, 0.55, 0.78)
            xs, zs = hx * k / math.sqrt(2), hz * k / math.sqrt(2)
        corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
        legs, axes = _legs(corners, y_leg, r, shape, splay)
        d.add(*legs)
        if top in ("rect", "square") and rng.random() < 0.5:
            ah = _u(rng, 0.05, 0.12)
            yc = y_under - ah / 2 + 0.005
            for sx in (-1.0, 1.0):
                d.add(_box((sx * xs, yc, 0.0), (0.012, ah / 2, zs), name="apron"))
            for sz in (-1.0, 1.0):
                d.add(_box((0.0, yc, sz * zs), (xs, ah / 2, 0.012), name="apron"))
            d.style.append("apron")
        extra = rng.random()
        if extra < 0.3:
            style = _pick(rng, {"box": 0.5, "h": 0.5})
            d.add(*_stretchers(axes, _u(rng, 0.1, 0.25) * height, 0.6 * r, style))
            d.style.append(f"stretchers-{style}")
        elif extra < 0.45 and splay == 0.0:
            ys = _u(rng, 0.12, 0.3) * height
            if top in ("rect", "square"):
                d.add(_box((0.0, ys, 0.0), (xs + 0.5 * r, 0.012, zs + 0.5 * r), name="shelf"))
            else:
                d.add(
                    _extrude(
                        (0.0, ys, 0.0), _ellipse(xs * math.sqrt(2), zs * math.sqrt(2), 48), 0.012, "xz", name="shelf"
                    )
                )
            d.style.append("shelf")
    elif support == "pedestal":
        count = 2 if top in ("rect", "oval") else 1
        spots = [-hz * 0.45, hz * 0.45] if count == 2 else [0.0]
        col_r = _u(rng, 0.03, 0.07)
        column = _pick(rng, {"cylinder": 0.5, "vase": 0.5})
        foot = _pick(rng, {"disk": 0.5, "cross": 0.3, "tripod": 0.2})
        d.style += [column, foot]
        for z in spots:
            if column == "cylinder":
                d.add(_cylinder((0.0, 0.01, z), (0.0, y_leg, z), col_r, name="column"))
            else:
                h = y_leg - 0.01
                widths = [1.0, _u(rng, 0.6, 1.4), _u(rng, 0.6, 1.8), _u(rng, 0.7, 1.3), 1.0]
                profile = [(0.0, 0.0)] + [(col_r * w, h * t) for w, t in zip(widths, np.linspace(0, 1, 5), strict=True)]
                d.add(_revolve((0.0, 0.01, z), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="column"))
            d.add(_cylinder((0.0, y_under - 0.02, z), (0.0, y_under + 0.005, z), 2.5 * col_r, name="cap"))
            reach = min(_u(rng, 0.2, 0.35), 0.9 * min(hx, hz) if count == 1 else 0.9 * hx)
            if foot == "disk":
                d.add(
                    _frustum(
                        (0.0, 0.0, z), (0.0, _u(rng, 0.025, 0.05), z), reach, reach * _u(rng, 0.5, 0.95), name="base"
                    )
                )
            else:
                n = 4 if foot == "cross" else 3
                fh = _u(rng, 0.03, 0.06)
                for k in range(n):
                    a = math.radians(45.0 * (foot == "cross") + 360.0 * k / n)
                    end = (reach * math.cos(a), fh / 2, z + reach * math.sin(a))
                    d.add(_tube([(0.0, fh, z), end], fh / 2, name="foot"))
    elif support == "trestle":
        inset = _u(rng, 0.08, 0.2)
        two = rng.random() < 0.4
        fh = _u(rng, 0.04, 0.07)
        stretcher_y = _u(rng, 0.2, 0.4) * height
        post_xs = [-0.4 * hx, 0.4 * hx] if two else [0.0]
        zt = hz - inset
        for sz in (-1.0, 1.0):
            z = sz * zt
            d.add(_box((0.0, fh / 2, z), (hx * _u(rng, 0.7, 0.9), fh / 2, 0.03), name="foot"))
            d.add(_box((0.0, y_under - 0.02, z), (hx * 0.8, 0.025, 0.03), name="cleat"))
            for x in post_xs:
                d.add(_box((x, y_under / 2, z), (_u(rng, 0.025, 0.06), y_under / 2, 0.025), name="post"))
        for x in post_xs:
            d.add(_box((x, stretcher_y, 0.0), (0.02, 0.03, zt + 0.015), name="stretcher"))
        d.style.append("two-posts" if two else "one-post")
    else:  # panel ends
        inset, pt = _u(rng, 0.0, 0.15), _u(rng, 0.03, 0.06)
        zp = hz - inset - pt / 2
        px = hx * _u(rng, 0.75, 0.95)
        for sz in (-1.0, 1.0):
            d.add(_box((0.0, y_leg / 2, sz * zp), (px, y_leg / 2, pt / 2), name="panel"))
            if rng.random() < 0.4:
                d.cut(
                    _box(
                        (0.0, y_under * _u(rng, 0.4, 0.6), sz * zp),
                        (px * _u(rng, 0.3, 0.5), y_under * _u(rng, 0.12, 0.25), pt),
                        name="panel-hole",
                    )
                )
                d.style.append("pierced")
        brace = _pick(rng, {"none": 0.3, "beam": 0.45, "modesty": 0.25})
        if brace == "beam":
            d.add(_box((-px * 0.7, y_under - _u(rng, 0.12, 0.3), 0.0), (0.02, 0.04, zp), name="beam"))
        elif brace == "modesty":
            ph = _u(rng, 0.15, 0.35)
            d.add(_box((-px * 0.7, y_under - ph / 2 + 0.005, 0.0), (0.01, ph / 2, zp), name="modesty"))
        d.style.append(brace)


# Benches (02828884): long along z, facing +x; slab or slatted seat; legs, panel ends or looped frames; optional
# slatted or solid backrest on -x and armrests.


def _bench(rng: np.random.Generator, d: _Draft) -> None:
    length, depth = _u(rng, 0.9, 1.8), _u(rng, 0.3, 0.5)
    seat_h, st = _u(rng, 0.38, 0.48), _u(rng, 0.03, 0.06)
    y_bot = seat_h - st
    seat = _pick(rng, {"slab": 0.5, "slats": 0.5})
    support = _pick(rng, {"legs": 0.45, "ends": 0.35, "frames": 0.2})
    back = _pick(rng, {"none": 0.45, "solid": 0.2, "slats": 0.35})
    d.style += [seat, support, f"{back}-back"]
    end_z = length / 2 - _u(rng, 0.04, 0.15)
    hx, hz = depth / 2, length / 2
    if seat == "slab":
        d.add(_box((0.0, seat_h - st / 2, 0.0), (hx, st / 2, hz), name="seat"))
        y_support = y_bot + 0.005
    else:
        n = int(rng.integers(3, 7))
        half_w = depth / n * _u(rng, 0.3, 0.42)
        for i in range(n):
            d.add(_box((-hx + depth * (i + 0.5) / n, seat_h - st / 2, 0.0), (half_w, st / 2, hz), name="slat"))
        spots = [-end_z, end_z] + ([0.0] if length > 1.3 else [])
        for z in spots:
            d.add(_box((0.0, y_bot - 0.015, z), (hx, 0.025, 0.025), name="support"))
        y_support = y_bot - 0.02
        d.style.append(f"slats{n}")
    inset = _u(rng, 0.02, 0.06)
    if support == "legs":
        r = _u(rng, 0.015, 0.03)
        shape = _pick(rng, {"square": 0.5, "round": 0.3, "tapered": 0.2})
        xs = hx - inset - r
        corners = [(-xs, -end_z), (-xs, end_z), (xs, -end_z), (xs, end_z)]
        legs, axes = _legs(corners, y_support, r, shape)
        d.add(*legs)
        if rng.random() < 0.4:
            y = _u(rng, 0.08, 0.2)
            for a, b in ((0, 1), (2, 3)):
                d.add(_tube([_leg_point(*axes[a], y), _leg_point(*axes[b], y)], 0.6 * r, name="stretcher"))
            d.style.append("stretchers")
    elif support == "ends":
        et = _u(rng, 0.03, 0.06)
        px = hx * _u(rng, 0.8, 1.0)
        for sz in (-1.0, 1.0):
            d.add(_box((0.0, y_support / 2, sz * end_z), (px, y_support / 2, et / 2), name="end"))
            if rng.random() < 0.4:
                d.cut(
                    _box(
                        (0.0, y_support * _u(rng, 0.35, 0.5), sz * end_z),
                        (px * _u(rng, 0.3, 0.6), y_support * _u(rng, 0.12, 0.25), et),
                        name="end-hole",
                    )
                )
                d.style.append("pierced")
    else:
        r = _u(rng, 0.012, 0.02)
        for sz in (-1.0, 1.0):
            z = sz * end_z
            d.add(
                _tube(
                    [
                        (hx - 0.04, y_support - 0.005, z),
                        (hx + _u(rng, -0.02, 0.03), r, z),
                        (-hx - _u(rng, -0.02, 0.03), r, z),
                        (-hx + 0.04, y_support - 0.005, z),
                    ],
                    r,
                    name="frame",
                )
            )

    if back != "none":
        tilt, bh = _u(rng, 0.0, 12.0), _u(rng, 0.25, 0.45)
        bt = _u(rng, 0.02, 0.045)
        x_c = -hx + bt / 2
        parts: list[Part] = []
        if back == "solid":
            y0 = seat_h - st / 2
            parts.append(
                _box((x_c, (y0 + seat_h + bh) / 2, 0.0), (bt / 2, (seat_h + bh - y0) / 2, hz * 0.98), name="back")
            )
        else:
            pw = _u(rng, 0.02, 0.035)
            y0 = y_bot + 0.005 if seat == "slab" else y_bot - 0.03
            for sz in (-1.0, 1.0):
                parts.append(
                    _box(
                        (x_c, (y0 + seat_h + bh) / 2, sz * end_z),
                        (bt / 2 + 0.003, (seat_h + bh - y0) / 2, pw),
                        name="post",
                    )
                )
            k = int(rng.integers(2, 5))
            sh = _u(rng, 0.02, 0.05)
            for y in np.linspace(seat_h + 0.08, seat_h + bh - sh / 2, k):
                parts.append(_box((x_c, float(y), 0.0), (bt / 2, sh / 2, end_z + pw), name="back-slat"))
            d.style.append(f"back-slats{k}")
        d.add(*_about(parts, _rotation((0.0, 0.0, 1.0), tilt), (-hx, seat_h, 0.0)))
        if rng.random() < 0.3:
            ah = _u(rng, 0.15, 0.25)
            x_rear = -hx + bt / 2 - ah * math.tan(math.radians(tilt))
            for sz in (-1.0, 1.0):
                z = sz * (end_z + 0.01)
                d.add(_box((hx - 0.04, seat_h + ah / 2 - 0.005, z), (0.015, ah / 2 + 0.005, 0.015), name="arm-post"))
                d.add(_box(((x_rear + hx) / 2, seat_h + ah, z), ((hx - x_rear) / 2, 0.015, 0.03), name="armrest"))
            d.style.append("arms")


# Sofas (04256520): long along z, back on -x; straight or L-shaped (a chaise towards +x), arms on both, one or no
# side (some open), cushions, short legs or a plinth.


def _sofa(rng: np.random.Generator, d: _Draft) -> None:
    length, depth = _u(rng, 1.3, 2.4), _u(rng, 0.75, 1.0)
    seat_h = _u(rng, 0.38, 0.48)
    legs = rng.random() < 0.6
    base_y = _u(rng, 0.05, 0.15) if legs else 0.0
    arms = _pick(rng, {"both": 0.6, "none": 0.2, "one": 0.2})
    chaise = rng.random() < 0.3
    chaise_side = float(rng.choice([-1.0, 1.0]))
    d.style += [arms, "chaise" if chaise else "straight", "legs" if legs else "plinth"]
    hx, hz = depth / 2, length / 2
    back_top, bt = _u(rng, 0.7, 0.95), _u(rng, 0.12, 0.25)
    aw, ah = _u(rng, 0.08, 0.22), _u(rng, 0.5, 0.7)
    cushion_t = _u(rng, 0.06, 0.14)
    y_base = seat_h - cushion_t
    radius = _u(rng, 0.01, 0.05)
    d.add(_box((0.0, (base_y + y_base) / 2, 0.0), (hx, (y_base - base_y) / 2, hz), name="base"))
    d.add(
        _rbox((-hx + bt / 2, (base_y + back_top) / 2, 0.0), (bt / 2, (back_top - base_y) / 2, hz), radius, name="back")
    )
    sides = {"both": [-1.0, 1.0], "none": [], "one": [float(rng.choice([-1.0, 1.0]))]}[arms]
    if chaise:
        sides = [s for s in sides if s != chaise_side]
    for sz in sides:
        zc = sz * (hz - aw / 2)
        d.add(
            _rbox(
                (0.02, (base_y + ah) / 2, zc),
                (hx + 0.02, (ah - base_y) / 2, aw / 2),
                min(radius, aw / 2 * 0.9),
                name="arm",
            )
        )
        if ah - 0.08 > seat_h + 0.1 and rng.random() < 0.25:
            x0, x1 = -hx + bt + 0.05, hx - 0.08
            d.cut(
                _box(
                    ((x0 + x1) / 2, (seat_h + 0.03 + ah - 0.08) / 2, zc),
                    ((x1 - x0) / 2, (ah - 0.08 - seat_h - 0.03) / 2, aw / 2 + 0.004),
                    name="arm-hole",
                )
            )
            d.style.append("open-arm")
    inner_lo = -hz + (aw + 0.01 if -1.0 in sides else 0.0)
    inner_hi = hz - (aw + 0.01 if 1.0 in sides else 0.0)
    n = int(rng.integers(1, 4))
    edges = np.linspace(inner_lo, inner_hi, n + 1)
    x0, x1 = -hx + bt - 0.02, hx - 0.01
    for a, b in itertools.pairwise(edges):
        d.add(
            _rbox(
                ((x0 + x1) / 2, (y_base - 0.01 + seat_h) / 2, (a + b) / 2),
                ((x1 - x0) / 2, (seat_h - y_base + 0.01) / 2, (b - a) / 2 - 0.004),
                _u(rng, 0.01, 0.04),
                name="cushion",
            )
        )
    if rng.random() < 0.5:
        turn = _rotation((0.0, 0.0, 1.0), _u(rng, 5.0, 15.0))
        ct = _u(rng, 0.08, 0.15)
        top = seat_h + (back_top - seat_h) * _u(rng, 0.7, 0.95)
        for a, b in itertools.pairwise(edges):
            cushion = _rbox(
                (-hx + bt + ct / 2 - 0.03, (seat_h - 0.02 + top) / 2, (a + b) / 2),
                (ct / 2, (top - seat_h + 0.02) / 2, (b - a) / 2 - 0.004),
                0.03,
                name="back-cushion",
            )
            d.add(*_about([cushion], turn, (-hx + bt, seat_h, 0.0)))
        d.style.append("back-cushions")
    chaise_depth = _u(rng, 0.5, 0.9)
    if chaise:
        cw = min(_u(rng, 0.6, 0.9), length * 0.45)
        zc = chaise_side * (hz - cw / 2)
        d.add(
            _box(
                (hx + chaise_depth / 2 - 0.02, (base_y + y_base) / 2, zc),
                (chaise_depth / 2 + 0.02, (y_base - base_y) / 2, cw / 2),
                name="chaise",
            )
        )
        d.add(
            _rbox(
                (hx + chaise_depth / 2 - 0.01, (y_base - 0.01 + seat_h) / 2, zc),
                (chaise_depth / 2 + 0.01, (seat_h - y_base + 0.01) / 2, cw / 2 - 0.004),
                _u(rng, 0.01, 0.04),
                name="chaise-cushion",
            )
        )
    if legs:
        r = _u(rng, 0.015, 0.03)
        x_front = hx + (chaise_depth if chaise else 0.0)
        corners = [(x, z) for x in (-hx + 0.05, hx - 0.05) for z in (-hz + 0.05, hz - 0.05)]
        if chaise:
            corners.append((x_front - 0.05, chaise_side * (hz - 0.05)))
        shape = _pick(rng, {"square": 0.4, "round": 0.3, "tapered": 0.3})
        d.add(*_legs(corners, base_y + 0.01, r, shape)[0])


# Cabinets (02933112): a box body with doors and drawers on the +x face (bar handles make loops), plinth, legs
# or nothing underneath, an overhanging top; or an open bookcase frame of boards.


def _cabinet(rng: np.random.Generator, d: _Draft) -> None:
    width, depth, height = _u(rng, 0.4, 1.2), _u(rng, 0.35, 0.6), _u(rng, 0.45, 1.8)
    foot = _pick(rng, {"plinth": 0.35, "legs": 0.35, "none": 0.3})
    layout = _pick(rng, {"doors": 0.35, "drawers": 0.25, "mixed": 0.25, "open": 0.15})
    d.style += [foot, layout]
    fh = _u(rng, 0.04, 0.12) if foot != "none" else 0.0
    hx, hz = depth / 2, width / 2
    y0, y1 = fh, fh + height
    if foot == "plinth":
        d.add(_box((0.0, fh / 2 + 0.0025, 0.0), (hx - 0.03, fh / 2 + 0.0025, hz - 0.03), name="plinth"))
    elif foot == "legs":
        r = _u(rng, 0.012, 0.025)
        corners = [(x, z) for x in (-hx + 0.03, hx - 0.03) for z in (-hz + 0.03, hz - 0.03)]
        d.add(*_legs(corners, fh + 0.01, r, _pick(rng, {"round": 0.5, "tapered": 0.3, "square": 0.2}))[0])
    if rng.random() < 0.4:
        oh, tt = _u(rng, 0.005, 0.04), _u(rng, 0.015, 0.04)
        d.add(_box((oh / 2, y1 + tt / 2 - 0.005, 0.0), (hx + oh / 2, tt / 2, hz + oh), name="top"))
    if layout == "open":
        board = _u(rng, 0.015, 0.03)
        d.add(
            *(
                _box((0.0, (y0 + y1) / 2, sz * (hz - board / 2)), (hx, height / 2, board / 2), name="side")
                for sz in (-1.0, 1.0)
            )
        )
        d.add(
            *(_box((0.0, y, 0.0), (hx, board / 2, hz - 0.005), name="board") for y in (y0 + board / 2, y1 - board / 2))
        )
        k = int(rng.integers(1, 5))
        for y in np.linspace(y0, y1, k + 2)[1:-1]:
            d.add(_box((0.0, float(y), 0.0), (hx - 0.01, board / 2, hz - 0.005), name="shelf"))
        if rng.random() < 0.5:
            d.add(_box((-hx + board / 2, (y0 + y1) / 2, 0.0), (board / 2, height / 2 - 0.005, hz - 0.005), name="back"))
            d.style.append("backed")
        d.style.append(f"shelves{k}")
        return
    d.add(_box((0.0, (y0 + y1) / 2, 0.0), (hx, height / 2, hz), name="body"))
    margin, gap, pt = _u(rng, 0.012, 0.04), _u(rng, 0.006, 0.015), _u(rng, 0.012, 0.025)
    handle = _pick(rng, {"bar": 0.55, "knob": 0.3, "none": 0.15})
    d.style.append(handle)
    face_x = hx + pt - 0.005  # front face of the doors and drawers
    lo_y, hi_y = y0 + margin, y1 - margin
    lo_z, hi_z = -hz + margin, hz - margin
    panels: list[tuple[float, float, float, float, str]] = []  # (y_a, y_b, z_a, z_b, kind)
    if layout in ("drawers", "mixed"):
        rows = int(rng.integers(2, 6)) if layout == "drawers" else int(rng.integers(1, 4))
        drawer_h = (hi_y - lo_y) / rows if layout == "drawers" else min(_u(rng, 0.12, 0.25), (hi_y - lo_y) / (rows + 1))
        columns = 2 if (width > 0.8 and rng.random() < 0.5) else 1
        for i in range(rows):
            ya, yb = hi_y - (i + 1) * drawer_h, hi_y - i * drawer_h
            for zc in np.linspace(lo_z, hi_z, columns + 1)[:-1]:
                panels.append((ya, yb, float(zc), float(zc) + (hi_z - lo_z) / columns, "drawer"))
        hi_y -= rows * drawer_h
    if layout in ("doors", "mixed") and hi_y - lo_y > 0.1:
        columns = 1 if width < 0.55 else int(rng.integers(1, 3)) + (width > 1.0)
        if rng.random() < 0.25:  # an open niche instead of the top door row
            niche_h = (hi_y - lo_y) * _u(rng, 0.3, 0.5)
            d.cut(
                _box((hx, hi_y - niche_h / 2, 0.0), (_u(rng, 0.5, 0.8) * depth, niche_h / 2, hz - margin), name="niche")
            )
            hi_y -= niche_h + gap
            d.style.append("niche")
        for zc in np.linspace(lo_z, hi_z, columns + 1)[:-1]:
            panels.append((lo_y, hi_y, float(zc), float(zc) + (hi_z - lo_z) / columns, "door"))
    hr, standoff = _u(rng, 0.005, 0.008), _u(rng, 0.025, 0.045)
    for index, (ya, yb, za, zb, kind) in enumerate(panels):
        ya, yb, za, zb = ya + gap / 2, yb - gap / 2, za + gap / 2, zb - gap / 2
        d.add(
            _box((hx + pt / 2 - 0.005, (ya + yb) / 2, (za + zb) / 2), (pt / 2, (yb - ya) / 2, (zb - za) / 2), name=kind)
        )
        if handle == "none":
            continue
        if kind == "drawer":
            hy, hzc = (ya + yb) / 2, (za + zb) / 2
            span = min(0.3 * (zb - za), 0.12)
            ends = [(hy, hzc - span / 2), (hy, hzc + span / 2)]
        else:
            # Door handles sit near the opening edge: doors alternate left and right in a row.
            hzc = zb - 0.04 if index % 2 == 0 else za + 0.04
            span = min(0.3 * (yb - ya), 0.2)
            hy = (ya + yb) / 2 if yb - ya < 0.6 else yb - 0.1 - span / 2
            ends = [(hy - span / 2, hzc), (hy + span / 2, hzc)]
        if handle == "bar":
            (ya_, za_), (yb_, zb_) = ends
            d.add(
                _tube(
                    [
                        (face_x - 0.003, ya_, za_),
                        (face_x + standoff, ya_, za_),
                        (face_x + standoff, yb_, zb_),
                        (face_x - 0.003, yb_, zb_),
                    ],
                    hr,
                    name="handle",
                )
            )
        else:
            cy = sum(e[0] for e in ends) / 2
            cz = sum(e[1] for e in ends) / 2
            kr = _u(rng, 0.012, 0.02)
            d.add(_sphere((face_x + kr * 0.7, cy, cz), kr, name="knob"))


# Displays (03211117): a screen facing +x (wide along z) with a bezel recess; on a neck and base (sometimes
# with a hole through the neck, or a two-post neck that makes a loop), on two feet, a CRT body, or bare.


def _display(rng: np.random.Generator, d: _Draft) -> None:
    width = _u(rng, 0.5, 0.8)
    aspect = float(rng.choice([16 / 9, 16 / 10, 4 / 3, 21 / 9]))
    sh, th = width / aspect, _u(rng, 0.015, 0.05)
    style = _pick(rng, {"stand": 0.55, "feet": 0.15, "crt": 0.12, "bare": 0.18})
    d.style.append(style)
    lift = {"stand": _u(rng, 0.08, 0.25), "feet": _u(rng, 0.03, 0.1), "crt": 0.06, "bare": 0.0}[style]
    yc = lift + sh / 2
    if style == "crt":
        th = _u(rng, 0.04, 0.08)
    d.add(_rbox((0.0, yc, 0.0), (th / 2, sh / 2, width / 2), _u(rng, 0.002, th / 2), name="screen"))
    if rng.random() < 0.6:
        bezel = _u(rng, 0.01, 0.035)
        d.cut(_box((th / 2, yc, 0.0), (_u(rng, 0.003, 0.008), sh / 2 - bezel, width / 2 - bezel), name="recess"))
    back_x = -th / 2
    if style == "crt":
        depth = _u(rng, 0.25, 0.5)
        profile = [
            (back_x + 0.005, yc - 0.45 * sh),
            (back_x - depth, yc - 0.25 * sh),
            (back_x - depth, yc + 0.2 * sh),
            (back_x + 0.005, yc + 0.45 * sh),
        ]
        d.add(_extrude((0.0, 0.0, 0.0), profile, 0.4 * width, "xy", name="tube"))
        d.add(_box((back_x - depth * 0.3, 0.03 + 0.005, 0.0), (depth * 0.35, 0.03, 0.3 * width), name="base"))
        d.add(_box((back_x - depth * 0.3, yc - 0.3 * sh, 0.0), (0.03, yc - 0.3 * sh - 0.03, 0.08), name="neck"))
        return
    if rng.random() < 0.5:
        bump = _u(rng, 0.01, 0.05)
        d.add(
            _rbox(
                (back_x - bump / 2 + 0.004, yc - 0.1 * sh, 0.0),
                (bump / 2 + 0.004, 0.3 * sh, 0.3 * width),
                0.9 * (bump / 2 + 0.004),
                name="back",
            )
        )
        back_x -= bump
        d.style.append("bump")
    if style == "stand":
        nd, nz = _u(rng, 0.015, 0.04), _u(rng, 0.03, 0.08)
        x_n = back_x - nd / 2 + 0.004
        bt = _u(rng, 0.01, 0.025)
        base = _pick(rng, {"plate": 0.4, "disk": 0.35, "ellipse": 0.25})
        reach = _u(rng, 0.08, 0.15)
        base_x = x_n + reach * 0.3
        if base == "plate":
            d.add(_rbox((base_x, bt / 2, 0.0), (reach, bt / 2, _u(rng, 0.1, 0.22)), bt / 2 * 0.9, name="base"))
        elif base == "disk":
            d.add(_frustum((base_x, 0.0, 0.0), (base_x, bt, 0.0), reach * 1.2, reach * 1.1, name="base"))
        else:
            d.add(_extrude((base_x, bt / 2, 0.0), _ellipse(reach, _u(rng, 0.12, 0.22), 48), bt / 2, "xz", name="base"))
        neck = _pick(rng, {"post": 0.5, "pierced": 0.25, "fork": 0.25})
        d.style += [base, neck]
        neck_top = yc
        if neck == "fork":
            gap = _u(rng, 0.03, 0.08)
            for sz in (-1.0, 1.0):
                d.add(
                    _box(
                        (x_n, (bt + neck_top) / 2, sz * (gap + 0.015)),
                        (nd / 2, (neck_top - bt) / 2 + 0.004, 0.015),
                        name="neck",
                    )
                )
        else:
            d.add(_box((x_n, (bt + neck_top) / 2, 0.0), (nd / 2, (neck_top - bt) / 2 + 0.004, nz), name="neck"))
            free = lift - bt  # neck length between base and screen
            if neck == "pierced" and free > 0.06:
                radius = min(0.6 * nz, 0.35 * free)
                hy = bt + free / 2
                d.cut(_cylinder((x_n - nd, hy, 0.0), (x_n + nd, hy, 0.0), radius, name="neck-hole"))
    elif style == "feet":
        spread = width * _u(rng, 0.25, 0.42)
        for sz in (-1.0, 1.0):
            z = sz * spread
            d.add(_box((0.0, (yc - sh / 2 + 0.03) / 2, z), (0.012, (yc - sh / 2 + 0.03) / 2, 0.012), name="foot-post"))
            d.add(_box((0.0, 0.008, z), (_u(rng, 0.06, 0.12), 0.008, 0.015), name="foot"))


# Lamps (03636649): table lamps (vase base, open shade on spokes = loops), floor lamps, arched desk lamps
# reaching towards +x, articulated arms, ring lamps (a torus); some bases are tori held by spokes.


def _lamp_base(rng: np.random.Generator, d: _Draft, x: float = 0.0) -> float:
    """A lamp base centred at (x, 0, 0); returns the height its stem starts at."""
    kind = _pick(rng, {"disk": 0.45, "box": 0.2, "torus": 0.2, "dome": 0.15})
    d.style.append(f"{kind}-base")
    radius = _u(rng, 0.09, 0.16)
    if kind == "disk":
        h = _u(rng, 0.015, 0.04)
        d.add(_frustum((x, 0.0, 0.0), (x, h, 0.0), radius, radius * _u(rng, 0.7, 1.0), name="base"))
        return h
    if kind == "box":
        h = _u(rng, 0.02, 0.05)
        d.add(_rbox((x, h / 2, 0.0), (radius, h / 2, radius * _u(rng, 0.6, 1.0)), h / 2 * 0.9, name="base"))
        return h
    if kind == "dome":
        h = _u(rng, 0.04, 0.1)
        # Half an ellipse revolved: a flat-bottomed dome.
        arc = [(radius * math.cos(t), h * math.sin(t)) for t in np.linspace(0.0, math.pi / 2, 9)[:-1]]
        d.add(_revolve((x, 0.0, 0.0), (0.0, 1.0, 0.0), [(0.0, 0.0), *arc, (0.0, h)], name="base"))
        return h
    tube = _u(rng, 0.012, 0.025)
    d.add(_torus((x, tube, 0.0), radius, tube, name="base-ring"))
    hub = _u(rng, 0.025, 0.04)
    d.add(_cylinder((x, 0.0, 0.0), (x, 2 * tube + 0.01, 0.0), hub, name="hub"))
    n = int(rng.integers(2, 5))
    for k in range(n):
        a = 2 * math.pi * k / n
        d.add(_tube([(x, tube, 0.0), (x + radius * math.cos(a), tube, radius * math.sin(a))], 0.6 * tube, name="spoke"))
    return 2 * tube + 0.01


def _open_shade(rng: np.random.Generator, d: _Draft, hub: np.ndarray, y_top: float) -> None:
    """An open conical shade whose top rim is at y_top, held by 2-4 spokes from `hub` (one loop per spoke)."""
    r_top, r_bot = _u(rng, 0.06, 0.14), _u(rng, 0.12, 0.24)
    sh, wall = _u(rng, 0.12, 0.25), _u(rng, 0.008, 0.015)
    x, z = float(hub[0]), float(hub[2])
    d.add(_ring((x, y_top - sh, z), (0.0, 1.0, 0.0), r_bot, r_top, sh, wall, name="shade"))
    n = int(rng.integers(2, 5))
    phase = _u(rng, 0.0, 2 * math.pi)
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        rim = (x + (r_top + wall / 2) * math.cos(a), y_top - 0.006, z + (r_top + wall / 2) * math.sin(a))
        d.add(_tube([hub, rim], 0.005, name="spoke"))
    d.style.append(f"open-shade{n}")


def _lamp(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(rng, {"table": 0.3, "floor": 0.2, "arch": 0.25, "arm": 0.15, "ring": 0.1})
    d.style.append(style)
    stem_r = _u(rng, 0.008, 0.02)
    if style in ("table", "floor"):
        if style == "table" and rng.random() < 0.6:
            h, r = _u(rng, 0.15, 0.35), _u(rng, 0.06, 0.13)
            widths = [_u(rng, 0.6, 1.0), _u(rng, 0.8, 1.0), 1.0, _u(rng, 0.5, 1.0), _u(rng, 0.2, 0.4)]
            profile = [(0.0, 0.0)] + [(r * w, h * t) for w, t in zip(widths, np.linspace(0, 1, 5), strict=True)]
            d.add(_revolve((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="vase"))
            y = h - 0.005
            d.style.append("vase")
        else:
            y = _lamp_base(rng, d) - 0.005
        stem_h = _u(rng, 0.15, 0.35) if style == "table" else _u(rng, 1.1, 1.6)
        top = y + stem_h
        d.add(_cylinder((0.0, y, 0.0), (0.0, top + 0.01, 0.0), stem_r, name="stem"))
        shade = _pick(rng, {"open": 0.55, "drum": 0.3, "bowl": 0.15})
        if shade == "open":
            hub = np.array([0.0, top, 0.0])
            d.add(_sphere(hub, 1.6 * stem_r, name="hub"))
            _open_shade(rng, d, hub, top + 0.005)
            if rng.random() < 0.5:
                d.add(_sphere((0.0, top - 0.05, 0.0), _u(rng, 0.02, 0.04), name="bulb"))
        elif shade == "drum":
            r_top, r_bot, sh = _u(rng, 0.06, 0.14), _u(rng, 0.1, 0.22), _u(rng, 0.12, 0.25)
            wall = _u(rng, 0.008, 0.015)
            # Closed on top (the stem ends inside the lid), open below: a cup, genus 0.
            profile = [
                (0.0, sh - wall),
                (r_top, sh - wall),
                (r_bot, 0.0),
                (r_bot + wall, 0.0),
                (r_top + wall, sh),
                (0.0, sh),
            ]
            d.add(_revolve((0.0, top + 0.01 + wall / 2 - sh, 0.0), (0.0, 1.0, 0.0), profile, name="shade"))
            d.style.append("drum")
        else:
            r, sh, wall = _u(rng, 0.12, 0.22), _u(rng, 0.06, 0.12), _u(rng, 0.008, 0.015)
            profile = [(0.0, 0.0), (r, sh), (r - wall, sh), (0.0, wall)]
            d.add(_revolve((0.0, top - 0.005, 0.0), (0.0, 1.0, 0.0), profile, name="bowl"))
            d.style.append("bowl")
    elif style == "arch":
        y = _lamp_base(rng, d) - 0.005
        rise, radius = _u(rng, 0.15, 0.5), _u(rng, 0.15, 0.35)
        end = _u(rng, -20.0, 30.0)
        centre = np.array([radius, y + rise, 0.0])
        path = [np.array([0.0, y, 0.0]), *_arc(centre, radius, 180.0, end, 12)]
        d.add(_tube(path, stem_r, name="neck"))
        tip = path[-1]
        rs, hs, wall = _u(rng, 0.05, 0.12), _u(rng, 0.05, 0.12), _u(rng, 0.008, 0.014)
        t = np.linspace(0.0, 1.0, 7)
        outer = [(rs * math.sin(v * math.pi / 2), hs * (1 - math.cos(v * math.pi / 2))) for v in t]
        inner = [(max(r - wall, 0.0), h + wall) for r, h in outer[::-1]]
        profile = [*outer, (rs - wall, hs), *inner[1:-1], (0.0, wall)]
        direction = np.array([math.sin(math.radians(_u(rng, 0.0, 30.0))), -1.0, 0.0])
        d.add(_revolve(tip - 0.5 * stem_r * direction / np.linalg.norm(direction), direction, profile, name="shade"))
    elif style == "arm":
        y = _lamp_base(rng, d) - 0.005
        a1, a2 = math.radians(_u(rng, 55.0, 85.0)), math.radians(_u(rng, -30.0, 20.0))
        l1, l2 = _u(rng, 0.25, 0.45), _u(rng, 0.25, 0.4)
        p0 = np.array([0.0, y, 0.0])
        p1 = p0 + l1 * np.array([math.cos(a1), math.sin(a1), 0.0])
        p2 = p1 + l2 * np.array([math.cos(a2), math.sin(a2), 0.0])
        if rng.random() < 0.5:  # twin parallel rods: a loop
            gap = _u(rng, 0.015, 0.03)
            for sz in (-1.0, 1.0):
                d.add(
                    _tube([p0 + np.array([0, 0, sz * gap]), p1 + np.array([0, 0, sz * gap])], 0.6 * stem_r, name="rod")
                )
            d.add(
                _cylinder(
                    p0 - np.array([0, 0, gap + stem_r]), p0 + np.array([0, 0, gap + stem_r]), 1.2 * stem_r, name="joint"
                )
            )
            d.add(
                _cylinder(
                    p1 - np.array([0, 0, gap + stem_r]), p1 + np.array([0, 0, gap + stem_r]), 1.2 * stem_r, name="joint"
                )
            )
            d.style.append("twin-rods")
        else:
            d.add(_tube([p0, p1], stem_r, name="arm"))
            d.add(_sphere(p1, 1.5 * stem_r, name="joint"))
        d.add(_tube([p1, p2], stem_r, name="arm"))
        rs, rb, ls, wall = _u(rng, 0.02, 0.04), _u(rng, 0.06, 0.12), _u(rng, 0.08, 0.16), _u(rng, 0.008, 0.014)
        profile = [(0.0, 0.0), (rs, 0.0), (rb, ls), (rb - wall, ls), (rs - wall * 0.5, wall), (0.0, wall)]
        direction = np.array([math.cos(a2 - math.radians(70)), math.sin(a2 - math.radians(70)), 0.0])
        d.add(_revolve(p2 - 0.5 * stem_r * direction, direction, profile, name="shade"))
    else:  # ring lamp: a torus facing +x on a stem
        y = _lamp_base(rng, d) - 0.005
        stem_h, ring, tube = _u(rng, 0.05, 0.3), _u(rng, 0.12, 0.3), _u(rng, 0.015, 0.04)
        d.add(_cylinder((0.0, y, 0.0), (0.0, y + stem_h + tube, 0.0), stem_r, name="stem"))
        d.add(_torus((0.0, y + stem_h + ring, 0.0), ring, tube, axis=(1.0, 0.0, 0.0), name="ring"))


# Loudspeakers (03691459): box, tower or cylinder cabinets with drivers (cone dents, surrounds, dust caps) on the
# +x face, ports (some right through = a loop), handles, feet or stands.


def _loudspeaker(rng: np.random.Generator, d: _Draft) -> None:
    body = _pick(rng, {"box": 0.5, "tower": 0.3, "cylinder": 0.2})
    foot = _pick(rng, {"none": 0.4, "spikes": 0.25, "plinth": 0.2, "stand": 0.15 if body != "tower" else 0.0})
    d.style += [body, foot]
    if body == "tower":
        width, depth, height = _u(rng, 0.18, 0.3), _u(rng, 0.22, 0.38), _u(rng, 0.8, 1.1)
    else:
        width, depth, height = _u(rng, 0.18, 0.35), _u(rng, 0.18, 0.35), _u(rng, 0.28, 0.5)
    y0 = {"none": 0.0, "spikes": _u(rng, 0.03, 0.06), "plinth": _u(rng, 0.02, 0.04), "stand": _u(rng, 0.4, 0.7)}[foot]
    hx, hz = depth / 2, width / 2
    yc = y0 + height / 2
    dents: list[Part] = []
    if body == "cylinder":
        radius = min(hx, hz) * 1.1
        hx = hz = radius
        shell = _cylinder((0.0, y0, 0.0), (0.0, y0 + height, 0.0), radius, name="body")
    else:
        shell = _rbox((0.0, yc, 0.0), (hx, height / 2, hz), _u(rng, 0.003, 0.03), name="body")
    # Drivers from the top down: a tweeter, then 1-3 woofers, in the space above the port.
    port = _pick(rng, {"none": 0.45, "front": 0.35, "through": 0.2})
    port_r = _u(rng, 0.015, 0.03)
    low = y0 + (0.03 + 2 * port_r if port != "none" else 0.02)
    high = y0 + height - 0.02
    n_woofers = int(rng.integers(1, 4 if body == "tower" else 3))
    woofer = min(_u(rng, 0.05, 0.11), 0.85 * hz, (high - low) / (2 * n_woofers + 1))
    tweeter = min(_u(rng, 0.02, 0.035), 0.8 * woofer)
    radii = [tweeter] + [woofer] * n_woofers
    y = high
    surface: list[Part] = []
    for r in radii:
        y -= r + 0.01
        centre = np.array([hx, y, 0.0])
        tube = max(0.1 * r, 0.004)
        # Sunk a little so its equator is not in the plane of the baffle.
        surface.append(
            _torus(centre - np.array([0.15 * tube, 0, 0]), r - tube, tube, axis=(1.0, 0.0, 0.0), name="surround")
        )
        depth_d = min(0.4 * r, 0.4 * hx)
        dents.append(
            _frustum(
                centre + np.array([0.02, 0, 0]),
                centre - np.array([depth_d, 0, 0]),
                r - 2 * tube + 0.02 * 0.6,
                0.35 * (r - 2 * tube),
                name="cone",
            )
        )
        if r > tweeter:
            surface.append(
                _ellipsoid(centre - np.array([depth_d * 0.6, 0, 0]), (0.35 * r, 0.3 * r, 0.3 * r), name="dust-cap")
            )
        else:
            surface.append(_ellipsoid(centre - np.array([0.01, 0, 0]), (0.6 * r + 0.01, 0.6 * r, 0.6 * r), name="dome"))
        y -= r
    if port != "none":
        py = y0 + 0.015 + port_r
        back = -hx - 0.05 if port == "through" else hx - _u(rng, 0.05, 0.9) * depth
        if port == "through":
            d.cut(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
        else:
            dents.append(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
    d.add(_difference([shell, *dents], name="cabinet"), *surface)
    if rng.random() < 0.25:
        top, hh = y0 + height, _u(rng, 0.03, 0.07)
        span = 0.6 * hx
        d.add(
            _tube(
                [(-span, top - 0.01, 0.0), (-span, top + hh, 0.0), (span, top + hh, 0.0), (span, top - 0.01, 0.0)],
                _u(rng, 0.007, 0.012),
                name="handle",
            )
        )
        d.style.append("handle")
    if foot == "spikes":
        for x in (-hx * 0.7, hx * 0.7):
            for z in (-hz * 0.7, hz * 0.7):
                d.add(_frustum((x, 0.0, z), (x, y0 + 0.01, z), 0.003, _u(rng, 0.012, 0.02), name="spike"))
    elif foot == "plinth":
        d.add(_box((0.0, y0 / 2 + 0.0025, 0.0), (hx * 1.1, y0 / 2 + 0.0025, hz * 1.15), name="plinth"))
    elif foot == "stand":
        d.add(_box((0.0, y0 - 0.008, 0.0), (hx * 0.8, 0.01, hz * 0.8), name="plate"))
        d.add(_cylinder((0.0, 0.01, 0.0), (0.0, y0 - 0.01, 0.0), _u(rng, 0.015, 0.03), name="pole"))
        d.add(_box((0.0, 0.01, 0.0), (_u(rng, 0.1, 0.16), 0.01, _u(rng, 0.1, 0.16)), name="foot-plate"))


# Rifles (04090263): along x, muzzle at +x: receiver, barrel, stock (some with a thumbhole), pistol grip, a trigger
# guard (always a loop), magazine, handguard; optional scope on two mounts or carry handle (more loops), bipod.


def _rifle(rng: np.random.Generator, d: _Draft) -> None:
    lr, hr, wr = _u(rng, 0.2, 0.32), _u(rng, 0.05, 0.08), _u(rng, 0.022, 0.035)
    xr0, yr = -0.12, 0.0  # receiver rear end and centre height
    xr1 = xr0 + lr
    d.add(_box(((xr0 + xr1) / 2, yr, 0.0), (lr / 2, hr / 2, wr / 2), name="receiver"))
    rb, muzzle = _u(rng, 0.007, 0.013), _u(rng, 0.45, 0.6)
    by = yr + hr * _u(rng, 0.0, 0.25)
    d.add(_cylinder((xr1 - 0.01, by, 0.0), (muzzle, by, 0.0), rb, name="barrel"))
    if rng.random() < 0.5:
        d.add(
            _cylinder(
                (muzzle - _u(rng, 0.03, 0.06), by, 0.0),
                (muzzle + 0.005, by, 0.0),
                rb * _u(rng, 1.4, 2.0),
                name="muzzle",
            )
        )
    if rng.random() < 0.65:
        lh = _u(rng, 0.15, 0.3)
        if rng.random() < 0.5:
            d.add(_cylinder((xr1 - 0.01, by, 0.0), (xr1 + lh, by, 0.0), _u(rng, 0.016, 0.026), name="handguard"))
        else:
            hh = _u(rng, 0.03, 0.05)
            d.add(
                _rbox(
                    (xr1 + lh / 2 - 0.01, by - hh * 0.2, 0.0),
                    (lh / 2 + 0.01, hh / 2, wr / 2 * 0.95),
                    0.008,
                    name="handguard",
                )
            )
        d.style.append("handguard")
    # Stock: a side profile from the receiver back to the butt, extruded across.
    butt_x, drop, butt_h = xr0 - _u(rng, 0.3, 0.42), _u(rng, 0.0, 0.05), _u(rng, 0.1, 0.16)
    top_rear, bot_rear = yr + hr / 2 - drop, yr + hr / 2 - drop - butt_h
    # The top line runs straight to the butt; the belly dips in at the wrist behind the grip.
    wrist_x, top_front = xr0 - _u(rng, 0.08, 0.14), yr + hr / 2 * 0.8
    top_chain = np.array([[butt_x, top_rear], [xr0 + 0.02, top_front]])
    bottom_chain = np.array(
        [[butt_x, bot_rear], [wrist_x, yr - hr / 2 - _u(rng, 0.0, 0.02)], [xr0 + 0.02, yr - hr / 2 + 0.005]]
    )
    stock = [tuple(top_chain[1]), tuple(top_chain[0]), *(tuple(p) for p in bottom_chain)]
    # Narrower or wider than the receiver, never flush with it (flush faces leave needle triangles).
    ws = wr / 2 * (_u(rng, 0.7, 0.9) if rng.random() < 0.5 else _u(rng, 1.15, 1.4))
    d.add(_extrude((0.0, 0.0, 0.0), stock, ws, "xy", name="stock"))
    if rng.random() < 0.35:
        # A thumbhole through the stock, its box kept inside the profile at both of its ends (a loop).
        hx_ = _u(rng, 0.12, 0.2) * (xr0 - butt_x)
        cx = _u(rng, butt_x + hx_ + 0.04, wrist_x - hx_)
        ends = np.array([cx - hx_, cx + hx_])
        top = float(np.interp(ends, top_chain[:, 0], top_chain[:, 1]).min())
        bottom = float(np.interp(ends, bottom_chain[:, 0], bottom_chain[:, 1]).max())
        hy = 0.3 * (top - bottom)
        if hy > 0.008:
            d.cut(_rbox((cx, (top + bottom) / 2, 0.0), (hx_, hy, 2 * ws), 0.9 * min(hx_, hy), name="thumbhole"))
            d.style.append("thumbhole")
    # Pistol grip behind the trigger guard, slanting backwards.
    xg, gl, slant, gw = xr0 + _u(rng, 0.04, 0.08), _u(rng, 0.07, 0.11), _u(rng, 0.02, 0.05), _u(rng, 0.025, 0.035)
    y_under = yr - hr / 2
    grip = [
        (xg, y_under + 0.01),
        (xg - slant, y_under - gl),
        (xg - slant - gw, y_under - gl),
        (xg - gw, y_under + 0.01),
    ]
    d.add(_extrude((0.0, 0.0, 0.0), grip, wr / 2 * 0.9, "xy", name="grip"))
    gd, gr = _u(rng, 0.035, 0.05), _u(rng, 0.004, 0.006)
    front = xg + _u(rng, 0.06, 0.08)
    y_join = y_under - 0.6 * gd
    x_join = xg - slant * (y_under + 0.01 - y_join) / (gl + 0.01) - 0.01
    d.add(
        _tube(
            [
                (front, y_under + 0.004, 0.0),
                (front, y_under - gd, 0.0),
                (xg + 0.005, y_under - gd, 0.0),
                (x_join, y_join, 0.0),
            ],
            gr,
            name="trigger-guard",
        )
    )
    d.add(_box((xg + 0.03, y_under - 0.012, 0.0), (0.004, 0.016, 0.004), name="trigger"))
    if rng.random() < 0.8:
        ml, mw = _u(rng, 0.08, 0.2), _u(rng, 0.025, 0.04)
        mx = front + gr + 0.015 + mw / 2
        mag = _box((mx, y_under + 0.01 - ml / 2, 0.0), (mw / 2, ml / 2, wr / 2 * 0.8), name="magazine")
        d.add(*_about([mag], _rotation((0.0, 0.0, 1.0), _u(rng, 0.0, 20.0)), (mx, y_under, 0.0)))
        d.style.append("magazine")
    top = yr + hr / 2
    sight = _pick(rng, {"scope": 0.45, "handle": 0.15, "none": 0.4})
    d.style.append(sight)
    if sight == "scope":
        rs, ls, mh = _u(rng, 0.012, 0.02), _u(rng, 0.18, 0.3), _u(rng, 0.025, 0.05)
        x0 = (xr0 + xr1) / 2 - ls / 2
        ys = top + mh
        bell = rs * _u(rng, 1.2, 1.7)
        profile = [
            (0.0, 0.0),
            (bell, 0.0),
            (bell, 0.04),
            (rs, 0.07),
            (rs, ls - 0.06),
            (bell * 1.1, ls - 0.02),
            (bell * 1.1, ls),
            (0.0, ls),
        ]
        d.add(_revolve((x0, ys, 0.0), (1.0, 0.0, 0.0), profile, name="scope"))
        for x in (x0 + 0.09, x0 + ls - 0.09):
            d.add(_box((x, (top + ys) / 2, 0.0), (0.01, mh / 2 + 0.005, 0.008), name="mount"))
    elif sight == "handle":
        hh = _u(rng, 0.03, 0.05)
        d.add(
            _tube(
                [
                    (xr0 + 0.04, top - 0.005, 0.0),
                    (xr0 + 0.05, top + hh, 0.0),
                    (xr1 - 0.05, top + hh, 0.0),
                    (xr1 - 0.04, top - 0.005, 0.0),
                ],
                0.006,
                name="carry-handle",
            )
        )
    if rng.random() < 0.2:
        bx, spread, bl = xr1 + _u(rng, 0.12, 0.25), _u(rng, 0.04, 0.08), _u(rng, 0.12, 0.2)
        for sz in (-1.0, 1.0):
            d.add(_tube([(bx, by, 0.0), (bx + 0.03, by - bl, sz * spread)], 0.005, name="bipod"))
        d.style.append("bipod")


# Telephones (04401088): upright smartphones and bar phones (screen towards +x), open flip phones, and desk
# phones with the handset on the cradle (a cord makes a loop) or lying beside the base (two bodies).


def _telephone(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(rng, {"smartphone": 0.4, "flip": 0.15, "bar": 0.15, "desk": 0.3})
    d.style.append(style)
    if style == "desk":
        _desk_phone(rng, d)
        return
    h = 1.0
    w, t = h * _u(rng, 0.42, 0.56), h * _u(rng, 0.04, 0.09)
    if style == "flip":
        h1 = h * _u(rng, 0.45, 0.55)
        d.add(_rbox((0.0, h1 / 2, 0.0), (t / 2, h1 / 2, w / 2), 0.9 * t / 2, name="keypad-half"))
        hinge_r = 0.6 * t
        hinge = np.array([0.0, h1, 0.0])
        d.add(
            _cylinder(
                hinge - np.array([0, 0, w / 2 * 0.9]), hinge + np.array([0, 0, w / 2 * 0.9]), hinge_r, name="hinge"
            )
        )
        upper = _rbox((0.0, h1 + (h - h1) / 2, 0.0), (t / 2 * 0.9, (h - h1) / 2, w / 2), 0.9 * t / 2 * 0.9, name="lid")
        d.add(*_about([upper], _rotation((0.0, 0.0, 1.0), -_u(rng, 10.0, 35.0)), hinge))
        _keypad(rng, d, t / 2, h1 * 0.15, h1 * 0.75, w)
        return
    if rng.random() < 0.5:
        d.add(_rbox((0.0, h / 2, 0.0), (t / 2, h / 2, w / 2), _u(rng, 0.5, 0.95) * t / 2, name="body"))
    else:
        d.add(
            _extrude((0.0, h / 2, 0.0), _rounded_rect(w / 2, h / 2, _u(rng, 0.03, 0.12), 6), t / 2, "zy", name="body")
        )
    screen_lo = h * (0.12 if style == "smartphone" else 0.5)
    margin = w * _u(rng, 0.04, 0.1)
    if rng.random() < 0.6:
        d.cut(
            _box(
                (t / 2, (screen_lo + h - margin) / 2, 0.0),
                (_u(rng, 0.003, 0.008), (h - margin - screen_lo) / 2, w / 2 - margin),
                name="screen",
            )
        )
    else:
        d.add(
            _box(
                (t / 2, (screen_lo + h - margin) / 2, 0.0),
                (_u(rng, 0.003, 0.008), (h - margin - screen_lo) / 2, w / 2 - margin),
                name="screen",
            )
        )
    if style == "bar":
        _keypad(rng, d, t / 2, h * 0.08, h * 0.42, w)
        if rng.random() < 0.7:
            d.add(
                _cylinder(
                    (0.0, h - 0.05, w / 3), (0.0, h + _u(rng, 0.08, 0.25), w / 3), _u(rng, 0.012, 0.025), name="antenna"
                )
            )
    if rng.random() < 0.7:
        cw = _u(rng, 0.1, 0.25)
        d.add(
            _rbox(
                (-t / 2, h - 0.05 - cw / 2, w / 2 - 0.05 - cw / 2),
                (_u(rng, 0.008, 0.02), cw / 2, cw / 2),
                0.006,
                name="camera",
            )
        )
    if rng.random() < 0.5:
        d.add(_box((0.0, h * 0.7, w / 2), (t / 4, _u(rng, 0.04, 0.1), 0.006), name="button"))


def _keypad(rng: np.random.Generator, d: _Draft, face_x: float, y0: float, y1: float, w: float) -> None:
    """A 3 x 4 grid of keys standing on the face at x = face_x between heights y0 and y1."""
    key_h, key_w = (y1 - y0) / 4 * 0.35, w / 3 * _u(rng, 0.2, 0.35)
    for row in range(4):
        for col in range(3):
            y = y0 + (y1 - y0) * (row + 0.5) / 4
            z = w * (col - 1) / 3.5
            d.add(_box((face_x, y, z), (0.008, key_h, key_w), name="key"))


def _desk_phone(rng: np.random.Generator, d: _Draft) -> None:
    depth, width = _u(rng, 0.2, 0.28), _u(rng, 0.18, 0.26)
    h_back, h_front = _u(rng, 0.07, 0.11), _u(rng, 0.03, 0.05)
    hx = depth / 2
    d.add(
        _extrude(
            (0.0, 0.0, 0.0),
            [(-hx, 0.0), (hx, 0.0), (hx, h_front), (-hx + 0.05, h_back), (-hx, h_back)],
            width / 2,
            "xy",
            name="base",
        )
    )
    slope = math.atan2(h_back - h_front, depth - 0.05)
    turn = _rotation((0.0, 0.0, 1.0), math.degrees(slope))
    for row in range(4):
        for col in range(3):
            u = hx - 0.02 - row * 0.03
            y = h_front + (hx - u) * math.tan(slope)
            key = _box((u, y, (col - 1) * 0.035), (0.009, 0.006, 0.011), name="key")
            d.add(*_about([key], turn, (u, y, 0.0)))
    hl, hr = _u(rng, 0.18, 0.24), _u(rng, 0.012, 0.018)
    handset_x = -hx + 0.025
    cordless = rng.random() < 0.3
    earpiece = (0.025, 0.02, 0.03)
    y_h = h_back + 0.016 + hr - 0.006  # sunk 6 mm into the cradle so the two are one body
    if cordless:
        # Lying on the floor beside the base, clear of it (a second body).
        lowest = min(y_h - hr, y_h - 0.4 * hr - earpiece[1])
        offset = np.array([0.0, -lowest, width / 2 + hl / 2 + earpiece[2] + _u(rng, 0.04, 0.1)])
        d.components = 2
        d.style.append("cordless")
    else:
        offset = np.zeros(3)
        d.add(_rbox((handset_x, h_back + 0.004, 0.0), (0.022, 0.012, width * 0.35), 0.008, name="cradle"))
    handset = [_tube([(handset_x, y_h, -hl / 2), (handset_x, y_h, hl / 2)], hr, name="handle")]
    for sz in (-1.0, 1.0):
        handset.append(_ellipsoid((handset_x, y_h - hr * 0.4, sz * hl / 2), earpiece, name="earpiece"))
    d.add(*_shifted(handset, offset))
    if not cordless and rng.random() < 0.8:
        start = np.array([handset_x, y_h - 0.01, -hl / 2 - 0.01])
        side = -width / 2 - _u(rng, 0.03, 0.08)
        low = _u(rng, 0.015, 0.04)
        path: list[Vec] = [
            start,
            (handset_x - 0.01, low + 0.02, side),
            (0.0, low, side - 0.02),
            (hx * 0.5, low + 0.01, side),
            (hx * 0.5, h_front * 0.6, -width / 2 + 0.01),
        ]
        d.add(_tube(path, 0.005, name="cord"))
        d.style.append("cord")


# Watercraft (04530566): hulls as the intersection of a side profile, a plan shape and a V section, bow at +x:
# motorboats, ships, sailboats, open rowing boats with thwarts (loops), catamarans and submarines.


def _plan_width(x: np.ndarray, length: float, beam: float, transom: float) -> np.ndarray:
    """Half width of a hull's plan at stations x: widest just aft of midships, a point at the bow."""
    xs, xb, xm = -length / 2, length / 2, -0.1 * length
    aft = beam / 2 * (transom + (1 - transom) * (1 - ((xm - x) / (xm - xs)) ** 2))
    fore = beam / 2 * np.clip(1 - ((x - xm) / (xb - xm)) ** 2, 0.0, 1.0) ** 0.7
    return np.where(x < xm, aft, fore)


def _hull(
    length: float, beam: float, depth: float, rng: np.random.Generator, name: str = "hull", lift: float = 0.0
) -> tuple[Part, float]:
    """A hull with its keel at y = lift and deck at about lift + depth; returns it and its transom ratio."""
    transom, deadrise, flare = _u(rng, 0.45, 0.9), _u(rng, 0.15, 0.5), _u(rng, 0.0, 0.03)
    bow, sheer = _u(rng, 0.15, 0.3) * length, _u(rng, 1.05, 1.2)
    xs, xb = -length / 2, length / 2
    side = [(xs, depth), (xs, depth * _u(rng, 0.2, 0.5)), (xs + 0.15 * length, 0.0), (xb - bow, 0.0)]
    side += [(xb - bow + bow * t, depth * sheer * t**2) for t in (0.3, 0.55, 0.8, 1.0)]
    stations = np.linspace(xs, xb, 14)
    half = _plan_width(stations, length, beam, transom)
    plan = [(float(x), float(w)) for x, w in zip(stations[:-1], half[:-1], strict=True)] + [(xb, 0.0)]
    plan += [(float(x), -float(w)) for x, w in zip(stations[-2::-1], half[-2::-1], strict=True)]
    top = depth * 1.5
    section = [
        (0.0, 0.0),
        (beam / 2, deadrise * depth),
        (beam / 2 + flare, top),
        (-beam / 2 - flare, top),
        (-beam / 2, deadrise * depth),
    ]
    hull = _intersection(
        [
            _extrude((0.0, 0.0, 0.0), side, beam, "xy"),
            _extrude((0.0, depth * 0.75, 0.0), plan, depth, "xz"),
            _extrude((0.0, 0.0, 0.0), section, length, "zy"),
        ],
        name=name,
    )
    return hull.moved(np.eye(3), (0.0, lift, 0.0)), transom


def _watercraft(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(
        rng, {"motorboat": 0.28, "ship": 0.2, "sailboat": 0.2, "rowboat": 0.14, "catamaran": 0.1, "submarine": 0.08}
    )
    d.style.append(style)
    length = 1.0
    if style == "submarine":
        r = _u(rng, 0.05, 0.08)
        bow, stern = _u(rng, 0.1, 0.2), _u(rng, 0.25, 0.4)
        profile = [(0.0, 0.0)]
        for v in np.linspace(0.0, 1.0, 17)[:-1]:
            if v < stern:  # a long taper to the propeller
                radius = r * (0.15 + 0.85 * math.sin(0.5 * math.pi * v / stern))
            elif v > 1.0 - bow:  # a blunt rounded bow
                radius = r * math.sqrt(max(1.0 - ((v - 1.0 + bow) / bow) ** 2, 0.0))
            else:
                radius = r
            profile.append((radius, length * float(v)))
        profile.append((0.0, length))
        d.add(_revolve((-length / 2, 0.0, 0.0), (1.0, 0.0, 0.0), profile, name="hull"))
        d.add(_cylinder((-length / 2 - 0.03, 0.0, 0.0), (-length / 2 + 0.01, 0.0, 0.0), 0.15 * r, name="shaft"))
        blades = int(rng.integers(3, 6))
        for k in range(blades):
            blade = _box((-length / 2 - 0.02, 0.3 * r, 0.0), (0.005, 0.3 * r, 0.012), name="blade")
            d.add(*_about([blade], _rotation((1.0, 0.0, 0.0), 360.0 * k / blades), (0.0, 0.0, 0.0)))
        sail_h, sail_l = _u(rng, 0.06, 0.12), _u(rng, 0.1, 0.18)
        sx = _u(rng, 0.0, 0.2)
        d.add(_rbox((sx, r + sail_h / 2 - 0.01, 0.0), (sail_l / 2, sail_h / 2 + 0.01, 0.02), 0.015, name="sail"))
        d.add(_box((sx + 0.02, r + sail_h * 0.6, 0.0), (0.02, 0.004, 0.07), name="planes"))
        for angle in (0.0, 90.0):
            fin = _box((-length / 2 + 0.08, 0.0, 0.0), (0.035, 0.004, r * 1.6), name="fin")
            d.add(*_about([fin], _rotation((1.0, 0.0, 0.0), angle), (0.0, 0.0, 0.0)))
        return
    if style == "catamaran":
        beam, depth, spacing = _u(rng, 0.07, 0.11), _u(rng, 0.06, 0.1), _u(rng, 0.15, 0.25)
        hull, _ = _hull(length, beam, depth, rng)
        d.add(hull.moved(np.eye(3), (0.0, 0.0, spacing)), hull.moved(np.eye(3), (0.0, 0.0, -spacing)))
        if rng.random() < 0.5:
            d.add(_box((-0.05, depth + 0.01, 0.0), (0.25, 0.015, spacing + 0.02), name="deck"))
            deck, mast_x = depth + 0.025, -0.05
            d.style.append("deck")
        else:
            for x in (-0.25, 0.15):
                d.add(_box((x, depth + 0.005, 0.0), (0.02, 0.015, spacing + 0.02), name="beam"))
            deck, mast_x = depth + 0.02, 0.15  # the mast stands on the front beam
            d.style.append("beams")
        if rng.random() < 0.7:
            _rig(rng, d, mast_x, deck - 0.01, 0.45)
        return
    beam = {
        "motorboat": _u(rng, 0.25, 0.35),
        "ship": _u(rng, 0.12, 0.18),
        "sailboat": _u(rng, 0.22, 0.32),
        "rowboat": _u(rng, 0.3, 0.4),
    }[style]
    depth = {
        "motorboat": _u(rng, 0.08, 0.13),
        "ship": _u(rng, 0.07, 0.11),
        "sailboat": _u(rng, 0.07, 0.1),
        "rowboat": _u(rng, 0.1, 0.14),
    }[style]
    hull, transom = _hull(length, beam, depth, rng)
    if style == "rowboat":
        wall = _u(rng, 0.012, 0.02)
        inner, _ = _hull(
            length - 4 * wall,
            beam - 2.5 * wall,
            depth * 1.5,
            np.random.default_rng(rng.integers(2**32)),
            name="cavity",
            lift=1.5 * wall,
        )
        d.add(_difference([hull, inner], name="hull"))
        n = int(rng.integers(1, 4))
        for x in np.linspace(-0.25, 0.2, n):
            w = float(_plan_width(np.array([x]), length, beam, transom)[0])
            d.add(_box((float(x), depth - 0.025, 0.0), (0.03, 0.008, w - wall * 0.4), name="thwart"))
        d.style.append(f"thwarts{n}")
        return
    d.add(hull)
    deck = depth - 0.005  # the sheer line rises towards the bow, so the deck is nowhere lower than this
    if style == "motorboat":
        cl, ch = _u(rng, 0.2, 0.35), _u(rng, 0.06, 0.12)
        cx = _u(rng, -0.2, 0.05)
        cw = float(_plan_width(np.array([cx + cl / 2]), length, beam, transom)[0]) * 0.75
        d.add(_rbox((cx, deck + ch / 2, 0.0), (cl / 2, ch / 2 + 0.005, cw), 0.02, name="cabin"))
        if rng.random() < 0.6:
            front = cx + cl / 2 - 0.03
            screen = _box((front, deck + ch + 0.025, 0.0), (0.004, 0.035, cw * 0.9), name="windscreen")
            d.add(*_about([screen], _rotation((0.0, 0.0, 1.0), _u(rng, 15.0, 35.0)), (front, deck + ch, 0.0)))
        if rng.random() < 0.4:
            _railing(rng, d, length, beam, transom, deck)
    elif style == "ship":
        x, w = _u(rng, -0.25, -0.05), beam * 0.35
        y, ll = deck, 0.0
        for level in range(int(rng.integers(1, 4))):
            ll, lh = _u(rng, 0.15, 0.3) * (0.8**level), _u(rng, 0.04, 0.07)
            d.add(_box((x, y + lh / 2, 0.0), (ll / 2, lh / 2 + 0.005, w * 0.9**level), name="deckhouse"))
            y += lh
        funnels = int(rng.integers(0, 3))
        for k in range(funnels):
            fx = x - ll / 2 + ll * (k + 1) / (funnels + 1)
            d.add(
                _frustum(
                    (fx, y - 0.01, 0.0),
                    (fx - 0.01, y + _u(rng, 0.06, 0.12), 0.0),
                    _u(rng, 0.02, 0.035),
                    _u(rng, 0.018, 0.03),
                    name="funnel",
                )
            )
        for mx in (x + 0.3 * ll, _u(rng, 0.2, 0.3))[: int(rng.integers(1, 3))]:
            base = y if mx < x + ll / 2 else deck
            mh = _u(rng, 0.1, 0.25)
            d.add(_cylinder((mx, base - 0.01, 0.0), (mx, base + mh, 0.0), 0.006, name="mast"))
            d.add(_box((mx, base + mh * 0.8, 0.0), (0.004, 0.004, _u(rng, 0.03, 0.06)), name="yard"))
        if rng.random() < 0.3:
            _railing(rng, d, length, beam, transom, deck)
    else:  # sailboat: keel fin, mast, boom, sails
        kd = _u(rng, 0.08, 0.16)
        d.add(
            _extrude(
                (0.0, 0.0, 0.0), [(-0.12, 0.01), (0.02, 0.01), (-0.02, -kd), (-0.1, -kd)], 0.008, "xy", name="keel"
            )
        )
        _rig(rng, d, _u(rng, -0.05, 0.1), deck, length / 2)


def _rig(rng: np.random.Generator, d: _Draft, mast_x: float, deck: float, fore: float) -> None:
    """Mast, boom and sails standing on a deck at height `deck`; the jib reaches forward to x = fore - 0.05."""
    mh = _u(rng, 0.6, 1.1)
    d.add(_cylinder((mast_x, deck - 0.01, 0.0), (mast_x, deck + mh, 0.0), 0.008, name="mast"))
    boom_y, boom_l = deck + _u(rng, 0.05, 0.1), _u(rng, 0.25, 0.4)
    d.add(_cylinder((mast_x, boom_y, 0.0), (mast_x - boom_l, boom_y, 0.0), 0.006, name="boom"))
    sail_t = _u(rng, 0.004, 0.007)
    d.add(
        _extrude(
            (0.0, 0.0, 0.0),
            [(mast_x - 0.004, boom_y), (mast_x - boom_l + 0.01, boom_y), (mast_x - 0.004, deck + mh - 0.03)],
            sail_t,
            "xy",
            name="mainsail",
        )
    )
    if rng.random() < 0.7:
        d.add(
            _extrude(
                (0.0, 0.0, 0.0),
                [(mast_x + 0.004, deck - 0.005), (fore - 0.05, deck - 0.005), (mast_x + 0.004, deck + mh * 0.8)],
                sail_t,
                "xy",
                name="jib",
            )
        )


def _railing(rng: np.random.Generator, d: _Draft, length: float, beam: float, transom: float, deck: float) -> None:
    """Posts along both sides of the deck joined by a rail (one loop per pair of neighbouring posts)."""
    rh, n = _u(rng, 0.03, 0.05), int(rng.integers(3, 6))
    xs = np.linspace(-length / 2 + 0.05, 0.15, n)
    widths = _plan_width(xs, length, beam, transom) - 0.012
    for sz in (-1.0, 1.0):
        tops = [(float(x), deck + rh, sz * float(w)) for x, w in zip(xs, widths, strict=True)]
        for x, y, z in tops:
            # The post ends inside the rail, off its centre plane and thinner than it: no touching surfaces.
            d.add(_cylinder((x, deck - 0.01, z), (x, y + 0.0015, z), 0.003, name="post"))
        d.add(_tube(tops, 0.0045, name="rail"))
    d.style.append("railing")


# Airplanes (02691156): fuselage along x with the nose at +x, swept / straight / delta wings with dihedral,
# conventional, T, V or twin tails, hollow or closed engine nacelles (hollow = loops), propellers, biplanes.


def _wing(
    root_le: float,
    span: float,
    root_chord: float,
    tip_chord: float,
    sweep: float,
    thickness: float,
    y: float,
    dihedral: float,
    name: str = "wing",
) -> list[Part]:
    """Both halves of a wing (planform in x-z, extruded in y) rooted at z = 0, tips raised by `dihedral`."""
    tip_le = root_le - span * math.tan(math.radians(sweep))
    half = [(root_le, 0.0), (tip_le, span), (tip_le - tip_chord, span), (root_le - root_chord, 0.0)]
    right = _extrude((0.0, y, 0.0), half, thickness / 2, "xz", name=name)
    right = _about([right], _rotation((1.0, 0.0, 0.0), -dihedral), (0.0, y, 0.0))[0]
    return [right, *_mirror_z([right])]


def _wing_point(root_le: float, span: float, sweep: float, y: float, dihedral: float, f: float) -> np.ndarray:
    """Leading-edge point at span fraction f of a right wing built by `_wing`."""
    z = f * span
    return np.array([root_le - z * math.tan(math.radians(sweep)), y + z * math.tan(math.radians(dihedral)), z])


def _airplane(rng: np.random.Generator, d: _Draft) -> None:
    kind = _pick(rng, {"airliner": 0.35, "fighter": 0.2, "light": 0.2, "bizjet": 0.13, "biplane": 0.12})
    d.style.append(kind)
    length = 1.0
    rf = _u(rng, 0.035, 0.07) if kind != "light" else _u(rng, 0.04, 0.06)
    tail_len = length * _u(rng, 0.2, 0.35)
    nose_len = length * (_u(rng, 0.2, 0.3) if kind == "fighter" else _u(rng, 0.06, 0.15))
    r_tail = rf * (_u(rng, 0.45, 0.7) if kind == "fighter" else _u(rng, 0.12, 0.35))
    profile = [(0.0, 0.0), (r_tail, 0.0)]
    profile += [(r_tail + (rf - r_tail) * math.sin(t * math.pi / 2), tail_len * t) for t in (0.35, 0.7, 1.0)]
    for t in np.linspace(0.0, 1.0, 7)[1:-1]:
        r = rf * (1 - t**1.4) if kind == "fighter" else rf * math.sqrt(1 - t**2)
        profile.append((r, length - nose_len + nose_len * float(t)))
    profile.append((0.0, length))
    profile.insert(5, (rf, length - nose_len))
    d.add(_revolve((-length / 2, 0.0, 0.0), (1.0, 0.0, 0.0), profile, name="fuselage"))

    if kind == "fighter":
        span, cr = _u(rng, 0.25, 0.38), _u(rng, 0.3, 0.45)
        ct, sweep, tw = cr * _u(rng, 0.05, 0.25), _u(rng, 35.0, 60.0), _u(rng, 0.01, 0.016)
        root_le, wing_y, dihedral = _u(rng, -0.05, 0.1), _u(rng, -0.3, 0.2) * rf, _u(rng, -5.0, 3.0)
    elif kind in ("light", "biplane"):
        span, cr = _u(rng, 0.45, 0.6), _u(rng, 0.12, 0.18)
        ct, sweep, tw = cr * _u(rng, 0.6, 1.0), _u(rng, 0.0, 6.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.15, 0.28), _u(rng, 0.0, 6.0)
        wing_y = (rf * 0.7 if rng.random() < 0.6 else -rf * 0.6) if kind == "light" else -0.6 * rf
    else:
        span, cr = _u(rng, 0.4, 0.55), _u(rng, 0.15, 0.25)
        ct, sweep, tw = cr * _u(rng, 0.25, 0.5), _u(rng, 15.0, 38.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.05, 0.18), _u(rng, 0.0, 7.0)
        mount = _pick(rng, {"low": 0.7, "mid": 0.15, "high": 0.15})
        wing_y = {"low": -0.55 * rf, "mid": 0.0, "high": 0.6 * rf}[mount]
        d.style.append(f"{mount}-wing")
    d.add(*_wing(root_le, span, cr, ct, sweep, tw, wing_y, dihedral))

    _tail(rng, d, kind, length, r_tail, span, cr, sweep)

    if kind == "airliner":
        fractions = [0.32] if rng.random() < 0.7 else [0.28, 0.58]
        hollow = rng.random() < 0.6
        rn, ln = _u(rng, 0.028, 0.045), _u(rng, 0.12, 0.2)
        for f in fractions:
            le = _wing_point(root_le, span, sweep, wing_y, dihedral, f)
            centre_y = le[1] - tw / 2 - rn - _u(rng, 0.008, 0.02)
            front = le[0] + _u(rng, 0.03, 0.08)
            for sz in (-1.0, 1.0):
                z = sz * le[2]
                axis_start = (front - ln, centre_y, z)
                if hollow:
                    wall = _u(rng, 0.009, 0.013)
                    d.add(_ring(axis_start, (1.0, 0.0, 0.0), rn * 0.75 - wall, rn - wall, ln, wall, name="nacelle"))
                else:
                    d.add(
                        _revolve(
                            axis_start,
                            (1.0, 0.0, 0.0),
                            [(0.0, -0.03), (rn * 0.7, 0.0), (rn, ln * 0.8), (rn * 0.9, ln), (0.0, ln)],
                            name="nacelle",
                        )
                    )
                top = centre_y + rn * 0.75 - 0.004
                d.add(
                    _box(
                        (le[0] - 0.02, (top + le[1]) / 2, z),
                        (min(0.05, ln / 3), (le[1] - top) / 2, 0.006),
                        name="pylon",
                    )
                )
        d.style.append(("hollow" if hollow else "closed") + f"-engines{2 * len(fractions)}")
    elif kind == "bizjet":
        rn, ln = _u(rng, 0.022, 0.035), _u(rng, 0.1, 0.15)
        x0 = -length / 2 + tail_len * 0.9
        for sz in (-1.0, 1.0):
            z = sz * (rf * 0.9 + rn + _u(rng, 0.01, 0.02))
            if rng.random() < 0.5:
                wall = 0.009
                d.add(_ring((x0, rf * 0.3, z), (1.0, 0.0, 0.0), rn * 0.8 - wall, rn - wall, ln, wall, name="nacelle"))
            else:
                d.add(
                    _revolve(
                        (x0, rf * 0.3, z),
                        (1.0, 0.0, 0.0),
                        [(0.0, 0.0), (rn * 0.8, 0.0), (rn, ln * 0.7), (0.0, ln)],
                        name="nacelle",
                    )
                )
            d.add(_box((x0 + ln * 0.5, rf * 0.3, z / 2), (0.025, 0.006, abs(z) / 2), name="pylon"))
    elif kind in ("light", "biplane"):
        tip = length / 2
        spinner = _u(rng, 0.02, 0.035)
        d.add(_ellipsoid((tip - 0.005, 0.0, 0.0), (spinner * 1.5, spinner, spinner), name="spinner"))
        n, blade = int(rng.integers(2, 4)), _u(rng, 0.1, 0.16)
        for k in range(n):
            b = _box((tip, blade / 2, 0.0), (0.004, blade / 2, 0.012), name="blade")
            d.add(*_about([b], _rotation((1.0, 0.0, 0.0), 360.0 * k / n + 15.0), (tip, 0.0, 0.0)))
        if kind == "biplane":
            gap = _u(rng, 0.12, 0.2)
            upper_y = rf + gap
            d.add(*_wing(root_le + 0.02, span * _u(rng, 1.0, 1.1), cr, ct, sweep, tw, upper_y, 0.0, name="upper-wing"))
            lower = _wing_point(root_le, span, sweep, wing_y, dihedral, 0.65)
            chord = cr + (ct - cr) * 0.65
            for x, x_strut in ((root_le - 0.02, lower[0] - 0.02), (root_le - cr + 0.03, lower[0] - chord + 0.03)):
                for sz in (-1.0, 1.0):
                    d.add(
                        _tube([(x, rf * 0.5, sz * rf * 0.5), (x + 0.01, upper_y, sz * rf * 1.2)], 0.005, name="cabane")
                    )
                    # Interplane struts at 65 % span, inside both wings' chords there (the upper wing leads by 0.02).
                    d.add(
                        _tube(
                            [(x_strut, lower[1], sz * lower[2]), (x_strut + 0.01, upper_y, sz * lower[2])],
                            0.005,
                            name="strut",
                        )
                    )
        elif wing_y > 0 and rng.random() < 0.6:
            for sz in (-1.0, 1.0):
                p = _wing_point(root_le, span, sweep, wing_y, dihedral, 0.45)
                d.add(
                    _tube(
                        [(root_le - cr / 2, -rf * 0.6, sz * rf * 0.6), (p[0] - cr / 2, p[1] - tw / 2, sz * p[2])],
                        0.006,
                        name="strut",
                    )
                )
            d.style.append("struts")
        if rng.random() < 0.6:
            gear_x = root_le - cr * 0.3
            for sz in (-1.0, 1.0):
                foot = (gear_x, -rf - 0.06, sz * 0.07)
                d.add(_tube([(gear_x, -rf * 0.5, sz * rf * 0.4), foot], 0.005, name="gear"))
                d.add(
                    _cylinder(
                        (foot[0], foot[1], foot[2] - sz * 0.012),
                        (foot[0], foot[1], foot[2] + sz * 0.012),
                        0.02,
                        name="wheel",
                    )
                )
            d.style.append("gear")


def _tail(
    rng: np.random.Generator, d: _Draft, kind: str, length: float, r_tail: float, span: float, cr: float, sweep: float
) -> None:
    """Fin(s) and stabiliser at the tail end (x = -length / 2) of a fuselage whose tail radius is r_tail."""
    tail = _pick(
        rng,
        {"conventional": 0.5, "t": 0.2, "v": 0.1, "twin": 0.2}
        if kind == "fighter"
        else {"conventional": 0.6, "t": 0.3 if kind != "bizjet" else 0.8, "v": 0.1},
    )
    d.style.append(f"{tail}-tail")
    cf, hf = _u(rng, 0.12, 0.22), _u(rng, 0.1, 0.2)
    fin_sweep = _u(rng, 25.0, 50.0)
    c_tip = cf * _u(rng, 0.4, 0.7)
    y0 = 0.5 * r_tail  # inside the fuselage everywhere along the fin root
    ft = _u(rng, 0.01, 0.016)
    shift = hf * math.tan(math.radians(fin_sweep))
    le = -length / 2 + max(cf, shift + c_tip) + 0.01  # root leading edge; the tip's trailing edge ends at the tail
    fin = [(le - cf, y0), (le, y0), (le - shift, y0 + hf), (le - shift - c_tip, y0 + hf)]
    stab_span, stab_c = span * _u(rng, 0.3, 0.42), cr * _u(rng, 0.4, 0.65)
    stab_sweep = sweep + _u(rng, 0.0, 10.0)
    st = _u(rng, 0.009, 0.014)
    if tail == "v":
        for sz in (-1.0, 1.0):
            f = _extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="v-fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * _u(rng, 35.0, 50.0)), (0.0, y0, 0.0)))
        return
    if tail == "twin":
        for sz in (-1.0, 1.0):
            f = _extrude((0.0, 0.0, sz * r_tail * 0.8), fin, ft / 2, "xy", name="fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * _u(rng, 10.0, 20.0)), (0.0, y0, sz * r_tail * 0.8)))
    else:
        d.add(_extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="fin"))
    if tail == "t":
        stab_c = min(stab_c, c_tip + 0.03)
        stab_le = le - shift + 0.01
        d.add(
            *_wing(stab_le, stab_span, stab_c, stab_c * 0.6, stab_sweep, st, y0 + hf - st * 0.6, 0.0, name="stabiliser")
        )
    else:
        stab_le = -length / 2 + stab_c + 0.01
        d.add(
            *_wing(stab_le, stab_span, stab_c, stab_c * 0.5, stab_sweep, st, 0.0, _u(rng, 0.0, 6.0), name="stabiliser")
        )


# Cars (02958343): along x, bonnet at +x: sedan, hatchback, SUV, van, pickup (open bed) and sports bodies made of a
# side profile, a rounded plan and a tumblehome section; wheel arches; solid or spoked wheels (spokes = loops);
# spoilers and roof racks on posts (loops), mirrors.


_CAR_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    # (windscreen base x, roof front x, roof back x, rear window base x, rear deck rise) as fractions of length
    "sedan": (0.15, 0.0, -0.22, -0.34, 0.08),
    "hatch": (0.18, 0.03, -0.36, -0.48, 0.3),
    "suv": (0.22, 0.12, -0.45, -0.49, 0.75),
    "van": (0.4, 0.32, -0.47, -0.495, 0.85),
    "pickup": (0.2, 0.08, -0.1, -0.12, 0.05),
    "sports": (0.06, -0.08, -0.2, -0.45, 0.1),
}


def _car(rng: np.random.Generator, d: _Draft) -> None:
    kind = _pick(rng, {"sedan": 0.28, "hatch": 0.15, "suv": 0.2, "van": 0.1, "pickup": 0.15, "sports": 0.12})
    d.style.append(kind)
    length = 1.0
    width = length * _u(rng, 0.38, 0.46)
    gc = _u(rng, 0.04, 0.08) if kind != "sports" else _u(rng, 0.03, 0.05)
    rw, ww = _u(rng, 0.075, 0.1), _u(rng, 0.05, 0.075)
    belt = gc + {"suv": _u(rng, 0.2, 0.26), "van": _u(rng, 0.2, 0.26), "pickup": _u(rng, 0.2, 0.26)}.get(
        kind, _u(rng, 0.15, 0.2)
    )
    cabin = {
        "sedan": _u(rng, 0.12, 0.16),
        "hatch": _u(rng, 0.13, 0.17),
        "suv": _u(rng, 0.16, 0.21),
        "van": _u(rng, 0.22, 0.3),
        "pickup": _u(rng, 0.14, 0.18),
        "sports": _u(rng, 0.08, 0.11),
    }[kind]
    roof = belt + cabin
    ws, rf, rb, rw_x, deck = (v + _u(rng, -0.02, 0.02) for v in _CAR_PROFILES[kind])
    hl = length / 2
    side = [
        (-hl, gc + 0.04),
        (-hl + 0.04, gc),
        (hl - 0.04, gc),
        (hl, gc + 0.04),
        (hl, belt - 0.04),
        (hl - 0.06, belt - _u(rng, 0.0, 0.02)),
        (ws * length, belt + 0.01),
        (rf * length, roof),
        (rb * length, roof),
        (max(rw_x * length, -hl + 0.01), belt + deck * cabin),
        (-hl + 0.005, belt + deck * cabin * 0.9),
        (-hl, belt - 0.04),
    ]
    th = _u(rng, 0.03, 0.07)
    section = [
        (-width / 2, 0.0),
        (width / 2, 0.0),
        (width / 2, belt),
        (width / 2 - th, roof + 0.05),
        (-width / 2 + th, roof + 0.05),
        (-width / 2, belt),
    ]
    shell = _intersection(
        [
            _extrude((0.0, 0.0, 0.0), side, width, "xy"),
            _extrude((0.0, roof / 2, 0.0), _rounded_rect(hl, width / 2, _u(rng, 0.03, 0.1), 5), roof, "xz"),
            _extrude((0.0, 0.0, 0.0), section, length, "zy"),
        ]
    )
    wheelbase = length * _u(rng, 0.56, 0.66)
    shift = _u(rng, -0.03, 0.03)
    axles = [shift - wheelbase / 2, shift + wheelbase / 2]
    arch_depth = 0.7 * ww
    cuts: list[Part] = []
    for x in axles:
        for sz in (-1.0, 1.0):
            inner = sz * (width / 2 - arch_depth)
            cuts.append(_cylinder((x, rw, inner), (x, rw, sz * (width / 2 + 0.05)), rw + 0.012, name="arch"))
    if kind == "pickup":
        bed_front = rb * length - 0.03
        cuts.append(
            _box(
                ((bed_front - hl + 0.03) / 2, (belt - 0.08 + roof) / 2, 0.0),
                ((bed_front + hl - 0.03) / 2, (roof + 0.08 - belt) / 2, width / 2 - 0.025),
                name="bed",
            )
        )
    d.add(_difference([shell, *cuts], name="body"))
    spoked = rng.random() < 0.3
    protrude = _u(rng, -0.005, 0.01)
    for x in axles:
        for sz in (-1.0, 1.0):
            z_out = sz * (width / 2 + protrude)
            z_in = sz * (width / 2 - ww + protrude)
            if not spoked:
                d.add(_cylinder((x, rw, z_in), (x, rw, z_out), rw, name="wheel"))
                continue
            tire = min(ww / 2, 0.3 * rw)
            zc = (z_in + z_out) / 2
            d.add(_torus((x, rw, zc), rw - tire, tire, axis=(0.0, 0.0, 1.0), name="tire"))
            d.add(_cylinder((x, rw, sz * (width / 2 - arch_depth - 0.03)), (x, rw, zc), 0.25 * rw, name="hub"))
            n = int(rng.integers(3, 7))
            for k in range(n):
                spoke = _box((x + (rw - tire) / 2, rw, zc), ((rw - tire) / 2, 0.008, 0.006), name="spoke")
                d.add(*_about([spoke], _rotation((0.0, 0.0, 1.0), 360.0 * k / n), (x, rw, zc)))
    d.style.append("spoked" if spoked else "solid-wheels")
    if kind in ("sedan", "sports", "hatch") and rng.random() < 0.3:
        top = belt + deck * cabin
        sy = top + _u(rng, 0.03, 0.06)
        xs = -hl + 0.05
        d.add(_box((xs, sy, 0.0), (0.035, 0.006, width / 2 - 0.02), name="spoiler"))
        for sz in (-1.0, 1.0):
            d.add(
                _box((xs, (sy + top - 0.02) / 2, sz * width * 0.3), (0.01, (sy - top + 0.02) / 2, 0.006), name="strut")
            )
        d.style.append("spoiler")
    if kind in ("suv", "van", "hatch") and rng.random() < 0.35:
        x0, x1 = rf * length - 0.05, rb * length + 0.05
        for sz in (-1.0, 1.0):
            z = sz * (width / 2 - th - 0.02)
            rail = [(x0, roof - 0.01, z), (x0, roof + 0.03, z), (x1, roof + 0.03, z), (x1, roof - 0.01, z)]
            d.add(_tube(rail, 0.007, name="roof-rail"))
        d.style.append("roof-rack")
    if rng.random() < 0.6:
        for sz in (-1.0, 1.0):
            d.add(_box((ws * length - 0.02, belt + 0.02, sz * (width / 2 + 0.02)), (0.012, 0.015, 0.03), name="mirror"))


_GENERATORS: dict[str, Callable[[np.random.Generator, _Draft], None]] = {
    "02691156": _airplane,
    "02828884": _bench,
    "02933112": _cabinet,
    "02958343": _car,
    "03001627": _chair,
    "03211117": _display,
    "03636649": _lamp,
    "03691459": _loudspeaker,
    "04090263": _rifle,
    "04256520": _sofa,
    "04379243": _table,
    "04401088": _telephone,
    "04530566": _watercraft,
}
