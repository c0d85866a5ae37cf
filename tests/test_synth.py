"""Datasets on disk: layout, determinism, resuming (also after a kill), shards, and users' meshes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import realdata_path
from dlsr.binvox import read_binvox
from dlsr.camera import read_rendering_metadata
from dlsr.cli import app
from dlsr.errors import DatasetError
from dlsr.sdf import read_sdf_archive
from dlsr.synth import SynthConfig, make_dataset, plan_synth, prepare_dataset, write_index

SMALL = SynthConfig(
    categories=("03001627", "04379243"), per_category=3, views=2, sdf_resolution=16, points=2000, surface_points=1500
)
OBJECT_FILES = {"model.obj", "sdf.npz", "points.npz", "pointcloud.npz", "model.binvox", "rendering"}


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "data"
    report = make_dataset(SMALL, out)
    assert report.written == 6 and not report.failed and report.indexed
    return out


def arrays_of(folder: Path) -> dict[str, bytes]:
    """Every array and rendering of a dataset, keyed by relative path, as bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".npz":
            with np.load(path) as archive:
                for key in archive.files:
                    found[f"{path.relative_to(folder)}:{key}"] = archive[key].tobytes()
        elif path.suffix in (".png", ".binvox", ".txt", ".lst"):
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def test_layout_and_contents(small_dataset: Path) -> None:
    metadata = json.loads((small_dataset / "metadata.json").read_text())
    assert metadata["total"] == 6
    assert metadata["categories"]["03001627"] == {"name": "chair", "count": 3, "train": 2, "val": 0, "test": 1}
    for category in SMALL.categories:
        lists = {
            split: (small_dataset / category / f"{split}.lst").read_text().split() for split in ("train", "val", "test")
        }
        models = sorted(p.name for p in (small_dataset / category).iterdir() if p.is_dir())
        assert sorted(m for members in lists.values() for m in members) == models  # the splits partition them
        for model in models:
            folder = small_dataset / category / model
            assert {p.name for p in folder.iterdir()} == OBJECT_FILES
            sdf, grid = read_sdf_archive(folder / "sdf.npz")
            assert sdf.shape == (16, 16, 16) and grid.bound == SMALL.sdf_bound
            assert sdf.min() < 0 < sdf.max()
            with np.load(folder / "points.npz") as points:
                inside = np.unpackbits(points["occupancies"])[: len(points["points"])].astype(bool)
                assert points["points"].shape == (2000, 3) and 0 < inside.mean() < 0.5
            voxels = read_binvox(folder / "model.binvox").occupancy
            assert voxels.shape == (32, 32, 32) and voxels.any()
            cameras = read_rendering_metadata(folder / "rendering" / "rendering_metadata.txt")
            assert len(cameras) == 2
            with Image.open(folder / "rendering" / "00.png") as picture:
                assert picture.size == (137, 137) and picture.mode == "RGBA"
                alpha = np.asarray(picture)[..., 3]
            assert 0.02 < (alpha > 0).mean() < 0.9
            assert alpha[0].max() == alpha[-1].max() == 0  # the object is never cut off at the border


def test_rerun_skips_finished_objects(small_dataset: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in small_dataset.rglob("*.npz")}
    report = make_dataset(SMALL, small_dataset)
    assert report.skipped == 6 and report.written == 0
    assert {p: p.stat().st_mtime_ns for p in small_dataset.rglob("*.npz")} == before


def test_same_seed_gives_identical_arrays_and_another_seed_does_not(small_dataset: Path, tmp_path: Path) -> None:
    config = SynthConfig(**{**SMALL.__dict__, "categories": ("03001627",)})
    make_dataset(config, tmp_path / "again")
    ours = arrays_of(tmp_path / "again" / "03001627")
    reference = arrays_of(small_dataset / "03001627")
    assert set(ours) <= set(reference)
    assert all(ours[key] == reference[key] for key in ours if not key.endswith(".lst"))
    other = SynthConfig(**{**config.__dict__, "seed": 1})
    assert {t.model_id for t in plan_synth(other)}.isdisjoint(t.model_id for t in plan_synth(config))


