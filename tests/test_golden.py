"""Golden outputs: `dlsr data synth`, `dlsr eval run` and `dlsr reconstruct` still give the recorded numbers.

These guard refactors meant to change no behaviour. Floats must agree within `make_golden.RTOL`/`ATOL` (another CPU
may round differently); integers, booleans and strings exactly. After a change that is meant to move them,
regenerate with `python tests/golden/make_golden.py` and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from golden import make_golden as golden


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    return golden.make_all(tmp_path_factory.mktemp("golden"))


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _report(problems: list[str]) -> str:
    shown = "\n".join(problems[:20])
    return f"{len(problems)} differences from the golden files (first 20):\n{shown}"


@pytest.mark.slow
def test_synth_dataset_matches_golden(snapshots: tuple[Any, ...]) -> None:
    arrays, texts, _, _ = snapshots
    problems = golden.compare_arrays(_load_arrays(golden.SYNTH_FILE), arrays)
    problems += golden.compare_json(json.loads((golden.GOLDEN / "synth.json").read_text()), texts)
    assert not problems, _report(problems)


@pytest.mark.slow
def test_evaluation_matches_golden(snapshots: tuple[Any, ...]) -> None:
    _, _, evaluation, _ = snapshots
    problems = golden.compare_json(json.loads(golden.EVAL_FILE.read_text()), evaluation)
    assert not problems, _report(problems)


@pytest.mark.slow
def test_reconstruction_matches_golden(snapshots: tuple[Any, ...]) -> None:
    _, _, _, reconstruction = snapshots
    problems = golden.compare_arrays(_load_arrays(golden.RECONSTRUCT_FILE), reconstruction)
    assert not problems, _report(problems)


def test_comparison_tolerates_rounding_but_not_changes() -> None:
    """The comparison itself: a difference below the tolerance passes, a real one or an integer change does not."""
    base = {"x": np.array([1.0, 2.0]), "n": np.array([3, 4])}
    assert golden.compare_arrays(base, {"x": np.array([1.0 + 1e-9, 2.0]), "n": np.array([3, 4])}) == []
    assert golden.compare_arrays(base, {"x": np.array([1.001, 2.0]), "n": np.array([3, 4])})
    assert golden.compare_arrays(base, {"x": np.array([1.0, 2.0]), "n": np.array([3, 5])})
    assert golden.compare_arrays(base, {"x": np.array([1.0, 2.0])}) == ["n: missing"]
    assert golden.compare_json({"a": [0.5, "s", 2]}, {"a": [0.5 + 1e-12, "s", 2]}) == []
    assert golden.compare_json({"a": [0.5, "s", 2]}, {"a": [0.5, "t", 2]}) == ["/a[1]: 't', golden 's'"]
    assert golden.compare_json({"a": True}, {"a": 1}) == ["/a: 1, golden True"]
