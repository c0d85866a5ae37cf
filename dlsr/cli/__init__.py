"""The `dlsr` command: a thin Typer layer over the library, one module per command (`_util` holds the app and what
they share).

Each command parses options, calls library functions and renders their results. Results (written paths, JSON
lines, meshes) go to stdout; messages and errors go to stderr. A `DlsrError` becomes one line `error: ...` and
exit code 1; usage errors exit 2; anything else is a bug and keeps its traceback. `DLSR_DEBUG=1` shows the
traceback of every error. Heavy libraries (torch, trimesh, scikit-image) are imported inside command bodies so
that `dlsr --help` answers at once.
"""

# Imported for their commands, in the order `dlsr --help` lists them.
from dlsr.cli import reconstruct, info, data, train, render, eval  # noqa: F401  isort: skip
from dlsr.cli._util import app


def main() -> None:
    """Entry point of the `dlsr` script and `python -m dlsr`."""
    app()


__all__ = ["app", "main"]
