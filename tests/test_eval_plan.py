"""dlsr.eval.plan: which samples are scored, how their inputs are prepared, the protocol a layout picks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import (
    FAST,
    ground_truth_predictions,
    make_r2n2,
    realdata_path,
    run_cli,
    scored,
)
from dlsr.eval import EvalConfig, evaluate
from dlsr.eval.layouts import read_samples
from dlsr.eval.truth import load_truth


def test_limit_keeps_the_first_samples_of_every_category(synth: Path) -> None:
    from dlsr.eval.plan import plan_samples

    _, samples = plan_samples(synth, EvalConfig(limit=1))
    assert [(s.category, s.view) for s in samples] == [("02691156", "00"), ("03001627", "00")]


def test_pix3d_mask_cuts_out_the_object(tmp_path: Path, tiny_model: Any) -> None:
    from dlsr.eval.plan import input_pixels
    from dlsr.pipeline import load_model

    real = realdata_path("pix3d")
    root = tmp_path / "pix3d"
    for link, target in (
        ("img/bed/0001.png", real / "extra_resized_224" / "rgb.png"),
        ("mask/bed/0001.png", real / "extra_resized_224" / "mask.png"),
        ("model/bed/IKEA_MALM_2/model.obj", real / "model" / "bed" / "IKEA_MALM_2" / "model.obj"),
    ):
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, root / link)  # copies in tmp_path: links out of the dataset are refused
    entry = {"img": "img/bed/0001.png", "mask": "mask/bed/0001.png", "model": "model/bed/IKEA_MALM_2/model.obj"}
    (root / "pix3d.json").write_text(json.dumps([{**entry, "category": "bed"}]))
    layout, samples = read_samples(root)
    assert layout == "pix3d" and [s.key for s in samples] == ["bed/IKEA_MALM_2/0001"]
    truth = load_truth(samples[0].truth, surface_points=2000, iou_points=2000)
    extent = truth.surface_points.max(axis=0) - truth.surface_points.min(axis=0)
    assert extent.max() == pytest.approx(1.0, abs=0.01) and truth.topology[0] >= 1
    model = load_model(tiny_model.weights, "cpu")
    cut = input_pixels(samples[0], model)
    assert cut.shape == (32, 32, 3)
    corners = np.concatenate([cut[0, :4], cut[-1, -4:]])
    assert (corners == 255).all()  # outside the mask is the white background
    run = evaluate(root, tmp_path / "r.jsonl", EvalConfig(**FAST), weights=tiny_model.weights, device="cpu")
    (record,) = scored(run.results)
    assert record["status"] in ("ok", "empty") and record["true_components"] >= 1


def test_model_on_real_onet_jpegs(tmp_path: Path, tiny_model: Any) -> None:
    """Opaque JPEGs on white (no alpha): the background is flood-filled away, every view gets a record."""
    root = realdata_path("onet", "ShapeNet")
    config = EvalConfig(views=(0,), **FAST)
    run = evaluate(root, tmp_path / "r.jsonl", config, weights=tiny_model.weights, device="cpu", frame_check=False)
    records = scored(run.results)
    assert [r["category"] for r in records] == ["02828884", "04379243"]
    assert all(r["status"] in ("ok", "empty") and r["iou_source"] == "shapenet-v2 mesh" for r in records)
    assert all(0.0 <= r["iou"] <= 1.0 for r in records)
    assert run.summary["categories"]["04379243"]["name"] == "table"


def test_cli_r2n2_layout_picks_the_voxel_protocol(synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 19: binvox is 3D-R2N2's only truth, so IoU is scored on it without --protocol r2n2."""
    root = make_r2n2(synth, tmp_path / "r2n2")
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    args = ["eval", root, "--predictions", predictions, "--out", tmp_path / "out", "--points", "2000", "--json"]
    result = run_cli(args, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "IoU protocol r2n2 (picked for the r2n2 layout" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["header"]["config"]["protocol"] == "r2n2"  # what was used, so --resume compares that
    assert payload["summary"]["iou_sources"] == {"voxels": 4} and payload["summary"]["instance_mean"]["iou"] > 0.9
    resumed = run_cli([*args, "--resume", "--protocol", "r2n2"], monkeypatch)
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["skipped"] == 4, resumed.output
