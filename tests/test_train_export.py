"""dlsr.train.export (and score): argument errors of `dlsr train export` and `dlsr train score`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from conftest import assert_one_line_error
from dlsr.cli import app


def test_export_and_score_argument_errors_are_one_line(tiny_dataset: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{}")
    (tmp_path / "bad.json").write_text("{not json")
    weights = str(tmp_path / "w.safetensors")
    cases = [
        (["train", "export", str(run), "-o", weights, "--scores", str(tmp_path / "no.json")], "not readable JSON"),
        (["train", "export", str(run), "-o", weights, "--scores", str(tmp_path / "bad.json")], "not readable JSON"),
        (["train", "export", str(run), "-o", weights], "has no run settings"),
        (["train", "score", str(tiny_dataset), "--weights", str(tmp_path / "bad.json")], "bad.json"),
        (["train", "score", str(tiny_dataset), "--weights", str(tmp_path)], "not a training run"),
    ]
    for arguments, message in cases:
        result = runner.invoke(app, arguments)
        assert result.exit_code == 1 and message in result.stderr, (arguments, result.output)
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    result = runner.invoke(app, ["train", "export", str(run), "-o", weights, "--level", "nan"])
    assert result.exit_code == 2 and "--level" in result.stderr, result.output
    for usage in (["--level", "nan"], ["--device", "tpu"]):  # found before any model is loaded
        result = runner.invoke(app, ["train", "score", str(tiny_dataset), "--weights", weights, *usage])
        assert result.exit_code == 2 and usage[0] in result.stderr, (usage, result.output)


def test_export_which_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "export", str(tmp_path), "-o", str(tmp_path / "w"), "--which", "mid"])
    assert_one_line_error(result, 2, "choose best or last")
