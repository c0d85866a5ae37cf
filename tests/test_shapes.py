"""Procedural shapes: valid meshes for every category, determinism, topology, SDF/mesh agreement, the front axis."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import trimesh

from conftest import REALDATA
from dlsr import sdf as analytic
from dlsr.errors import ConfigError
from dlsr.synth.shapes import CATEGORIES, Part, Shape, category_id, generate

SEEDS = range(10)
ALL = list(CATEGORIES)


def _winding_inside(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """Robust inside test (generalised winding number), independent of trimesh's ray casting."""
    igl = pytest.importorskip("igl")
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    return np.asarray(igl.winding_number(vertices, faces, np.ascontiguousarray(points, dtype=np.float64))) > 0.5


@functools.cache
def _shape(category: str, seed: int) -> Shape:
    """`generate`, once per (category, seed) for the whole module (shapes are immutable)."""
    return generate(category, seed)


def _bodies(mesh: trimesh.Trimesh) -> list[trimesh.Trimesh]:
    return list(mesh.split(only_watertight=False))


def _genus(mesh: trimesh.Trimesh) -> int:
    """Total genus over bodies: B closed bodies of genera g_i have Euler number sum(2 - 2 g_i)."""
    bodies = len(np.unique(trimesh.graph.connected_component_labels(mesh.face_adjacency, len(mesh.faces))))
    return (2 * bodies - mesh.euler_number) // 2


def _check_valid(shape: Shape) -> None:
    mesh, labels = shape.mesh_with_labels()
    where = f"{shape.style} "
    assert mesh.is_watertight, where + "not watertight"
    assert mesh.is_winding_consistent, where + "inconsistent winding"
    assert mesh.volume > 1e-4, where + f"volume {mesh.volume}"
    bodies = _bodies(mesh)
    # A body of negative volume would be an enclosed void; tiny bodies would be slivers or floating parts.
    assert all(body.volume > 1e-6 for body in bodies), where + f"{[body.volume for body in bodies]}"
    assert len(bodies) == shape.components, where + f"{len(bodies)} bodies, designed {shape.components}"
    lo, hi = mesh.bounds
    assert np.abs(lo + hi).max() < 1e-9, where + "not centred"
    assert (hi - lo).max() == pytest.approx(1.0, abs=1e-9), where + "longest side is not 1"
    assert lo.min() >= -0.5 - 1e-9 and hi.max() <= 0.5 + 1e-9
    assert np.mean(mesh.area_faces < 1e-10) < 0.02, where + "many zero-area faces"
    assert len(mesh.faces) < 20_000
    assert labels.shape == (len(mesh.faces),)
    assert labels.min() >= 0 and labels.max() < len(shape.parts) + len(shape.holes)


# -- the API ------------------------------------------------------------------------------------------------------


def test_categories_are_the_13_benchmark_synsets_in_order() -> None:
    assert list(CATEGORIES) == sorted(CATEGORIES)
    assert len(CATEGORIES) == 13
    assert CATEGORIES["03001627"] == "chair" and CATEGORIES["04379243"] == "table"


def test_category_by_name_and_errors() -> None:
    assert category_id("chair") == "03001627" == category_id("03001627")
    assert generate("chair", 3).category == "03001627"
    with pytest.raises(ConfigError, match="unknown category"):
        generate("bicycle", 0)
    with pytest.raises(ConfigError, match="seed"):
        generate("chair", -1)


@pytest.mark.parametrize("category", ALL, ids=[CATEGORIES[c] for c in ALL])
def test_every_category_gives_valid_normalised_meshes(category: str) -> None:
    for seed in SEEDS:
        _check_valid(_shape(category, seed))


@pytest.mark.slow
@pytest.mark.parametrize("category", ALL, ids=[CATEGORIES[c] for c in ALL])
def test_every_category_gives_valid_meshes_over_many_seeds(category: str) -> None:
    for seed in range(10, 150):
        _check_valid(generate(category, seed))


def test_same_seed_gives_the_same_shape_and_mesh() -> None:
    for category in ALL:
        a, b = generate(category, 7), generate(category, 7)
        assert a == b
        np.testing.assert_array_equal(a.mesh().vertices, b.mesh().vertices)
        np.testing.assert_array_equal(a.mesh().faces, b.mesh().faces)


