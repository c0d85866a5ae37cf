"""The `dlsr` command: a thin Typer layer over the library.

Each command parses options, calls library functions and renders their results. Results (written paths, JSON
lines, meshes) go to stdout; messages and errors go to stderr. A `DlsrError` becomes one line `error: ...` and
exit code 1; usage errors exit 2; anything else is a bug and keeps its traceback. `DLSR_DEBUG=1` shows the
traceback of every error. Heavy libraries (torch, trimesh, scikit-image) are imported inside command bodies so
that `dlsr --help` answers at once.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from dlsr import __version__
from dlsr.conventions import (
    DEFAULT_MESH_RESOLUTION,
    DEFAULT_POINTS,
    DEVICES,
    LAYOUTS,
    MESH_FORMATS,
    R2N2_VIEWS,
    TRAIN_DEVICES,
    either,
    parse_categories,
    parse_shard,
    split_list,
)
from dlsr.errors import ConfigError, DlsrError

DEBUG_ENV = "DLSR_DEBUG"
# The CLI repeats these so that --help needs no numpy; tests/test_cli.py pins them to the library.
BACKGROUND_MODES = ("auto", "none", "plain", "grabcut", "rembg")  # dlsr.data.BACKGROUND_MODES
DEFAULT_KEEP_PARTS = 0.0  # dlsr.postprocess.MeshFinish
DEFAULT_SMOOTH = 0  # dlsr.postprocess.MeshFinish
MASK_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")  # looked for in a --mask folder
STDIO = "-"

app = typer.Typer(
    name="dlsr",
    help="Single-image 3D reconstruction with Deep Level Sets: photo -> signed distance grid -> mesh.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr (message taken literally, never as markup); the Exit to raise."""
    _print_error(message)
    return typer.Exit(code)


def _print_error(message: str) -> None:
    _stderr_console().print(f"[bold red]error:[/] {_escape(message)}", markup=True, highlight=False)


def _usage_error(message: str) -> typer.Exit:
    return _fail(message, code=2)


def handle_errors(command: F) -> F:
    """Turn `DlsrError` into one line on stderr and exit 1 (the traceback too under DLSR_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DlsrError as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise _fail(str(exc)) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dlsr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Single-image 3D reconstruction with Deep Level Sets: photo -> signed distance grid -> mesh."""


# --------------------------------------------------------------------------------------------- reconstruct


@dataclass(frozen=True)
class _Job:
    """One input image and where its mesh goes (`destination` None means stdout)."""

    source: str  # a path, or "-" for stdin
    name: str  # how messages call it
    destination: Path | None
    format: str
    mask: Path | None = None  # the user's mask for this input, from --mask


@dataclass(frozen=True)
class _Settings:
    """How every job of one `dlsr reconstruct` call is meshed and written."""

    resolution: int
    level: float
    save_sdf: bool
    save_input: bool
    overwrite: bool
    background: str = "auto"
    save_mask: bool = False
    mask_folder: Path | None = None  # --mask DIR: each input's mask is the image named after it there
    finish: Any = None  # dlsr.postprocess.MeshFinish: stray parts, smoothing, scale, up axis


def _expand_inputs(patterns: list[str]) -> tuple[list[str], list[str]]:
    """Expand quoted glob patterns ourselves (shells leave them alone when quoted); keep '-' and plain paths.

    Returns the inputs in order, and the patterns that matched nothing.
    """
    inputs: list[str] = []
    unmatched: list[str] = []
    for pattern in patterns:
        if pattern == STDIO or os.path.exists(pattern) or not glob.has_magic(pattern):
            inputs.append(pattern)
            continue
        matches = sorted(
            path for path in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(path)
        )
        if matches:
            inputs.extend(matches)
        else:
            unmatched.append(pattern)
    return inputs, unmatched


