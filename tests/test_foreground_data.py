"""Tests for dlsr.foreground.data: composites whose target is exactly the pasted alpha, and no benchmark leakage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlsr.errors import DatasetError
from dlsr.foreground import data


def disc_cutout(size: int = 40) -> np.ndarray:
    """A magenta disc with a soft (half-transparent) rim, uint8 (size, size, 4)."""
    rows, columns = np.mgrid[:size, :size]
    radius = np.hypot(rows - (size - 1) / 2, columns - (size - 1) / 2)
    alpha = np.where(radius <= size / 2 - 2, 255, np.where(radius <= size / 2, 128, 0)).astype(np.uint8)
    return np.dstack(
        [np.full((size, size), 255, np.uint8), np.zeros((size, size), np.uint8), np.full_like(alpha, 255), alpha]
    )


def test_a_pasted_object_has_its_alpha_as_target_and_leaves_the_background_alone() -> None:
    cutout = disc_cutout(40)
    background = np.full((64, 64, 3), (10, 200, 30), np.uint8)
    # scale 40/64 keeps the cutout's own size, so the expected target is its alpha, shifted to the paste point
    image, cover = data.composite(cutout, background, np.random.default_rng(0), scale=40 / 64, centre=(0.5, 0.5))
    expected = np.zeros((64, 64), np.float32)
    expected[12:52, 12:52] = cutout[..., 3] / 255.0
    np.testing.assert_allclose(cover, expected, atol=1e-6)
    assert np.array_equal(image[cover == 0], background[cover == 0])
    assert (image[cover == 1] == (255, 0, 255)).all()
    rim = (cover > 0) & (cover < 1)
    assert rim.any() and np.abs(image[rim].astype(int) - (132, 100, 142)).max() <= 2  # half magenta, half green


def test_an_object_cut_by_the_frame_keeps_only_its_visible_part_as_target() -> None:
    cutout = disc_cutout(40)
    background = np.zeros((64, 64, 3), np.uint8)
    _, cover = data.composite(cutout, background, np.random.default_rng(0), scale=40 / 64, centre=(1.0, 0.5))
    assert cover[:, 44:].sum() > 0 and cover[:, :44].sum() == 0  # the left half of the disc, at the right edge
    assert np.isclose(cover.sum(), cutout[:, :20, 3].sum() / 255.0)


def test_a_sample_from_a_real_render_is_a_degraded_image_with_the_renders_alpha(tiny_dataset: Path) -> None:
    paths = data.render_paths([tiny_dataset], "train")
    cutouts = [data.load_cutout(path) for path in paths]
    image, cover = data.make_sample(cutouts, data.load_photos(data.photo_paths()[:2]), 96, np.random.default_rng(3))
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert cover.shape == (96, 96) and 0.0 <= cover.min() and cover.max() <= 1.0
    # the object covers at least a twentieth of the canvas: 0.2 of the side, times its shorter side's share
    assert (cover >= 0.5).sum() > 0.01 * 96 * 96


def test_render_lists_read_the_split_asked_for(tiny_dataset: Path) -> None:
    train = data.render_paths([tiny_dataset], "train")
    val = data.render_paths([tiny_dataset], "val")
    train_models = {path.parents[1].name for path in train}
    val_models = {path.parents[1].name for path in val}
    assert train_models and val_models and not train_models & val_models
    listed = {m for lst in tiny_dataset.glob("*/train.lst") for m in lst.read_text().split()}
    assert train_models == listed


def test_a_folder_without_split_lists_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="split lists"):
        data.render_paths([tmp_path], "train")


def test_the_benchmark_photos_are_never_training_backgrounds() -> None:
    names = {path.stem for path in data.photo_paths()}
    assert len(names) >= 15
    assert not names & set(data.BENCHMARK_PHOTOS)
    bench = Path(__file__).resolve().parents[1] / "bench" / "bench_background.py"
    for name in data.BENCHMARK_PHOTOS:  # the benchmark scores on exactly these
        assert f'"{name}"' in bench.read_text()


def test_a_render_without_alpha_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "00.png"
    Image.new("RGB", (16, 16), (200, 10, 10)).save(path)
    with pytest.raises(DatasetError, match="RGBA"):
        data.load_cutout(path)
