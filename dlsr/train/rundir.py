"""A run folder on disk: run.json, metrics.jsonl and the checkpoints, and the model of a finished run.

    OUT/run.json        the resolved configuration, data recipe and command (a resume must match it, except
                        the machine settings, `MACHINE_SETTINGS`)
    OUT/last.pt         the latest state: model, optimiser, scheduler, epoch and step (every epoch, and every
                        `checkpoint_minutes` inside one)
    OUT/best.pt         the state with the best validation IoU so far
    OUT/metrics.jsonl   one JSON record per epoch: losses, validation IoU (mean and per category), rate

The states are `dlsr.checkpoint` training states.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dlsr.checkpoint import read_training_state
from dlsr.errors import ConfigError
from dlsr.files import atomic_write, check_creatable, make_folder
from dlsr.models import build_model
from dlsr.train.config import RunConfig, run_config_from_dict
from dlsr.train.distributed import Distributed, barrier

RUN_FILE = "run.json"
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
METRICS_FILE = "metrics.jsonl"
_PACKAGE = Path(__file__).resolve().parents[1]  # the dlsr package, whose commit a run records
MACHINE_SETTINGS = ("threads", "cache_workers", "checkpoint_minutes")
"""[train] settings that decide how a run uses this machine, not what it computes: a resume may change them (for
example fewer threads when another job shares the cores). The sample order and the schedule do not depend on them;
only float rounding in torch's parallel reductions does."""


def _result_settings(config: Any) -> Any:
    """A run record's configuration as this dlsr reads it, without `MACHINE_SETTINGS`: what a resume must match.

    Read through `run_config_from_dict`, a run.json written before a setting existed gets that setting's default,
    which is what the run used; a record this dlsr cannot read is returned as it is (and so matches nothing).
    """
    if not isinstance(config, dict):
        return config
    try:
        resolved = json.loads(json.dumps(run_config_from_dict(config).to_dict()))
    except ConfigError:
        return config
    train = {key: value for key, value in resolved["train"].items() if key not in MACHINE_SETTINGS}
    return {**resolved, "train": train}


def open_run(out: Path, record: dict[str, Any], resume: bool, context: Distributed) -> dict[str, Any] | None:
    """Check the run folder for a new run or a resume, writing nothing; the last state to resume from, if any.

    A new run's folder is made by `create_run` only once the data and settings have passed their checks, so a
    start that fails leaves nothing behind to block the corrected rerun.

    A resume continues from last.pt. Without last.pt it starts again from epoch 1 only when the run has made no
    progress at all (no metrics.jsonl, no best.pt: it stopped before its first checkpoint); otherwise starting
    again would overwrite finished epochs and the best model, so it is refused.
    """
    run_file = out / RUN_FILE
    if resume:
        if not run_file.is_file():
            raise ConfigError(f"{out}: nothing to resume (no {RUN_FILE}); start the run without --resume")
        saved = read_run_record(run_file)
        if _result_settings(saved.get("config")) != _result_settings(record["config"]):
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
            return read_training_state(last)
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


def create_run(out: Path, record: dict[str, Any], context: Distributed) -> None:
    """Make the run folder and write its run.json (rank 0); every rank waits for it."""
    barrier(context)  # every rank has looked at the folder before rank 0 writes into it
    if context.is_main:
        make_folder(out)
        atomic_write(out / RUN_FILE, (json.dumps(record, indent=2) + "\n").encode())
    barrier(context)


def read_run_record(run_file: Path) -> dict[str, Any]:
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


def append_metrics(path: Path, record: dict[str, Any]) -> None:
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


def git_commit() -> str | None:
    """The commit of the dlsr checkout this runs from (None outside a git checkout)."""
    try:
        found = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_PACKAGE, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if found.returncode != 0 or not found.stdout.strip():
        return None
    # Uncommitted changes to the package make the commit alone an incomplete record.
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=_PACKAGE, capture_output=True, text=True)
    return found.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


@dataclass
class RunModel:
    """A run folder's model at one of its checkpoints, with the settings it was trained with."""

    model: torch.nn.Module  # in train mode, on the CPU
    config: RunConfig
    state: dict[str, Any]  # the training state (`dlsr.checkpoint.read_training_state`)
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
    record = read_run_record(run_file)
    config = run_config_from_dict(record["config"], str(run_file))
    checkpoint = folder / (BEST_CHECKPOINT if which == "best" else LAST_CHECKPOINT)
    state = read_training_state(checkpoint)
    model = build_model(state["arch"], state["model_config"])
    model.load_state_dict(state["model"])
    return RunModel(model, config, state, record, checkpoint)
