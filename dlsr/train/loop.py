"""The training loop: one image -> SDF network on dataset folders, with the objectives of `dlsr.levelset`.

Every random choice (sample order, augmentation, surface points) is drawn from a generator seeded by
(seed, epoch, step, rank), so a resumed run replays exactly the batches an uninterrupted one would have seen,
and `--resume` needs no saved RNG state: the result is the same bits on the same machine and thread count.

Distributed training: under `torchrun --nproc-per-node K -m dlsr train ...` each process trains on its share of
every batch (`batch_size` is the global batch) through DistributedDataParallel (gloo on CPU, NCCL on CUDA);
validation is split across ranks and summed; only rank 0 writes files (`dlsr.train.rundir` says which).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from dlsr import __version__
from dlsr.checkpoint import model_grid, save_training_state
from dlsr.config import config_to_dict
from dlsr.errors import ConfigError, TrainingError
from dlsr.levelset import compute_loss
from dlsr.models import build_model
from dlsr.sdf import Grid
from dlsr.train.arrays import (
    SplitArrays,
    concatenate_splits,
    evenly_spaced,
    load_split_arrays,
    read_dataset_settings,
    read_split,
)
from dlsr.train.augment import augment_views, batch_generator
from dlsr.train.config import RunConfig, TrainConfig
from dlsr.train.distributed import Distributed, barrier, distributed_context
from dlsr.train.rundir import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    METRICS_FILE,
    append_metrics,
    create_run,
    git_commit,
    load_run_model,
    open_run,
)
from dlsr.train.score import score_sign_iou

ProgressCallback = Callable[[str, int, int], None]  # (description, done, total)


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
        data: dataset folder (`dlsr data synth` layout), or several: their training splits are pooled (on as many
            views per object as the folder with the fewest has, `pooled_views`), and the first folder's
            validation split alone picks the best epoch, so a folder whose validation part is a held-out check
            (Pix3D's) never steers training.
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


@dataclass
class _Position:
    """Where a run stands: `step` steps into epoch `epoch` (both 0-based), and its best validation IoU so far."""

    epoch: int = 0
    step: int = 0
    best_iou: float = -1.0
    best_epoch: int = -1  # the epoch count (1-based) at which best_iou was scored; -1 before any


@dataclass
class _Loop:
    """What the epochs of one run share: built once by `_train`, then advanced by `_run_epoch`."""

    out: Path
    config: RunConfig
    context: Distributed
    model: torch.nn.Module  # the model itself: what is scored and saved
    network: torch.nn.Module  # what the steps call: the model, compiled and/or wrapped for DDP
    optimizer: torch.optim.Optimizer
    scheduler: Any
    train_arrays: SplitArrays
    val_arrays: SplitArrays
    slots: np.ndarray  # the view slots trained on, int64 (V,)
    steps_per_epoch: int
    needs_points: int  # surface points per sample per step (0: the objective needs none)
    grid: Grid
    say: Callable[[str], None]
    progress: ProgressCallback | None  # None on ranks other than 0
    position: _Position
    trained_samples: int = 0
    last_save: float = 0.0  # time.monotonic() of the last save of last.pt


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
    report_progress = progress if (progress and context.is_main) else None
    run_record = _run_record(folders, config, command, context)
    torch.manual_seed(settings.seed)
    model = build_model(settings.arch, config.model)
    grid = model_grid(model.config)
    # Read the starting weights before the run folder is made, so a bad --init leaves nothing behind.
    initial = initial_weights(settings.init, model) if settings.init else None
    state = open_run(out, run_record, resume, context)
    if initial is not None and state is None:
        model.load_state_dict(initial)
    model.to(context.device)
    optimizer = make_optimizer(model, settings)
    train_arrays, val_arrays = _load_arrays(folders, config, grid, context, report_progress)
    slots = evenly_spaced(len(train_arrays.views), settings.train_views or len(train_arrays.views))
    samples = len(train_arrays) * len(slots)
    steps_per_epoch = samples // settings.batch_size
    if steps_per_epoch == 0:
        raise ConfigError(f"train.batch_size {settings.batch_size} exceeds the {samples} training images; lower it")
    if not resume:
        create_run(out, run_record, context)
    total_steps = steps_per_epoch * settings.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, settings))
    say = log if (log and context.is_main) else (lambda _: None)
    position = _restore(state, model, optimizer, scheduler)
    if state is not None:
        say(f"resuming {out} at epoch {position.epoch + 1}, step {position.step}")
    needs_points = settings.surface_points if config.objective.needs_surface_points else 0
    network = _wrap(model, settings, context)
    loop = _Loop(
        out, config, context, model, network, optimizer, scheduler, train_arrays, val_arrays, slots,
        steps_per_epoch, needs_points, grid, say, report_progress, position,
    )  # fmt: skip
    started = time.perf_counter()
    loop.last_save = time.monotonic()
    last_iou = position.best_iou
    model.train()
    while position.epoch < settings.epochs:
        last_iou = _run_epoch(loop)
    seconds = time.perf_counter() - started
    return TrainReport(
        out, position.epoch, position.best_epoch, position.best_iou, last_iou, seconds,
        loop.trained_samples / max(seconds, 1e-9),
    )  # fmt: skip


def _run_record(folders: list[Path], config: RunConfig, command: str | None, context: Distributed) -> dict[str, Any]:
    """run.json: what a resume must match, and what an export records as the weights' provenance."""
    return {
        "dlsr_version": __version__,
        "config": config.to_dict(),
        "data": _data_record(folders),
        "command": command or " ".join(sys.argv),
        "commit": git_commit(),
        "world_size": context.world,
        "device": str(context.device),
    }


