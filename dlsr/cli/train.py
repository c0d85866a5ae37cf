"""`dlsr train run|export|calibrate|score`: train a model, export its weights, calibrate and score it."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dlsr.cli._util import (
    DefaultRunGroup,
    app,
    check_level_and_device,
    escape,
    fail,
    handle_errors,
    progress_bar,
    stderr_console,
    usage_error,
)
from dlsr.conventions import (
    TRAIN_DEVICES,
    either,
    split_list,
)
from dlsr.errors import ConfigError

# Rich reads [name] as markup and drops it ("TOML file: , , , ."): the brackets are escaped.
_TRAIN_CONFIG_HELP = "TOML file with the tables \\[train], \\[model], \\[objective], \\[augment], \\[preprocess]."

train_app = typer.Typer(
    cls=DefaultRunGroup,
    help=(
        "Train an image -> SDF network on a dataset folder: `dlsr train DATA --out runs/NAME`; then "
        "`dlsr train export runs/NAME -o FILE.safetensors`. Under `torchrun --nproc-per-node K -m dlsr train ...` "
        "it trains with DistributedDataParallel. `dlsr train DATA ...` is `dlsr train run DATA ...`: "
        "`dlsr train run --help` lists its options."
    ),
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")


@train_app.command("run")
@handle_errors
def train_run(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="Dataset folder(s) made by `dlsr data synth` or `dlsr data prepare`; several are pooled for "
            "training and the first one's val split picks the best epoch."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoints, metrics, run.json.")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help=_TRAIN_CONFIG_HELP)] = None,
    objective: Annotated[str | None, typer.Option(help="dls (default), dls-paper, voxel or sdf-l2.")] = None,
    arch: Annotated[str | None, typer.Option(help="Network: dlsr-lite (default) or dls-paper-resnet.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over every training image.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Global batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (AdamW).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of initialisation, order and augmentation.")] = None,
    categories: Annotated[
        list[str] | None,
        typer.Option(
            "--categories", help="Comma-separated synset ids to train on (or repeat the option); default all."
        ),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="Torch CPU threads per process.")] = None,
    init: Annotated[
        str | None, typer.Option(help="Start from these weights: a .safetensors file or a run folder (its best.pt).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out exactly.")] = False,
    device: Annotated[str, typer.Option(help=f"{either(TRAIN_DEVICES)}.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or epoch lines.")] = False,
) -> None:
    """Train a model; the run folder can be resumed and exported."""
    from dlsr.train import load_run_config, train
    from dlsr.workers import process_rank

    if device not in TRAIN_DEVICES:
        raise usage_error(f"--device {device!r}: choose {either(TRAIN_DEVICES)}")
    train_overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "arch": arch,
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "threads": threads,
            "init": init,
            "categories": split_list(categories) or None,
        }.items()
        if value is not None
    }
    overrides: dict[str, dict[str, Any]] = {"train": train_overrides}
    if objective is not None:
        overrides["objective"] = {"name": objective}
    _check_train_options(overrides)
    run_config = load_run_config(config, overrides)
    console = stderr_console()
    rank = process_rank()
    with progress_bar("{task.description}", quiet or rank != 0) as progress:
        task = progress.add_task("training", total=None, rate="")
        phase = {"description": ""}
        phase_start = [time.perf_counter()]

        def on_progress(description: str, done: int, total: int) -> None:
            if description != phase["description"]:
                phase["description"] = description
                phase_start[0] = time.perf_counter()
                progress.reset(task, total=total, description=description)
            elapsed = max(time.perf_counter() - phase_start[0], 1e-9)
            unit = "obj/s" if description.startswith("preparing") else "steps/s"
            progress.update(task, completed=done, total=total, rate=f"{done / elapsed:.2f} {unit}")

        def on_log(line: str) -> None:
            if not quiet:
                progress.console.print(escape(line))

        report = train(
            data, out, run_config, resume=resume, device=device, command=" ".join(["dlsr", *sys.argv[1:]]),
            progress=on_progress, log=on_log,
        )  # fmt: skip
    if rank == 0:
        if not quiet:
            console.print(
                f"{report.out}: {report.epochs} epochs, best val IoU {report.best_val_iou:.4f} at epoch "
                f"{report.best_epoch}, {report.seconds / 60:.1f} min, {report.samples_per_second:.1f} samples/s"
            )
        sys.stdout.write(f"{report.out}\n")


def _check_train_options(overrides: dict[str, dict[str, Any]]) -> None:
    """A bad option value (`--lr inf`, `--epochs 0`) is a usage error, exit 2; the same in a --config file is
    a bad file, exit 1, reported when the file is read. Every check is of one value, so the options are
    checked alone, on the defaults."""
    from dlsr.train import run_config_from_dict

    try:
        run_config_from_dict(overrides, "option")
    except ConfigError as exc:
        raise usage_error(str(exc)) from None


@train_app.command("export")
@handle_errors
def train_export(
    run: Annotated[Path, typer.Argument(help="Run folder written by `dlsr train`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Weights file to write (.safetensors).")],
    which: Annotated[str, typer.Option(help="best (highest validation IoU) or last.")] = "best",
    scores: Annotated[
        Path | None, typer.Option(help="JSON from `dlsr train score --json` to record as the weights' metrics.")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing file.")] = False,
    full_precision: Annotated[
        bool, typer.Option("--float32", help="Store float32 tensors (default: float16, half the size).")
    ] = False,
    level: Annotated[
        float, typer.Option(help="Default iso-level of the model's surface, world units (measured; within 2 voxels).")
    ] = 0.0,
) -> None:
    """Write a run's model as a self-describing weights file for `dlsr reconstruct --weights`."""

    from dlsr.train import export_weights

    if which not in ("best", "last"):
        raise usage_error(f"--which {which!r}: choose best or last")
    if not math.isfinite(level):
        raise usage_error(f"--level {level}: expected a finite iso-level in world units")
    metrics = None
    if scores is not None:
        try:
            metrics = {"scores": json.loads(scores.read_text())}
        except (OSError, json.JSONDecodeError) as exc:
            raise fail(f"{scores}: not readable JSON ({exc}); pass the output of `dlsr train score --json`") from None
    path = export_weights(
        run, output, which=which, metrics=metrics, overwrite=overwrite, half=not full_precision, level=level
    )
    sys.stdout.write(f"{path}\n")


