"""Image input: turning any image (`dlsr.image_file.read_image` reads the file) into the network's input.

This module owns the one preprocessing path shared by users' photos, training renders and evaluation images, so
all look alike to the network: find the object (from the alpha channel, a user's mask, by flood-filling a plain
background from the border, or by GrabCut or rembg on a cluttered photo: see `BACKGROUND_MODES`), composite it on
`PreprocessConfig.background`, crop a square around it with a fixed margin and resize to `image_size`.
Coordinates are PIL's: `(x, y)` = (column, row), boxes are `(left, top, right, bottom)` with `right`/`bottom`
exclusive, in pixels of the source image as decoded, after its EXIF orientation is applied.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from PIL import Image

from dlsr.conventions import BACKGROUND_MODES, BackgroundMode
from dlsr.errors import ConfigError, InputImageError, MissingDependencyError
from dlsr.image_file import MAX_IMAGE_PIXELS, SUPPORTED_MODES, normalise_mode, read_image
from dlsr.segment import (
    border_colour,
    check_mask_size,
    grabcut_mask,
    mask_coverage,
    off_colour_runs,
    plain_background_object,
    rembg_mask,
)

if TYPE_CHECKING:
    import torch

Foreground = Literal["alpha", "background", "whole-image", "grabcut", "learned", "rembg", "mask"]

"""How the object is told from its background when no mask is given:

- "auto": the alpha channel when some pixel is less than half opaque; else "plain" when the border is one colour
  (see `_AUTO_BORDER_RUNS`) and the flood fill finds an object; else "grabcut" (see `_AUTO_SEGMENTER`).
- "none": the whole image is the object (transparent pixels are still composited on the background colour).
- "plain": the preprocessing dlsr has always had (alpha channel, else flood fill from a plain border, else the
  whole image); training renders go this way under "auto" too, byte for byte.
- "grabcut": OpenCV's GrabCut on a reduced copy (`dlsr.segment.grabcut_mask`).
- "learned": dlsr's own foreground segmenter, shipped in weights/ (`dlsr.foreground.predict.learned_mask`).
- "rembg": rembg's U^2-Net, when the user installed it and its model (`dlsr.segment.rembg_mask`).
"""

# Explicit GrabCut, learned and rembg decode a large JPEG at a reduced scale (Pillow's `draft`), keeping at least
# this many pixels on its longest side: enough for an object an eighth of the photo wide to fill the 128-pixel input.
_DRAFT_SIDE = 1024

_MAX_COLOUR_DISTANCE = math.sqrt(3) * 255  # Euclidean distance between black and white in RGB
_ALPHA_THRESHOLD = 128  # a pixel at least half opaque belongs to the object
_PLAIN_BORDER_FRACTION = 0.5  # below this share of border pixels near the background colour, the photo is cluttered
_AUTO_BORDER_FRACTION = 0.9
_AUTO_BORDER_RUNS = 4
""""auto" trusts the flood fill when at least `_AUTO_BORDER_FRACTION` of the border pixels is near their median
colour, or at least `_PLAIN_BORDER_FRACTION` is and the others form at most `_AUTO_BORDER_RUNS` runs around the
border (an object cut by the frame a few times); otherwise it uses GrabCut. "plain" keeps dlsr's original rule,
`_PLAIN_BORDER_FRACTION` alone. Measured with the default tolerance: every shared render, both shared
plain-background photos and the pinned test scenes have share 1.000 (0 runs); of the 39 composites of
`bench/bench_background.py --per-object 1`, 10 (brick, rocket sky, one chelsea) reach 0.5 (at most 0.800, with 7
to 77 runs), which the original rule flood-filled. With this rule (and GrabCut's seed fixed in `dlsr.segment`)
auto's mean mask IoU there rose from 0.453 to 0.588 (`--seed 1`: 0.502 to 0.607), equal to GrabCut's, which auto
now uses on every composite; the under-0.90 count went from 30 to 23 of 39 (31 to 29)."""
_AUTO_SEGMENTER: Literal["grabcut", "learned"] = "grabcut"
""""auto"'s segmenter for a cluttered photo ("learned" falls back to GrabCut without the segmenter's weights). On
the compositing benchmark (`bench/bench_background.py`, 2026-12-06) "learned" scored mean mask IoU 0.669 against
GrabCut's 0.620 on 117 composites (seed 1, 39 composites: 0.635 against 0.607), with equal medians (0.758, 0.762)
and an equal reconstruction IoU drop (0.203, 0.205). But on the one shared cluttered photo of a real object,
photos/coffee.png, it kept the cup's rim and coffee alone (14 % of the photo) where GrabCut keeps cup and saucer
(46 %): trained on renders, it has not learnt real objects. So "auto" stays with GrabCut; `--background learned`
is there to choose."""
_FULL_OBJECT_FRACTION = 0.95  # an "object" covering more of the image than this means no background was found
_FLAT_SPREAD = 4  # an image whose channels each vary by at most this many levels is one flat colour
_WORK_SIDE = 512  # larger images are box-reduced to about this size to find the object
_RESAMPLING_GAP = 3.0  # Pillow's reducing_gap: box-reduce first, then Lanczos; 3 is visually exact


@dataclass(frozen=True)
class PreprocessConfig:
    """How an image becomes the network's input; stored with the weights so inference matches training."""

    image_size: int = 128  # side of the square network input, pixels
    margin: float = 0.1  # crop margin around the object's bounding box, a fraction of its longest side, each side
    background: tuple[int, int, int] = (255, 255, 255)  # colour the object is composited on (white, as in training)
    background_tolerance: float = 30.0  # RGB distance (0-441) within which a pixel matches the plain background

    def __post_init__(self) -> None:
        size = self.image_size
        if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 4096:
            raise ConfigError(f"PreprocessConfig.image_size: expected an integer from 8 to 4096, found {size!r}")
        margin = self.margin
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0.0 <= margin <= 1.0:
            raise ConfigError(f"PreprocessConfig.margin: expected a number from 0 to 1, found {margin!r}")
        colour = self.background
        if (
            not isinstance(colour, tuple)
            or len(colour) != 3
            or any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 255 for c in colour)
        ):
            raise ConfigError(
                f"PreprocessConfig.background: expected three integers from 0 to 255 (R, G, B), found {colour!r}"
            )
        tolerance = self.background_tolerance
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, int | float)
            or not 0.0 < tolerance <= _MAX_COLOUR_DISTANCE
        ):
            raise ConfigError(
                f"PreprocessConfig.background_tolerance: expected a number above 0 and at most "
                f"{_MAX_COLOUR_DISTANCE:.0f}, found {tolerance!r}"
            )