def _plan_jobs(inputs: list[str], output: str | None, format: str | None) -> list[_Job]:
    """Decide where each input's mesh goes. Raises typer.Exit(2) on contradictory options."""
    from dlsr.mesh import resolve_format

    if inputs.count(STDIO) > 1:
        raise _usage_error("'-' (stdin) may appear only once among the inputs")
    if output == STDIO or (output is None and inputs == [STDIO]):
        if len(inputs) != 1:
            raise _usage_error("-o - writes one mesh to stdout: give exactly one input")
        name = "<stdin>" if inputs[0] == STDIO else inputs[0]
        return [_Job(inputs[0], name, None, resolve_format(None, format or "obj"))]

    target = Path(output) if output is not None else Path(".")
    suffix = target.suffix.lower().lstrip(".")
    names_a_file = output is not None and not target.is_dir() and not output.endswith(("/", os.sep)) and suffix != ""
    if names_a_file:
        if suffix not in MESH_FORMATS:
            raise _usage_error(
                f"{output}: unknown mesh format '.{suffix}'; use one of .{', .'.join(MESH_FORMATS)} "
                "(or an existing folder)"
            )
        if len(inputs) != 1:
            raise _usage_error(f"-o {output} names one file but {len(inputs)} inputs were given; give a folder")
        if format is not None and resolve_format(None, format) != suffix:
            raise _usage_error(f"--format {format} contradicts the extension of -o {output}")
        name = "<stdin>" if inputs[0] == STDIO else inputs[0]
        return [_Job(inputs[0], name, target, suffix)]

    folder = target
    fmt = resolve_format(None, format or "obj")
    jobs: list[_Job] = []
    seen: dict[Path, str] = {}
    for source in inputs:
        stem = "stdin" if source == STDIO else Path(source).stem
        destination = folder / f"{stem}.{fmt}"
        name = "<stdin>" if source == STDIO else source
        if destination in seen:
            raise _usage_error(
                f"{source} and {seen[destination]} would both write {destination}; rename one or run them separately"
            )
        seen[destination] = source
        jobs.append(_Job(source, name, destination, fmt))
    return jobs


def _side_path(destination: Path, suffix: str) -> Path:
    """chair.obj -> chair.sdf.npz / chair.input.png / chair.mask.png, next to the mesh."""
    return destination.with_name(destination.stem + suffix)


def _check_background(background: str, mask: Path | None, inputs: list[str]) -> None:
    """Usage errors (exit 2) of --background and --mask, found before the model is loaded."""
    if background not in BACKGROUND_MODES:
        raise _usage_error(f"--background {background!r}: choose {', '.join(BACKGROUND_MODES[:-1])} or rembg")
    if mask is None:
        return
    if background != "auto":
        raise _usage_error(f"--mask gives the object itself; drop --background {background}")
    if not mask.is_dir() and len(inputs) != 1:
        raise _usage_error(
            f"--mask {mask} is one mask for {len(inputs)} inputs; give a folder of masks named after them"
        )


def _mask_for(job: _Job, settings: _Settings) -> Path | None:
    """The mask file of one input: --mask FILE itself, or the image named after the input in --mask DIR.

    Raises:
        InputImageError: the folder holds no mask for this input.
    """
    from dlsr.errors import InputImageError

    if settings.mask_folder is None:
        return job.mask
    stem = "stdin" if job.source == STDIO else Path(job.source).stem
    for extension in MASK_EXTENSIONS:
        for candidate in (
            settings.mask_folder / f"{stem}{extension}",
            settings.mask_folder / f"{stem}{extension.upper()}",
        ):
            if candidate.is_file():
                return candidate
    raise InputImageError(
        f"{job.name}: no mask for it in {settings.mask_folder}; add {settings.mask_folder / (stem + '.png')}"
    )


