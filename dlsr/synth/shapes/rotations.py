"""Rotations the generators place parts with."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
