"""The registry of image -> signed-distance-grid networks: configs, modules, `build_model`.

Every registered model maps `images: float32 (B, 3, S, S) in [0, 1]` (S = `config.image_size`) to
`sdf: float32 (B, R, R, R)` (R = `config.resolution`) sampled on `dlsr.sdf.Grid(R)`: indexed `[i, j, k]` <->
`(x, y, z)`, values are signed distances in world units, negative inside. Input normalisation happens inside
the model, so callers pass plain [0, 1] images.

* `dlsr-lite` (default): a residual 2-D encoder, a fully connected bridge to a coarse 3-D feature grid and a
  3-D decoder that does all of its 3x3x3 work at R/8..R/2 and only per-voxel work at R. Built for a 2-core CPU.
* `dls-paper-resnet`: the network of the official Deep Level Sets code (about 21.7 M parameters), kept to
  compare against; see `PaperResNet`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dlsr.config import config_from_dict
from dlsr.errors import ConfigError
from dlsr.sdf import DEFAULT_BOUND, Grid


@dataclass(frozen=True)
class LiteConfig:
    """Configuration of `dlsr-lite` (`LiteNet`)."""

    image_size: int = 128  # S: input images are (3, S, S); must be divisible by 2 ** len(encoder_channels)
    resolution: int = 32  # R: output grid (R, R, R); must be divisible by 2 ** len(decoder_channels)
    encoder_channels: tuple[int, ...] = (24, 32, 64, 128, 256)  # 2-D widths, one stride-2 stage each
    latent_dim: int = 256  # width of the image code between the encoder and the 3-D decoder
    decoder_channels: tuple[int, ...] = (128, 64, 24)  # 3-D widths at R/8, R/4, R/2 (each stage doubles)
    decoder_convs: tuple[int, ...] = (1, 1, 1)  # residual 3x3x3 convolutions per decoder stage
    template_radius: float = 0.3  # radius (world units) of the sphere the learned template starts as
    bound: float = DEFAULT_BOUND  # half side of the output grid cube (world units), as in `dlsr.sdf.Grid`

    def __post_init__(self) -> None:
        if not self.encoder_channels or not self.decoder_channels:
            raise ValueError("encoder_channels and decoder_channels must not be empty")
        if min(self.encoder_channels + self.decoder_channels) < 1 or self.latent_dim < 1:
            raise ValueError("channel widths and latent_dim must be positive")
        if len(self.decoder_convs) != len(self.decoder_channels) or min(self.decoder_convs) < 0:
            raise ValueError(
                f"decoder_convs needs one count >= 0 per decoder stage ({len(self.decoder_channels)}), "
                f"got {self.decoder_convs}"
            )
        down = 2 ** len(self.encoder_channels)
        if self.image_size < down or self.image_size % down:
            raise ValueError(
                f"image_size {self.image_size} must be a multiple of 2 ** len(encoder_channels) = {down}"
            )
        up = 2 ** len(self.decoder_channels)
        if self.resolution < up or self.resolution % up:
            raise ValueError(f"resolution {self.resolution} must be a multiple of 2 ** len(decoder_channels) = {up}")
        if not 0 < self.template_radius < self.bound:
            raise ValueError(f"template_radius must lie in (0, bound={self.bound}), got {self.template_radius}")


@dataclass(frozen=True)
class PaperResNetConfig:
    """Configuration of `dls-paper-resnet` (`PaperResNet`): the official network has no free sizes."""

    image_size: int = 128  # S: the released encoder reduces exactly 128 x 128 to 1 x 1
    resolution: int = 32  # R: the released decoder grows 6^3 to exactly 32^3

    def __post_init__(self) -> None:
        if self.image_size != 128:
            raise ValueError(f"dls-paper-resnet supports only image_size 128, got {self.image_size}")
        if self.resolution != 32:
            raise ValueError(f"dls-paper-resnet supports only resolution 32, got {self.resolution}")


class SdfNet(nn.Module):
    """Base class of registered models: `forward(images (B, 3, S, S)) -> sdf (B, R, R, R)`, both float32."""

    arch: str
    config: Any

    def check_images(self, images: torch.Tensor) -> None:
        """Raise ValueError unless `images` is (B, 3, S, S) with S = `config.image_size`."""
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(f"{self.arch} expects images (B, 3, {size}, {size}), got {tuple(images.shape)}")


# dlsr-lite


class _ResBlock2d(nn.Module):
    """ResNet basic block; with stride 2 it halves H and W and the skip path is a strided 1x1 projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) -> (B, C_out, H / stride, W / stride)."""
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x), inplace=True)


class _ResConv3d(nn.Module):
    """One residual 3x3x3 convolution, `relu(x + bn(conv(x)))`: spatial mixing at constant width and size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm3d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, D, D, D) -> same shape."""
        return F.relu(x + self.bn(self.conv(x)), inplace=True)


def pixel_shuffle_3d(x: torch.Tensor) -> torch.Tensor:
    """Move groups of 8 channels into 2x2x2 blocks: (B, 8C, D, H, W) -> (B, C, 2D, 2H, 2W).

    Input channel `8c + 4a + 2b + d` at voxel (p, q, r) becomes output channel c at voxel
    (2p + a, 2q + b, 2r + d).
    """
    b, c8, d, h, w = x.shape
    c = c8 // 8
    x = x.reshape(b, c, 2, 2, 2, d, h, w)
    x = x.permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, c, 2 * d, 2 * h, 2 * w)


class _Up3d(nn.Module):
    """Double a 3-D grid: 1x1x1 conv to 8x the channels, then a 3-D pixel shuffle, BN, ReLU.

    This is a stride-2, kernel-2 transposed convolution computed as one matrix product: on CPU oneDNN runs it
    several times faster than `nn.ConvTranspose3d` (measured in bench/bench_models.py's history: 14 ms vs
    46 ms for 64->32 channels, 8^3->16^3, batch 16). The following 3x3x3 convolution smooths the 2^3 blocks.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.expand = nn.Conv3d(in_channels, 8 * out_channels, 1, bias=False)
        self.bn = nn.BatchNorm3d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, D, D, D) -> (B, C_out, 2D, 2D, 2D)."""
        return F.relu(self.bn(pixel_shuffle_3d(self.expand(x))), inplace=True)


class LiteNet(SdfNet):
    """`dlsr-lite`: the efficient default image -> SDF network.

    Pipeline (defaults: S = 128, R = 32):

    1. 2-D encoder: a stride-2 3x3 stem and stride-2 residual blocks, (B, 3, 128, 128) -> (B, 256, 4, 4).
       Flattened rather than pooled so the code keeps where things are in the image.
    2. Bridge: linear 4096 -> 256 (the image code) -> linear 256 -> 128 x 4^3, the first 3-D feature grid. A
       fully connected bridge lets the network move from the camera's frame to the object's canonical frame.
    3. 3-D decoder: residual 3x3x3 convolutions at 4^3, then two (1x1x1 conv + pixel shuffle) doublings, each
       followed by 3x3x3 convolutions, to (B, 24, 16, 16, 16). A 3x3x3 convolution at R^3 would cost several
       times the whole rest of the decoder, so the network never runs one.
    4. Head at R/2 (one 1x1x1 conv): a coarse SDF channel, upsampled trilinearly to R^3 (smooth, spatially
       coherent), plus 8 sub-voxel residual channels pixel-shuffled to R^3 (detail finer than R/2), plus a
       learned per-voxel template initialised as a centred sphere (the mean shape, learned in a few steps).

    The head's weights start small, so an untrained model outputs the sphere's SDF plus noise of about a third
    of a voxel: a valid, meshable SDF at the right scale, and the loss starts from a sensible shape.
    """

    arch = "dlsr-lite"

    def __init__(self, config: LiteConfig) -> None:
        super().__init__()
        self.config = config
        enc = config.encoder_channels
        self.stem = nn.Sequential(
            nn.Conv2d(3, enc[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(enc[0]), nn.ReLU(inplace=True)
        )
        self.encoder = nn.Sequential(*(_ResBlock2d(a, b, stride=2) for a, b in zip(enc[:-1], enc[1:], strict=True)))
        feature_side = config.image_size // 2 ** len(enc)

        dec = config.decoder_channels
        self.base_side = config.resolution // 2 ** len(dec)
        self.to_code = nn.Linear(enc[-1] * feature_side**2, config.latent_dim)
        self.to_grid = nn.Linear(config.latent_dim, dec[0] * self.base_side**3)
        self.grid_bn = nn.BatchNorm3d(dec[0])

        stages: list[nn.Module] = []
        for index, (width, convs) in enumerate(zip(dec, config.decoder_convs, strict=True)):
            layers: list[nn.Module] = [] if index == 0 else [_Up3d(dec[index - 1], width)]
            layers += [_ResConv3d(width) for _ in range(convs)]
            stages.append(nn.Sequential(*layers))
        self.decoder = nn.Sequential(*stages)

        # Channel 0: coarse SDF at R/2; channels 1..8: the sub-voxel residuals of each 2x2x2 block.
        self.head = nn.Conv3d(dec[-1], 9, 1)
        # Post-BN-ReLU features have a second moment of about 0.5 per channel, so this std makes the head's
        # output about 0.015 world units (0.4 voxel at R = 32, bound 0.55) before training.
        nn.init.normal_(self.head.weight, std=0.02 / math.sqrt(dec[-1]))
        nn.init.zeros_(self.head.bias)

        grid = Grid(config.resolution, config.bound)
        sphere = torch.linalg.vector_norm(torch.as_tensor(grid.points(), dtype=torch.float32), dim=-1)
        self.template = nn.Parameter(sphere - config.template_radius)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Predict SDF grids.

        Args:
            images: float32 (B, 3, S, S) in [0, 1].

        Returns:
            float32 (B, R, R, R), indexed [i, j, k] <-> (x, y, z), world units, negative inside.
        """
        self.check_images(images)
        # Centre the input so the bias-free stem sees zero-mean data; BN after it fixes the scale.
        x = self.encoder(self.stem(images - 0.5))
        code = F.relu(self.to_code(x.flatten(1)), inplace=True)
        side = self.base_side
        grid = self.to_grid(code).view(images.shape[0], -1, side, side, side)
        features = self.decoder(F.relu(self.grid_bn(grid), inplace=True))
        head = self.head(features)
        # align_corners=False puts coarse voxel c at the centre of fine voxels 2c and 2c+1, the same block the
        # pixel shuffle gives it, so the coarse SDF and its residuals describe the same cell.
        coarse = F.interpolate(head[:, :1], scale_factor=2.0, mode="trilinear", align_corners=False)
        fine = coarse + pixel_shuffle_3d(head[:, 1:])
        # The float32 template also brings a bf16 autocast result back to float32.
        return fine[:, 0] + self.template


