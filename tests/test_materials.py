"""Training materials: deterministic draws, patterns within their range and fixed to the object, real renders."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from dlsr.camera import Camera
from dlsr.render import Renderer
from dlsr.synth.materials import MATERIAL_KINDS, PATTERNS, random_lighting, random_material, random_materials


def test_draws_are_deterministic_and_cover_every_kind() -> None:
    first, second = random_materials(np.random.default_rng(3), 5), random_materials(np.random.default_rng(3), 5)
    assert np.array_equal(first.colors, second.colors) and first.specular == second.specular
    for kind in MATERIAL_KINDS:
        albedo, pattern, specular, shininess = random_material(np.random.default_rng(0), kind)
        assert albedo.shape == (3,) and 0 <= albedo.min() and albedo.max() <= 1
        assert pattern.kind in PATTERNS and specular >= 0 and shininess > 0
    with pytest.raises(ValueError, match="unknown material kind"):
        random_material(np.random.default_rng(0), "marble")
    with pytest.raises(ValueError, match="at least 1"):
        random_materials(np.random.default_rng(0), 0)


def test_kinds_look_like_their_names() -> None:
    rng = np.random.default_rng(1)
    brightness = {kind: np.mean([random_material(rng, kind)[0].mean() for _ in range(50)]) for kind in MATERIAL_KINDS}
    assert brightness["light"] > 0.75 > 0.3 > brightness["dark"]
    wood = np.array([random_material(rng, "wood")[0] for _ in range(50)])
    assert (wood[:, 0] >= wood[:, 1]).all() and (wood[:, 1] >= wood[:, 2]).all()  # browns: red > green > blue
    assert min(random_material(rng, "metal")[2] for _ in range(20)) >= 0.3  # metal is always shiny


def test_about_half_the_objects_are_one_material_and_parts_share_a_palette() -> None:
    rng = np.random.default_rng(7)
    single = 0
    for _ in range(200):
        materials = random_materials(rng, 6)
        patterns = {id(pattern) for pattern in materials.patterns}
        assert 1 <= len(patterns) <= 3  # six parts, at most three materials
        single += len(patterns) == 1
    assert 0.4 < single / 200 < 0.7


@pytest.mark.parametrize("kind", ["grain", "noise", "stripes"])
def test_patterns_stay_in_range_and_on_the_object(kind: str) -> None:
    rng = np.random.default_rng(11)
    materials = None
    while materials is None or materials.patterns[0].kind != kind:
        materials = random_materials(rng, 1)
    pattern = materials.patterns[0]
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (5000, 3))
    factor = pattern.factor(points)
    assert factor.min() >= 1 - pattern.amplitude - 1e-12 and factor.max() <= 1 + 1e-12
    assert factor.std() > 0.01  # a visible pattern
    # A function of the point alone (not of the other points drawn with it), up to BLAS rounding.
    np.testing.assert_allclose(pattern.factor(points[::-1][:100]), factor[::-1][:100], rtol=1e-12)


def test_textured_renders_vary_across_the_surface_and_match_across_views() -> None:
    mesh = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    rng = np.random.default_rng(5)
    materials = random_materials(rng, 1)
    while materials.patterns[0].kind != "grain":
        materials = random_materials(rng, 1)
    parts = np.zeros(len(mesh.faces), dtype=np.int64)
    renderer = Renderer(mesh)
    lighting = random_lighting(np.random.default_rng(0), materials)
    camera = Camera(azimuth=30.0, elevation=25.0, distance_ratio=1.2)
    plain = renderer.render(camera, 96, colors=materials.colors[parts], appearance=lighting)
    textured = renderer.render(
        camera, 96, colors=materials.colors[parts], appearance=lighting, texture=materials.texture(parts)
    )
    covered = textured[..., 3] == 255
    assert np.array_equal(covered, plain[..., 3] == 255)  # the texture changes colour, not the silhouette
    darker = textured[covered, :3].astype(int).sum(axis=1) < plain[covered, :3].astype(int).sum(axis=1)
    assert 0.05 < darker.mean() < 0.999  # rings darken part of the surface, not all of it
