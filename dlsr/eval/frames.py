"""The frame check: do another tool's predictions sit in the ground truth's frame, or fit far better after an
alignment?"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dlsr.errors import ConfigError, DlsrError
from dlsr.eval.score import Job, cached_truth, predicted
from dlsr.eval.truth import ALIGNMENTS, object_seed

FRAME_CHECK_SAMPLES = 5
"""How many samples the frame check looks at before scoring starts."""
FRAME_CHECK_POINTS = 2048
FRAME_CHECK_RATIO = 0.5
"""An alignment is reported when its Chamfer-L1 is below this fraction of the chosen one's on most checked samples."""


def frame_hint(pred_points: np.ndarray, true_points: np.ndarray) -> tuple[str, dict[str, float]]:
    """Which alignment of `pred_points` (N, 3) fits `true_points` (M, 3) best, by Chamfer-L1.

    Returns:
        (best alignment name, Chamfer-L1 under every alignment of `dlsr.eval.truth.ALIGNMENTS`).
    """
    from dlsr.nearest import nearest

    distances = {}
    for name, matrix in ALIGNMENTS.items():
        moved = pred_points @ matrix.T
        distances[name] = 0.5 * float(nearest(moved, true_points)[0].mean() + nearest(true_points, moved)[0].mean())
    return min(distances, key=lambda name: distances[name]), distances


def check_frames(jobs: Iterable[Job]) -> None:
    """Refuse to score when most of the first samples fit the truth far better under another alignment.

    Raises:
        ConfigError: naming the alignment that fits, and how much better.
    """
    from dlsr.sampling import sample_surface

    votes: dict[str, list[tuple[float, float]]] = {}
    checked = 0
    current = "none"
    for job in jobs:
        current = job.config.align
        if job.error is not None:
            continue
        try:
            truth = cached_truth(job.sample.truth, job.config.points, job.config.iou_points, job.config.seed)
            mesh = predicted(job, truth).mesh
        except DlsrError:
            continue  # scoring reports these; the check only needs the samples that work
        if mesh is None or len(mesh.faces) == 0 or not float(mesh.area) > 0:
            continue
        rng = object_seed(job.config.seed, "frame-check/" + job.sample.key)
        pred = sample_surface(mesh, FRAME_CHECK_POINTS, rng)[0]
        pick = rng.choice(len(truth.surface_points), size=min(FRAME_CHECK_POINTS, len(truth.surface_points)))
        best, distances = frame_hint(pred, truth.surface_points[pick])
        checked += 1
        if best != "none" and distances[best] < FRAME_CHECK_RATIO * distances["none"]:
            votes.setdefault(best, []).append((distances["none"], distances[best]))
    for name, pairs in votes.items():
        if checked and len(pairs) * 2 > checked:
            as_is = float(np.mean([a for a, _ in pairs]))
            better = float(np.mean([b for _, b in pairs]))
            raise ConfigError(
                f"the predictions do not sit in the ground truth's frame: on {len(pairs)} of the first {checked} "
                f"samples Chamfer-L1 is {as_is:.4f} as aligned (--align {current}) but {better:.4f} after a further "
                f"{name}; pass the alignment that makes them agree (e.g. --align {name} when starting from none), "
                "or --no-frame-check to score them as they are"
            )
