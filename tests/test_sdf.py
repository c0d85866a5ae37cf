"""The grid <-> world convention and SDF resampling (the convention every other module relies on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlsr.errors import ConfigError, DatasetError
from dlsr.sdf import (
    Grid,
    box,
    interpolation_matrix,
    read_sdf_archive,
    resample_sdf,
    sample_sdf,
    sdf_archive,
    sphere,
    torus,
    union,
)


def test_grid_endpoints_lie_on_the_cube_faces() -> None:
    grid = Grid(resolution=32, bound=0.55)
    assert grid.spacing == pytest.approx(1.1 / 31)
    np.testing.assert_allclose(grid.to_world([0, 0, 0]), [-0.55, -0.55, -0.55])
    np.testing.assert_allclose(grid.to_world([31, 31, 31]), [0.55, 0.55, 0.55])
    np.testing.assert_allclose(grid.to_world([15.5, 0, 31]), [0.0, -0.55, 0.55], atol=1e-12)


def test_to_index_inverts_to_world() -> None:
    grid = Grid(resolution=17, bound=0.7)
    points = np.random.default_rng(0).uniform(-0.7, 0.7, size=(100, 3))
    np.testing.assert_allclose(grid.to_world(grid.to_index(points)), points, atol=1e-12)


def test_points_are_indexed_ij_as_xyz() -> None:
    grid = Grid(resolution=5, bound=1.0)
    points = grid.points()
    assert points.shape == (5, 5, 5, 3)
    np.testing.assert_allclose(points[1, 2, 3], grid.to_world([1, 2, 3]))
    np.testing.assert_allclose(points[:, 0, 0, 0], np.linspace(-1, 1, 5))  # x varies along axis 0
    np.testing.assert_allclose(points[0, :, 0, 1], np.linspace(-1, 1, 5))  # y along axis 1
    np.testing.assert_allclose(points[0, 0, :, 2], np.linspace(-1, 1, 5))  # z along axis 2


def test_off_centre_sphere_minimum_is_at_its_centre_index() -> None:
    """An axis flip or transposition anywhere in sampling would move the minimum."""
    grid = Grid(resolution=23, bound=0.55)
    centre = np.array([0.25, -0.15, 0.05])
    sdf = sample_sdf(sphere(tuple(centre), 0.1), grid)
    index = np.unravel_index(np.argmin(sdf), sdf.shape)
    np.testing.assert_allclose(grid.to_world(np.array(index)), centre, atol=grid.spacing / 2 + 1e-9)


def test_analytic_sdfs_are_negative_inside_and_exact_at_known_points() -> None:
    points = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.3]])
    np.testing.assert_allclose(sphere(radius=0.4)(points), [-0.4, 0.1, -0.1])
    np.testing.assert_allclose(box(half_size=(0.2, 0.3, 0.4))(points), [-0.2, 0.3, -0.1])
    # The torus hole: the centre is outside, at distance major - minor from the tube.
    np.testing.assert_allclose(torus(major_radius=0.3, minor_radius=0.1)(points), [0.2, 0.1, -0.1])
    np.testing.assert_allclose(union(sphere((0.5, 0, 0), 0.1), sphere(radius=0.1))(points), [-0.1, -0.1, 0.2])


@pytest.mark.parametrize("method", ["linear", "cubic"])
def test_resampling_keeps_samples_and_reproduces_linear_fields(method: str) -> None:
    coarse, fine = Grid(9, 0.5), Grid(17, 0.5)
    linear = lambda p: 0.3 * p[..., 0] - 0.2 * p[..., 1] + 0.1 * p[..., 2] + 0.05  # noqa: E731
    up = resample_sdf(sample_sdf(linear, coarse), 17, method)
    np.testing.assert_allclose(up, sample_sdf(linear, fine), atol=1e-6)
    sdf = sample_sdf(sphere(radius=0.3), coarse)
    np.testing.assert_allclose(up_sphere := resample_sdf(sdf, 17, method)[::2, ::2, ::2], sdf, atol=1e-6)
    assert up_sphere.dtype == np.float32


def test_cubic_resampling_beats_linear_on_a_sphere() -> None:
    coarse = Grid(32, 0.55)
    exact = sample_sdf(sphere((0.03, -0.02, 0.01), 0.35), coarse.with_resolution(94))
    coarse_sdf = sample_sdf(sphere((0.03, -0.02, 0.01), 0.35), coarse)
    near_surface = np.abs(exact) < 2 * coarse.spacing  # away from the kink at the centre, where no scheme is exact
    errors = {m: np.abs(resample_sdf(coarse_sdf, 94, m) - exact)[near_surface].max() for m in ("linear", "cubic")}
    assert errors["cubic"] < errors["linear"]
    assert errors["cubic"] < 0.1 * coarse.spacing


def test_interpolation_rows_sum_to_one() -> None:
    for method in ("linear", "cubic"):
        np.testing.assert_allclose(interpolation_matrix(32, 77, method).sum(axis=1), 1.0, atol=1e-12)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="resolution"):
        Grid(resolution=1)
    with pytest.raises(ConfigError, match="bound"):
        Grid(resolution=8, bound=0.0)
    with pytest.raises(ValueError, match="cubic grid"):
        resample_sdf(np.zeros((4, 4, 5)), 8)
    with pytest.raises(ConfigError, match="linear"):
        interpolation_matrix(4, 8, "nearest")  # type: ignore[arg-type]


def test_sdf_archive_round_trip_and_refusals(tmp_path: Path) -> None:
    grid = Grid(12, 0.6)
    sdf = sample_sdf(sphere((0.1, 0.0, -0.1), 0.3), grid)
    path = tmp_path / "grid.npz"
    np.savez(path, **sdf_archive(sdf, grid))
    loaded, loaded_grid = read_sdf_archive(path)
    np.testing.assert_array_equal(loaded, sdf)
    assert loaded_grid == grid
    with np.load(path) as archive:
        np.testing.assert_allclose(archive["bounds"], [[-0.6] * 3, [0.6] * 3])
        assert float(archive["spacing"]) == pytest.approx(grid.spacing)
    flipped = {**sdf_archive(sdf, grid), "sign": np.array("positive-inside")}
    np.savez(tmp_path / "flipped.npz", **flipped)
    with pytest.raises(DatasetError, match="sign convention"):
        read_sdf_archive(tmp_path / "flipped.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=r"junk\.npz"):
        read_sdf_archive(tmp_path / "junk.npz")
    with pytest.raises(DatasetError, match="does not exist"):
        read_sdf_archive(tmp_path / "absent.npz")
    with pytest.raises(ValueError, match="does not match"):
        sdf_archive(sdf, Grid(13, 0.6))
