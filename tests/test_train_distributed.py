"""dlsr.train.distributed: training under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import tiny_values, write_toml
from dlsr.checkpoint import load_weights
from dlsr.train import (
    export_weights,
    read_metrics,
)


@pytest.mark.slow
def test_torchrun_trains_with_two_cpu_processes(tiny_dataset: Path, tmp_path: Path) -> None:
    config = write_toml(tmp_path / "tiny.toml", tiny_values(epochs=1))
    out = tmp_path / "ddp"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "dlsr", "train", str(tiny_dataset), "--out", str(out), "--config", str(config), "--quiet",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.strip().splitlines() == [str(out)]  # rank 0 alone reports
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    assert [r["epoch"] for r in read_metrics(out)] == [1]
    model, _ = load_weights(export_weights(out, tmp_path / "ddp.safetensors"))
    assert all(torch.isfinite(p).all() for p in model.parameters())
