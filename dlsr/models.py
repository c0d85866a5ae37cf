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

import itertools
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

    image_size: int = 128  # S: input images are (3, S, S); must be divisible by 4 * 2 ** len(encoder_channels)
    resolution: int = 32  # R: output grid (R, R, R); must be divisible by 2 ** len(decoder_channels)
    stem_channels: int = 24  # width of the 4x4, stride-4 patch convolution that opens the encoder (S/4)
    encoder_channels: tuple[int, ...] = (48, 96, 192)  # 2-D widths of the stride-2 residual stages after it
    latent_dim: int = 256  # width of the image code between the encoder and the 3-D decoder
    decoder_channels: tuple[int, ...] = (96, 32, 8)  # 3-D widths at R/8, R/4, R/2 (each stage doubles)
    decoder_convs: tuple[int, ...] = (1, 1, 1)  # residual 3x3x3 convolutions per decoder stage
    template_radius: float = 0.3  # radius (world units) of the sphere the learned template starts as
    bound: float = DEFAULT_BOUND  # half side of the output grid cube (world units), as in `dlsr.sdf.Grid`

    def __post_init__(self) -> None:
        if not self.encoder_channels or not self.decoder_channels:
            raise ValueError("encoder_channels and decoder_channels must not be empty")
        widths = (self.stem_channels, self.latent_dim, *self.encoder_channels, *self.decoder_channels)
        if min(widths) < 1:
            raise ValueError("channel widths and latent_dim must be positive")
        if len(self.decoder_convs) != len(self.decoder_channels) or min(self.decoder_convs) < 0:
            raise ValueError(
                f"decoder_convs needs one count >= 0 per decoder stage ({len(self.decoder_channels)}), "
                f"got {self.decoder_convs}"
            )
        down = 4 * 2 ** len(self.encoder_channels)
        if self.image_size < down or self.image_size % down:
            raise ValueError(
                f"image_size {self.image_size} must be a multiple of 4 * 2 ** len(encoder_channels) = {down}"
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
    bound: float = DEFAULT_BOUND  # half side of the cube the output samples (`dlsr.sdf.Grid`); unused inside

    def __post_init__(self) -> None:
        if self.image_size != 128:
            raise ValueError(f"dls-paper-resnet supports only image_size 128, got {self.image_size}")
        if self.resolution != 32:
            raise ValueError(f"dls-paper-resnet supports only resolution 32, got {self.resolution}")
        if not self.bound > 0:
            raise ValueError(f"bound must be positive, got {self.bound}")


class SdfNet(nn.Module):
    """Base class of registered models: `forward(images (B, 3, S, S)) -> sdf (B, R, R, R)`, both float32.

    Every config has `image_size` (S), `resolution` (R) and `bound`: the output samples
    `dlsr.sdf.Grid(resolution, bound)`.
    """

    arch: str
    config: Any

    def check_images(self, images: torch.Tensor) -> None:
        """Raise ValueError unless `images` is (B, 3, S, S) with S = `config.image_size`."""
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(f"{self.arch} expects images (B, 3, {size}, {size}), got {tuple(images.shape)}")


# dlsr-lite
#
# The 3-D decoder keeps its activations channels-last: a logical (B, C, D, H, W) tensor whose memory is
# (B, D, H, W, C), i.e. torch.channels_last_3d. Per-voxel (1x1x1) maps then run as `nn.Linear` on the
# (B, D, H, W, C) view, whose backward is a plain matrix product (measured 2-3x faster in training than a
# 1x1x1 `nn.Conv3d`), and the 3x3x3 convolutions and BatchNorms read the same memory without copies (oneDNN's
# channels-last kernels were also faster in training at these sizes).


def _as_ncdhw(x: torch.Tensor) -> torch.Tensor:
    """View (B, D, H, W, C) memory as a logical (B, C, D, H, W) tensor (channels_last_3d, no copy)."""
    return x.permute(0, 4, 1, 2, 3)


def _as_ndhwc(x: torch.Tensor) -> torch.Tensor:
    """View a logical (B, C, D, H, W) tensor as (B, D, H, W, C) (no copy when it is channels_last_3d)."""
    return x.permute(0, 2, 3, 4, 1)


def pixel_shuffle_3d(x: torch.Tensor) -> torch.Tensor:
    """Move groups of channels into 2x2x2 blocks, channels last: (B, D, H, W, 8C) -> (B, 2D, 2H, 2W, C).

    Input channel `(4a + 2b + d) * C + c` at voxel (p, q, r) becomes output channel c at voxel
    (2p + a, 2q + b, 2r + d).
    """
    batch, d, h, w, channels = x.shape
    c = channels // 8
    x = x.reshape(batch, d, h, w, 2, 2, 2, c).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(batch, 2 * d, 2 * h, 2 * w, c)


def upsample_2x_trilinear(x: torch.Tensor) -> torch.Tensor:
    """Trilinear 2x upsampling of grids (B, D, H, W) -> (B, 2D, 2H, 2W), cell-centred, edges clamped.

    Equal to `F.interpolate(x[:, None], scale_factor=2, mode="trilinear", align_corners=False)[:, 0]`, written
    as three separable 1-D steps: each output sample is 3/4 of its own cell plus 1/4 of the neighbour on its
    side. Its backward is a few elementwise ops, where PyTorch's CPU kernel scatters and measured 3x slower
    for forward + backward (5 ms vs 16 ms at batch 16, 16^3 -> 32^3).
    """
    for dim in (1, 2, 3):
        n = x.shape[dim]
        padded = torch.cat([x.narrow(dim, 0, 1), x, x.narrow(dim, n - 1, 1)], dim)
        before, centre, after = (padded.narrow(dim, offset, n) for offset in range(3))
        low = torch.lerp(centre, before, 0.25)  # output sample 2c sits a quarter cell towards c - 1
        high = torch.lerp(centre, after, 0.25)  # output sample 2c + 1 sits a quarter cell towards c + 1
        x = torch.stack([low, high], dim + 1).flatten(dim, dim + 1)
    return x


class _Conv3d(nn.Conv3d):
    """`nn.Conv3d` that sends batch-1 float32 CPU input on grids of 8^3 or more straight to oneDNN.

    For a batch of one with a small input (N*C*D*H <= 20480) PyTorch picks its native vol2col + GEMM kernel
    over oneDNN. On the decoder's fine grids that kernel measured 3-5x slower here (8 channels at 16^3:
    1.5 ms vs 0.3 ms; 48 at 8^3: 1.6 ms vs 0.6 ms), which alone would add half to single-image latency. On
    coarser grids the native kernel is the faster one, because oneDNN reorders the weights on every call and
    the weights outweigh the activations there (128 channels at 4^3: 0.8 ms vs 1.1 ms). Larger batches
    already take oneDNN; other dtypes (autocast) and devices take the ordinary path.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, D, H, W) -> (B, C_out, D', H', W')."""
        if (
            x.shape[0] == 1
            and x.shape[2] * x.shape[3] * x.shape[4] >= 512
            and x.device.type == "cpu"
            and x.dtype == self.weight.dtype == torch.float32
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled
        ):
            return torch.ops.aten.mkldnn_convolution(
                x, self.weight, self.bias, self.padding, self.stride, self.dilation, self.groups
            )
        return super().forward(x)


class _ResBlock2d(nn.Module):
    """ResNet basic block with stride 2: halves H and W; the skip path is a strided 1x1 projection."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False), nn.BatchNorm2d(out_channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) -> (B, C_out, H / 2, W / 2)."""
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x), inplace=True)


