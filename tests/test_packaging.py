"""What `pip install .` installs: the package, its command, and the weights folder inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_the_weights(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("dlsr-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "dlsr = dlsr.cli:main" in archive.read(entry_points).decode()
    shipped = {f"dlsr/_weights/{p.name}" for p in (ROOT / "weights").iterdir() if p.is_file()}
    assert "dlsr/_weights/README.md" in shipped
    assert shipped <= names
    assert "dlsr/cli/__init__.py" in names and "dlsr/models.py" in names


def test_the_readme_set_up_leaves_the_checkout_clean() -> None:
    """The set-up command writes a mesh into the repository root; git must not see it as a new file."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    setup = next(line for line in (ROOT / "README.md").read_text().splitlines() if "python3 -m venv" in line)
    written = setup.split(" -o ", 1)[1].split()[0]
    found = subprocess.run(["git", "check-ignore", "-q", written], cwd=ROOT, capture_output=True)
    assert found.returncode == 0, f"{written} (written by the README's set-up command) is not ignored by git"
