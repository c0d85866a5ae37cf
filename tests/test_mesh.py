"""Marching cubes on analytic SDFs, and mesh files in every format."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh

from dlsr.errors import ConfigError, EmptySurfaceError, OutputError
from dlsr.mesh import (
    MESH_FORMATS,
    SurfaceMesh,
    angle_weighted_normals,
    extract_mesh,
    extract_surface,
    mesh_bytes,
    resolve_format,
    save_mesh,
)
from dlsr.sdf import Grid, box, resample_sdf, sample_sdf, sphere, torus

CENTRE = (0.12, -0.07, 0.16)
RADIUS = 0.3


@pytest.fixture(scope="module")
def sphere_mesh() -> trimesh.Trimesh:
    grid = Grid(64, 0.55)
    return extract_mesh(sample_sdf(sphere(CENTRE, RADIUS), grid), grid)


def test_off_centre_sphere_has_the_right_place_size_and_orientation(sphere_mesh: trimesh.Trimesh) -> None:
    spacing = Grid(64, 0.55).spacing
    assert sphere_mesh.is_watertight
    # Marching cubes cuts corners, so area and volume come out slightly low: at most 1 % here.
    assert sphere_mesh.area == pytest.approx(4 * np.pi * RADIUS**2, rel=0.01)
    assert sphere_mesh.volume == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.01)
    assert sphere_mesh.volume > 0  # positive volume: faces wound outwards
    np.testing.assert_allclose(sphere_mesh.center_mass, CENTRE, atol=spacing)
    radii = np.linalg.norm(sphere_mesh.vertices - CENTRE, axis=1)
    assert np.abs(radii - RADIUS).max() < 0.05 * spacing
    outward = np.einsum("ij,ij->i", sphere_mesh.vertex_normals, sphere_mesh.vertices - CENTRE)
    assert (outward > 0).all()
    face_outward = np.einsum("ij,ij->i", sphere_mesh.face_normals, sphere_mesh.triangles_center - CENTRE)
    assert (face_outward > 0).all()


def test_torus_keeps_its_hole() -> None:
    grid = Grid(48, 0.55)
    mesh = extract_mesh(sample_sdf(torus(major_radius=0.3, minor_radius=0.1), grid), grid)
    assert mesh.is_watertight
    assert mesh.euler_number == 0  # genus 1
    assert len(mesh.split(only_watertight=False)) == 1
    assert mesh.volume == pytest.approx(2 * np.pi**2 * 0.3 * 0.1**2, rel=0.02)
    # No vertex near the axis: the hole is open.
    assert np.hypot(mesh.vertices[:, 0], mesh.vertices[:, 2]).min() > 0.19


def test_shape_touching_the_grid_border_is_closed() -> None:
    grid = Grid(32, 0.5)
    mesh = extract_mesh(sample_sdf(box(half_size=(0.7, 0.2, 0.2)), grid), grid)
    assert mesh.is_watertight
    assert mesh.volume > 0
    # The cap lies within one sample beyond the border, where the padding puts it.
    assert mesh.bounds[1, 0] == pytest.approx(0.5, abs=grid.spacing)


def test_level_offsets_the_surface() -> None:
    grid = Grid(48, 0.55)
    sdf = sample_sdf(sphere(radius=0.3), grid)
    inflated = extract_mesh(sdf, grid, level=0.05)
    assert np.linalg.norm(inflated.vertices, axis=1).mean() == pytest.approx(0.35, abs=0.005)


def test_extraction_after_resampling_stays_accurate() -> None:
    coarse = Grid(32, 0.55)
    sdf = resample_sdf(sample_sdf(sphere(CENTRE, RADIUS), coarse), 64)
    mesh = extract_mesh(sdf, coarse.with_resolution(64))
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.01)


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_a_field_that_never_crosses_the_level_has_no_surface(value: float) -> None:
    grid = Grid(16)
    with pytest.raises(EmptySurfaceError, match="no surface"):
        extract_mesh(np.full((16, 16, 16), value, dtype=np.float32), grid)


def test_bad_fields_are_refused() -> None:
    grid = Grid(16)
    with pytest.raises(ValueError, match="shape"):
        extract_mesh(np.zeros((8, 8, 8)), grid)
    broken = sample_sdf(sphere(), grid)
    broken[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        extract_mesh(broken, grid)


@pytest.mark.parametrize("fmt", MESH_FORMATS)
def test_every_format_round_trips(fmt: str, sphere_mesh: trimesh.Trimesh, tmp_path: Path) -> None:
    path = save_mesh(sphere_mesh, tmp_path / f"sphere.{fmt}")
    loaded = trimesh.load(path, force="mesh")
    assert loaded.is_watertight
    assert loaded.volume == pytest.approx(sphere_mesh.volume, rel=1e-4)
    assert loaded.area == pytest.approx(sphere_mesh.area, rel=1e-4)
    assert len(loaded.faces) == len(sphere_mesh.faces)
    # The bytes for stdout are the same as the file.
    assert mesh_bytes(sphere_mesh, fmt) == path.read_bytes() or fmt == "glb"


def test_obj_keeps_vertex_order_and_normals(sphere_mesh: trimesh.Trimesh) -> None:
    loaded = trimesh.load(io.BytesIO(mesh_bytes(sphere_mesh, "obj")), file_type="obj", process=False)
    np.testing.assert_allclose(loaded.vertices, sphere_mesh.vertices, atol=1e-6)
    np.testing.assert_array_equal(loaded.faces, sphere_mesh.faces)
    np.testing.assert_allclose(loaded.vertex_normals, sphere_mesh.vertex_normals, atol=1e-3)


def test_the_array_mesh_matches_trimesh() -> None:
    """`SurfaceMesh` keeps `dlsr reconstruct` off trimesh; its normals, watertightness and files must be trimesh's."""
    grid = Grid(32)
    surface = extract_surface(sample_sdf(torus(major_radius=0.3, minor_radius=0.1), grid), grid)
    mesh = surface.to_trimesh()
    plain = trimesh.Trimesh(surface.vertices, surface.faces, process=False)  # normals from the faces
    np.testing.assert_allclose(
        angle_weighted_normals(surface.vertices, surface.faces), plain.vertex_normals, atol=1e-12
    )
    assert surface.is_watertight and mesh.is_watertight
    opened = SurfaceMesh(surface.vertices, surface.faces[1:], surface.vertex_normals)
    assert not opened.is_watertight and not opened.to_trimesh().is_watertight
    for fmt in MESH_FORMATS:
        # Binary formats are written without normals, as trimesh writes a mesh whose normals it never computed.
        expected = (
            trimesh.Trimesh(surface.vertices, surface.faces, process=False) if fmt in ("ply", "stl", "glb") else mesh
        )
        assert mesh_bytes(surface, fmt) == mesh_bytes(expected, fmt) or fmt == "glb"
    # PLY is written by dlsr: trimesh's layout and numbers, only the header's comment differs.
    fresh = trimesh.Trimesh(surface.vertices, surface.faces, process=False)  # no normals computed yet
    ours, theirs = mesh_bytes(surface, "ply"), fresh.export(file_type="ply")
    assert ours.split(b"end_header\n", 1)[1] == theirs.split(b"end_header\n", 1)[1]


