"""`dlsr train export`: a run's model as a self-describing weights file, with its provenance and licence."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from dlsr import __version__
from dlsr.checkpoint import save_weights
from dlsr.errors import ConfigError
from dlsr.models import count_parameters
from dlsr.train.rundir import load_run_model, read_metrics


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
    provenance = _provenance(folder, which, state, record, count_parameters(model), metrics)
    try:
        return save_weights(
            model, output, preprocess=config.preprocess, provenance=provenance, overwrite=overwrite, half=half,
            level=level,
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(f"export level: {exc}") from None


def _provenance(
    folder: Path,
    which: str,
    state: dict[str, Any],
    record: dict[str, Any],
    parameters: int,
    metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """The `dlsr.provenance` of a run's exported weights: how, on what and how well the model was trained."""
    history = read_metrics(folder)
    seconds = sum(r.get("epoch_seconds", 0.0) for r in history)
    data_record = record.get("data") or {}
    sources = data_record if isinstance(data_record, list) else [data_record]
    kinds = [
        ((source.get("recipe") or {}).get("kind") or "user") if isinstance(source, dict) else "user"
        for source in sources
    ]
    return {
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
        "parameters": parameters,
        "licence": _licence(record.get("data")),
    }


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
