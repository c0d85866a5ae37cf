"""The object of a photo by the shipped foreground segmenter (`--background learned`).

`learned_mask` has `dlsr.segment.grabcut_mask`'s contract: an RGB photo in, a mode "L" mask of its size out (255 on
the object), or None when no object stands out. The photo is reduced so its longer side is the network's
`input_side` (160 pixels) and the network's probability of the object is either the prior of a GrabCut
(`REFINE_WITH_GRABCUT`) or, upsampled bilinearly from logits, the mask itself. torch is imported inside the
functions: `import dlsr.image` does not load it.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dlsr.errors import MissingDependencyError
from dlsr.segment import GRABCUT_SIDE, grabcut_mask, keep_main_parts
from dlsr.workers import torch_threads

SEGMENTER_ENV = "DLSR_SEGMENTER_WEIGHTS"
"""An environment variable naming another segmenter weights file (tests, experiments)."""

REFINE_WITH_GRABCUT = True
"""Whether `learned_mask` hands the segmenter's probability to GrabCut as a prior (`dlsr.segment.grabcut_mask`) and
returns GrabCut's cut, rather than thresholding the probability. Measured on `bench/bench_background.py` (weights/
README.md): the cut wins, because GrabCut places the edge at full resolution and the prior only adds where to look."""

_MIN_OBJECT_FRACTION = 0.002  # a found object under this share of the image means nothing was found (as GrabCut's)


def find_segmenter_weights(environ: dict[str, str] | None = None) -> Path:
    """The segmenter weights: $DLSR_SEGMENTER_WEIGHTS, else the shipped `dlsr-foreground.safetensors`.

    Raises:
        MissingDependencyError: the file is absent (one line naming where it was looked for).
    """
    from dlsr.checkpoint import SEGMENTER_WEIGHTS_FILE, default_search_dirs

    env = os.environ if environ is None else environ
    named = env.get(SEGMENTER_ENV)
    candidates = [Path(named).expanduser()] if named else [d / SEGMENTER_WEIGHTS_FILE for d in default_search_dirs()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise MissingDependencyError(
        f"background learned needs the foreground segmenter's weights, which are absent (looked for {looked}); "
        "reinstall dlsr, train them with `dlsr train segmenter`, or use background grabcut"
    )


@functools.lru_cache(maxsize=2)
def _load(path: Path, modified: float) -> Any:
    from dlsr.checkpoint import load_segmenter_weights

    model, _ = load_segmenter_weights(path)
    return model


def foreground_probability(
    image: Image.Image, weights: str | os.PathLike[str] | None = None, size: tuple[int, int] | None = None
) -> np.ndarray:
    """The segmenter's probability that each pixel of an RGB photo is the object.

    Args:
        image: mode "RGB", (W, H) pixels.
        weights: a segmenter weights file; default `find_segmenter_weights()`.
        size: (w, h) of the probability map; default the image's (W, H).

    Returns:
        float32 (h, w) in [0, 1].

    Raises:
        MissingDependencyError: no weights file.
        WeightsError: the file is not usable segmenter weights.
    """
    import torch
    from torch.nn import functional as F

    path = Path(weights) if weights is not None else find_segmenter_weights()
    model = _load(path.resolve(), path.stat().st_mtime)
    config = model.config
    width, height = image.size
    out_width, out_height = size or image.size
    scale = config.input_side / max(width, height)
    size = (_multiple(width * scale, config.multiple), _multiple(height * scale, config.multiple))
    small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    # One thread: the network is small, and on 2 busy cores torch's second (OpenMP) thread kept spinning into the
    # GrabCut that follows; file -> network input on a 1-MP photo took 0.66 s with two threads, 0.26 s with one.
    with torch_threads(1), torch.inference_mode():
        logits = model(pixels)
        # Upsampling the logits, not the thresholded mask, puts the edge between network pixels.
        logits = F.interpolate(logits, size=(out_height, out_width), mode="bilinear", align_corners=False)
        return logits[0, 0].sigmoid().numpy()


def learned_mask(
    image: Image.Image, weights: str | os.PathLike[str] | None = None, *, refine: bool | None = None
) -> Image.Image | None:
    """The object of an RGB photo by the foreground segmenter.

    Object parts much smaller than the largest one are dropped, as GrabCut's are.

    Args:
        image: mode "RGB", (W, H) pixels.
        weights: a segmenter weights file; default `find_segmenter_weights()`.
        refine: seed GrabCut with the segmenter's probability (`dlsr.segment.grabcut_mask`'s `prior`) and take its
            cut; default `REFINE_WITH_GRABCUT`.

    Returns:
        Mode "L" mask of size (W, H), 255 on the object, soft at the edge; None when no object stands out.

    Raises:
        MissingDependencyError: no weights file.
        WeightsError: the file is not usable segmenter weights.
    """
    if min(image.size) < 8:
        return None
    if REFINE_WITH_GRABCUT if refine is None else refine:
        return grabcut_mask(image, prior=foreground_probability(image, weights, size=(GRABCUT_SIDE, GRABCUT_SIDE)))
    probability = foreground_probability(image, weights)
    found = keep_main_parts(probability >= 0.5)
    if found.mean() < _MIN_OBJECT_FRACTION:
        return None
    coverage = np.where(found, probability, np.minimum(probability, 0.49))  # dropped parts stay under half
    return Image.fromarray(np.rint(coverage * 255).astype(np.uint8), "L")


def _multiple(value: float, multiple: int) -> int:
    return max(multiple, multiple * math.floor(value / multiple + 0.5))


__all__ = ["SEGMENTER_ENV", "find_segmenter_weights", "foreground_probability", "learned_mask"]
