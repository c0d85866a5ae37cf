"""Atomic writes and the messages file-system failures turn into."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from dlsr.errors import OutputError
from dlsr.files import atomic_write


def test_writes_bytes_and_callables(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.bin", b"abc")
    atomic_write(tmp_path / "b.bin", lambda stream: stream.write(b"xyz"))
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert (tmp_path / "b.bin").read_bytes() == b"xyz"
    mode = (tmp_path / "a.bin").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_a_failing_writer_leaves_the_old_file_and_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "mesh.obj"
    target.write_bytes(b"old")

    def explode(stream: BinaryIO) -> None:
        stream.write(b"half a mesh")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["mesh.obj"]


def test_full_disk_becomes_a_clear_error(tmp_path: Path) -> None:
    def full(stream: BinaryIO) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError, match="no space left") as info:
        atomic_write(tmp_path / "mesh.obj", full)
    assert "mesh.obj" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_refusals_name_the_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "exists.obj").write_bytes(b"x")
    (tmp_path / "folder.obj").mkdir()
    (tmp_path / "plain").write_bytes(b"x")
    cases = {
        tmp_path / "exists.obj": "--overwrite",
        tmp_path / "missing" / "m.obj": "mkdir -p",
        tmp_path / "folder.obj": "is a folder",
        tmp_path / "plain" / "m.obj": "not a folder",
    }
    for path, fix in cases.items():
        with pytest.raises(OutputError, match=fix) as info:
            atomic_write(path, b"y", overwrite=False)
        assert str(path) in str(info.value)


def test_unwritable_folder(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "m.obj"
    elif Path("/sys").is_dir():
        target = Path("/sys/dlsr-test.obj")  # sysfs refuses new files even to root
    else:
        pytest.skip("running as root with no read-only folder to try")
    with pytest.raises(OutputError, match=r"not writable|permission denied") as info:
        atomic_write(target, b"y")
    assert str(target) in str(info.value)
    assert not target.exists()