def test_format_comes_from_the_option_or_the_extension() -> None:
    assert resolve_format("a/b.PLY", None) == "ply"
    assert resolve_format("a/b.obj", "stl") == "stl"
    with pytest.raises(ConfigError, match=r"\.xyz"):
        resolve_format("mesh.xyz", None)
    with pytest.raises(ConfigError, match="unknown mesh format"):
        resolve_format("mesh.obj", "fbx")


def test_saving_is_atomic_and_refuses_to_clobber(sphere_mesh: trimesh.Trimesh, tmp_path: Path) -> None:
    target = tmp_path / "mesh.ply"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError, match="--overwrite"):
        save_mesh(sphere_mesh, target, overwrite=False)
    assert target.read_bytes() == b"precious"
    with pytest.raises(OutputError, match="does not exist"):
        save_mesh(sphere_mesh, tmp_path / "missing" / "mesh.ply")
    save_mesh(sphere_mesh, target, overwrite=True)
    assert target.read_bytes() != b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mesh.ply"]  # no temporary files left


def test_empty_mesh_is_never_written(tmp_path: Path) -> None:
    with pytest.raises(EmptySurfaceError):
        save_mesh(trimesh.Trimesh(), tmp_path / "empty.obj")
    assert not (tmp_path / "empty.obj").exists()
