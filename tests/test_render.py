"""The ray-casting renderer: coverage against analytic silhouettes, shading against hand-computed Lambert values,
colours, anti-aliasing, random appearances, contact sheets, and the missing-embreex error."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import trimesh

from conftest import REALDATA
from dlsr.camera import Camera
from dlsr.render import (
    Appearance,
    MissingDependencyError,
    Renderer,
    contact_sheet,
    default_appearance,
    normalise_for_display,
    random_appearance,
    render,
)

FRONT = Camera(azimuth=90.0, elevation=0.0, distance_ratio=1.0)  # on +z looking at the origin: x right, y up


def square(half: float = 0.3, z: float = 0.0) -> trimesh.Trimesh:
    """A square in the plane z = `z` facing +z (towards FRONT), two triangles."""
    vertices = np.array([[-half, -half, z], [half, -half, z], [half, half, z], [-half, half, z]])
    return trimesh.Trimesh(vertices, np.array([[0, 1, 2], [0, 2, 3]]), process=False)


def one_light(direction: tuple[float, float, float], albedo: float = 0.8, ambient: float = 0.1) -> Appearance:
    return Appearance(
        colors=np.full((1, 3), albedo), light_directions=np.array([direction]), light_intensities=[0.7], ambient=ambient
    )


def test_output_format_and_alpha_marks_the_object() -> None:
    picture = render(square(), FRONT, 64)
    assert picture.dtype == np.uint8 and picture.shape == (64, 64, 4)
    assert set(np.unique(picture[..., 3])) == {0, 255}
    assert (picture[picture[..., 3] == 0][:, :3] == 0).all()  # R2N2-like: RGB 0 where nothing is hit
    assert (picture[picture[..., 3] == 255][:, :3] > 0).all()


def test_sphere_silhouette_matches_the_analytic_disc() -> None:
    # A sphere of radius r seen from distance D is a disc of angular radius asin(r / D) around the image centre.
    radius, size = 0.4, 200
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=radius)
    camera = Camera(azimuth=33.0, elevation=21.0, distance_ratio=0.8)
    alpha = render(sphere, camera, size)[..., 3] > 0
    disc_radius = camera.focal * math.tan(math.asin(radius / camera.distance)) * size / 2
    area = math.pi * disc_radius**2
    assert alpha.sum() == pytest.approx(area, rel=0.02)
    rows, columns = np.nonzero(alpha)
    assert columns.mean() + 0.5 == pytest.approx(size / 2, abs=0.3)
    assert rows.mean() + 0.5 == pytest.approx(size / 2, abs=0.3)


def test_lambert_and_ambient_by_hand() -> None:
    renderer = Renderer(square())
    # Light along the normal: 0.8 * (0.1 + 0.7) = 0.64 -> 163.
    head_on = renderer.render(FRONT, 32, appearance=one_light((0.0, 0.0, 1.0)))
    assert head_on[16, 16, :3].tolist() == [163, 163, 163]
    # Light 60 degrees off the normal: 0.8 * (0.1 + 0.7 * 0.5) = 0.36 -> 92.
    oblique = renderer.render(FRONT, 32, appearance=one_light((0.0, math.sin(math.radians(60)), 0.5)))
    assert oblique[16, 16, :3].tolist() == [92, 92, 92]
    # Light behind the surface: ambient only, 0.08 -> 20.
    behind = renderer.render(FRONT, 32, appearance=one_light((0.0, 0.0, -1.0)))
    assert behind[16, 16, :3].tolist() == [20, 20, 20]


def test_two_sided_shading_lights_the_back_of_an_open_surface() -> None:
    renderer = Renderer(square())
    back = Camera(azimuth=270.0, elevation=0.0, distance_ratio=1.0)  # on -z, sees the square's back
    appearance = one_light((0.0, 0.0, 1.0))  # lights are in the camera frame: from the camera in both views
    seen_from_back = renderer.render(back, 32, appearance=appearance)[16, 16]
    np.testing.assert_array_equal(seen_from_back, renderer.render(FRONT, 32, appearance=appearance)[16, 16])


def test_specular_adds_a_highlight() -> None:
    matte = one_light((0.0, 0.0, 1.0))
    shiny = Appearance(matte.colors, matte.light_directions, matte.light_intensities, matte.ambient, specular=0.2)
    renderer = Renderer(square())
    # Light and view both along the normal: the highlight is 0.2 * 0.7 on top of 0.64 -> 0.78 -> 199.
    assert renderer.render(FRONT, 32, appearance=shiny)[16, 16, 0] == 199
    assert renderer.render(FRONT, 32, appearance=matte)[16, 16, 0] == 163


def test_per_face_per_vertex_and_part_colours() -> None:
    renderer = Renderer(square(0.5))
    light = one_light((0.0, 0.0, 1.0), albedo=1.0, ambient=0.3)  # shading factor 1.0
    red_green = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)  # face 0 is the lower right half
    faces = renderer.render(FRONT, 64, colors=red_green, appearance=light)
    assert faces[50, 45, :3].tolist() == [255, 0, 0] and faces[14, 18, :3].tolist() == [0, 255, 0]
    corner_colours = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)  # r = x, g = y
    smooth = renderer.render(FRONT, 64, colors=corner_colours, appearance=light)
    assert smooth[32, 16, 0] < smooth[32, 48, 0] and smooth[48, 32, 1] < smooth[16, 32, 1]
    parts = Appearance(np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]), light.light_directions, [0.7], 0.3)
    labelled = renderer.render(FRONT, 64, colors=parts.face_colors(np.array([1, 0])), appearance=parts)
    assert labelled[50, 45, :3].tolist() == [255, 255, 0] and labelled[14, 18, :3].tolist() == [0, 0, 255]
    with pytest.raises(ValueError, match="one row per face"):
        renderer.render(FRONT, 8, colors=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="part labels"):
        parts.face_colors(np.array([0, 2]))


def test_supersampling_antialiases_edges_and_measures_coverage() -> None:
    radius, size = 0.4, 64
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=radius)
    camera = Camera(azimuth=0.0, elevation=10.0, distance_ratio=0.8)
    picture = render(sphere, camera, size, supersample=4)
    alpha = picture[..., 3]
    assert ((alpha > 0) & (alpha < 255)).sum() > 50
    disc_radius = camera.focal * math.tan(math.asin(radius / camera.distance)) * size / 2
    # The covered fraction is a better area estimate than counting pixel centres.
    assert alpha.sum() / 255 == pytest.approx(math.pi * disc_radius**2, rel=0.01)
    # Straight alpha: an edge pixel keeps the object's colour, it is not darkened towards black.
    interior = picture[alpha == 255][:, :3].astype(int)
    edge = picture[(alpha > 0) & (alpha < 128)][:, :3].astype(int)
    assert edge.mean() > 0.5 * interior.mean()


def test_background_is_composited_under_the_alpha() -> None:
    picture = render(square(), FRONT, 32, background=(255, 255, 255), supersample=2)
    assert picture[0, 0].tolist() == [255, 255, 255, 0]
    assert picture[16, 16, 3] == 255 and picture[16, 16, 0] < 255


def test_smooth_shading_removes_facets() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.4)  # coarse: flat facets are obvious
    camera = Camera(azimuth=20.0, elevation=20.0, distance_ratio=0.8)

    def roughness(picture: np.ndarray) -> float:
        grey = picture[..., 0].astype(float)
        inside = picture[..., 3] == 255
        steps = np.abs(np.diff(grey, axis=1))[inside[:, 1:] & inside[:, :-1]]
        return float(np.percentile(steps, 99))

    assert roughness(render(sphere, camera, 128, smooth=True)) < 0.5 * roughness(render(sphere, camera, 128))


def test_renderer_is_reusable_and_matches_the_one_shot_function() -> None:
    mesh = trimesh.creation.torus(major_radius=0.3, minor_radius=0.1)
    renderer = Renderer(mesh)
    cameras = [Camera(azimuth=a, elevation=27.0, distance_ratio=0.7) for a in (10.0, 100.0, 190.0)]
    first = [renderer.render(c, 48) for c in cameras]
    again = [renderer.render(c, 48) for c in cameras]
    for a, b, c in zip(first, again, cameras, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, render(mesh, c, 48))
    assert not np.array_equal(first[0], first[1])


def test_empty_mesh_renders_transparent() -> None:
    empty = trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64))
    picture = render(empty, FRONT, 16)
    assert picture.shape == (16, 16, 4) and not picture.any()


def test_precision_does_not_depend_on_where_the_mesh_is() -> None:
    # embree works in float32; the renderer re-centres the mesh, so a far-away copy renders the same.
    far = np.array([1000.0, -2000.0, 500.0])
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.4)
    moved = trimesh.Trimesh(mesh.vertices + far, mesh.faces, process=False)
    hits_here = Renderer(mesh).intersect(*FRONT.rays(32))
    origins, directions = FRONT.rays(32)
    hits_there = Renderer(moved).intersect(origins + far, directions)
    np.testing.assert_array_equal(hits_here.face, hits_there.face)
    hit = hits_here.face >= 0
    np.testing.assert_allclose(hits_here.distance[hit], hits_there.distance[hit], atol=1e-4)
    # The icosphere lies inside its sphere by less than 0.005 at this subdivision.
    np.testing.assert_allclose(hits_here.distance[hit].min(), FRONT.distance - 0.4, atol=5e-3)


def test_random_appearance_is_deterministic_and_sane() -> None:
    a = random_appearance(np.random.default_rng(11), n_parts=5)
    b = random_appearance(np.random.default_rng(11), n_parts=5)
    c = random_appearance(np.random.default_rng(12), n_parts=5)
    for name in ("colors", "light_directions", "light_intensities"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.colors, c.colors)
    assert a.colors.shape == (5, 3) and a.colors.min() >= 0 and a.colors.max() <= 1
    many = [random_appearance(np.random.default_rng(seed), 3) for seed in range(200)]
    directions = np.concatenate([m.light_directions for m in many])
    assert (directions[:, 2] > 0).all()  # every light is on the camera's side
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0)
    totals = np.array([m.light_intensities.sum() for m in many])
    assert totals.min() >= 0.6 and totals.max() <= 1.0
    assert 0.15 <= min(m.ambient for m in many) and max(m.ambient for m in many) <= 0.45
    # A training picture is never all dark or blown out.
    mesh = trimesh.creation.box(extents=(0.6, 0.4, 0.5))
    renderer = Renderer(mesh)
    parts = np.arange(len(mesh.faces)) % 3
    camera = Camera(azimuth=40.0, elevation=27.0, distance_ratio=0.8)
    for appearance in many[:20]:
        picture = renderer.render(camera, 64, colors=appearance.face_colors(parts), appearance=appearance)
        lit = picture[picture[..., 3] == 255][:, :3]
        assert 5 < lit.mean() < 250
    with pytest.raises(ValueError):
        random_appearance(np.random.default_rng(0), n_parts=0)


def test_contact_sheet_layout_on_white_and_nothing_cut_off() -> None:
    mesh = trimesh.creation.box(extents=(2.0, 0.5, 1.0))  # any size: normalised for display
    sheet = contact_sheet(mesh, views=6, size=64)
    assert sheet.dtype == np.uint8 and sheet.shape == (2 * 64, 4 * 64, 3)
    for index in range(8):
        row, column = divmod(index, 4)
        tile = sheet[row * 64 : (row + 1) * 64, column * 64 : (column + 1) * 64]
        border = np.concatenate([tile[0], tile[-1], tile[:, 0], tile[:, -1]])
        assert (border == 255).all(), f"view {index} touches its border"
        if index < 6:
            assert (tile < 200).any(), f"view {index} shows nothing"
        else:
            assert (tile == 255).all()
    np.testing.assert_array_equal(sheet, contact_sheet(mesh, views=6, size=64))
    assert contact_sheet(mesh, views=3, size=32, columns=1).shape == (96, 32, 3)


@pytest.mark.parametrize("name", ["teapot.obj", "chair_model.obj"])
def test_contact_sheet_of_open_and_soup_meshes(name: str) -> None:
    path = REALDATA / "meshes" / name
    if not path.exists():
        pytest.skip(f"real sample data not available ({path})")
    sheet = contact_sheet(trimesh.load(path, force="mesh"), views=2, size=48)
    assert sheet.shape == (48, 96, 3) and (sheet < 200).any()


def test_normalise_for_display_centres_and_scales_to_unit_longest_side() -> None:
    vertices = np.random.default_rng(0).uniform([1, 2, 3], [3, 3, 3.5], size=(100, 3))
    normalised = normalise_for_display(vertices)
    low, high = normalised.min(axis=0), normalised.max(axis=0)
    np.testing.assert_allclose((low + high) / 2, 0.0, atol=1e-12)
    assert np.max(high - low) == pytest.approx(1.0)


def test_missing_embreex_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "embreex", None)
    monkeypatch.setitem(sys.modules, "embreex.rtcore_scene", None)
    with pytest.raises(MissingDependencyError, match=r"dlsr\[data\]"):
        Renderer(square())


def test_bad_arguments_are_refused() -> None:
    renderer = Renderer(square())
    with pytest.raises(ValueError, match="supersample"):
        renderer.render(FRONT, 8, supersample=0)
    with pytest.raises(ValueError, match="image size"):
        renderer.render(FRONT, 0)
    with pytest.raises(ValueError, match="channels"):
        renderer.render(FRONT, 8, colors=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="outside"):
        Renderer(trimesh.Trimesh(np.zeros((3, 3)), np.array([[0, 1, 5]]), process=False, validate=False))
    with pytest.raises(ValueError, match="intensities"):
        Appearance(np.ones((1, 3)), np.array([[0.0, 0.0, 1.0]]), [0.5, 0.5])
    assert default_appearance().colors.shape == (1, 3)
