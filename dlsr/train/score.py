"""Sign IoU of a model on a dataset split: the validation score of each epoch and `dlsr train score`."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dlsr.checkpoint import model_grid
from dlsr.conventions import CATEGORIES
from dlsr.errors import ConfigError
from dlsr.metrics import iou_sdf
from dlsr.train.arrays import SplitArrays, evenly_spaced, load_split_arrays, read_split
from dlsr.train.augment import to_network_input
from dlsr.train.distributed import Distributed, all_reduce_sum
from dlsr.train.rundir import load_run_model


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
    result = all_reduce_sum(result, context)
    model.train(was_training)
    return IouScores(result.numpy().reshape(count, views), [r.category for r in arrays.records])


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
        records_views = evenly_spaced(read_split(data, split, categories)[0].view_count(), views).tolist()
    arrays = load_split_arrays(
        data, split, grid=grid, preprocess=preprocess, categories=categories, views=records_views, workers=2
    )
    scores = score_sign_iou(model, arrays, device=target, level=level)
    return SplitScores(
        scores, str(Path(data).resolve()), split, source, list(arrays.views), grid.resolution, float(level)
    )


# Export
