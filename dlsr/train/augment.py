"""Training-time image augmentation, drawn from per-batch generators so a resumed run replays its batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from dlsr.train.config import AugmentConfig


def batch_generator(seed: int, epoch: int, step: int, rank: int) -> torch.Generator:
    """The generator of one batch's random choices: a pure function of where the batch is in the run.

    `step` -1 is the epoch's sample order.
    """
    mixed = np.random.SeedSequence([seed, epoch, step + 1, rank]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(mixed) & 0x7FFF_FFFF_FFFF_FFFF)


def to_network_input(views: torch.Tensor) -> torch.Tensor:
    """Cached views uint8 (B, S, S, 4) -> network input float32 (B, 3, S, S) in [0, 1], unaugmented."""
    return views[..., :3].permute(0, 3, 1, 2).float().div_(255.0).contiguous()


def augment_views(
    views: torch.Tensor, config: AugmentConfig, generator: torch.Generator, background: Sequence[int]
) -> torch.Tensor:
    """Augmented network input from cached views.

    Args:
        views: uint8 (B, S, S, 4), RGB prepared on `background` + coverage.
        config: what to vary.
        generator: the batch's random source.
        background: the RGB colour the views were prepared on.

    Returns:
        float32 (B, 3, S, S) in [0, 1].
    """
    batch = views.shape[0]
    rgb = to_network_input(views)
    coverage = views[..., 3:].permute(0, 3, 1, 2).float().div_(255.0)
    base = torch.tensor(background, dtype=torch.float32).view(1, 3, 1, 1) / 255.0

    def uniform(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return _uniform(generator, *shape, low=low, high=high)

    if config.crop_jitter > 0:
        rgb, coverage = _jitter_crop(rgb, coverage, base, config.crop_jitter, generator)
    if config.background_probability > 0:
        colour = uniform(batch, 3, 1, 1)
        use = (uniform(batch, 1, 1, 1) < config.background_probability).float()
        new_background = use * colour + (1 - use) * base
        rgb = rgb - (1 - coverage) * (base - new_background)
    if config.colour_jitter > 0:
        rgb = _jitter_colour(rgb, config.colour_jitter, generator)
    if config.channel_permutation:
        order = torch.argsort(torch.rand(batch, 3, generator=generator), dim=1)
        rgb = torch.gather(rgb, 1, order.view(batch, 3, 1, 1).expand_as(rgb))
    if config.greyscale_probability > 0:
        grey = (rgb * _LUMA.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
        use = (uniform(batch, 1, 1, 1) < config.greyscale_probability).float()
        rgb = use * grey + (1 - use) * rgb
    if config.blur_probability > 0:
        sigma = uniform(batch, low=0.3, high=1.2)
        use = uniform(batch) < config.blur_probability
        rgb = torch.where(use.view(batch, 1, 1, 1), _gaussian_blur(rgb, sigma), rgb)
    if config.noise > 0:
        strength = uniform(batch, 1, 1, 1, low=0.0, high=config.noise)
        rgb = rgb + strength * torch.randn(rgb.shape, generator=generator)
    return rgb.clamp_(0.0, 1.0).contiguous()


def _uniform(generator: torch.Generator, *shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return low + (high - low) * torch.rand(*shape, generator=generator)


def _jitter_crop(
    rgb: torch.Tensor, coverage: torch.Tensor, base: torch.Tensor, jitter: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift and scale the crop of `rgb` float (B, 3, S, S) and `coverage` float (B, 1, S, S); samples outside
    the image are background (0 after subtracting it)."""
    batch = rgb.shape[0]
    scale = _uniform(generator, batch, low=1 - jitter, high=1 + jitter)
    shift = _uniform(generator, batch, 2, low=-jitter, high=jitter) * 2  # normalised coordinates span 2
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    sampling = F.affine_grid(theta, list(rgb.shape), align_corners=False)
    stacked = torch.cat((rgb - base, coverage), dim=1)
    warped = F.grid_sample(stacked, sampling, mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped[:, :3] + base, warped[:, 3:]


def _jitter_colour(rgb: torch.Tensor, jitter: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, saturation and contrast of `rgb` float (B, 3, S, S) each scaled by U[1 - jitter, 1 + jitter]."""
    batch = rgb.shape[0]
    brightness = _uniform(generator, batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
    contrast = _uniform(generator, batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
    saturation = _uniform(generator, batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
    rgb = rgb * brightness
    grey = rgb.mean(dim=1, keepdim=True)
    rgb = grey + (rgb - grey) * saturation
    mean = rgb.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (rgb - mean) * contrast


_LUMA = torch.tensor([0.299, 0.587, 0.114])  # ITU-R BT.601 weights, what Pillow's convert("L") uses
_BLUR_RADIUS = 3  # pixels each side of the kernel: covers 2.5 sigma at the largest sigma (1.2)


def _gaussian_blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each image float (B, C, S, S) blurred with its own Gaussian of `sigma` float (B,) pixels (separable,
    reflected borders)."""
    batch, channels, height, width = images.shape
    offsets = torch.arange(-_BLUR_RADIUS, _BLUR_RADIUS + 1, dtype=images.dtype)
    kernel = torch.exp(-0.5 * (offsets[None, :] / sigma[:, None]) ** 2)
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(channels, dim=0)  # (B * C, K)
    flat = images.reshape(1, batch * channels, height, width)
    pad = (_BLUR_RADIUS, _BLUR_RADIUS, _BLUR_RADIUS, _BLUR_RADIUS)
    flat = F.pad(flat, pad, mode="reflect")
    flat = F.conv2d(flat, kernel[:, None, None, :], groups=batch * channels)
    flat = F.conv2d(flat, kernel[:, None, :, None], groups=batch * channels)
    return flat.reshape(batch, channels, height, width)
