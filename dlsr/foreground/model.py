"""The foreground segmenter's network: a tiny U-Net from an RGB image to one object logit per pixel.

Fully convolutional, so it runs on any input whose sides are multiples of `SegmenterConfig.multiple` (training uses
square crops, inference the photo's own aspect). A global-average branch at the bottleneck gives every pixel the
whole picture's context, which is what tells "the object" from a busy background more than local edges do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from dlsr.config import config_from_dict

ARCH = "fg-unet"
"""The one architecture of the foreground segmenter, as stored in its weights file."""


@dataclass(frozen=True)
class SegmenterConfig:
    """Shape of the segmenter network; stored in its weights file and rebuilt from there."""

    width: int = 16  # channels at the first (half-resolution) level; each deeper level multiplies them
    growth: tuple[int, ...] = (1, 2, 4, 6)  # channel multipliers of the encoder levels, each one stride 2 deeper
    input_side: int = 160  # the longer side of the image the network sees at inference, pixels

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (one halving per encoder level)."""
        return 2 ** len(self.growth)


def config_from_json(values: dict[str, Any]) -> SegmenterConfig:
    """A `SegmenterConfig` from its JSON form (lists become tuples); unknown keys are a ConfigError."""
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
    return config_from_dict(SegmenterConfig, values)


def _conv(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class ForegroundNet(nn.Module):
    """Image -> object logits.

    Input: float32 (B, 3, H, W) in [0, 1], H and W multiples of `config.multiple`.
    Output: float32 (B, 1, H, W) logits, positive on the object.
    """

    def __init__(self, config: SegmenterConfig = SegmenterConfig()) -> None:
        super().__init__()
        self.arch = ARCH
        self.config = config
        channels = [config.width * g for g in config.growth]
        self.down = nn.ModuleList()
        previous = 3
        for width in channels:
            self.down.append(nn.Sequential(_conv(previous, width, stride=2), _conv(width, width)))
            previous = width
        deepest = channels[-1]
        self.context = nn.Sequential(nn.Conv2d(deepest, deepest, 1), nn.ReLU(inplace=True))
        self.up = nn.ModuleList()
        skips = [3, *channels[:-1]]  # what each decoder level joins: the level above's encoder output
        for skip, width in zip(reversed(skips), reversed([config.width // 2, *channels[:-1]]), strict=True):
            self.up.append(_conv(previous + skip, width))
            previous = width
        self.head = nn.Conv2d(previous, 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images - 0.5
        levels = [x]
        for block in self.down:
            x = block(x)
            levels.append(x)
        x = x + self.context(x.mean(dim=(2, 3), keepdim=True))  # broadcast over every pixel
        for block, skip in zip(self.up, reversed(levels[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


__all__ = ["ARCH", "ForegroundNet", "SegmenterConfig", "config_from_json"]
