"""`dlsr data synth`: a dataset of procedural objects (`dlsr.synth.shapes`), rendered, with their ground truth."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlsr.config import config_to_dict
from dlsr.synth.dataset import (
    DatasetReport,
    ObjectResult,
    ObjectTask,
    SynthConfig,
    open_dataset,
    plan_synth,
    shard_tasks,
    write_index,
)
from dlsr.synth.objects import build_in_place, run_jobs, seed_sequence, write_object_files


def synth_object(task: ObjectTask, config: SynthConfig, out: Path) -> ObjectResult:
    """Generate, render and write one procedural object (skipped when already complete)."""

    def build(folder: Path) -> None:
        from dlsr.synth.shapes import generate

        seeds = seed_sequence(config, task)
        (shape_seed,) = seeds.generate_state(1, dtype=np.uint32)
        shape = generate(task.category, int(shape_seed))
        mesh, face_parts = shape.mesh_with_labels()
        write_object_files(folder, mesh, shape.sdf, face_parts, config, seeds)

    return build_in_place(out, task, build)


def make_dataset(
    config: SynthConfig,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    on_item: Callable[[ObjectResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> DatasetReport:
    """Write the procedural dataset `config` into `out` (resumable; see the module docstring).

    Args:
        config: what to make.
        out: the dataset folder (created if missing).
        workers: processes working in parallel.
        shard: (i, n) makes only objects i, i+n, i+2n, ... (a cluster array job runs each i; `write_index`
            merges). Without a shard the index is written at the end.
        on_item: called in this process after each object.
        on_start: called once with the number of objects this run will visit.

    Raises:
        DatasetError: `out` was made with other settings, or is not a folder.
        ConfigError: a bad shard.
    """
    root = open_dataset(Path(out), {"kind": "synth", "config": config_to_dict(config)})
    tasks = plan_synth(config)
    tasks = shard_tasks(tasks, shard)
    report = run_jobs(tasks, root, workers, on_item, on_start, _SynthJob(config, root))
    if shard is None:
        write_index(root)
        report.indexed = True
    return report


@dataclass(frozen=True)
class _SynthJob:
    config: SynthConfig
    out: Path

    def __call__(self, task: ObjectTask) -> ObjectResult:
        return synth_object(task, self.config, self.out)
