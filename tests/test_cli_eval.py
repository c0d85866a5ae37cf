"""dlsr.cli.eval: the `dlsr eval` command: JSON, CSV and merge, one-line errors, exit codes, default output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ground_truth_predictions, run_cli, scored
from dlsr.cli import app
from dlsr.eval import read_results


def test_cli_eval_json_csv_and_merge(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    runner = CliRunner()
    common = ["eval", str(synth), "--predictions", str(predictions), "--points", "3000", "--iou-points", "3000"]
    result = runner.invoke(app, [*common, "--out", str(tmp_path / "out"), "--json", "--csv", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["summary"]["instance_mean"]["iou"] == 1.0 and payload["header"]["layout"] == "synth"
    assert (tmp_path / "out" / "results.jsonl").is_file() and (tmp_path / "out" / "summary.json").is_file()
    table = (tmp_path / "t.csv").read_text().splitlines()
    assert table[0].startswith("# ") and json.loads(table[0][2:])["versions"]["dlsr"]
    assert table[1].startswith("category,name,iou") and table[-1].startswith("instance_mean")
    for i in range(2):
        shard = runner.invoke(app, [*common, "--results", str(tmp_path / "r.jsonl"), "--shard", f"{i}/2", "-q"])
        assert shard.exit_code == 0, shard.output
    files = [str(tmp_path / f"r.shard-{i}-of-2.jsonl") for i in range(2)]
    merged = runner.invoke(app, ["eval", "merge", *files, "-o", str(tmp_path / "m.jsonl"), "-q"])
    assert merged.exit_code == 0, merged.output
    assert scored(tmp_path / "m.jsonl") == scored(tmp_path / "out" / "results.jsonl")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["eval", "/no/such/folder", "--predictions", "/tmp"], 1, "no such dataset folder"),
        (["eval", "DATA", "--shard", "3/2"], 2, "--shard"),
        (["eval", "DATA", "--views", "a,b"], 2, "--views"),
        (["eval", "DATA", "--views", "0,0,1"], 2, "view 0 is given twice"),  # issue 14 item 4
        (["eval", "DATA", "--protocol", "voxels"], 2, "protocol"),
        (["eval", "DATA", "--out", "x", "--results", "y"], 2, "not both"),
        (["eval", "DATA", "--layout", "shapenet"], 2, "--layout"),
        (["eval", "merge", "/no/such.jsonl", "-o", "OUT/m.jsonl"], 1, "cannot read results"),
    ],
)
def test_cli_errors_are_one_line(
    synth: Path, tmp_path: Path, args: list[str], code: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DLSR_DEBUG", raising=False)
    args = [str(synth) if a == "DATA" else a.replace("OUT", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    if code == 1:
        assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1


def test_cli_failures_exit_1_and_existing_results_need_resume(synth: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "empty-pred"
    predictions.mkdir()
    runner = CliRunner()
    args = ["eval", str(synth), "--predictions", str(predictions), "--results", str(tmp_path / "r.jsonl"), "-q"]
    args += ["--points", "2000", "--iou-points", "2000"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1  # every prediction is missing: worst case, counted, exit 1
    assert len(read_results(tmp_path / "r.jsonl")[1]) == 4
    second = runner.invoke(app, args)
    assert second.exit_code == 1 and "--resume" in second.output


def test_eval_help_lists_run_and_merge() -> None:
    result = CliRunner().invoke(app, ["eval", "--help"])
    assert result.exit_code == 0 and "merge" in result.output and "run" in result.output
    for command in (["eval", "run", "--help"], ["eval", "merge", "--help"]):
        assert CliRunner().invoke(app, command).exit_code == 0


def test_cli_default_output_is_a_folder_per_dataset_split_and_weights(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 20: no ./results.jsonl that a second evaluation trips on; the run says where results went."""
    ground_truth_predictions(synth, tmp_path / "pred")
    shutil.copytree(tmp_path / "pred", tmp_path / "other")  # a second model's predictions
    monkeypatch.chdir(tmp_path)
    for name in ("pred", "other"):
        args = ["eval", synth, "--predictions", tmp_path / name, "--points", "2000", "--iou-points", "2000"]
        result = run_cli(args, monkeypatch)
        assert result.exit_code == 0, result.output
        folder = Path("eval") / f"{synth.name}-test-predictions-{name}"
        assert f"results go to {folder}/" in result.stderr
        assert result.stdout.strip() == str(folder / "results.jsonl")
        assert (tmp_path / folder / "results.jsonl").is_file() and (tmp_path / folder / "summary.json").is_file()
    assert not (tmp_path / "results.jsonl").exists()
    from dlsr.cli.eval import default_eval_folder

    weights = tmp_path / "w" / "tiny.safetensors"
    weights.parent.mkdir()
    weights.touch()
    assert default_eval_folder(synth, "val", weights, None) == Path("eval") / f"{synth.name}-val-tiny"
