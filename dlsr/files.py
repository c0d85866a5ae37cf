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


def check_writable(path: Path, *, overwrite: bool, probe: bool = False) -> None:
    """Fail early, before any work, if `path` could not be written.

    Args:
        path: the file to be written.
        overwrite: whether an existing file may be replaced.
        probe: also create and remove a temporary file in the folder, for outputs written only after a long
            run: permissions alone do not tell (root passes them; read-only and virtual file systems refuse).

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
    if probe:
        try:
            with tempfile.TemporaryFile(prefix=f".{path.name}.", suffix=".probe", dir=folder):
                pass
        except OSError as exc:
            raise _output_error(path, exc) from exc


def check_creatable(folder: str | os.PathLike[str]) -> None:
    """Fail early, before any work, if the output folder `folder` could not be created (or is not a folder).

    Raises:
        OutputError: `folder` or one of its parents is a file, or the nearest existing parent is not writable.
    """
    target = Path(folder)
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"{target}: exists and is not a folder; choose another output folder")
        return
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{target}: cannot create the folder: {parent} is a file; choose another output folder")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{target}: cannot create the folder: {parent} is not writable; choose another output folder")


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """Create the output folder `folder` and its parents (nothing happens when it exists).

    Raises:
        OutputError: it cannot be created (a parent is a file, no permission, full disk); the message names it.
    """
    target = Path(folder)
    check_creatable(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{target}: cannot create the folder: {_os_reason(exc)}") from exc
    return target


def _output_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {_os_reason(exc)}")


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device; free some space or write to another disk"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded; free some space or write to another disk"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied; choose a writable output folder"
    return f"{exc.strerror or exc}; check the output path"


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
