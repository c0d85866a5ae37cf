"""What every `dlsr` command shares: the Typer app, one error line on stderr and the exit codes, the stderr
console and its progress bar."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from dlsr import __version__
from dlsr.errors import DlsrError

DEBUG_ENV = "DLSR_DEBUG"
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

_skip_teardown = False


def skip_teardown() -> None:
    """Let this process end without the interpreter's teardown once the command is done (see `dlsr.cli.main`).

    Only for commands that leave nothing to clean up when they return: every file written and closed (atomic
    writes), no worker processes, no temporary folders.
    """
    global _skip_teardown
    _skip_teardown = True


def teardown_skipped() -> bool:
    return _skip_teardown


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr (message taken literally, never as markup); the Exit to raise."""
    print_error(message)
    return typer.Exit(code)


def print_error(message: str) -> None:
    stderr_console().print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


def usage_error(message: str) -> typer.Exit:
    return fail(message, code=2)


def handle_errors(command: F) -> F:
    """Turn `DlsrError` into one line on stderr and exit 1 (the traceback too under DLSR_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DlsrError as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]


def escape(text: str) -> str:
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


def check_level_and_device(level: float | None, device: str, devices: tuple[str, ...]) -> None:
    """Usage errors (exit 2) found before the model is loaded, so a typo costs no seconds of loading."""

    if level is not None and not math.isfinite(level):
        raise usage_error(f"--level {level}: expected a finite iso-level in world units, e.g. 0 or 0.01")
    if device not in devices:
        raise usage_error(f"--device {device!r}: choose {', '.join(devices[:-1])} or {devices[-1]}")


def emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def progress_bar(description: str, quiet: bool) -> Any:
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
        console=stderr_console(),
        disable=quiet,
    )


class DefaultRunGroup(TyperGroup):
    """`dlsr train DATA ...` runs the `run` subcommand; `dlsr train export|score ...` the named one."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)
