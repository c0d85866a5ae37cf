"""Furniture legs and the stretchers between them, shared by chairs, tables and benches."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dlsr.shapes.builders import _box, _frustum, _tube
from dlsr.shapes.parts import Part


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