@app.command()
@handle_errors
def reconstruct(
    inputs: Annotated[
        list[str], typer.Argument(help="Image files, quoted glob patterns ('photos/*.png'), or - for stdin.")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Mesh file (one input), existing folder (one mesh per input), or - for stdout."
        ),
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help=f"Mesh format: {', '.join(MESH_FORMATS)} (default: obj).")
    ] = None,
    resolution: Annotated[
        int, typer.Option(min=2, max=512, help="Marching-cubes resolution: the SDF is resampled (tricubic) to R^3.")
    ] = DEFAULT_MESH_RESOLUTION,
    level: Annotated[
        float | None,
        typer.Option(help="Iso-level of the surface, world units (default: the weights' calibrated level, often 0)."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when available, else CPU), cpu, cuda or mps.")] = "auto",
    weights: Annotated[
        Path | None, typer.Option(help="Weights file (.safetensors) (default: $DLSR_WEIGHTS, then the shipped one).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass.")] = 16,
    save_sdf: Annotated[bool, typer.Option(help="Also write NAME.sdf.npz: the SDF grid and its world bounds.")] = False,
    save_input: Annotated[
        bool, typer.Option(help="Also write NAME.input.png: the preprocessed image the network saw, mask applied.")
    ] = False,
    background: Annotated[
        str,
        typer.Option(
            help="How to find the object: auto (alpha, else a plain background, else GrabCut), none (whole image), "
            "plain (alpha or flood fill from a one-colour border), grabcut, or rembg (if installed with its model)."
        ),
    ] = "auto",
    mask: Annotated[
        Path | None,
        typer.Option(
            help="The object's mask, white on black, the image's size; or a folder of masks named after the inputs."
        ),
    ] = None,
    save_mask: Annotated[
        bool, typer.Option(help="Also write NAME.mask.png: the object's mask at the input's size (255 = object).")
    ] = False,
    keep_parts: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Keep mesh parts with at least this share of the largest one's volume (1: largest)."
        ),
    ] = DEFAULT_KEEP_PARTS,
    smooth: Annotated[
        int, typer.Option(min=0, help="Taubin smoothing passes on the mesh (keeps volume).")
    ] = DEFAULT_SMOOTH,
    scale: Annotated[float, typer.Option(help="Multiply the mesh's coordinates (its longest side is 1 before).")] = 1.0,
    up: Annotated[str, typer.Option(help="Up axis of the output: y (game engines, glTF) or z (Blender).")] = "y",
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per input on stdout instead of paths.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")] = False,
) -> None:
    """Reconstruct a mesh from each input image (PNG, JPEG, WebP, BMP, TIFF)."""
    inputs, unmatched = _expand_inputs(inputs)
    if not inputs and unmatched:
        raise _fail(f"no files match {', '.join(unmatched)}; check the pattern")
    try:
        jobs = _plan_jobs(inputs, output, format)
    except ConfigError as exc:
        raise _usage_error(str(exc)) from None
    to_stdout = jobs[0].destination is None
    if to_stdout and (save_sdf or save_input or save_mask):
        raise _usage_error("--save-sdf, --save-input and --save-mask need -o to be a file or folder, not stdout")
    _check_background(background, mask, inputs)
    if up not in ("y", "z"):
        raise _usage_error(f"--up {up!r}: choose y or z")
    if not (math.isfinite(scale) and scale > 0):
        raise _usage_error(f"--scale {scale}: expected a finite number above 0, e.g. 100 for centimetres")
    if mask is not None and not mask.is_dir():
        jobs = [dataclasses.replace(job, mask=mask) for job in jobs]
    if to_stdout and json_lines:
        raise _usage_error("--json prints on stdout, which -o - already uses for the mesh")

    from typing import cast

    from dlsr.pipeline import load_model
    from dlsr.postprocess import MeshFinish, UpAxis

    _check_level_and_device(level, device, DEVICES)
    console = _stderr_console()
    failures = len(unmatched)
    for pattern in unmatched:
        _print_error(f"{pattern}: no files match this pattern")
    if background == "rembg":
        from dlsr.segment import require_rembg

        require_rembg("--background rembg")
    model = load_model(weights, device)
    settings = _Settings(
        resolution,
        model.info.level if level is None else level,
        save_sdf,
        save_input,
        overwrite,
        background=background,
        save_mask=save_mask,
        mask_folder=mask if mask is not None and mask.is_dir() else None,
        finish=MeshFinish(keep_parts=keep_parts, smooth_iterations=smooth, scale=scale, up=cast(UpAxis, up)),
    )
    started = time.perf_counter()
    done = 0
    for first in range(0, len(jobs), batch_size):
        batch = jobs[first : first + batch_size]
        outcomes = _reconstruct_batch(batch, model, settings)
        for job, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, DlsrError):
                failures += 1
                _print_error(str(outcome))
                if json_lines:
                    _emit_json({"input": job.name, "output": None, "error": str(outcome)})
                continue
            done += 1
            if json_lines:
                _emit_json(outcome)
            elif not to_stdout:
                sys.stdout.write(f"{outcome['output']}\n")
                sys.stdout.flush()
    if not quiet:
        elapsed = time.perf_counter() - started
        console.print(f"reconstructed {done} of {len(jobs) + len(unmatched)} input(s) in {elapsed:.2f} s")
    if failures:
        raise typer.Exit(1)


