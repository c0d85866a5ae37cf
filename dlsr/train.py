"""Training: one image -> SDF network on a dataset folder, with the objectives of `dlsr.levelset`.

A run lives in one folder:

    OUT/run.json        the resolved configuration, data recipe and command (a resume must match it)
    OUT/last.pt         the latest state: model, optimiser, scheduler, epoch and step (every epoch, and every
                        `checkpoint_minutes` inside one)
    OUT/best.pt         the state with the best validation IoU so far
    OUT/metrics.jsonl   one JSON record per epoch: losses, validation IoU (mean and per category), rate

Every random choice (sample order, augmentation, surface points) is drawn from a generator seeded by
(seed, epoch, step, rank), so a resumed run replays exactly the batches an uninterrupted one would have seen,
and `--resume` needs no saved RNG state: the result is the same bits on the same machine and thread count.

Distributed training: under `torchrun --nproc-per-node K -m dlsr train ...` each process trains on its share of
every batch (`batch_size` is the global batch) through DistributedDataParallel (gloo on CPU, NCCL on CUDA);
validation is split across ranks and summed; only rank 0 writes files.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F

from dlsr import __version__
from dlsr.checkpoint import model_grid, save_weights
from dlsr.config import config_from_dict, config_to_dict
from dlsr.conventions import CATEGORIES
from dlsr.data import PreprocessConfig
from dlsr.datasets import SplitArrays, concatenate_splits, load_split_arrays, read_dataset_settings
from dlsr.errors import ConfigError, DlsrError, TrainingError, WeightsError
from dlsr.files import atomic_write, check_creatable, make_folder
from dlsr.levelset import ObjectiveConfig, compute_loss
from dlsr.metrics import iou_sdf
from dlsr.models import DEFAULT_ARCH, build_model, count_parameters, make_config

RUN_FILE = "run.json"
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
METRICS_FILE = "metrics.jsonl"
STATE_FORMAT = "dlsr-train-state-1"


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time image augmentation (validation and inference see the plain prepared image)."""

    channel_permutation: bool = True  # the paper's: shuffle R, G, B per sample
    colour_jitter: float = 0.2  # brightness, contrast and saturation each scaled by U[1 - j, 1 + j]
    background_probability: float = 0.5  # share of samples recomposited on a random plain colour instead of white
    crop_jitter: float = 0.05  # crop shifted by up to this fraction of its side and scaled by U[1 - j, 1 + j]
    greyscale_probability: float = 0.0  # share of samples turned grey (photos and renders in black and white)
    blur_probability: float = 0.0  # share of samples blurred (Gaussian, sigma U[0.3, 1.2] px): soft or resized photos
    noise: float = 0.0  # pixel noise, standard deviation U[0, noise] per sample (sensor noise, JPEG grain)

    def __post_init__(self) -> None:
        for key in (
            "colour_jitter",
            "background_probability",
            "crop_jitter",
            "greyscale_probability",
            "blur_probability",
            "noise",
        ):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(f"augment.{key}: expected a number from 0 to 1, found {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation and data settings of a run (TOML table [train], or top-level keys)."""

    arch: str = DEFAULT_ARCH  # registry name in dlsr.models.MODELS
    epochs: int = 6  # passes over every (object, view) pair of the training split
    batch_size: int = 16  # global batch (split across distributed ranks)
    lr: float = 1e-3  # AdamW peak learning rate
    weight_decay: float = 1e-4  # AdamW decoupled decay, on weight matrices and kernels only
    warmup_steps: int = 300  # linear warm-up from 1 % of lr
    final_lr_fraction: float = 0.02  # cosine decay ends at this fraction of lr
    seed: int = 0  # model initialisation, sample order and augmentation
    categories: tuple[str, ...] = ()  # synset ids to train on; empty: all (one model for every category)
    surface_points: int = 1024  # points on the true surface per sample per step (dls objective)
    train_views: int = 0  # views per training object used each epoch (evenly spaced); 0: all
    val_views: int = 4  # views per validation object (evenly spaced indices)
    threads: int = 0  # torch CPU threads per process; 0 keeps torch's default
    cache_workers: int = 2  # processes that prepare images when the image cache is first built
    checkpoint_minutes: float = 10.0  # also save last.pt this often inside an epoch
    compile: bool = False  # torch.compile the model (CUDA)
    init: str = ""  # start from these weights (a .safetensors file or a run folder's best.pt); "" starts afresh

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "val_views", "cache_workers")
        for key in positive:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"train.{key}: expected a positive integer, found {value!r}")
        for key in ("warmup_steps", "threads", "surface_points", "seed", "train_views"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"train.{key}: expected an integer >= 0, found {value!r}")
        for key in ("lr", "weight_decay", "final_lr_fraction", "checkpoint_minutes"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"train.{key}: expected a finite number, found {value!r}")
        if not self.lr > 0 or not self.weight_decay >= 0 or not 0 <= self.final_lr_fraction <= 1:
            raise ConfigError("train: lr must be > 0, weight_decay >= 0 and final_lr_fraction in [0, 1]")
        if not self.checkpoint_minutes > 0:
            raise ConfigError(f"train.checkpoint_minutes: expected > 0, found {self.checkpoint_minutes!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run."""

    train: TrainConfig = field(default_factory=TrainConfig)
    model: dict[str, Any] = field(default_factory=dict)  # overrides of the architecture's config
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what run.json stores)."""
        return {
            "train": config_to_dict(self.train),
            "model": config_to_dict(make_config(self.train.arch, self.model)),
            "objective": config_to_dict(self.objective),
            "augment": config_to_dict(self.augment),
            "preprocess": config_to_dict(self.preprocess),
        }


_TABLES = {"train", "model", "objective", "augment", "preprocess"}


def run_config_from_dict(values: dict[str, Any], source: str = "config") -> RunConfig:
    """A `RunConfig` from nested tables (TOML or run.json); top-level keys belong to [train].

    Raises:
        ConfigError: unknown tables or keys, or invalid values; the message names `source`.
    """
    _check_tables(values, source)
    train_values = {k: v for k, v in values.items() if k not in _TABLES}
    train_values.update(values.get("train", {}))
    train = config_from_dict(TrainConfig, train_values, what=f"{source} [train]")
    try:
        model = make_config(train.arch, values.get("model", {}))
    except DlsrError as exc:
        raise ConfigError(f"{source} [model]: {exc}") from exc
    # The network's input size decides the prepared image size; a different one set by hand cannot work.
    preprocess_values = {"image_size": model.image_size, **values.get("preprocess", {})}
    if preprocess_values["image_size"] != model.image_size:
        raise ConfigError(
            f"{source} [preprocess]: image_size {preprocess_values['image_size']} differs from the network's "
            f"input size {model.image_size}; drop it or set [model] image_size"
        )
    return RunConfig(
        train=train,
        model=dict(values.get("model", {})),
        objective=config_from_dict(ObjectiveConfig, values.get("objective", {}), what=f"{source} [objective]"),
        augment=config_from_dict(AugmentConfig, values.get("augment", {}), what=f"{source} [augment]"),
        preprocess=config_from_dict(PreprocessConfig, preprocess_values, what=f"{source} [preprocess]"),
    )


def _check_tables(values: dict[str, Any], source: str) -> None:
    """Refuse `train = 5` and the like: a table name given a plain value (before anything indexes it)."""
    for table in sorted(_TABLES):
        if table in values and not isinstance(values[table], dict):
            raise ConfigError(
                f"{source}: [{table}] must be a table, found {table} = {values[table]!r}; write a [{table}] "
                "header with key = value lines under it"
            )


def load_run_config(path: str | os.PathLike[str] | None, overrides: dict[str, dict[str, Any]]) -> RunConfig:
    """Read a TOML config (optional) and apply command-line overrides ({table: {key: value}}).

    Raises:
        ConfigError: the file is missing or not TOML, or a key or value is invalid.
    """
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file; check the path") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not a valid TOML file ({exc}); fix the syntax") from None
    _check_tables(values, str(path))
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in values.items()}
    for table, entries in overrides.items():
        target = merged.setdefault(table, {})
        if table == "train":
            for key in entries:
                merged.pop(key, None)  # a top-level key of the file is overridden too
        target.update(entries)
    return run_config_from_dict(merged, str(path) if path is not None else "config")


# Distributed context


@dataclass(frozen=True)
class Distributed:
    """This process's place in a (possibly single-process) run."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