class _ResConv3d(nn.Module):
    """One residual 3x3x3 convolution, `relu(x + bn(conv(x)))`: spatial mixing at constant width and size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = _Conv3d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm3d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, D, D, D), channels_last_3d -> same shape and layout."""
        return F.relu(x + self.bn(self.conv(x)), inplace=True)


class _Up3d(nn.Module):
    """Double a 3-D grid: per-voxel linear map to 8x the channels, 3-D pixel shuffle, BN, ReLU.

    This is a stride-2, kernel-2 transposed convolution computed as one matrix product; `nn.ConvTranspose3d`
    measured 3-5x slower on CPU. The 3x3x3 convolutions that follow smooth the 2x2x2 blocks it makes.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.expand = nn.Linear(in_channels, 8 * out_channels, bias=False)  # BN follows, so no bias
        self.bn = nn.BatchNorm3d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, D, D, D) -> (B, C_out, 2D, 2D, 2D), both channels_last_3d."""
        y = _as_ncdhw(pixel_shuffle_3d(self.expand(_as_ndhwc(x))))
        return F.relu(self.bn(y), inplace=True)


class LiteNet(SdfNet):
    """`dlsr-lite`: the efficient default image -> SDF network.

    Pipeline (defaults: S = 128, R = 32):

    1. 2-D encoder: a 4x4 stride-4 patch convolution (128^2 -> 32^2, 24 channels) and three stride-2
       residual blocks (48, 96, 192 channels), (B, 3, 128, 128) -> (B, 192, 4, 4). Flattened rather than
       pooled, so the code keeps where things are in the image.
    2. Bridge: linear 3072 -> 256 (the image code) -> linear 256 -> 96 x 4^3, the first 3-D feature grid. A
       fully connected bridge lets the network move from the camera's frame to the object's canonical frame;
       it holds 70 % of the 3.4 M parameters.
    3. 3-D decoder: a residual 3x3x3 convolution at 4^3, then two doublings (per-voxel linear map + pixel
       shuffle), each followed by a 3x3x3 convolution: 32 channels at 8^3, 8 at 16^3. A 3x3x3 convolution
       at R^3 would cost more than the whole rest of the decoder, so the network never runs one.
    4. Head at R/2, one per-voxel linear map to 9 values: a coarse SDF upsampled trilinearly to R^3 (smooth,
       spatially coherent), plus 8 sub-voxel residuals pixel-shuffled to R^3 (detail finer than R/2), plus a
       learned per-voxel template initialised as a centred sphere (the mean shape, learned in a few steps).

    The head's weights start small, so an untrained model outputs the sphere's SDF plus noise of about a third
    of a voxel: a valid, meshable SDF at the right scale, and the loss starts from a sensible shape.
    """

    arch = "dlsr-lite"

    def __init__(self, config: LiteConfig) -> None:
        super().__init__()
        self.config = config
        enc = (config.stem_channels, *config.encoder_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(3, enc[0], 4, stride=4, bias=False), nn.BatchNorm2d(enc[0]), nn.ReLU(inplace=True)
        )
        self.encoder = nn.Sequential(*(_ResBlock2d(a, b) for a, b in itertools.pairwise(enc)))
        feature_side = config.image_size // (4 * 2 ** len(config.encoder_channels))

        dec = config.decoder_channels
        self.base_side = config.resolution // 2 ** len(dec)
        self.to_code = nn.Linear(enc[-1] * feature_side**2, config.latent_dim)
        self.to_grid = nn.Linear(config.latent_dim, self.base_side**3 * dec[0])
        self.grid_bn = nn.BatchNorm3d(dec[0])

        stages: list[nn.Module] = []
        for index, (width, convs) in enumerate(zip(dec, config.decoder_convs, strict=True)):
            layers: list[nn.Module] = [] if index == 0 else [_Up3d(dec[index - 1], width)]
            layers += [_ResConv3d(width) for _ in range(convs)]
            stages.append(nn.Sequential(*layers))
        self.decoder = nn.Sequential(*stages)

        # Output 0: coarse SDF at R/2; outputs 1..8: the sub-voxel residuals of each 2x2x2 block.
        self.head = nn.Linear(dec[-1], 9)
        # Post-BN-ReLU residual features have a second moment of about 1 per channel, so this std makes the
        # head's output about 0.01 world units (a third of a voxel at R = 32, bound 0.55) before training.
        nn.init.normal_(self.head.weight, std=0.01 / math.sqrt(dec[-1]))
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
        grid = _as_ncdhw(self.to_grid(code).view(images.shape[0], side, side, side, -1))
        features = self.decoder(F.relu(self.grid_bn(grid), inplace=True))
        head = self.head(_as_ndhwc(features))  # (B, R/2, R/2, R/2, 9)
        # Cell-centred upsampling puts coarse voxel c at the centre of fine voxels 2c and 2c+1, the same block
        # the pixel shuffle gives it, so the coarse SDF and its residuals describe the same cell.
        fine = upsample_2x_trilinear(head[..., 0]) + pixel_shuffle_3d(head[..., 1:])[..., 0]
        # The float32 template also brings a bf16 autocast result back to float32.
        return fine + self.template


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


