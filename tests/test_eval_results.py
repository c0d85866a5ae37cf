"""dlsr.eval.results: results files: resume, damaged lines, shards merged, unwritable files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import FAST, ground_truth_predictions, run_cli, scored
from dlsr.errors import ConfigError, DatasetError, OutputError
from dlsr.eval import EvalConfig, evaluate, merge_results, read_results


def test_resume_after_a_kill_mid_line_neither_redoes_nor_duplicates(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    config = EvalConfig(predictions=str(predictions), **FAST)
    full = evaluate(synth, tmp_path / "full.jsonl", config)
    cut = tmp_path / "cut.jsonl"
    data = full.results.read_bytes()
    lines = data.split(b"\n")
    cut.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][:40])  # header, 2 records, a torn third
    with pytest.raises(OutputError, match="--resume"):
        evaluate(synth, cut, config)
    seen: list[str] = []
    run = evaluate(synth, cut, config, resume=True, on_item=lambda r: seen.append(r["key"]))
    assert run.skipped == 2 and run.scored == 2 and len(seen) == 2
    assert scored(cut) == scored(full.results)
    again = evaluate(synth, cut, config, resume=True)
    assert again.scored == 0 and scored(cut) == scored(full.results)
    with pytest.raises(ConfigError, match=r"config\.points"):
        evaluate(synth, cut, EvalConfig(predictions=str(predictions), points=3000, iou_points=4000), resume=True)


def test_a_damaged_line_inside_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"type": "header"}\nnot json\n{"type": "sample", "key": "a"}\n')
    with pytest.raises(DatasetError, match="line 2 is damaged"):
        read_results(path)


def test_shards_merged_equal_one_run(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred", lambda v: v * 0.97)
    config = EvalConfig(predictions=str(predictions), **FAST)
    single = evaluate(synth, tmp_path / "single.jsonl", config)
    parts = [evaluate(synth, tmp_path / f"s{i}.jsonl", config, shard=(i, 3)).results for i in range(3)]
    header, summary = merge_results(parts, tmp_path / "merged.jsonl")
    assert scored(tmp_path / "merged.jsonl") == scored(single.results)
    assert summary == single.summary and header["shard"] is None
    with pytest.raises(DatasetError, match="exactly once"):
        merge_results(parts[:2], tmp_path / "partial.jsonl")


def scored_run(synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], Path]:
    """One finished evaluation of the true meshes (the CLI's arguments, and its results file)."""
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    results = tmp_path / "r.jsonl"
    args = ["eval", synth, "--predictions", predictions, "--results", results, "--points", "2000"]
    args += ["--iou-points", "2000", "-q"]
    first = run_cli(args, monkeypatch)
    assert first.exit_code == 0, first.output
    return args, results


def test_cli_resume_and_overwrite_together_are_refused(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 16: --overwrite would silently throw away the samples --resume was asked to keep."""
    args, results = scored_run(synth, tmp_path, monkeypatch)
    before = results.read_bytes()
    result = run_cli([*args, "--resume", "--overwrite"], monkeypatch)
    assert result.exit_code == 2, result.output
    assert "--resume" in result.output and "--overwrite" in result.output and "Traceback" not in result.output
    assert results.read_bytes() == before
    with pytest.raises(ConfigError, match="choose one"):
        evaluate(synth, results, EvalConfig(**FAST), resume=True, overwrite=True)


def test_cli_resume_into_an_unwritable_results_file_is_one_line(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 10: a results file that cannot be written is one error line naming it, exit 1."""
    import errno
    import os

    args, results = scored_run(synth, tmp_path, monkeypatch)
    lines = results.read_bytes().split(b"\n")
    results.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:30])  # header, one record, a torn second one
    before = results.read_bytes()
    results.chmod(0o444)
    if os.access(results, os.W_OK):  # root ignores the mode: refuse writes as a read-only file system would
        real_open = open

        def read_only(file: Any, mode: str = "r", *rest: Any, **options: Any) -> Any:
            if Path(file) == results and any(flag in mode for flag in "wa+"):
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, mode, *rest, **options)

        monkeypatch.setattr("dlsr.eval.results.open", read_only, raising=False)
    result = run_cli([*args, "--resume"], monkeypatch)
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1 and "Traceback" not in result.output
    assert str(results) in message.replace("\n", "") and "Permission denied" in message
    assert results.read_bytes() == before
