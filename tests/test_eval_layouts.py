"""dlsr.eval.layouts: the dataset layouts (synth, R2N2, ONet, Pix3D, folder), splits, paths kept inside."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import FAST, TINY_CATEGORIES, make_r2n2, realdata_path, run_cli, scored
from dlsr.errors import ConfigError, DatasetError
from dlsr.eval import EvalConfig, evaluate
from dlsr.eval.layouts import detect_layout, read_samples
from dlsr.eval.truth import load_truth

CATEGORIES = TINY_CATEGORIES


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
