"""dlsr.eval.score: the scores of one sample: identities, shifts, empty and failed predictions, SDFs, voxels, levels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST, TINY_CATEGORIES, ground_truth_predictions, run_cli, scored
from dlsr.errors import ConfigError
from dlsr.eval import EvalConfig, evaluate, read_results
from dlsr.eval.layouts import read_samples
from dlsr.eval.truth import ALIGNMENTS, load_truth
from dlsr.metrics import EMPTY_CHAMFER

CATEGORIES = TINY_CATEGORIES


def test_true_meshes_as_predictions_score_the_identities(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred", per_view=True)
    config = EvalConfig(predictions=str(predictions), **FAST)
    run = evaluate(synth, tmp_path / "r.jsonl", config)
    records = scored(run.results)
    assert len(records) == 4 and all(r["status"] == "ok" for r in records)
    for record in records:
        assert record["iou"] == 1.0
        assert record["chamfer_l1"] < 0.01  # the truth is its 4000-point cloud: sampling spacing, not error
        assert record["fscore@0.02"] > 0.95
        assert record["topology_match"] is True
    assert run.summary["instance_mean"]["iou"] == 1.0 and run.summary["failures"] == 0
    header, _, _ = read_results(run.results)
    assert header is not None and header["versions"]["dlsr"] and header["config"]["predictions"] == str(predictions)

    voxels = evaluate(synth, tmp_path / "v.jsonl", EvalConfig(predictions=str(predictions), protocol="r2n2", **FAST))
    assert all(r["iou"] > 0.97 and r["iou_source"] == "voxels" for r in scored(voxels.results))


def test_a_shifted_copy_scores_chamfer_about_the_shift(synth: Path, tmp_path: Path) -> None:
    shift = 0.05
    predictions = ground_truth_predictions(synth, tmp_path / "pred", lambda v: v + np.array([shift, 0.0, 0.0]))
    run = evaluate(synth, tmp_path / "r.jsonl", EvalConfig(predictions=str(predictions), **FAST))
    for record in scored(run.results):
        assert 0.01 < record["chamfer_l1"] <= shift + 0.01  # 0 < Chamfer <= |t|, plus sampling spacing
        assert record["iou"] < 1.0


def test_empty_missing_and_broken_predictions_score_worst_case(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred", per_view=True)
    _, samples = read_samples(synth)
    (predictions / f"{samples[0].key}.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")  # no faces
    (predictions / f"{samples[1].key}.obj").unlink()
    run = evaluate(synth, tmp_path / "r.jsonl", EvalConfig(predictions=str(predictions), **FAST))
    records = scored(run.results)
    assert [r["status"] for r in records] == ["failed", "failed", "ok", "ok"]
    assert "no prediction file" in records[1]["error"]
    for record in records[:2]:
        assert record["iou"] == 0.0 and record["chamfer_l1"] == pytest.approx(EMPTY_CHAMFER)
        assert record["fscore@0.01"] == 0.0 and record["normal_consistency"] == 0.0
    assert run.summary["failures"] == 2 and run.summary["count"] == 4


def test_an_sdf_without_surface_is_an_empty_prediction(synth: Path) -> None:
    from dlsr.eval.score import Job, score_job
    from dlsr.sdf import Grid

    _, samples = read_samples(synth)
    job = Job(samples[0], EvalConfig(**FAST), sdf=np.ones((16, 16, 16), np.float32), grid=Grid(16))
    record = score_job(job)
    assert record["status"] == "empty" and "no surface" in record["error"]
    assert record["iou"] == 0.0 and record["chamfer_l1"] == pytest.approx(EMPTY_CHAMFER)


def test_unreadable_truth_is_an_error_left_out_of_the_means(synth: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(synth, root)
    _, samples = read_samples(root)
    (samples[0].truth.pointcloud).write_bytes(b"not an npz")  # type: ignore[union-attr]
    predictions = ground_truth_predictions(root, tmp_path / "pred")
    run = evaluate(root, tmp_path / "r.jsonl", EvalConfig(predictions=str(predictions), **FAST))
    statuses = [r["status"] for r in scored(run.results)]
    assert statuses == ["error", "error", "ok", "ok"]  # both views of the broken object
    assert run.summary["errors"] == 2 and run.summary["instance_mean"]["iou"] == 1.0


def test_the_true_sdf_as_a_prediction_scores_high_in_both_protocols(synth: Path, tmp_path: Path) -> None:
    """The network path (an SDF grid) and the mesh-file path voxelise and label the same shape alike."""
    from dlsr.eval.score import Job, predicted, score_job
    from dlsr.sdf import read_sdf_archive

    _, samples = read_samples(synth, views=(0,), categories=("chair",))  # airplanes are too thin for 16^3
    sdf, grid = read_sdf_archive(samples[0].truth.mesh.parent / "sdf.npz")  # type: ignore[union-attr]
    for protocol in ("onet", "r2n2"):
        config = EvalConfig(protocol=protocol, **FAST)
        job = Job(samples[0], config, sdf=sdf, grid=grid)
        from_sdf = score_job(job)
        mesh = predicted(job, load_truth(samples[0].truth, surface_points=4000, iou_points=4000)).mesh
        assert mesh is not None
        mesh.export(tmp_path / f"{protocol}.obj")
        from_mesh = score_job(Job(samples[0], config, prediction=tmp_path / f"{protocol}.obj"))
        assert from_sdf["status"] == "ok" and from_sdf["iou"] > 0.6, from_sdf["iou"]  # 0.71 and 0.81 at 16^3
        assert from_sdf["iou"] == pytest.approx(from_mesh["iou"], abs=0.01)
        assert from_sdf["chamfer_l1"] == pytest.approx(from_mesh["chamfer_l1"], rel=1e-6)


def test_align_array_moves_voxels_like_the_matrices() -> None:
    from dlsr.eval.score import align_array

    grid = np.zeros((4, 4, 4))
    grid[0, 1, 3] = 1.0
    centre = 1.5
    for name, matrix in ALIGNMENTS.items():
        moved = align_array(grid, name)
        expected = np.rint(matrix @ (np.array([0, 1, 3]) - centre) + centre).astype(int)
        assert moved[tuple(expected)] == 1.0 and moved.sum() == 1.0, name
    np.testing.assert_array_equal(align_array(grid, "swap-yz"), grid.swapaxes(1, 2))


def test_voxel_predictions_on_the_true_grid(synth: Path, tmp_path: Path) -> None:
    """3D-R2N2-style voxel output: .binvox or .npy probabilities, compared cell by cell (threshold applies)."""
    from dlsr.binvox import read_binvox

    _, samples = read_samples(synth, views=(0,))
    folder = tmp_path / "pred"
    for sample in samples:
        (folder / sample.category).mkdir(parents=True, exist_ok=True)
        occupancy = read_binvox(sample.truth.voxels).occupancy  # type: ignore[arg-type]
        if sample.category == CATEGORIES[0]:
            shutil.copy(sample.truth.voxels, folder / sample.category / f"{sample.model_id}.binvox")  # type: ignore[arg-type]
        else:
            np.save(folder / sample.category / f"{sample.model_id}.npy", occupancy * 0.7)
    config = EvalConfig(predictions=str(folder), protocol="r2n2", views=(0,), **FAST)
    records = scored(evaluate(synth, tmp_path / "r.jsonl", config).results)
    assert [r["iou"] for r in records] == [1.0, 1.0]
    assert all(r["status"] == "ok" and r["chamfer_l1"] < 0.05 for r in records)  # truth: smooth cloud, pred: blocks
    strict = EvalConfig(predictions=str(folder), protocol="r2n2", views=(0,), voxel_threshold=0.8, **FAST)
    records = scored(evaluate(synth, tmp_path / "s.jsonl", strict).results)
    assert [r["status"] for r in records] == ["ok", "empty"] and records[1]["iou"] == 0.0
    # Protocol onet: a point is inside when its cell is occupied, the same as inside the cells' surface mesh.
    from dlsr.eval.score import _inside, _voxel_prediction
    from dlsr.eval.truth import inside_mesh

    truth = load_truth(samples[1].truth, surface_points=1000, iou_points=4000)
    prediction = _voxel_prediction(folder / samples[1].category / f"{samples[1].model_id}.npy", config, truth)
    assert prediction.mesh is not None and truth.iou_points is not None
    by_cell = _inside(prediction, truth, truth.iou_points, 0.5)
    assert 0 < by_cell.sum() and np.mean(by_cell == inside_mesh(prediction.mesh, truth.iou_points)) > 0.999


def test_a_level_grows_the_scored_surface_and_its_inside_alike(synth: Path) -> None:
    """At a positive iso-level the mesh and the IoU's inside test both take the dilated shape: the true SDF
    taken 1.5 voxels out covers more of the truth (recall) and the mesh is larger; the two stay consistent."""
    from dlsr.eval.score import Job, predicted, score_job
    from dlsr.sdf import read_sdf_archive

    _, samples = read_samples(synth, views=(0,), categories=("chair",))
    sdf, grid = read_sdf_archive(samples[0].truth.mesh.parent / "sdf.npz")  # type: ignore[union-attr]
    truth = load_truth(samples[0].truth, surface_points=4000, iou_points=4000)
    at_zero = Job(samples[0], EvalConfig(protocol="onet", level=0.0, **FAST), sdf=sdf, grid=grid)
    grown = Job(samples[0], EvalConfig(protocol="onet", level=1.5 * grid.spacing, **FAST), sdf=sdf, grid=grid)
    zero_mesh, grown_mesh = predicted(at_zero, truth), predicted(grown, truth)
    assert grown_mesh.mesh is not None and zero_mesh.mesh is not None
    assert grown_mesh.mesh.volume > 1.2 * zero_mesh.mesh.volume
    inside_zero = zero_mesh.field(truth.iou_points) < 0  # type: ignore[misc]
    inside_grown = grown_mesh.field(truth.iou_points) < 0  # type: ignore[misc]
    assert inside_grown.sum() > inside_zero.sum() and inside_grown[inside_zero].all()
    assert score_job(grown)["iou"] != score_job(at_zero)["iou"]
    with pytest.raises(ConfigError, match="finite"):
        EvalConfig(level=float("nan"))


def test_cli_a_broken_truth_mesh_is_named_once_as_ground_truth(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 18: the error said "ground truth: ground truth: ..." (the layout and the scorer both said it)."""
    root = tmp_path / "copy"
    shutil.copytree(synth, root)
    _, samples = read_samples(root)
    broken = samples[0].truth.mesh
    assert broken is not None
    broken.write_text("not a mesh\n")
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    args = ["eval", root, "--predictions", predictions, "--results", tmp_path / "r.jsonl", "--points", "2000"]
    result = run_cli([*args, "--iou-points", "2000"], monkeypatch)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all(line.count("ground truth:") == 1 for line in errors), errors
    assert all(f"ground truth: {broken}" in line for line in errors), errors