def test_different_seeds_give_different_shapes() -> None:
    for category in ALL:
        shapes = [_shape(category, seed) for seed in range(5)]
        assert len({s.parts for s in shapes}) == 5
        volumes = {round(s.mesh().volume, 6) for s in shapes}
        assert len(volumes) == 5


def test_categories_have_the_topology_they_are_built_for() -> None:
    """Loops (handles, frames, rings, guards) must be common where the generators build them."""
    fractions = {}
    for category in ALL:
        genera = [_genus(_shape(category, seed).mesh()) for seed in range(20)]
        assert min(genera) >= 0
        fractions[CATEGORIES[category]] = np.mean(np.array(genera) > 0)
    assert fractions["rifle"] == 1.0  # every rifle has a trigger guard
    for name in ("bench", "chair", "lamp", "loudspeaker", "car", "airplane", "cabinet", "display", "watercraft"):
        assert fractions[name] >= 0.25, fractions
    assert sum(f > 0 for f in fractions.values()) >= 12, fractions


def test_some_shapes_have_several_bodies() -> None:
    components = {_shape("telephone", seed).components for seed in range(20)}
    assert components == {1, 2}


# -- the analytic field -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ALL, ids=[CATEGORIES[c] for c in ALL])
def test_sdf_agrees_with_the_mesh(category: str) -> None:
    for seed in range(3):
        shape = _shape(category, seed)
        mesh = shape.mesh()
        rng = np.random.default_rng(seed)
        surface, face = trimesh.sample.sample_surface(mesh, 3000, seed=seed)
        # Uniform points plus points just off the surface, where a wrong sign is most likely.
        near = surface + mesh.face_normals[face] * rng.choice([-1.0, 1.0], (3000, 1)) * rng.uniform(
            0.01, 0.03, (3000, 1)
        )
        points = np.concatenate([rng.uniform(-0.55, 0.55, (6000, 3)), near])
        d = shape.sdf(points)
        away = np.abs(d) > 0.01
        agree = (d[away] < 0) == _winding_inside(mesh, points[away])
        assert agree.mean() >= 0.995, f"{shape.style}: sign agrees on {agree.mean():.4f}"
        assert np.abs(shape.sdf(surface)).max() < 0.01, shape.style


def test_sdf_culling_is_exact() -> None:
    """Skipping parts whose bounding box is too far must not change any value."""
    for category in ALL:
        shape = _shape(category, 1)
        points = np.random.default_rng(0).uniform(-0.6, 0.6, (3000, 3))
        brute = np.min([p.sdf(points) for p in shape.parts], axis=0)
        for hole in shape.holes:
            brute = np.maximum(brute, -hole.sdf(points))
        np.testing.assert_allclose(shape.sdf(points), brute, rtol=0, atol=1e-12)


def test_sdf_keeps_the_shape_of_its_input() -> None:
    shape = generate("table", 0)
    grid = np.zeros((4, 5, 6, 3))
    assert shape.sdf(grid).shape == (4, 5, 6)


def test_sdf_is_distance_outside_for_a_single_box() -> None:
    """After normalisation a lone box is the unit-long box: its field is exactly the analytic one."""
    part = Part("box", size=(2.0, 1.0, 0.5), translation=(3.0, 1.0, 0.0))
    shape = Shape("02933112", (part,)).normalised()
    points = np.random.default_rng(0).uniform(-1, 1, (500, 3))
    expected = analytic.box((0.0, 0.0, 0.0), (0.5, 0.25, 0.125))(points)
    np.testing.assert_allclose(shape.sdf(points), expected, atol=1e-12)


# -- parts --------------------------------------------------------------------------------------------------------


def _random_rotation(rng: np.random.Generator) -> tuple[float, ...]:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return tuple(q.reshape(9))


def _cylinder_sdf(points: np.ndarray, radius: float, half: float) -> np.ndarray:
    d = np.stack([np.hypot(points[:, 0], points[:, 2]) - radius, np.abs(points[:, 1]) - half], axis=-1)
    return np.minimum(d.max(axis=-1), 0) + np.linalg.norm(np.maximum(d, 0), axis=-1)


