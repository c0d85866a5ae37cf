"""Tests for dlsr.foreground.train and `dlsr train segmenter`: a few steps write loadable weights; a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dlsr.checkpoint import load_segmenter_weights, read_segmenter_state
from dlsr.errors import ConfigError
from dlsr.foreground.model import ForegroundNet, SegmenterConfig
from dlsr.foreground.train import SegmenterTrainConfig, segmentation_loss, train_segmenter

TINY = SegmenterConfig(width=4, growth=(1, 2), input_side=32)


def tiny_config(steps: int, **changes: object) -> SegmenterTrainConfig:
    values: dict = {"steps": steps, "batch_size": 2, "side": 32, "renders": 6, "val_samples": 4, "model": TINY}
    return SegmenterTrainConfig(**{**values, **changes})  # type: ignore[arg-type]


def test_the_network_keeps_the_input_size_and_any_aspect() -> None:
    model = ForegroundNet(TINY).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, 32, 48)).shape == (2, 1, 32, 48)


def test_the_loss_is_lowest_for_the_right_mask() -> None:
    target = torch.zeros(1, 8, 8)
    target[:, 2:6, 2:6] = 1
    right = segmentation_loss((target * 2 - 1) * 8, target)
    wrong = segmentation_loss((0.5 - target) * 8, target)
    assert float(right) < 0.01 < 1.0 < float(wrong)


def test_a_short_run_writes_weights_and_a_rerun_resumes(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = train_segmenter([tiny_dataset], out, tiny_config(steps=2))
    assert first.finished and first.steps == 2 and 0.0 <= first.val_iou <= 1.0
    model, provenance = load_segmenter_weights(first.weights)
    assert model.config == TINY and provenance["steps"] == 2
    assert json.loads((out / "config.json").read_text())["data"] == [str(tiny_dataset.resolve())]
    paused = train_segmenter([tiny_dataset], out, tiny_config(steps=3), stop_after=0.0)  # a session of no time
    assert paused.steps == 2 and not paused.finished
    second = train_segmenter([tiny_dataset], out, tiny_config(steps=3))  # a larger budget: one more step
    assert second.finished and second.steps == 3 and read_segmenter_state(out / "state.pt")["step"] == 3
    resumed, _ = load_segmenter_weights(second.weights)
    assert any(
        not np.allclose(a.float().numpy(), b.float().numpy())
        for a, b in zip(model.state_dict().values(), resumed.state_dict().values(), strict=True)
    )


def test_a_run_folder_of_other_settings_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    train_segmenter([tiny_dataset], tmp_path, tiny_config(steps=1))
    with pytest.raises(ConfigError, match="other settings"):
        train_segmenter([tiny_dataset], tmp_path, tiny_config(steps=1, seed=1))