@dataclass(frozen=True)
class PreparedImage:
    """An image ready for the network, and how it was made."""

    pixels: np.ndarray  # uint8 (S, S, 3), the network input, the object composited on `background`
    foreground: Foreground  # how the object was found: "alpha", "background" (flood fill), "whole-image",
    # "grabcut", "rembg" or "mask" (the user's)
    bbox: tuple[int, int, int, int]  # (left, top, right, bottom) of the object in the oriented source image
    # Mode "L", 255 on the object, covering the whole source image, possibly at a reduced scale (the flood fill's
    # working copy): resize it to the source size to overlay it. For "alpha", "grabcut", "rembg" and "mask" it is
    # the alpha the object was cut out with, at full size.
    mask: Image.Image | None = None
    size: tuple[int, int] = (0, 0)  # (width, height) of the oriented source image, pixels


def prepare_image(
    image: Image.Image,
    config: PreprocessConfig = PreprocessConfig(),
    *,
    background: BackgroundMode = "auto",
    mask: Image.Image | None = None,
    name: str = "image",
    mask_name: str = "mask",
) -> PreparedImage:
    """Turn a loaded image into the network's input.

    1. Normalise the mode to 8-bit RGB, keeping alpha if any pixel is not fully opaque (16-bit data is scaled
       by 1/257, not clipped).
    2. Find the object. With `mask`, the mask's coverage becomes the alpha channel. Otherwise by `background`
       (see `BACKGROUND_MODES`). The "plain" way: from alpha (at least half opaque) when there is one; otherwise
       flood-fill the background from the border (pixels within `background_tolerance` of the border's median
       colour and connected to the border), so enclosed background-coloured parts stay object. A cluttered border
       (under half of it near that colour), or an "object" covering almost everything, falls back to the whole
       image (under "auto": to GrabCut), which is then framed like an object (margin included) and keeps its
       background.
    3. Composite on `background`, crop the square of side `longest bbox side * (1 + 2 * margin)` centred on the
       object (padding with `background`), and resize it to `image_size` with Lanczos filtering.

    Args:
        image: any image `read_image` returns (PIL coordinates, already upright).
        config: preprocessing settings; must match the ones the model was trained with.
        background: how to find the object when no mask is given; one of `BACKGROUND_MODES`.
        mask: the object's mask, the image's size: white (or opaque) on the object, black (or transparent)
            elsewhere; grey levels are partial cover.
        name, mask_name: what to call the image and the mask in messages.

    Returns:
        The prepared image; `pixels` is uint8 (S, S, 3) with S = `config.image_size`.

    Raises:
        ConfigError: unknown `background`.
        InputImageError: when the mode is unsupported, the image has zero size, is one flat colour or fully
            transparent, the mask is empty or of another size, or no object can be found.
        MissingDependencyError: "grabcut" without OpenCV, "rembg" without rembg or its model.
    """
    return _prepare(image, config, name, background, mask, mask_name)