# dls-paper-resnet


class _PaperDownBlock(nn.Module):
    """Official encoder block: pre-activation residual conv pair, stride 2, widening by `extra` channels.

    The skip path has no parameters: it subsamples every other pixel and appends `extra` zero channels.
    """

    def __init__(self, channels: int, extra: int) -> None:
        super().__init__()
        self.extra = extra
        out = channels + extra
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, out, 3, stride=2, padding=1),
            nn.BatchNorm2d(out),
            nn.ReLU(inplace=True),
            nn.Conv2d(out, out, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C + extra, ceil(H / 2), ceil(W / 2))."""
        skip = x[:, :, ::2, ::2]
        skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra))
        return skip + self.body(x)


class _PaperSameBlock(nn.Module):
    """Official encoder block: pre-activation residual conv pair at constant width and size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> same shape."""
        return x + self.body(x)


class PaperResNet(SdfNet):
    """`dls-paper-resnet`: the network of the official Deep Level Sets code, for comparison.

    Structure, from the released `ResNet.py` with the arguments of its `train.py` (8 initial channels, 512
    inner channels, bottleneck 128, 5 + 2 downsamplings):

    * input BatchNorm, two 3x3 convs 3 -> 8 -> 8 at 128^2 (reflection padding);
    * seven stride-2 blocks, each adding 72 channels, 8 -> 80 -> ... -> 512, each but the last followed by a
      same-size block (the release slices its layer list so the 7th same-size block and the "inner" block
      are never used): (B, 512, 1, 1);
    * linear 512 -> 128 -> 1728 with no activation between, reshaped to (B, 8, 6, 6, 6);
    * seven stride-1 unpadded 3-D transposed convs (kernels 3, 3, 3, 5, 5, 7, 7; widths 8, 8, 16, 32, 16,
      8, 4, 4), each with BN and ReLU, growing 6^3 to 32^3, then a 1x1x1 transposed conv to one channel.

    One deliberate difference: the release passes `True` as BatchNorm's second positional argument, which
    is `eps`, so several of its BN layers use eps = 1; here every BN uses the default eps. The parameter
    count (21.7 M) is unchanged.
    """

    arch = "dls-paper-resnet"

    _INITIAL = 8
    _INNER = 512
    _DOWNSAMPLINGS = 7
    _BOTTLENECK = 128
    _BASE_CHANNELS = 8
    _BASE_SIDE = 6
    _KERNELS = (3, 3, 3, 5, 5, 7, 7)
    _WIDTHS = (8, 8, 16, 32, 16, 8, 4, 4)

    def __init__(self, config: PaperResNetConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [
            # The released network normalises its input with a BatchNorm rather than fixed constants.
            nn.BatchNorm2d(3),
            nn.ReflectionPad2d(1),
            nn.Conv2d(3, self._INITIAL, 3),
            nn.BatchNorm2d(self._INITIAL),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(self._INITIAL, self._INITIAL, 3),
        ]
        step = (self._INNER - self._INITIAL) // self._DOWNSAMPLINGS  # 72
        channels = self._INITIAL
        for index in range(self._DOWNSAMPLINGS):
            layers.append(_PaperDownBlock(channels, step))
            channels += step
            if index < self._DOWNSAMPLINGS - 1:
                layers.append(_PaperSameBlock(channels))
        self.encoder = nn.Sequential(*layers)
        self.bottleneck = nn.Sequential(
            nn.Linear(channels, self._BOTTLENECK),
            nn.Linear(self._BOTTLENECK, self._BASE_CHANNELS * self._BASE_SIDE**3),
        )
        decoder: list[nn.Module] = []
        for kernel, c_in, c_out in zip(self._KERNELS, self._WIDTHS[:-1], self._WIDTHS[1:], strict=True):
            decoder += [nn.ConvTranspose3d(c_in, c_out, kernel), nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)]
        decoder.append(nn.ConvTranspose3d(self._WIDTHS[-1], 1, 1))
        self.decoder = nn.Sequential(*decoder)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Predict SDF grids.

        Args:
            images: float32 (B, 3, 128, 128) in [0, 1].

        Returns:
            float32 (B, 32, 32, 32), indexed [i, j, k] <-> (x, y, z), world units, negative inside.
        """
        self.check_images(images)
        code = self.encoder(images).flatten(1)
        side = self._BASE_SIDE
        grid = self.bottleneck(code).view(images.shape[0], self._BASE_CHANNELS, side, side, side)
        return self.decoder(grid)[:, 0].float()


