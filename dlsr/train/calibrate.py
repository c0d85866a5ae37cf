"""Calibrating the iso-level at which a model's surface is taken, by measurement on a validation split.

A level-set model trained at 32³ keeps its SDF a little positive across parts thinner than a voxel (table tops,
legs, wings): the sign of the grid never turns negative there, so the zero level set drops them and whole thin
objects come out empty. Taking the surface at a small positive level recovers them, at the cost of thickening
bulky parts. `calibrate_level` scores a few candidate levels with `dlsr.eval` on a split the model was not
trained on and picks the one with the best class-mean F-score at 1 %, the metric that rewards getting every part
in the right place without rewarding bloat; `dlsr train export --level` then stores it in the weights. Given
several datasets (say the validation splits of procedural and of real shapes), it takes the level with the best
mean of their class-mean F-scores, so each source counts alike whatever its size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_LEVELS_IN_VOXELS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Candidate levels, in grid spacings of the model's output (0.5 voxel is 0.0177 at 32³ over ±0.55)."""

CRITERION = "fscore@0.01"


@dataclass(frozen=True)
class LevelScore:
    """The class means of one candidate level on one dataset."""

    level: float  # world units
    voxels: float  # the same in grid spacings
    means: dict[str, float | None]  # dlsr.eval's class means (iou, chamfer_l1, fscore@0.01, ...)
    empty: int  # empty predictions
    count: int  # samples scored
    data: str = ""  # the dataset folder

    @property
    def criterion(self) -> float:
        """The class-mean F@1 % (0 when nothing could be scored)."""
        return self.means.get(CRITERION) or 0.0


@dataclass(frozen=True)
class Calibration:
    """Every candidate's scores (dataset by dataset, in the order scored) and the chosen level."""

    scores: list[LevelScore]
    best: LevelScore  # the chosen level's score on the first dataset

    def pooled(self, level: float) -> float:
        """The criterion of one candidate level, averaged over the datasets."""
        return _pooled(self.scores, level)

    def summary(self) -> dict[str, Any]:
        """JSON-able: the chosen level, the criterion and every candidate's class means on every dataset."""
        return {
            "criterion": CRITERION,
            "level": self.best.level,
            "voxels": self.best.voxels,
            "pooled": {str(s.voxels): self.pooled(s.level) for s in self.scores},
            "candidates": [
                {"data": s.data, "level": s.level, "voxels": s.voxels, "empty": s.empty, "count": s.count, **s.means}
                for s in self.scores
            ],
        }


def calibrate_level(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    weights: str | os.PathLike[str] | None,
    *,
    split: str = "val",
    views: Sequence[int] | None = (0,),
    limit: int | None = None,
    levels_in_voxels: Sequence[float] = DEFAULT_LEVELS_IN_VOXELS,
    workers: int | None = None,
    device: str = "auto",
    on_level: Callable[[LevelScore], None] | None = None,
) -> Calibration:
    """Score `weights` on a dataset split at each candidate level and pick the best by class-mean F@1 % (the
    mean over datasets when there are several).

    Args:
        data: a dataset folder `dlsr eval` reads, or several (not the ones that will report the final numbers).
        weights: a weights file, or None for the default weights.
        split: the split to calibrate on.
        views: views per object (None: all).
        limit: samples per category (None: all).
        levels_in_voxels: candidate levels in grid spacings of the model's output.
        workers: processes for meshing and metrics (None: one per CPU).
        device: where the network runs.
        on_level: called with each candidate's scores on each dataset as it is done.

    Raises:
        ConfigError, DatasetError, WeightsError: as `dlsr.eval.evaluate`.
    """
    from dlsr.checkpoint import find_weights, read_weights_info
    from dlsr.eval import EvalConfig, evaluate
    from dlsr.eval.layouts import detect_layout

    path = find_weights(weights)
    spacing = read_weights_info(path).grid.spacing
    folders = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    for dataset in folders:  # every folder is checked before any is scored: a typo in the last costs no minutes
        detect_layout(dataset)
    base = EvalConfig(split=split, views=tuple(views) if views is not None else None, limit=limit)
    scores = []
    with tempfile.TemporaryDirectory(prefix="dlsr-calibrate-") as folder:
        for source, dataset in enumerate(folders):
            for number, voxels in enumerate(levels_in_voxels):
                config = replace(base, level=float(voxels) * spacing)
                run = evaluate(
                    dataset, Path(folder) / f"{source}-{number}.jsonl", config, weights=path, device=device,
                    workers=workers, frame_check=number == 0,
                )  # fmt: skip
                score = LevelScore(
                    level=float(voxels) * spacing,
                    voxels=float(voxels),
                    means=dict(run.summary["class_mean"]),
                    empty=int(run.summary["empty"]),
                    count=int(run.summary["count"]),
                    data=str(dataset),
                )
                scores.append(score)
                if on_level is not None:
                    on_level(score)
    first = scores[: len(levels_in_voxels)]
    best = max(first, key=lambda s: _pooled(scores, s.level))  # ties: the lowest level, listed first
    return Calibration(scores, best)


def _pooled(scores: Sequence[LevelScore], level: float) -> float:
    """The criterion at one level, averaged over the datasets scored."""
    values = [score.criterion for score in scores if score.level == level]
    return sum(values) / len(values)
