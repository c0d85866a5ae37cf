"""dlsr.train.config: bad config files and option values are one-line errors; the tables named in help."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import assert_one_line_error
from dlsr.cli import app
from dlsr.errors import ConfigError
from dlsr.train import (
    load_run_config,
)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[train]\nepochz = 3\n", "unknown key"),
        ("[objective]\nname = 'chamfer'\n", "unknown objective"),
        ("[train\n", "not a valid TOML"),
        ("[preprocess]\nimage_size = 64\n", "differs from the network"),
        ("[model]\nwidth = 3\n", "unknown key"),
        ("train = 5\n", r"\[train\] must be a table"),
        ("objective = 'dls'\n", r"\[objective\] must be a table"),
        ("[train]\nweight_decay = inf\n", "expected a finite number, found inf"),
        ("lr = nan\n", "expected a finite number, found nan"),
        ("[objective]\nregion_weight = inf\n", "expected a finite number"),
        ("[augment]\ncrop_jitter = nan\n", "expected a finite number"),
    ],
)
def test_bad_configs_fail_with_one_line(tiny_dataset: Path, tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_run_config(path, {})
    result = CliRunner().invoke(app, ["train", str(tiny_dataset), "--out", str(tmp_path / "o"), "--config", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        (["--lr", "inf"], "lr: expected a finite number, found inf"),
        (["--lr", "nan"], "lr: expected a finite number, found nan"),
        (["--lr", "-1"], "lr must be > 0"),
        (["--epochs", "0"], "train.epochs"),
        (["--objective", "chamfer"], "unknown objective"),
        (["--arch", "nope"], "nope"),
        (["--device", "tpu"], "--device 'tpu'"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path: Path, arguments: list[str], needle: str) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["train", str(tmp_path), "--out", str(out), *arguments])
    assert_one_line_error(result, 2, needle)
    assert not out.exists()


def test_train_help_names_the_config_tables() -> None:
    result = CliRunner().invoke(app, ["train", "run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[train], [model], [objective], [augment], [preprocess]" in result.stdout
