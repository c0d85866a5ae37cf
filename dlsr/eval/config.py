"""What an evaluation scores and how (`EvalConfig`), and the names its records use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dlsr.conventions import AUTO_PROTOCOL, DEFAULT_MESH_RESOLUTION, DEFAULT_POINTS, PROTOCOLS, either
from dlsr.errors import ConfigError
from dlsr.eval.truth import ALIGNMENTS

FORMAT = "dlsr-eval/1"
STATUSES = ("ok", "empty", "failed", "error")
TABLE_METRICS = (
    "iou",
    "chamfer_l1",
    "chamfer_l2",
    "normal_consistency",
    "fscore@0.01",
    "fscore@0.02",
    "topology_match",
)
"""The summary's columns, in order; means over the samples that have a value."""

VOXEL_EXTENSIONS = (".binvox", ".npy")
"""Voxel predictions: a binvox file, or a numpy (D, D, D) array of occupancy probabilities indexed [x][y][z], on
the ground truth's own voxel grid (3D-R2N2's 32^3 for its layout)."""


@dataclass(frozen=True)
class EvalConfig:
    """Everything that decides the numbers of an evaluation (recorded in every output; resume checks it)."""

    protocol: str = "onet"  # IoU protocol: "onet" (100k points in the padded box), "r2n2" (32^3 voxels) or "auto"
    split: str = "test"  # train, val, test, or all (layouts without split lists)
    categories: tuple[str, ...] = ()  # synset ids or names; empty = all
    views: tuple[int, ...] | None = None  # view positions per object; None = all
    limit: int | None = None  # keep the first N samples of each category (before sharding)
    layout: str | None = None  # None = detect
    split_file: str | None = None  # r2n2 / pix3d: explicit split
    align: str = "none"  # a dlsr.eval.truth.ALIGNMENTS name applied to predictions
    points: int = DEFAULT_POINTS  # surface samples per mesh
    iou_points: int = DEFAULT_POINTS  # uniform IoU points (protocol onet)
    thresholds: tuple[float, ...] = (0.01, 0.02)  # F-score distances, fractions of the box side
    mesh_resolution: int = DEFAULT_MESH_RESOLUTION  # marching cubes on the SDF resampled to this
    level: float | None = None  # iso-level of the predicted surface; None: the weights' calibrated level
    seed: int = 0
    predictions: str | None = None  # folder of another tool's meshes (or voxel grids) instead of running the model
    voxel_threshold: float = 0.5  # voxel predictions (.npy probabilities): occupied where >= this

    def __post_init__(self) -> None:
        if self.protocol not in (*PROTOCOLS, AUTO_PROTOCOL):
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose {either((*PROTOCOLS, AUTO_PROTOCOL))}")
        if self.align not in ALIGNMENTS:
            raise ConfigError(f"unknown alignment {self.align!r}; choose one of {', '.join(ALIGNMENTS)}")
        if self.points < 1 or self.iou_points < 1:
            raise ConfigError(f"points and iou_points must be positive, got {self.points}, {self.iou_points}")
        if self.views is not None:
            _refuse_repeated_views(self.views)
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1, got {self.limit}")
        if self.mesh_resolution < 2:
            raise ConfigError(f"mesh_resolution must be at least 2, got {self.mesh_resolution}")
        if self.level is not None and not math.isfinite(self.level):
            raise ConfigError(f"level must be a finite iso-level in world units, got {self.level}")
        if not 0.0 < self.voxel_threshold <= 1.0:
            raise ConfigError(f"voxel_threshold must be in (0, 1], got {self.voxel_threshold}")


def parse_views(text: str | None) -> tuple[int, ...] | None:
    """'all' or None -> None; '0,6,12' -> (0, 6, 12).

    Raises:
        ConfigError: not 'all' or comma-separated non-negative integers.
    """
    if text is None or text.strip().lower() == "all":
        return None
    try:
        views = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--views {text!r}: expected 'all' or view numbers like 0,6,12") from None
    if not views or min(views) < 0:
        raise ConfigError(f"--views {text!r}: expected 'all' or non-negative view numbers like 0,6,12")
    _refuse_repeated_views(views)
    return views


def _refuse_repeated_views(views: Sequence[int]) -> None:
    """A view given twice would be scored twice: two records with one key, counted twice in the means."""
    repeated = sorted({view for view in views if list(views).count(view) > 1})
    if repeated:
        listed = ",".join(str(view) for view in views)
        raise ConfigError(f"--views {listed}: view {repeated[0]} is given twice; name each view once")
