"""Training throughput of the real training step: dlsr-lite against dls-paper-resnet in the same run.

Usage: python bench/bench_train.py [--threads N] [--rounds K] [--steps S] [--objective dls|dls-paper|voxel|sdf-l2]
       [--device cpu|cuda]

One step is what `dlsr train` does per batch of 16: augmentation of cached uint8 views (crop jitter, background,
colour jitter, channel permutation), forward, the objective (default dls, with 1024 surface points per sample),
backward and the AdamW step. The architectures take turns within every round (S steps each), so load from other
processes hits both alike; the figure is the median over K rounds, and the last line is the speed ratio.
Inputs are random (no dataset is needed): the cost of a step does not depend on the pixel values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlsr.checkpoint import model_grid
from dlsr.levelset import OBJECTIVES, ObjectiveConfig, compute_loss
from dlsr.models import build_model
from dlsr.train import AugmentConfig, TrainConfig, augment_views, batch_generator, make_optimizer

BATCH = 16
SURFACE_POINTS = 1024


class Step:
    """One architecture's training step on fixed random data."""

    def __init__(self, arch: str, objective: str, device: torch.device) -> None:
        torch.manual_seed(0)
        self.device = device
        self.model = build_model(arch).to(device).train()
        self.grid = model_grid(self.model.config)
        self.optimizer = make_optimizer(self.model, TrainConfig())
        self.objective = ObjectiveConfig(name=objective)
        size, resolution = self.model.config.image_size, self.grid.resolution
        self.views = torch.randint(0, 256, (BATCH, size, size, 4), dtype=torch.uint8)
        points = torch.as_tensor(self.grid.points(), dtype=torch.float32)
        self.target = (torch.linalg.vector_norm(points, dim=-1) - 0.3).expand(BATCH, *(resolution,) * 3).to(device)
        self.surface = (torch.rand(BATCH, SURFACE_POINTS, 3) - 0.5).to(device)
        self.count = 0

    def __call__(self) -> None:
        generator = batch_generator(0, 0, self.count, 0)
        self.count += 1
        images = augment_views(self.views, AugmentConfig(), generator, (255, 255, 255)).to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            phi = self.model(images)
        loss = compute_loss(self.objective, phi.float(), self.target, self.grid, self.surface).loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="steps per architecture per round")
    parser.add_argument("--objective", choices=OBJECTIVES, default="dls")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}, load {load:.2f}")
    steps = {arch: Step(arch, args.objective, device) for arch in ("dlsr-lite", "dls-paper-resnet")}
    for step in steps.values():
        step()  # warm-up
    rates: dict[str, list[float]] = {arch: [] for arch in steps}
    for _ in range(args.rounds):
        for arch, step in steps.items():
            started = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[arch].append(args.steps * BATCH / (time.perf_counter() - started))
    for arch, values in rates.items():
        print(f"{arch:18s} training, batch {BATCH}, {args.objective}: {statistics.median(values):7.1f} samples/s")
    ratio = [a / b for a, b in zip(rates["dlsr-lite"], rates["dls-paper-resnet"], strict=True)]
    print(f"dlsr-lite / dls-paper-resnet: {statistics.median(ratio):.1f}x (median of per-round ratios)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
