"""A training run's settings: `TrainConfig`, `AugmentConfig` and the TOML/run.json tables that make a `RunConfig`."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlsr.config import config_from_dict, config_to_dict
from dlsr.errors import ConfigError, DlsrError
from dlsr.image import PreprocessConfig
from dlsr.levelset import ObjectiveConfig
from dlsr.models import DEFAULT_ARCH, make_config


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