@contextmanager
def distributed_context(device: str = "auto") -> Iterator[Distributed]:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a single process; leave it at exit."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available; use --device cpu")
    if world <= 1:
        yield Distributed(device=torch.device("cuda" if cuda else "cpu"))
        return
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if cuda:
        torch.cuda.set_device(local)
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        yield Distributed(rank, world, torch.device(f"cuda:{local}" if cuda else "cpu"))
    finally:
        dist.destroy_process_group()


def _all_reduce_sum(values: torch.Tensor, context: Distributed) -> torch.Tensor:
    if context.world > 1:
        import torch.distributed as dist

        values = values.to(context.device)
        dist.all_reduce(values)
    return values.cpu()


def _barrier(context: Distributed) -> None:
    if context.world > 1:
        import torch.distributed as dist

        dist.barrier()


# Augmentation


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
        return low + (high - low) * torch.rand(*shape, generator=generator)

    if config.crop_jitter > 0:
        # Shift and scale the crop; samples outside the image are background (0 after subtracting it).
        jitter = config.crop_jitter
        scale = uniform(batch, low=1 - jitter, high=1 + jitter)
        shift = uniform(batch, 2, low=-jitter, high=jitter) * 2  # normalised coordinates span 2
        theta = torch.zeros(batch, 2, 3)
        theta[:, 0, 0] = scale
        theta[:, 1, 1] = scale
        theta[:, :, 2] = shift
        sampling = F.affine_grid(theta, list(rgb.shape), align_corners=False)
        stacked = torch.cat((rgb - base, coverage), dim=1)
        warped = F.grid_sample(stacked, sampling, mode="bilinear", padding_mode="zeros", align_corners=False)
        rgb, coverage = warped[:, :3] + base, warped[:, 3:]
    if config.background_probability > 0:
        colour = uniform(batch, 3, 1, 1)
        use = (uniform(batch, 1, 1, 1) < config.background_probability).float()
        new_background = use * colour + (1 - use) * base
        rgb = rgb - (1 - coverage) * (base - new_background)
    if config.colour_jitter > 0:
        jitter = config.colour_jitter
        brightness = uniform(batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
        contrast = uniform(batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
        saturation = uniform(batch, 1, 1, 1, low=1 - jitter, high=1 + jitter)
        rgb = rgb * brightness
        grey = rgb.mean(dim=1, keepdim=True)
        rgb = grey + (rgb - grey) * saturation
        mean = rgb.mean(dim=(1, 2, 3), keepdim=True)
        rgb = mean + (rgb - mean) * contrast
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


def evenly_spaced(count: int, wanted: int) -> np.ndarray:
    """`wanted` view indices spread evenly over `count` views (all of them when wanted >= count), int64."""
    if wanted >= count:
        return np.arange(count)
    return np.unique(np.floor(np.arange(wanted) * count / wanted).astype(np.int64))


# Optimiser and schedule


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; decay applies to weight matrices and kernels, not to biases, norms or the learned SDF template."""
    decay: list[torch.nn.Parameter] = []
    plain: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (decay if parameter.ndim >= 2 and not name.endswith("template") else plain).append(parameter)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr)


def lr_factor(step: int, total_steps: int, config: TrainConfig) -> float:
    """Learning-rate multiplier: linear warm-up from 1 %, then cosine decay to `final_lr_fraction`."""
    if step < config.warmup_steps:
        return 0.01 + 0.99 * step / config.warmup_steps
    span = max(1, total_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    low = config.final_lr_fraction
    return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))


# Scoring


@dataclass
class IouScores:
    """Sign IoU at the model's grid resolution over a split's (object, view) images."""

    per_image: np.ndarray  # float64 (N, V)
    categories: list[str]  # per object

    def by_category(self) -> dict[str, float]:
        """Mean IoU per category (over its objects and views)."""
        out: dict[str, list[float]] = {}
        for category, row in zip(self.categories, self.per_image, strict=True):
            out.setdefault(category, []).extend(row.tolist())
        return {category: float(np.mean(values)) for category, values in sorted(out.items())}

    @property
    def class_mean(self) -> float:
        """Mean over categories of the per-category means."""
        return float(np.mean(list(self.by_category().values())))

    @property
    def instance_mean(self) -> float:
        """Mean over all images."""
        return float(self.per_image.mean())


@torch.no_grad()
def score_sign_iou(
    model: torch.nn.Module,
    arrays: SplitArrays,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 64,
    context: Distributed | None = None,
    level: float = 0.0,
) -> IouScores:
    """IoU of {φ < level} against {true SDF < 0} on the model's grid for every (object, view) of `arrays`.

    `level` 0 is the paper's protocol; a calibrated model is scored at its own iso-level (`dlsr.level`), the
    surface its meshes are taken at.

    With a distributed `context`, each rank scores a share and the results are summed, so every rank returns
    the full scores.
    """
    context = context or Distributed(device=torch.device(device))
    was_training = model.training
    model.eval()
    count, views = len(arrays.records), len(arrays.views)
    flat = np.arange(count * views)[context.rank :: context.world]
    result = torch.zeros(count * views, dtype=torch.float64)
    for start in range(0, len(flat), batch_size):
        chosen = flat[start : start + batch_size]
        objects, slots = chosen // views, chosen % views
        images = to_network_input(torch.from_numpy(np.ascontiguousarray(arrays.images[objects, slots])))
        phi = model(images.to(context.device)).float().cpu()
        result[torch.from_numpy(chosen)] = torch.from_numpy(iou_sdf(phi - level, torch.from_numpy(arrays.sdf[objects])))
    result = _all_reduce_sum(result, context)
    model.train(was_training)
    return IouScores(result.numpy().reshape(count, views), [r.category for r in arrays.records])


# The run


@dataclass
class TrainReport:
    """What a finished (or resumed-and-finished) run did."""

    out: Path
    epochs: int
    best_epoch: int
    best_val_iou: float
    last_val_iou: float
    seconds: float
    samples_per_second: float


ProgressCallback = Callable[[str, int, int], None]  # (description, done, total)


def train(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    config: RunConfig,
    *,
    resume: bool = False,
    device: str = "auto",
    command: str | None = None,
    progress: ProgressCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train a model on a dataset folder and write the run folder `out`.

    Args:
        data: dataset folder (`dlsr data synth` layout), or several: their training splits are pooled (same view
            count), and the first folder's validation split alone picks the best epoch, so a folder whose
            validation part is a held-out check (Pix3D's) never steers training.
        out: run folder; must be new or empty unless `resume`.
        config: the run's settings.
        resume: continue the run in `out` from its last.pt (its run.json must match `config`).
        device: "auto" (CUDA when available), "cpu" or "cuda".
        command: the command line, recorded in run.json.
        progress: called as (description, done, total) for cache building and each epoch's steps.
        log: called with one line per epoch.

    Raises:
        ConfigError: bad settings or a resume that does not match the run.
        DatasetError: the data folder is missing or broken.
    """
    folders = [Path(data)] if isinstance(data, str | os.PathLike) else [Path(folder) for folder in data]
    if not folders:
        raise ConfigError("no dataset folder given; pass at least one")
    with distributed_context(device) as context:
        return _train(folders, Path(out), config, resume, context, command, progress, log)


def _train(
    folders: list[Path],
    out: Path,
    config: RunConfig,
    resume: bool,
    context: Distributed,
    command: str | None,
    progress: ProgressCallback | None,
    log: Callable[[str], None] | None,
) -> TrainReport:
    settings = config.train
    if settings.threads:
        torch.set_num_threads(settings.threads)
    if settings.batch_size % context.world:
        raise ConfigError(
            f"train.batch_size {settings.batch_size} must be divisible by the number of processes ({context.world})"
        )
    say = log if (log and context.is_main) else (lambda _: None)
    report_progress = progress if (progress and context.is_main) else None
    run_record = {
        "dlsr_version": __version__,
        "config": config.to_dict(),
        "data": _data_record(folders),
        "command": command or " ".join(sys.argv),
        "commit": _git_commit(),
        "world_size": context.world,
        "device": str(context.device),
    }
    torch.manual_seed(settings.seed)
    model = build_model(settings.arch, config.model)
    grid = model_grid(model.config)
    # Read the starting weights before the run folder is made, so a bad --init leaves nothing behind.
    initial = initial_weights(settings.init, model) if settings.init else None
    state = _open_run(out, run_record, resume, context)
    if initial is not None and state is None:
        model.load_state_dict(initial)
    model.to(context.device)
    optimizer = make_optimizer(model, settings)

    def on_cache(done: int, total: int) -> None:
        if report_progress:
            report_progress("preparing images", done, total)

    needs_points = settings.surface_points if config.objective.needs_surface_points else 0
    # Rank 0 builds the image cache while the others wait, then they all read it (no duplicated work or races).
    if not context.is_main:
        _barrier(context)
    train_arrays = concatenate_splits([
        load_split_arrays(
            folder, "train", grid=grid, preprocess=config.preprocess, categories=_present(settings.categories, folder),
            surface_points=4 * needs_points, workers=settings.cache_workers, progress=on_cache,
        )
        for folder in folders
    ])  # fmt: skip
    val_views = evenly_spaced(train_arrays.records[0].view_count(), settings.val_views).tolist()
    val_arrays = load_split_arrays(
        folders[0], "val", grid=grid, preprocess=config.preprocess, categories=settings.categories,
        views=val_views, workers=settings.cache_workers, progress=on_cache,
    )  # fmt: skip
    if context.is_main:
        _barrier(context)

    slots = evenly_spaced(len(train_arrays.views), settings.train_views or len(train_arrays.views))
    views = len(slots)
    samples = len(train_arrays) * views
    steps_per_epoch = samples // settings.batch_size
    if steps_per_epoch == 0:
        raise ConfigError(f"train.batch_size {settings.batch_size} exceeds the {samples} training images; lower it")
    if not resume:
        _create_run(out, run_record, context)
    total_steps = steps_per_epoch * settings.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, settings))

    epoch, step, best_iou, best_epoch = 0, 0, -1.0, -1
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        epoch, step = int(state["epoch"]), int(state["step"])
        best_iou, best_epoch = float(state["best_iou"]), int(state["best_epoch"])
        say(f"resuming {out} at epoch {epoch + 1}, step {step}")

    network: torch.nn.Module = model
    if settings.compile:
        network = torch.compile(model)  # type: ignore[assignment]
    if context.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        on_gpu = context.device.type == "cuda"
        network = DistributedDataParallel(network, device_ids=[context.device] if on_gpu else None)
    autocast = context.device.type == "cuda"  # bf16 only pays on GPUs (it is ~15x slower on AVX2 CPUs)
    per_rank = settings.batch_size // context.world
    background = config.preprocess.background
    started = time.perf_counter()
    trained_samples = 0
    last_save = time.monotonic()
    last_iou = best_iou
    model.train()
    while epoch < settings.epochs:
        order = torch.randperm(samples, generator=batch_generator(settings.seed, epoch, -1, 0)).numpy()
        sums: dict[str, float] = {}
        epoch_start = time.perf_counter()
        epoch_samples = 0
        for current in range(step, steps_per_epoch):
            generator = batch_generator(settings.seed, epoch, current, context.rank)
            chosen = order[current * settings.batch_size : (current + 1) * settings.batch_size]
            chosen = chosen[context.rank * per_rank : (context.rank + 1) * per_rank]
            objects, chosen_slots = chosen // views, slots[chosen % views]
            cached = torch.from_numpy(np.ascontiguousarray(train_arrays.images[objects, chosen_slots]))
            images = augment_views(cached, config.augment, generator, background).to(context.device)
            target = torch.from_numpy(train_arrays.sdf[objects]).to(context.device)
            points = None
            if needs_points:
                pool = train_arrays.surface_points.shape[1]
                pick = torch.randint(pool, (len(objects), needs_points), generator=generator).numpy()
                points = torch.from_numpy(train_arrays.surface_points[objects[:, None], pick]).to(context.device)
            with torch.autocast(context.device.type, dtype=torch.bfloat16, enabled=autocast):
                phi = network(images)
            result = compute_loss(config.objective, phi.float(), target, grid, points)
            loss_value = float(result.loss.detach())
            # Checked before the step, so the weights stay those of the last save. Under torchrun the other
            # ranks wait in backward's all-reduce until torchrun stops them when this one exits.
            if not math.isfinite(loss_value):
                raise _diverged(out, f"the loss became {loss_value}", epoch, current, settings.lr)
            optimizer.zero_grad(set_to_none=True)
            result.loss.backward()
            optimizer.step()
            scheduler.step()
            for key, value in result.terms.items():
                sums[key] = sums.get(key, 0.0) + value
            sums["loss"] = sums.get("loss", 0.0) + loss_value
            epoch_samples += settings.batch_size
            trained_samples += settings.batch_size
            if report_progress:
                report_progress(f"epoch {epoch + 1}/{settings.epochs}", current + 1, steps_per_epoch)
            if time.monotonic() - last_save > settings.checkpoint_minutes * 60 and current + 1 < steps_per_epoch:
                _require_finite(model, out, epoch, current, settings.lr)
                position = (epoch, current + 1, best_iou, best_epoch)
                _save_state(out / LAST_CHECKPOINT, model, optimizer, scheduler, *position, context)
                last_save = time.monotonic()
        done_steps = steps_per_epoch - step
        epoch_seconds = time.perf_counter() - epoch_start
        _require_finite(model, out, epoch, steps_per_epoch - 1, settings.lr)  # before it is scored and saved
        scores = score_sign_iou(model, val_arrays, context=context)
        last_iou = scores.class_mean
        epoch += 1
        step = 0
        improved = last_iou > best_iou
        if improved:
            best_iou, best_epoch = last_iou, epoch
        record = {
            "epoch": epoch,
            "steps": epoch * steps_per_epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train": {key: value / max(1, done_steps) for key, value in sums.items()},
            "val_iou": last_iou,
            "val_iou_instance": scores.instance_mean,
            "val_iou_by_category": scores.by_category(),
            "samples_per_second": epoch_samples / max(epoch_seconds, 1e-9),
            "epoch_seconds": epoch_seconds,
        }
        if context.is_main:
            _append_metrics(out / METRICS_FILE, record)
        _save_state(out / LAST_CHECKPOINT, model, optimizer, scheduler, epoch, 0, best_iou, best_epoch, context)
        if improved:
            _save_state(out / BEST_CHECKPOINT, model, optimizer, scheduler, epoch, 0, best_iou, best_epoch, context)
        last_save = time.monotonic()
        say(
            f"epoch {epoch}/{settings.epochs}: loss {record['train'].get('loss', float('nan')):.5g}, "
            f"val IoU {last_iou:.4f} (best {best_iou:.4f} at epoch {best_epoch}), "
            f"{record['samples_per_second']:.1f} samples/s"
        )
    seconds = time.perf_counter() - started
    return TrainReport(out, epoch, best_epoch, best_iou, last_iou, seconds, trained_samples / max(seconds, 1e-9))


