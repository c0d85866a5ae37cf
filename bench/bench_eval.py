"""End-to-end speed of `dlsr eval`: image loading, inference, marching cubes and the default 100k-point metrics.

Usage: python bench/bench_eval.py [--weights W.safetensors] [--objects 1] [--views 24] [--workers N]
       python bench/bench_eval.py --categories chair,table   (the shipped model's weakest categories)
       python bench/bench_eval.py --truth-as-predictions   (metric cost of a perfect model)

Generates a procedural dataset like the synthetic test split (default: one object of each of the 13 categories,
24 views each, 100k surface and occupancy points; seed 1000, so objects the shipped weights never saw in
training) in a temporary folder, scores every view with `dlsr.eval.evaluate` (split "all", IoU protocol
onet, default metrics), and prints samples per second, the time per stage measured on one sample, the peak
memory, and the load average (the figure is only comparable between runs on an equally loaded machine).

The rate depends on the predictions: nearest-neighbour queries from true samples far from the predicted surface
(a missed table leg) cost several times those of near ones, and an empty prediction costs almost nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights file (default: the installed one)")
    parser.add_argument("--categories", default="", help="comma-separated names or synsets (default: all 13)")
    parser.add_argument("--objects", type=int, default=1, help="objects per category")
    parser.add_argument("--views", type=int, default=24, help="views per object")
    parser.add_argument("--seed", type=int, default=1000, help="dataset seed (the shipped weights used 0)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes for meshing and metrics (default: dlsr eval's, one per CPU)",
    )
    parser.add_argument("--data", help="reuse this generated dataset folder instead of a temporary one")
    parser.add_argument(
        "--truth-as-predictions",
        action="store_true",
        help="score the true meshes through --predictions instead of the model: the metric cost of a perfect model "
        "(nearest-neighbour queries get slower the further the prediction is from the truth)",
    )
    args = parser.parse_args()

    from dlsr.eval import EvalConfig, evaluate
    from dlsr.synth import SynthConfig, make_dataset
    from dlsr.synth.shapes import CATEGORIES, category_id
    from dlsr.workers import auto_workers

    categories = tuple(category_id(c.strip()) for c in args.categories.split(",") if c.strip()) or tuple(CATEGORIES)

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.data) if args.data else Path(scratch) / "data"
        started = time.perf_counter()
        config = SynthConfig(categories=categories, per_category=args.objects, views=args.views, seed=args.seed)
        make_dataset(config, root)
        objects = len(categories) * args.objects
        print(f"dataset: {objects} objects x {args.views} views in {time.perf_counter() - started:.1f} s")

        predictions = None
        if args.truth_as_predictions:
            predictions = Path(scratch) / "predictions"
            for mesh in root.glob("*/*/model.obj"):
                (predictions / mesh.parent.parent.name).mkdir(parents=True, exist_ok=True)
                (predictions / mesh.parent.parent.name / f"{mesh.parent.name}.obj").symlink_to(mesh)
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        run = evaluate(
            root,
            Path(scratch) / "results.jsonl",
            EvalConfig(split="all", predictions=None if predictions is None else str(predictions)),
            weights=args.weights,
            device="cpu",
            workers=args.workers,
            frame_check=False,
        )
        load_after = os.getloadavg()
        cpu = time.process_time() - cpu_before  # this process's threads; with --workers > 1 add the workers'
        rate = run.scored / run.seconds
        print(
            f"eval: {run.scored} samples in {run.seconds:.2f} s = {rate:.2f} samples/s "
            f"(workers {args.workers or auto_workers(run.scored)}, {run.summary['failures']} failures, "
            f"{run.summary['empty']} empty, "
            f"IoU {run.summary['instance_mean']['iou']:.3f})"
        )
        if args.workers == 1:
            # On a shared machine the wall-clock rate says more about the neighbours than about dlsr; CPU seconds
            # per sample do not depend on them (much: caches and memory bandwidth are still shared).
            print(f"  {cpu / run.scored * 1000:.0f} ms CPU time per sample = {run.scored / cpu:.2f} per CPU-second")
        if not args.truth_as_predictions:
            stages(root, args.weights)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest finished worker
        print(f"peak memory of this process: {peak:.0f} MiB; of the largest worker process: {children:.0f} MiB")
        print(
            f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f} on {os.cpu_count()} CPUs"
        )


def stages(root: Path, weights: str | None) -> None:
    """Time each stage on the first sample (median of 3)."""
    from dlsr.eval import EvalConfig
    from dlsr.eval.layouts import read_samples
    from dlsr.eval.plan import input_pixels
    from dlsr.eval.score import Job, cached_truth, score_job
    from dlsr.mesh import extract_mesh
    from dlsr.pipeline import load_model, predict_sdf
    from dlsr.sdf import resample_sdf

    model = load_model(weights, "cpu")
    _, samples = read_samples(root, split="all")
    config = EvalConfig(split="all")
    # The stage timings need a sample whose prediction has a surface to mesh.
    sample = samples[0]
    for candidate in samples:
        if (predict_sdf(model, [input_pixels(candidate, model)]) < 0).any():
            sample = candidate
            break

    def timed(function: object) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            function()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    pixels = input_pixels(sample, model)
    (sdf,) = predict_sdf(model, [pixels])
    grid = model.info.grid
    cached_truth(sample.truth, config.points, config.iou_points, config.seed)
    job = Job(sample, config, sdf=sdf, grid=grid)
    rows = {
        "image loading and preparation": timed(lambda: input_pixels(sample, model)),
        "network, batch of 16 (per image)": timed(lambda: predict_sdf(model, [pixels] * 16)) / 16,
        "resample + marching cubes": timed(lambda: extract_mesh(resample_sdf(sdf, 64), grid.with_resolution(64))),
        "meshing + all metrics (truth cached)": timed(lambda: score_job(job)),
    }
    from dlsr.sdf import read_sdf_archive

    # An untrained or early model predicts far from the truth, and nearest-neighbour queries slow down with the
    # distance: the true SDF through the same path is the cost for a model that is close.
    true_sdf, true_grid = read_sdf_archive(sample.image.parent.parent / "sdf.npz")
    close = Job(sample, config, sdf=true_sdf, grid=true_grid)
    rows["meshing + all metrics, true SDF as prediction"] = timed(lambda: score_job(close))
    cached_truth.cache_clear()
    rows["ground truth load (once per object)"] = timed(
        lambda: (cached_truth.cache_clear(), cached_truth(sample.truth, config.points, config.iou_points, config.seed))
    )
    for name, seconds in rows.items():
        print(f"  {name:40s} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
