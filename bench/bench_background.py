"""Finding the object on real backgrounds: mask IoU per background mode, reconstruction IoU drop, segmenter speed.

Objects with a known alpha are pasted over real photos and the mask each `--background` mode finds is scored
against that alpha:
- renders made here with `dlsr.synth` (tiny: one object per category, RGBA, ground-truth SDF beside them);
- the shared real renders (../shared/realdata/renders, ShapeNet on white: their alpha is what the flood fill
  finds on white, and `example_input_raw.png`'s own alpha).
Backgrounds are scikit-image's sample photos (CC0 or public domain: coffee, chelsea, rocket, astronaut, and the
grass, brick and gravel textures), random crops scaled to 640 x 480, with the object at random sizes (35-75 % of
the height) and positions. The shared photos (../shared/realdata/photos, no ground truth) report the mode `auto`
chose and the share of the photo it kept. Nothing is written to the repository; only figures are printed.

Reconstruction: for each synthetic object, the occupancy IoU against its ground truth (32^3, the shipped weights,
their calibrated level) from the render on white, from the composite with `auto`, and from the composite taken
whole (`none`, what dlsr did on cluttered photos before), and with each segmenter. Speed: the segmenters on a
1-megapixel composite.

Modes: `--background` auto, plain, grabcut and learned (when the segmenter's weights are installed), and
"learned+grabcut", which is `learned` with `dlsr.foreground.predict.REFINE_WITH_GRABCUT` flipped: the network's
mask alone when the shipped setting refines with GrabCut, and the other way round. The segmenter never saw these
backgrounds or objects (`dlsr.foreground.data.BENCHMARK_PHOTOS`; seed-7 objects and the shared renders).

    python bench/bench_background.py              # the benchmark
    python bench/bench_background.py --sweep      # GrabCut's working side and iterations
    python bench/bench_background.py --masks-only --per-object 1   # mask IoU per mode alone (about 30 s)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from dlsr import image as data
from dlsr import segment

SHARED = Path(__file__).resolve().parents[2] / "shared" / "realdata"
CANVAS = (640, 480)
MODES = ["auto", "plain", "grabcut", "learned"]


def backgrounds() -> dict[str, np.ndarray]:
    """scikit-image's CC0 / public-domain photos as uint8 (H, W, 3)."""
    from skimage import data as samples

    photos = {name: getattr(samples, name)() for name in ("coffee", "chelsea", "rocket", "astronaut")}
    for name in ("grass", "brick", "gravel"):
        grey = getattr(samples, name)()
        photos[name] = np.dstack([grey] * 3)
    return photos


def synth_objects(folder: Path) -> list[tuple[str, Image.Image, Path]]:
    """One procedural object per category, two views each, as (name, RGBA render, object folder)."""
    from dlsr.synth import SynthConfig, make_dataset

    config = SynthConfig(per_category=1, views=2, points=2000, surface_points=2000, split=(0.0, 0.0, 1.0), seed=7)
    make_dataset(config, folder)
    objects = []
    for render in sorted(folder.glob("*/*/rendering/*.png")):
        image = Image.open(render)
        image.load()
        objects.append((f"synth/{render.parents[2].name}/{render.stem}", image.convert("RGBA"), render.parents[1]))
    return objects


def shared_objects() -> list[tuple[str, Image.Image, None]]:
    """The shared real renders with an alpha: their own, or the flood fill's on their white background."""
    objects = []
    for path in sorted((SHARED / "renders").glob("*/*.*")):
        if path.suffix.lower() not in (".png", ".jpg"):
            continue
        image = data.read_image(path)
        prepared = data.prepare_image(image, background="plain")
        if prepared.mask is None or prepared.foreground == "whole-image":
            continue
        alpha = prepared.mask.resize(image.size, Image.Resampling.NEAREST)
        rgba = image.convert("RGBA")
        rgba.putalpha(alpha)
        objects.append((f"shared/{path.parent.name}/{path.name}", rgba, None))
    return objects


def composite(
    obj: Image.Image, photo: np.ndarray, rng: np.random.Generator, canvas: tuple[int, int] = CANVAS
) -> tuple[Image.Image, np.ndarray]:
    """`obj` (RGBA) pasted over a random crop of `photo`, at a random size and place; and its true mask."""
    height, width = photo.shape[:2]
    aspect = canvas[0] / canvas[1]
    crop_h = int(rng.uniform(0.5, 1.0) * min(height, width / aspect))
    crop_w = int(crop_h * aspect)
    top, left = int(rng.integers(0, height - crop_h + 1)), int(rng.integers(0, width - crop_w + 1))
    background = Image.fromarray(photo[top : top + crop_h, left : left + crop_w]).resize(canvas, Image.BILINEAR)
    cut = obj.crop(obj.getchannel("A").getbbox())
    scale = rng.uniform(0.35, 0.75) * canvas[1] / max(cut.size)
    cut = cut.resize((max(1, round(cut.width * scale)), max(1, round(cut.height * scale))), Image.LANCZOS)
    x = int(rng.integers(int(0.08 * canvas[0]), max(int(0.08 * canvas[0]) + 1, int(0.92 * canvas[0]) - cut.width)))
    y = int(rng.integers(int(0.08 * canvas[1]), max(int(0.08 * canvas[1]) + 1, int(0.92 * canvas[1]) - cut.height)))
    background.paste(cut, (x, y), cut)
    truth = np.zeros(canvas[::-1], bool)
    truth[y : y + cut.height, x : x + cut.width] = np.asarray(cut.getchannel("A")) >= 128
    return background, truth


