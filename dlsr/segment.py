"""Finding the object in a photo: against a plain background by flood fill from the border, and otherwise by
GrabCut, rembg, or users' own masks.

GrabCut, rembg and masks give a coverage mask, mode "L" (255 = object, 0 = background), the size of the image they
were given; `dlsr.image` turns it into an alpha channel, so a found object is framed exactly like a transparent
PNG. The plain-background flood fill works on arrays (`border_colour`, `off_colour_runs`, `plain_background_object`).
OpenCV and rembg are imported inside the functions that use them: `import dlsr.cli` stays light.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from PIL import Image

from dlsr.errors import InputImageError, MissingDependencyError

logger = logging.getLogger(__name__)

GRABCUT_SIDE = 256
"""GrabCut runs on a copy box-reduced to at most this many pixels a side, so its cost does not grow with the
photo's size (the network sees 128 pixels a side anyway). Other sides have not been compared yet."""

GRABCUT_ITERATIONS = 4
"""GrabCut's alternations of colour-model fit and graph cut. On 13 composites of the compositing benchmark
(`python bench/bench_background.py --sweep`, 256 px), mean mask IoU 0.543 at 2, 0.570 at 4, 0.581 at 6; measured
before `_GRABCUT_SEED` fixed OpenCV's random generator, so each figure holds one draw of GrabCut's k-means start."""

_BORDER_FRACTION = 0.02  # the definite-background ring: this share of the shorter side, at least one pixel
_CENTRE_FRACTION = 0.5  # the centred box seeded as probable object: this share of each side
_KEEP_FRACTION = 0.05  # object parts under this share of the largest one are stray background
_MIN_OBJECT_FRACTION = 0.002  # a found object under this share of the image means nothing was found
_OBJECT_THRESHOLD = 128  # a mask or alpha value at least this high marks the object
_GRABCUT_SEED = 0  # OpenCV's random generator is set to this before each GrabCut, so its k-means start repeats

REMBG_MODEL = "u2net"
"""The rembg model dlsr uses: the general-purpose U^2-Net, `u2net.onnx` in rembg's model folder."""


