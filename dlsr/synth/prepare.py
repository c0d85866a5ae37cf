"""`dlsr data prepare`: users' meshes (ShapeNet v1/v2, Pix3D or any folder), normalised, rendered and given ground
truth in the layout of `dlsr data synth`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlsr.config import config_to_dict
from dlsr.conventions import (
    MESH_EXTENSIONS,
)
from dlsr.errors import DatasetError, MeshError
from dlsr.files import atomic_write
from dlsr.synth.dataset import (
    REPORT_FILE,
    DatasetReport,
    ObjectResult,
    ObjectTask,
    SynthConfig,
    open_dataset,
    write_index,
)
from dlsr.synth.objects import build_in_place, run_jobs, seed_sequence, write_object_files


def prepare_object(task: ObjectTask, config: SynthConfig, out: Path, layout: str) -> ObjectResult:
    """Normalise one user mesh and write its renders and ground truth (skipped when already complete)."""

    def build(folder: Path) -> None:
        from dlsr.groundtruth import MeshField, normalise
        from dlsr.mesh_input import load_mesh, to_shapenet_v1_frame

        mesh = to_shapenet_v1_frame(load_mesh(task.source), layout)  # its errors name the file
        try:
            normalised, loc, scale = normalise(mesh)
            # Real meshes are rarely watertight: distances and inside/outside come from the winding number of the
            # mesh itself, never from ray parity. The search trees are built once and serve every product.
            field = MeshField(normalised)
            seeds = seed_sequence(config, task)
            write_object_files(folder, normalised, field, None, config, seeds, loc=loc, scale=scale)
        except MeshError as exc:
            raise MeshError(f"{task.source}: {exc}") from None

    return build_in_place(out, task, build)


def prepare_dataset(
    meshes: str | os.PathLike[str],
    config: SynthConfig,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    on_item: Callable[[ObjectResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> DatasetReport:
    """Render and write ground truth for every mesh under `meshes` (ShapeNet v1/v2 layouts or any folder).

    Unreadable or empty meshes are skipped and listed, with the reason, in `OUT/prepare-report.json`.

    Raises:
        DatasetError: `meshes` holds no mesh file, or `out` was made with other settings.
    """
    from dlsr.mesh_input import find_meshes

    source = Path(meshes)
    if not source.is_dir():
        raise DatasetError(f"{source}: not a folder; give the folder that holds your meshes")
    entries, layout = find_meshes(source)
    if config.categories:
        entries = [entry for entry in entries if entry.category in config.categories]
    if not entries:
        raise DatasetError(f"{source}: no mesh files ({', '.join(MESH_EXTENSIONS)}) found")
    settings: dict[str, Any] = {
        "kind": "prepared",
        "source": str(source.resolve()),
        "layout": layout,
        "config": config_to_dict(config),
    }
    if any(entry.split for entry in entries):
        # The source's own split (Pix3D's) replaces the 70/10/20 cut, so its held-out models stay held out.
        settings["splits"] = {f"{entry.category}/{entry.model_id}": entry.split for entry in entries}
    root = open_dataset(Path(out), settings)
    tasks = [ObjectTask(entry.category, entry.model_id, index, str(entry.path)) for index, entry in enumerate(entries)]
    report = run_jobs(tasks, root, workers, on_item, on_start, _PrepareJob(config, root, layout))
    failures = [{"mesh": r.task.source, "model_id": r.task.model_id, "reason": r.error} for r in report.failed]
    atomic_write(root / REPORT_FILE, (json.dumps({"skipped": failures}, indent=2) + "\n").encode())
    write_index(root)
    report.indexed = True
    return report


@dataclass(frozen=True)
class _PrepareJob:
    config: SynthConfig
    out: Path
    layout: str

    def __call__(self, task: ObjectTask) -> ObjectResult:
        return prepare_object(task, self.config, self.out, self.layout)
