"""Training-time augmentation: seeded per batch, background recomposited, photo effects (`dlsr.train.augment`)."""

from __future__ import annotations

import pytest
import torch

from dlsr.errors import ConfigError
from dlsr.train.augment import augment_views, batch_generator
from dlsr.train.config import AugmentConfig


def test_augmentation_is_seeded_and_recomposites_the_background() -> None:
    size = 16
    views = torch.zeros(2, size, size, 4, dtype=torch.uint8)
    views[..., :3] = 255  # white background everywhere ...
    views[:, 4:12, 4:12, :3] = torch.tensor([200, 10, 10], dtype=torch.uint8)  # ... around a red square
    views[:, 4:12, 4:12, 3] = 255
    plain = AugmentConfig(channel_permutation=False, colour_jitter=0, background_probability=1.0, crop_jitter=0)
    first = augment_views(views, plain, batch_generator(0, 0, 0, 0), (255, 255, 255))
    second = augment_views(views, plain, batch_generator(0, 0, 0, 0), (255, 255, 255))
    assert torch.equal(first, second)
    corner = first[:, :, 0, 0]
    assert not torch.allclose(corner, torch.ones_like(corner))  # the background changed colour
    assert torch.allclose(first[:, :, 8, 8], torch.tensor([200 / 255, 10 / 255, 10 / 255]).expand(2, 3), atol=1e-6)
    permuted = augment_views(views, AugmentConfig(0.0, 0.0, 0.0, 0.0), batch_generator(0, 0, 0, 0), (255,) * 3)
    full = augment_views(views, AugmentConfig(), batch_generator(1, 0, 0, 0), (255,) * 3)
    assert permuted.shape == full.shape == (2, 3, size, size) and 0 <= full.min() and full.max() <= 1


def test_photo_augmentations_grey_blur_and_noise() -> None:
    size = 16
    views = torch.zeros(4, size, size, 4, dtype=torch.uint8)
    views[..., :3] = 255
    views[:, 4:12, 4:12, :3] = torch.tensor([200, 10, 10], dtype=torch.uint8)
    views[:, 4:12, 4:12, 3] = 255
    off = {"channel_permutation": False, "colour_jitter": 0.0, "background_probability": 0.0, "crop_jitter": 0.0}
    plain = augment_views(views, AugmentConfig(**off), batch_generator(0, 0, 0, 0), (255,) * 3)
    grey = augment_views(
        views, AugmentConfig(**off, greyscale_probability=1.0), batch_generator(0, 0, 0, 0), (255,) * 3
    )
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    expected = 0.299 * 200 / 255 + 0.587 * 10 / 255 + 0.114 * 10 / 255  # BT.601 luma, as Pillow's "L"
    assert grey[0, 0, 8, 8].item() == pytest.approx(expected, abs=1e-6)
    blurred = augment_views(views, AugmentConfig(**off, blur_probability=1.0), batch_generator(0, 0, 0, 0), (255,) * 3)
    assert torch.allclose(blurred.mean(dim=(2, 3)), plain.mean(dim=(2, 3)), atol=0.02)  # blur keeps the mean
    edge = (plain[:, 0, 8, 3] - plain[:, 0, 8, 4]).abs()  # background | red square: a sharp step
    assert ((blurred[:, 0, 8, 3] - blurred[:, 0, 8, 4]).abs() < edge).all()
    noisy = augment_views(views, AugmentConfig(**off, noise=0.1), batch_generator(0, 0, 0, 0), (255,) * 3)
    assert 0 < (noisy - plain)[:, :, 4:12, 4:12].std() < 0.1 and 0 <= noisy.min() and noisy.max() <= 1
    with pytest.raises(ConfigError, match="blur_probability"):
        AugmentConfig(blur_probability=1.5)
