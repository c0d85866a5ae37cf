"""dlsr.eval.report: the self-contained HTML report."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FAST, ground_truth_predictions
from dlsr.eval import EvalConfig, evaluate, write_report


def test_html_report_is_self_contained(synth: Path, tmp_path: Path) -> None:
    pytest.importorskip("embreex")
    predictions = ground_truth_predictions(synth, tmp_path / "pred", lambda v: v * 0.9)
    run = evaluate(synth, tmp_path / "r.jsonl", EvalConfig(predictions=str(predictions), **FAST))
    page = write_report(run.results, tmp_path / "report.html", picture_size=48)
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 2 * 3 * 2  # 2 categories x (best, worst) x 3 pictures
    assert "instance mean" in text and "http" not in text.replace("http-equiv", "")
    browser = next(
        (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("no headless browser installed to open the report")
    headless = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*headless, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert dom.returncode == 0 and "instance mean" in dom.stdout

    # The pictures must decode and paint: the page differs, where they are, from a copy without their data.
    blank = tmp_path / "no-pictures.html"
    blank.write_text(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text))

    def screenshot(html: Path) -> np.ndarray:
        shot = html.with_suffix(".png")
        command = [*headless, "--window-size=900,1400", f"--screenshot={shot}", html.as_uri()]
        run = subprocess.run(command, capture_output=True, timeout=60)
        assert run.returncode == 0 and shot.exists(), run.stderr[-500:]
        return np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)

    with_pictures, without = screenshot(page), screenshot(blank)
    changed = np.abs(with_pictures - without).max(axis=2) > 32
    assert changed.sum() > 4 * 48 * 48 * 0.1  # at least a tenth of four 48-pixel pictures' area
