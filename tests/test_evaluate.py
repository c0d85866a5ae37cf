"""dlsr eval: dataset layouts and their frames, identities, failures, resume, shards, predictions, CLI, report."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import TINY_CATEGORIES, make_tiny_dataset, realdata_path
from dlsr.cli import app
from dlsr.conventions import parse_shard
from dlsr.errors import ConfigError, DatasetError, OutputError
from dlsr.eval import EvalConfig, evaluate, merge_results, parse_views, read_results, summarise, write_report
from dlsr.eval.layouts import detect_layout, read_samples
from dlsr.eval.truth import ALIGNMENTS, VoxelTruth, load_truth
from dlsr.metrics import EMPTY_CHAMFER

CATEGORIES = TINY_CATEGORIES
FAST = {"points": 4000, "iou_points": 4000}  # enough for the identities below, a fraction of the default's cost
R2N2_CHAIRS = ("1a74a83fa6d24b3cacd67ce2c72c02e", "1a8bbf2994788e2743e99e0cae970928")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two categories of five procedural objects, two 64-pixel views each; test split = one object each."""
    return make_tiny_dataset(tmp_path_factory.mktemp("eval") / "synth", views=2, points=2000, surface_points=4000)


def ground_truth_predictions(root: Path, out: Path, transform: Any = None, per_view: bool = False) -> Path:
    """Write each test object's true mesh as its prediction (optionally moved), named as `dlsr eval` expects."""
    import trimesh

    _, samples = read_samples(root)
    for sample in samples:
        mesh = trimesh.load(sample.truth.mesh, process=False)
        if transform is not None:
            mesh.vertices = transform(np.asarray(mesh.vertices))
        name = f"{sample.key}.obj" if per_view else f"{sample.category}/{sample.model_id}.obj"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        mesh.export(out / name)
    return out


def scored(path: Path) -> list[dict[str, Any]]:
    """Sample records without their timings (the only field that differs between equal runs)."""
    _, records, _ = read_results(path)
    return sorted(({k: v for k, v in r.items() if k != "seconds"} for r in records), key=lambda r: r["index"])


# ------------------------------------------------------------------------------------------ layouts


def test_synth_layout_lists_test_views_in_order(synth: Path) -> None:
    layout, samples = read_samples(synth)
    assert layout == "synth" and detect_layout(synth) == "synth"
    assert len(samples) == 4  # 2 categories x 1 test object x 2 views
    assert [s.index for s in samples] == [0, 1, 2, 3]
    assert [s.view for s in samples[:2]] == ["00", "01"]
    assert len({s.key for s in samples}) == 4
    _, chosen = read_samples(synth, views=(1,), categories=("chair",))
    assert [(s.category, s.view) for s in chosen] == [("03001627", "01")]
    with pytest.raises(DatasetError, match="no view 5"):
        read_samples(synth, views=(5,))


def test_limit_keeps_the_first_samples_of_every_category(synth: Path) -> None:
    from dlsr.eval.plan import plan_samples

    _, samples = plan_samples(synth, EvalConfig(limit=1))
    assert [(s.category, s.view) for s in samples] == [("02691156", "00"), ("03001627", "00")]


def test_synth_truth_is_in_the_normalised_frame(synth: Path) -> None:
    _, samples = read_samples(synth)
    truth = load_truth(samples[0].truth, surface_points=1000, iou_points=1001)  # points.npz has 1000 uniform
    extent = truth.surface_points.max(axis=0) - truth.surface_points.min(axis=0)
    assert extent.max() == pytest.approx(1.0, abs=0.01)
    assert np.abs(truth.surface_points.max(axis=0) + truth.surface_points.min(axis=0)).max() < 0.01
    assert truth.iou_source == "mesh" and truth.occupancy is not None and 0 < truth.occupancy.mean() < 1
    assert truth.voxels is not None and truth.voxels.cell == pytest.approx(1 / 16)
    assert truth.topology[0] >= 1
    stored = load_truth(samples[0].truth, surface_points=1000, iou_points=1000)
    assert stored.iou_source == "points.npz" and stored.iou_points is not None and len(stored.iou_points) == 1000


def make_r2n2(synth: Path, root: Path) -> Path:
    """The synth objects of every split rearranged as 3D-R2N2's ShapeNetRendering + ShapeNetVox32."""
    for folder in sorted(synth.glob("*/*/rendering")):
        category, model_id = folder.parent.parent.name, folder.parent.name
        shutil.copytree(folder, root / "ShapeNetRendering" / category / model_id / "rendering")
        target = root / "ShapeNetVox32" / category / model_id
        target.mkdir(parents=True)
        shutil.copy(folder.parent / "model.binvox", target / "model.binvox")
    return root


def test_r2n2_layout_uses_the_80_20_split_of_sorted_ids(synth: Path, tmp_path: Path) -> None:
    root = make_r2n2(synth, tmp_path / "r2n2")
    assert detect_layout(root) == "r2n2"
    _, samples = read_samples(root)
    for category in CATEGORIES:
        ids = sorted(p.name for p in (root / "ShapeNetVox32" / category).iterdir())
        assert {s.model_id for s in samples if s.category == category} == {ids[-1]}  # int(5 * 0.8) = 4 train
    split_file = tmp_path / "split.txt"
    split_file.write_text(f"# one model\n{CATEGORIES[-1]}/{ids[0]}\n")
    _, chosen = read_samples(root, split_file=split_file)
    assert {s.key for s in chosen} == {f"{CATEGORIES[-1]}/{ids[0]}/00", f"{CATEGORIES[-1]}/{ids[0]}/01"}
    with pytest.raises(ConfigError, match="no val part"):
        read_samples(root, split="val")


