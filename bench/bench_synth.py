"""Speed and memory of `dlsr data synth` (and `dlsr data prepare` on the shared real meshes).

    python bench/bench_synth.py [--per-category 2] [--workers 2] [--views 24]

Makes a fresh dataset of all 13 categories in a temporary folder with the default ground truth (32^3 SDF,
100 000 occupancy and surface samples, 32^3 voxels) and prints objects per second. Memory: the peak resident
size of the largest worker for two dataset sizes; flat means it does not grow with the dataset.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def synth(per_category: int, workers: int, views: int, folder: Path) -> tuple[int, float, float]:
    """Make one dataset in a fresh process, so the peak memory it reports belongs to this dataset alone."""
    code = (
        "import json, resource, sys, time\n"
        "from dlsr.synth import SynthConfig, make_dataset\n"
        f"config = SynthConfig(per_category={per_category}, views={views})\n"
        "started = time.perf_counter()\n"
        f"report = make_dataset(config, {str(folder)!r}, workers={workers})\n"
        "seconds = time.perf_counter() - started\n"
        "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
        "           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024\n"
        "print(json.dumps([report.written, seconds, peak]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    written, seconds, peak = json.loads(result.stdout.strip().splitlines()[-1])
    return int(written), float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-category", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--views", type=int, default=24)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        for per_category in (args.per_category, 3 * args.per_category):
            count, seconds, peak = synth(per_category, args.workers, args.views, Path(tmp) / f"synth{per_category}")
            print(
                f"synth: {count} objects ({per_category}/category, {args.views} views, {args.workers} workers) in "
                f"{seconds:.1f} s = {count / seconds:.2f} objects/s; peak RSS of one process {peak:.0f} MiB"
            )

        meshes = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "meshes"
        if meshes.is_dir():
            from dlsr.synth import SynthConfig, prepare_dataset

            times: list[tuple[str, float]] = []
            started = time.perf_counter()
            report = prepare_dataset(
                meshes,
                SynthConfig(views=args.views),
                Path(tmp) / "prepared",
                on_item=lambda result: times.append((result.task.model_id, result.seconds)),
            )
            total = time.perf_counter() - started
            print(f"prepare: {report.written} real meshes in {total:.1f} s (1 worker)")
            for name, seconds in times:
                print(f"  {name:>12}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
