"""Triangle meshes of the part primitives in their own frame, built with manifold3d."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.synth.shapes.rotations import _y_to

if TYPE_CHECKING:
    from dlsr.synth.shapes.parts import Part

_CHORD_TOLERANCE = 0.0015
"""Largest gap between a curved surface and its tessellation, in generator units (objects are built about one
unit across, so about 0.15 % of the final box): far below the 0.01 the mesh/SDF agreement is tested at."""


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
