"""The `dlsr` command: a thin Typer layer over the library, one module per command (`_util` holds the app and what
they share).

Each command parses options, calls library functions and renders their results. Results (written paths, JSON
lines, meshes) go to stdout; messages and errors go to stderr. A `DlsrError` becomes one line `error: ...` and
exit code 1; usage errors exit 2; anything else is a bug and keeps its traceback. `DLSR_DEBUG=1` shows the
traceback of every error. Heavy libraries (torch, trimesh, scikit-image) are imported inside command bodies so
that `dlsr --help` answers at once.
"""

# Imported for their commands, in the order `dlsr --help` lists them.
from dlsr.cli import reconstruct, info, data, train, train_segmenter, render, eval  # noqa: F401  isort: skip
from dlsr.cli._util import app, teardown_skipped


def main() -> None:
    """Entry point of the `dlsr` script and `python -m dlsr`."""
    try:
        app()
    except SystemExit as exc:
        if not teardown_skipped():
            raise
        _exit_now(exc.code)


def _exit_now(code: object) -> None:
    """End the process at once with `sys.exit`'s meaning of `code`, streams flushed.

    The interpreter's teardown once torch is loaded (freeing its modules and thread pools) takes about 0.4 s, more
    than all a one-image `dlsr reconstruct` does after `import torch` (`bench/bench_coldstart.py`: `import torch`
    1.48 s, 1.05 s without the teardown); a command that marked itself with `skip_teardown` has nothing left that
    the teardown would do.
    """
    import logging
    import os
    import sys

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`dlsr ... | head`): nothing more can reach it
            pass
    os._exit(status)


__all__ = ["app", "main"]
