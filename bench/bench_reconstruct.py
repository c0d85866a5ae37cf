"""End-to-end reconstruction speed: image file -> mesh file, warm, per image, in batch mode.

    python bench/bench_reconstruct.py [--images 32] [--batch-size 16] [--resolution 64] [--format obj] [--weights W]

Uses --weights when given (a candidate model, e.g. a 64^3 one), else the shipped default weights when present,
else an untrained default model (its output, a template sphere plus noise, meshes like a trained one). Prints the
time per stage and per image. Inputs are 137x137 RGBA renders (the size of 3D-R2N2's), written to a temporary
folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def make_inputs(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        image = Image.new("RGBA", (137, 137), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        box = [int(v) for v in rng.integers(20, 60, size=2)] + [int(v) for v in rng.integers(80, 120, size=2)]
        draw.ellipse(box, fill=(*(int(c) for c in rng.integers(0, 255, size=3)), 255))
        path = folder / f"view{index:03d}.png"
        image.save(path)
        paths.append(path)
    return paths


def resolution_sweep() -> None:
    """Time and accuracy of meshing a 32^3 torus SDF at several marching-cubes resolutions."""
    import math

    from dlsr.pipeline import mesh_sdf
    from dlsr.sdf import Grid, sample_sdf, torus

    grid = Grid(32)
    major, minor = 0.3, 0.12
    sdf = sample_sdf(torus(major_radius=major, minor_radius=minor), grid)
    truth = 2 * math.pi**2 * major * minor**2
    mesh_sdf(sdf, grid, 32)  # warm-up (imports)
    print("marching-cubes resolution sweep on a 32^3 torus SDF (tricubic resampling):")
    for resolution in (32, 48, 64, 96, 128):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            mesh, _ = mesh_sdf(sdf, grid, resolution)
            times.append(time.perf_counter() - started)
        error = 100 * (mesh.volume - truth) / truth
        print(
            f"  {resolution:>4}^3: {1000 * statistics.median(times):6.1f} ms, volume error {error:+.2f} %, "
            f"{len(mesh.faces)} faces"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=None, help="default: the CLI's default")
    parser.add_argument("--format", default="obj")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="only the marching-cubes resolution sweep")
    parser.add_argument("--weights", type=Path, default=None, help="weights file (default: the shipped ones)")
    args = parser.parse_args()
    if args.sweep:
        resolution_sweep()
        return

    import torch

    from dlsr.checkpoint import find_weights, save_weights
    from dlsr.errors import WeightsError
    from dlsr.image import PreprocessConfig, load_image
    from dlsr.mesh import save_mesh
    from dlsr.models import DEFAULT_ARCH, build_model
    from dlsr.pipeline import DEFAULT_MESH_RESOLUTION, load_model, mesh_sdf, predict_sdf

    resolution = args.resolution or DEFAULT_MESH_RESOLUTION
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            weights = args.weights or find_weights()
            source = f"weights {weights}" if args.weights else f"shipped weights {weights}"
        except WeightsError:
            torch.manual_seed(0)
            network = build_model(DEFAULT_ARCH)
            weights = save_weights(
                network,
                folder / "untrained.safetensors",
                preprocess=PreprocessConfig(image_size=network.config.image_size),
            )
            source = "untrained default model (no shipped weights)"
        model = load_model(weights, "cpu")
        inputs = make_inputs(folder, args.images)
        out = folder / "out"
        out.mkdir()
        print(f"model: {model.info.arch} ({source}); torch threads: {torch.get_num_threads()}")
        print(
            f"{args.images} images of 137x137 RGBA, batch {args.batch_size}, marching cubes at {resolution}^3, "
            f".{args.format} output"
        )

        stages: dict[str, list[float]] = {"load+prepare": [], "network": [], "resample+mesh": [], "write": []}
        totals = []
        for repeat in range(args.repeats + 1):  # the first pass warms up
            per_stage = dict.fromkeys(stages, 0.0)
            started = time.perf_counter()
            for first in range(0, len(inputs), args.batch_size):
                chunk = inputs[first : first + args.batch_size]
                t = time.perf_counter()
                prepared = [load_image(path, model.info.preprocess) for path in chunk]
                per_stage["load+prepare"] += time.perf_counter() - t
                t = time.perf_counter()
                sdfs = predict_sdf(model, [image.pixels for image in prepared])
                per_stage["network"] += time.perf_counter() - t
                for path, sdf in zip(chunk, sdfs, strict=True):
                    t = time.perf_counter()
                    mesh, _ = mesh_sdf(sdf, model.info.grid, resolution)
                    per_stage["resample+mesh"] += time.perf_counter() - t
                    t = time.perf_counter()
                    save_mesh(mesh, out / f"{path.stem}.{args.format}", overwrite=True)
                    per_stage["write"] += time.perf_counter() - t
            if repeat:
                totals.append((time.perf_counter() - started) / len(inputs))
                for name, seconds in per_stage.items():
                    stages[name].append(seconds / len(inputs))
        for name, values in stages.items():
            print(f"  {name:>14}: {1000 * statistics.median(values):6.1f} ms/image")
        print(
            f"  {'end to end':>14}: {1000 * statistics.median(totals):6.1f} ms/image "
            f"({1 / statistics.median(totals):.1f} images/s)"
        )

        single = []
        for _ in range(5):
            t = time.perf_counter()
            image = load_image(inputs[0], model.info.preprocess)
            (sdf,) = predict_sdf(model, [image.pixels])
            mesh, _ = mesh_sdf(sdf, model.info.grid, resolution)
            save_mesh(mesh, out / "single.obj", overwrite=True)
            single.append(time.perf_counter() - t)
        print(f"  {'batch of 1':>14}: {1000 * statistics.median(single):6.1f} ms/image")


if __name__ == "__main__":
    main()
