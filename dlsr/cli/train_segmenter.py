"""`dlsr train segmenter`: train the foreground segmenter that `--background learned` uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlsr.cli._util import handle_errors, stderr_console
from dlsr.cli.train import train_app


@train_app.command("segmenter")
@handle_errors
def train_segmenter_command(
    out: Annotated[Path, typer.Argument(help="Run folder: state.pt (resumable), config.json, segmenter.safetensors.")],
    data: Annotated[
        list[Path],
        typer.Option("--data", help="Dataset folder with split lists and RGBA renders (repeat for several)."),
    ],
    minutes: Annotated[float, typer.Option(help="Wall-clock training budget, summed over resumes.")] = 20.0,
    steps: Annotated[int | None, typer.Option(help="A step budget instead of --minutes.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of initialisation, render choice and composites.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Composites per step.")] = 16,
    renders: Annotated[int, typer.Option(help="Training renders held in memory.")] = 4000,
    threads: Annotated[int, typer.Option(help="Torch CPU threads.")] = 1,
    stop_after: Annotated[
        float | None, typer.Option(help="End this session after so many minutes (state and weights saved); rerun.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Train the foreground segmenter on renders composited over backgrounds; rerun to resume."""
    import time

    from dlsr.foreground.train import SegmenterTrainConfig, train_segmenter

    config = SegmenterTrainConfig(
        minutes=minutes, steps=steps, seed=seed, batch_size=batch_size, renders=renders, threads=threads
    )
    console = stderr_console()
    last = [0.0]

    def report(step: int, loss: float, progress: float) -> None:
        if not quiet and time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            console.print(f"step {step}  loss {loss:.4f}  {100 * progress:.0f} %", highlight=False)

    run = train_segmenter(data, out, config, stop_after=stop_after, on_step=report)
    status = "done" if run.finished else "stopped: rerun the same command to go on"
    console.print(
        f"{run.steps} steps in {run.seconds / 60:.1f} min, validation mask IoU {run.val_iou:.3f}; {status}",
        highlight=False,
    )
    typer.echo(str(run.weights))
