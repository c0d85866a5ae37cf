"""dlsr.train.rundir: run folders: used, missing, damaged and uncreatable folders and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import (
    assert_one_line_error,
    cli_train,
    tiny_values,
    write_toml,
)
from dlsr.cli import app
from dlsr.errors import ConfigError
from dlsr.train import (
    read_metrics,
    run_config_from_dict,
    train,
)


def test_resume_refuses_other_settings_and_new_runs_refuse_a_used_folder(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1)))
    with pytest.raises(ConfigError, match="not empty"):
        train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1)))
    with pytest.raises(ConfigError, match="other settings"):
        train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1, lr=0.5)), resume=True)
    with pytest.raises(ConfigError, match="nothing to resume"):
        train(tiny_dataset, tmp_path / "new", run_config_from_dict(tiny_values()), resume=True)


def test_resume_may_change_how_the_run_uses_the_machine(tiny_dataset: Path, tmp_path: Path) -> None:
    # Threads, cache workers and the checkpoint interval change speed, not results: a resume on a busier or
    # smaller machine must not be refused for them (and anything else still must, as above).
    out = tmp_path / "run"
    train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1)))
    finished = read_metrics(out)
    other_machine = tiny_values(epochs=1, threads=2, cache_workers=2, checkpoint_minutes=1.0)
    train(tiny_dataset, out, run_config_from_dict(other_machine), resume=True)
    assert read_metrics(out) == finished


def test_resume_of_a_run_recorded_before_a_setting_existed(tiny_dataset: Path, tmp_path: Path) -> None:
    # A run.json written by an older dlsr lacks settings added since; the run used their defaults, so a resume
    # with the defaults matches, and one with another value does not.
    out = tmp_path / "run"
    train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1)))
    record = json.loads((out / "run.json").read_text())
    del record["config"]["objective"]["thicken_voxels"]
    (out / "run.json").write_text(json.dumps(record))
    train(tiny_dataset, out, run_config_from_dict(tiny_values(epochs=1)), resume=True)
    thicker = {**tiny_values(epochs=1), "objective": {"thicken_voxels": 1.0}}
    with pytest.raises(ConfigError, match="other settings"):
        train(tiny_dataset, out, run_config_from_dict(thicker), resume=True)


def test_resume_refuses_to_restart_a_run_that_lost_last_pt(tiny_dataset: Path, tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", tiny_values(epochs=1))
    out = tmp_path / "run"
    assert cli_train(tiny_dataset, out, config).exit_code == 0
    metrics, best = (out / "metrics.jsonl").read_bytes(), (out / "best.pt").read_bytes()
    (out / "last.pt").unlink()
    result = cli_train(tiny_dataset, out, config, "--resume")
    assert_one_line_error(result, 1, "last.pt: missing", "metrics.jsonl, best.pt")
    assert (out / "metrics.jsonl").read_bytes() == metrics and (out / "best.pt").read_bytes() == best

    # A run stopped before its first checkpoint has nothing to lose: --resume starts it again.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "run.json").write_bytes((out / "run.json").read_bytes())
    result = cli_train(tiny_dataset, fresh, config, "--resume")
    assert result.exit_code == 0, result.output
    assert [r["epoch"] for r in read_metrics(fresh)] == [1]


def test_damaged_run_files_are_one_line_errors(tiny_dataset: Path, tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", tiny_values(epochs=1))
    out = tmp_path / "run"
    assert cli_train(tiny_dataset, out, config).exit_code == 0
    (out / "last.pt").write_bytes(b"")
    assert_one_line_error(cli_train(tiny_dataset, out, config, "--resume"), 1, "last.pt", "EOFError")
    (out / "best.pt").write_bytes(b"")
    result = CliRunner().invoke(app, ["train", "export", str(out), "-o", str(tmp_path / "w.safetensors")])
    assert_one_line_error(result, 1, "best.pt", "not a readable training state")
    (out / "run.json").write_text('{"config": ')
    assert_one_line_error(cli_train(tiny_dataset, out, config, "--resume"), 1, "run.json: unreadable")
    (out / "run.json").write_text("[]")
    assert_one_line_error(cli_train(tiny_dataset, out, config, "--resume"), 1, "run.json: has no run settings")


def test_a_start_that_fails_leaves_no_run_folder(tiny_dataset: Path, tmp_path: Path) -> None:
    config = write_toml(tmp_path / "c.toml", tiny_values(epochs=1))
    out = tmp_path / "run"
    for data, extra, needle in [
        (tmp_path / "nowhere", [], "no such dataset folder"),
        (tiny_dataset, ["--categories", "99999999"], "99999999"),
        (tiny_dataset, ["--batch-size", "4096"], "exceeds"),
    ]:
        assert_one_line_error(cli_train(data, out, config, *extra), 1, needle)
        assert not out.exists(), extra
    result = cli_train(tiny_dataset, out, config)  # the corrected command
    assert result.exit_code == 0, result.output


def test_an_out_folder_under_a_file_is_one_line(tiny_dataset: Path, tmp_path: Path) -> None:
    # A file as the parent stops mkdir even for root, which permissions do not.
    (tmp_path / "file").write_text("")
    config = write_toml(tmp_path / "c.toml", tiny_values(epochs=1))
    result = cli_train(tiny_dataset, tmp_path / "file" / "run", config)
    assert_one_line_error(result, 1, "cannot create the folder", "is a file")