PARTS = {
    "box": Part("box", size=(0.3, 0.2, 0.1)),
    "round_box": Part("round_box", size=(0.3, 0.2, 0.1, 0.05), segments=16),
    "ellipsoid": Part("ellipsoid", size=(0.3, 0.2, 0.1), segments=32),
    "torus": Part("torus", size=(0.3, 0.06), segments=48),
    "revolve": Part("revolve", profile=((0.0, -0.2), (0.25, -0.2), (0.1, 0.3), (0.0, 0.3)), segments=40),
    "ring": Part("revolve", profile=((0.2, -0.1), (0.25, -0.1), (0.15, 0.2), (0.1, 0.2)), segments=40),
    "extrude": Part("extrude", size=(0.1,), profile=((0.0, 0.0), (0.3, 0.0), (0.3, 0.1), (0.1, 0.3), (0.0, 0.3))),
    "tube": Part("tube", size=(0.04,), path=((0.0, 0.0, 0.0), (0.3, 0.0, 0.0), (0.3, 0.3, 0.1)), segments=16),
}


@pytest.mark.parametrize("name", list(PARTS))
def test_part_field_and_mesh_agree_under_any_pose(name: str) -> None:
    rng = np.random.default_rng(3)
    base = PARTS[name]
    part = Part(
        base.kind,
        base.size,
        base.profile,
        base.path,
        rotation=_random_rotation(rng),
        translation=(0.1, -0.2, 0.05),
        segments=base.segments,
    )
    mesh = Shape("03001627", (part,)).mesh()
    assert mesh.is_watertight and mesh.volume > 0
    lo, hi = part.bounds()
    assert np.all(mesh.vertices >= lo - 1e-9) and np.all(mesh.vertices <= hi + 1e-9)
    points = rng.uniform(-0.6, 0.6, (4000, 3))
    d = part.sdf(points)
    away = np.abs(d) > 0.005
    assert np.mean((d[away] < 0) == _winding_inside(mesh, points[away])) > 0.999
    # Every vertex lies on the exact surface (tessellations are inscribed; 2-D sections go through manifold3d's
    # fixed-precision polygon code). A tube's capsules meet along polygonal intersection curves: chord error.
    assert np.abs(part.sdf(mesh.vertices)).max() < (2e-3 if name == "tube" else 1e-7)


def test_revolve_and_torus_fields_are_the_exact_ones() -> None:
    points = np.random.default_rng(0).uniform(-0.6, 0.6, (2000, 3))
    cylinder = Part("revolve", profile=((0.0, -0.2), (0.25, -0.2), (0.25, 0.2), (0.0, 0.2)))
    # Exact inside too: the axis edge of the profile is not part of the surface.
    np.testing.assert_allclose(cylinder.sdf(points), _cylinder_sdf(points, 0.25, 0.2), atol=1e-12)
    torus = Part("torus", size=(0.3, 0.06), translation=(0.1, 0.0, -0.1))
    np.testing.assert_allclose(torus.sdf(points), analytic.torus((0.1, 0.0, -0.1), 0.3, 0.06)(points), atol=1e-12)
    sphere = Part("ellipsoid", size=(0.2, 0.2, 0.2))
    np.testing.assert_allclose(sphere.sdf(points), analytic.sphere((0, 0, 0), 0.2)(points), atol=1e-12)


def test_extrusion_and_rounded_box_fields_are_the_exact_ones() -> None:
    points = np.random.default_rng(1).uniform(-0.6, 0.6, (2000, 3))
    square = Part("extrude", size=(0.1,), profile=((-0.2, -0.3), (0.2, -0.3), (0.2, 0.3), (-0.2, 0.3)))
    np.testing.assert_allclose(square.sdf(points), analytic.box((0, 0, 0), (0.2, 0.3, 0.1))(points), atol=1e-12)
    rounded = Part("round_box", size=(0.3, 0.2, 0.1, 0.05))
    inner = analytic.box((0, 0, 0), (0.25, 0.15, 0.05))(points) - 0.05
    np.testing.assert_allclose(rounded.sdf(points), inner, atol=1e-12)


def test_scaling_a_part_scales_its_field() -> None:
    points = np.random.default_rng(2).uniform(-1, 1, (1000, 3))
    for part in PARTS.values():
        scaled = part.scaled(2.5, (0.3, 0.0, -0.1))
        expected = 2.5 * part.sdf((points - np.array([0.3, 0.0, -0.1])) / 2.5)
        np.testing.assert_allclose(scaled.sdf(points), expected, atol=1e-12)


