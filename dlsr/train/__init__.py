"""Training: `dlsr train` and its `score`, `export` and `calibrate` subcommands.

    config.py       TrainConfig, AugmentConfig, RunConfig: the TOML tables of a run, parsed and checked
    augment.py      training-time image augmentation, drawn from per-batch generators
    arrays.py       dataset splits on disk as training arrays (images, SDF grids, surface points), and their cache
    distributed.py  the process group of a torchrun run
    loop.py         the epoch and step loop: `train`
    rundir.py       the run folder: run.json, metrics.jsonl, last.pt / best.pt, the model of a run
    score.py        sign IoU of a model on a split: validation and `dlsr train score`
    export.py       a run's model as a weights file: `dlsr train export`
    calibrate.py    the iso-level a model's surface is taken at, measured on validation splits: `dlsr train calibrate`

The on-disk formats of weights and training states are `dlsr.checkpoint`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlsr.train.augment import augment_views, batch_generator
    from dlsr.train.config import AugmentConfig, RunConfig, TrainConfig, load_run_config, run_config_from_dict
    from dlsr.train.export import export_weights
    from dlsr.train.loop import TrainReport, lr_factor, make_optimizer, train
    from dlsr.train.rundir import RunModel, load_run_model, read_metrics
    from dlsr.train.score import IouScores, SplitScores, score_sign_iou, score_split

# Loaded on first use, so that `dlsr.train.arrays` (dataset splits, which evaluation reads too) does not import
# torch through this package.
_EXPORTS = {
    "augment_views": "dlsr.train.augment",
    "batch_generator": "dlsr.train.augment",
    "AugmentConfig": "dlsr.train.config",
    "RunConfig": "dlsr.train.config",
    "TrainConfig": "dlsr.train.config",
    "load_run_config": "dlsr.train.config",
    "run_config_from_dict": "dlsr.train.config",
    "export_weights": "dlsr.train.export",
    "TrainReport": "dlsr.train.loop",
    "lr_factor": "dlsr.train.loop",
    "make_optimizer": "dlsr.train.loop",
    "train": "dlsr.train.loop",
    "RunModel": "dlsr.train.rundir",
    "load_run_model": "dlsr.train.rundir",
    "read_metrics": "dlsr.train.rundir",
    "IouScores": "dlsr.train.score",
    "SplitScores": "dlsr.train.score",
    "score_sign_iou": "dlsr.train.score",
    "score_split": "dlsr.train.score",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups (and monkeypatching) see a plain attribute
        return value
    raise AttributeError(f"module 'dlsr.train' has no attribute {name!r}")


__all__ = [
    "AugmentConfig",
    "IouScores",
    "RunConfig",
    "RunModel",
    "SplitScores",
    "TrainConfig",
    "TrainReport",
    "augment_views",
    "batch_generator",
    "export_weights",
    "load_run_config",
    "load_run_model",
    "lr_factor",
    "make_optimizer",
    "read_metrics",
    "run_config_from_dict",
    "score_sign_iou",
    "score_split",
    "train",
]
