"""Tests for dlsr.segment: GrabCut on a composited photo, users' masks, and rembg's refusal to download."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlsr import segment
from dlsr.errors import InputImageError, MissingDependencyError

pytest.importorskip("cv2")


def photo_with_object(
    centre: tuple[float, float] = (300.0, 190.0), radius: float = 90.0
) -> tuple[Image.Image, np.ndarray]:
    """An orange disc with a dark bar (a cup and its handle) on grass: scikit-image's grass photo (CC0) tinted
    green and cropped to 600 x 400."""
    from skimage import data as samples

    grass = samples.grass()[56:456, :].astype(np.float64) / 255.0  # (400, 512) grey
    grass = np.concatenate([grass, grass[:, ::-1][:, :88]], axis=1)  # (400, 600)
    pixels = np.rint(np.dstack([grass * 90 + 20, grass * 160 + 50, grass * 70 + 10])).astype(np.uint8)
    height, width = pixels.shape[:2]
    rows, columns = np.mgrid[:height, :width]
    disc = (columns - centre[0]) ** 2 + (rows - centre[1]) ** 2 <= radius**2
    bar = (np.abs(rows - centre[1]) < radius * 0.25) & (np.abs(columns - centre[0] - radius) < radius * 0.4)
    truth = disc | bar
    pixels[disc] = (235, 140, 30)
    pixels[bar] = (40, 40, 60)
    return Image.fromarray(pixels), truth


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("centre", [(300.0, 190.0), (220.0, 230.0)], ids=["centred", "off-centre"])
def test_grabcut_finds_an_object_on_a_real_photo(centre: tuple[float, float]) -> None:
    image, truth = photo_with_object(centre)
    mask = segment.grabcut_mask(image)
    assert mask is not None and mask.size == image.size and mask.mode == "L"
    assert iou(np.asarray(mask) >= 128, truth) > 0.9


def test_a_rough_prior_leads_grabcut_to_an_object_in_the_corner() -> None:
    """An object far from the centre, which the centred box alone misses, is found with a blurry, unsure prior (a
    segmenter's probability), and an object cut by the frame keeps its border pixels."""
    for centre in [(110.0, 100.0), (40.0, 200.0)]:
        image, truth = photo_with_object(centre, radius=70.0)
        prior = np.asarray(Image.fromarray(truth.astype(np.uint8) * 150).resize((75, 50)), np.float32) / 255.0
        mask = segment.grabcut_mask(image, prior=prior)  # peak 0.59: no pixel is a sure object
        assert mask is not None and iou(np.asarray(mask) >= 128, truth) > 0.9


def test_an_empty_prior_changes_nothing() -> None:
    image, _ = photo_with_object()
    alone = np.asarray(segment.grabcut_mask(image))
    assert np.array_equal(np.asarray(segment.grabcut_mask(image, prior=np.zeros((10, 10), np.float32))), alone)


def test_grabcut_finds_nothing_in_noise() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (150, 200, 3), dtype=np.uint8)
    assert segment.grabcut_mask(Image.fromarray(noise)) is None


def test_grabcut_gives_a_photo_the_same_mask_whatever_ran_before() -> None:
    from skimage import data as samples

    # Unseeded, the coffee photo's two masks differed on 33 % of its pixels with the astronaut run in between.
    image = Image.fromarray(samples.coffee())
    first = np.asarray(segment.grabcut_mask(image))
    segment.grabcut_mask(Image.fromarray(samples.astronaut()))  # advances OpenCV's random generator
    assert np.array_equal(np.asarray(segment.grabcut_mask(image)), first)


def test_grabcut_leaves_opencv_threads_as_they_were() -> None:
    import cv2

    before = cv2.getNumThreads()
    segment.grabcut_mask(photo_with_object()[0])
    assert cv2.getNumThreads() == before


def test_keep_main_parts_drops_specks_and_keeps_big_parts() -> None:
    mask = np.zeros((40, 40), bool)
    mask[2:22, 2:22] = True  # 400 pixels: the largest part
    mask[25:35, 25:35] = True  # 100 pixels: a second leg, kept
    mask[38, 0] = True  # one pixel: dropped
    kept = segment.keep_main_parts(mask)
    assert kept[5, 5] and kept[30, 30] and not kept[38, 0]
    assert kept.sum() == 500


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Image.fromarray(np.array([[0, 255], [128, 10]], np.uint8)), [[0, 255], [128, 10]]),
        (lambda: Image.fromarray(np.array([[0, 255], [255, 0]], bool)), [[0, 255], [255, 0]]),
        (lambda: Image.fromarray(np.array([[0, 65535], [0, 0]], np.uint16)), [[0, 255], [0, 0]]),
        (
            lambda: Image.fromarray(np.dstack([np.zeros((2, 2, 3), np.uint8), [[0, 255], [0, 255]]]).astype(np.uint8)),
            [[0, 255], [0, 255]],
        ),  # a cut-out: the alpha channel is the mask, not the black colour
    ],
    ids=["grey", "binary", "16-bit", "rgba-cutout"],
)
def test_mask_coverage_reads_the_common_mask_kinds(make, expected: list[list[int]]) -> None:  # type: ignore[no-untyped-def]
    coverage = segment.mask_coverage(make(), "m.png")
    assert coverage.mode == "L"
    assert np.array_equal(np.asarray(coverage), np.array(expected, np.uint8))


def test_an_empty_mask_is_refused() -> None:
    with pytest.raises(InputImageError, match=r"^m\.png: the mask marks no object"):
        segment.mask_coverage(Image.new("L", (8, 8), 100), "m.png")


def test_a_mask_of_another_size_is_refused() -> None:
    with pytest.raises(InputImageError, match=r"^m\.png: the mask is 8x6 pixels but a\.jpg is 9x6"):
        segment.check_mask_size(Image.new("L", (8, 6)), Image.new("RGB", (9, 6)), "m.png", "a.jpg")


def test_rembg_without_the_package_names_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rembg" else real(name, *a))
    with pytest.raises(MissingDependencyError, match="pip install rembg"):
        segment.require_rembg("a.jpg")


def test_rembg_without_its_model_never_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "rembg" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"u2net\.onnx, which is absent and which dlsr never downloads"):
        segment.require_rembg("a.jpg")
    assert list(tmp_path.iterdir()) == []
    assert segment.rembg_model_path() == tmp_path / "u2net.onnx"


def test_rembg_when_installed_with_its_model() -> None:
    pytest.importorskip("rembg")
    if not segment.rembg_model_path().is_file():
        pytest.skip(f"rembg's model is absent ({segment.rembg_model_path()})")
    image, truth = photo_with_object()
    assert iou(np.asarray(segment.rembg_mask(image, "coffee")) >= 128, truth) > 0.8
