"""Reconstruction metrics against hand-computed cases, analytic shapes and slow naive references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from dlsr import metrics
from dlsr.metrics import (
    EMPTY_CHAMFER,
    chamfer_and_fscore,
    iou_points,
    iou_sdf,
    iou_voxels,
    mesh_metrics,
    topology,
)
from dlsr.nearest import NearestIndex
from dlsr.sdf import Grid, sample_sdf, sphere


def sphere_samples(n: int, radius: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points (n, 3) uniform on a sphere of `radius` at the origin, with their outward unit normals."""
    normals = rng.normal(size=(n, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return radius * normals, normals


def naive_nearest(query: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over the full (N, M) distance matrix."""
    matrix = np.sqrt(((query[:, None, :] - reference[None, :, :]) ** 2).sum(axis=-1))
    index = matrix.argmin(axis=1)
    return matrix[np.arange(len(query)), index], index


def naive_metrics(
    pred: np.ndarray, pred_n: np.ndarray, true: np.ndarray, true_n: np.ndarray, taus: tuple[float, ...]
) -> dict[str, float]:
    """The module docstring's definitions, written out with Python loops over brute-force neighbours."""
    acc, to_true = naive_nearest(pred, true)
    comp, to_pred = naive_nearest(true, pred)
    pred_u = pred_n / np.linalg.norm(pred_n, axis=1, keepdims=True)
    true_u = true_n / np.linalg.norm(true_n, axis=1, keepdims=True)
    normal_acc = sum(abs(float(pred_u[i] @ true_u[to_true[i]])) for i in range(len(pred))) / len(pred)
    normal_comp = sum(abs(float(true_u[j] @ pred_u[to_pred[j]])) for j in range(len(true))) / len(true)
    out = {
        "accuracy": sum(acc) / len(acc),
        "completeness": sum(comp) / len(comp),
        "chamfer_l1": 0.5 * (sum(acc) / len(acc) + sum(comp) / len(comp)),
        "chamfer_l2": 0.5 * (sum(acc**2) / len(acc) + sum(comp**2) / len(comp)),
        "normal_consistency": 0.5 * (normal_acc + normal_comp),
    }
    for tau in taus:
        precision = sum(1 for d in acc if d < tau) / len(acc)
        recall = sum(1 for d in comp if d < tau) / len(comp)
        out[f"precision@{tau:g}"] = precision
        out[f"recall@{tau:g}"] = recall
        out[f"fscore@{tau:g}"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return out


def double_torus() -> trimesh.Trimesh:
    """Union of two overlapping tori (manifold3d): one closed body with two holes."""
    m3 = pytest.importorskip("manifold3d")
    ring = m3.Manifold.revolve(m3.CrossSection.circle(0.3, 24).translate([1.0, 0.0]), 48)
    solid = ring + ring.translate([1.6, 0.0, 0.0])
    assert solid.genus() == 2  # manifold3d's own count: an independent check of the construction
    mesh = solid.to_mesh()
    return trimesh.Trimesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts), process=False)


def with_holes(mesh: trimesh.Trimesh, holes: int) -> trimesh.Trimesh:
    """The mesh with `holes` far-apart triangles removed: that many boundary loops."""
    centres = mesh.triangles_center
    removed = [0]
    while len(removed) < holes:  # each next hole at the face furthest from those already removed
        gaps = np.min(np.linalg.norm(centres[:, None] - centres[removed][None], axis=-1), axis=1)
        removed.append(int(gaps.argmax()))
    keep = np.ones(len(mesh.faces), bool)
    keep[removed] = False
    return trimesh.Trimesh(mesh.vertices, mesh.faces[keep], process=False)


def triangle_soup(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Every triangle with its own three vertex copies (as STL stores them)."""
    vertices = mesh.vertices[mesh.faces].reshape(-1, 3)
    return trimesh.Trimesh(vertices, np.arange(len(vertices)).reshape(-1, 3), process=False)  # keep the copies


# ---------------------------------------------------------------------------------------------------- IoU


def test_iou_points_identity_disjoint_and_hand_counted() -> None:
    rng = np.random.default_rng(0)
    occupancy = rng.random(1000) < 0.3
    assert iou_points(occupancy, occupancy) == 1.0
    assert iou_points(occupancy, ~occupancy) == 0.0
    # 2 in both, 1 only predicted, 1 only true: 2 / 4; probabilities count from 0.5 upwards, as ONet's.
    assert iou_points([0.5, 1.0, 0.9, 0.0, 0.49], [True, True, False, True, False]) == 0.5
    assert iou_points(np.zeros(5, bool), np.zeros(5, bool)) == 1.0  # documented: two empty sets agree
    assert isinstance(iou_points(occupancy, occupancy), float)
    with pytest.raises(ValueError, match="same shape"):
        iou_points(occupancy, occupancy[:-1])


def test_iou_voxels_matches_a_naive_loop() -> None:
    rng = np.random.default_rng(1)
    pred = rng.random((8, 8, 8))
    true = rng.random((8, 8, 8)) < 0.4
    for threshold in (0.3, 0.4, 0.5):
        intersection = union = 0
        for i in range(8):
            for j in range(8):
                for k in range(8):
                    p, t = pred[i, j, k] >= threshold, bool(true[i, j, k])
                    intersection += p and t
                    union += p or t
        assert iou_voxels(pred, true, threshold) == pytest.approx(intersection / union, abs=1e-15)


def test_iou_voxels_threshold_is_inclusive_and_moves_only_the_prediction() -> None:
    true = np.zeros((4, 4, 4), bool)
    true[:2] = True  # half the grid
    pred = np.where(true, 0.4, 0.0)
    assert iou_voxels(pred, true, threshold=0.4) == 1.0  # pred >= threshold is occupied (3D-R2N2's >=)
    assert iou_voxels(pred, true, threshold=np.nextafter(0.4, 1.0)) == 0.0
    assert iou_voxels(pred, true) == 0.0  # default 0.5
    # Soft truth is read at 0.5 whatever the prediction's threshold: sweeping 0.3..0.5 must not move it.
    soft_true = np.where(true, 0.6, 0.35)
    assert iou_voxels(pred, soft_true, threshold=0.3) == 1.0


def test_iou_sdf_of_concentric_spheres_is_the_volume_ratio() -> None:
    grid = Grid(64)
    small, large = 0.25, 0.4
    sdf_small = sample_sdf(sphere(radius=small), grid)
    sdf_large = sample_sdf(sphere(radius=large), grid)
    iou = iou_sdf(sdf_small, sdf_large)
    assert iou.shape == ()
    # Voxel counting errs by about a surface layer of cells: ~1.5 % of (r1/r2)^3 = 0.244 at this resolution.
    assert float(iou) == pytest.approx((small / large) ** 3, rel=0.02)
    assert float(iou_sdf(sdf_large, sdf_large)) == 1.0
    assert float(iou_sdf(sdf_small, -sdf_small)) == 0.0  # complement: disjoint
    # A sample exactly on the surface (0) is outside, so an all-zero grid is empty, like an all-positive one.
    assert float(iou_sdf(np.zeros((4, 4, 4)), np.ones((4, 4, 4)))) == 1.0
    assert float(iou_sdf(np.zeros((4, 4, 4)), -np.ones((4, 4, 4)))) == 0.0


def test_iou_sdf_is_batched_and_takes_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    grid = Grid(16)
    radii = np.array([[0.2, 0.3, 0.4], [0.45, 0.35, 0.25]])
    pred = np.stack([[sample_sdf(sphere(radius=r), grid) for r in row] for row in radii])  # (2, 3, R, R, R)
    true = np.broadcast_to(sample_sdf(sphere(radius=0.3), grid), pred.shape)  # read-only, as np.load(mmap_mode)
    batched = iou_sdf(pred, true)
    assert batched.shape == (2, 3)
    expected = [
        [float(iou_sdf(p, t)) for p, t in zip(prow, trow, strict=True)] for prow, trow in zip(pred, true, strict=True)
    ]
    np.testing.assert_array_equal(batched, expected)
    assert batched[0, 1] == 1.0
    np.testing.assert_array_equal(iou_sdf(torch.tensor(pred), torch.tensor(true)), batched)
    # A tensor in training (requires grad) against a read-only array: no warning (the suite makes them errors).
    np.testing.assert_array_equal(iou_sdf(torch.tensor(pred, requires_grad=True), true), batched)
    zeros, ones = torch.zeros((4, 4, 4)), torch.ones((4, 4, 4))
    assert float(iou_sdf(zeros, ones)) == 1.0 and float(iou_sdf(zeros, -ones)) == 0.0  # 0 is outside here too
    with pytest.raises(ValueError, match=r"\(\.\.\., R, R, R\)"):
        iou_sdf(pred[0, 0, 0], true[0, 0, 0])


# ----------------------------------------------------------------------------- distances and surface scores


def test_chamfer_with_a_prebuilt_true_index_equals_without() -> None:
    rng = np.random.default_rng(5)
    true, true_n = sphere_samples(800, 0.4, rng)
    pred, pred_n = sphere_samples(600, 0.37, rng)
    index = NearestIndex(true)
    assert chamfer_and_fscore(pred, pred_n, true, true_n, true_index=index) == chamfer_and_fscore(
        pred, pred_n, true, true_n
    )
    with pytest.raises(ValueError, match="true_index holds 800 points"):
        chamfer_and_fscore(pred, pred_n, true[:100], true_n[:100], true_index=index)
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.4)
    with pytest.raises(ValueError, match="point-cloud truth"):  # a true mesh is sampled afresh: no fixed index
        mesh_metrics(mesh, mesh, n_points=800, true_index=index)


def test_chamfer_and_fscore_match_a_naive_reference() -> None:
    rng = np.random.default_rng(3)
    true, true_n = sphere_samples(500, 0.4, rng)
    pred = true[:450] + rng.normal(0.0, 0.01, size=(450, 3))  # noisy, and missing part of the truth
    pred_n = true_n[:450] * rng.uniform(0.5, 2.0, size=(450, 1)) * rng.choice([-1, 1], size=(450, 1))
    taus = (0.005, 0.01, 0.02)
    fast = chamfer_and_fscore(pred, pred_n, true, true_n, thresholds=taus)
    slow = naive_metrics(pred, pred_n, true, true_n, taus)
    for key, value in slow.items():
        assert fast[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert 0.0 < fast["fscore@0.005"] < fast["fscore@0.01"] < fast["fscore@0.02"] <= 1.0
    assert all(type(value) is float for value in fast.values())


def test_identical_clouds_score_perfectly() -> None:
    points, normals = sphere_samples(2000, 0.5, np.random.default_rng(4))
    result = chamfer_and_fscore(points, normals, points, -normals)  # flipped normals are forgiven
    assert result["chamfer_l1"] == 0.0 and result["chamfer_l2"] == 0.0
    assert result["fscore@0.01"] == 1.0 and result["fscore@0.02"] == 1.0
    assert result["normal_consistency"] == pytest.approx(1.0, abs=1e-12)
    turned = np.cross(normals, [0.0, 0.0, 1.0])  # perpendicular to every normal
    assert chamfer_and_fscore(points, turned, points, normals)["normal_consistency"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(chamfer_and_fscore(points, None, points, normals)["normal_consistency"])


def test_plane_shifted_along_its_normal_is_exactly_t_away() -> None:
    # A square lattice (spacing 0.02) and a copy lifted by t = 0.015 < spacing: every sample's nearest
    # neighbour is the one straight above or below it, at exactly t.
    u = np.arange(-0.5, 0.5, 0.02)
    plane = np.stack(np.meshgrid(u, u, [0.0], indexing="ij"), axis=-1).reshape(-1, 3)
    normals = np.tile([0.0, 0.0, 1.0], (len(plane), 1))
    t = 0.015
    result = chamfer_and_fscore(
        plane + np.array([0.0, 0.0, t]), normals, plane, normals, thresholds=(0.01, 0.015, 0.02)
    )
    assert result["accuracy"] == pytest.approx(t) and result["completeness"] == pytest.approx(t)
    assert result["chamfer_l1"] == pytest.approx(t)
    assert result["chamfer_l2"] == pytest.approx(t**2)
    assert result["fscore@0.01"] == 0.0  # t is beyond 1 %
    # Exactly τ away does not count: d < τ, strict, as Tatarchenko et al.'s code.
    assert result["precision@0.015"] == result["recall@0.015"] == result["fscore@0.015"] == 0.0
    assert result["fscore@0.02"] == 1.0


def test_sphere_shifted_by_t_has_chamfer_of_about_half_t() -> None:
    # For a sphere and its copy moved by t << r, a point of one lies |t·n| from the other, so the mean distance
    # is t·E|cos| = t/2, not t. Samples only lengthen nearest distances (each is >= the distance to the true
    # surface), so the sampled value lies above the exact one and within the sampling gap of it.
    rng = np.random.default_rng(5)
    radius, t = 0.5, 0.05
    true, true_n = sphere_samples(20_000, radius, rng)
    pred, pred_n = sphere_samples(20_000, radius, rng)
    pred = pred + np.array([t, 0.0, 0.0])
    result = chamfer_and_fscore(pred, pred_n, true, true_n)
    exact_accuracy = np.abs(np.linalg.norm(pred, axis=1) - radius).mean()
    exact_completeness = np.abs(np.linalg.norm(true - [t, 0.0, 0.0], axis=1) - radius).mean()
    exact = 0.5 * (exact_accuracy + exact_completeness)
    assert exact == pytest.approx(t / 2, rel=0.02)
    assert exact <= result["chamfer_l1"] <= exact + 0.003
    assert result["normal_consistency"] > 0.99


def test_chamfer_rejects_bad_arguments() -> None:
    points = np.zeros((3, 3))
    with pytest.raises(ValueError, match="positive"):
        chamfer_and_fscore(points, None, points, None, thresholds=(0.01, 0.0))
    with pytest.raises(ValueError, match="true_points is empty"):
        chamfer_and_fscore(points, None, np.zeros((0, 3)), None)
    with pytest.raises(ValueError, match="NaN"):
        chamfer_and_fscore(np.full((3, 3), np.nan), None, points, None)
    with pytest.raises(ValueError, match=r"pred_normals must be \(3, 3\)"):
        chamfer_and_fscore(points, np.zeros((2, 3)), points, np.zeros((3, 3)))


# ------------------------------------------------------------------------------------------------ topology


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: trimesh.creation.icosphere(subdivisions=2), (1, 0)),
        (lambda: trimesh.creation.torus(major_radius=1.0, minor_radius=0.3), (1, 1)),
        (
            lambda: trimesh.util.concatenate(
                [trimesh.creation.icosphere(2), trimesh.creation.icosphere(2).apply_translation([3.0, 0.0, 0.0])]
            ),
            (2, 0),
        ),
        (double_torus, (1, 2)),
        (lambda: triangle_soup(trimesh.creation.torus(1.0, 0.3)), (1, 1)),  # merged by position first
        (lambda: with_holes(trimesh.creation.icosphere(2), 1), (1, 0)),  # a disk: the hole is capped
        (lambda: with_holes(trimesh.creation.icosphere(2), 2), (1, 0)),  # an open tube, χ = 0
        (lambda: with_holes(trimesh.creation.torus(1.0, 0.3), 3), (1, 1)),
        (lambda: trimesh.Trimesh(np.eye(3), np.zeros((0, 3), int)), (0, 0)),
    ],
    ids=["sphere", "torus", "two-spheres", "double-torus", "torus-soup", "disk", "tube", "torus-3-holes", "no-faces"],
)
def test_topology(build, expected: tuple[int, int]) -> None:
    assert topology(build()) == expected


# ----------------------------------------------------------------------------------------- mesh_metrics


def test_empty_or_failed_prediction_scores_the_worst_case() -> None:
    truth = trimesh.creation.icosphere(2, radius=0.5)
    collapsed = trimesh.Trimesh(np.zeros((3, 3)), [[0, 1, 2]], process=False)  # zero area
    broken = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, np.nan, 0]], [[0, 1, 2]], process=False)
    occupancy_points = np.random.default_rng(6).uniform(-0.55, 0.55, size=(100, 3))
    for prediction in (None, trimesh.Trimesh(), collapsed, broken):
        result = mesh_metrics(prediction, truth, n_points=500)
        assert result["empty"] is True
        assert result["chamfer_l1"] == result["accuracy"] == result["completeness"] == EMPTY_CHAMFER
        assert result["chamfer_l2"] == 3.0
        assert result["iou"] == 0.0 and result["normal_consistency"] == 0.0
        assert result["fscore@0.01"] == result["fscore@0.02"] == result["precision@0.01"] == 0.0
        assert (result["components"], result["genus"]) == (0, 0)
        assert (result["true_components"], result["true_genus"]) == (1, 0)
        inside = np.linalg.norm(occupancy_points, axis=1) < 0.5
        with_iou = mesh_metrics(prediction, truth, n_points=500, iou_points=occupancy_points, true_occupancy=inside)
        assert with_iou["iou"] == 0.0
    # The worst case is worse than any real score: a far-off, wrong prediction still does better.
    far = trimesh.creation.icosphere(1, radius=0.05).apply_translation([0.45, 0.45, 0.45])
    assert mesh_metrics(far, truth, n_points=500)["chamfer_l1"] < EMPTY_CHAMFER


def test_mesh_against_itself_and_seeding() -> None:
    mesh = trimesh.creation.icosphere(3, radius=0.5)
    result = mesh_metrics(mesh, mesh, n_points=20_000, rng=7)
    assert result["empty"] is False
    # Two independent samplings of one surface differ only by the sampling gap: the mean nearest-neighbour
    # distance of uniform points of density λ on a surface is 1 / (2√λ) (Clark & Evans), here λ = n / area.
    assert result["chamfer_l1"] == pytest.approx(0.5 / math.sqrt(20_000 / mesh.area), rel=0.1)
    assert result["normal_consistency"] > 0.999
    assert result["fscore@0.02"] > 0.999
    assert (result["components"], result["genus"], result["true_components"], result["true_genus"]) == (1, 0, 1, 0)
    assert math.isnan(result["iou"])  # no occupancy points given
    assert mesh_metrics(mesh, mesh, n_points=2000, rng=8) == mesh_metrics(mesh, mesh, n_points=2000, rng=8)
    assert mesh_metrics(mesh, mesh, n_points=2000, rng=8) != mesh_metrics(mesh, mesh, n_points=2000, rng=9)


def test_point_cloud_ground_truth_as_onet_stores_it(tmp_path) -> None:
    pred = trimesh.creation.icosphere(4, radius=0.45)
    points, normals = sphere_samples(5000, 0.5, np.random.default_rng(10))
    path = tmp_path / "pointcloud.npz"
    np.savez(path, points=points.astype(np.float16), normals=normals.astype(np.float16))  # ONet's dtypes
    with np.load(path) as stored:
        from_file = mesh_metrics(pred, stored, n_points=5000, rng=0)
    from_pair = mesh_metrics(pred, (points, normals), n_points=5000, rng=0)
    assert math.isnan(from_file["true_components"]) and math.isnan(from_file["true_genus"])
    # float16 storage moves points by < 1e-3 of the radius: the scores barely move.
    assert from_file["chamfer_l1"] == pytest.approx(from_pair["chamfer_l1"], abs=3e-4)
    # The prediction lies 0.05 inside; its facets cut further in and the truth's sampling gap only lengthens
    # nearest distances, so the measured accuracy errs upwards, by the gap's order (~1/(2√λ) = 0.013) at most.
    assert 0.05 <= from_pair["accuracy"] <= 0.055
    with pytest.raises(ValueError, match="normals"):
        mesh_metrics(pred, {"points": points})


def test_mesh_iou_from_occupancy_points() -> None:
    pytest.importorskip("igl")
    rng = np.random.default_rng(11)
    points = rng.uniform(-0.55, 0.55, size=(20_000, 3))
    true_occupancy = np.linalg.norm(points, axis=1) < 0.4
    same = mesh_metrics(
        trimesh.creation.icosphere(4, radius=0.4), (points[:10], points[:10]), n_points=100,
        iou_points=points, true_occupancy=true_occupancy,
    )  # fmt: skip
    assert same["iou"] > 0.98  # the icosphere's facets cut slightly inside the sphere
    smaller = mesh_metrics(
        trimesh.creation.icosphere(4, radius=0.3), (points[:10], points[:10]), n_points=100,
        iou_points=points, true_occupancy=true_occupancy,
    )  # fmt: skip
    assert smaller["iou"] == pytest.approx((0.3 / 0.4) ** 3, abs=0.02)
    with pytest.raises(ValueError, match="both"):
        mesh_metrics(trimesh.creation.icosphere(1), (points, points), iou_points=points)


def test_module_constants_follow_onet() -> None:
    assert metrics.EMPTY_CHAMFER == pytest.approx(math.sqrt(3))  # the unit box's diagonal
    assert metrics.FSCORE_THRESHOLDS == (0.01, 0.02)