def prepare_image_with_coverage(
    image: Image.Image, config: PreprocessConfig = PreprocessConfig()
) -> tuple[PreparedImage, np.ndarray]:
    """`prepare_image`, plus how much of each output pixel the object covers (for training augmentation).

    The coverage is the alpha channel cropped and resized exactly like the pixels, so a training pipeline can
    put the object on another background: with coverage a, a pixel composited on colour b is
    ``pixels - (1 - a) * (background - b)`` (Lanczos resizing is linear, so compositing commutes with it up to
    rounding). Images without alpha have no known coverage: it is 1 everywhere (recompositing changes nothing).

    Returns:
        The prepared image and the coverage, uint8 (S, S), 255 = fully object.
    """
    prepared = prepare_image(image, config)
    size = config.image_size
    if prepared.foreground not in _CUT_OUT or prepared.mask is None:
        return prepared, np.full((size, size), 255, dtype=np.uint8)
    alpha = prepared.mask
    # The object's alpha on a black body, composited on white like the pixels: each pixel is 255 * (1 - a).
    silhouette = Image.merge("RGBA", (Image.new("L", alpha.size, 0),) * 3 + (alpha,))
    white = dataclasses.replace(config, background=(255, 255, 255))
    rendered = _render(silhouette, 1, prepared.bbox, white)
    return prepared, (255 - rendered[..., 0]).astype(np.uint8)


def load_image(
    source: str | os.PathLike[str] | bytes,
    config: PreprocessConfig = PreprocessConfig(),
    name: str | None = None,
    *,
    background: BackgroundMode = "auto",
    mask: str | os.PathLike[str] | Image.Image | None = None,
) -> PreparedImage:
    """Read an image file and prepare it for the network (`read_image` then `prepare_image`).

    Args:
        source: a path, or the raw bytes of an image file (as read from stdin).
        config: preprocessing settings; must match the ones the model was trained with.
        name: what to call the image in messages; defaults to the path, or "<stdin>" for bytes.
        background: how to find the object when no mask is given; one of `BACKGROUND_MODES`. An explicit
            "grabcut" or "rembg" decodes a large JPEG at a reduced scale (see `read_image`'s `draft_side`).
        mask: the object's mask (a path or a loaded image), the image's size; see `prepare_image`.

    Returns:
        The prepared image; `pixels` is uint8 (S, S, 3) with S = `config.image_size`.

    Raises:
        InputImageError: when the file or the mask cannot be read or holds no object (see `read_image`,
            `prepare_image`).
        ConfigError, MissingDependencyError: see `prepare_image`.
    """
    if background not in BACKGROUND_MODES:
        raise ConfigError(_unknown_background(background))
    if name is None:
        name = "<stdin>" if isinstance(source, bytes | bytearray | memoryview) else os.fspath(source)
    mask_image, mask_name = None, "mask"
    if isinstance(mask, Image.Image):
        mask_image = mask
    elif mask is not None:
        mask_name = os.fspath(mask)
        mask_image = read_image(mask, mask_name)
    draft = _DRAFT_SIDE if mask is None and background in _SEGMENTERS else None
    return _prepare(read_image(source, name, draft_side=draft), config, name, background, mask_image, mask_name)


def to_tensor(pixels: Sequence[np.ndarray]) -> torch.Tensor:
    """Stack prepared images into a network batch.

    Args:
        pixels: B images, uint8 (S, S, 3), as in `PreparedImage.pixels` (a uint8 (B, S, S, 3) array works too).

    Returns:
        float32 (B, 3, S, S) in [0, 1].

    Raises:
        ValueError: when the images are not all uint8 (S, S, 3) of the same size, or there are none.
    """
    import torch

    if len(pixels) == 0:
        raise ValueError("to_tensor: expected at least one image, got none")
    images = [np.asarray(p) for p in pixels]
    first = images[0]
    for image in images:
        if image.dtype != np.uint8 or image.shape != first.shape or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"to_tensor: expected uint8 images of one shape (S, S, 3), got {image.dtype} {image.shape} "
                f"next to {first.dtype} {first.shape}"
            )
    if first.shape[0] != first.shape[1]:
        raise ValueError(f"to_tensor: expected square images (S, S, 3), got {first.shape}")
    batch = np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32)
    batch /= 255.0
    return torch.from_numpy(batch)