def growth_refusal(source: Any, target: Any) -> str | None:
    """Why a `dlsr-lite` model with config `source` cannot start one with config `target` by growing it.

    Growing adds capacity to a trained model in either or both of two ways:
    - **a finer grid:** new decoder stages after the source's, each doubling the grid. The source's stages become
      the target's first stages, the coarse grid side R/2**len(decoder_channels) stays the same (so `to_grid`
      keeps its layout), and the learned template is resampled. Only the new stages start untrained.
    - **wider stages:** each of the source's decoder stages may be wider in the target (the same number of
      convolutions). The added channels start untrained and reach the old ones, and the head, only through
      zero weights, so before any training the target computes exactly the source's function (the zero-padded
      variant of Net2Net's widening, Chen et al., ICLR 2016); training then puts them to use.
    The encoder and bridge settings must be the same.

    Returns:
        None when `grow_state_dict` applies; otherwise a short reason naming the setting that differs.
    """
    if not isinstance(source, LiteConfig) or not isinstance(target, LiteConfig):
        return "only dlsr-lite models can be grown"
    for name in ("image_size", "stem_channels", "encoder_channels", "latent_dim", "template_radius", "bound"):
        if getattr(source, name) != getattr(target, name):
            return f"{name} differs ({getattr(source, name)} vs {getattr(target, name)})"
    stages = len(source.decoder_channels)
    if target.resolution < source.resolution or len(target.decoder_channels) < stages:
        return "the new model needs at least the old grid and decoder stages"
    if target.decoder_convs[:stages] != source.decoder_convs:
        return "the new decoder must begin with the old decoder's stages (the same decoder_convs)"
    if any(new < old for new, old in zip(target.decoder_channels, source.decoder_channels, strict=False)):
        return "the new decoder's first stages must be at least as wide as the old ones (decoder_channels)"
    if target.decoder_channels[-1] < source.decoder_channels[-1]:
        return "the last decoder width (the head's input) must not shrink"
    if source.resolution // 2**stages != target.resolution // 2 ** len(target.decoder_channels):
        return "the coarse grid side resolution / 2**len(decoder_channels) must stay the same"
    if target.resolution == source.resolution and target.decoder_channels == source.decoder_channels:
        return "nothing to grow: the new model needs a finer grid or wider decoder stages"
    return None