@train_app.command("calibrate")
@handle_errors
def train_calibrate(
    data: Annotated[
        list[Path], typer.Argument(help="Dataset folders to calibrate on (their validation splits), one or more.")
    ],
    weights: Annotated[
        str | None, typer.Option(help="Weights file (default: $DLSR_WEIGHTS, then the shipped model).")
    ] = None,
    split: Annotated[str, typer.Option(help="train, val, test or all.")] = "val",
    views: Annotated[str, typer.Option(help="'all' or view numbers per object, e.g. 0,12.")] = "0",
    limit: Annotated[int | None, typer.Option(min=1, help="Samples per category.")] = None,
    levels: Annotated[str, typer.Option(help="Candidate levels in voxels, comma-separated.")] = "0,0.25,0.5,0.75,1",
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for meshing and metrics.")] = None,
    device: Annotated[str, typer.Option(help=f"{either(TRAIN_DEVICES)}.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the calibration as JSON on stdout.")] = False,
) -> None:
    """Pick the iso-level with the best class-mean F@1 % on a split (the mean over several datasets); store it
    with `train export --level`."""
    from dlsr.eval.config import parse_views
    from dlsr.train.calibrate import calibrate_level

    try:
        candidates = [float(value) for value in levels.split(",") if value.strip()]
    except ValueError:
        raise usage_error(f"--levels {levels!r}: expected numbers separated by commas, e.g. 0,0.5,1") from None
    if not candidates or not all(math.isfinite(value) and abs(value) <= 2 for value in candidates):
        raise usage_error(f"--levels {levels!r}: give finite levels within 2 voxels of 0")
    check_level_and_device(None, device, TRAIN_DEVICES)
    console = stderr_console()

    def on_level(score: Any) -> None:
        means = score.means
        console.print(
            f"{score.data}: level {score.voxels:g} voxels ({score.level:.4f}): F@1% {score.criterion:.3f}, "
            f"Chamfer-L1 {means.get('chamfer_l1') or 0:.3f}, IoU {means.get('iou') or 0:.3f}, "
            f"{score.empty} of {score.count} empty"
        )

    result = calibrate_level(
        data, weights, split=split, views=parse_views(views), limit=limit, levels_in_voxels=candidates,
        workers=workers, device=device, on_level=on_level,
    )  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(result.summary(), indent=2) + "\n")
    console.print(
        f"best: level {result.best.level:.4f} ({result.best.voxels:g} voxels) by class-mean F@1% "
        f"{result.pooled(result.best.level):.3f}" + (" (mean over the datasets)" if len(data) > 1 else "")
    )


@train_app.command("score")
@handle_errors
def train_score(
    data: Annotated[Path, typer.Argument(help="Dataset folder.")],
    weights: Annotated[
        str | None, typer.Option(help="Weights file (default: the shipped model), or a run folder (its best.pt).")
    ] = None,
    split: Annotated[str, typer.Option(help="train, val or test.")] = "test",
    categories: Annotated[
        list[str] | None, typer.Option("--categories", help="Comma-separated synset ids (or repeat the option).")
    ] = None,
    views: Annotated[int, typer.Option(help="Views per object, evenly spaced (0: all).")] = 0,
    device: Annotated[str, typer.Option(help=f"{either(TRAIN_DEVICES)}.")] = "auto",
    level: Annotated[
        float | None,
        typer.Option(help="Iso-level of the predicted inside (default: the weights' own; 0: the paper's protocol)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Sign IoU at the model's grid resolution (the paper's 32^3 protocol) per category on a dataset split."""
    from dlsr.train import score_split

    check_level_and_device(level, device, TRAIN_DEVICES)
    result = score_split(
        data, weights=weights, split=split, categories=split_list(categories), views=views, device=device,
        level=level,
    ).summary()  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    elif not quiet:
        from rich.table import Table

        table = Table(title=f"sign IoU at {result['resolution']}^3, {split} split, level {result['level']:.4f}")
        for column in ("category", "name", "objects", "images", "IoU"):
            table.add_column(column, justify="right" if column in ("objects", "images", "IoU") else "left")
        for category, row in result["categories"].items():
            table.add_row(category, row["name"], str(row["objects"]), str(row["images"]), f"{row['iou']:.4f}")
        table.add_row("mean", "(class mean)", "", "", f"{result['class_mean']:.4f}")
        table.add_row("mean", "(instance mean)", "", "", f"{result['instance_mean']:.4f}")
        stderr_console().print(table)