def grabcut_mask(
    image: Image.Image,
    *,
    side: int = GRABCUT_SIDE,
    iterations: int = GRABCUT_ITERATIONS,
    prior: np.ndarray | None = None,
) -> Image.Image | None:
    """The object of an RGB photo by GrabCut, seeded from the border and a centred box, and optionally a prior.

    The image is box-reduced to at most `side` pixels a side. A thin ring along the border is certain
    background, the centred box (half of each side) probably object, the rest probably background; GrabCut then
    refines colour models and cut for `iterations` rounds. Object parts much smaller than the largest one are
    dropped. The mask is scaled back up bilinearly, so its edge is soft at the scale of one reduced pixel.

    Args:
        image: mode "RGB", (W, H) pixels.
        prior: float32 (H', W') probability of the object, any size (it is resized to the reduced image), e.g.
            a segmenter's: where it is at least half its peak is probable object too, besides the centred box,
            and the border ring is not certain background there (an object cut by the frame).

    Returns:
        Mode "L" mask of size (W, H), 255 on the object; None when no object stands out.

    Raises:
        MissingDependencyError: OpenCV is not installed.
    """
    cv2 = _import_cv2()
    factor = max(1, math.ceil(max(image.size) / side))
    work = np.ascontiguousarray(image.reduce(factor) if factor > 1 else image)
    height, width = work.shape[:2]
    if min(height, width) < 8:
        return None
    seeds = np.full((height, width), cv2.GC_PR_BGD, dtype=np.uint8)
    cy, cx = height / 2, width / 2
    half_h, half_w = height * _CENTRE_FRACTION / 2, width * _CENTRE_FRACTION / 2
    seeds[round(cy - half_h) : round(cy + half_h), round(cx - half_w) : round(cx + half_w)] = cv2.GC_PR_FGD
    if prior is not None:
        belief = cv2.resize(np.asarray(prior, np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        # Probable object from half the prior's peak, not from 0.5: an unsure prior still says where to look. The
        # prior only widens the probable object and never sets a certain label, which would lock its mistakes in.
        if belief.max() > 0:
            seeds[belief >= 0.5 * min(float(belief.max()), 1.0)] = cv2.GC_PR_FGD
    ring = np.zeros((height, width), bool)
    width_of_ring = max(1, round(_BORDER_FRACTION * min(height, width)))
    ring[:width_of_ring], ring[-width_of_ring:], ring[:, :width_of_ring], ring[:, -width_of_ring:] = (True,) * 4
    if prior is not None:  # an object the prior sees cut by the frame keeps its border pixels
        ring &= (seeds != cv2.GC_PR_FGD) & (seeds != cv2.GC_FGD)
    seeds[ring] = cv2.GC_BGD
    background_model = np.zeros((1, 65), np.float64)  # OpenCV's GMM state: 5 components x 13 numbers
    object_model = np.zeros((1, 65), np.float64)
    # One thread: on 2 busy cores OpenCV's second thread made GrabCut 3-10x slower in wall time for no CPU saved.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    # GrabCut seeds its colour models by k-means from OpenCV's global random generator, whose state every earlier
    # call advances: unseeded, the same photo gave mask IoU 0.114 on one call and 0.908 on the next in the
    # compositing benchmark. A fixed seed makes the mask a function of the photo alone.
    cv2.setRNGSeed(_GRABCUT_SEED)
    try:
        cv2.grabCut(work, seeds, None, background_model, object_model, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as exc:  # a colour model cannot be fit, e.g. no probable-background pixels left
        logger.debug("GrabCut failed: %s", exc)
        return None
    finally:
        cv2.setNumThreads(threads)
    found = keep_main_parts((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD))
    if found.mean() < _MIN_OBJECT_FRACTION:
        return None
    small = Image.fromarray(found.astype(np.uint8) * 255)
    return small.resize(image.size, Image.Resampling.BILINEAR) if factor > 1 else small


def keep_main_parts(mask: np.ndarray, fraction: float = _KEEP_FRACTION) -> np.ndarray:
    """The parts (8-connected) of a bool (H, W) mask at least `fraction` of the largest one's area."""
    parts, count = label_parts(mask, connectivity=8)
    if count <= 1:
        return mask
    sizes = np.bincount(parts.ravel())
    sizes[0] = 0
    keep = sizes >= fraction * sizes.max()
    keep[0] = False
    return cast(np.ndarray, np.take(keep, parts))


def label_parts(mask: np.ndarray, connectivity: Literal[4, 8]) -> tuple[np.ndarray, int]:
    """The connected parts of a bool (H, W) mask.

    Returns:
        int32 (H, W) labels (0 outside the mask, 1 to count on the parts) and the number of parts.
    """
    # OpenCV's labelling rather than scipy.ndimage's: importing scipy.ndimage takes about 0.3 s, a large share of
    # `dlsr reconstruct`'s start-up, and plain-background images need this on every call.
    cv2 = _import_cv2()
    count, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=connectivity)
    return labels, int(count) - 1


def rembg_mask(image: Image.Image, name: str) -> Image.Image:
    """The object of an RGB photo by rembg's U^2-Net, which must be installed with its model already on disk.

    dlsr never downloads the model: it looks for `u2net.onnx` where rembg keeps it ($U2NET_HOME, else
    $XDG_DATA_HOME/.u2net, else ~/.u2net) and refuses to run without it.

    Returns:
        Mode "L" mask of the image's size, 255 on the object (rembg's soft matte).

    Raises:
        MissingDependencyError: rembg or its model is missing.
    """
    require_rembg(name)
    import rembg

    session = rembg.new_session(REMBG_MODEL)
    matte = rembg.remove(image, session=session, only_mask=True)
    return matte.convert("L") if matte.mode != "L" else matte


def require_rembg(name: str = "rembg") -> None:
    """Check that rembg is installed and its model is on disk, so that using it downloads nothing.

    Raises:
        MissingDependencyError: (one line naming `name` and how to get the missing piece) otherwise.
    """
    import importlib.util

    model = rembg_model_path()
    if importlib.util.find_spec("rembg") is None:
        raise MissingDependencyError(
            f"{name}: background rembg needs the rembg package, which is not installed; "
            f"`pip install rembg` and put its {REMBG_MODEL}.onnx model in {model.parent}, or use background grabcut"
        )
    if not model.is_file():
        raise MissingDependencyError(
            f"{name}: background rembg needs its model {model}, which is absent and which dlsr never downloads; "
            f"run `rembg i` on any image once (it downloads {REMBG_MODEL}.onnx) or use background grabcut"
        )


def rembg_model_path() -> Path:
    """Where rembg keeps `u2net.onnx` (its own rule: $U2NET_HOME, else $XDG_DATA_HOME/.u2net, else ~/.u2net)."""
    home = os.environ.get("U2NET_HOME") or os.path.join(os.environ.get("XDG_DATA_HOME", "~"), ".u2net")
    return Path(os.path.expanduser(home)) / f"{REMBG_MODEL}.onnx"


def mask_coverage(mask: Image.Image, name: str) -> Image.Image:
    """A user's mask image as coverage, mode "L": its alpha when it has transparency, else its grey level.

    White (or opaque) marks the object, black (or transparent) the background; grey levels are partial cover.

    Raises:
        InputImageError: the mask marks no pixel as object.
    """
    bands = mask.getbands()
    if "A" in bands or (mask.mode == "P" and "transparency" in mask.info):
        alpha = mask.convert("RGBA").getchannel("A")
        coverage = alpha if cast(tuple[int, int], alpha.getextrema())[0] < 255 else mask.convert("L")
    elif mask.mode in ("I", "F", "I;16", "I;16L", "I;16B", "I;16N"):
        values = np.asarray(mask).astype(np.float64)
        top = 1.0 if mask.mode == "F" and values.max() <= 1.0 else (255.0 if values.max() <= 255 else 65535.0)
        coverage = Image.fromarray(np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8), "L")
    else:
        coverage = mask.convert("L")
    if cast(tuple[int, int], coverage.getextrema())[1] < _OBJECT_THRESHOLD:
        raise InputImageError(
            f"{name}: the mask marks no object (no pixel is white or opaque); paint the object white on black"
        )
    return coverage


def check_mask_size(mask: Image.Image, image: Image.Image, mask_name: str, image_name: str) -> None:
    """Raise InputImageError when `mask` and `image` differ in size (both upright)."""
    if mask.size != image.size:
        (mw, mh), (iw, ih) = mask.size, image.size
        raise InputImageError(
            f"{mask_name}: the mask is {mw}x{mh} pixels but {image_name} is {iw}x{ih}; give a mask of the image's size"
        )


def _import_cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise MissingDependencyError(
            "finding the object in a cluttered photo needs OpenCV, which is not installed; "
            "`pip install opencv-python-headless`, or choose the plain or none background, or give a mask"
        ) from None
    return cv2


# Plain backgrounds

_SPECK_FRACTION = 0.005  # object parts smaller than this share of the largest part are noise (JPEG specks)


def border_colour(pixels: np.ndarray, tolerance: float) -> tuple[np.ndarray, float]:
    """Median colour of the image border, and the share of border pixels within `tolerance` of it.

    Args:
        pixels: uint8 (H, W, 3).

    Returns:
        (float64 (3,) colour, fraction in [0, 1]).
    """
    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]]).astype(np.float64)
    colour = np.median(border, axis=0)
    near = np.square(border - colour).sum(axis=1) <= tolerance**2
    return colour, float(near.mean())


