"""Reading image files: safe decoding (size guard, truncation, Pillow's warnings), EXIF orientation, and every
Pillow colour mode brought to 8-bit RGB or RGBA. `dlsr.image` prepares what this reads."""

from __future__ import annotations

import io
import logging
import math
import os
import re
import stat
import struct
import warnings
from typing import BinaryIO, cast

import numpy as np
from PIL import Image, ImageOps

from dlsr.errors import InputImageError

logger = logging.getLogger(__name__)

# Decompression-bomb guard: images above 8192 x 8192 pixels are refused before their pixels are decoded. This is
# below Pillow's own warning threshold (about 89 megapixels), so Pillow's global limit is never touched.
MAX_IMAGE_PIXELS: int = 8192 * 8192

# Modes Pillow converts to 8-bit RGB or RGBA itself; the greyscale integer and float modes are scaled here.
_TO_RGB = frozenset({"1", "L", "P", "RGB", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"})
_TO_RGBA = frozenset({"LA", "PA", "RGBA", "RGBa", "La"})
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_WIDE = frozenset({"I", "F"})
SUPPORTED_MODES: frozenset[str] = _TO_RGB | _TO_RGBA | _SIXTEEN_BIT | _WIDE


def read_image(
    source: str | os.PathLike[str] | bytes, name: str | None = None, *, draft_side: int | None = None
) -> Image.Image:
    """Read an image file fully into memory, upright.

    The pixels are decoded here, so a truncated file fails here rather than later; the EXIF orientation is applied
    (phone photos are often stored sideways). Images over `MAX_IMAGE_PIXELS` are refused before decoding. Warnings
    Pillow raises while decoding (bad metadata, say) are logged, not raised.

    Args:
        source: a path, or the raw bytes of an image file (as read from stdin).
        name: what to call the image in messages; defaults to the path, or "<stdin>" for bytes.
        draft_side: decode a JPEG at the smallest of Pillow's reduced scales (1/2, 1/4, 1/8) that keeps at least
            this many pixels on its longest side (several times faster for large photos); None decodes in full.

    Returns:
        The loaded image, in any mode of `SUPPORTED_MODES`.

    Raises:
        InputImageError: (one line naming the file and the fix) when the file is missing, a directory, empty,
            unreadable, not an image, truncated or corrupt, of zero size, too large or in an unsupported mode.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        label = name or "<stdin>"
        if len(source) == 0:
            raise InputImageError(f"{label}: cannot read image: no data (0 bytes); pass a PNG or JPEG file")
        return _decode(io.BytesIO(source), label, draft_side)
    path = os.fspath(source)
    label = name or path
    if os.path.isdir(path):
        raise InputImageError(f"{label}: cannot read image: it is a directory; pass an image file such as a PNG")
    try:
        stream = open(path, "rb")
    except FileNotFoundError:
        raise InputImageError(f"{label}: cannot read image: no such file; check the path") from None
    except PermissionError:
        raise InputImageError(f"{label}: cannot read image: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputImageError(f"{label}: cannot read image: {exc.strerror or exc}; check the path") from None
    with stream:
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size == 0:
            raise InputImageError(
                f"{label}: cannot read image: the file is empty (0 bytes); re-export it as PNG or JPEG"
            )
        return _decode(stream, label, draft_side)


def normalise_mode(image: Image.Image, name: str) -> Image.Image:
    """The image as 8-bit "RGBA" when some pixel is not fully opaque, else as 8-bit "RGB"."""
    mode = image.mode
    if mode in _TO_RGBA or (mode == "P" and "transparency" in image.info):
        if mode == "La":  # premultiplied, which Pillow only un-premultiplies from RGBa
            luma, alpha = image.split()
            image = Image.merge("RGBa", (luma, luma, luma, alpha))
        if image.mode != "RGBA":
            image = image.convert("RGBA")
        extrema = cast(tuple[tuple[int, int], ...], image.getextrema())
        return image.convert("RGB") if extrema[3][0] == 255 else image
    if mode in _TO_RGB:
        return image if mode == "RGB" else image.convert("RGB")
    if mode in _SIXTEEN_BIT:
        grey: np.ndarray = np.asarray(image).astype(np.float32) / 257.0
    elif mode in _WIDE:
        grey = _scale_wide(np.asarray(image), is_float=mode == "F")
    else:
        raise InputImageError(_unsupported_mode(name, mode))
    return Image.fromarray(np.rint(grey).astype(np.uint8), "L").convert("RGB")


def _decode(stream: BinaryIO, name: str, draft_side: int | None = None) -> Image.Image:
    """Open, size-check, fully decode and orient an image from a binary stream."""
    corrupt = f"{name}: cannot read image: file is truncated or corrupt"
    # Record rather than raise Pillow's warnings: the bomb warning is covered by our own, lower size limit, and the
    # rest (bad EXIF, odd chunks) should not abort a run or, under `-W error`, turn into foreign exceptions.
    # (catch_warnings swaps process-wide state, so concurrent reads from threads may log each other's warnings.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            image = Image.open(stream)
        except Image.DecompressionBombError as exc:
            raise InputImageError(f"{name}: cannot read image: {_too_large(exc)}") from None
        except Image.UnidentifiedImageError:
            raise InputImageError(
                f"{name}: cannot read image: not an image file, or a format Pillow cannot read; "
                "pass a PNG, JPEG, WebP, BMP or TIFF file"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise InputImageError(f"{corrupt} ({exc}); re-export it as PNG or JPEG") from None
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise InputImageError(f"{name}: cannot read image: {_too_large(f'{width}x{height} pixels')}")
        if width == 0 or height == 0:
            raise InputImageError(f"{name}: cannot read image: it has zero size ({width}x{height}); re-export it")
        if image.mode not in SUPPORTED_MODES:
            raise InputImageError(_unsupported_mode(name, image.mode))
        if draft_side is not None and image.format == "JPEG" and max(width, height) > 2 * draft_side:
            scale = draft_side / max(width, height)
            image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        try:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
        except Image.DecompressionBombError as exc:
            raise InputImageError(f"{name}: cannot read image: {_too_large(exc)}") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise InputImageError(f"{corrupt} ({exc}); re-export it as PNG or JPEG") from None
    for warning in caught:
        logger.warning("%s: %s", name, warning.message)
    return image


def _too_large(found: object) -> str:
    """The refusal of an image over `MAX_IMAGE_PIXELS`; `found` is its size, or Pillow's bomb error."""
    if isinstance(found, Image.DecompressionBombError):
        # Pillow's message quotes its own, higher limit; only its pixel count is kept, so one limit is named.
        pixels = re.search(r"\((\d+) pixels\)", str(found))
        found = f"{int(pixels.group(1)) / 1e6:.0f} megapixels" if pixels else "over Pillow's own limit"
    side = math.isqrt(MAX_IMAGE_PIXELS)
    return (
        f"too large ({found}) for the limit of {side}x{side} pixels ({MAX_IMAGE_PIXELS / 1e6:.0f} megapixels), "
        "which guards against decompression bombs; downscale it"
    )


def _unsupported_mode(name: str, mode: str) -> str:
    return f"{name}: cannot read image: unsupported colour mode {mode!r}; re-export it as an 8-bit RGB or RGBA PNG"


def _scale_wide(values: np.ndarray, is_float: bool) -> np.ndarray:
    """Greyscale 32-bit int ("I") or float ("F") pixels to [0, 255], float32 (H, W).

    These modes declare no bit depth, so it is inferred from the data: the smallest of [0, 1] (floats only),
    [0, 255] and [0, 65535] holding every value sets the scale (Pillow reads 16-bit PGM files as "I", for
    instance); anything else is stretched from its minimum to its maximum.
    """
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    ranges = ([1.0] if is_float else []) + [255.0, 65535.0]
    for top in ranges:
        if low >= 0.0 and high <= top:
            return (values * (255.0 / top)).astype(np.float32)
    return ((values - low) * (255.0 / max(high - low, 1e-12))).astype(np.float32)
