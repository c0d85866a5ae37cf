"""dlsr.eval.frames: predictions in another frame (two axes swapped) are caught, not guessed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import (
    FAST,
    R2N2_CHAIRS,
    ground_truth_predictions,
    realdata_path,
    scored,
)
from dlsr.errors import ConfigError
from dlsr.eval import EvalConfig, evaluate
from dlsr.eval.layouts import read_samples
from dlsr.eval.truth import ALIGNMENTS, load_truth


def test_the_axis_swap_trap_is_caught_not_guessed(synth: Path, tmp_path: Path) -> None:
    swap = ALIGNMENTS["swap-yz"]
    predictions = ground_truth_predictions(synth, tmp_path / "pred", lambda v: v @ swap.T)
    config = EvalConfig(predictions=str(predictions), **FAST)
    with pytest.raises(ConfigError, match="--align swap-yz"):
        evaluate(synth, tmp_path / "r.jsonl", config)
    assert not (tmp_path / "r.jsonl").exists()  # refused before writing anything
    aligned = evaluate(synth, tmp_path / "a.jsonl", EvalConfig(predictions=str(predictions), align="swap-yz", **FAST))
    assert all(r["iou"] == pytest.approx(1.0, abs=1e-3) for r in scored(aligned.results))
    as_is = evaluate(synth, tmp_path / "n.jsonl", config, frame_check=False)
    assert all(r["iou"] < 0.9 for r in scored(as_is.results))


def test_real_r2n2_voxel_surfaces_score_themselves_and_catch_a_swap(tmp_path: Path) -> None:
    """Published voxel predictions often have two axes swapped; scored naively their IoU collapses."""
    root = realdata_path("r2n2")
    predictions = tmp_path / "pred"
    for chair in R2N2_CHAIRS:
        (_, samples) = read_samples(root, split="all", views=(0,))
        sample = next(s for s in samples if s.model_id == chair)
        truth = load_truth(sample.truth, surface_points=1000)
        mesh = truth.mesh
        assert mesh is not None
        swapped = mesh.copy()
        swapped.vertices = np.asarray(mesh.vertices) @ ALIGNMENTS["swap-yz"].T
        (predictions / "03001627").mkdir(parents=True, exist_ok=True)
        swapped.export(predictions / "03001627" / f"{chair}.obj")
    config = EvalConfig(predictions=str(predictions), protocol="r2n2", split="all", views=(0,), **FAST)
    with pytest.raises(ConfigError, match="swap-yz"):
        evaluate(root, tmp_path / "r.jsonl", config)
    # Chamfer only for the naive run (voxelising these blocky meshes costs 2 s each).
    naive_config = EvalConfig(predictions=str(predictions), split="all", views=(0,), **FAST)
    naive = scored(evaluate(root, tmp_path / "n.jsonl", naive_config, frame_check=False).results)
    aligned = EvalConfig(
        predictions=str(predictions), protocol="r2n2", split="all", views=(0,), align="swap-yz", **FAST
    )
    fixed = scored(evaluate(root, tmp_path / "f.jsonl", aligned).results)
    assert min(r["iou"] for r in fixed) > 0.97  # the voxel frame round trip: mesh -> voxelize -> same voxels
    for before, after in zip(naive, fixed, strict=True):
        assert before["chamfer_l1"] > 5 * after["chamfer_l1"], (before["chamfer_l1"], after["chamfer_l1"])


def test_real_r2n2_voxels_with_two_axes_swapped_are_refused(tmp_path: Path) -> None:
    """The trap of published voxel predictions: y and z swapped. Caught; `--align swap-yz` restores IoU 1."""
    from dlsr.binvox import read_binvox, write_binvox

    root = realdata_path("r2n2")
    folder = tmp_path / "pred" / "03001627"
    folder.mkdir(parents=True)
    for chair in R2N2_CHAIRS:
        voxels = read_binvox(root / "ShapeNetVox32" / "03001627" / chair / "model.binvox")
        write_binvox(folder / f"{chair}.binvox", voxels.occupancy.swapaxes(1, 2))
    config = EvalConfig(predictions=str(folder.parent), protocol="r2n2", split="all", views=(0,), **FAST)
    with pytest.raises(ConfigError, match="--align swap-yz"):
        evaluate(root, tmp_path / "r.jsonl", config)
    naive = scored(evaluate(root, tmp_path / "n.jsonl", config, frame_check=False).results)
    assert max(r["iou"] for r in naive) < 0.5, [r["iou"] for r in naive]
    aligned = EvalConfig(
        predictions=str(folder.parent), protocol="r2n2", split="all", views=(0,), align="swap-yz", **FAST
    )
    assert [r["iou"] for r in scored(evaluate(root, tmp_path / "a.jsonl", aligned).results)] == [1.0, 1.0]
