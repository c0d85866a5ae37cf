"""dlsr.eval.summary: means, failure counts, and output paths checked before scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from dlsr.eval import summarise


def test_summary_means_and_nan_handling() -> None:
    records = [
        {"type": "sample", "category": "a", "status": "ok", "iou": 1.0, "chamfer_l1": 0.1, "topology_match": True},
        {"type": "sample", "category": "a", "status": "empty", "iou": 0.0, "chamfer_l1": 0.3, "topology_match": None},
        {"type": "sample", "category": "b", "status": "ok", "iou": 0.5, "chamfer_l1": None},
        {"type": "sample", "category": "b", "status": "error", "iou": None},
    ]
    summary = summarise(records, {"a": "alpha"})
    assert summary["categories"]["a"]["iou"] == 0.5 and summary["categories"]["a"]["name"] == "alpha"
    assert summary["categories"]["a"]["topology_match"] == 1.0
    assert summary["class_mean"]["iou"] == 0.5 and summary["instance_mean"]["iou"] == pytest.approx(0.5)
    assert summary["categories"]["b"]["chamfer_l1"] is None
    assert (summary["failures"], summary["empty"], summary["errors"], summary["count"]) == (1, 1, 1, 4)


def test_a_run_fails_on_failed_predictions_and_errors_but_not_on_empty_surfaces() -> None:
    from dlsr.eval.summary import failed_count

    def record(status: str) -> dict[str, Any]:
        return {"type": "sample", "category": "a", "status": status, "iou": 0.0}

    assert failed_count(summarise([record("ok"), record("empty")])) == 0
    assert failed_count(summarise([record("ok"), record("failed"), record("empty")])) == 1
    assert failed_count(summarise([record("error"), record("failed")])) == 2


@pytest.mark.parametrize("option", ["--csv", "--report"])
def test_cli_an_unwritable_table_or_report_is_refused_before_scoring(
    synth: Path, tmp_path: Path, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 18: --csv and --report are written last, so their path is checked before any sample."""
    import os

    predictions = tmp_path / "pred"
    predictions.mkdir()
    results = tmp_path / "r.jsonl"
    targets = [tmp_path / "no-such-folder" / "table.out"]
    if os.geteuid() == 0 and Path("/sys").is_dir():
        targets.append(Path("/sys/dlsr-table.out"))  # sysfs refuses new files even to root
    for target in targets:
        args = ["eval", synth, "--predictions", predictions, "--results", results, option, target]
        result = run_cli(args, monkeypatch)
        assert result.exit_code == 1, result.output
        message = result.output.strip()
        assert message.startswith("error:") and len(message.splitlines()) == 1 and str(target) in message
        assert not results.exists()  # nothing was scored
