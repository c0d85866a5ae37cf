"""Signed distance grids: the grid <-> world convention, resampling, and analytic SDFs.

This module owns the one convention every other module relies on, pinned by `tests/test_sdf.py`:

* An SDF grid is an array `sdf[i, j, k]` of shape (R, R, R) sampling the point `(x, y, z)` with
  `x = -bound + i * spacing`, `y = -bound + j * spacing`, `z = -bound + k * spacing` (numpy `indexing="ij"`),
  `spacing = 2 * bound / (R - 1)`: the first and last samples lie exactly on the faces of the cube
  `[-bound, bound]^3`.
* Values are signed distances in world units of the normalised object: negative inside, positive outside.
* World frame: the object's canonical frame, y up (ShapeNet's), bounding box centred at the origin with its
  longest side 1, so the object lies in `[-0.5, 0.5]^3` and `bound` adds a margin around it.

Use `Grid.to_world` / `Grid.to_index` instead of re-deriving this arithmetic anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import numpy as np

from dlsr.errors import ConfigError, DatasetError

SdfFunction = Callable[[np.ndarray], np.ndarray]
"""Maps world points float (..., 3) to signed distances float (...)."""

SIGN_CONVENTION = "negative-inside"
"""How to read the sign of every SDF in dlsr (recorded in weights files)."""

DEFAULT_BOUND = 0.55
"""Half side of the default grid cube: the unit box of the normalised object plus 0.05 (10 %) margin, the same
padded box that Occupancy Networks sample their evaluation points in."""

ResampleMethod = Literal["linear", "cubic"]


@dataclass(frozen=True)
class Grid:
    """A cubic grid of R^3 samples spanning `[-bound, bound]^3` (see the module docstring)."""

    resolution: int  # R: samples per axis
    bound: float = DEFAULT_BOUND  # half side of the cube, world units

    def __post_init__(self) -> None:
        if self.resolution < 2:
            raise ConfigError(f"grid resolution must be at least 2, got {self.resolution}")
        if not self.bound > 0:
            raise ConfigError(f"grid bound must be positive, got {self.bound}")

    @property
    def spacing(self) -> float:
        """Distance between neighbouring samples, world units."""
        return 2.0 * self.bound / (self.resolution - 1)

    @property
    def origin(self) -> np.ndarray:
        """World position float64 (3,) of sample [0, 0, 0]."""
        return np.full(3, -self.bound)

    def to_world(self, index: np.ndarray) -> np.ndarray:
        """Map (possibly fractional) grid indices float (..., 3) in [i, j, k] order to world points (x, y, z)."""
        return self.origin + np.asarray(index, dtype=np.float64) * self.spacing

    def to_index(self, points: np.ndarray) -> np.ndarray:
        """Map world points float (..., 3) to fractional grid indices (the inverse of `to_world`)."""
        return (np.asarray(points, dtype=np.float64) - self.origin) / self.spacing

    def points(self) -> np.ndarray:
        """World positions float64 (R, R, R, 3) of all samples, `points[i, j, k] = to_world([i, j, k])`."""
        axis = self.to_world(np.arange(self.resolution)[:, None])[:, 0]
        return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)

    def with_resolution(self, resolution: int) -> Grid:
        """The grid spanning the same cube with `resolution` samples per axis."""
        return Grid(resolution=resolution, bound=self.bound)


def sample_sdf(function: SdfFunction, grid: Grid) -> np.ndarray:
    """Evaluate an SDF function at every sample of `grid`; returns float32 (R, R, R)."""
    return np.asarray(function(grid.points()), dtype=np.float32)


def resample_sdf(sdf: np.ndarray, resolution: int, method: ResampleMethod = "cubic") -> np.ndarray:
    """Resample an SDF grid to `resolution`^3 samples over the same cube.

    The interpolation is separable: one (R_out, R_in) matrix per axis, applied with BLAS. "cubic" is Keys'
    cubic convolution (a = -0.5): it interpolates the samples exactly and is C1, so marching cubes on the
    result gives a smooth surface instead of trilinear interpolation's creases along cell faces.

    Args:
        sdf: float (R, R, R) on a `Grid`.
        resolution: samples per axis of the output (>= 2).
        method: "linear" (trilinear) or "cubic".

    Returns:
        float32 (resolution, resolution, resolution) on `grid.with_resolution(resolution)`.
    """
    if sdf.ndim != 3 or len(set(sdf.shape)) != 1:
        raise ValueError(f"expected a cubic grid (R, R, R), got shape {sdf.shape}")
    if resolution < 2:
        raise ConfigError(f"resolution must be at least 2, got {resolution}")
    source = sdf.shape[0]
    if resolution == source:
        return np.asarray(sdf, dtype=np.float32)
    weights = interpolation_matrix(source, resolution, method).astype(np.float32)
    out = np.asarray(sdf, dtype=np.float32)
    # Contract one axis at a time; each tensordot moves the new axis last, so three turns restore the order.
    for _ in range(3):
        out = np.tensordot(out, weights, axes=([0], [1]))
    return np.ascontiguousarray(out)


def interpolation_matrix(source: int, target: int, method: ResampleMethod = "cubic") -> np.ndarray:
    """The (target, source) matrix that resamples a 1-D signal between endpoint-aligned grids."""
    if method not in ("linear", "cubic"):
        raise ConfigError(f"unknown resampling method {method!r}; use 'linear' or 'cubic'")
    positions = np.linspace(0.0, source - 1.0, target)
    # The last output sample sits exactly on the last input sample; keep its base inside so taps stay valid.
    base = np.minimum(np.floor(positions).astype(np.int64), source - 2)
    frac = positions - base
    matrix = np.zeros((target, source), dtype=np.float64)
    rows = np.arange(target)
    if method == "linear":
        taps = {0: 1.0 - frac, 1: frac}
    else:
        taps = {offset: _keys_cubic(frac - offset) for offset in (-1, 0, 1, 2)}
    for offset, weight in taps.items():
        index = base + offset
        # Taps that fall one sample outside the grid use the linear extrapolation 2*f[0] - f[1] (and likewise at
        # the far end): unlike clamping, this keeps linear fields exact up to the border, and an SDF is nearly
        # linear there.
        below, above = index < 0, index > source - 1
        inside = ~(below | above)
        np.add.at(matrix, (rows[inside], index[inside]), weight[inside])
        np.add.at(matrix, (rows[below], np.zeros(below.sum(), dtype=np.int64)), 2 * weight[below])
        np.add.at(matrix, (rows[below], np.ones(below.sum(), dtype=np.int64)), -weight[below])
        np.add.at(matrix, (rows[above], np.full(above.sum(), source - 1)), 2 * weight[above])
        np.add.at(matrix, (rows[above], np.full(above.sum(), source - 2)), -weight[above])
    return matrix


def _keys_cubic(distance: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel evaluated at signed `distance` (in samples)."""
    x = np.abs(distance)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


