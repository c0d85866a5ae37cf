"""bench/bench_models.py refuses a bad `--weights` file in one line, before any timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_damaged_weights_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"junk")
    found = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_models.py"), "--arch", "dlsr-lite", "--weights", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 1
    assert "Traceback" not in found.stderr
    assert found.stderr.strip().splitlines() == [
        f"error: {bad}: too short to be a safetensors weights file (4 bytes); re-export it"
    ]
