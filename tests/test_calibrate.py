"""dlsr.train.calibrate: the iso-level calibration and `dlsr train calibrate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import run_cli


def test_calibration_scores_each_level_and_keeps_the_best_f_score(synth: Path, tiny_model: Any) -> None:
    from dlsr.train.calibrate import calibrate_level

    calibration = calibrate_level(
        synth, tiny_model.weights, split="test", views=(0,), levels_in_voxels=(0.0, 1.0), workers=1, device="cpu"
    )
    assert [score.voxels for score in calibration.scores] == [0.0, 1.0]
    assert calibration.scores[1].level == pytest.approx(1.1 / 15)  # one spacing of the tiny model's 16^3 grid
    f_scores = [score.means["fscore@0.01"] or 0.0 for score in calibration.scores]
    assert calibration.best is calibration.scores[int(np.argmax(f_scores))]
    assert calibration.summary()["level"] == calibration.best.level


def test_calibrate_command_prints_every_level_and_refuses_bad_levels(
    synth: Path, tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["train", "calibrate", synth, "--weights", tiny_model.weights, "--split", "test", "--workers", "1"]
    result = run_cli([*args, "--levels", "0,0.5", "--json"], monkeypatch)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [candidate["voxels"] for candidate in summary["candidates"]] == [0.0, 0.5]
    assert summary["level"] in [candidate["level"] for candidate in summary["candidates"]]
    for bad in ("0,abc", "0,5", "nan"):
        result = run_cli([*args, "--levels", bad], monkeypatch)
        assert result.exit_code == 2, (bad, result.output)
        assert "--levels" in result.output
    result = run_cli([*args, "--device", "tpu"], monkeypatch)
    assert result.exit_code == 2 and "--device" in result.output
    missing = synth.parent / "no-such-dataset"
    result = run_cli(["train", "calibrate", synth, missing, "--weights", tiny_model.weights], monkeypatch)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "no-such-dataset" in result.stderr


def test_calibration_on_several_datasets_picks_by_their_mean(synth: Path, tiny_model: Any) -> None:
    from dlsr.train.calibrate import calibrate_level

    kwargs: dict[str, Any] = {"split": "test", "views": (0,), "levels_in_voxels": (0.0, 1.0), "workers": 1}
    single = calibrate_level(synth, tiny_model.weights, device="cpu", **kwargs)
    twice = calibrate_level([synth, synth], tiny_model.weights, device="cpu", **kwargs)
    assert [(s.data, s.voxels) for s in twice.scores] == [(str(synth), v) for v in (0.0, 1.0)] * 2
    for score in single.scores:
        assert twice.pooled(score.level) == pytest.approx(score.criterion)
    assert twice.best.level == single.best.level
    assert set(twice.summary()["pooled"]) == {"0.0", "1.0"}