def _check_level_and_device(level: float | None, device: str, devices: tuple[str, ...]) -> None:
    """Usage errors (exit 2) found before the model is loaded, so a typo costs no seconds of loading."""

    if level is not None and not math.isfinite(level):
        raise _usage_error(f"--level {level}: expected a finite iso-level in world units, e.g. 0 or 0.01")
    if device not in devices:
        raise _usage_error(f"--device {device!r}: choose {', '.join(devices[:-1])} or {devices[-1]}")


def _reconstruct_batch(jobs: list[_Job], model: Any, settings: _Settings) -> list[dict[str, Any] | DlsrError]:
    """Run one batch of jobs; each entry is the job's result record or the error that stopped it."""
    from typing import cast

    from dlsr.data import BackgroundMode, load_image
    from dlsr.files import check_writable
    from dlsr.pipeline import predict_sdf

    outcomes: list[dict[str, Any] | DlsrError | None] = [None] * len(jobs)
    prepared = []
    for slot, job in enumerate(jobs):
        started = time.perf_counter()
        try:
            if job.destination is not None:
                check_writable(job.destination, overwrite=settings.overwrite)
                for wanted, suffix in (
                    (settings.save_sdf, ".sdf.npz"),
                    (settings.save_input, ".input.png"),
                    (settings.save_mask, ".mask.png"),
                ):
                    if wanted:
                        check_writable(_side_path(job.destination, suffix), overwrite=settings.overwrite)
            mask = _mask_for(job, settings)
            source: str | bytes = sys.stdin.buffer.read() if job.source == STDIO else job.source
            image = load_image(
                source,
                model.info.preprocess,
                name=job.name,
                background=cast(BackgroundMode, settings.background),
                mask=mask,
            )
        except DlsrError as exc:
            outcomes[slot] = exc
            continue
        prepared.append((slot, job, image, time.perf_counter() - started))
    started = time.perf_counter()
    sdfs = predict_sdf(model, [image.pixels for _, _, image, _ in prepared])
    network_share = (time.perf_counter() - started) / max(len(prepared), 1)
    for (slot, job, image, load_seconds), sdf in zip(prepared, sdfs, strict=True):
        started = time.perf_counter()
        try:
            record = _finish_job(job, image, sdf, model, settings)
        except DlsrError as exc:
            outcomes[slot] = exc
            continue
        record["seconds"] = round(load_seconds + network_share + time.perf_counter() - started, 4)
        outcomes[slot] = record
    return [outcome for outcome in outcomes if outcome is not None]