def _widened(old: torch.Tensor, fresh: torch.Tensor, groups: int) -> torch.Tensor:
    """`fresh` (the target's initial tensor) with `old` embedded so the added channels cannot change old outputs.

    Dimension 0 holds `groups` blocks of output channels (a block per 2x2x2 sub-voxel in `_Up3d.expand`, per
    coarse voxel in `to_grid`, else one block); dimension 1, when present, holds the input channels. Old output
    channels get their old weights on old inputs and zero on added inputs; added output channels stay fresh.

    Args:
        old: (groups * C_out, [C_in, ...]) source tensor.
        fresh: (groups * C_out', [C_in', ...]) target tensor, C_out' >= C_out and C_in' >= C_in.

    Returns:
        A new tensor shaped like `fresh`.
    """
    out_old, out_new = old.shape[0] // groups, fresh.shape[0] // groups
    source = old.reshape(groups, out_old, *old.shape[1:]).to(fresh.dtype)
    result = fresh.detach().clone().reshape(groups, out_new, *fresh.shape[1:])
    if old.dim() == 1:
        result[:, :out_old] = source
    else:
        inputs = old.shape[1]
        result[:, :out_old, inputs:] = 0
        result[:, :out_old, :inputs] = source
    return result.reshape(fresh.shape)


def grow_state_dict(source: SdfNet, target: SdfNet) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Weights for `target` (a `dlsr-lite` on a finer grid, with wider decoder stages, or both) from `source`.

    See `growth_refusal` for what may change. Every tensor with the same name and shape is copied (the encoder,
    the bridge, unchanged decoder stages); a wider one gets the old tensor embedded by `_widened`; the learned
    template is resampled (tricubic, `dlsr.sdf.resample_sdf`) onto a finer grid, so the mean shape is kept. New
    stages keep `target`'s fresh initialisation; the head is kept, and adapts to them in fine-tuning.

    Returns:
        (state dict for `target`, names of the tensors left wholly at their fresh initialisation).

    Raises:
        ConfigError: the configs do not allow growing (the message gives the reason).
    """
    from dlsr.sdf import resample_sdf

    reason = growth_refusal(source.config, target.config)
    if reason is not None:
        raise ConfigError(f"cannot grow a {source.arch} model to this one: {reason}")
    old = source.state_dict()
    state = dict(target.state_dict())
    coarse_voxels = (target.config.resolution // 2 ** len(target.config.decoder_channels)) ** 3
    fresh = []
    for name, tensor in state.items():
        if name not in old:
            fresh.append(name)
        elif name == "template" and old[name].shape != tensor.shape:  # a finer grid
            resampled = resample_sdf(old["template"].float().numpy(), target.config.resolution)
            state[name] = torch.from_numpy(resampled).to(tensor.dtype)
        elif old[name].shape == tensor.shape:
            state[name] = old[name].to(tensor.dtype).clone()
        else:
            groups = coarse_voxels if name.startswith("to_grid.") else 8 if name.endswith("expand.weight") else 1
            state[name] = _widened(old[name], tensor, groups)
    return state, fresh
