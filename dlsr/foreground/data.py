"""The foreground segmenter's training data: RGBA renders composited over photos and procedural backgrounds.

Each sample is a square canvas with one object pasted at a random size and place (sometimes off-centre or cut by
the frame), over a random crop of a photo or a made-up background (gradients, noise, stripes, checks, blurred
blobs, a floor meeting a wall), sometimes with smaller renders scattered behind it as clutter; then JPEG, blur,
noise or greyscale. The target is the object's pasted alpha, so the mask is exact by construction.

The photos are scikit-image's sample images (`TRAIN_PHOTOS`); the ones `bench/bench_background.py` scores on
(`BENCHMARK_PHOTOS`) are refused here, so the benchmark measures backgrounds the network never saw.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from dlsr.errors import DatasetError

BENCHMARK_PHOTOS = ("coffee", "chelsea", "rocket", "astronaut", "grass", "brick", "gravel")
"""scikit-image sample images that `bench/bench_background.py` pastes objects on: never used for training."""

TRAIN_PHOTOS = (
    "camera",
    "cell",
    "chessboard_GRAY",
    "chessboard_RGB",
    "clock_motion",
    "coins",
    "color",
    "horse",
    "hubble_deep_field",
    "ihc",
    "logo",
    "microaneurysms",
    "moon",
    "motorcycle_left",
    "motorcycle_right",
    "page",
    "phantom",
    "retina",
    "text",
)
"""scikit-image sample images (shipped with the package, public domain or CC0) used as training backgrounds."""

_PHOTO_SHARE = 0.55  # of the backgrounds: a photo crop; the rest are procedural
_CLUTTER_SHARE = 0.12  # of the samples: smaller renders scattered behind the object
_LARGE_SHARE = 0.12  # of the objects: larger than the canvas allows whole, so the frame cuts them


def photo_paths() -> list[Path]:
    """The training photos present in scikit-image's data folder (never a benchmark photo)."""
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    found = [
        path
        for path in sorted(folder.iterdir())
        if path.stem in TRAIN_PHOTOS and path.suffix.lower() in (".png", ".jpg")
    ]
    leaked = [path.stem for path in found if path.stem in BENCHMARK_PHOTOS]
    if leaked:  # cannot happen with the tuples above; guards edits to them
        raise DatasetError(f"benchmark photos among the training backgrounds: {leaked}")
    return found


def load_photos(paths: Sequence[Path]) -> list[np.ndarray]:
    """The photos as uint8 (H, W, 3) arrays (greyscale ones repeated over three channels)."""
    photos = []
    for path in paths:
        with Image.open(path) as image:
            photos.append(np.asarray(image.convert("RGB")))
    return photos


def render_paths(roots: Sequence[str | os.PathLike[str]], split: str = "train") -> list[Path]:
    """Every RGBA render (`<synset>/<id>/rendering/NN.png`) of the objects in each root's `split` lists.

    Raises:
        DatasetError: a root has no `<synset>/<split>.lst`, or its lists name no render.
    """
    paths: list[Path] = []
    for root in map(Path, roots):
        lists = sorted(root.glob(f"*/{split}.lst"))
        if not lists:
            raise DatasetError(f"{root}: no <synset>/{split}.lst split lists; give a dataset made by `dlsr data`")
        before = len(paths)
        for listing in lists:
            for model in listing.read_text().split():
                paths.extend(sorted((listing.parent / model / "rendering").glob("*.png")))
        if len(paths) == before:
            raise DatasetError(f"{root}: the {split} lists name no rendering/*.png; the dataset has no renders")
    return paths


def load_cutout(path: Path) -> np.ndarray:
    """A render cropped to its object: uint8 (h, w, 4) RGBA, alpha = object.

    Raises:
        DatasetError: the render has no alpha channel or an empty one.
    """
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a >= 16 else 0).getbbox()
    if box is None or image.mode not in ("RGBA", "LA", "P"):
        raise DatasetError(f"{path}: expected an RGBA render with the object in its alpha channel")
    return np.asarray(rgba.crop(box))