def _finish_job(job: _Job, image: Any, sdf: Any, model: Any, settings: _Settings) -> dict[str, Any]:
    """Mesh one predicted SDF and write the mesh (and side outputs); returns the result record."""
    from dlsr.errors import EmptySurfaceError
    from dlsr.files import atomic_write
    from dlsr.mesh import mesh_bytes, save_mesh
    from dlsr.pipeline import surface_sdf
    from dlsr.postprocess import finish_surface
    from dlsr.sdf import sdf_archive

    try:
        mesh, _ = surface_sdf(sdf, model.info.grid, settings.resolution, settings.level)
    except EmptySurfaceError as exc:
        raise EmptySurfaceError(f"{job.name}: {exc}") from exc
    if settings.finish is not None:
        mesh = finish_surface(mesh, settings.finish)
    if job.destination is None:
        data = mesh_bytes(mesh, job.format)
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        written = STDIO
    else:
        save_mesh(mesh, job.destination, job.format, overwrite=settings.overwrite)
        written = str(job.destination)
        if settings.save_sdf:
            import numpy as np

            arrays = sdf_archive(sdf, model.info.grid, settings.level)
            atomic_write(
                _side_path(job.destination, ".sdf.npz"),
                lambda stream: np.savez_compressed(stream, **arrays),
                overwrite=settings.overwrite,
            )
        if settings.save_input:
            from dlsr.data import png_bytes

            atomic_write(
                _side_path(job.destination, ".input.png"), png_bytes(image.pixels), overwrite=settings.overwrite
            )
        if settings.save_mask:
            from dlsr.data import mask_png_bytes

            atomic_write(_side_path(job.destination, ".mask.png"), mask_png_bytes(image), overwrite=settings.overwrite)
    return {
        "input": job.name,
        "output": written,
        "foreground": image.foreground,
        "vertices": len(mesh.vertices),
        "faces": len(mesh.faces),
        "watertight": bool(mesh.is_watertight),
    }


def _emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------- info


@app.command()
@handle_errors
def info(
    weights: Annotated[
        Path | None, typer.Option(help="Weights file to describe (default: $DLSR_WEIGHTS, then the shipped one).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the card as one JSON object.")] = False,
) -> None:
    """Show the model card of the weights, the device that would be used, and versions."""
    from dlsr.about import system_card

    card = system_card(weights)
    if json_output:
        _emit_json(card)
    else:
        from rich.console import Console

        from dlsr.about import card_lines

        out = Console(highlight=False, soft_wrap=True)
        for line in card_lines(card):
            out.print(line, markup=False)
    if weights is not None and card["weights"].get("error"):
        raise _fail(card["weights"]["error"])


# --------------------------------------------------------------------------------------------- data

