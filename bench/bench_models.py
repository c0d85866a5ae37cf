"""Speed of every registered architecture on this machine: parameters, latency, inference and training rates.

Usage: python bench/bench_models.py [--threads N] [--repeats K] [--arch NAME ...] [--bf16] [--channels-last]

Columns: batch-1 latency (ms, median over K timed calls after warm-up), batch-32 inference samples/s and
batch-16 training samples/s (forward + L1 loss on the grid + backward + AdamW step), each the median over K
timed iterations. The last lines give dlsr-lite's speed over dls-paper-resnet, measured in the same run.
`--bf16` adds the same columns under `torch.autocast("cpu", dtype=torch.bfloat16)`: fast only on CPUs with
native bf16 (AVX512-BF16 / AMX); elsewhere oneDNN falls back to reference kernels that are ~100x slower.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.models import MODELS, SdfNet, build_model, count_parameters  # noqa: E402

LATENCY_BATCH = 1
INFERENCE_BATCH = 32
TRAINING_BATCH = 16


def median_seconds(step: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `step()` over `repeats` calls after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def autocast(bf16: bool) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on the CPU, or nothing."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def images_for(model: SdfNet, batch: int, channels_last: bool) -> torch.Tensor:
    """Random images (batch, 3, S, S) in [0, 1], in the memory format the model runs in."""
    size = model.config.image_size
    images = torch.rand(batch, 3, size, size)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def inference_seconds(model: SdfNet, batch: int, repeats: int, bf16: bool, channels_last: bool) -> float:
    """Median seconds of one eval-mode forward pass on `batch` images."""
    model.eval()
    images = images_for(model, batch, channels_last)

    def step() -> None:
        with torch.inference_mode(), autocast(bf16):
            model(images)

    return median_seconds(step, repeats, warmup=2 if batch == 1 else 1)


def training_seconds(model: SdfNet, batch: int, repeats: int, bf16: bool, channels_last: bool) -> float:
    """Median seconds of one training step (forward, L1 loss, backward, AdamW) on `batch` images."""
    model.train()
    images = images_for(model, batch, channels_last)
    resolution = model.config.resolution
    target = torch.randn(batch, resolution, resolution, resolution) * 0.1
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(bf16):
            loss = (model(images) - target).abs().mean()
        loss.backward()
        optimizer.step()

    return median_seconds(step, repeats)


@contextlib.contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """Run with `threads` intra-op threads, restoring the previous setting afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def to_channels_last(model: torch.nn.Module) -> None:
    """Store 2-D conv weights channels_last and 3-D ones channels_last_3d (activations follow the weights)."""
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.ndim == 4:
            module.to(memory_format=torch.channels_last)
        elif isinstance(weight, torch.Tensor) and weight.ndim == 5:
            module.to(memory_format=torch.channels_last_3d)


def measure(arch: str, repeats: int, bf16: bool, channels_last: bool) -> dict[str, float]:
    """All columns for one architecture (fp32, plus bf16 autocast when asked)."""
    torch.manual_seed(0)
    model = build_model(arch)
    if channels_last:
        to_channels_last(model)
    row = {"params": float(count_parameters(model))}
    for dtype in ("fp32", "bf16") if bf16 else ("fp32",):
        low = dtype == "bf16"
        latency = inference_seconds(model, LATENCY_BATCH, repeats, low, channels_last)
        inference = inference_seconds(model, INFERENCE_BATCH, repeats, low, channels_last)
        training = training_seconds(model, TRAINING_BATCH, repeats, low, channels_last)
        row[f"{dtype} b1 ms"] = 1000.0 * latency
        row[f"{dtype} b{INFERENCE_BATCH} inf/s"] = INFERENCE_BATCH / inference
        row[f"{dtype} b{TRAINING_BATCH} train/s"] = TRAINING_BATCH / training
    return row


def render(rows: dict[str, dict[str, float]]) -> str:
    """A plain-text table, one row per architecture."""
    columns = list(next(iter(rows.values())))
    header = f"{'arch':<18}" + "".join(f"{name:>17}" for name in columns)
    lines = [header, "-" * len(header)]
    for arch, row in rows.items():
        cells = "".join(
            f"{value / 1e6:>16.2f}M" if name == "params" else f"{value:>17.1f}" for name, value in row.items()
        )
        lines.append(f"{arch:<18}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=5, help="timed iterations per measurement (median)")
    parser.add_argument("--arch", nargs="+", choices=list(MODELS), default=list(MODELS), help="architectures")
    parser.add_argument("--bf16", action="store_true", help="also measure under bf16 autocast")
    parser.add_argument("--channels-last", action="store_true", help="run 3-D layers in channels_last_3d")
    args = parser.parse_args(argv)

    print(f"torch {torch.__version__}, {args.threads} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, repeats {args.repeats}")
    rows: dict[str, dict[str, float]] = {}
    with fixed_threads(args.threads):
        for arch in args.arch:
            rows[arch] = measure(arch, args.repeats, args.bf16, args.channels_last)
    print(render(rows))

    if {"dlsr-lite", "dls-paper-resnet"} <= rows.keys():
        lite, paper = rows["dlsr-lite"], rows["dls-paper-resnet"]
        for name in lite:
            if name == "params":
                continue
            ratio = paper[name] / lite[name] if name.endswith("ms") else lite[name] / paper[name]
            print(f"dlsr-lite / dls-paper-resnet speed, {name}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
