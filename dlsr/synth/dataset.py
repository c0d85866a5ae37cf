"""A dataset folder: its settings, plan, splits and index; procedural objects (`dlsr data synth`) and users'
meshes (`dlsr data prepare`) share one layout.

Both commands write the layout below, which follows the conventions of the datasets users already have
(ShapeNet's `<synset>/<id>/` folders, 3D-R2N2's renderings and binvox, Occupancy Networks' npz files and
`.lst` splits), so the readers and the evaluation treat our data and theirs alike::

    OUT/
      dataset.json                  the settings OUT is made with; a rerun with other settings is refused
      metadata.json                 categories, counts, splits, versions (written by the index step)
      <synset>/
        train.lst val.lst test.lst  model ids, one per line
        <model_id>/
          model.obj                 one mesh in the normalised frame (watertight for procedural objects)
          sdf.npz                   the SDF on the model's grid (see `dlsr.sdf.sdf_archive`)
          points.npz                occupancy samples, ONet's format (`dlsr.groundtruth.occupancy_samples`)
          pointcloud.npz            surface samples with normals, ONet's format
          model.binvox              voxels, 3D-R2N2's axis order (`dlsr.binvox`)
          rendering/00.png ...      RGBA views with 3D-R2N2's camera model, `rendering_metadata.txt`, `renderings.txt`

Every object is written into a temporary folder and renamed into place when complete, so an interrupted run
leaves nothing half-written and a rerun of the same command skips finished objects. Objects, splits and arrays
depend only on the settings and the seed: the same command gives byte-identical arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlsr.config import config_from_dict
from dlsr.conventions import (
    CATEGORIES,
    DEFAULT_POINTS,
    METADATA_FILE,
    R2N2_IMAGE_SIZE,
    R2N2_VIEWS,
    SETTINGS_FILE,
    SPLITS,
)
from dlsr.errors import ConfigError, DatasetError
from dlsr.files import atomic_write, make_folder
from dlsr.sdf import DEFAULT_BOUND

SYNTH_VERSION = "1"
"""Version of the procedural generators and of this layout; recorded in every dataset."""

APPEARANCES = ("materials", "flat")
"""Looks of the renderings: realistic random materials and patterns (`dlsr.synth.materials`, the default), or one flat
random colour per part (the look of datasets made before the setting existed)."""
REPORT_FILE = "prepare-report.json"


@dataclass(frozen=True)
class SynthConfig:
    """What a dataset folder holds; recorded in `dataset.json` and `metadata.json`."""

    categories: tuple[str, ...] = ()  # synset ids; empty means all 13 (procedural) or every category found (prepare)
    per_category: int = 100  # procedural objects per category (ignored by prepare)
    views: int = R2N2_VIEWS  # renderings per object
    image_size: int = R2N2_IMAGE_SIZE  # side of each rendering, pixels (3D-R2N2's)
    sdf_resolution: int = 32  # samples per axis of the ground-truth SDF grid
    sdf_bound: float = DEFAULT_BOUND  # half side of the SDF grid cube (dlsr.sdf.Grid)
    voxel_resolution: int = 32  # voxels per axis of model.binvox
    points: int = DEFAULT_POINTS  # occupancy samples in points.npz
    near_surface_fraction: float = 0.5  # share of points.npz sampled near the surface (the rest uniform)
    surface_points: int = DEFAULT_POINTS  # surface samples in pointcloud.npz
    split: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test fractions of each category
    seed: int = 0  # the one seed everything is drawn from
    appearance: str = "materials"  # renders' look: "materials" (dlsr.synth.materials) or "flat" (a colour per part)

    def __post_init__(self) -> None:
        for name in ("per_category", "views", "image_size", "voxel_resolution", "points", "surface_points"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.sdf_resolution < 2:
            raise ConfigError(f"sdf_resolution must be at least 2, got {self.sdf_resolution}")
        if len(self.split) != 3 or min(self.split) < 0 or abs(sum(self.split) - 1.0) > 1e-6:
            raise ConfigError(f"split must be three fractions (train, val, test) summing to 1, got {self.split}")
        if self.seed < 0:
            raise ConfigError(f"seed must be non-negative, got {self.seed}")
        if self.appearance not in APPEARANCES:
            raise ConfigError(f"appearance must be one of {', '.join(APPEARANCES)}, got {self.appearance!r}")


@dataclass(frozen=True)
class ObjectTask:
    """One object to write: where it goes and what it is made from."""

    category: str  # synset id
    model_id: str
    index: int  # position within its category (procedural) or in the mesh list (prepare)
    source: str = ""  # the mesh file (prepare); empty for procedural objects


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object."""

    task: ObjectTask
    status: str  # "written", "skipped" (already complete) or "failed"
    seconds: float = 0.0
    error: str = ""


@dataclass
class DatasetReport:
    """Counts of a synth or prepare run."""

    out: Path
    planned: int = 0
    written: int = 0
    skipped: int = 0
    failed: list[ObjectResult] = field(default_factory=list)
    seconds: float = 0.0
    indexed: bool = False


