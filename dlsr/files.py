"""Writing outputs safely: atomic replace, and file-system errors turned into messages a user can act on.

Every file dlsr writes goes through `atomic_write`: the bytes land in a temporary file in the destination folder
and are renamed over the destination only when complete, so an interrupted or failed run never leaves a
half-written mesh, array or weights file behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from dlsr.errors import OutputError


def atomic_write(
    path: str | os.PathLike[str], data: bytes | Callable[[BinaryIO], None], *, overwrite: bool = True
) -> Path:
    """Write `data` to `path` atomically (temporary file in the same folder, then rename).

    Args:
        path: destination file.
        data: the bytes to write, or a function that writes them to the open binary file it is given.
        overwrite: when False, refuse to replace an existing file.

    Returns:
        The destination path.

    Raises:
        OutputError: missing or unwritable folder, existing file without `overwrite`, full disk.
    """
    destination = Path(path)
    check_writable(destination, overwrite=overwrite)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    except OSError as exc:
        raise _output_error(destination, exc) from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            if callable(data):
                data(stream)
            else:
                stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates 0600 files; give the output the permissions a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, destination)
    except OSError as exc:
        _remove_quietly(temporary)
        raise _output_error(destination, exc) from exc
    except BaseException:
        _remove_quietly(temporary)
        raise
    return destination


def check_writable(path: Path, *, overwrite: bool) -> None:
    """Fail early, before any work, if `path` could not be written.

    Raises:
        OutputError: the folder is missing or not a folder, the path is a folder, or the file exists and
            `overwrite` is False.
    """
    folder = path.parent
    if not folder.exists():
        raise OutputError(f"{path}: output folder {folder} does not exist; create it (mkdir -p {folder}) first")
    if not folder.is_dir():
        raise OutputError(f"{path}: {folder} is not a folder; choose an output path inside a folder")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name, or use it as the output folder")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{path}: folder {folder} is not writable; choose another output folder")


def _output_error(path: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device; free some space or write to another disk"
    elif exc.errno == errno.EDQUOT:
        reason = "disk quota exceeded; free some space or write to another disk"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied; choose a writable output folder"
    else:
        reason = f"{exc.strerror or exc}; check the output path"
    return OutputError(f"{path}: cannot write: {reason}")


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
