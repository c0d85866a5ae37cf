"""dlsr.cli.train: the `dlsr train` commands end to end, and their errors for missing inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TINY_CATEGORIES, tiny_values, write_toml
from dlsr.checkpoint import read_training_state
from dlsr.cli import app
from dlsr.errors import WeightsError

CATEGORIES = TINY_CATEGORIES


def test_cli_trains_exports_and_reconstructs(tiny_dataset: Path, tmp_path: Path) -> None:
    config = write_toml(tmp_path / "tiny.toml", tiny_values(epochs=1))
    runner = CliRunner()
    out = tmp_path / "cli-run"
    result = runner.invoke(
        app, ["train", str(tiny_dataset), "--out", str(out), "--config", str(config), "--objective", "voxel", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["config"]["objective"]["name"] == "voxel"
    weights = tmp_path / "w.safetensors"
    result = runner.invoke(app, ["train", "export", str(out), "-o", str(weights)])
    assert result.exit_code == 0, result.output
    image = next((tiny_dataset / CATEGORIES[0]).glob("*/rendering/00.png"))
    mesh = tmp_path / "m.ply"
    result = runner.invoke(app, ["reconstruct", str(image), "-o", str(mesh), "--weights", str(weights), "-q"])
    assert result.exit_code in (0, 1), result.output  # a one-epoch model may predict an empty surface
    result = runner.invoke(app, ["train", "score", str(tiny_dataset), "--weights", str(weights), "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["categories"]) == set(CATEGORIES)


def test_cli_errors_for_missing_data_config_and_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no such dataset folder" in result.stderr
    result = runner.invoke(app, ["train", str(tmp_path), "--out", str(tmp_path / "o"), "--config", "missing.toml"])
    assert result.exit_code == 1 and "no such config file" in result.stderr
    result = runner.invoke(app, ["train", "export", str(tmp_path), "-o", str(tmp_path / "w.safetensors")])
    assert result.exit_code == 1 and "not a training run" in result.stderr
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a readable training state"):
        read_training_state(tmp_path / "bad.pt")