# Not a --background mode: "learned" with REFINE_WITH_GRABCUT flipped (named in main once the setting is known).
REFINED = "learned+grabcut"
RECONSTRUCTION_MODES = ["auto", "none", "grabcut"]  # "learned" and REFINED join when the segmenter is present


def prepare(image: Image.Image, mode: str, preprocess: data.PreprocessConfig | None = None) -> data.PreparedImage:
    """`prepare_image` in background `mode`, or in "learned" with `REFINE_WITH_GRABCUT` flipped for `REFINED`."""
    config = preprocess or data.PreprocessConfig()
    if mode != REFINED:
        return data.prepare_image(image, config, background=mode)  # type: ignore[arg-type]
    from dlsr.foreground import predict

    before = predict.REFINE_WITH_GRABCUT
    predict.REFINE_WITH_GRABCUT = not before
    try:
        return data.prepare_image(image, config, background="learned")
    finally:
        predict.REFINE_WITH_GRABCUT = before


def found_mask(prepared: data.PreparedImage, size: tuple[int, int]) -> np.ndarray:
    if prepared.foreground == "whole-image" or prepared.mask is None:
        return np.ones(size[::-1], bool)
    return np.asarray(prepared.mask.resize(size, Image.Resampling.NEAREST)) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def describe(values: list[float]) -> str:
    below = sum(v < 0.9 for v in values)
    return (
        f"mean {statistics.mean(values):.3f}  median {statistics.median(values):.3f}  min {min(values):.3f}  "
        f"under 0.90: {below}/{len(values)}"
    )