def object_id(seed: int, category: str, index: int) -> str:
    """A stable id for procedural object `index` of `category` (16 hex digits, like a short ShapeNet id)."""
    return hashlib.sha1(f"dlsr-synth-v{SYNTH_VERSION}/{seed}/{category}/{index}".encode()).hexdigest()[:16]


def plan_synth(config: SynthConfig) -> list[ObjectTask]:
    """Every procedural object of `config`, category by category."""
    categories = config.categories or tuple(CATEGORIES)
    return [
        ObjectTask(category, object_id(config.seed, category, index), index)
        for category in categories
        for index in range(config.per_category)
    ]


def split_ids(model_ids: Sequence[str], fractions: tuple[float, float, float]) -> dict[str, list[str]]:
    """3D-R2N2's rule, extended with a validation part: sort the ids, then cut train | val | test."""
    ordered = sorted(model_ids)
    n_train = round(fractions[0] * len(ordered))
    n_val = round(fractions[1] * len(ordered))
    return {
        "train": ordered[:n_train],
        "val": ordered[n_train : n_train + n_val],
        "test": ordered[n_train + n_val :],
    }


def write_index(out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the split lists and `metadata.json` of a dataset folder from the objects it holds.

    For a procedural dataset every planned object must be present (after all shards of an array job ran);
    for prepared meshes, the objects that were written are indexed and the skipped ones are left out.

    Returns:
        The metadata written.

    Raises:
        DatasetError: not a dataset folder, or planned objects are missing.
    """
    from dlsr import __version__

    root = Path(out)
    settings = read_settings(root)
    config = config_from_dict(SynthConfig, settings["config"], what=f"{root / SETTINGS_FILE} config")
    ids = _indexed_ids(root, settings["kind"], config)
    categories: dict[str, dict[str, Any]] = {}
    given = settings.get("splits")
    for category, models in ids.items():
        if isinstance(given, dict):
            parts = {split: [m for m in models if given.get(f"{category}/{m}") == split] for split in SPLITS}
        else:
            parts = split_ids(models, config.split)
        for split, members in parts.items():
            atomic_write(root / category / f"{split}.lst", "".join(f"{m}\n" for m in members).encode())
        categories[category] = {
            "name": CATEGORIES.get(category, category),
            "count": len(models),
            **{split: len(members) for split, members in parts.items()},
        }
    metadata = {
        "dlsr_version": __version__,
        "synth_version": SYNTH_VERSION,
        **settings,
        "categories": categories,
        "total": sum(c["count"] for c in categories.values()),
    }
    atomic_write(root / METADATA_FILE, (json.dumps(metadata, indent=2) + "\n").encode())
    return metadata


def _indexed_ids(root: Path, kind: str, config: SynthConfig) -> dict[str, list[str]]:
    """The model ids to index per category: every planned one (procedural; all must be present), or the object
    folders that were written (prepared meshes)."""
    if kind == "synth":
        tasks = plan_synth(config)
        missing = [t for t in tasks if not (root / t.category / t.model_id).is_dir()]
        if missing:
            raise DatasetError(
                f"{root}: {len(missing)} of {len(tasks)} objects are missing (e.g. {missing[0].category}/"
                f"{missing[0].model_id}); run the remaining shards, or rerun `dlsr data synth` with the same settings"
            )
        ids: dict[str, list[str]] = {}
        for task in tasks:
            ids.setdefault(task.category, []).append(task.model_id)
        return ids
    ids = {
        folder.name: sorted(
            child.name for child in folder.iterdir() if child.is_dir() and not child.name.startswith(".")
        )
        for folder in sorted(root.iterdir())
        if folder.is_dir() and not folder.name.startswith(".")
    }
    return {category: models for category, models in ids.items() if models}


def read_settings(root: Path) -> dict[str, Any]:
    """The `dataset.json` of a dataset folder.

    Raises:
        DatasetError: missing or unreadable.
    """
    path = root / SETTINGS_FILE
    try:
        settings = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DatasetError(
            f"{root}: not a dlsr dataset folder (no {SETTINGS_FILE}); make it with dlsr data synth"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc}); delete the folder and make it again") from exc
    if not isinstance(settings, dict) or "kind" not in settings or "config" not in settings:
        raise DatasetError(f"{path}: not a dlsr dataset settings file")
    return settings


def shard_tasks(tasks: list[ObjectTask], shard: tuple[int, int] | None) -> list[ObjectTask]:
    if shard is None:
        return tasks
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"shard {index}/{count}: need 0 <= i < n")
    return tasks[index::count]


def open_dataset(root: Path, settings: dict[str, Any]) -> Path:
    """Create `root` (or reopen it for a resume) and pin its settings in `dataset.json`."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root}: exists and is not a folder; choose another output folder")
    make_folder(root)  # under a file or an unwritable parent: one line naming the folder, not mkdir's traceback
    path = root / SETTINGS_FILE
    settings = json.loads(json.dumps(settings))  # as it reads back from disk (tuples become lists)
    if path.exists():
        existing = read_settings(root)
        if existing != settings:
            raise DatasetError(
                f"{root}: was made with other settings ({path}); resume with the same options or use a new folder"
            )
    else:
        atomic_write(path, (json.dumps(settings, indent=2) + "\n").encode())
    return root
