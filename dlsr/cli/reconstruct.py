"""`dlsr reconstruct`: images in, one mesh file (or stdout) per image."""

from __future__ import annotations

import dataclasses
import glob
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlsr.cli._util import (
    STDIO,
    app,
    check_level_and_device,
    emit_json,
    fail,
    handle_errors,
    print_error,
    skip_teardown,
    stderr_console,
    usage_error,
)
from dlsr.conventions import (
    BACKGROUND_MODES,
    DEFAULT_KEEP_PARTS,
    DEFAULT_MESH_RESOLUTION,
    DEFAULT_SMOOTH,
    DEVICES,
    MESH_FORMATS,
)
from dlsr.errors import ConfigError

if TYPE_CHECKING:
    from dlsr.batch import MeshJob, MeshResult

# The CLI repeats these so that --help needs no numpy; tests/test_cli.py pins them to the library.


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


def _plan_jobs(inputs: list[str], output: str | None, format: str | None) -> list[MeshJob]:
    """Decide where each input's mesh goes. Raises typer.Exit(2) on contradictory options."""
    from dlsr.batch import MeshJob
    from dlsr.mesh import resolve_format

    if inputs.count(STDIO) > 1:
        raise usage_error("'-' (stdin) may appear only once among the inputs")
    if output == STDIO or (output is None and inputs == [STDIO]):
        if len(inputs) != 1:
            raise usage_error("-o - writes one mesh to stdout: give exactly one input")
        name = "<stdin>" if inputs[0] == STDIO else inputs[0]
        return [MeshJob(inputs[0], name, None, resolve_format(None, format or "obj"))]

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
        return [MeshJob(inputs[0], name, target, suffix)]

    folder = target
    fmt = resolve_format(None, format or "obj")
    jobs: list[MeshJob] = []
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
        jobs.append(MeshJob(source, name, destination, fmt))
    return jobs


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
            "plain (alpha or flood fill from a one-colour border), grabcut, learned (dlsr's own segmenter), or rembg "
            "(if installed with its model)."
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
    skip_teardown()  # cold start: it writes every file atomically and starts no workers
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

    from dlsr.batch import MeshSettings, reconstruct_files
    from dlsr.pipeline import load_model
    from dlsr.postprocess import MeshFinish, UpAxis

    check_level_and_device(level, device, DEVICES)
    console = stderr_console()
    for pattern in unmatched:
        print_error(f"{pattern}: no files match this pattern")
    if background == "rembg":
        from dlsr.segment import require_rembg

        require_rembg("--background rembg")
    if background == "learned":
        from dlsr.foreground.predict import find_segmenter_weights

        find_segmenter_weights()  # a missing file is one line now, not one per image after the model loads
    model = load_model(weights, device)
    settings = MeshSettings(
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
    jobs = [dataclasses.replace(job, source=sys.stdin.buffer.read()) if job.source == STDIO else job for job in jobs]
    done = _print_results(reconstruct_files(jobs, model, settings, batch_size), json_lines, to_stdout)
    if not quiet:
        elapsed = time.perf_counter() - started
        console.print(f"reconstructed {done} of {len(jobs) + len(unmatched)} input(s) in {elapsed:.2f} s")
    if unmatched or done < len(jobs):
        raise typer.Exit(1)


def _print_results(results: Iterator[MeshResult], json_lines: bool, to_stdout: bool) -> int:
    """Print each result as it comes (errors on stderr, paths or JSON lines on stdout); returns how many succeeded."""
    done = 0
    for result in results:
        if result.error is not None or result.record is None:
            print_error(str(result.error))
            if json_lines:
                emit_json({"input": result.job.name, "output": None, "error": str(result.error)})
            continue
        done += 1
        if result.data is not None:  # the mesh itself goes to stdout
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
        if json_lines:
            emit_json(result.record)
        elif not to_stdout:
            sys.stdout.write(f"{result.record['output']}\n")
            sys.stdout.flush()
    return done