def mask_benchmark(objects: list, photos: dict[str, np.ndarray], per_object: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    scores: dict[str, dict[str, list[float]]] = {mode: {"synth": [], "shared": []} for mode in MODES}
    chosen: dict[str, int] = {}
    composites = []
    names = sorted(photos)
    for name, obj, folder in objects:
        for _ in range(per_object):
            photo_name = names[int(rng.integers(len(names)))]
            image, truth = composite(obj, photos[photo_name], rng)
            composites.append((name, obj, folder, image, truth))
            for mode in MODES:
                try:
                    prepared = prepare(image, mode)
                    score = iou(found_mask(prepared, image.size), truth)
                    if mode == "auto":
                        chosen[prepared.foreground] = chosen.get(prepared.foreground, 0) + 1
                except Exception as exc:  # a mode that finds nothing scores 0
                    score = 0.0
                    if mode == "auto":
                        chosen[type(exc).__name__] = chosen.get(type(exc).__name__, 0) + 1
                scores[mode][name.split("/")[0]].append(score)
    print(f"\nmask IoU against the known alpha, {len(composites)} composites on {CANVAS[0]}x{CANVAS[1]} photos")
    for mode in MODES:
        for group, values in scores[mode].items():
            if values:
                print(f"  {mode:16s} {group:7s} ({len(values):3d})  {describe(values)}")
        pooled = [value for values in scores[mode].values() for value in values]
        print(f"  {mode:16s} all     ({len(pooled):3d})  {describe(pooled)}")
    print(f"  auto chose: {chosen}")
    return composites


def reconstruction_benchmark(composites: list) -> None:
    from dlsr.pipeline import load_model, predict_sdf

    model = load_model(device="cpu")
    level = model.info.level
    rows = []
    for name, obj, folder, image, _ in composites:
        if folder is None:
            continue
        with np.load(folder / "sdf.npz") as archive:
            truth = archive["sdf"] < 0
        inputs = [data.prepare_image(obj, model.info.preprocess).pixels]  # the render on white (alpha path)
        for mode in RECONSTRUCTION_MODES:
            try:
                inputs.append(prepare(image, mode, model.info.preprocess).pixels)
            except Exception:
                inputs.append(np.full_like(inputs[0], 255))
        sdfs = predict_sdf(model, inputs)
        if sdfs.shape[1:] != truth.shape:
            print(f"  {name}: ground truth {truth.shape} does not match the model's grid {sdfs.shape[1:]}; skipped")
            continue
        rows.append([iou(sdf < level, truth) for sdf in sdfs])
    table = np.array(rows)
    white = table[:, 0].mean()
    print(f"\nreconstruction IoU against ground truth (32^3, shipped weights, level {level:g}), {len(rows)} composites")
    print(f"  on white {white:.3f}")
    for column, mode in enumerate(RECONSTRUCTION_MODES, start=1):
        drops = table[:, 0] - table[:, column]
        label = "none (whole)" if mode == "none" else mode
        print(f"  {label:16s} {table[:, column].mean():.3f}  drop {drops.mean():+.3f}  median {np.median(drops):+.3f}  "
              f"worst {drops.max():+.3f}  within 0.05: {(drops <= 0.05).sum()}/{len(drops)}")  # fmt: skip


def photos_report() -> None:
    print("\nshared photos (no ground truth): the mode auto chose and the share of the photo kept")
    for path in sorted((SHARED / "photos").glob("*.*")):
        if path.suffix.lower() not in (".png", ".jpg"):
            continue
        image = data.read_image(path)
        started = time.perf_counter()
        try:
            prepared = data.prepare_image(image)
            kept = found_mask(prepared, image.size).mean()
            print(f"  {path.name:16s} {image.width}x{image.height}  {prepared.foreground:10s} kept {kept:.2f}  "
                  f"{(time.perf_counter() - started) * 1e3:.0f} ms")  # fmt: skip
        except Exception as exc:
            print(f"  {path.name:16s} {type(exc).__name__}: {exc}")


def timing(objects: list, photos: dict[str, np.ndarray], repeats: int = 5) -> None:
    rng = np.random.default_rng(1)
    canvas = (1155, 866)  # 1.0 megapixels
    image, _ = composite(objects[0][1], photos["coffee"], rng, canvas)
    print(f"\nSegmenters on a {canvas[0]}x{canvas[1]} (1.0 MP) composite, best of {repeats} (wall and CPU seconds)")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("PNG", "JPEG"):
            path = Path(folder) / f"photo.{fmt.lower()}"
            image.save(path, fmt)
            for mode in [m for m in ("grabcut", "learned", "auto") if m in MODES]:
                walls, cpus = [], []
                for _ in range(repeats):
                    wall, cpu = time.perf_counter(), time.process_time()
                    data.load_image(path, background=mode)  # type: ignore[arg-type]
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                print(f"  {fmt:4s} file -> network input, {mode:7s}: wall {min(walls):.3f} s, CPU {min(cpus):.3f} s")
        walls = []
        for _ in range(repeats):
            wall = time.perf_counter()
            segment.grabcut_mask(image)
            walls.append(time.perf_counter() - wall)
        print(f"  grabcut_mask alone on the decoded image: wall {min(walls):.3f} s")
        if "learned" in MODES:
            from dlsr.foreground.predict import learned_mask

            walls = []
            for _ in range(repeats):
                wall = time.perf_counter()
                learned_mask(image)
                walls.append(time.perf_counter() - wall)
            print(f"  learned_mask alone on the decoded image: wall {min(walls):.3f} s")


def sweep(objects: list, photos: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    names = sorted(photos)
    cases = [composite(obj, photos[names[int(rng.integers(len(names)))]], rng) for _, obj, _ in objects]
    print(f"\nGrabCut sweep on {len(cases)} composites: mask IoU mean / under 0.9, and time per image")
    for side in (192, 256, 384):
        for iterations in (2, 4, 6):
            scores, started = [], time.perf_counter()
            for image, truth in cases:
                mask = segment.grabcut_mask(image, side=side, iterations=iterations)
                scores.append(0.0 if mask is None else iou(np.asarray(mask) >= 128, truth))
            seconds = (time.perf_counter() - started) / len(cases)
            print(f"  side {side:3d} iterations {iterations}: IoU {statistics.mean(scores):.3f} / "
                  f"{sum(s < 0.9 for s in scores):2d} under 0.9   {seconds * 1e3:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-object", type=int, default=3, help="composites per object")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="sweep GrabCut's side and iterations instead")
    parser.add_argument("--masks-only", action="store_true", help="mask IoU per mode only: no reconstruction")
    args = parser.parse_args()
    global REFINED
    try:
        import rembg  # noqa: F401

        if segment.rembg_model_path().is_file():
            MODES.append("rembg")
    except ImportError:
        pass
    try:
        from dlsr.foreground.predict import find_segmenter_weights

        print(f"segmenter weights: {find_segmenter_weights()}")
    except Exception as exc:  # MissingDependencyError: no weights shipped or named
        print(f"learned skipped: {exc}")
        MODES.remove("learned")
    else:
        from dlsr.foreground.predict import REFINE_WITH_GRABCUT

        REFINED = "learned-net-only" if REFINE_WITH_GRABCUT else "learned+grabcut"
        MODES.append(REFINED)
        RECONSTRUCTION_MODES.extend(["learned", REFINED])
    print(f"modes: {', '.join(MODES)} (rembg {'included' if 'rembg' in MODES else 'not installed: skipped'})")
    photos = backgrounds()
    with tempfile.TemporaryDirectory() as folder:
        objects = synth_objects(Path(folder))
        if SHARED.is_dir():
            objects += shared_objects()
        else:
            print(f"{SHARED} absent: synthetic renders only", file=sys.stderr)
        if args.sweep:
            sweep(objects, photos)
            return
        composites = mask_benchmark(objects, photos, args.per_object, args.seed)
        if args.masks_only:
            return
        reconstruction_benchmark(composites)
    if SHARED.is_dir():
        photos_report()
    timing(objects, photos)


if __name__ == "__main__":
    main()
