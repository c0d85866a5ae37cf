"""`dlsr reconstruct`: images in, one mesh file (or stdout) per image."""

from __future__ import annotations

import dataclasses
import glob
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from dlsr.cli._util import (
    STDIO,
    app,
    check_level_and_device,
    emit_json,
    fail,
    handle_errors,
    print_error,
    stderr_console,
    usage_error,
)
from dlsr.conventions import (
    DEFAULT_MESH_RESOLUTION,
    DEVICES,
    MESH_FORMATS,
)
from dlsr.errors import ConfigError, DlsrError

# The CLI repeats these so that --help needs no numpy; tests/test_cli.py pins them to the library.
BACKGROUND_MODES = ("auto", "none", "plain", "grabcut", "rembg")  # dlsr.data.BACKGROUND_MODES
DEFAULT_KEEP_PARTS = 0.0  # dlsr.postprocess.MeshFinish
DEFAULT_SMOOTH = 0  # dlsr.postprocess.MeshFinish
MASK_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")  # looked for in a --mask folder


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
        raise usage_error("'-' (stdin) may appear only once among the inputs")
    if output == STDIO or (output is None and inputs == [STDIO]):
        if len(inputs) != 1:
            raise usage_error("-o - writes one mesh to stdout: give exactly one input")
        name = "<stdin>" if inputs[0] == STDIO else inputs[0]
        return [_Job(inputs[0], name, None, resolve_format(None, format or "obj"))]

    target = Path(output) if output is not None else Path(".")
    suffix = target.suffix.lower().lstrip(".")
    names_a_file = output is not None and not target.is_dir() and not output.endswith(("/", os.sep)) and suffix != ""
    if names_a_file:
        if suffix not in MESH_FORMATS:
            raise usage_error(
                f"{output}: unknown mesh format '.{suffix}'; use one of .{', .'.join(MESH_FORMATS)} "
                "(or an existing folder)"
            )
        if len(inputs) != 1:
            raise usage_error(f"-o {output} names one file but {len(inputs)} inputs were given; give a folder")
        if format is not None and resolve_format(None, format) != suffix:
            raise usage_error(f"--format {format} contradicts the extension of -o {output}")
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
            raise usage_error(
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
        raise usage_error(f"--background {background!r}: choose {', '.join(BACKGROUND_MODES[:-1])} or rembg")
    if mask is None:
        return
    if background != "auto":
        raise usage_error(f"--mask gives the object itself; drop --background {background}")
    if not mask.is_dir() and len(inputs) != 1:
        raise usage_error(
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
        raise fail(f"no files match {', '.join(unmatched)}; check the pattern")
    try:
        jobs = _plan_jobs(inputs, output, format)
    except ConfigError as exc:
        raise usage_error(str(exc)) from None
    to_stdout = jobs[0].destination is None
    if to_stdout and (save_sdf or save_input or save_mask):
        raise usage_error("--save-sdf, --save-input and --save-mask need -o to be a file or folder, not stdout")
    _check_background(background, mask, inputs)
    if up not in ("y", "z"):
        raise usage_error(f"--up {up!r}: choose y or z")
    if not (math.isfinite(scale) and scale > 0):
        raise usage_error(f"--scale {scale}: expected a finite number above 0, e.g. 100 for centimetres")
    if mask is not None and not mask.is_dir():
        jobs = [dataclasses.replace(job, mask=mask) for job in jobs]
    if to_stdout and json_lines:
        raise usage_error("--json prints on stdout, which -o - already uses for the mesh")

    from typing import cast

    from dlsr.pipeline import load_model
    from dlsr.postprocess import MeshFinish, UpAxis

    check_level_and_device(level, device, DEVICES)
    console = stderr_console()
    failures = len(unmatched)
    for pattern in unmatched:
        print_error(f"{pattern}: no files match this pattern")
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
                print_error(str(outcome))
                if json_lines:
                    emit_json({"input": job.name, "output": None, "error": str(outcome)})
                continue
            done += 1
            if json_lines:
                emit_json(outcome)
            elif not to_stdout:
                sys.stdout.write(f"{outcome['output']}\n")
                sys.stdout.flush()
    if not quiet:
        elapsed = time.perf_counter() - started
        console.print(f"reconstructed {done} of {len(jobs) + len(unmatched)} input(s) in {elapsed:.2f} s")
    if failures:
        raise typer.Exit(1)


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
