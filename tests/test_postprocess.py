"""Tests for dlsr.postprocess: stray parts, Taubin smoothing, scale and the up axis."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from dlsr.errors import ConfigError
from dlsr.postprocess import MeshFinish, finish_mesh, keep_main_parts


def two_spheres() -> trimesh.Trimesh:
    big = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    small = trimesh.creation.icosphere(subdivisions=2, radius=0.1)  # 1/27 of the big one's volume
    small.apply_translation([0.45, 0.0, 0.0])
    return trimesh.util.concatenate([big, small])


@pytest.mark.parametrize(("fraction", "parts"), [(0.0, 2), (0.02, 2), (0.05, 1), (1.0, 1)])
def test_keep_main_parts_by_volume_share(fraction: float, parts: int) -> None:
    kept = keep_main_parts(two_spheres(), fraction) if fraction > 0 else two_spheres()
    assert len(kept.split(only_watertight=False)) == parts
    assert kept.is_watertight


def test_taubin_smoothing_keeps_the_volume() -> None:
    box = trimesh.creation.box(extents=(0.6, 0.4, 0.2)).subdivide().subdivide().subdivide()
    smooth = finish_mesh(box, MeshFinish(smooth_iterations=10))
    assert abs(smooth.volume - box.volume) / box.volume < 0.1  # corners round off; a plain Laplacian shrinks more
    assert not np.allclose(smooth.vertices, box.vertices)


def test_up_z_turns_y_into_z_and_keeps_the_front() -> None:
    box = trimesh.creation.box(extents=(0.6, 0.4, 0.2))
    turned = finish_mesh(box, MeshFinish(up="z", scale=2.0))
    np.testing.assert_allclose(turned.extents, [1.2, 0.4, 0.8])  # x stays, old y (0.4 x 2) is now z
    assert turned.volume > 0  # a rotation: faces still point outwards
    tip = finish_mesh(trimesh.Trimesh([[0, 1, 0], [1, 0, 0], [0, 0, 1]], [[0, 1, 2]]), MeshFinish(up="z"))
    np.testing.assert_allclose(tip.vertices, [[0, 0, 1], [1, 0, 0], [0, -1, 0]], atol=1e-12)


def test_the_input_mesh_is_left_alone() -> None:
    mesh = two_spheres()
    before = mesh.vertices.copy()
    finish_mesh(mesh, MeshFinish(keep_parts=1.0, smooth_iterations=3, scale=3.0, up="z"))
    assert np.array_equal(mesh.vertices, before)


@pytest.mark.parametrize(
    "values", [{"keep_parts": 1.5}, {"smooth_iterations": -1}, {"scale": 0.0}, {"scale": float("inf")}, {"up": "x"}]
)
def test_bad_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MeshFinish(**values)  # type: ignore[arg-type]