# Registry


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: how to configure it, build it and describe it."""

    config_class: type
    module_class: type[SdfNet]  # constructed as module_class(config)
    summary: str  # one line for `dlsr info`


MODELS: dict[str, ModelSpec] = {
    "dlsr-lite": ModelSpec(
        config_class=LiteConfig,
        module_class=LiteNet,
        summary="residual 2-D encoder, 3-D decoder at R/8..R/2, trilinear + sub-voxel head; fast on CPU (default)",
    ),
    "dls-paper-resnet": ModelSpec(
        config_class=PaperResNetConfig,
        module_class=PaperResNet,
        summary="official Deep Level Sets network: ResNet encoder, 3-D transposed-conv decoder, 21.7 M params",
    ),
}

DEFAULT_ARCH = "dlsr-lite"


def _spec(arch: str) -> ModelSpec:
    """The registry entry of `arch`, or a ConfigError listing the valid names."""
    if arch not in MODELS:
        raise ConfigError(f"unknown architecture {arch!r}; valid architectures are {', '.join(MODELS)}")
    return MODELS[arch]


def make_config(arch: str, values: dict[str, Any] | None = None) -> Any:
    """Build the frozen config of `arch` from a dict of overrides.

    Args:
        arch: a key of `MODELS`.
        values: field -> value (lists become tuples); missing fields take their defaults.

    Returns:
        An instance of `MODELS[arch].config_class`.

    Raises:
        ConfigError: unknown architecture (the message lists the valid ones), unknown key or invalid value.
    """
    spec = _spec(arch)
    return config_from_dict(spec.config_class, values or {}, what=f"{arch} config")


def build_model(arch: str, config: Any | dict[str, Any] | None = None) -> SdfNet:
    """Build an untrained model of architecture `arch`.

    Initialisation draws only from torch's global generator, so `torch.manual_seed(s)` before the call makes
    the weights reproducible.

    Args:
        arch: a key of `MODELS`.
        config: the architecture's config, a dict of overrides for `make_config`, or None for the defaults.

    Returns:
        The model (in training mode, on the CPU, float32).

    Raises:
        ConfigError: unknown architecture, bad config values, or a config of another architecture.
    """
    spec = _spec(arch)
    if config is None or isinstance(config, dict):
        config = make_config(arch, config)
    elif not isinstance(config, spec.config_class):
        raise ConfigError(f"{arch} needs a {spec.config_class.__name__}, got {type(config).__name__}")
    return spec.module_class(config)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters of `model` (trainable or not)."""
    return sum(p.numel() for p in model.parameters())