def test_r2n2_real_chair_voxels_land_on_their_renderings() -> None:
    """The reader's frame for R2N2 voxels is the renderings' frame (up to the diagonal-vs-longest-side scale)."""
    from dlsr.camera import read_rendering_metadata

    root = realdata_path("r2n2")
    layout, samples = read_samples(root, split="all")
    assert layout == "r2n2" and len(samples) == 48
    _, test = read_samples(root)
    assert {s.model_id for s in test} == {R2N2_CHAIRS[1]}  # 3D-R2N2's rule: int(2 * 0.8) = 1 train
    for chair in R2N2_CHAIRS:
        sample = next(s for s in samples if s.model_id == chair and s.view == "00")
        truth = load_truth(sample.truth, surface_points=4000)
        points = truth.surface_points
        extent = points.max(axis=0) - points.min(axis=0)
        assert extent.max() == pytest.approx(1.0, abs=1e-6)
        diagonal_frame = points * extent.max() / np.linalg.norm(extent)  # ShapeNet v1: diagonal 1
        folder = sample.image.parent
        cameras = read_rendering_metadata(folder / "rendering_metadata.txt")

        def on_object(p: np.ndarray, view: int, folder: Path = folder, cameras: Any = cameras) -> float:
            alpha = np.asarray(Image.open(folder / f"{view:02d}.png"))[..., 3]
            uv = np.clip(np.floor(cameras[view].project(p, alpha.shape[0])).astype(int), 0, alpha.shape[0] - 1)
            return float(np.mean(alpha[uv[:, 1], uv[:, 0]] > 0))

        right = np.mean([on_object(diagonal_frame, view) for view in range(0, 24, 3)])
        swapped = np.mean([on_object(diagonal_frame @ ALIGNMENTS["swap-yz"].T, view) for view in range(0, 24, 3)])
        # Measured: 0.82 / 0.53 (thin tubular chair: 32^3 voxels over-cover its 1-2 px tubes); 0.95 / 0.76.
        assert right > 0.75, right
        assert right - swapped > 0.15, (right, swapped)


def test_onet_real_samples_without_lists_or_points(tmp_path: Path) -> None:
    root = realdata_path("onet", "ShapeNet")
    layout, samples = read_samples(root)
    assert layout == "onet" and len(samples) == 48  # no .lst: every model; 24 views each
    assert samples[0].view == "000" and samples[0].image.suffix == ".jpg"
    from dlsr.eval.layouts import category_names

    assert category_names(root)["04379243"] == "table"
    _, benches = read_samples(root, categories=("bench",), views=(0,))
    assert len(benches) == 1
    truth = load_truth(benches[0].truth, iou_points=20_000)
    extent = truth.surface_points.max(axis=0) - truth.surface_points.min(axis=0)
    assert extent.max() == pytest.approx(1.0, abs=0.01)  # ONet's frame is dlsr's: longest side 1, centred
    assert np.abs(truth.surface_points.max(axis=0) + truth.surface_points.min(axis=0)).max() < 0.02
    assert math.isnan(truth.topology[0])  # the v2 mesh beside it labels IoU points; its parts are not counted
    assert truth.iou_source == "shapenet-v2 mesh" and truth.iou_points is not None


def test_onet_iou_truth_from_the_v2_mesh_beside_it(tmp_path: Path) -> None:
    """Without points.npz, ShapeNetCore.v2 meshes give the IoU labels: turned and boxed onto pointcloud.npz."""
    import trimesh

    from dlsr.nearest import nearest
    from dlsr.sampling import sample_surface

    root = realdata_path("onet", "ShapeNet")
    _, samples = read_samples(root, views=(0,))
    predictions = tmp_path / "pred"
    wrong = tmp_path / "wrong"
    for sample in samples:
        assert sample.truth.points is None and sample.truth.v2_mesh is not None
        truth = load_truth(sample.truth, iou_points=20_000)
        assert truth.iou_source == "shapenet-v2 mesh" and truth.mesh is not None and truth.occupancy is not None
        again = load_truth(sample.truth, iou_points=20_000)
        np.testing.assert_array_equal(truth.iou_points, again.iou_points)  # type: ignore[arg-type]
        np.testing.assert_array_equal(truth.occupancy, again.occupancy)  # type: ignore[arg-type]
        assert np.abs(truth.iou_points).max() <= 0.55  # type: ignore[union-attr]
        assert 0.002 < truth.occupancy.mean() < 0.1  # a thin bench and table: 0.5 % and 1.2 % of the box
        rng = np.random.default_rng(0)
        mesh_points = sample_surface(truth.mesh, 20_000, rng)[0]
        cloud = truth.surface_points[rng.choice(len(truth.surface_points), 20_000, replace=False)]
        chamfer = 0.5 * float(nearest(mesh_points, cloud)[0].mean() + nearest(cloud, mesh_points)[0].mean())
        assert chamfer < 0.006, chamfer  # measured 0.0040 (bench), 0.0049 (table), sampling spacing included
        (predictions / sample.category).mkdir(parents=True)
        truth.mesh.export(predictions / sample.category / f"{sample.model_id}.obj")
        (wrong / sample.category).mkdir(parents=True)
        trimesh.creation.box((0.9, 0.3, 0.3)).export(wrong / sample.category / f"{sample.model_id}.obj")
    config = EvalConfig(views=(0,), points=4000, iou_points=20_000)
    same = evaluate(root, tmp_path / "same.jsonl", EvalConfig(**{**config.__dict__, "predictions": str(predictions)}))
    ious = [r["iou"] for r in scored(same.results)]
    assert min(ious) > 0.99, ious  # measured 1.0, 1.0
    assert same.summary["iou_sources"] == {"shapenet-v2 mesh": 2}
    bad = EvalConfig(**{**config.__dict__, "predictions": str(wrong)})
    ious = [r["iou"] for r in scored(evaluate(root, tmp_path / "bad.jsonl", bad, frame_check=False).results)]
    assert max(ious) < 0.05, ious  # measured 0.013, 0.0


