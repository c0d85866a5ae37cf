"""Reading users' meshes: every format, scenes, bad files, dataset layouts and the ShapeNet v2 -> v1 frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from conftest import REALDATA
from dlsr import groundtruth as gt
from dlsr.errors import ConfigError, DlsrError, MeshError
from dlsr.mesh_input import MESH_EXTENSIONS, MeshEntry, find_meshes, load_mesh, to_shapenet_v1_frame

needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"real data samples not found at {REALDATA}")


def _export(geometry: trimesh.Trimesh | trimesh.Scene, path: Path) -> Path:
    """Write with trimesh, closing every file ourselves (glTF comes back as a dict of files)."""
    data = geometry.export(file_type=path.suffix[1:])
    if isinstance(data, dict):
        for name, content in data.items():
            (path.parent / (path.name if name == "model.gltf" else name)).write_bytes(content)
    else:
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _two_part_scene() -> trimesh.Scene:
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), transform=trimesh.transformations.translation_matrix([2.0, 0, 0]))
    scene.add_geometry(
        trimesh.creation.icosphere(subdivisions=1), transform=trimesh.transformations.translation_matrix([0, 3.0, 0])
    )
    return scene


@pytest.mark.parametrize("extension", MESH_EXTENSIONS)
def test_every_extension_loads(tmp_path: Path, extension: str) -> None:
    path = _export(trimesh.creation.box(extents=(1.0, 2.0, 3.0)), tmp_path / f"box{extension}")
    mesh = load_mesh(path)
    assert isinstance(mesh, trimesh.Trimesh)
    assert len(mesh.faces) == 12 and mesh.is_watertight
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -1, -1.5], [0.5, 1, 1.5]], atol=1e-6)


def test_upper_case_extension_loads(tmp_path: Path) -> None:
    path = _export(trimesh.creation.box(), tmp_path / "BOX.stl")
    assert len(load_mesh(path.rename(tmp_path / "BOX.STL")).faces) == 12


@pytest.mark.parametrize("extension", [".obj", ".glb"])
def test_multi_part_files_are_concatenated_with_their_transforms(tmp_path: Path, extension: str) -> None:
    mesh = load_mesh(_export(_two_part_scene(), tmp_path / f"scene{extension}"))
    assert len(mesh.faces) == 12 + 80
    np.testing.assert_allclose(mesh.bounds, [[-1.0, -0.5, -1.0], [2.5, 4.0, 1.0]], atol=1e-6)


def test_materials_and_textures_are_not_needed(tmp_path: Path) -> None:
    """An OBJ that names a missing material library and texture still loads, quietly."""
    text = "mtllib missing.mtl\nusemtl wood\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"
    (tmp_path / "textured.obj").write_text(text)
    assert len(load_mesh(tmp_path / "textured.obj").faces) == 1


def test_soups_stay_soups_but_degenerate_and_nan_faces_go(tmp_path: Path) -> None:
    text = (
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 2 0 0\nv nan 0 0\nv 0 0 5\n"
        "f 1 2 3\nf 3 2 1\n"  # a double-sided triangle: kept as two faces
        "f 1 2 4\n"  # zero area (collinear)
        "f 1 2 5\n"  # non-finite vertex
        "f 1 1 6\n"  # repeated vertex
    )
    (tmp_path / "soup.obj").write_text(text)
    mesh = load_mesh(tmp_path / "soup.obj")
    assert len(mesh.faces) == 2
    assert np.isfinite(mesh.vertices).all()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.obj", b"", "no geometry"),
        ("empty.stl", b"", "no geometry"),
        ("notes.obj", b"this is not an obj file\n", "no geometry"),
        ("notes.off", b"hello world\n", "cannot read as OFF"),
        ("notes.ply", b"hello", "cannot read as PLY"),
        ("notes.gltf", b'{"asset": 1}', "notes.gltf"),
        ("corrupt.glb", bytes(range(256)) * 2, "cannot read as GLB"),
        ("corrupt.stl", bytes(range(256)) * 3, "corrupt.stl"),
        ("truncated.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 5\n", "cannot read as PLY"),
    ],
)
def test_bad_files_raise_a_mesh_error_naming_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MeshError, match=message) as raised:
        load_mesh(path)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_point_cloud_ply_is_not_a_mesh(tmp_path: Path) -> None:
    path = _export(trimesh.PointCloud(np.random.default_rng(0).random((10, 3))), tmp_path / "scan.ply")
    with pytest.raises(MeshError, match="point cloud of 10 points") as raised:
        load_mesh(path)
    assert str(path) in str(raised.value)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="no such file"):
        load_mesh(tmp_path / "absent.obj")
    (tmp_path / "model.fbx").write_bytes(b"x")
    with pytest.raises(MeshError, match=r"unsupported mesh format '\.fbx'"):
        load_mesh(tmp_path / "model.fbx")
    assert issubclass(MeshError, DlsrError)


# Dataset layouts


def _write_box(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _export(trimesh.creation.box(), path)


def test_find_meshes_shapenet_v1(tmp_path: Path) -> None:
    for synset, model in [("03001627", "b"), ("03001627", "a"), ("02691156", "c")]:
        _write_box(tmp_path / synset / model / "model.obj")
        (tmp_path / synset / model / "model.mtl").write_text("")
    entries, layout = find_meshes(tmp_path)
    assert layout == "shapenet-v1"
    assert [(e.category, e.model_id) for e in entries] == [("02691156", "c"), ("03001627", "a"), ("03001627", "b")]
    assert entries[1] == MeshEntry("03001627", "a", tmp_path / "03001627" / "a" / "model.obj")


def test_find_meshes_shapenet_v2_and_a_single_synset_folder(tmp_path: Path) -> None:
    for synset, model in [("04379243", "t2"), ("04379243", "t1"), ("02828884", "b1")]:
        _write_box(tmp_path / synset / model / "models" / "model_normalized.obj")
    entries, layout = find_meshes(tmp_path)
    assert layout == "shapenet-v2"
    assert [(e.category, e.model_id) for e in entries] == [("02828884", "b1"), ("04379243", "t1"), ("04379243", "t2")]
    entries, layout = find_meshes(tmp_path / "04379243")
    assert layout == "shapenet-v2"
    assert [(e.category, e.model_id) for e in entries] == [("04379243", "t1"), ("04379243", "t2")]


def test_find_meshes_in_a_plain_folder(tmp_path: Path) -> None:
    _write_box(tmp_path / "mug.obj")
    _write_box(tmp_path / "chairs" / "office.ply")
    _write_box(tmp_path / "chairs" / "kitchen" / "stool.STL")
    _write_box(tmp_path / ".hidden" / "skip.obj")
    _write_box(tmp_path / "chairs" / ".skip.obj")
    (tmp_path / "readme.txt").write_text("not a mesh")
    entries, layout = find_meshes(tmp_path)
    assert layout == "folder"
    assert [(e.category, e.model_id, e.path.name) for e in entries] == [
        ("all", "mug", "mug.obj"),
        ("chairs", "office", "office.ply"),
        ("chairs/kitchen", "stool", "stool.STL"),
    ]
    assert find_meshes(tmp_path) == (entries, layout)  # deterministic


def test_find_meshes_refuses_ambiguous_empty_and_missing_folders(tmp_path: Path) -> None:
    _write_box(tmp_path / "cups" / "mug.obj")
    _write_box(tmp_path / "cups" / "mug.ply")
    with pytest.raises(MeshError, match="mug"):
        find_meshes(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeshError, match="no mesh files"):
        find_meshes(tmp_path / "empty")
    with pytest.raises(MeshError, match="not a folder"):
        find_meshes(tmp_path / "absent")


@needs_realdata
def test_find_meshes_on_real_layouts() -> None:
    entries, layout = find_meshes(REALDATA / "onet" / "ShapeNetCore.v2")
    assert layout == "shapenet-v2"
    assert [(e.category, e.model_id) for e in entries] == [
        ("02828884", "1a55e418c61e9dab6f4a86fe50d4c8f0"),
        ("04379243", "1a15e651e26622b0e5c7ea227b17d897"),
    ]
    entries, layout = find_meshes(REALDATA / "meshes")
    assert layout == "folder"
    assert {e.category for e in entries} == {"all"}
    assert [e.model_id for e in entries] == ["ant", "bunny", "chair_model", "cow", "spot", "teapot"]
    for entry in entries:
        assert len(load_mesh(entry.path).faces) > 0


# The ShapeNet v2 -> v1 frame


def test_to_shapenet_v1_frame_turns_v2_only() -> None:
    mesh = trimesh.Trimesh([[1.0, 2.0, 3.0], [0, 0, 0], [0, 1, 0]], [[0, 1, 2]], process=False)
    turned = to_shapenet_v1_frame(mesh, "shapenet-v2")
    # v2 = R v1 with R = [[0,0,1],[0,1,0],[-1,0,0]] (shared/realdata/README.md): v1 = (-z2, y2, x2).
    np.testing.assert_allclose(turned.vertices[0], [-3.0, 2.0, 1.0])
    np.testing.assert_allclose(mesh.vertices[0], [1.0, 2.0, 3.0])  # the input is untouched
    assert to_shapenet_v1_frame(mesh, "shapenet-v1") is mesh
    assert to_shapenet_v1_frame(mesh, "folder") is mesh
    np.testing.assert_allclose(to_shapenet_v1_frame(mesh, "pix3d").vertices[0], [-3.0, 2.0, 1.0])
    with pytest.raises(ConfigError, match="unknown mesh layout"):
        to_shapenet_v1_frame(mesh, "shapenet-v3")


def _chamfer(a: np.ndarray, b: np.ndarray) -> float:
    return float((cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean()) / 2)


def _bbox_normalised(points: np.ndarray) -> np.ndarray:
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - (low + high) / 2) / (high - low).max()


@needs_realdata
@pytest.mark.parametrize(
    "model", ["02828884/1a55e418c61e9dab6f4a86fe50d4c8f0", "04379243/1a15e651e26622b0e5c7ea227b17d897"]
)
def test_v2_mesh_in_the_v1_frame_matches_onet_points(model: str) -> None:
    """ONet's pointcloud.npz is in the v1 frame: after the turn and normalisation the v2 mesh lies on it."""
    with np.load(REALDATA / "onet" / "ShapeNet" / model / "pointcloud.npz") as data:
        onet_points = _bbox_normalised(data["points"].astype(np.float64))
        onet_normals = data["normals"].astype(np.float64)
    v2 = load_mesh(REALDATA / "onet" / "ShapeNetCore.v2" / model / "models" / "model_normalized.obj")
    rng = np.random.default_rng(0)
    samples = gt.surface_samples(gt.normalise(to_shapenet_v1_frame(v2, "shapenet-v2"))[0], 30_000, rng=rng)
    points = samples["points"].astype(np.float64)
    assert _chamfer(points, onet_points) < 0.01  # measured 0.002
    unturned = gt.surface_samples(gt.normalise(v2)[0], 30_000, rng=rng)["points"].astype(np.float64)
    assert _chamfer(unturned, onet_points) > 0.05  # measured 0.08-0.17: the turn is what aligns them
    # ONet's normals are unoriented (half point inwards), so compare them up to sign.
    nearest = cKDTree(onet_points).query(points)[1]
    alignment = np.abs((samples["normals"].astype(np.float64) * onet_normals[nearest]).sum(axis=1))
    assert np.mean(alignment > 0.9) > 0.9


