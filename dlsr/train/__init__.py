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

from dlsr.train.augment import augment_views, batch_generator
from dlsr.train.config import AugmentConfig, RunConfig, TrainConfig, load_run_config, run_config_from_dict
from dlsr.train.export import export_weights
from dlsr.train.loop import TrainReport, lr_factor, make_optimizer, train
from dlsr.train.rundir import RunModel, load_run_model, read_metrics
from dlsr.train.score import IouScores, SplitScores, score_sign_iou, score_split

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
