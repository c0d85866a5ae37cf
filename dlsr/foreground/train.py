"""Training the foreground segmenter: composites made on the fly, a time or step budget, resumable run folder.

A run folder holds `state.pt` (model, optimiser, step, elapsed time, the sample generator's state; rewritten every
`checkpoint_minutes`), `config.json` (the resolved settings and data) and, when the budget is spent,
`segmenter.safetensors` (float16, self-describing: `dlsr.checkpoint.save_segmenter_weights`). Rerunning the same
command resumes from `state.pt`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlsr.errors import ConfigError
from dlsr.foreground.model import SegmenterConfig

logger = logging.getLogger(__name__)

STATE_FILE = "state.pt"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "segmenter.safetensors"


@dataclass(frozen=True)
class SegmenterTrainConfig:
    """How the segmenter is trained."""

    minutes: float = 20.0  # wall-clock training budget, summed over resumes (the schedule follows it)
    steps: int | None = None  # a step budget instead of `minutes` (reproducible schedule; for tests)
    seed: int = 0  # initialisation, render choice and every composite
    batch_size: int = 16
    side: int = 128  # training canvases are S x S pixels
    lr: float = 2e-3  # peak AdamW learning rate, cosine decay to 5 % of it over the budget
    renders: int = 4000  # training renders held in memory, drawn from the train splits
    val_samples: int = 128  # fixed validation composites (val-split renders) scored at the end
    checkpoint_minutes: float = 3.0  # how often state.pt is rewritten
    threads: int = 1  # torch CPU threads
    model: SegmenterConfig = field(default_factory=SegmenterConfig)

    def __post_init__(self) -> None:
        if self.steps is None and not self.minutes > 0:
            raise ConfigError(f"segmenter training: minutes must be above 0, found {self.minutes!r}")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"segmenter training: steps must be at least 1, found {self.steps!r}")
        if self.side % self.model.multiple:
            raise ConfigError(f"segmenter training: side {self.side} is not a multiple of {self.model.multiple}")


@dataclass(frozen=True)
class SegmenterRun:
    """What a finished run made."""

    weights: Path  # the float16 safetensors file
    finished: bool  # the budget is spent (else `stop_after` ended this session and a rerun goes on)
    steps: int
    seconds: float  # training wall time over all resumes
    val_iou: float  # mean mask IoU on the fixed validation composites


def train_segmenter(
    roots: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    config: SegmenterTrainConfig = SegmenterTrainConfig(),
    *,
    stop_after: float | None = None,
    on_step: Callable[[int, float, float], None] | None = None,
) -> SegmenterRun:
    """Train (or resume) a segmenter on renders of `roots`' train splits; write its weights into `out`.

    Args:
        roots: dataset folders in the ShapeNet layout with split lists (`dlsr data synth`, `dlsr data prepare`).
        out: run folder; an existing `state.pt` there is resumed (the settings must be the same).
        stop_after: end this session after so many minutes, saving the state and the weights so far, without
            changing the schedule (a long budget in sessions of limited length).
        on_step: called with (step, loss, progress in [0, 1]) after each step.

    Raises:
        ConfigError: `out` holds a run made with other settings.
        DatasetError: a root has no split lists or renders.
    """
    import torch

    from dlsr.checkpoint import read_segmenter_state, save_segmenter_state, save_segmenter_weights
    from dlsr.foreground import data
    from dlsr.foreground.model import ForegroundNet

    torch.set_num_threads(config.threads)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [os.fspath(Path(r).resolve()) for r in roots]
    settings = {"config": asdict(config), "data": sources}
    _check_same_run(folder / CONFIG_FILE, settings)

    rng = np.random.default_rng(config.seed)
    paths = data.render_paths(roots, "train")
    chosen = rng.choice(len(paths), size=min(config.renders, len(paths)), replace=False)
    cutouts = [data.load_cutout(paths[i]) for i in sorted(chosen)]
    photos = data.load_photos(data.photo_paths())
    validation = _validation_set(roots, photos, config)

    torch.manual_seed(config.seed)
    model = ForegroundNet(config.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    step, elapsed = 0, 0.0
    state_file = folder / STATE_FILE
    if state_file.is_file():
        state = read_segmenter_state(state_file)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed = int(state["step"]), float(state["elapsed"])
        rng.bit_generator.state = json.loads(state["rng"])
        logger.info("resumed at step %d after %.1f minutes", step, elapsed / 60)

    def save() -> None:
        save_segmenter_state(
            state_file,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "rng": json.dumps(rng.bit_generator.state),
            },
        )

    model.train()
    session = saved = time.perf_counter()
    started = session - elapsed
    while (progress := _progress(config, step, elapsed)) < 1.0:
        if stop_after is not None and time.perf_counter() - session > 60 * stop_after:
            break
        for group in optimizer.param_groups:
            group["lr"] = config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        images, targets = data.make_batch(cutouts, photos, config.batch_size, config.side, rng)
        logits = model(_to_tensor(images))[:, 0]
        loss = segmentation_loss(logits, torch.from_numpy(targets))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        elapsed = time.perf_counter() - started
        if on_step is not None:
            on_step(step, float(loss.detach()), min(progress, 1.0))
        if time.perf_counter() - saved > 60 * config.checkpoint_minutes:
            save()
            saved = time.perf_counter()
    save()
    val_iou = evaluate(model, validation)
    provenance = _provenance(config, sources, step, elapsed, val_iou)
    weights = save_segmenter_weights(model, folder / WEIGHTS_FILE, provenance=provenance)
    return SegmenterRun(weights, _progress(config, step, elapsed) >= 1.0, step, elapsed, val_iou)


def segmentation_loss(logits: Any, targets: Any) -> Any:
    """Binary cross-entropy on the coverage plus one minus the soft IoU of each image.

    The IoU term weighs small objects as much as large ones, which cross-entropy alone (a per-pixel mean) does
    not; the benchmark scores IoU per image.

    Args:
        logits: float32 (B, H, W).
        targets: float32 (B, H, W) in [0, 1].
    """
    from torch.nn import functional as F

    bce = F.binary_cross_entropy_with_logits(logits, targets)
    probs = logits.sigmoid()
    overlap = (probs * targets).sum(dim=(1, 2))
    union = (probs + targets - probs * targets).sum(dim=(1, 2))
    return bce + (1 - (overlap + 1) / (union + 1)).mean()


def evaluate(model: Any, samples: tuple[np.ndarray, np.ndarray]) -> float:
    """Mean mask IoU (logit > 0 against coverage >= 0.5) over fixed samples; the model is left in train mode."""
    import torch

    images, targets = samples
    model.eval()
    scores = []
    with torch.no_grad():
        for start in range(0, len(images), 32):
            found = model(_to_tensor(images[start : start + 32]))[:, 0].numpy() > 0
            truth = targets[start : start + 32] >= 0.5
            union = (found | truth).sum(axis=(1, 2))
            scores.extend(((found & truth).sum(axis=(1, 2)) / np.maximum(union, 1)).tolist())
    model.train()
    return float(np.mean(scores))


def _validation_set(
    roots: Sequence[str | os.PathLike[str]], photos: Sequence[np.ndarray], config: SegmenterTrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed composites of val-split renders (same seed every time, apart from the training stream)."""
    from dlsr.foreground import data

    rng = np.random.default_rng([config.seed, 1])
    paths = data.render_paths(roots, "val")
    chosen = rng.choice(len(paths), size=min(4 * config.val_samples, len(paths)), replace=False)
    cutouts = [data.load_cutout(paths[i]) for i in sorted(chosen)]
    return data.make_batch(cutouts, photos, config.val_samples, config.side, rng)