# Pix3D shapes

PIX3D = REALDATA.parent / "shapes" / "pix3d"


def _top_offset(vertices: np.ndarray) -> np.ndarray:
    """Where the top fifth of a chair's vertices (its backrest) sits from the box centre, (x, z)."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    top = vertices[vertices[:, 1] > low[1] + 0.8 * (high[1] - low[1])]
    return (top.mean(axis=0) - (low + high) / 2)[[0, 2]]


@pytest.mark.skipif(not PIX3D.is_dir(), reason=f"Pix3D shapes not found at {PIX3D}")
def test_pix3d_shapes_keep_their_split_and_turn_into_the_v1_frame() -> None:
    entries, layout = find_meshes(PIX3D)
    assert layout == "pix3d"
    by_category: dict[str, int] = {}
    for entry in entries:
        by_category[entry.category] = by_category.get(entry.category, 0) + 1
    # chair 214, table 62 + desk 22, sofa 18, bed 18, bookcase 16, wardrobe 9; misc and tool are left out.
    assert by_category == {
        "03001627": 214, "04379243": 84, "04256520": 18, "02818832": 18, "02871439": 16, "02933112": 9
    }  # fmt: skip
    assert {entry.split for entry in entries} == {"train", "val"}
    listed = {
        (line.split("\t")[1], line.split("\t")[2].strip())
        for line in (PIX3D / "split.tsv").read_text().splitlines()[1:]
    }
    assert all((entry.model_id, entry.split) in listed for entry in entries)
    # The backrests of ShapeNet v1 chairs point to -x (3D-R2N2's voxels); Pix3D's point to +z until turned.
    chairs = [entry for entry in entries if entry.category == "03001627"][::20]
    for entry in chairs:
        mesh = load_mesh(entry.path)
        raw, turned = _top_offset(mesh.vertices), _top_offset(to_shapenet_v1_frame(mesh, "pix3d").vertices)
        assert raw[1] > abs(raw[0]), entry.model_id
        assert -turned[0] > abs(turned[1]), entry.model_id


def test_pix3d_split_file_errors(tmp_path: Path) -> None:
    (tmp_path / "chair").mkdir()
    _export(trimesh.creation.box(), tmp_path / "chair" / "A.ply")
    listing = tmp_path / "split.tsv"
    listing.write_text("category\tmodel\tsplit\nchair\tA\ttrain\ntool\tHAMMER\tval\n")
    entries, layout = find_meshes(tmp_path)
    assert layout == "pix3d" and [(e.category, e.model_id, e.split) for e in entries] == [("03001627", "A", "train")]
    listing.write_text("category\tmodel\tsplit\nchair\tB\ttrain\n")
    with pytest.raises(MeshError, match="no mesh file"):
        find_meshes(tmp_path)
    listing.write_text("category\tmodel\tsplit\nchair\tA\tsometimes\n")
    with pytest.raises(MeshError, match="line 2"):
        find_meshes(tmp_path)
    listing.write_text("name\tsplit\n")
    with pytest.raises(MeshError, match="header"):
        find_meshes(tmp_path)
