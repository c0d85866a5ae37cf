"""The evaluation loop: plan the samples, score them (in worker processes), append each record to the results."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dlsr.conventions import AUTO_PROTOCOL
from dlsr.errors import ConfigError, OutputError
from dlsr.eval.config import EvalConfig
from dlsr.eval.frames import FRAME_CHECK_SAMPLES, check_frames
from dlsr.eval.layouts import category_names
from dlsr.eval.plan import in_shard, load_predictor, plan_jobs, plan_samples, protocol_for
from dlsr.eval.results import iter_results, make_header, open_results
from dlsr.eval.score import Job, score_job
from dlsr.eval.summary import check_outputs, failed_count, summarise, write_csv


@dataclass
class EvalRun:
    """What `evaluate` did."""

    results: Path  # the JSON-lines file
    header: dict[str, Any]
    summary: dict[str, Any]
    scored: int  # samples scored by this call
    skipped: int  # samples already in the file (resume)
    seconds: float
    summary_file: Path | None = None  # summary.json, when asked for
    report: Path | None = None  # the HTML report, when asked for
    csv: Path | None = None  # the table as CSV, when asked for

    @property
    def failed(self) -> int:
        """Failed predictions and unreadable ground truths in the whole file (`summary.failed_count`): a run with
        any has failed, though every sample was scored."""
        return failed_count(self.summary)


def evaluate(
    root: str | os.PathLike[str],
    results: str | os.PathLike[str],
    config: EvalConfig = EvalConfig(),  # noqa: B008 (frozen: a shared default is safe)
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str = "auto",
    batch_size: int = 16,
    workers: int | None = None,
    shard: tuple[int, int] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    frame_check: bool = True,
    summary_file: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    csv: str | os.PathLike[str] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_item: Callable[[dict[str, Any]], None] | None = None,
) -> EvalRun:
    """Evaluate a model (or `config.predictions`) on a dataset split, appending one record per sample to `results`.

    Args:
        root: dataset folder (any layout of `dlsr.eval.truth`).
        results: JSON-lines file to write (or continue with `resume`).
        config: what to score and how; protocol "auto" becomes `protocol_for(layout)` (recorded in the header).
        weights: weights file for the model (ignored with `config.predictions`); None finds the default.
        device: torch device for the network.
        batch_size: images per forward pass on a GPU (on the CPU one image per pass, so scores do not depend on it).
        workers: processes for meshing and metrics (1: in this process); None: `dlsr.workers.auto_workers` of the
            samples to score (one per CPU for a large run). The results do not depend on it.
        shard: (i, n): score only samples with index % n == i.
        resume: continue an existing results file (not together with `overwrite`).
        overwrite: replace an existing results file.
        frame_check: test the first samples for a better alignment before scoring (see the module docstring).
        summary_file: also write the header and summary there as JSON when done.
        report: also write the HTML report there when done (`write_report`, with `weights` and `device`).
        csv: also write the summary table there as CSV when done (`write_csv`); it and `report` are checked
            writable before anything is scored.
        on_start: called once with (samples to score now, samples already in the file).
        on_item: called with each record as it is written.

    Returns:
        The run's results path, header, summary (of the whole file) and counts.

    Raises:
        DatasetError, ConfigError, OutputError, WeightsError: before any sample is scored.
    """
    started = time.perf_counter()
    path = Path(results)
    check_outputs(csv, report)
    _refuse_options(path, batch_size, workers, resume, overwrite)
    layout, samples = plan_samples(root, config)
    if config.protocol == AUTO_PROTOCOL:  # the header records the protocol used, so resume compares that
        config = replace(config, protocol=protocol_for(layout))
    model, predictions = load_predictor(config, weights, device)
    if config.level is None:  # recorded resolved, so a resume with other weights' level is refused
        config = replace(config, level=model.info.level if model is not None else 0.0)
    header = make_header(root, layout, config, len(samples), shard, model)
    mine = [sample for sample in samples if in_shard(sample, shard)]
    if frame_check:
        # Before the results file is touched: a refusal leaves nothing behind.
        check_frames(plan_jobs(mine[:FRAME_CHECK_SAMPLES], config, model, predictions, batch_size))
    done, stream = open_results(path, header, resume, overwrite)
    todo = [sample for sample in mine if sample.key not in done]
    if on_start:
        on_start(len(todo), len(mine) - len(todo))
    if workers is None:
        from dlsr.workers import auto_workers

        workers = auto_workers(len(todo))
    jobs = plan_jobs(todo, config, model, predictions, batch_size)
    _write_records(path, stream, _run_jobs(jobs, workers), on_item)
    summary = summarise(iter_results(path), category_names(root))
    run = EvalRun(path, header, summary, len(todo), len(mine) - len(todo), time.perf_counter() - started)
    return _write_outputs(run, summary_file, report, csv, weights, device)


def _write_outputs(
    run: EvalRun,
    summary_file: str | os.PathLike[str] | None,
    report: str | os.PathLike[str] | None,
    csv: str | os.PathLike[str] | None,
    weights: str | os.PathLike[str] | None,
    device: str,
) -> EvalRun:
    """The summary JSON, the HTML report and the CSV table of a finished run, those that were asked for."""
    from dlsr.files import atomic_write

    if summary_file is not None:
        run.summary_file = Path(summary_file)
        atomic_write(summary_file, json.dumps({"header": run.header, "summary": run.summary}, indent=2).encode())
    if report is not None:
        from dlsr.eval.report import write_report

        run.report = write_report(run.results, report, weights=weights, device=device)
    if csv is not None:
        run.csv = write_csv(run.summary, csv, run.header)
    return run


def _refuse_options(path: Path, batch_size: int, workers: int | None, resume: bool, overwrite: bool) -> None:
    """Refusals found before anything is loaded or run."""
    if batch_size < 1 or (workers is not None and workers < 1):
        raise ConfigError(f"batch_size and workers must be at least 1, got {batch_size}, {workers}")
    if resume and overwrite:
        # Overwriting would silently throw away the samples that resume was asked to keep.
        raise ConfigError("resume continues the results file and overwrite replaces it: choose one")
    if path.is_file() and path.stat().st_size > 0 and not (resume or overwrite):
        # Checked again when the file is opened; here so that nothing is loaded or run before the refusal.
        raise OutputError(f"{path}: results exist; pass --resume to continue them, or --overwrite to start over")


def _write_records(
    path: Path,
    stream: Any,
    records: Generator[dict[str, Any], None, None],
    on_item: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Append each record as it comes, flushed; closes `stream` and stops `records` however it ends."""
    try:
        # closing: an interrupt here stops the workers at once, not whenever the generator is collected.
        with closing(records):
            for record in records:
                try:
                    stream.write(json.dumps(record) + "\n")
                    stream.flush()
                except OSError as exc:  # a full disk mid-run; what was flushed so far is kept for --resume
                    raise OutputError(f"{path}: cannot append results ({exc.strerror or exc})") from None
                if on_item:
                    on_item(record)
    finally:
        stream.close()


def _run_jobs(jobs: Iterable[Job], workers: int) -> Generator[dict[str, Any], None, None]:
    """Score jobs in this process or in `workers` processes (a bounded number in flight: flat memory)."""
    from dlsr.workers import map_in_workers

    yield from map_in_workers(score_job, jobs, workers)


# ------------------------------------------------------------------------------------------ frames


def output_paths(out: Path | None, results: Path | None, shard: tuple[int, int] | None) -> tuple[Path, Path | None]:
    """Where a run's results and summary go: `results` itself (no summary), or results.jsonl and summary.json in
    the folder `out`; a shard's names carry its suffix (`with_shard_suffix`)."""
    if results is not None:
        return with_shard_suffix(results, shard), None
    folder = out or Path(".")
    summary = with_shard_suffix(folder / "summary.json", shard) if out is not None else None
    return with_shard_suffix(folder / "results.jsonl", shard), summary


def with_shard_suffix(path: Path, shard: tuple[int, int] | None) -> Path:
    """results.jsonl -> results.shard-0-of-4.jsonl for a shard, unchanged otherwise."""
    if shard is None:
        return path
    return path.with_name(f"{path.stem}.shard-{shard[0]}-of-{shard[1]}{path.suffix}")
