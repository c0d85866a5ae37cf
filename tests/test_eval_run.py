"""dlsr.eval.run: whole evaluations: model predictions in workers, output paths, interrupts, batching."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import FAST, run_cli, scored
from dlsr.eval import EvalConfig, evaluate, read_results
from dlsr.eval.layouts import read_samples


def test_model_predictions_empty_surfaces_and_workers(synth: Path, tmp_path: Path, tiny_model: Any) -> None:
    """The tiny box model on procedural objects: real inference, meshing and metrics, in 2 worker processes."""
    config = EvalConfig(protocol="r2n2", **FAST)
    one = evaluate(synth, tmp_path / "one.jsonl", config, weights=tiny_model.weights, device="cpu", frame_check=False)
    two = evaluate(
        synth, tmp_path / "two.jsonl", config, weights=tiny_model.weights, device="cpu", workers=2, frame_check=False
    )
    assert scored(one.results) == scored(two.results)
    for record in scored(one.results):
        assert record["status"] in ("ok", "empty")
        assert 0.0 <= record["iou"] <= 1.0 and record["chamfer_l1"] > 0
    header, _, _ = read_results(one.results)
    assert header is not None and header["weights"]["sha256"] and header["weights"]["arch"] == "dlsr-lite"


def test_output_paths_of_a_folder_a_file_and_a_shard(tmp_path: Path) -> None:
    from dlsr.eval.run import output_paths

    assert output_paths(tmp_path, None, None) == (tmp_path / "results.jsonl", tmp_path / "summary.json")
    assert output_paths(tmp_path, None, (1, 4)) == (
        tmp_path / "results.shard-1-of-4.jsonl",
        tmp_path / "summary.shard-1-of-4.json",
    )
    assert output_paths(None, tmp_path / "r.jsonl", (0, 2)) == (tmp_path / "r.shard-0-of-2.jsonl", None)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process tree from /proc")
def test_cli_interrupt_and_kill_stop_the_workers(synth: Path, tmp_path: Path) -> None:
    """Issue 14 item 15: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) returns at once with
    exit code 130; a killed `dlsr eval` takes its worker processes and the resource tracker with it."""
    import os
    import signal
    import sys
    import time

    _, samples = read_samples(synth, split="all")
    for sample in samples:
        prediction = tmp_path / "pred" / sample.category / f"{sample.model_id}.obj"
        prediction.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample.truth.mesh, prediction)  # type: ignore[arg-type]
    results = tmp_path / "r.jsonl"
    command = [sys.executable, "-m", "dlsr", "eval", str(synth), "--predictions", str(tmp_path / "pred"),
               "--split", "all", "--results", str(results), "--workers", "2", "--points", "200000", "-q",
               "--no-frame-check"]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != "DLSR_DEBUG"}

    def start(*extra: str) -> tuple[subprocess.Popen[bytes], list[int]]:
        # Output to a file, not a pipe: orphaned workers would hold a pipe open and hang the test instead of failing it.
        with (tmp_path / "stderr.txt").open("wb") as log:
            # A suite started in the background (`pytest &`) ignores SIGINT, and children inherit that: give the
            # command the default disposition a terminal gives it.
            process = subprocess.Popen([*command, *extra], stdout=subprocess.DEVNULL, stderr=log,
                                       start_new_session=True, env=environment,
                                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        deadline = time.monotonic() + 120
        scored_before = len(results.read_text().splitlines()) if results.exists() else 0
        while time.monotonic() < deadline and process.poll() is None:
            # Both workers started (plus the resource tracker), and one more sample scored by them.
            workers = _children(process.pid)
            if len(workers) >= 3 and results.exists() and len(results.read_text().splitlines()) > scored_before + 1:
                return process, workers
            time.sleep(0.05)
        process.kill()
        pytest.fail(f"the evaluation did not get going: {(tmp_path / 'stderr.txt').read_text()}")

    def stop_leftovers(workers: list[int]) -> list[int]:
        """The workers still running 5 s on; stopped, so a failing test leaves nothing behind."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.05)
        left = [pid for pid in workers if _running(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left

    process, workers = start()
    os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stop_leftovers(workers)
        pytest.fail("dlsr eval hung after Ctrl-C")
    assert time.monotonic() - started < 5
    stderr = (tmp_path / "stderr.txt").read_text()
    assert process.returncode == 130 and stderr.strip() == "error: interrupted", stderr
    assert len(read_results(results)[1]) < len(samples), "the interrupt must land mid-run"
    assert not stop_leftovers(workers)

    process, workers = start("--resume")
    process.kill()  # SIGKILL: no chance to stop anything itself
    process.wait()
    assert not stop_leftovers(workers), "workers outlived their killed parent"


def test_cli_model_scores_do_not_depend_on_batches_shards_or_resume(
    synth: Path, tmp_path: Path, tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 7: on the CPU, batch 1 against 16 changed the network's SDF in the last bits (so 50 of 52
    scores), and resume and shards regroup the images. Every grouping must score exactly the same."""
    common = ["eval", synth, "--weights", tiny_model.weights, "--device", "cpu", "--protocol", "r2n2", "-q"]
    common += ["--points", "3000", "--iou-points", "3000", "--resolution", "32", "--no-frame-check", "--workers", "1"]
    runs = {"batch16": ["--batch-size", "16"], "batch1": ["--batch-size", "1"], "batch3": ["--batch-size", "3"]}
    for name, extra in runs.items():
        result = run_cli([*common, *extra, "--results", tmp_path / f"{name}.jsonl"], monkeypatch)
        assert result.exit_code == 0, result.output
    for shard in range(3):
        result = run_cli([*common, "--results", tmp_path / "s.jsonl", "--shard", f"{shard}/3"], monkeypatch)
        assert result.exit_code == 0, result.output
    parts = [tmp_path / f"s.shard-{shard}-of-3.jsonl" for shard in range(3)]
    merged = run_cli(["eval", "merge", *parts, "-o", tmp_path / "merged.jsonl", "-q"], monkeypatch)
    assert merged.exit_code == 0, merged.output
    reference = scored(tmp_path / "batch16.jsonl")
    assert len(reference) == 4 and all(record["chamfer_l1"] > 0 for record in reference)
    for name in ("batch1", "batch3", "merged"):
        assert scored(tmp_path / f"{name}.jsonl") == reference, name
