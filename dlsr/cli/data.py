"""`dlsr data synth|index|prepare`: make training and evaluation datasets."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from dlsr.cli._util import (
    app,
    escape,
    handle_errors,
    progress_bar,
    stderr_console,
    usage_error,
)
from dlsr.conventions import (
    R2N2_VIEWS,
    parse_categories,
    parse_shard,
    split_list,
)
from dlsr.errors import ConfigError

data_app = typer.Typer(
    help="Make training and evaluation data: procedural objects, or renders and ground truth of your meshes.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


def _run_dataset_job(run: Callable[..., Any], description: str, quiet: bool) -> Any:
    """Drive a dataset writer with a progress bar; failed objects are printed (above the bar) as they happen."""
    progress = progress_bar(description, quiet)
    try:
        task = progress.add_task(description, total=None, rate="")
        started = time.perf_counter()

        # Started only when the work starts, so an error in planning is one line without an empty bar above it.
        def on_start(total: int) -> None:
            progress.start()
            progress.update(task, total=total)

        def on_item(result: Any) -> None:
            if result.status == "failed":
                progress.console.print(f"[bold red]error:[/] {escape(result.error)}")
            elapsed = max(time.perf_counter() - started, 1e-9)
            done = progress.tasks[0].completed + 1
            progress.update(task, advance=1, rate=f"{done / elapsed:.2f} obj/s")

        return run(on_item=on_item, on_start=on_start)
    finally:
        progress.stop()


def _report_dataset(report: Any, quiet: bool) -> None:
    if not quiet:
        stderr_console().print(
            f"{report.out}: {report.written} written, {report.skipped} already complete, "
            f"{len(report.failed)} failed, in {report.seconds:.1f} s"
            + ("" if report.indexed else "; run `dlsr data index` after the last shard")
        )
    sys.stdout.write(f"{report.out}\n")


@data_app.command("synth")
@handle_errors
def data_synth(
    out: Annotated[Path, typer.Argument(help="Dataset folder to write (created; rerun the same command to resume).")],
    categories: Annotated[
        str | None, typer.Option(help="Comma-separated names or synset ids (default: all 13).")
    ] = None,
    per_category: Annotated[int, typer.Option(min=1, help="Objects per category.")] = 100,
    views: Annotated[int, typer.Option(min=1, help="Renderings per object (3D-R2N2: 24).")] = R2N2_VIEWS,
    resolution: Annotated[int, typer.Option(min=2, help="Samples per axis of the ground-truth SDF grid.")] = 32,
    seed: Annotated[int, typer.Option(min=0, help="The seed every object, view and sample is drawn from.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Parallel processes.")] = 1,
    shard: Annotated[
        str | None, typer.Option(help="i/n: make only every n-th object starting at i (then `dlsr data index`).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Generate procedural objects of the 13 ShapeNet categories, render them like 3D-R2N2, write ground truth."""
    from dlsr.synth import SynthConfig, make_dataset

    try:
        chosen = parse_categories(categories)
        config = SynthConfig(
            categories=chosen, per_category=per_category, views=views, sdf_resolution=resolution, seed=seed
        )
        shard_range = parse_shard(shard) if shard else None
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    report = _run_dataset_job(
        functools.partial(make_dataset, config, out, workers=workers, shard=shard_range), "synth", quiet
    )
    _report_dataset(report, quiet)
    if report.failed:
        raise typer.Exit(1)


@data_app.command("index")
@handle_errors
def data_index(
    out: Annotated[Path, typer.Argument(help="A dataset folder written by `dlsr data synth --shard`.")],
) -> None:
    """Merge the shards of a dataset: write the split lists and metadata.json once every object is present."""
    from dlsr.synth import write_index

    metadata = write_index(out)
    stderr_console().print(f"{out}: indexed {metadata['total']} objects in {len(metadata['categories'])} categories")
    sys.stdout.write(f"{out}\n")


@data_app.command("prepare")
@handle_errors
def data_prepare(
    meshes: Annotated[Path, typer.Argument(help="ShapeNetCore v1/v2 folder, or any folder of mesh files.")],
    out: Annotated[Path, typer.Argument(help="Dataset folder to write (rerun the same command to resume).")],
    categories: Annotated[str | None, typer.Option(help="Comma-separated synset ids or folder names.")] = None,
    views: Annotated[int, typer.Option(min=1, help="Renderings per object.")] = R2N2_VIEWS,
    resolution: Annotated[int, typer.Option(min=2, help="Samples per axis of the ground-truth SDF grid.")] = 32,
    seed: Annotated[int, typer.Option(min=0, help="Seed for views, colours and samples.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Parallel processes.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Render your meshes and write the same ground truth as `dlsr data synth` (winding-number inside/outside)."""
    from dlsr.synth import SynthConfig, prepare_dataset

    chosen = split_list(categories)
    try:
        config = SynthConfig(categories=chosen, views=views, sdf_resolution=resolution, seed=seed)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    report = _run_dataset_job(
        functools.partial(prepare_dataset, meshes, config, out, workers=workers), "prepare", quiet
    )
    _report_dataset(report, quiet)
    if report.failed:
        stderr_console().print(f"skipped meshes and reasons: {out / 'prepare-report.json'}")
        raise typer.Exit(1)
