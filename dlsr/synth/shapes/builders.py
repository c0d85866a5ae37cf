"""Part constructors for the generators (generator units: objects are built roughly one unit across)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from dlsr.synth.shapes.parts import Part, _tuple3, _with_pose
from dlsr.synth.shapes.rotations import Vec, _y_to
from dlsr.synth.shapes.tessellation import _segments_for

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