def _progress(config: SegmenterTrainConfig, step: int, elapsed: float) -> float:
    if config.steps is not None:
        return step / config.steps
    return elapsed / (60 * config.minutes)


def _to_tensor(images: np.ndarray) -> Any:
    """uint8 (B, S, S, 3) -> float32 (B, 3, S, S) in [0, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0)


def _check_same_run(file: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume a run made with other settings; the budget alone may grow (the schedule stretches)."""
    text = json.dumps(settings, indent=2, default=str)
    if file.is_file():
        before, now = json.loads(file.read_text()), json.loads(text)
        for values in (before, now):
            values["config"].pop("minutes", None)
            values["config"].pop("steps", None)
        if before != now:
            raise ConfigError(f"{file.parent}: holds a segmenter run with other settings; use another folder")
    file.write_text(text + "\n")


def _provenance(
    config: SegmenterTrainConfig, roots: list[str], steps: int, seconds: float, val_iou: float
) -> dict[str, Any]:
    import datetime
    import subprocess

    import torch

    from dlsr import __version__
    from dlsr.foreground.data import BENCHMARK_PHOTOS, TRAIN_PHOTOS

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "dlsr_version": __version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "torch_version": torch.__version__,
        "train_config": asdict(config),
        "data": {
            "renders": [f"{root} (train split)" for root in roots],
            "photos": list(TRAIN_PHOTOS),
            "never_used": list(BENCHMARK_PHOTOS),
        },
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "metrics": {"val_mask_iou": round(val_iou, 4), "val_set": "val-split renders on training backgrounds"},
        "licence": "weights: as dlsr; backgrounds: scikit-image sample images (public domain / CC0)",
    }


__all__ = ["SegmenterRun", "SegmenterTrainConfig", "evaluate", "segmentation_loss", "train_segmenter"]
