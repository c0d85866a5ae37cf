"""`dlsr eval run|merge`: score a model or another tool's meshes on a dataset, join shards."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dlsr.cli._util import (
    DefaultRunGroup,
    app,
    emit_json,
    escape,
    handle_errors,
    progress_bar,
    stderr_console,
    usage_error,
)
from dlsr.conventions import (
    DEFAULT_MESH_RESOLUTION,
    DEFAULT_POINTS,
    DEVICES,
    LAYOUTS,
    MESH_FORMATS,
    either,
    parse_shard,
    split_list,
)
from dlsr.errors import ConfigError

eval_app = typer.Typer(
    cls=DefaultRunGroup,
    help=(
        "Score a model (or another tool's meshes) on a dataset with the literature's metrics: "
        "`dlsr eval DATASET --out DIR`; join the shards of an array job with `dlsr eval merge FILES -o FILE`. "
        "`dlsr eval DATASET ...` is `dlsr eval run DATASET ...`: `dlsr eval run --help` lists its options."
    ),
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

_EVAL_COLUMNS = (
    ("iou", "IoU"),
    ("chamfer_l1", "CD-L1"),
    ("chamfer_l2", "CD-L2"),
    ("normal_consistency", "NC"),
    ("fscore@0.01", "F@1%"),
    ("fscore@0.02", "F@2%"),
    ("topology_match", "topo"),
)


def _eval_table(summary: dict[str, Any], title: str) -> Any:
    """The per-category table; compact enough for an 80-column terminal (a pipe's default width)."""
    from rich import box
    from rich.table import Table

    def number(value: float | None, key: str) -> str:
        if value is None:
            return "-"
        return f"{value:.4f}" if key == "chamfer_l2" else f"{value:.3f}"

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("category", no_wrap=True)
    for _, label in _EVAL_COLUMNS:
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("fail", justify="right", no_wrap=True)
    for row in summary["categories"].values():
        cells = [number(row[key], key) for key, _ in _EVAL_COLUMNS]
        table.add_row(escape(row["name"]), *cells, str(row["count"]), str(row["failures"]))
    for label, key in (("class mean", "class_mean"), ("instance mean", "instance_mean")):
        cells = [number(summary[key][k], k) for k, _ in _EVAL_COLUMNS]
        table.add_row(f"[bold]{label}[/]", *cells, str(summary["count"]), str(summary["failures"]))
    table.caption = (
        f"fail = failed predictions: {summary['empty']} empty surface(s), {summary['errors']} error(s); "
        "they score the worst case and count in the means"
    )
    return table


def _print_eval(
    summary: dict[str, Any], header: dict[str, Any], as_json: bool, quiet: bool, extra: dict[str, Any]
) -> None:
    if as_json:
        emit_json({"header": header, "summary": summary, **extra})
    if not quiet:
        config = header["config"]
        title = f"{header['layout']} {config['split']} split, IoU protocol {config['protocol']}"
        if extra.get("protocol_picked"):
            title += f" (picked for the {header['layout']} layout; --protocol to choose)"
        console = stderr_console()
        if not console.is_terminal:
            # A pipe or log file has no width; Rich would assume 80 columns and cut the numbers short.
            from rich.console import Console

            console = Console(stderr=True, highlight=False, soft_wrap=True, width=120)
        console.print(_eval_table(summary, title))
        sources = summary.get("iou_sources") or {}
        if summary["instance_mean"]["iou"] is None:
            need = (
                "voxels (binvox)"
                if config["protocol"] == "r2n2"
                else "occupancy points (points.npz), a mesh, or for ONet data a ShapeNetCore.v2 mesh beside it"
            )
            console.print(f"no IoU: the ground truth has no {need}; see --protocol in `dlsr eval --help`")
        elif sources:
            ordered = sorted(sources, key=lambda source: (source == "none", source))
            told = ", ".join(f"{source} ({sources[source]} samples)" for source in ordered)
            left_out = "; samples without it (none) are left out of the IoU means" if "none" in sources else ""
            console.print(f"IoU ground truth: {told}{left_out}")
        if summary["instance_mean"]["topology_match"] is None:
            console.print("no topology match: the ground truth is a point cloud, without a mesh to count parts in")


@eval_app.command("run")
@handle_errors
def eval_run(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder: synth, r2n2, onet, pix3d, or NAME.png+NAME.obj.")],
    weights: Annotated[
        Path | None, typer.Option(help="Weights file (default: $DLSR_WEIGHTS, then the shipped one).")
    ] = None,
    split: Annotated[str, typer.Option(help="train, val, test, or all.")] = "test",
    categories: Annotated[str | None, typer.Option(help="Comma-separated synset ids or names (default: all).")] = None,
    views: Annotated[str, typer.Option(help="'all' or view numbers per object, e.g. 0,6,12.")] = "all",
    limit: Annotated[int | None, typer.Option(min=1, help="Score only the first N samples of each category.")] = None,
    protocol: Annotated[
        str,
        typer.Option(
            help="IoU: onet (100k points in the padded box), r2n2 (32^3 voxels), or auto: r2n2 on a 3D-R2N2 layout "
            "(its binvox truth), onet otherwise."
        ),
    ] = "auto",
    layout: Annotated[str | None, typer.Option(help=f"{either(LAYOUTS)} (default: detected).")] = None,
    split_file: Annotated[Path | None, typer.Option(help="r2n2/pix3d: a file of category/model_id lines.")] = None,
    align: Annotated[
        str, typer.Option(help="Apply to predictions first: none, swap-xy, swap-xz, swap-yz, v2-to-v1, v1-to-v2.")
    ] = "none",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for results.jsonl, summary.json (default: eval/DATASET-SPLIT-WEIGHTS, e.g. "
            "eval/synth-200-test-dlsr-dls-64).",
        ),
    ] = None,
    results: Annotated[Path | None, typer.Option(help="JSON-lines results file, instead of --out.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print header and summary as JSON on stdout.")] = False,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Also write the table as CSV.")] = None,
    report: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML report.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted results file.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing results file.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes for meshing and metrics (default: one per CPU, 1 for under 32 samples)."),
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="i/n: score every n-th sample from i (then `dlsr eval merge`).")
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(
            help=f"Score another tool's files instead: DIR/<category>/<model_id>/<view>.{'|'.join(MESH_FORMATS)} (or "
            "<model_id>.EXT for every view), or voxel grids .binvox|.npy on the truth's grid."
        ),
    ] = None,
    voxel_threshold: Annotated[
        float, typer.Option(help="Voxel predictions (.npy probabilities): occupied where >= this.")
    ] = 0.5,
    points: Annotated[int, typer.Option(min=1, help="Surface samples per mesh.")] = DEFAULT_POINTS,
    iou_points: Annotated[int, typer.Option(min=1, help="Uniform IoU points (protocol onet).")] = DEFAULT_POINTS,
    resolution: Annotated[
        int, typer.Option(min=2, max=512, help="Marching-cubes resolution.")
    ] = DEFAULT_MESH_RESOLUTION,
    level: Annotated[
        float | None, typer.Option(help="Iso-level of the predicted surface (default: the weights' calibrated level).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every sample drawn.")] = 0,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Images per forward pass on a GPU (one at a time on the CPU).")
    ] = 16,
    device: Annotated[str, typer.Option(help=f"{either(DEVICES)}.")] = "auto",
    frame_check: Annotated[
        bool, typer.Option(help="Stop when the first predictions fit the truth far better in another frame.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Reconstruct every image of a dataset split and score it (IoU, Chamfer, normals, F-score, topology).

    `dlsr eval DATASET ...` runs this command. Results are appended per sample to a JSON-lines file as they are
    computed (`--resume` continues it after any interruption); the table goes to stderr, `--json` to stdout.
    Exit code 1 when a prediction failed (unreadable input, missing prediction file) or ground truth is
    unreadable; empty predictions are results (worst-case scores), not errors.
    """
    from dlsr.eval import EvalConfig, evaluate, parse_views
    from dlsr.eval.run import output_paths

    if out is not None and results is not None:
        raise usage_error("give --out DIR or --results FILE, not both")
    if resume and overwrite:
        raise usage_error(
            "--resume continues the results file and --overwrite replaces it (dropping the samples already scored): "
            "give one of them"
        )
    if not 0.0 < voxel_threshold <= 1.0:  # EvalConfig checks it too, in its own words
        raise usage_error(f"--voxel-threshold must be in (0, 1], got {voxel_threshold}")
    try:
        config = EvalConfig(
            protocol=protocol, split=split, layout=layout, align=align, points=points, iou_points=iou_points,
            mesh_resolution=resolution, level=level, seed=seed, limit=limit, views=parse_views(views),
            categories=split_list(categories),
            split_file=str(split_file) if split_file else None,
            predictions=str(predictions) if predictions else None, voxel_threshold=voxel_threshold,
        )  # fmt: skip
        shard_range = parse_shard(shard) if shard else None
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    if layout is not None and layout not in LAYOUTS:
        raise usage_error(f"--layout {layout!r}: choose {either(LAYOUTS)}")
    chosen_out = out is None and results is None
    if chosen_out:
        out = default_eval_folder(dataset, split, weights, predictions)
    results_path, summary_path = output_paths(out, results, shard_range)  # folders are made when written
    progress, on_start, on_item = _eval_progress(quiet, out if chosen_out else None, results_path)
    try:
        run = evaluate(
            dataset, results_path, config, weights=weights, device=device, batch_size=batch_size, workers=workers,
            shard=shard_range, resume=resume, overwrite=overwrite, frame_check=frame_check,
            summary_file=summary_path, report=report, csv=csv_path, on_start=on_start, on_item=on_item,
        )  # fmt: skip
    finally:
        progress.stop()
    extra = {"results": str(run.results), "scored": run.scored, "skipped": run.skipped, "seconds": run.seconds}
    if protocol == "auto":
        extra["protocol_picked"] = True
    _print_eval(run.summary, run.header, json_output, quiet, extra)
    if not quiet:
        stderr_console().print(
            f"{run.results}: {run.scored} scored, {run.skipped} already there, {run.summary['failures']} failures, "
            f"{run.summary['errors']} errors, in {run.seconds:.1f} s"
        )
    if not json_output:
        sys.stdout.write(f"{run.results}\n")
    if run.failed:
        raise typer.Exit(1)


def _eval_progress(quiet: bool, chosen_out: Path | None, results_path: Path) -> tuple[Any, Any, Any]:
    """The progress bar and the callbacks that drive it: (progress, on_start, on_item)."""
    console = stderr_console()
    # Started only when scoring starts, so an error in planning is one line without a bar above it.
    progress = progress_bar("eval", quiet)
    task = progress.add_task("eval", total=None, rate="")
    started = time.perf_counter()

    def on_start(total: int, skipped: int) -> None:
        if chosen_out is not None and not quiet:
            console.print(
                f"results go to {chosen_out}/ (the default for this dataset, split and weights; --out to choose)"
            )
        progress.start()
        progress.update(task, total=total)
        if skipped and not quiet:
            progress.console.print(f"{results_path}: {skipped} samples already scored, {total} to go")

    def on_item(record: dict[str, Any]) -> None:
        if record["status"] in ("failed", "error") and not quiet:
            progress.console.print(f"[bold red]error:[/] {escape(record['key'])}: {escape(record['error'])}")
        elapsed = max(time.perf_counter() - started, 1e-9)
        done = progress.tasks[0].completed + 1
        progress.update(task, advance=1, rate=f"{done / elapsed:.2f} samples/s")

    return progress, on_start, on_item


def default_eval_folder(dataset: Path, split: str, weights: Path | None, predictions: Path | None) -> Path:
    """eval/DATASET-SPLIT-WEIGHTS under the working folder: a second evaluation (other data, split or weights)
    gets its own folder instead of meeting the first one's results."""
    if predictions is not None:
        scored = f"predictions-{predictions.resolve().name}"
    else:
        from dlsr.checkpoint import find_weights

        scored = find_weights(weights).stem
    return Path("eval") / f"{dataset.resolve().name}-{split}-{scored}"


@eval_app.command("merge")
@handle_errors
def eval_merge(
    inputs: Annotated[list[Path], typer.Argument(help="The results files of every shard.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Merged results file (.jsonl).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print header and summary as JSON on stdout.")] = False,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Also write the table as CSV.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Join the results of `dlsr eval --shard i/n` runs into what one run would have written."""
    from dlsr.eval.results import merge_results
    from dlsr.eval.summary import failed_count

    header, summary = merge_results(inputs, output, overwrite=overwrite, csv=csv_path)
    _print_eval(summary, header, json_output, quiet, {"results": str(output)})
    if not json_output:
        sys.stdout.write(f"{output}\n")
    if failed_count(summary):
        raise typer.Exit(1)
