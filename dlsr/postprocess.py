"""Finishing a reconstructed mesh for use: drop small stray parts, smooth lightly, scale, and pick the up axis.

The network's meshes are in the canonical frame of `dlsr.sdf` (y up, front +x, longest side 1, centred at the
origin). `finish_mesh` changes that frame only when asked: `up="z"` turns it +90 degrees about x (y becomes z,
front stays +x) for tools whose up axis is z (Blender); `scale` multiplies every coordinate. `finish_surface` does
the same on a `dlsr.mesh.SurfaceMesh` and imports trimesh only for the steps that need it (parts, smoothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from dlsr.conventions import DEFAULT_KEEP_PARTS, DEFAULT_SMOOTH
from dlsr.errors import ConfigError
from dlsr.mesh import SurfaceMesh, angle_weighted_normals

if TYPE_CHECKING:
    import trimesh

UpAxis = Literal["y", "z"]
UP_AXES: tuple[UpAxis, ...] = ("y", "z")

# y up -> z up: a +90 degree turn about x, (x, y, z) -> (x, -z, y).
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class MeshFinish:
    """How a reconstructed mesh is finished; the defaults are measured (`bench/bench_postprocess.py`)."""

    # keep parts with at least this share of the largest part's volume (0: all, 1: largest)
    keep_parts: float = DEFAULT_KEEP_PARTS
    smooth_iterations: int = DEFAULT_SMOOTH  # Taubin passes (they keep the volume, unlike plain Laplacian)
    scale: float = 1.0  # multiply every coordinate (the longest side of the object is then `scale`)
    up: UpAxis = "y"  # the up axis of the output frame

    def __post_init__(self) -> None:
        if not 0.0 <= self.keep_parts <= 1.0:
            raise ConfigError(f"keep_parts: expected a share of the largest part from 0 to 1, found {self.keep_parts}")
        if self.smooth_iterations < 0:
            raise ConfigError(f"smooth_iterations: expected 0 or more, found {self.smooth_iterations}")
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise ConfigError(f"scale: expected a finite number above 0, found {self.scale}")
        if self.up not in UP_AXES:
            raise ConfigError(f"up: expected one of {', '.join(UP_AXES)}, found {self.up!r}")


def finish_mesh(mesh: trimesh.Trimesh, finish: MeshFinish = MeshFinish()) -> trimesh.Trimesh:
    """Keep the main parts, smooth, then scale and turn `mesh` (a new mesh; the input is left alone).

    Returns:
        The finished mesh, with vertex normals recomputed from its faces.
    """
    import trimesh

    vertices = np.asarray(mesh.vertices)
    # finish_surface recomputes the normals from the faces: asking trimesh for the input's would only cost time.
    surface = SurfaceMesh(vertices, np.asarray(mesh.faces), np.zeros_like(vertices))
    finished = finish_surface(surface, finish)
    return trimesh.Trimesh(finished.vertices, finished.faces, process=False)


def finish_surface(surface: SurfaceMesh, finish: MeshFinish = MeshFinish()) -> SurfaceMesh:
    """`finish_mesh` on arrays: the result's normals are the faces' (`dlsr.mesh.angle_weighted_normals`), as trimesh
    computes them for a mesh it did not load with normals."""
    vertices = np.asarray(surface.vertices, dtype=np.float64)
    faces = np.asarray(surface.faces, dtype=np.int64)
    if finish.keep_parts > 0 or finish.smooth_iterations > 0:
        import trimesh

        mesh = trimesh.Trimesh(vertices.copy(), faces.copy(), process=False)  # smoothing moves vertices in place
        mesh = keep_main_parts(mesh, finish.keep_parts) if finish.keep_parts > 0 else mesh
        if finish.smooth_iterations > 0:
            # lamb 0.5 / nu 0.53: Taubin's shrink-then-inflate pair; nu slightly above lamb keeps the volume.
            trimesh.smoothing.filter_taubin(mesh, lamb=0.5, nu=0.53, iterations=finish.smooth_iterations)
        vertices, faces = np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64)
    vertices = vertices * finish.scale
    if finish.up == "z":
        vertices = vertices @ _Y_UP_TO_Z_UP.T
    return SurfaceMesh(vertices, faces, angle_weighted_normals(vertices, faces))


def keep_main_parts(mesh: trimesh.Trimesh, fraction: float) -> trimesh.Trimesh:
    """The connected parts of `mesh` whose enclosed volume is at least `fraction` of the largest part's."""
    import trimesh

    parts = mesh.split(only_watertight=False)
    if len(parts) <= 1:
        return mesh.copy()
    volumes = np.array([abs(float(part.volume)) for part in parts])
    kept = [part for part, volume in zip(parts, volumes, strict=True) if volume >= fraction * volumes.max()]
    vertices, faces, offset = [], [], 0
    for part in kept:
        vertices.append(np.asarray(part.vertices))
        faces.append(np.asarray(part.faces) + offset)
        offset += len(part.vertices)
    return trimesh.Trimesh(np.concatenate(vertices), np.concatenate(faces), process=False)