def _data_record(folders: list[Path]) -> dict[str, Any] | list[dict[str, Any]]:
    """run.json's record of the training data: path and recipe of each folder (one dict for one folder)."""
    records = [{"path": str(folder.resolve()), "recipe": read_dataset_settings(folder)} for folder in folders]
    return records[0] if len(records) == 1 else records


def _present(categories: Sequence[str], folder: Path) -> tuple[str, ...]:
    """The chosen categories that `folder` has (all of its own when none are chosen): a pooled folder may lack
    some of them (Pix3D has no airplanes)."""
    if not categories:
        return ()
    found = {path.parent.name for path in folder.glob("*/train.lst")}
    kept = tuple(category for category in categories if category in found)
    if not kept:
        raise ConfigError(f"{folder}: has none of the chosen categories ({', '.join(categories)})")
    return kept


def initial_weights(source: str, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The tensors to start `model` from: a weights file (`dlsr.checkpoint`) or a run folder's best.pt.

    A source with the same architecture and [model] settings gives all its tensors. A `dlsr-lite` source on a
    coarser grid whose decoder the run's model extends by new stages is grown (`dlsr.models.grow_state_dict`):
    everything but the new stages is kept, the template resampled.

    Raises:
        ConfigError: the source describes another architecture, or settings it cannot be grown from.
        WeightsError: the file is missing or damaged.
    """
    from dlsr.checkpoint import load_weights
    from dlsr.models import SdfNet, grow_state_dict, growth_refusal

    if Path(source).is_dir():
        loaded = load_run_model(source).model
    else:
        loaded, _ = load_weights(source)
    if loaded.arch == model.arch and config_to_dict(loaded.config) == config_to_dict(model.config):
        return {key: value.float() for key, value in loaded.state_dict().items()}
    if loaded.arch == model.arch and growth_refusal(loaded.config, model.config) is None:
        state, _ = grow_state_dict(cast(SdfNet, loaded), cast(SdfNet, model))  # dlsr-lite both: checked above
        return {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
    raise ConfigError(
        f"train.init {source}: holds a {loaded.arch} model with other settings than this run's {model.arch}; "
        "start from weights of the same architecture and [model] settings (or a dlsr-lite model whose decoder "
        "this run's extends to a finer grid)"
    )


def _open_run(out: Path, record: dict[str, Any], resume: bool, context: Distributed) -> dict[str, Any] | None:
    """Check the run folder for a new run or a resume, writing nothing; the last state to resume from, if any.

    A new run's folder is made by `_create_run` only once the data and settings have passed their checks, so a
    start that fails leaves nothing behind to block the corrected rerun.

    A resume continues from last.pt. Without last.pt it starts again from epoch 1 only when the run has made no
    progress at all (no metrics.jsonl, no best.pt: it stopped before its first checkpoint); otherwise starting
    again would overwrite finished epochs and the best model, so it is refused.
    """
    run_file = out / RUN_FILE
    if resume:
        if not run_file.is_file():
            raise ConfigError(f"{out}: nothing to resume (no {RUN_FILE}); start the run without --resume")
        saved = _read_run_record(run_file)
        if saved.get("config") != json.loads(json.dumps(record["config"])):
            raise ConfigError(
                f"{run_file}: the run was started with other settings; resume with the same config and options"
            )
        if saved.get("world_size", 1) != context.world:
            raise ConfigError(
                f"{run_file}: the run used {saved.get('world_size')} processes, this resume {context.world}; "
                "resume with the same number (sample order depends on it)"
            )
        last = out / LAST_CHECKPOINT
        if last.exists() or last.is_symlink():
            return read_state(last)
        progress = [name for name in (METRICS_FILE, BEST_CHECKPOINT) if (out / name).exists()]
        if progress:
            raise ConfigError(
                f"{last}: missing, but the run has progress ({', '.join(progress)}) that starting again would "
                "overwrite; restore last.pt, or start a new run in another --out folder"
            )
        return None
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: exists and is not empty; pass --resume to continue that run, or choose a new --out")
    check_creatable(out)  # fail now, not after the image cache is built
    return None


def _create_run(out: Path, record: dict[str, Any], context: Distributed) -> None:
    """Make the run folder and write its run.json (rank 0); every rank waits for it."""
    _barrier(context)  # every rank has looked at the folder before rank 0 writes into it
    if context.is_main:
        make_folder(out)
        atomic_write(out / RUN_FILE, (json.dumps(record, indent=2) + "\n").encode())
    _barrier(context)


def _read_run_record(run_file: Path) -> dict[str, Any]:
    """The run.json of a run folder.

    Raises:
        ConfigError: unreadable, not JSON, or without the run settings.
    """
    try:
        record = json.loads(run_file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{run_file}: unreadable ({exc}); the run folder is damaged, train again") from None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise ConfigError(f"{run_file}: has no run settings (not written by `dlsr train`); train again")
    return record


def _diverged(out: Path, what: str, epoch: int, step: int, lr: float) -> TrainingError:
    """The one-line error that stops a run whose loss or weights are no longer finite."""
    last = out / LAST_CHECKPOINT
    kept = f"{last} keeps the last finite state" if last.is_file() else "no checkpoint had been written yet"
    return TrainingError(
        f"{out}: {what} at epoch {epoch + 1}, step {step + 1}; training stopped without saving it ({kept}); "
        f"lower the learning rate (lr = {lr:g}) and start a new run in another --out folder"
    )


def _require_finite(model: torch.nn.Module, out: Path, epoch: int, step: int, lr: float) -> None:
    """Refuse to score or save weights that hold NaN or infinity (a finite loss can still end in a bad step)."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _diverged(out, f"the weights became non-finite ({name})", epoch, step, lr)


def _save_state(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    epoch: int,
    step: int,
    best_iou: float,
    best_epoch: int,
    context: Distributed,
) -> None:
    """Write a resumable state (rank 0, atomically); every rank waits for it."""
    if context.is_main:
        import io

        state = {
            "format": STATE_FORMAT,
            "arch": model.arch,
            "model_config": config_to_dict(model.config),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "step": step,
            "best_iou": best_iou,
            "best_epoch": best_epoch,
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write(path, buffer.getvalue())
    _barrier(context)


def read_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a training state file without executing code (`torch.load(weights_only=True)`).

    Raises:
        WeightsError: missing, corrupt or not a dlsr training state.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such training state; train first with `dlsr train`") from None
    except Exception as exc:  # torch raises many types for a damaged file
        # Some failures carry no message (a zero-byte file is an EOFError with none): name the type instead.
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WeightsError(f"{path}: not a readable training state ({reason}); it is damaged or empty") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise WeightsError(f"{path}: not a dlsr training state (format {STATE_FORMAT})")
    return state


def _append_metrics(path: Path, record: dict[str, Any]) -> None:
    """Append one epoch record, dropping records of this epoch or later left by an interrupted run."""
    lines = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                if json.loads(line).get("epoch", 0) < record["epoch"]:
                    lines.append(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
    lines.append(json.dumps(record))
    atomic_write(path, ("\n".join(lines) + "\n").encode())


def read_metrics(run: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The per-epoch records of a run folder."""
    path = Path(run) / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _git_commit() -> str | None:
    """The commit of the dlsr checkout this runs from (None outside a git checkout)."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if found.returncode != 0 or not found.stdout.strip():
        return None
    # Uncommitted changes to the package make the commit alone an incomplete record.
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "."], cwd=Path(__file__).resolve().parent, capture_output=True, text=True
    )
    return found.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


@dataclass
class RunModel:
    """A run folder's model at one of its checkpoints, with the settings it was trained with."""

    model: torch.nn.Module  # in train mode, on the CPU
    config: RunConfig
    state: dict[str, Any]  # the training state (`read_state`)
    record: dict[str, Any]  # run.json
    checkpoint: Path


def load_run_model(run: str | os.PathLike[str], which: str = "best") -> RunModel:
    """Rebuild the model of a run folder from its best.pt or last.pt.

    Raises:
        ConfigError: the folder is not a run, or `which` is neither "best" nor "last".
        WeightsError: the checkpoint is missing or damaged.
    """
    folder = Path(run)
    run_file = folder / RUN_FILE
    if not run_file.is_file():
        raise ConfigError(f"{folder}: not a training run (no {RUN_FILE}); pass the --out folder of `dlsr train`")
    if which not in ("best", "last"):
        raise ConfigError(f"--which {which!r}: choose best or last")
    record = _read_run_record(run_file)
    config = run_config_from_dict(record["config"], str(run_file))
    checkpoint = folder / (BEST_CHECKPOINT if which == "best" else LAST_CHECKPOINT)
    state = read_state(checkpoint)
    model = build_model(state["arch"], state["model_config"])
    model.load_state_dict(state["model"])
    return RunModel(model, config, state, record, checkpoint)


@dataclass
class SplitScores:
    """Sign IoU of a model on every image of a dataset split (`score_split`)."""

    scores: IouScores
    data: str  # the dataset folder, resolved
    split: str
    weights: str  # the weights file or checkpoint that was scored
    views: list[int]  # the views scored per object
    resolution: int  # the model's grid
    level: float = 0.0  # the iso-level the predicted inside was taken at, world units

    def summary(self) -> dict[str, Any]:
        """JSON-able: {"weights", "data", "split", "views", "resolution", "level",
        "categories": {synset: {name, objects, images, iou}}, "class_mean", "instance_mean"}."""
        rows: dict[str, Any] = {}
        for category, iou in self.scores.by_category().items():
            objects = sum(1 for c in self.scores.categories if c == category)
            rows[category] = {
                "name": CATEGORIES.get(category, category),
                "objects": objects,
                "images": objects * len(self.views),
                "iou": iou,
            }
        return {
            "weights": self.weights,
            "data": self.data,
            "split": self.split,
            "views": self.views,
            "resolution": self.resolution,
            "level": self.level,
            "categories": rows,
            "class_mean": self.scores.class_mean,
            "instance_mean": self.scores.instance_mean,
        }


def score_split(
    data: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    split: str = "test",
    categories: Sequence[str] = (),
    views: int = 0,
    device: str = "auto",
    level: float | None = None,
) -> SplitScores:
    """Score a model on every (object, view) image of a dataset split: sign IoU at the model's grid resolution;
    `.summary()` gives the per-category table.

    Args:
        data: dataset folder.
        weights: a weights file, a run folder (its best.pt) or None for the default weights.
        split: "train", "val" or "test".
        categories: synset ids (empty: all).
        views: views per object, evenly spaced; 0 takes all.
        device: "auto", "cpu" or "cuda".
        level: the iso-level of the predicted inside, world units; None takes the weights' own (`dlsr.level`;
            0 for a run folder, whose checkpoints carry none), 0 is the paper's protocol.
    """
    from dlsr.checkpoint import find_weights, load_weights
    from dlsr.pipeline import resolve_device

    target = torch.device(resolve_device(device))
    model: torch.nn.Module
    if weights is not None and Path(weights).is_dir():
        run = load_run_model(weights)
        model = run.model.to(target).eval()
        preprocess = run.config.preprocess
        source = str(run.checkpoint)
        own_level = 0.0
    else:
        path = find_weights(weights)
        model, info = load_weights(path, str(target))
        preprocess = info.preprocess
        source = str(path)
        own_level = info.level
    level = own_level if level is None else level
    if not math.isfinite(level):
        raise ConfigError(f"level {level}: expected a finite iso-level in world units")
    grid = model_grid(model.config)
    records_views = None
    if views:
        from dlsr.datasets import read_split

        records_views = evenly_spaced(read_split(data, split, categories)[0].view_count(), views).tolist()
    arrays = load_split_arrays(
        data, split, grid=grid, preprocess=preprocess, categories=categories, views=records_views, workers=2
    )
    scores = score_sign_iou(model, arrays, device=target, level=level)
    return SplitScores(
        scores, str(Path(data).resolve()), split, source, list(arrays.views), grid.resolution, float(level)
    )


# Export


def export_weights(
    run: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    which: str = "best",
    metrics: dict[str, Any] | None = None,
    overwrite: bool = False,
    half: bool = True,
    level: float = 0.0,
) -> Path:
    """Write a run's model as a self-describing weights file (`dlsr.checkpoint` format).

    Args:
        run: run folder written by `train`.
        output: destination `.safetensors`.
        which: "best" (highest validation IoU) or "last".
        metrics: extra figures to record in the provenance (e.g. test-split scores).
        overwrite: replace an existing file.
        half: store the tensors as float16 (half the size; see `dlsr.checkpoint.save_weights`).
        level: the default iso-level of the model's surface (`dlsr.checkpoint`'s `dlsr.level`).

    Raises:
        WeightsError: the run has no such state. ConfigError: the run folder is not a run.
    """
    folder = Path(run)
    loaded = load_run_model(folder, which)
    model, config, state, record = loaded.model, loaded.config, loaded.state, loaded.record
    history = read_metrics(folder)
    seconds = sum(r.get("epoch_seconds", 0.0) for r in history)
    data_record = record.get("data") or {}
    sources = data_record if isinstance(data_record, list) else [data_record]
    kinds = [
        ((source.get("recipe") or {}).get("kind") or "user") if isinstance(source, dict) else "user"
        for source in sources
    ]
    provenance = {
        "description": (
            f"{state['arch']} trained with the {record['config']['objective']['name']} objective by dlsr train on "
            + (f"a {kinds[0]} dataset" if len(kinds) == 1 else f"{len(kinds)} pooled datasets ({', '.join(kinds)})")
        ),
        "dlsr_version": __version__,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checkpoint": which,
        "epoch": state["epoch"],
        "objective": record["config"]["objective"],
        "training": {
            "config": record["config"]["train"],
            "augment": record["config"]["augment"],
            "command": record.get("command"),
            "commit": record.get("commit"),
            "world_size": record.get("world_size"),
            "device": record.get("device"),
            "train_seconds": round(seconds, 1),
            "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__},
        },
        "data": record.get("data"),
        "metrics": {
            "val_iou": state["best_iou"] if which == "best" else (history[-1]["val_iou"] if history else None),
            "val_iou_by_category": next(
                (r["val_iou_by_category"] for r in history if r["epoch"] == state["epoch"]), None
            ),
            **(metrics or {}),
        },
        "parameters": count_parameters(model),
        "licence": _licence(record.get("data")),
    }
    try:
        return save_weights(
            model, output, preprocess=config.preprocess, provenance=provenance, overwrite=overwrite, half=half,
            level=level,
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(f"export level: {exc}") from None


def _licence(data: Any) -> str:
    """The licence line of exported weights: MIT, plus the credit that third-party training shapes ask for."""
    sources = data if isinstance(data, list) else [data]
    layouts = {((source or {}).get("recipe") or {}).get("layout") for source in sources if isinstance(source, dict)}
    if "pix3d" in layouts:
        return (
            "MIT; trained partly on Pix3D's shapes (Sun et al., CVPR 2018, CC-BY 4.0), rendered by dlsr, and on "
            "procedural data dlsr generates itself"
        )
    if layouts - {None}:
        return "MIT; trained partly on meshes prepared with dlsr data prepare: check their licences"
    return "MIT (weights trained by dlsr on procedural data it generates itself)"


__all__ = [
    "AugmentConfig",
    "IouScores",
    "RunConfig",
    "RunModel",
    "SplitScores",
    "TrainConfig",
    "TrainReport",
    "augment_views",
    "export_weights",
    "load_run_config",
    "load_run_model",
    "read_metrics",
    "read_state",
    "score_sign_iou",
    "score_split",
    "train",
]
