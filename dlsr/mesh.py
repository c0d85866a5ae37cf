"""Meshes going out: from signed distance grids (marching cubes) to mesh files (`dlsr.mesh_input` reads meshes).

`extract_surface` is the only place that runs marching cubes; it maps vertices to world coordinates with
`Grid.to_world`, so meshes land where the SDF says, in the object's canonical frame. It returns a `SurfaceMesh`,
plain arrays: importing trimesh (and through it scipy.spatial and networkx) costs about half a second, more than a
whole reconstruction, so `dlsr reconstruct` stays on arrays and writes OBJ and OFF itself. `extract_mesh` gives the
same surface as a `trimesh.Trimesh` for library users.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlsr.conventions import MESH_FORMATS
from dlsr.errors import ConfigError, EmptySurfaceError
from dlsr.files import atomic_write
from dlsr.sdf import Grid

if TYPE_CHECKING:
    import trimesh


@dataclass(frozen=True)
class SurfaceMesh:
    """A triangle mesh as plain arrays, with the attribute names of `trimesh.Trimesh` that the writers read."""

    vertices: np.ndarray  # float64 (V, 3), world coordinates
    faces: np.ndarray  # int64 (F, 3), wound so normals point outwards
    vertex_normals: np.ndarray  # float64 (V, 3), unit

    @property
    def is_watertight(self) -> bool:
        """Every edge is shared by exactly two faces (trimesh's test)."""
        edges = np.sort(self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        _, counts = np.unique(edges[:, 0] * len(self.vertices) + edges[:, 1], return_counts=True)
        return bool(len(edges) > 0 and (counts == 2).all())

    def to_trimesh(self) -> trimesh.Trimesh:
        import trimesh

        return trimesh.Trimesh(self.vertices, self.faces, vertex_normals=self.vertex_normals, process=False)


def extract_mesh(sdf: np.ndarray, grid: Grid, level: float = 0.0) -> trimesh.Trimesh:
    """`extract_surface` as a `trimesh.Trimesh` (vertex normals from the SDF's gradient)."""
    return extract_surface(sdf, grid, level).to_trimesh()


def extract_surface(sdf: np.ndarray, grid: Grid, level: float = 0.0) -> SurfaceMesh:
    """The `level` set of `sdf` as a closed triangle mesh in world coordinates.

    The grid is padded with one sample of "outside" on every side before marching cubes, so a shape that
    touches the border of the grid is closed there instead of left open: the mesh is watertight. Faces are
    wound so normals point outwards (towards increasing SDF).

    Args:
        sdf: float (R, R, R) on `grid`, negative inside.
        grid: where the samples lie in world space.
        level: iso-value; 0 is the surface.

    Returns:
        The mesh, with vertex normals from the SDF's gradient.

    Raises:
        EmptySurfaceError: the SDF does not cross `level` (everything inside or everything outside).
        ValueError: `sdf` does not have the grid's shape or holds NaN/inf.
    """
    from skimage import measure

    expected = (grid.resolution,) * 3
    if sdf.shape != expected:
        raise ValueError(f"SDF shape {sdf.shape} does not match the grid {expected}")
    values = np.asarray(sdf, dtype=np.float32)
    if not np.isfinite(values).all():
        raise ValueError("SDF holds NaN or infinite values")
    lowest, highest = float(values.min()), float(values.max())
    if not lowest < level < highest:
        raise EmptySurfaceError(
            f"no surface: the SDF ranges over [{lowest:.3g}, {highest:.3g}] and never crosses level {level:g}; "
            "the model saw no object (check the input image) or try another --level"
        )
    outside = max(highest, level + grid.spacing)
    padded = np.pad(values, 1, mode="constant", constant_values=outside)
    vertices, faces, normals, _ = measure.marching_cubes(padded, level=level)
    # Undo the padding (index 1 of `padded` is index 0 of `sdf`), then apply the one grid -> world mapping.
    vertices_world = grid.to_world(vertices - 1.0)
    # scikit-image's gradient normals point down the field, i.e. inwards for a negative-inside SDF; its face
    # winding is already outward.
    return SurfaceMesh(
        vertices=np.asarray(vertices_world, dtype=np.float64),
        faces=np.asarray(faces, dtype=np.int64),
        vertex_normals=-np.asarray(normals, dtype=np.float64),
    )


def angle_weighted_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Vertex normals as trimesh computes them: each face's unit normal weighted by the vertex's corner angle
    (Thürrner and Wüthrich 1998), summed and normalised; degenerate faces are left out.

    Args:
        vertices: float (V, 3).
        faces: int (F, 3).

    Returns:
        float64 (V, 3) unit normals; zero for a vertex no valid face uses.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    corners = vertices[faces]  # (F, 3, 3)
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(cross, axis=1)
    valid = length > 0
    face_normals = cross[valid] / length[valid, None]
    corners = corners[valid]
    angles = np.empty((len(corners), 3))
    for corner in range(3):
        towards_next = corners[:, (corner + 1) % 3] - corners[:, corner]
        towards_last = corners[:, (corner + 2) % 3] - corners[:, corner]
        cosine = np.einsum("ij,ij->i", towards_next, towards_last) / (
            np.linalg.norm(towards_next, axis=1) * np.linalg.norm(towards_last, axis=1)
        )
        angles[:, corner] = np.arccos(np.clip(cosine, -1.0, 1.0))
    # Per-vertex sums by bincount, one coordinate at a time: several times faster than np.add.at.
    corner_vertices = faces[valid].T.ravel()  # corner 0 of every face, then corner 1, then corner 2
    weighted = (face_normals[None] * angles.T[:, :, None]).reshape(-1, 3)
    summed = np.stack(
        [np.bincount(corner_vertices, weights=weighted[:, axis], minlength=len(vertices)) for axis in range(3)], axis=1
    )
    norm = np.linalg.norm(summed, axis=1, keepdims=True)
    return np.divide(summed, norm, out=np.zeros_like(summed), where=norm > 0)


def resolve_format(path: str | os.PathLike[str] | None, format: str | None) -> str:
    """The mesh format to write: `format` if given, else the extension of `path`.

    Raises:
        ConfigError: the format is unknown or cannot be told from the path.
    """
    if format is not None:
        chosen = format.lower().lstrip(".")
        if chosen not in MESH_FORMATS:
            raise ConfigError(f"unknown mesh format {format!r}; use one of {', '.join(MESH_FORMATS)}")
        return chosen
    suffix = Path(path).suffix.lower().lstrip(".") if path is not None else ""
    if suffix not in MESH_FORMATS:
        raise ConfigError(
            f"{path}: cannot tell the mesh format from the extension {('.' + suffix) if suffix else '(none)'}; "
            f"use one of .{', .'.join(MESH_FORMATS)} or pass --format"
        )
    return suffix


def mesh_bytes(mesh: trimesh.Trimesh | SurfaceMesh, format: str) -> bytes:
    """Encode `mesh` as a file of `format` (one of `MESH_FORMATS`); OBJ and OFF without importing trimesh."""
    if len(mesh.faces) == 0:
        raise EmptySurfaceError("refusing to write a mesh with no faces")
    fmt = resolve_format(None, format)
    if fmt == "obj":
        return _obj_bytes(mesh)
    if fmt == "off":
        return _off_bytes(mesh)
    if fmt == "ply":
        return _ply_bytes(mesh)
    if isinstance(mesh, SurfaceMesh):
        import trimesh

        # Without the normals, as for any mesh trimesh did not load with them: the binary formats stay as before.
        mesh = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    data = mesh.export(file_type=fmt)
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


# trimesh's text exporters format numbers one numpy scalar at a time: 55 ms for a 64^3 torus (12k faces) as OBJ
# with normals, more than the whole rest of a reconstruction. One %-format over a flat list of Python numbers
# writes the same file in about 20 ms. PLY, STL and GLB are binary and trimesh writes them in 1-3 ms.


def _obj_bytes(mesh: trimesh.Trimesh | SurfaceMesh) -> bytes:
    """Wavefront OBJ with vertex normals (`f v//vn`, 1-based indices)."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    normals = np.asarray(mesh.vertex_normals, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64) + 1
    text = (
        ("v %.6f %.6f %.6f\n" * len(vertices)) % tuple(vertices.ravel().tolist())
        + ("vn %.4f %.4f %.4f\n" * len(normals)) % tuple(normals.ravel().tolist())
        + ("f %d//%d %d//%d %d//%d\n" * len(faces)) % tuple(np.repeat(faces, 2, axis=1).ravel().tolist())
    )
    return text.encode("ascii")


def _off_bytes(mesh: trimesh.Trimesh | SurfaceMesh) -> bytes:
    """Object File Format: header, vertex count, face count, edges (0), then vertices and triangles."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    text = (
        f"OFF\n{len(vertices)} {len(faces)} 0\n"
        + ("%.6f %.6f %.6f\n" * len(vertices)) % tuple(vertices.ravel().tolist())
        + ("3 %d %d %d\n" * len(faces)) % tuple(faces.ravel().tolist())
    )
    return text.encode("ascii")


def _ply_bytes(mesh: trimesh.Trimesh | SurfaceMesh) -> bytes:
    """Binary little-endian PLY: float32 vertices, triangles as a uchar count and int32 indices (trimesh's layout,
    written here so that PLY output needs no trimesh import)."""
    vertices = np.asarray(mesh.vertices, dtype="<f4")
    faces = np.asarray(mesh.faces)
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment written by dlsr\n"
        f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    triangles = np.empty(len(faces), dtype=[("count", "u1"), ("indices", "<i4", (3,))])
    triangles["count"] = 3
    triangles["indices"] = faces
    return header.encode("ascii") + vertices.tobytes() + triangles.tobytes()


def save_mesh(
    mesh: trimesh.Trimesh | SurfaceMesh,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    overwrite: bool = True,
) -> Path:
    """Write `mesh` to `path` atomically, in `format` or the format its extension names.

    Raises:
        ConfigError: unknown format.
        OutputError: the file cannot be written (see `dlsr.files.atomic_write`).
        EmptySurfaceError: the mesh has no faces.
    """
    data = mesh_bytes(mesh, resolve_format(path, format))
    return atomic_write(path, data, overwrite=overwrite)