def test_parts_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="unknown part kind"):
        Part("cone", size=(1.0,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Part("box", size=(1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="3 sizes"):
        Part("box", size=(1.0, 1.0))
    with pytest.raises(ValueError, match="radius"):
        Part("torus", size=(0.1, 0.2))


def test_face_labels_name_the_parts_and_holes() -> None:
    shape = next(s for s in (_shape("chair", seed) for seed in range(40)) if s.holes)
    _, labels = shape.mesh_with_labels()
    names = {[*shape.parts, *shape.holes][i].name for i in np.unique(labels)}
    assert {"seat", "back-hole"} <= names


# -- the canonical frame against real ShapeNet data -----------------------------------------------------------------


def _read_binvox(path: Path) -> np.ndarray:
    """Occupancy [x][y][z] of a binvox file (stored run-length encoded in [x][z][y] order)."""
    with path.open("rb") as f:
        dims = None
        while (line := f.readline().strip()) != b"data":
            if line.startswith(b"dim"):
                dims = [int(v) for v in line.split()[1:]]
        raw = np.frombuffer(f.read(), dtype=np.uint8)
    occupied = np.repeat(raw[::2], raw[1::2]).astype(bool).reshape(dims)
    return np.swapaxes(occupied, 1, 2)


def _top_offset(points: np.ndarray, fraction: float = 0.25) -> np.ndarray:
    """Mean (x, z) of the top `fraction` of the points' height, relative to their bounding-box centre."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    top = points[points[:, 1] > hi[1] - fraction * (hi[1] - lo[1])]
    return (top.mean(axis=0) - (lo + hi) / 2)[[0, 2]]


def _generated_top_offsets(category: str, seeds: range, need: str) -> list[np.ndarray]:
    out = []
    for seed in seeds:
        shape = _shape(category, seed)
        if need in shape.style:
            points, _ = trimesh.sample.sample_surface(shape.mesh(), 20_000, seed=seed)
            out.append(_top_offset(points))
    return out


@pytest.mark.skipif(not (REALDATA / "r2n2").is_dir(), reason="shared/realdata is not available")
def test_chair_backrest_is_on_the_same_side_as_in_shapenet() -> None:
    voxel_files = sorted((REALDATA / "r2n2" / "ShapeNetVox32" / "03001627").glob("*/model.binvox"))
    assert voxel_files
    for path in voxel_files:
        real = _top_offset(np.argwhere(_read_binvox(path)).astype(np.float64))
        assert real[0] < -2.0, f"{path}: the backrest is not on -x ({real})"  # voxels: at least 2 cells off centre
    for offset in _generated_top_offsets("chair", range(8), ""):
        assert offset[0] < -0.1 and abs(offset[1]) < 0.05, offset


@pytest.mark.skipif(not (REALDATA / "onet").is_dir(), reason="shared/realdata is not available")
def test_bench_backrest_and_table_length_match_shapenet() -> None:
    v2 = REALDATA / "onet" / "ShapeNetCore.v2"
    # ShapeNetCore.v2 is v1 turned 90 degrees about y: x_v1 = -z_v2, z_v1 = x_v2.
    to_v1 = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    bench = trimesh.load(next((v2 / "02828884").glob("*/models/model_normalized.obj")), force="mesh")
    bench_points = trimesh.sample.sample_surface(bench, 20_000, seed=0)[0] @ to_v1.T
    assert _top_offset(bench_points)[0] < -0.03
    for offset in _generated_top_offsets("bench", range(12), "/solid-back") + _generated_top_offsets(
        "bench", range(12), "/slats-back"
    ):
        assert offset[0] < -0.03, offset
    table = trimesh.load(next((v2 / "04379243").glob("*/models/model_normalized.obj")), force="mesh")
    extent = np.ptp(table.vertices @ to_v1.T, axis=0)
    assert extent[2] > extent[0]  # long side along z in v1
    for seed in range(10):
        shape = _shape("table", seed)
        if "/rect" in shape.style or "/oval" in shape.style:
            lo, hi = shape.mesh().bounds
            assert hi[2] - lo[2] >= hi[0] - lo[0] - 1e-9