def test_other_settings_in_the_same_folder_are_refused(small_dataset: Path) -> None:
    with pytest.raises(DatasetError, match="other settings"):
        make_dataset(SynthConfig(**{**SMALL.__dict__, "views": 3}), small_dataset)


def test_shards_then_index_equal_one_run(small_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "sharded"
    first = make_dataset(SMALL, out, shard=(0, 2))
    assert first.written == 3 and not first.indexed
    with pytest.raises(DatasetError, match="3 of 6 objects are missing"):
        write_index(out)
    make_dataset(SMALL, out, shard=(1, 2), workers=2)
    write_index(out)
    for category in SMALL.categories:
        for split in ("train", "val", "test"):
            name = f"{category}/{split}.lst"
            assert (out / name).read_text() == (small_dataset / name).read_text()
    merged, single = arrays_of(out), arrays_of(small_dataset)
    assert merged.keys() == single.keys() and all(merged[k] == single[k] for k in merged)


def test_a_killed_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    """kill -9 in the middle of `dlsr data synth`, rerun the same command: same files as an uninterrupted run."""
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "dlsr", "data", "synth", str(out), "--categories", "lamp", "--per-category", "4",
               "--views", "2", "--resolution", "8", "--quiet"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    category = out / "03636649"
    while time.monotonic() < deadline:
        done = [p for p in category.iterdir() if p.is_dir() and not p.name.startswith(".")] if category.exists() else []
        if done:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = [p for p in category.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert 1 <= len(finished) < 4, "the kill must land mid-run"
    assert not (out / "metadata.json").exists()
    subprocess.run(command, check=True)
    assert not [p for p in category.iterdir() if p.name.startswith(".tmp-")]  # leftovers were cleaned

    config = SynthConfig(categories=("03636649",), per_category=4, views=2, sdf_resolution=8)
    make_dataset(config, tmp_path / "clean")
    resumed, clean = arrays_of(out), arrays_of(tmp_path / "clean")
    assert resumed.keys() == clean.keys()
    assert all(resumed[key] == clean[key] for key in clean)


def test_prepare_real_meshes(tmp_path: Path) -> None:
    """The classic meshes: watertight, open (teapot), holed (bunny), multi-part (ant), a polygon soup (chair)."""
    meshes = realdata_path("meshes")
    source = tmp_path / "meshes"
    source.mkdir()
    for name in ("teapot.obj", "bunny.ply", "chair_model.obj", "ant.ply"):
        (source / name).symlink_to(meshes / name)
    (source / "broken.obj").write_text("v 0 0 0\nthis is not a mesh\n")
    config = SynthConfig(views=2, sdf_resolution=16, points=5000, surface_points=2000)
    report = prepare_dataset(source, config, tmp_path / "out")
    assert report.written == 4
    assert [r.task.model_id for r in report.failed] == ["broken"]
    skipped = json.loads((tmp_path / "out" / "prepare-report.json").read_text())["skipped"]
    assert skipped[0]["model_id"] == "broken" and "broken.obj" in skipped[0]["reason"]
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert metadata["layout"] == "folder" and metadata["categories"]["all"]["count"] == 4
    for name in ("teapot", "bunny", "chair_model", "ant"):
        folder = tmp_path / "out" / "all" / name
        with np.load(folder / "points.npz") as points:
            inside = np.unpackbits(points["occupancies"])[: len(points["points"])].astype(bool)
            uniform = int(points["uniform_count"])
            # A solid fills a sensible share of the padded box (open and holed meshes included).
            assert 0.003 < inside[:uniform].mean() < 0.6, name
            # loc/scale map the normalised points back onto the source mesh's frame.
            assert float(points["scale"]) > 0
        sdf, _ = read_sdf_archive(folder / "sdf.npz")
        assert sdf.min() < 0 < sdf.max(), name


def test_prepare_shapenet_v2_layout(tmp_path: Path) -> None:
    source = realdata_path("onet", "ShapeNetCore.v2")
    config = SynthConfig(views=2, sdf_resolution=16, points=5000, surface_points=2000)
    report = prepare_dataset(source, config, tmp_path / "out")
    assert report.written == 2 and not report.failed
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert metadata["layout"] == "shapenet-v2"
    assert set(metadata["categories"]) == {"02828884", "04379243"}
    assert metadata["categories"]["04379243"]["name"] == "table"


def test_prepare_keeps_a_pix3d_split(tmp_path: Path) -> None:
    """A source with its own split (Pix3D's split.tsv) keeps it: its held-out models never land in train.lst."""
    import trimesh

    source = tmp_path / "pix3d"
    rows = [("chair", "A", "train"), ("chair", "B", "val"), ("chair", "C", "train"), ("desk", "D", "val")]
    for category, model, _ in rows:
        (source / category).mkdir(parents=True, exist_ok=True)
        trimesh.creation.box(extents=(0.5, 1.0, 0.4)).export(source / category / f"{model}.ply")
    (source / "split.tsv").write_text("category\tmodel\tsplit\n" + "".join(f"{c}\t{m}\t{s}\n" for c, m, s in rows))
    config = SynthConfig(views=1, sdf_resolution=8, voxel_resolution=8, points=500, surface_points=500)
    report = prepare_dataset(source, config, tmp_path / "out")
    assert report.written == 4 and not report.failed
    out = tmp_path / "out"
    assert (out / "03001627" / "train.lst").read_text().split() == ["A", "C"]
    assert (out / "03001627" / "val.lst").read_text().split() == ["B"]
    assert (out / "04379243" / "val.lst").read_text().split() == ["D"]  # desks are ShapeNet tables
    assert (out / "03001627" / "test.lst").read_text() == ""
    assert json.loads((out / "metadata.json").read_text())["layout"] == "pix3d"


runner = CliRunner()


def test_cli_synth_render_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = runner.invoke(app, ["data", "synth", str(out), "--categories", "rifle", "--per-category", "1",
                                 "--views", "1", "--resolution", "8", "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    mesh = next((out / "04090263").glob("*/model.obj"))
    picture = tmp_path / "sheet.png"
    result = runner.invoke(app, ["render", str(mesh), "-o", str(picture), "--views", "3", "--size", "64"])
    assert result.exit_code == 0, result.output
    with Image.open(picture) as sheet:
        pixels = np.asarray(sheet.convert("RGB"))
    assert pixels.shape[1] >= 3 * 64 and (pixels < 200).any()

    for args, code, needle in [
        (["data", "synth", str(out), "--shard", "2/2"], 2, "0 <= i < n"),
        (["data", "synth", str(out), "--shard", "half"], 2, "expected i/n"),
        (["data", "synth", str(mesh), "--quiet"], 1, "is not a folder"),
        (["data", "synth", str(out), "--categories", "spaceship"], 2, "unknown category"),
        (["data", "synth", str(out), "--per-category", "2", "--quiet"], 1, "other settings"),
        (["data", "index", str(tmp_path)], 1, "not a dlsr dataset folder"),
        (["data", "prepare", str(tmp_path / "nowhere"), str(tmp_path / "o")], 1, "not a folder"),
        (["render", str(tmp_path / "missing.obj"), "-o", str(tmp_path / "x.png")], 1, "missing.obj"),
        (["render", str(mesh), "-o", str(tmp_path / "x.jpg")], 2, ".png"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert needle in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)


def test_cli_dataset_folders_under_a_file_are_one_line(tmp_path: Path) -> None:
    # A file as the parent stops mkdir even for root, which permissions do not.
    (tmp_path / "file").write_text("")
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    (meshes / "a.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    for args in (
        ["data", "synth", str(tmp_path / "file" / "data"), "--per-category", "1"],
        ["data", "prepare", str(meshes), str(tmp_path / "file" / "data")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.stderr.strip().splitlines()  # one line: no traceback, no empty progress bar above it
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
        assert "cannot create the folder" in lines[0] and "is a file" in lines[0], lines[0]


def test_prepare_reports_broken_links_once_each(tmp_path: Path) -> None:
    source = tmp_path / "meshes"
    source.mkdir()
    (source / "dangling.obj").symlink_to(tmp_path / "nowhere.obj")
    (source / "loop.obj").symlink_to(source / "loop.obj")
    (source / "garbage.obj").write_text("not a mesh\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "prepare", str(source), str(out), "--views", "1", "--resolution", "8"])
    assert result.exit_code == 1, result.output
    skipped = {e["model_id"]: e["reason"] for e in json.loads((out / "prepare-report.json").read_text())["skipped"]}
    assert set(skipped) == {"dangling", "loop", "garbage"}
    assert "broken symbolic link" in skipped["dangling"] and "symbolic link loop" in skipped["loop"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert sorted(errors) == sorted(f"error: {reason}" for reason in skipped.values())

    # ShapeNet's layout: a model.obj that is a broken link is reported too, not skipped in silence.
    shapenet = tmp_path / "shapenet" / "03001627"
    (shapenet / "a").mkdir(parents=True)
    (shapenet / "a" / "model.obj").write_text("not a mesh\n")
    (shapenet / "b").mkdir()
    (shapenet / "b" / "model.obj").symlink_to(tmp_path / "nowhere.obj")
    out = tmp_path / "out-shapenet"
    result = runner.invoke(app, ["data", "prepare", str(shapenet.parent), str(out), "--views", "1"])
    assert result.exit_code == 1, result.output
    skipped = {e["model_id"]: e["reason"] for e in json.loads((out / "prepare-report.json").read_text())["skipped"]}
    assert set(skipped) == {"a", "b"} and "broken symbolic link" in skipped["b"]


def _write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray) -> Path:
    lines = [f"v {x!r} {y!r} {z!r}" for x, y, z in vertices.tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces.tolist()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_outlier_vertices_are_refused_and_huge_units_kept(tmp_path: Path) -> None:
    """Issue 14 item 8: one vertex at 1e30 made a blank object written as success ("1 written"); a mesh in units
    of 1e30 lost its faces to the vertex merge; `dlsr render` drew an all-white picture. Now the outlier is refused
    with a line naming the file, unused vertices are dropped, and huge units are only a scale."""
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=2)
    vertices, faces = np.asarray(sphere.vertices), np.asarray(sphere.faces)
    source = tmp_path / "meshes"
    source.mkdir()
    # One face of the sphere reaches a vertex at 1e30; and the sphere in units of 1e30 with an unused vertex.
    spiked = _write_obj(
        source / "spiked.obj", np.vstack([vertices, [1e30, 0, 0]]), np.vstack([faces, [[0, 1, len(vertices)]]])
    )
    _write_obj(source / "huge.obj", np.vstack([vertices * 1e30, [1e35, 0, 0]]), faces)
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "prepare", str(source), str(out), "--views", "2", "--resolution", "8"])
    assert result.exit_code == 1, result.output
    assert "1 written" in result.stderr and "1 failed" in result.stderr and "Traceback" not in result.output
    skipped = json.loads((out / "prepare-report.json").read_text())["skipped"]
    assert [entry["model_id"] for entry in skipped] == ["spiked"]
    assert skipped[0]["reason"].startswith(f"{spiked}: 1 vertex lies far from the rest")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {skipped[0]['reason']}"]
    assert not (out / "all" / "spiked").exists()
    huge = out / "all" / "huge"
    model = trimesh.load(huge / "model.obj", process=False)
    assert len(model.faces) == len(faces) and len(model.vertices) == len(vertices) and model.is_watertight
    with np.load(huge / "points.npz") as points:
        assert np.unpackbits(points["occupancies"]).mean() > 0.05
    view = np.asarray(Image.open(huge / "rendering" / "00.png"))
    assert view[..., 3].mean() > 10

    picture = tmp_path / "spiked.png"
    drawn = runner.invoke(app, ["render", str(spiked), "-o", str(picture), "--views", "2", "--size", "32"])
    assert drawn.exit_code == 1 and "1 vertex lies far from the rest" in drawn.stderr, drawn.output
    assert not picture.exists()
    drawn = runner.invoke(app, ["render", str(source / "huge.obj"), "-o", str(picture), "--views", "2", "--size", "32"])
    assert drawn.exit_code == 0, drawn.output
    assert (np.asarray(Image.open(picture)) < 200).mean() > 0.05