# Analytic signed distance functions (exact distances), for tests and procedural shapes.


def sphere(center: tuple[float, float, float] = (0.0, 0.0, 0.0), radius: float = 0.4) -> SdfFunction:
    """Exact SDF of a sphere."""
    c = np.asarray(center, dtype=np.float64)

    def sdf(points: np.ndarray) -> np.ndarray:
        return np.linalg.norm(points - c, axis=-1) - radius

    return sdf


def box(
    center: tuple[float, float, float] = (0.0, 0.0, 0.0), half_size: tuple[float, float, float] = (0.3, 0.3, 0.3)
) -> SdfFunction:
    """Exact SDF of an axis-aligned box."""
    c = np.asarray(center, dtype=np.float64)
    h = np.asarray(half_size, dtype=np.float64)

    def sdf(points: np.ndarray) -> np.ndarray:
        q = np.abs(points - c) - h
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
        inside = np.minimum(q.max(axis=-1), 0.0)
        return outside + inside

    return sdf


def torus(
    center: tuple[float, float, float] = (0.0, 0.0, 0.0), major_radius: float = 0.3, minor_radius: float = 0.1
) -> SdfFunction:
    """Exact SDF of a torus around the y axis (its hole looks along y)."""
    c = np.asarray(center, dtype=np.float64)

    def sdf(points: np.ndarray) -> np.ndarray:
        p = points - c
        ring = np.hypot(p[..., 0], p[..., 2]) - major_radius
        return np.hypot(ring, p[..., 1]) - minor_radius

    return sdf


def union(*functions: SdfFunction) -> SdfFunction:
    """Union of shapes: exact outside, a lower bound on the distance inside."""

    def sdf(points: np.ndarray) -> np.ndarray:
        return np.min([f(points) for f in functions], axis=0)

    return sdf


# SDF grids on disk (`dlsr reconstruct --save-sdf`, the `sdf.npz` of datasets)


def sdf_archive(sdf: np.ndarray, grid: Grid, level: float = 0.0) -> dict[str, Any]:
    """The arrays of an `.npz` holding an SDF grid and everything needed to place it in the world.

    Keys: `sdf` float32 (R, R, R); `bound`, `resolution`, `spacing`; `bounds` (2, 3) = the cube's min and max
    corners; `level` (the iso-value of the surface); `sign` and `indexing` (the conventions, as text).
    """
    if sdf.shape != (grid.resolution,) * 3:
        raise ValueError(f"SDF shape {sdf.shape} does not match the grid {(grid.resolution,) * 3}")
    return {
        "sdf": np.asarray(sdf, dtype=np.float32),
        "bound": np.float64(grid.bound),
        "bounds": np.array([[-grid.bound] * 3, [grid.bound] * 3]),
        "resolution": np.int64(grid.resolution),
        "spacing": np.float64(grid.spacing),
        "level": np.float64(level),
        "sign": np.array(SIGN_CONVENTION),
        "indexing": np.array("sdf[i, j, k] samples (x, y, z) = -bound + (i, j, k) * spacing"),
    }


def read_sdf_archive(source: str | os.PathLike[str] | BinaryIO) -> tuple[np.ndarray, Grid]:
    """Read an `.npz` written from `sdf_archive`: the float32 (R, R, R) grid and where it lies.

    Raises:
        DatasetError: the file is missing, not an npz, lacks keys, or uses another sign convention.
    """
    name = getattr(source, "name", source)
    try:
        with np.load(source, allow_pickle=False) as archive:
            sdf = np.asarray(archive["sdf"], dtype=np.float32)
            bound = float(archive["bound"])
            sign = str(archive["sign"])
    except FileNotFoundError as exc:
        raise DatasetError(f"{name}: SDF file does not exist") from exc
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise DatasetError(f"{name}: not a readable dlsr SDF archive ({exc}); regenerate it") from exc
    if sign != SIGN_CONVENTION:
        raise DatasetError(f"{name}: sign convention {sign!r} is not {SIGN_CONVENTION!r}")
    if sdf.ndim != 3 or len(set(sdf.shape)) != 1:
        raise DatasetError(f"{name}: SDF grid has shape {sdf.shape}, expected (R, R, R)")
    return sdf, Grid(sdf.shape[0], bound)