def test_onet_generated_with_lists_and_packed_points(synth: Path, tmp_path: Path) -> None:
    root = tmp_path / "onet"
    for folder in sorted(synth.glob("*/*/rendering")):
        target = root / folder.parent.parent.name / folder.parent.name
        (target / "img_choy2016").mkdir(parents=True)
        for view, png in enumerate(sorted(folder.glob("*.png"))):
            Image.open(png).convert("RGB").save(target / "img_choy2016" / f"{view:03d}.jpg")
        shutil.copy(folder.parent / "pointcloud.npz", target)
        with np.load(folder.parent / "points.npz") as points:  # ONet's files have no uniform_count: all uniform
            count = int(points["uniform_count"])
            inside = np.unpackbits(points["occupancies"])[:count]
            np.savez(target / "points.npz", points=points["points"][:count], occupancies=np.packbits(inside))
    for category in CATEGORIES:
        shutil.copy(synth / category / "test.lst", root / category / "test.lst")
    assert detect_layout(root) == "onet"
    _, samples = read_samples(root)
    assert len(samples) == 4
    truth = load_truth(samples[0].truth, iou_points=500)
    assert truth.iou_source == "points.npz" and truth.iou_points is not None and len(truth.iou_points) == 1000


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


def test_folder_layout_normalises_its_meshes(synth: Path, tmp_path: Path) -> None:
    root = make_folder(synth, tmp_path / "pairs")
    layout, samples = read_samples(root)
    assert layout == "folder" and len(samples) == 2 and {s.category for s in samples} == {"all"}
    predictions = tmp_path / "pred" / "all"
    predictions.mkdir(parents=True)
    _, originals = read_samples(synth, views=(0,))
    for sample in originals:  # the normalised originals: the reader must undo the move and scale of make_folder
        shutil.copy(sample.truth.mesh, predictions / f"{sample.model_id}.obj")  # type: ignore[arg-type]
    run = evaluate(root, tmp_path / "r.jsonl", EvalConfig(predictions=str(predictions.parent), **FAST))
    for record in scored(run.results):
        assert record["iou"] == pytest.approx(1.0, abs=1e-3) and record["chamfer_l1"] < 0.01
        assert record["surface_source"] == "mesh" and record["iou_source"] == "mesh"


def make_folder(synth: Path, root: Path) -> Path:
    """NAME.png + NAME.obj for each test object, the mesh moved and scaled (the reader normalises it)."""
    import trimesh

    root.mkdir(parents=True)
    _, samples = read_samples(synth, views=(0,))
    for sample in samples:
        shutil.copy(sample.image, root / f"{sample.model_id}.png")
        mesh = trimesh.load(sample.truth.mesh, process=False)
        mesh.vertices = np.asarray(mesh.vertices) * 3.0 + [1.0, 2.0, 3.0]
        mesh.export(root / f"{sample.model_id}.obj")
    return root


def test_unknown_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a dataset layout"):
        detect_layout(tmp_path)


def test_a_layout_one_level_down_is_pointed_at() -> None:
    root = realdata_path("onet")  # holds ShapeNet/ (ONet's layout) and ShapeNetCore.v2/
    with pytest.raises(DatasetError, match=r"seems to be in .*ShapeNet; pass that folder"):
        detect_layout(root)


# ------------------------------------------------------------------------------------------ scores


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


def test_model_predictions_empty_surfaces_and_workers(synth: Path, tmp_path: Path, tiny_model: Any) -> None:
    """The tiny box model on procedural objects: real inference, meshing and metrics, in 2 worker processes."""
    config = EvalConfig(protocol="r2n2", **FAST)
    one = evaluate(synth, tmp_path / "one.jsonl", config, weights=tiny_model.weights, device="cpu", frame_check=False)
    two = evaluate(
        synth, tmp_path / "two.jsonl", config, weights=tiny_model.weights, device="cpu", workers=2, frame_check=False
    )
    assert scored(one.results) == scored(two.results)
    for record in scored(one.results):
        assert record["status"] in ("ok", "empty")
        assert 0.0 <= record["iou"] <= 1.0 and record["chamfer_l1"] > 0
    header, _, _ = read_results(one.results)
    assert header is not None and header["weights"]["sha256"] and header["weights"]["arch"] == "dlsr-lite"


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


# ------------------------------------------------------------------------------------------ results files