def composite(
    cutout: np.ndarray,
    background: np.ndarray,
    rng: np.random.Generator,
    *,
    scale: float,
    centre: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Paste `cutout` over `background` with its longest side `scale` times the canvas side, centred at `centre`.

    Args:
        cutout: uint8 (h, w, 4) RGBA.
        background: uint8 (S, S, 3).
        scale: the object's longest side over S (above 1 the frame cuts it).
        centre: (x, y) of the object's centre, fractions of S (may lie near or past the edge).

    Returns:
        The canvas, uint8 (S, S, 3), and the object's coverage there, float32 (S, S) in [0, 1].
    """
    side = background.shape[0]
    height, width = cutout.shape[:2]
    factor = scale * side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    cut = Image.fromarray(cutout, "RGBA").resize(size, Image.Resampling.LANCZOS)
    x, y = round(centre[0] * side - size[0] / 2), round(centre[1] * side - size[1] / 2)
    canvas = Image.fromarray(background, "RGB")
    canvas.paste(cut, (x, y), cut)
    cover = Image.new("L", (side, side), 0)
    cover.paste(cut.getchannel("A"), (x, y))
    return np.asarray(canvas), np.asarray(cover, dtype=np.float32) / 255.0


def photo_background(photo: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop of `photo` (a third to all of its shorter side), flipped, turned and recoloured."""
    height, width = photo.shape[:2]
    crop = max(8, int(min(height, width) * rng.uniform(0.2, 1.0) ** 0.7))
    top, left = int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))
    image = Image.fromarray(photo[top : top + crop, left : left + crop]).resize((side, side), Image.Resampling.BILINEAR)
    pixels = np.asarray(image)
    if rng.random() < 0.5:
        pixels = pixels[:, ::-1]
    pixels = np.rot90(pixels, int(rng.integers(4)))
    return _recolour(pixels, rng)


def procedural_background(side: int, rng: np.random.Generator) -> np.ndarray:
    """A made-up background, uint8 (S, S, 3): a gradient, noise, stripes, checks, blobs, or a floor and a wall."""
    kind = int(rng.integers(6))
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    colours = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    if kind == 0:  # linear gradient at a random angle
        angle = rng.uniform(0, 2 * np.pi)
        t = np.cos(angle) * xx + np.sin(angle) * yy
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        pixels = colours[0] + t[..., None] * (colours[1] - colours[0])
    elif kind == 1:  # smooth multi-scale noise
        pixels = _noise(side, rng) * 255
    elif kind == 2:  # stripes or checks
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(0.03, 0.3)
        u = np.cos(angle) * xx + np.sin(angle) * yy
        wave = np.sin(2 * np.pi * u / period)
        if rng.random() < 0.5:
            v = -np.sin(angle) * xx + np.cos(angle) * yy
            wave = wave * np.sin(2 * np.pi * v / period)
        t = 1 / (1 + np.exp(-wave * rng.uniform(1, 20)))
        pixels = colours[0] + t[..., None] * (colours[1] - colours[0])
    elif kind == 3:  # blurred blobs of colour on a plain base
        image = Image.new("RGB", (side, side), tuple(int(c) for c in colours[0]))
        from PIL import ImageDraw

        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(3, 25))):
            x, y = rng.uniform(-0.2, 1.2, 2) * side
            rx, ry = rng.uniform(0.02, 0.3, 2) * side
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 6))))
        pixels = np.asarray(image, dtype=np.float32)
    elif kind == 4:  # a floor meeting a wall, each with its own texture
        horizon = rng.uniform(0.2, 0.9) + (xx - 0.5) * rng.uniform(-0.3, 0.3)
        texture = _noise(side, rng) - 0.5
        wall = colours[0] + texture * rng.uniform(0, 120)
        floor = colours[1] + texture[::-1] * rng.uniform(0, 120)
        pixels = np.where((yy > horizon)[..., None], floor, wall)
    else:  # fine noise over a flat colour (paper, sensor noise, gravel-like grain)
        pixels = colours[0] + rng.normal(0, rng.uniform(5, 60), (side, side, 1 if rng.random() < 0.5 else 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _noise(side: int, rng: np.random.Generator) -> np.ndarray:
    """Value noise of a few octaves, float32 (S, S, 3) in [0, 1]."""
    total = np.zeros((side, side, 3), np.float32)
    for cells in (2, 4, 8, 16, 32)[: int(rng.integers(2, 6))]:
        grid = rng.uniform(0, 255, (cells, cells, 3)).astype(np.uint8)
        total += np.asarray(Image.fromarray(grid).resize((side, side), Image.Resampling.BICUBIC), np.float32)
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def _recolour(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random per-channel gain, brightness offset and channel order."""
    out = pixels.astype(np.float32)
    if rng.random() < 0.3:
        out = out[..., rng.permutation(3)]
    out = (out * rng.uniform(0.6, 1.3, 3) + rng.uniform(-40, 40)).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def degrade(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The camera and the web: blur, sensor noise, greyscale and JPEG, each at random. uint8 (S, S, 3) in and out."""
    image = Image.fromarray(pixels)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))
    if rng.random() < 0.1:
        image = image.convert("L").convert("RGB")
    out = np.asarray(image)
    if rng.random() < 0.4:
        noisy = out + rng.normal(0, rng.uniform(1, 10), out.shape)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, "JPEG", quality=int(rng.integers(30, 96)))
        buffer.seek(0)
        out = np.asarray(Image.open(buffer).convert("RGB"))
    return out