def off_colour_runs(pixels: np.ndarray, colour: np.ndarray, tolerance: float) -> int:
    """How many unbroken runs the border pixels farther than `tolerance` from `colour` form, once round the border.

    An object cut by the frame makes one run per cut; a texture (bricks, grass, clouds) makes one per blob.

    Args:
        pixels: uint8 (H, W, 3).
    """
    loop = np.concatenate([pixels[0], pixels[1:, -1], pixels[-1, -2::-1], pixels[-2:0:-1, 0]]).astype(np.float64)
    far = np.square(loop - colour).sum(axis=1) > tolerance**2
    return int((far & ~np.roll(far, 1)).sum())


def plain_background_object(pixels: np.ndarray, colour: np.ndarray, tolerance: float) -> np.ndarray:
    """Everything except the background: pixels near `colour` connected (4-neighbours) to the image border.

    Parts of the object smaller than `_SPECK_FRACTION` of its largest part are dropped as noise.

    Args:
        pixels: uint8 (H, W, 3).
        colour: (3,) background colour.

    Returns:
        bool (H, W), True on the object.
    """
    # Squared distance by per-channel lookup tables, several times faster than arithmetic on (H, W, 3). Each term
    # is capped just above the threshold, which keeps the comparison exact and the sum small enough for uint16.
    limit = math.floor(tolerance**2)
    dtype = np.uint16 if 3 * (limit + 1) <= np.iinfo(np.uint16).max else np.uint32
    levels = np.arange(256, dtype=np.float64)
    tables = [np.minimum(np.square(levels - c), limit + 1).astype(dtype) for c in colour]
    distance = np.take(tables[0], pixels[..., 0])
    distance += np.take(tables[1], pixels[..., 1])
    distance += np.take(tables[2], pixels[..., 2])
    labels, count = label_parts(distance <= limit, connectivity=4)  # scipy.ndimage.label's default
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    is_object = np.ones(count + 1, dtype=bool)
    is_object[edge] = False
    is_object[0] = True  # label 0: pixels far from the background colour
    found = np.take(is_object, labels)
    parts, count = label_parts(found, connectivity=4)
    if count > 1:
        sizes = np.bincount(parts.ravel())
        sizes[0] = 0
        keep = sizes >= _SPECK_FRACTION * sizes.max()
        found = np.take(keep, parts)
    return found