def _load_arrays(
    folders: list[Path],
    config: RunConfig,
    grid: Grid,
    context: Distributed,
    progress: ProgressCallback | None,
) -> tuple[SplitArrays, SplitArrays]:
    """The pooled training split of every folder and the validation split of the first one."""
    settings = config.train

    def on_cache(done: int, total: int) -> None:
        if progress:
            progress("preparing images", done, total)

    needs_points = settings.surface_points if config.objective.needs_surface_points else 0
    # Rank 0 builds the image cache while the others wait, then they all read it (no duplicated work or races).
    if not context.is_main:
        barrier(context)
    train_arrays = concatenate_splits([
        load_split_arrays(
            folder, "train", grid=grid, preprocess=config.preprocess, categories=_present(settings.categories, folder),
            views=views, surface_points=4 * needs_points, workers=settings.cache_workers, progress=on_cache,
        )
        for folder, views in zip(folders, pooled_views(folders, settings.categories), strict=True)
    ])  # fmt: skip
    val_views = evenly_spaced(train_arrays.records[0].view_count(), settings.val_views).tolist()
    val_arrays = load_split_arrays(
        folders[0], "val", grid=grid, preprocess=config.preprocess, categories=settings.categories,
        views=val_views, workers=settings.cache_workers, progress=on_cache,
    )  # fmt: skip
    if context.is_main:
        barrier(context)
    return train_arrays, val_arrays


def pooled_views(folders: Sequence[Path], categories: Sequence[str] = ()) -> list[list[int] | None]:
    """The views each folder's training objects contribute to the pool: every view (None) when the folders have
    equally many, else as many as the fewest, evenly spaced in each (a 24-view folder pooled with a 6-view one
    gives views 0, 4, 8, ... 20), so that every object of the pool has the same view slots."""
    counts = [read_split(folder, "train", _present(categories, folder))[0].view_count() for folder in folders]
    fewest = min(counts)
    return [None if count == fewest else evenly_spaced(count, fewest).tolist() for count in counts]


