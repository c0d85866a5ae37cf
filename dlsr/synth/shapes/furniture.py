"""Furniture parts shared by chairs, tables, benches, sofas and cabinets: legs, stretchers, pierced panels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _box, _frustum, _tube
from dlsr.synth.shapes.draft import _u
from dlsr.synth.shapes.parts import Part


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


@dataclass(frozen=True)
class PanelHole:
    """A rectangular cut-out through an upright panel (a bench's end, a table's panel leg), sized by the panel."""

    height: float  # centre height as a fraction of the panel's height
    half_width: float  # fraction of the panel's half width
    half_height: float  # fraction of the panel's height


def draw_panel_holes(
    rng: np.random.Generator, heights: tuple[float, float], half_widths: tuple[float, float]
) -> tuple[PanelHole | None, ...]:
    """For each of a pair of panels, a cut-out (with probability 0.4) or None; centre heights and half widths are
    drawn from the given ranges."""
    holes = []
    for _ in range(2):
        hole = None
        if rng.random() < 0.4:
            hole = PanelHole(_u(rng, *heights), _u(rng, *half_widths), _u(rng, 0.12, 0.25))
        holes.append(hole)
    return tuple(holes)


def panel_hole(hole: PanelHole, panel_height: float, z: float, half_width: float, thickness: float, name: str) -> Part:
    """The box cut out of a panel standing on the floor at z, centred on x = 0, of the given height and half width;
    the box is as deep as the panel is thick on either side, so it cuts right through."""
    centre = (0.0, panel_height * hole.height, z)
    return _box(centre, (half_width * hole.half_width, panel_height * hole.half_height, thickness), name=name)