def mask_png_bytes(prepared: PreparedImage) -> bytes:
    """The object's mask as PNG file bytes: mode "L", the source image's size, 255 on the object.

    Raises:
        ValueError: `prepared` carries no mask or size (it was not made by `prepare_image`).
    """
    if prepared.mask is None or 0 in prepared.size:
        raise ValueError("mask_png_bytes: expected an image made by prepare_image, with its mask and size")
    mask = prepared.mask
    if mask.size != prepared.size:
        mask = mask.resize(prepared.size, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an image (e.g. `PreparedImage.pixels`, uint8 (H, W, 3)) as PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- preparing -------------------------------------------------------------------------------------------------


# Foregrounds cut out through an alpha channel: their `PreparedImage.mask` is that alpha, at full size.
_CUT_OUT = frozenset({"alpha", "grabcut", "learned", "rembg", "mask"})
_SEGMENTERS = ("grabcut", "learned", "rembg")  # the modes that segment a cluttered photo


def _unknown_background(background: object) -> str:
    return f"unknown background mode {background!r}; use one of {', '.join(BACKGROUND_MODES)}"


def _prepare(
    image: Image.Image,
    config: PreprocessConfig,
    name: str,
    background: BackgroundMode = "auto",
    mask: Image.Image | None = None,
    mask_name: str = "mask",
) -> PreparedImage:
    """`prepare_image`, naming the image `name` in error messages."""
    prepared = _find_and_frame(image, config, name, background, mask, mask_name)
    return dataclasses.replace(prepared, size=image.size)


def _find_and_frame(
    image: Image.Image,
    config: PreprocessConfig,
    name: str,
    background: BackgroundMode,
    mask: Image.Image | None,
    mask_name: str,
) -> PreparedImage:
    if background not in BACKGROUND_MODES:
        raise ConfigError(_unknown_background(background))
    if image.width == 0 or image.height == 0:
        raise InputImageError(f"{name}: found no object: the image has zero size ({image.width}x{image.height})")
    if mask is not None:
        check_mask_size(mask, image, mask_name, name)
        coverage = mask_coverage(mask, mask_name)
        return _prepare_alpha(
            _with_alpha(_flatten(normalise_mode(image, name), config), coverage), config, name, "mask"
        )
    image = normalise_mode(image, name)
    if background == "none":
        whole = (0, 0, image.width, image.height)
        full = Image.new("L", (1, 1), 255)
        return PreparedImage(_render(image, 1, whole, config), "whole-image", whole, full)
    if background == "plain":
        if image.mode == "RGBA":
            return _prepare_alpha(image, config, name)
        return cast(PreparedImage, _prepare_opaque(image, config, name, fallback=True))
    if background == "auto":
        if image.mode == "RGBA" and _has_transparency(image):
            return _prepare_alpha(image, config, name)
        image = _flatten(image, config)
        found = _prepare_opaque(image, config, name, fallback=False, strict=True)
        if found is not None:
            return found
        return _prepare_segmented(image, config, name, _auto_segmenter())
    return _prepare_segmented(_flatten(image, config), config, name, background)


def _auto_segmenter() -> Literal["grabcut", "learned"]:
    """`_AUTO_SEGMENTER`, or GrabCut when that is "learned" and the segmenter's weights are not installed."""
    if _AUTO_SEGMENTER == "learned":
        from dlsr.foreground.predict import find_segmenter_weights

        try:
            find_segmenter_weights()
        except MissingDependencyError:
            return "grabcut"
    return _AUTO_SEGMENTER


def _has_transparency(image: Image.Image) -> bool:
    """Whether some pixel of the RGBA `image` is less than half opaque (alpha that marks a background)."""
    return cast(tuple[tuple[int, int], ...], image.getextrema())[3][0] < _ALPHA_THRESHOLD


def _flatten(image: Image.Image, config: PreprocessConfig) -> Image.Image:
    """An RGB or RGBA `image` as RGB, composited on `config.background`."""
    if image.mode != "RGBA":
        return image
    plain = Image.new("RGB", image.size, config.background)
    plain.paste(image, (0, 0), image)
    return plain


def _with_alpha(image: Image.Image, coverage: Image.Image) -> Image.Image:
    """The RGB `image` with the mode "L" `coverage` as its alpha channel."""
    rgba = image.convert("RGBA")
    rgba.putalpha(coverage)
    return rgba


def _prepare_segmented(
    image: Image.Image, config: PreprocessConfig, name: str, method: Literal["grabcut", "learned", "rembg"]
) -> PreparedImage:
    """Find the object in the RGB `image` by GrabCut, the learned segmenter or rembg; frame it as alpha."""
    if _channel_spread(image) <= _FLAT_SPREAD:
        raise InputImageError(f"{name}: found no object: the image is one flat colour; pass a photo of the object")
    if method == "grabcut":
        coverage = grabcut_mask(image)
    elif method == "learned":
        from dlsr.foreground.predict import learned_mask  # imports torch

        coverage = learned_mask(image)
    else:
        coverage = rembg_mask(image, name)
    if coverage is None or cast(tuple[int, int], coverage.getextrema())[1] < _ALPHA_THRESHOLD:
        raise InputImageError(
            f"{name}: found no object: {method} could not tell an object from the background; "
            "give a mask of the object (white on black), or the background mode none to take the whole image"
        )
    return _prepare_alpha(_with_alpha(image, coverage), config, name, method)


def _prepare_alpha(
    image: Image.Image, config: PreprocessConfig, name: str, foreground: Foreground = "alpha"
) -> PreparedImage:
    """The object is where the RGBA `image` is at least half opaque."""
    alpha = image.getchannel("A")
    solid = alpha.point([0] * _ALPHA_THRESHOLD + [255] * (256 - _ALPHA_THRESHOLD))
    bbox = solid.getbbox()
    if bbox is None:
        raise InputImageError(
            f"{name}: found no object: the image is fully transparent; pass an image whose object is opaque"
        )
    return PreparedImage(_render(image, 1, bbox, config), foreground, bbox, alpha)


def _prepare_opaque(
    image: Image.Image, config: PreprocessConfig, name: str, fallback: bool, strict: bool = False
) -> PreparedImage | None:
    """Find the object against a plain background in the RGB `image`, or fall back to the whole image.

    The background counts as plain when `_PLAIN_BORDER_FRACTION` of the border pixels is near their median
    colour; `strict` ("auto") also asks what `_AUTO_BORDER_RUNS` describes, so textures are left to GrabCut.

    The flood fill runs on a copy box-reduced by an integer factor to at most `_WORK_SIDE` pixels a side. When
    the object is small in a large image, the crop is then redone around it at a finer scale, so the output is
    never upsampled from the coarse copy. Without `fallback`, None stands for the whole image.
    """
    width, height = image.size
    factor = max(1, math.ceil(max(width, height) / max(_WORK_SIDE, 4 * config.image_size)))
    work = image.reduce(factor) if factor > 1 else image
    if _channel_spread(work) <= _FLAT_SPREAD:
        raise InputImageError(f"{name}: found no object: the image is one flat colour; pass a photo of the object")
    whole = (0, 0, width, height)
    pixels = np.asarray(work)
    colour, plain = border_colour(pixels, config.background_tolerance)
    is_plain = plain >= _PLAIN_BORDER_FRACTION
    if strict and is_plain and plain < _AUTO_BORDER_FRACTION:
        is_plain = off_colour_runs(pixels, colour, config.background_tolerance) <= _AUTO_BORDER_RUNS
    found = plain_background_object(pixels, colour, config.background_tolerance) if is_plain else None
    if found is None or not found.any() or found.mean() > _FULL_OBJECT_FRACTION:
        if not fallback:
            return None
        full = Image.new("L", (1, 1), 255)
        return PreparedImage(_render(work, factor, whole, config), "whole-image", whole, full)
    mask = Image.fromarray(found).convert("L")
    bbox = _scaled_box(_mask_box(found), factor, (0, 0), (width, height))
    finer = max(1, math.floor(_square(bbox, config.margin)[2] / (2 * config.image_size)))
    if finer < factor:
        refined = _refine(image, bbox, finer, factor, colour, config)
        if refined is not None:
            window, bbox, origin = refined
            return PreparedImage(_render(window, finer, bbox, config, origin), "background", bbox, mask)
    cutout = _on_background(work, found, config.background)
    return PreparedImage(_render(cutout, factor, bbox, config), "background", bbox, mask)


def _refine(
    image: Image.Image,
    bbox: tuple[int, int, int, int],
    factor: int,
    coarse: int,
    colour: np.ndarray,
    config: PreprocessConfig,
) -> tuple[Image.Image, tuple[int, int, int, int], tuple[int, int]] | None:
    """Redo the flood fill in the crop window around `bbox`, box-reduced by `factor`.

    Background regions touching the window's edge are background of the whole image too, since the window holds
    the object's bounding box with a margin (plus `coarse` pixels, the error of a box found at 1/`coarse` scale);
    so this finds the same object, at a finer scale.

    Returns:
        (window with its background replaced by `config.background`, object bbox in full-resolution pixels,
        window origin in full-resolution pixels), or None when the window holds no object.
    """
    x, y, side = _square(bbox, config.margin)
    half = side / 2 + coarse
    left, top = max(0, math.floor(x - half)), max(0, math.floor(y - half))
    right, bottom = min(image.width, math.ceil(x + half)), min(image.height, math.ceil(y + half))
    window = image.crop((left, top, right, bottom))
    if factor > 1:
        window = window.reduce(factor)
    found = plain_background_object(np.asarray(window), colour, config.background_tolerance)
    if not found.any():
        return None
    refined = _scaled_box(_mask_box(found), factor, (left, top), (right, bottom))
    return _on_background(window, found, config.background), refined, (left, top)


def _channel_spread(image: Image.Image) -> int:
    """The largest (max - min) over the channels of an RGB image."""
    extrema = cast(tuple[tuple[int, int], ...], image.getextrema())
    return max(high - low for low, high in extrema)


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels of a non-empty bool (H, W) mask; right/bottom exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def _scaled_box(
    box: tuple[int, int, int, int], factor: int, origin: tuple[int, int], limit: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A box in pixels of an image reduced by `factor` and cropped at `origin`, in full-resolution pixels."""
    left, top, right, bottom = box
    x, y = origin
    return (
        x + left * factor,
        y + top * factor,
        min(limit[0], x + right * factor),
        min(limit[1], y + bottom * factor),
    )


def _square(bbox: tuple[int, int, int, int], margin: float) -> tuple[float, float, float]:
    """Centre (x, y) and side of the crop square around `bbox` (left, top, right, bottom)."""
    left, top, right, bottom = bbox
    side = max(right - left, bottom - top) * (1.0 + 2.0 * margin)
    return (left + right) / 2.0, (top + bottom) / 2.0, side


def _on_background(image: Image.Image, mask: np.ndarray, colour: tuple[int, int, int]) -> Image.Image:
    """The RGB `image` with `colour` wherever the bool (H, W) `mask` is False."""
    plain = Image.new("RGB", image.size, colour)
    return Image.composite(image, plain, Image.fromarray(mask))  # a bool array becomes a mode "1" mask


def _render(
    image: Image.Image,
    factor: int,
    bbox: tuple[int, int, int, int],
    config: PreprocessConfig,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Composite on `background`, crop the square around `bbox` and resize it to `image_size`.

    Compositing (RGBA) before resampling is what makes colours under transparent pixels never bleed into the
    object; only the square is composited, so this costs the same for any size of source image.

    Args:
        image: RGB or RGBA, a region of the source image starting at `origin` (full-resolution pixels) and
            box-reduced by `factor`.
        bbox: the object, in full-resolution pixels of the source image.

    Returns:
        uint8 (S, S, 3).
    """
    x, y, side = _square(bbox, config.margin)
    scale = 1.0 / factor
    size = max(1, round(side * scale))
    left = round((x - origin[0]) * scale - size / 2)
    top = round((y - origin[1]) * scale - size / 2)
    square = Image.new("RGB", (size, size), config.background)  # the padding where the square leaves the image
    square.paste(image, (-left, -top), image if image.mode == "RGBA" else None)
    resized = square.resize((config.image_size,) * 2, Image.Resampling.LANCZOS, reducing_gap=_RESAMPLING_GAP)
    return np.array(resized)


__all__ = [
    "BACKGROUND_MODES",
    "MAX_IMAGE_PIXELS",
    "SUPPORTED_MODES",
    "BackgroundMode",
    "Foreground",
    "PreparedImage",
    "PreprocessConfig",
    "load_image",
    "mask_png_bytes",
    "png_bytes",
    "prepare_image",
    "prepare_image_with_coverage",
    "read_image",
    "to_tensor",
]