def make_sample(
    cutouts: Sequence[np.ndarray], photos: Sequence[np.ndarray], side: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One training sample: an object over a random background.

    Args:
        cutouts: RGBA renders cropped to their objects, uint8 (h, w, 4).
        photos: background photos, uint8 (H, W, 3).
        side: canvas side S, pixels.

    Returns:
        uint8 (S, S, 3) image and float32 (S, S) target coverage in [0, 1].
    """
    if photos and rng.random() < _PHOTO_SHARE:
        background = photo_background(photos[int(rng.integers(len(photos)))], side, rng)
    else:
        background = procedural_background(side, rng)
    large = rng.random() < _LARGE_SHARE
    scale = float(rng.uniform(1.0, 1.4) if large else rng.uniform(0.2, 0.95))
    if rng.random() < _CLUTTER_SHARE:
        for _ in range(int(rng.integers(1, 5))):
            clutter = cutouts[int(rng.integers(len(cutouts)))]
            where = (float(rng.uniform(-0.1, 1.1)), float(rng.uniform(-0.1, 1.1)))
            background, _ = composite(clutter, background, rng, scale=scale * rng.uniform(0.2, 0.6), centre=where)
            if rng.random() < 0.5:
                blurred = Image.fromarray(background).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2))))
                background = np.asarray(blurred)
    cutout = cutouts[int(rng.integers(len(cutouts)))]
    if rng.random() < 0.5:
        cutout = cutout[:, ::-1]
    cutout = _jitter_object(cutout, rng)
    # The centre keeps a small object (almost) whole in the frame; a large one is cut wherever it falls.
    reach = 0.3 if large else max(0.5 - scale / 2, 0.0) + 0.04
    centre = (float(0.5 + rng.uniform(-reach, reach)), float(0.5 + rng.uniform(-reach, reach)))
    image, cover = composite(np.ascontiguousarray(cutout), background, rng, scale=scale, centre=centre)
    return degrade(image, rng), cover


def _jitter_object(cutout: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and tint of an RGBA object (its alpha untouched)."""
    rgb = cutout[..., :3].astype(np.float32)
    rgb = ((rgb - 128) * rng.uniform(0.7, 1.3) + 128 + rng.uniform(-30, 30) + rng.uniform(-15, 15, 3)).astype(
        np.float32
    )
    return np.dstack([np.clip(rgb, 0, 255).astype(np.uint8), cutout[..., 3]])


def make_batch(
    cutouts: Sequence[np.ndarray], photos: Sequence[np.ndarray], count: int, side: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`count` samples: uint8 (B, S, S, 3) images and float32 (B, S, S) targets."""
    samples = [make_sample(cutouts, photos, side, rng) for _ in range(count)]
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])


__all__ = [
    "BENCHMARK_PHOTOS",
    "TRAIN_PHOTOS",
    "composite",
    "degrade",
    "load_cutout",
    "load_photos",
    "make_batch",
    "make_sample",
    "photo_background",
    "photo_paths",
    "procedural_background",
    "render_paths",
]
