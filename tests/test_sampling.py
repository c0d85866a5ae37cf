"""The fast surface sampler draws exactly trimesh's points, and leaves the generator where trimesh leaves it."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from dlsr.mesh import extract_mesh
from dlsr.sampling import sample_surface, sample_with_normals
from dlsr.sdf import Grid, sample_sdf, sphere, torus, union


def with_degenerate_faces() -> trimesh.Trimesh:
    """An icosphere plus zero-area faces (a repeated vertex, three collinear vertices): they must never be drawn."""
    mesh = trimesh.creation.icosphere(subdivisions=2)
    vertices = np.concatenate([mesh.vertices, [[2.0, 0.0, 0.0], [3.0, 0.0, 0.0], [4.0, 0.0, 0.0]]])
    n = len(mesh.vertices)
    faces = np.concatenate([[[0, 0, 1]], mesh.faces[:10], [[n, n + 1, n + 2]], mesh.faces[10:]])
    return trimesh.Trimesh(vertices, faces, process=False)


MESHES = {
    "one-triangle": lambda: trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], process=False),
    "box": trimesh.creation.box,
    "marching-cubes": lambda: extract_mesh(
        sample_sdf(union(sphere(radius=0.3), torus(major_radius=0.3, minor_radius=0.08)), Grid(48)), Grid(48)
    ),
    "degenerate-faces": with_degenerate_faces,
}


@pytest.mark.parametrize("name", sorted(MESHES))
@pytest.mark.parametrize("count", [1, 1000, 100_000])
def test_points_and_faces_equal_trimesh(name: str, count: int) -> None:
    mesh = MESHES[name]()
    theirs_rng, ours_rng = np.random.default_rng(11), np.random.default_rng(11)
    points, faces = trimesh.sample.sample_surface(mesh, count, seed=theirs_rng)
    our_points, our_faces = sample_surface(mesh, count, ours_rng)
    np.testing.assert_array_equal(our_points, points)  # bit for bit
    np.testing.assert_array_equal(our_faces, faces)
    assert our_points.dtype == np.float64 and our_faces.dtype == np.int64
    # The generator is advanced exactly as trimesh advances it: what is drawn next agrees too.
    assert ours_rng.random() == theirs_rng.random()
    assert np.all(mesh.area_faces[our_faces] > 0)


def test_normals_are_the_unit_normals_of_the_faces_drawn() -> None:
    mesh = MESHES["marching-cubes"]()
    points, normals = sample_with_normals(mesh, 5000, np.random.default_rng(3))
    _, faces = sample_surface(mesh, 5000, np.random.default_rng(3))
    np.testing.assert_array_equal(normals, mesh.face_normals[faces])
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    # Each point lies in the plane of its face.
    offsets = np.einsum("ij,ij->i", points - mesh.vertices[mesh.faces[faces, 0]], normals)
    assert np.abs(offsets).max() < 1e-12


def test_no_points() -> None:
    points, faces = sample_surface(trimesh.creation.box(), 0, np.random.default_rng(0))
    assert points.shape == (0, 3) and faces.shape == (0,)
