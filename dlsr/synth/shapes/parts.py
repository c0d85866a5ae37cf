"""`Part`: one primitive placed by a rigid motion, with its bounds and its placed copies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dlsr.synth.shapes.fields import _BOUND_KINDS, _LOCAL_SDF, _box_lower_bound
from dlsr.synth.shapes.tessellation import _LOCAL_MESH, _check_manifold, _manifold3d

PartKind = Literal["box", "round_box", "ellipsoid", "torus", "revolve", "extrude", "tube", "intersection", "difference"]


PART_KINDS: tuple[str, ...] = PartKind.__args__  # type: ignore[attr-defined]


_IDENTITY: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


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