def _restore(
    state: dict[str, Any] | None, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> _Position:
    """Load a resumed run's saved state into the model, optimiser and scheduler; where the run stands."""
    if state is None:
        return _Position()
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return _Position(int(state["epoch"]), int(state["step"]), float(state["best_iou"]), int(state["best_epoch"]))


def _wrap(model: torch.nn.Module, settings: TrainConfig, context: Distributed) -> torch.nn.Module:
    """What the training steps call: `model`, compiled if asked, inside DistributedDataParallel under torchrun."""
    network: torch.nn.Module = model
    if settings.compile:
        network = torch.compile(model)  # type: ignore[assignment]
    if context.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        on_gpu = context.device.type == "cuda"
        network = DistributedDataParallel(network, device_ids=[context.device] if on_gpu else None)
    return network


def _run_epoch(loop: _Loop) -> float:
    """Train the rest of the current epoch, then score, record and save it; its validation IoU."""
    settings, position = loop.config.train, loop.position
    epoch, first = position.epoch, position.step
    samples = len(loop.train_arrays) * len(loop.slots)
    order = torch.randperm(samples, generator=batch_generator(settings.seed, epoch, -1, 0)).numpy()
    sums: dict[str, float] = {}
    epoch_start = time.perf_counter()
    epoch_samples = 0
    for current in range(first, loop.steps_per_epoch):
        terms, loss_value = _train_step(loop, order, epoch, current)
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value
        sums["loss"] = sums.get("loss", 0.0) + loss_value
        epoch_samples += settings.batch_size
        loop.trained_samples += settings.batch_size
        if loop.progress:
            loop.progress(f"epoch {epoch + 1}/{settings.epochs}", current + 1, loop.steps_per_epoch)
        if time.monotonic() - loop.last_save > settings.checkpoint_minutes * 60 and current + 1 < loop.steps_per_epoch:
            _require_finite(loop.model, loop.out, epoch, current, settings.lr)
            _save_state(loop, loop.out / LAST_CHECKPOINT, epoch, current + 1)
            loop.last_save = time.monotonic()
    train_means = {key: value / max(1, loop.steps_per_epoch - first) for key, value in sums.items()}
    return _end_epoch(loop, train_means, epoch_samples, time.perf_counter() - epoch_start)


def _train_step(loop: _Loop, order: np.ndarray, epoch: int, current: int) -> tuple[dict[str, float], float]:
    """One optimiser step on batch `current` of the epoch's sample `order`; the loss terms and the loss."""
    settings, context = loop.config.train, loop.context
    generator = batch_generator(settings.seed, epoch, current, context.rank)
    images, target, points = _batch(loop, order, current, generator)
    autocast = context.device.type == "cuda"  # bf16 only pays on GPUs (it is ~15x slower on AVX2 CPUs)
    with torch.autocast(context.device.type, dtype=torch.bfloat16, enabled=autocast):
        phi = loop.network(images)
    result = compute_loss(loop.config.objective, phi.float(), target, loop.grid, points)
    loss_value = float(result.loss.detach())
    # Checked before the step, so the weights stay those of the last save. Under torchrun the other
    # ranks wait in backward's all-reduce until torchrun stops them when this one exits.
    if not math.isfinite(loss_value):
        raise _diverged(loop.out, f"the loss became {loss_value}", epoch, current, settings.lr)
    loop.optimizer.zero_grad(set_to_none=True)
    result.loss.backward()
    loop.optimizer.step()
    loop.scheduler.step()
    return result.terms, loss_value


def _batch(
    loop: _Loop, order: np.ndarray, current: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """This rank's share of batch `current`: augmented images float32 (b, 3, S, S), true SDF grids
    float32 (b, R, R, R) and surface points float32 (b, P, 3) or None, on the run's device."""
    settings, context, arrays = loop.config.train, loop.context, loop.train_arrays
    per_rank = settings.batch_size // context.world
    views = len(loop.slots)
    chosen = order[current * settings.batch_size : (current + 1) * settings.batch_size]
    chosen = chosen[context.rank * per_rank : (context.rank + 1) * per_rank]
    objects, chosen_slots = chosen // views, loop.slots[chosen % views]
    cached = torch.from_numpy(np.ascontiguousarray(arrays.images[objects, chosen_slots]))
    background = loop.config.preprocess.background
    images = augment_views(cached, loop.config.augment, generator, background).to(context.device)
    target = torch.from_numpy(arrays.sdf[objects]).to(context.device)
    points = None
    if loop.needs_points:
        pool = arrays.surface_points.shape[1]
        pick = torch.randint(pool, (len(objects), loop.needs_points), generator=generator).numpy()
        points = torch.from_numpy(arrays.surface_points[objects[:, None], pick]).to(context.device)
    return images, target, points


def _end_epoch(loop: _Loop, train_means: dict[str, float], samples: int, seconds: float) -> float:
    """Score the finished epoch on the validation split, append its metrics record, save last.pt (and best.pt
    when it improved) and log one line; its validation IoU."""
    settings, position = loop.config.train, loop.position
    _require_finite(loop.model, loop.out, position.epoch, loop.steps_per_epoch - 1, settings.lr)  # before saving
    scores = score_sign_iou(loop.model, loop.val_arrays, context=loop.context)
    last_iou = scores.class_mean
    position.epoch += 1
    position.step = 0
    improved = last_iou > position.best_iou
    if improved:
        position.best_iou, position.best_epoch = last_iou, position.epoch
    record = {
        "epoch": position.epoch,
        "steps": position.epoch * loop.steps_per_epoch,
        "lr": loop.optimizer.param_groups[0]["lr"],
        "train": train_means,
        "val_iou": last_iou,
        "val_iou_instance": scores.instance_mean,
        "val_iou_by_category": scores.by_category(),
        "samples_per_second": samples / max(seconds, 1e-9),
        "epoch_seconds": seconds,
    }
    if loop.context.is_main:
        append_metrics(loop.out / METRICS_FILE, record)
    _save_state(loop, loop.out / LAST_CHECKPOINT, position.epoch, 0)
    if improved:
        _save_state(loop, loop.out / BEST_CHECKPOINT, position.epoch, 0)
    loop.last_save = time.monotonic()
    loop.say(
        f"epoch {position.epoch}/{settings.epochs}: loss {train_means.get('loss', float('nan')):.5g}, "
        f"val IoU {last_iou:.4f} (best {position.best_iou:.4f} at epoch {position.best_epoch}), "
        f"{record['samples_per_second']:.1f} samples/s"
    )
    return last_iou


def _save_state(loop: _Loop, path: Path, epoch: int, step: int) -> None:
    """Write a resumable state (rank 0, atomically); every rank waits for it."""
    if loop.context.is_main:
        position = loop.position
        save_training_state(
            path, loop.model, loop.optimizer, loop.scheduler,
            epoch=epoch, step=step, best_iou=position.best_iou, best_epoch=position.best_epoch,
        )  # fmt: skip
    barrier(loop.context)


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

    A source with the same architecture and [model] settings gives all its tensors. A `dlsr-lite` source that the
    run's model extends, by new decoder stages on a finer grid or by wider decoder stages, is grown
    (`dlsr.models.grow_state_dict`): everything it learned is kept, new stages and added channels start fresh.

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
        "this run's extends to a finer grid or widens)"
    )


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
