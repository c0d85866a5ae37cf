"""Speed of every registered architecture on this machine: parameters, latency, inference and training rates.

Usage: python bench/bench_models.py [--threads N] [--repeats K] [--arch NAME ...] [--weights FILE ...] [--bf16]
                                    [--channels-last]

Columns: batch-1 latency (ms: per round, the fastest of 3 calls; then the median over rounds), batch-32 eval
inference samples/s and batch-16 training samples/s (forward + L1 loss on the grid + backward + AdamW step),
each the median over K rounds after one warm-up. The architectures take turns within every round, so a burst
of load from other processes hits all of them alike, and the closing lines give dlsr-lite's speed over
dls-paper-resnet from the same rounds. The load average printed before and after says how quiet it was.

`--weights` adds a row per weights file, named after it: the network as that file builds it (its own grid, e.g. the
shipped 64^3 model), so a trained model is timed in the same rounds as the architectures' defaults.

`--bf16` adds the same columns under `torch.autocast("cpu", dtype=torch.bfloat16)`: fast only on CPUs with
native bf16 (AVX512-BF16 / AMX); on an AVX2-only CPU oneDNN falls back to reference kernels that run many
times slower than fp32, so expect a long run there.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.models import MODELS, SdfNet, build_model, count_parameters
from dlsr.workers import torch_threads

LATENCY_BATCH = 1
LATENCY_CALLS = 3  # per round; the fastest one counts, as single calls are the most exposed to noise
INFERENCE_BATCH = 32
TRAINING_BATCH = 16


def autocast(bf16: bool) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on the CPU, or nothing."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def to_channels_last(model: torch.nn.Module) -> None:
    """Store 2-D conv weights channels_last and 3-D ones channels_last_3d."""
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.ndim == 4:
            module.to(memory_format=torch.channels_last)
        elif isinstance(weight, torch.Tensor) and weight.ndim == 5:
            module.to(memory_format=torch.channels_last_3d)


class Runner:
    """One network with its inputs and optimizer; each method times one measurement in seconds."""

    def __init__(self, model: SdfNet, bf16: bool, channels_last: bool) -> None:
        self.model = model
        if channels_last:
            to_channels_last(self.model)
        self.bf16 = bf16
        size, resolution = self.model.config.image_size, self.model.config.resolution
        generator = torch.Generator().manual_seed(0)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.images = {
            batch: torch.rand(batch, 3, size, size, generator=generator).contiguous(memory_format=memory_format)
            for batch in (LATENCY_BATCH, INFERENCE_BATCH, TRAINING_BATCH)
        }
        self.target = torch.randn(TRAINING_BATCH, resolution, resolution, resolution, generator=generator) * 0.1
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4)

    def inference(self, batch: int) -> float:
        """Seconds of one eval-mode forward pass on `batch` images."""
        self.model.eval()
        images = self.images[batch]
        start = time.perf_counter()
        with torch.inference_mode(), autocast(self.bf16):
            self.model(images)
        return time.perf_counter() - start

    def training_step(self) -> float:
        """Seconds of one training step: forward, L1 loss, backward, AdamW."""
        self.model.train()
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.bf16):
            loss = (self.model(self.images[TRAINING_BATCH]) - self.target).abs().mean()
        loss.backward()
        self.optimizer.step()
        return time.perf_counter() - start


def architecture(arch: str) -> Callable[[], SdfNet]:
    """A fresh `arch` network with its default config, seeded."""

    def build() -> SdfNet:
        torch.manual_seed(0)
        return build_model(arch)

    return build


def trained(weights: Path) -> Callable[[], SdfNet]:
    """The network stored in `weights`, its config and tensors as the file gives them (a fresh copy per call).

    The file is read once, here, so a missing or damaged one ends the script with dlsr's one-line message before
    any timing starts.
    """
    from dlsr.checkpoint import load_weights
    from dlsr.errors import DlsrError

    try:
        model, _ = load_weights(weights)
    except DlsrError as exc:
        sys.exit(f"error: {exc}")
    return lambda: copy.deepcopy(model)  # type: ignore[return-value]


def measure(
    models: dict[str, Callable[[], SdfNet]], repeats: int, bf16: bool, channels_last: bool
) -> dict[str, dict[str, float]]:
    """All columns for each model (fp32, plus bf16 autocast when asked), models interleaved."""
    rows: dict[str, dict[str, float]] = {}
    for dtype in ("fp32", "bf16") if bf16 else ("fp32",):
        runners = {name: Runner(build(), dtype == "bf16", channels_last) for name, build in models.items()}
        for runner in runners.values():  # warm-up: oneDNN primitive caches, allocator, optimizer state
            runner.inference(LATENCY_BATCH)
            runner.inference(INFERENCE_BATCH)
            runner.training_step()
        times: dict[str, dict[str, list[float]]] = {name: {"b1": [], "inf": [], "train": []} for name in models}
        for _ in range(repeats):
            for name, runner in runners.items():
                times[name]["b1"].append(min(runner.inference(LATENCY_BATCH) for _ in range(LATENCY_CALLS)))
                times[name]["inf"].append(runner.inference(INFERENCE_BATCH))
                times[name]["train"].append(runner.training_step())
        for name, runner in runners.items():
            row = rows.setdefault(name, {"params": float(count_parameters(runner.model))})
            row[f"{dtype} b{LATENCY_BATCH} ms"] = 1000.0 * statistics.median(times[name]["b1"])
            row[f"{dtype} b{INFERENCE_BATCH} inf/s"] = INFERENCE_BATCH / statistics.median(times[name]["inf"])
            row[f"{dtype} b{TRAINING_BATCH} train/s"] = TRAINING_BATCH / statistics.median(times[name]["train"])
    return rows


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
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per measurement (median)")
    parser.add_argument("--arch", nargs="+", choices=list(MODELS), default=list(MODELS), help="architectures")
    parser.add_argument("--weights", nargs="*", type=Path, default=[], help="also time these trained models")
    parser.add_argument("--bf16", action="store_true", help="also measure under bf16 autocast")
    parser.add_argument("--channels-last", action="store_true", help="store conv weights and feed images channels-last")
    args = parser.parse_args(argv)

    print(
        f"torch {torch.__version__}, {args.threads} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}, repeats {args.repeats}, "
        f"load average before {os.getloadavg()[0]:.2f}"
    )
    with torch_threads(args.threads):
        models = {arch: architecture(arch) for arch in args.arch}
        models.update({path.stem: trained(path) for path in args.weights})
        rows = measure(models, args.repeats, args.bf16, args.channels_last)
    print(render(rows))

    if {"dlsr-lite", "dls-paper-resnet"} <= rows.keys():
        lite, paper = rows["dlsr-lite"], rows["dls-paper-resnet"]
        for name in lite:
            if name == "params":
                continue
            ratio = paper[name] / lite[name] if name.endswith("ms") else lite[name] / paper[name]
            print(f"dlsr-lite / dls-paper-resnet speed, {name}: {ratio:.1f}x")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