data_app = typer.Typer(
    help="Make training and evaluation data: procedural objects, or renders and ground truth of your meshes.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


def _progress(description: str, quiet: bool) -> Any:
    """A Rich progress bar on stderr with count, rate and ETA (a no-op context when quiet)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=_stderr_console(),
        disable=quiet,
    )


def _run_dataset_job(run: Callable[..., Any], description: str, quiet: bool) -> Any:
    """Drive a dataset writer with a progress bar; failed objects are printed (above the bar) as they happen."""
    progress = _progress(description, quiet)
    try:
        task = progress.add_task(description, total=None, rate="")
        started = time.perf_counter()

        # Started only when the work starts, so an error in planning is one line without an empty bar above it.
        def on_start(total: int) -> None:
            progress.start()
            progress.update(task, total=total)

        def on_item(result: Any) -> None:
            if result.status == "failed":
                progress.console.print(f"[bold red]error:[/] {_escape(result.error)}")
            elapsed = max(time.perf_counter() - started, 1e-9)
            done = progress.tasks[0].completed + 1
            progress.update(task, advance=1, rate=f"{done / elapsed:.2f} obj/s")

        return run(on_item=on_item, on_start=on_start)
    finally:
        progress.stop()


def _report_dataset(report: Any, quiet: bool) -> None:
    if not quiet:
        _stderr_console().print(
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
        raise _usage_error(str(exc)) from None
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
    _stderr_console().print(f"{out}: indexed {metadata['total']} objects in {len(metadata['categories'])} categories")
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
        raise _usage_error(str(exc)) from None
    report = _run_dataset_job(
        functools.partial(prepare_dataset, meshes, config, out, workers=workers), "prepare", quiet
    )
    _report_dataset(report, quiet)
    if report.failed:
        _stderr_console().print(f"skipped meshes and reasons: {out / 'prepare-report.json'}")
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------- render


class _DefaultRunGroup(TyperGroup):
    """`dlsr train DATA ...` runs the `run` subcommand; `dlsr train export|score ...` the named one."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


# Rich reads [name] as markup and drops it ("TOML file: , , , ."): the brackets are escaped.
_TRAIN_CONFIG_HELP = "TOML file with the tables \\[train], \\[model], \\[objective], \\[augment], \\[preprocess]."

train_app = typer.Typer(
    cls=_DefaultRunGroup,
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

    if device not in TRAIN_DEVICES:
        raise _usage_error(f"--device {device!r}: choose {either(TRAIN_DEVICES)}")
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
    console = _stderr_console()
    rank = int(os.environ.get("RANK", "0"))
    with _progress("{task.description}", quiet or rank != 0) as progress:
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
                progress.console.print(_escape(line))

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
        raise _usage_error(str(exc)) from None


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
        raise _usage_error(f"--which {which!r}: choose best or last")
    if not math.isfinite(level):
        raise _usage_error(f"--level {level}: expected a finite iso-level in world units")
    metrics = None
    if scores is not None:
        try:
            metrics = {"scores": json.loads(scores.read_text())}
        except (OSError, json.JSONDecodeError) as exc:
            raise _fail(f"{scores}: not readable JSON ({exc}); pass the output of `dlsr train score --json`") from None
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
    from dlsr.calibrate import calibrate_level
    from dlsr.evaluate import parse_views

    try:
        candidates = [float(value) for value in levels.split(",") if value.strip()]
    except ValueError:
        raise _usage_error(f"--levels {levels!r}: expected numbers separated by commas, e.g. 0,0.5,1") from None
    if not candidates or not all(math.isfinite(value) and abs(value) <= 2 for value in candidates):
        raise _usage_error(f"--levels {levels!r}: give finite levels within 2 voxels of 0")
    _check_level_and_device(None, device, TRAIN_DEVICES)
    console = _stderr_console()

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

    _check_level_and_device(level, device, TRAIN_DEVICES)
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
        _stderr_console().print(table)


@app.command()
@handle_errors
def render(
    mesh: Annotated[Path, typer.Argument(help=f"Mesh file ({', '.join(MESH_FORMATS)}).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Picture to write (.png).")],
    views: Annotated[int, typer.Option(min=1, max=64, help="Views around the object.")] = 8,
    size: Annotated[int, typer.Option(min=16, max=2048, help="Side of each view, pixels.")] = 256,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing picture.")] = False,
) -> None:
    """Draw a contact sheet of a mesh from several views, for looking at results."""
    from dlsr.data import png_bytes
    from dlsr.files import atomic_write
    from dlsr.meshio import load_mesh
    from dlsr.render import contact_sheet

    if output.suffix.lower() != ".png":
        raise _usage_error(f"{output}: the picture is written as PNG; give a .png file name")
    sheet = contact_sheet(load_mesh(mesh), views=views, size=size)
    if (sheet == 255).all():  # an all-white picture is no picture of the mesh
        raise _fail(f"{mesh}: no view shows any of the mesh (too thin or too small to see); nothing written")
    atomic_write(output, png_bytes(sheet), overwrite=overwrite)
    sys.stdout.write(f"{output}\n")


# --------------------------------------------------------------------------------------------- eval

eval_app = typer.Typer(
    cls=_DefaultRunGroup,
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
        table.add_row(_escape(row["name"]), *cells, str(row["count"]), str(row["failures"]))
    for label, key in (("class mean", "class_mean"), ("instance mean", "instance_mean")):
        cells = [number(summary[key][k], k) for k, _ in _EVAL_COLUMNS]
        table.add_row(f"[bold]{label}[/]", *cells, str(summary["count"]), str(summary["failures"]))
    table.caption = (
        f"fail = failed predictions: {summary['empty']} empty surface(s), {summary['errors']} error(s); "
        "they score the worst case and count in the means"
    )
    return table


def _print_eval(summary: dict[str, Any], header: dict[str, Any], as_json: bool, csv_path: Path | None,
                quiet: bool, extra: dict[str, Any]) -> None:  # fmt: skip
    from dlsr.evaluate import write_csv

    if csv_path is not None:
        write_csv(summary, csv_path, header)
    if as_json:
        _emit_json({"header": header, "summary": summary, **extra})
    if not quiet:
        config = header["config"]
        title = f"{header['layout']} {config['split']} split, IoU protocol {config['protocol']}"
        if extra.get("protocol_picked"):
            title += f" (picked for the {header['layout']} layout; --protocol to choose)"
        console = _stderr_console()
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
            "eval/synth-200-test-dlsr-dls-32).",
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
    from dlsr.evaluate import EvalConfig, evaluate, parse_views, with_shard_suffix

    if out is not None and results is not None:
        raise _usage_error("give --out DIR or --results FILE, not both")
    if resume and overwrite:
        raise _usage_error(
            "--resume continues the results file and --overwrite replaces it (dropping the samples already scored): "
            "give one of them"
        )
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
        raise _usage_error(str(exc)) from None
    if layout is not None and layout not in LAYOUTS:
        raise _usage_error(f"--layout {layout!r}: choose {either(LAYOUTS)}")
    chosen_out = out is None and results is None
    if chosen_out:
        out = default_eval_folder(dataset, split, weights, predictions)
    results_path = results if results is not None else (out or Path(".")) / "results.jsonl"
    results_path = with_shard_suffix(results_path, shard_range)  # its folder is made when results are written
    _check_table_outputs(csv_path, report)
    console = _stderr_console()
    # Started only when scoring starts, so an error in planning is one line without a bar above it.
    progress = _progress("eval", quiet)
    task = progress.add_task("eval", total=None, rate="")
    started = time.perf_counter()

    def on_start(total: int, skipped: int) -> None:
        if chosen_out and not quiet:
            console.print(f"results go to {out}/ (the default for this dataset, split and weights; --out to choose)")
        progress.start()
        progress.update(task, total=total)
        if skipped and not quiet:
            progress.console.print(f"{results_path}: {skipped} samples already scored, {total} to go")

    def on_item(record: dict[str, Any]) -> None:
        if record["status"] in ("failed", "error") and not quiet:
            progress.console.print(f"[bold red]error:[/] {_escape(record['key'])}: {_escape(record['error'])}")
        elapsed = max(time.perf_counter() - started, 1e-9)
        done = progress.tasks[0].completed + 1
        progress.update(task, advance=1, rate=f"{done / elapsed:.2f} samples/s")

    try:
        run = evaluate(
            dataset, results_path, config, weights=weights, device=device, batch_size=batch_size, workers=workers,
            shard=shard_range, resume=resume, overwrite=overwrite, frame_check=frame_check,
            on_start=on_start, on_item=on_item,
        )  # fmt: skip
    finally:
        progress.stop()
    if out is not None:
        from dlsr.files import atomic_write

        summary_name = with_shard_suffix(out / "summary.json", shard_range)
        atomic_write(summary_name, json.dumps({"header": run.header, "summary": run.summary}, indent=2).encode())
    if report is not None:
        from dlsr.evaluate import write_report

        write_report(run.results, report, weights=weights, device=device)
    extra = {"results": str(run.results), "scored": run.scored, "skipped": run.skipped, "seconds": run.seconds}
    if protocol == "auto":
        extra["protocol_picked"] = True
    _print_eval(run.summary, run.header, json_output, csv_path, quiet, extra)
    if not quiet:
        console.print(
            f"{run.results}: {run.scored} scored, {run.skipped} already there, {run.summary['failures']} failures, "
            f"{run.summary['errors']} errors, in {run.seconds:.1f} s"
        )
    if not json_output:
        sys.stdout.write(f"{run.results}\n")
    if run.summary["errors"] or run.summary["failures"] - run.summary["empty"]:
        raise typer.Exit(1)


def _check_table_outputs(*paths: Path | None) -> None:
    """Refuse an unwritable --csv or --report before the evaluation, not after it (they are written last)."""
    from dlsr.files import check_writable

    for path in paths:
        if path is not None:
            check_writable(path, overwrite=True, probe=True)


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
    from dlsr.evaluate import merge_results

    _check_table_outputs(csv_path)
    header, summary = merge_results(inputs, output, overwrite=overwrite)
    _print_eval(summary, header, json_output, csv_path, quiet, {"results": str(output)})
    if not json_output:
        sys.stdout.write(f"{output}\n")
    if summary["errors"] or summary["failures"] - summary["empty"]:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `dlsr` script and `python -m dlsr`."""
    app()