def test_resume_after_a_kill_mid_line_neither_redoes_nor_duplicates(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    config = EvalConfig(predictions=str(predictions), **FAST)
    full = evaluate(synth, tmp_path / "full.jsonl", config)
    cut = tmp_path / "cut.jsonl"
    data = full.results.read_bytes()
    lines = data.split(b"\n")
    cut.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][:40])  # header, 2 records, a torn third
    with pytest.raises(OutputError, match="--resume"):
        evaluate(synth, cut, config)
    seen: list[str] = []
    run = evaluate(synth, cut, config, resume=True, on_item=lambda r: seen.append(r["key"]))
    assert run.skipped == 2 and run.scored == 2 and len(seen) == 2
    assert scored(cut) == scored(full.results)
    again = evaluate(synth, cut, config, resume=True)
    assert again.scored == 0 and scored(cut) == scored(full.results)
    with pytest.raises(ConfigError, match=r"config\.points"):
        evaluate(synth, cut, EvalConfig(predictions=str(predictions), points=3000, iou_points=4000), resume=True)


def test_a_damaged_line_inside_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"type": "header"}\nnot json\n{"type": "sample", "key": "a"}\n')
    with pytest.raises(DatasetError, match="line 2 is damaged"):
        read_results(path)


def test_shards_merged_equal_one_run(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred", lambda v: v * 0.97)
    config = EvalConfig(predictions=str(predictions), **FAST)
    single = evaluate(synth, tmp_path / "single.jsonl", config)
    parts = [evaluate(synth, tmp_path / f"s{i}.jsonl", config, shard=(i, 3)).results for i in range(3)]
    header, summary = merge_results(parts, tmp_path / "merged.jsonl")
    assert scored(tmp_path / "merged.jsonl") == scored(single.results)
    assert summary == single.summary and header["shard"] is None
    with pytest.raises(DatasetError, match="exactly once"):
        merge_results(parts[:2], tmp_path / "partial.jsonl")


def test_summary_means_and_nan_handling() -> None:
    records = [
        {"type": "sample", "category": "a", "status": "ok", "iou": 1.0, "chamfer_l1": 0.1, "topology_match": True},
        {"type": "sample", "category": "a", "status": "empty", "iou": 0.0, "chamfer_l1": 0.3, "topology_match": None},
        {"type": "sample", "category": "b", "status": "ok", "iou": 0.5, "chamfer_l1": None},
        {"type": "sample", "category": "b", "status": "error", "iou": None},
    ]
    summary = summarise(records, {"a": "alpha"})
    assert summary["categories"]["a"]["iou"] == 0.5 and summary["categories"]["a"]["name"] == "alpha"
    assert summary["categories"]["a"]["topology_match"] == 1.0
    assert summary["class_mean"]["iou"] == 0.5 and summary["instance_mean"]["iou"] == pytest.approx(0.5)
    assert summary["categories"]["b"]["chamfer_l1"] is None
    assert (summary["failures"], summary["empty"], summary["errors"], summary["count"]) == (1, 1, 1, 4)


def test_a_run_fails_on_failed_predictions_and_errors_but_not_on_empty_surfaces() -> None:
    from dlsr.eval.summary import failed_count

    def record(status: str) -> dict[str, Any]:
        return {"type": "sample", "category": "a", "status": status, "iou": 0.0}

    assert failed_count(summarise([record("ok"), record("empty")])) == 0
    assert failed_count(summarise([record("ok"), record("failed"), record("empty")])) == 1
    assert failed_count(summarise([record("error"), record("failed")])) == 2


def test_output_paths_of_a_folder_a_file_and_a_shard(tmp_path: Path) -> None:
    from dlsr.eval.run import output_paths

    assert output_paths(tmp_path, None, None) == (tmp_path / "results.jsonl", tmp_path / "summary.json")
    assert output_paths(tmp_path, None, (1, 4)) == (
        tmp_path / "results.shard-1-of-4.jsonl",
        tmp_path / "summary.shard-1-of-4.json",
    )
    assert output_paths(None, tmp_path / "r.jsonl", (0, 2)) == (tmp_path / "r.shard-0-of-2.jsonl", None)


def test_option_parsers() -> None:
    assert parse_views("all") is None and parse_views("0,6,12") == (0, 6, 12)
    assert parse_shard("1/4") == (1, 4)
    for bad in ("x", "-1"):
        with pytest.raises(ConfigError):
            parse_views(bad)
    for bad in ("4/4", "a/b", "1"):
        with pytest.raises(ConfigError):
            parse_shard(bad)
    with pytest.raises(ConfigError, match="alignment"):
        EvalConfig(align="rotate")


# ------------------------------------------------------------------------------------------ CLI and report


def test_cli_eval_json_csv_and_merge(synth: Path, tmp_path: Path) -> None:
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    runner = CliRunner()
    common = ["eval", str(synth), "--predictions", str(predictions), "--points", "3000", "--iou-points", "3000"]
    result = runner.invoke(app, [*common, "--out", str(tmp_path / "out"), "--json", "--csv", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["summary"]["instance_mean"]["iou"] == 1.0 and payload["header"]["layout"] == "synth"
    assert (tmp_path / "out" / "results.jsonl").is_file() and (tmp_path / "out" / "summary.json").is_file()
    table = (tmp_path / "t.csv").read_text().splitlines()
    assert table[0].startswith("# ") and json.loads(table[0][2:])["versions"]["dlsr"]
    assert table[1].startswith("category,name,iou") and table[-1].startswith("instance_mean")
    for i in range(2):
        shard = runner.invoke(app, [*common, "--results", str(tmp_path / "r.jsonl"), "--shard", f"{i}/2", "-q"])
        assert shard.exit_code == 0, shard.output
    files = [str(tmp_path / f"r.shard-{i}-of-2.jsonl") for i in range(2)]
    merged = runner.invoke(app, ["eval", "merge", *files, "-o", str(tmp_path / "m.jsonl"), "-q"])
    assert merged.exit_code == 0, merged.output
    assert scored(tmp_path / "m.jsonl") == scored(tmp_path / "out" / "results.jsonl")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["eval", "/no/such/folder", "--predictions", "/tmp"], 1, "no such dataset folder"),
        (["eval", "DATA", "--shard", "3/2"], 2, "--shard"),
        (["eval", "DATA", "--views", "a,b"], 2, "--views"),
        (["eval", "DATA", "--views", "0,0,1"], 2, "view 0 is given twice"),  # issue 14 item 4
        (["eval", "DATA", "--protocol", "voxels"], 2, "protocol"),
        (["eval", "DATA", "--out", "x", "--results", "y"], 2, "not both"),
        (["eval", "DATA", "--layout", "shapenet"], 2, "--layout"),
        (["eval", "merge", "/no/such.jsonl", "-o", "OUT/m.jsonl"], 1, "cannot read results"),
    ],
)
def test_cli_errors_are_one_line(
    synth: Path, tmp_path: Path, args: list[str], code: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DLSR_DEBUG", raising=False)
    args = [str(synth) if a == "DATA" else a.replace("OUT", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    if code == 1:
        assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1


def test_cli_failures_exit_1_and_existing_results_need_resume(synth: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "empty-pred"
    predictions.mkdir()
    runner = CliRunner()
    args = ["eval", str(synth), "--predictions", str(predictions), "--results", str(tmp_path / "r.jsonl"), "-q"]
    args += ["--points", "2000", "--iou-points", "2000"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1  # every prediction is missing: worst case, counted, exit 1
    assert len(read_results(tmp_path / "r.jsonl")[1]) == 4
    second = runner.invoke(app, args)
    assert second.exit_code == 1 and "--resume" in second.output


def test_voxel_values_are_looked_up_in_the_cell_each_point_falls_in() -> None:
    occupancy = np.zeros((4, 4, 4), dtype=bool)
    occupancy[1, 2, 3] = True
    grid = VoxelTruth(occupancy, origin=np.array([-1.0, -1.0, -1.0]), cell=0.5)  # cells tile [-1, 1]^3
    # In cell (1, 2, 3) twice, in its neighbour (0, 2, 3), outside the grid, on the grid's first corner.
    points = np.array(
        [[-0.25, 0.25, 0.75], [-0.01, 0.49, 0.99], [-0.75, 0.25, 0.75], [1.5, 0.0, 0.0], [-1.0, -1.0, -1.0]]
    )
    assert grid.values_at(occupancy, points).tolist() == [True, True, False, False, False]
    probabilities = np.full((4, 4, 4), 0.25)
    np.testing.assert_array_equal(grid.values_at(probabilities, points), [0.25, 0.25, 0.25, 0.0, 0.25])


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


def test_eval_help_lists_run_and_merge() -> None:
    result = CliRunner().invoke(app, ["eval", "--help"])
    assert result.exit_code == 0 and "merge" in result.output and "run" in result.output
    for command in (["eval", "run", "--help"], ["eval", "merge", "--help"]):
        assert CliRunner().invoke(app, command).exit_code == 0


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


# ------------------------------------------------------------------------------------------ issue 14: hardening


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real `dlsr` command in this process, without DLSR_DEBUG from the shell."""
    monkeypatch.delenv("DLSR_DEBUG", raising=False)
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("points-nan", "non-finite points"),
        ("points-inf", "non-finite points"),
        ("points-empty", "unreadable points.npz (empty file)"),
        ("pointcloud-empty", "unreadable pointcloud.npz (empty file)"),
    ],
)
def test_cli_bad_truth_files_are_one_failed_object_and_the_run_finishes(
    synth: Path, tmp_path: Path, damage: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 items 3 and 9: NaN/inf in points.npz is refused like in pointcloud.npz; a zero-byte npz (np.load
    raises EOFError) is one failed object, not the end of the run, and --resume does not stop there again."""
    root = tmp_path / "copy"
    shutil.copytree(synth, root)
    _, samples = read_samples(root)
    folder = samples[0].truth.mesh.parent  # type: ignore[union-attr]
    name, kind = damage.split("-")
    if kind == "empty":
        (folder / f"{name}.npz").write_bytes(b"")
    else:
        with np.load(folder / "points.npz") as archive:
            values = {key: archive[key] for key in archive.files}
        values["points"] = values["points"].astype(np.float32)
        values["points"][5] = np.nan if kind == "nan" else np.inf
        np.savez(folder / "points.npz", **values)
    predictions = ground_truth_predictions(root, tmp_path / "pred")
    args = ["eval", root, "--predictions", predictions, "--results", tmp_path / "r.jsonl", "--points", "2000"]
    args += ["--iou-points", "2000"]
    result = run_cli(args, monkeypatch)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    records = scored(tmp_path / "r.jsonl")
    assert [r["status"] for r in records] == ["error", "error", "ok", "ok"]  # both views of the broken object
    assert message in records[0]["error"]
    again = run_cli([*args, "--resume"], monkeypatch)
    assert again.exit_code == 1 and "0 scored, 4 already there" in again.output, again.output


def make_pix3d(root: Path, entries: list[dict[str, Any]]) -> Path:
    """A tiny Pix3D layout: one real bed photo, mask and model copied from ../shared/realdata, and `entries`."""
    real = realdata_path("pix3d")
    for name, source in (
        ("img/bed/0001.png", real / "extra_resized_224" / "rgb.png"),
        ("mask/bed/0001.png", real / "extra_resized_224" / "mask.png"),
        ("model/bed/IKEA_MALM_2/model.obj", real / "model" / "bed" / "IKEA_MALM_2" / "model.obj"),
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / name)
    (root / "pix3d.json").write_text(json.dumps(entries))
    return root


PIX3D_ENTRY = {"img": "img/bed/0001.png", "mask": "mask/bed/0001.png", "model": "model/bed/IKEA_MALM_2/model.obj"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("model", "../outside/x.obj", "resolves outside the dataset folder"),
        ("img", "../../../../etc/passwd", "resolves outside the dataset folder"),
        ("mask", "/etc/passwd", "is an absolute path"),
        ("model", "LINK", "resolves outside the dataset folder"),  # a symlink inside pointing out
        ("img", None, "expected a relative path string, found None"),
        ("model", 5, "expected a relative path string, found 5"),
        ("img", ["a.png"], "expected a relative path string"),
    ],
)
def test_cli_pix3d_entries_stay_inside_the_dataset(
    tmp_path: Path, key: str, value: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 items 1 and 2: paths out of the dataset (../, absolute, symlinks) and non-string values are refused
    with one line naming the entry, before anything is read or scored."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    root = tmp_path / "pix3d"
    if value == "LINK":
        (root / "model" / "bed" / "elsewhere").mkdir(parents=True)
        (root / "model" / "bed" / "elsewhere" / "model.obj").symlink_to(outside / "x.obj")
        value = "model/bed/elsewhere/model.obj"
    make_pix3d(root, [{**PIX3D_ENTRY, "category": "bed"}, {**PIX3D_ENTRY, key: value}])
    result = run_cli(["eval", root, "--predictions", tmp_path, "--results", tmp_path / "r.jsonl"], monkeypatch)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output
    assert f"entry 1 '{key}'" in lines[0]  # names the entry
    assert not (tmp_path / "r.jsonl").exists()


def test_split_lists_and_links_cannot_lead_out_of_onet_r2n2_synth_and_folder(synth: Path, tmp_path: Path) -> None:
    """Issue 14 item 1 for the other layouts: a split list naming ../ or a folder or file linked out is refused."""
    onet = tmp_path / "onet"
    (onet / "02828884" / "a" / "img_choy2016").mkdir(parents=True)
    (onet / "02828884" / "test.lst").write_text("../../../outside\n")
    with pytest.raises(DatasetError, match=r"test\.lst: entry '\.\./\.\./\.\./outside'"):
        read_samples(onet)
    (onet / "02828884" / "test.lst").write_text("a\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    Image.new("RGB", (8, 8)).save(outside / "000.jpg")
    (onet / "02828884" / "a" / "img_choy2016" / "000.jpg").symlink_to(outside / "000.jpg")
    with pytest.raises(DatasetError, match=r"000\.jpg resolves outside the dataset folder"):
        read_samples(onet)

    r2n2 = make_r2n2(synth, tmp_path / "r2n2")
    split_file = tmp_path / "split.txt"
    split_file.write_text(f"{CATEGORIES[0]} ..\n")
    with pytest.raises(DatasetError, match=r"split\.txt: entry .*plain file or folder name, found '\.\.'"):
        read_samples(r2n2, split_file=split_file)
    folder = next((r2n2 / "ShapeNetRendering").glob("*/*/rendering"))
    (folder / "renderings.txt").write_text("00.png\n../../../../../x.png\n")
    with pytest.raises(DatasetError, match=r"renderings\.txt: entry '\.\./"):
        read_samples(r2n2, split="all")

    copy = tmp_path / "synth"
    shutil.copytree(synth, copy)
    _, samples = read_samples(copy)
    truth = samples[0].truth.pointcloud
    assert truth is not None
    shutil.move(truth, outside / "pointcloud.npz")
    truth.symlink_to(outside / "pointcloud.npz")
    with pytest.raises(DatasetError, match=r"pointcloud\.npz resolves outside the dataset folder"):
        read_samples(copy)

    pairs = tmp_path / "pairs"
    pairs.mkdir()
    Image.new("RGB", (8, 8)).save(pairs / "a.png")
    (pairs / "a.obj").symlink_to(outside / "x.obj")
    (outside / "x.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(DatasetError, match=r"a\.obj: .* resolves outside"):
        read_samples(pairs)


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


def test_cli_default_output_is_a_folder_per_dataset_split_and_weights(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 20: no ./results.jsonl that a second evaluation trips on; the run says where results went."""
    ground_truth_predictions(synth, tmp_path / "pred")
    shutil.copytree(tmp_path / "pred", tmp_path / "other")  # a second model's predictions
    monkeypatch.chdir(tmp_path)
    for name in ("pred", "other"):
        args = ["eval", synth, "--predictions", tmp_path / name, "--points", "2000", "--iou-points", "2000"]
        result = run_cli(args, monkeypatch)
        assert result.exit_code == 0, result.output
        folder = Path("eval") / f"{synth.name}-test-predictions-{name}"
        assert f"results go to {folder}/" in result.stderr
        assert result.stdout.strip() == str(folder / "results.jsonl")
        assert (tmp_path / folder / "results.jsonl").is_file() and (tmp_path / folder / "summary.json").is_file()
    assert not (tmp_path / "results.jsonl").exists()
    from dlsr.cli.eval import default_eval_folder

    weights = tmp_path / "w" / "tiny.safetensors"
    weights.parent.mkdir()
    weights.touch()
    assert default_eval_folder(synth, "val", weights, None) == Path("eval") / f"{synth.name}-val-tiny"


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


def test_calibration_scores_each_level_and_keeps_the_best_f_score(synth: Path, tiny_model: Any) -> None:
    from dlsr.train.calibrate import calibrate_level

    calibration = calibrate_level(
        synth, tiny_model.weights, split="test", views=(0,), levels_in_voxels=(0.0, 1.0), workers=1, device="cpu"
    )
    assert [score.voxels for score in calibration.scores] == [0.0, 1.0]
    assert calibration.scores[1].level == pytest.approx(1.1 / 15)  # one spacing of the tiny model's 16^3 grid
    f_scores = [score.means["fscore@0.01"] or 0.0 for score in calibration.scores]
    assert calibration.best is calibration.scores[int(np.argmax(f_scores))]
    assert calibration.summary()["level"] == calibration.best.level


def test_calibrate_command_prints_every_level_and_refuses_bad_levels(
    synth: Path, tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["train", "calibrate", synth, "--weights", tiny_model.weights, "--split", "test", "--workers", "1"]
    result = run_cli([*args, "--levels", "0,0.5", "--json"], monkeypatch)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [candidate["voxels"] for candidate in summary["candidates"]] == [0.0, 0.5]
    assert summary["level"] in [candidate["level"] for candidate in summary["candidates"]]
    for bad in ("0,abc", "0,5", "nan"):
        result = run_cli([*args, "--levels", bad], monkeypatch)
        assert result.exit_code == 2, (bad, result.output)
        assert "--levels" in result.output
    result = run_cli([*args, "--device", "tpu"], monkeypatch)
    assert result.exit_code == 2 and "--device" in result.output
    missing = synth.parent / "no-such-dataset"
    result = run_cli(["train", "calibrate", synth, missing, "--weights", tiny_model.weights], monkeypatch)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "no-such-dataset" in result.stderr


def test_calibration_on_several_datasets_picks_by_their_mean(synth: Path, tiny_model: Any) -> None:
    from dlsr.train.calibrate import calibrate_level

    kwargs: dict[str, Any] = {"split": "test", "views": (0,), "levels_in_voxels": (0.0, 1.0), "workers": 1}
    single = calibrate_level(synth, tiny_model.weights, device="cpu", **kwargs)
    twice = calibrate_level([synth, synth], tiny_model.weights, device="cpu", **kwargs)
    assert [(s.data, s.voxels) for s in twice.scores] == [(str(synth), v) for v in (0.0, 1.0)] * 2
    for score in single.scores:
        assert twice.pooled(score.level) == pytest.approx(score.criterion)
    assert twice.best.level == single.best.level
    assert set(twice.summary()["pooled"]) == {"0.0", "1.0"}


def scored_run(synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], Path]:
    """One finished evaluation of the true meshes (the CLI's arguments, and its results file)."""
    predictions = ground_truth_predictions(synth, tmp_path / "pred")
    results = tmp_path / "r.jsonl"
    args = ["eval", synth, "--predictions", predictions, "--results", results, "--points", "2000"]
    args += ["--iou-points", "2000", "-q"]
    first = run_cli(args, monkeypatch)
    assert first.exit_code == 0, first.output
    return args, results


def test_cli_resume_and_overwrite_together_are_refused(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 16: --overwrite would silently throw away the samples --resume was asked to keep."""
    args, results = scored_run(synth, tmp_path, monkeypatch)
    before = results.read_bytes()
    result = run_cli([*args, "--resume", "--overwrite"], monkeypatch)
    assert result.exit_code == 2, result.output
    assert "--resume" in result.output and "--overwrite" in result.output and "Traceback" not in result.output
    assert results.read_bytes() == before
    with pytest.raises(ConfigError, match="choose one"):
        evaluate(synth, results, EvalConfig(**FAST), resume=True, overwrite=True)


def test_cli_resume_into_an_unwritable_results_file_is_one_line(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 10: a results file that cannot be written is one error line naming it, exit 1."""
    import errno
    import os

    args, results = scored_run(synth, tmp_path, monkeypatch)
    lines = results.read_bytes().split(b"\n")
    results.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:30])  # header, one record, a torn second one
    before = results.read_bytes()
    results.chmod(0o444)
    if os.access(results, os.W_OK):  # root ignores the mode: refuse writes as a read-only file system would
        real_open = open

        def read_only(file: Any, mode: str = "r", *rest: Any, **options: Any) -> Any:
            if Path(file) == results and any(flag in mode for flag in "wa+"):
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, mode, *rest, **options)

        monkeypatch.setattr("dlsr.eval.results.open", read_only, raising=False)
    result = run_cli([*args, "--resume"], monkeypatch)
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1 and "Traceback" not in result.output
    assert str(results) in message.replace("\n", "") and "Permission denied" in message
    assert results.read_bytes() == before


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


@pytest.mark.parametrize("option", ["--csv", "--report"])
def test_cli_an_unwritable_table_or_report_is_refused_before_scoring(
    synth: Path, tmp_path: Path, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 18: --csv and --report are written last, so their path is checked before any sample."""
    import os

    predictions = tmp_path / "pred"
    predictions.mkdir()
    results = tmp_path / "r.jsonl"
    targets = [tmp_path / "no-such-folder" / "table.out"]
    if os.geteuid() == 0 and Path("/sys").is_dir():
        targets.append(Path("/sys/dlsr-table.out"))  # sysfs refuses new files even to root
    for target in targets:
        args = ["eval", synth, "--predictions", predictions, "--results", results, option, target]
        result = run_cli(args, monkeypatch)
        assert result.exit_code == 1, result.output
        message = result.output.strip()
        assert message.startswith("error:") and len(message.splitlines()) == 1 and str(target) in message
        assert not results.exists()  # nothing was scored


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process tree from /proc")
def test_cli_interrupt_and_kill_stop_the_workers(synth: Path, tmp_path: Path) -> None:
    """Issue 14 item 15: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) returns at once with
    exit code 130; a killed `dlsr eval` takes its worker processes and the resource tracker with it."""
    import os
    import signal
    import sys
    import time

    _, samples = read_samples(synth, split="all")
    for sample in samples:
        prediction = tmp_path / "pred" / sample.category / f"{sample.model_id}.obj"
        prediction.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample.truth.mesh, prediction)  # type: ignore[arg-type]
    results = tmp_path / "r.jsonl"
    command = [sys.executable, "-m", "dlsr", "eval", str(synth), "--predictions", str(tmp_path / "pred"),
               "--split", "all", "--results", str(results), "--workers", "2", "--points", "200000", "-q",
               "--no-frame-check"]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != "DLSR_DEBUG"}

    def start(*extra: str) -> tuple[subprocess.Popen[bytes], list[int]]:
        # Output to a file, not a pipe: orphaned workers would hold a pipe open and hang the test instead of failing it.
        with (tmp_path / "stderr.txt").open("wb") as log:
            # A suite started in the background (`pytest &`) ignores SIGINT, and children inherit that: give the
            # command the default disposition a terminal gives it.
            process = subprocess.Popen([*command, *extra], stdout=subprocess.DEVNULL, stderr=log,
                                       start_new_session=True, env=environment,
                                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        deadline = time.monotonic() + 120
        scored_before = len(results.read_text().splitlines()) if results.exists() else 0
        while time.monotonic() < deadline and process.poll() is None:
            # Both workers started (plus the resource tracker), and one more sample scored by them.
            workers = _children(process.pid)
            if len(workers) >= 3 and results.exists() and len(results.read_text().splitlines()) > scored_before + 1:
                return process, workers
            time.sleep(0.05)
        process.kill()
        pytest.fail(f"the evaluation did not get going: {(tmp_path / 'stderr.txt').read_text()}")

    def stop_leftovers(workers: list[int]) -> list[int]:
        """The workers still running 5 s on; stopped, so a failing test leaves nothing behind."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.05)
        left = [pid for pid in workers if _running(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left

    process, workers = start()
    os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stop_leftovers(workers)
        pytest.fail("dlsr eval hung after Ctrl-C")
    assert time.monotonic() - started < 5
    stderr = (tmp_path / "stderr.txt").read_text()
    assert process.returncode == 130 and stderr.strip() == "error: interrupted", stderr
    assert len(read_results(results)[1]) < len(samples), "the interrupt must land mid-run"
    assert not stop_leftovers(workers)

    process, workers = start("--resume")
    process.kill()  # SIGKILL: no chance to stop anything itself
    process.wait()
    assert not stop_leftovers(workers), "workers outlived their killed parent"


def test_cli_model_scores_do_not_depend_on_batches_shards_or_resume(
    synth: Path, tmp_path: Path, tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 7: on the CPU, batch 1 against 16 changed the network's SDF in the last bits (so 50 of 52
    scores), and resume and shards regroup the images. Every grouping must score exactly the same."""
    common = ["eval", synth, "--weights", tiny_model.weights, "--device", "cpu", "--protocol", "r2n2", "-q"]
    common += ["--points", "3000", "--iou-points", "3000", "--resolution", "32", "--no-frame-check", "--workers", "1"]
    runs = {"batch16": ["--batch-size", "16"], "batch1": ["--batch-size", "1"], "batch3": ["--batch-size", "3"]}
    for name, extra in runs.items():
        result = run_cli([*common, *extra, "--results", tmp_path / f"{name}.jsonl"], monkeypatch)
        assert result.exit_code == 0, result.output
    for shard in range(3):
        result = run_cli([*common, "--results", tmp_path / "s.jsonl", "--shard", f"{shard}/3"], monkeypatch)
        assert result.exit_code == 0, result.output
    parts = [tmp_path / f"s.shard-{shard}-of-3.jsonl" for shard in range(3)]
    merged = run_cli(["eval", "merge", *parts, "-o", tmp_path / "merged.jsonl", "-q"], monkeypatch)
    assert merged.exit_code == 0, merged.output
    reference = scored(tmp_path / "batch16.jsonl")
    assert len(reference) == 4 and all(record["chamfer_l1"] > 0 for record in reference)
    for name in ("batch1", "batch3", "merged"):
        assert scored(tmp_path / f"{name}.jsonl") == reference, name
