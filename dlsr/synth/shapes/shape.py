"""`Shape`: the union of parts minus the union of holes, as an analytic field and as one watertight mesh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.conventions import CATEGORIES
from dlsr.errors import ConfigError
from dlsr.synth.shapes.fields import _box_lower_bound
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.repair import _clean
from dlsr.synth.shapes.tessellation import _check_manifold, _manifold3d

if TYPE_CHECKING:
    import trimesh


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


def _union(solids: Sequence[Any], m3: Any) -> Any:
    return solids[0] if len(solids) == 1 else m3.Manifold.batch_boolean(list(solids), m3.OpType.Add)


def _trimesh(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    import trimesh

    return trimesh.Trimesh(vertices.copy(), faces.copy(), process=False)
