"""binvox I/O: round trips, the [x][y][z] axis order pinned on real files, trimesh interoperability, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import realdata_path as realdata
from dlsr.binvox import Voxels, binvox_bytes, r2n2_frame, read_binvox, write_binvox
from dlsr.errors import DatasetError, DlsrError

R2N2_CHAIRS = ("1a74a83fa6d24b3cacd67ce2c72c02e", "1a8bbf2994788e2743e99e0cae970928")
ONET_MODELS = ("02828884/1a55e418c61e9dab6f4a86fe50d4c8f0", "04379243/1a15e651e26622b0e5c7ea227b17d897")


def ball(size: int, centre: tuple[float, float, float], radius: float) -> np.ndarray:
    index = np.indices((size, size, size)).transpose(1, 2, 3, 0) + 0.5
    return np.linalg.norm(index - np.array(centre), axis=-1) < radius


def stored_order(data: bytes) -> np.ndarray:
    """A naive decoder: the runs, in file order, reshaped to (D, D, D) without any axis swap."""
    header_end = data.index(b"data\n") + len(b"data\n")
    size = int(data.split(b"dim ")[1].split()[0])
    runs = data[header_end:]
    flat: list[bool] = []
    for value, count in zip(runs[0::2], runs[1::2], strict=True):
        flat.extend([bool(value)] * count)
    return np.array(flat).reshape(size, size, size)


@pytest.mark.parametrize("size", [32, 128])
def test_write_read_round_trip(tmp_path: Path, size: int) -> None:
    rng = np.random.default_rng(size)
    cases = {
        "random": rng.random((size, size, size)) < 0.3,
        "sparse": rng.random((size, size, size)) < 0.001,
        "ball": ball(size, (size * 0.4, size * 0.55, size * 0.5), size / 3),
        "empty": np.zeros((size, size, size), bool),
        "full": np.ones((size, size, size), bool),
    }
    for name, occupancy in cases.items():
        translate = rng.normal(size=3)
        scale = float(rng.uniform(0.1, 2.0))
        path = write_binvox(tmp_path / f"{name}.binvox", occupancy, translate, scale)
        voxels = read_binvox(path)
        assert voxels.occupancy.dtype == bool and voxels.occupancy.shape == (size, size, size)
        np.testing.assert_array_equal(voxels.occupancy, occupancy, err_msg=name)
        np.testing.assert_array_equal(voxels.translate, translate)  # repr() round-trips exactly
        assert voxels.scale == scale and voxels.dims == (size, size, size)
        assert read_binvox(path.read_bytes()).occupancy.sum() == occupancy.sum()


def test_axis_order_on_disk_is_x_z_y(tmp_path: Path) -> None:
    occupancy = np.zeros((8, 8, 8), bool)
    occupancy[1, 2, 3] = True  # x=1, y=2, z=3
    data = write_binvox(tmp_path / "one.binvox", occupancy).read_bytes()
    stored = stored_order(data)
    assert np.argwhere(stored).tolist() == [[1, 3, 2]]  # binvox stores [x][z][y]
    assert np.argwhere(read_binvox(data).occupancy).tolist() == [[1, 2, 3]]


def test_runs_are_split_at_255_like_binvox(tmp_path: Path) -> None:
    data = binvox_bytes(np.ones((32, 32, 32), bool))
    runs = np.frombuffer(data[data.index(b"data\n") + 5 :], np.uint8).reshape(-1, 2)
    assert runs[:, 0].tolist() == [1] * 129
    assert runs[:, 1].tolist() == [255] * 128 + [32768 - 128 * 255]


@pytest.mark.parametrize("chair", R2N2_CHAIRS)
def test_r2n2_voxels_read_and_rewrite_byte_for_byte(tmp_path: Path, chair: str) -> None:
    path = realdata("r2n2", "ShapeNetVox32", "03001627", chair, "model.binvox")
    voxels = read_binvox(path)
    assert voxels.dims == (32, 32, 32) and voxels.occupancy.shape == (32, 32, 32)
    assert 1000 < voxels.occupancy.sum() < 5000
    # y is up in ShapeNet: a chair is taller (y) than it is deep, and the voxels span the whole grid along y.
    extent = np.ptp(np.argwhere(voxels.occupancy), axis=0)
    assert extent[1] == 31 and extent[1] > extent[2]
    copy = write_binvox(tmp_path / "copy.binvox", voxels.occupancy, voxels.translate, voxels.scale)
    assert copy.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("model", ONET_MODELS)
@pytest.mark.parametrize("kind", ["solid", "surface"])
def test_onet_128_voxels_read_and_rewrite_byte_for_byte(tmp_path: Path, model: str, kind: str) -> None:
    path = realdata("onet", "ShapeNetCore.v2", *model.split("/"), "models", f"model_normalized.{kind}.binvox")
    voxels = read_binvox(path)
    assert voxels.occupancy.shape == (128, 128, 128) and voxels.occupancy.any()
    copy = write_binvox(tmp_path / "copy.binvox", voxels.occupancy, voxels.translate, voxels.scale)
    assert copy.read_bytes() == path.read_bytes()


def test_header_frame_puts_voxels_on_their_mesh_and_pins_the_axis_swap() -> None:
    """trimesh's chair_model.binvox is the voxelisation of chair_model.obj (a header with comments, too)."""
    trimesh = pytest.importorskip("trimesh")
    from scipy.spatial import cKDTree

    voxels = read_binvox(realdata("meshes", "chair_model.binvox"))
    mesh = trimesh.load(realdata("meshes", "chair_model.obj"), force="mesh")
    surface, _ = trimesh.sample.sample_surface(mesh, 50_000, seed=0)
    voxel_side = voxels.scale / voxels.resolution
    distance, _ = cKDTree(surface).query(voxels.centres())
    assert np.median(distance) < voxel_side / 2 and distance.max() < voxel_side
    # Without the [x][z][y] -> [x][y][z] swap the voxels would float far from the mesh.
    swapped = Voxels(voxels.occupancy.swapaxes(1, 2), voxels.translate, voxels.scale)
    distance, _ = cKDTree(surface).query(swapped.centres())
    assert np.median(distance) > 3 * voxel_side


def test_trimesh_reads_what_we_write(tmp_path: Path) -> None:
    trimesh = pytest.importorskip("trimesh")
    occupancy = ball(32, (12.0, 18.0, 15.0), 9.0)
    occupancy[3, 5, 28] = True  # an asymmetric voxel, so any axis mix-up shows
    translate, scale = np.array([-0.4, -0.3, -0.2]), 0.8
    path = write_binvox(tmp_path / "ball.binvox", occupancy, translate, scale)
    with path.open("rb") as stream:
        grid = trimesh.exchange.binvox.load_binvox(stream)
    # trimesh decodes binvox's [x][z][y] into [x][y][z] too ...
    np.testing.assert_array_equal(grid.matrix, occupancy)
    # ... but places voxel i at translate + i * scale / (D - 1) (first and last centres on the cube's faces),
    # where binvox (and Voxels.centres) use translate + (i + 0.5) * scale / D.
    np.testing.assert_allclose(grid.translation, translate)
    np.testing.assert_allclose(grid.scale, scale / 31)


def test_r2n2_frame_is_the_cube_bounding_box_centred_with_diagonal_1() -> None:
    occupancy = np.zeros((32, 32, 32), bool)
    occupancy[4:10, 2:30, 8:12] = True
    centres, side = r2n2_frame(Voxels(occupancy))
    low, high = centres.min(axis=0) - side / 2, centres.max(axis=0) + side / 2
    np.testing.assert_allclose((low + high) / 2, 0.0, atol=1e-12)
    assert np.linalg.norm(high - low) == pytest.approx(1.0)
    assert side == pytest.approx(1.0 / np.linalg.norm([6, 28, 4]))
    with pytest.raises(DatasetError, match="empty"):
        r2n2_frame(Voxels(np.zeros((4, 4, 4), bool)))


def good_file(size: int = 4) -> bytes:
    occupancy = np.zeros((size, size, size), bool)
    occupancy[1, 2, 3] = True
    return binvox_bytes(occupancy, (0.0, 0.0, 0.0), 1.0)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-1], "truncated binvox data"),
        (lambda data: data[:-2], "truncated binvox data"),
        (lambda data: data + b"\x01\x05", "corrupt binvox data"),
        (lambda data: data.split(b"data\n")[0], "no 'data' line"),
        (lambda data: b"PK\x03\x04" + data, "not a binvox file"),
        (lambda data: data.replace(b"dim 4 4 4", b"dim 4 4"), "'dim' must be three"),
        (lambda data: data.replace(b"dim 4 4 4\n", b""), "no 'dim' line"),
        (lambda data: data.replace(b"scale 1.0", b"scale one"), "malformed"),
        (lambda data: data[:-4] + b"\x07\x01" + data[-2:], "voxel value 7"),
        (lambda data: data.replace(b"translate", b"\xff\xfe"), "non-text"),
    ],
)
def test_damaged_files_are_dataset_errors_naming_the_file(tmp_path: Path, damage: object, message: str) -> None:
    path = tmp_path / "broken.binvox"
    path.write_bytes(damage(good_file()))  # type: ignore[operator]
    with pytest.raises(DatasetError, match=message) as caught:
        read_binvox(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, DlsrError)


def test_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_binvox(tmp_path / "missing.binvox")
    with pytest.raises(DatasetError, match="cannot read"):
        read_binvox(tmp_path)  # a folder


def test_header_tolerates_comments_blank_lines_and_default_translate_scale() -> None:
    data = b"#binvox 1\n# made by hand\n\ndim 2 2 2  \t\ndata\n\x00\x07\x01\x01"
    voxels = read_binvox(data)
    assert voxels.occupancy.sum() == 1 and voxels.occupancy[1, 1, 1]
    np.testing.assert_array_equal(voxels.translate, 0.0)
    assert voxels.scale == 1.0


def test_write_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cubic"):
        write_binvox(tmp_path / "a.binvox", np.zeros((4, 4, 5), bool))
    with pytest.raises(ValueError, match="scale"):
        write_binvox(tmp_path / "a.binvox", np.zeros((4, 4, 4), bool), scale=0.0)
    with pytest.raises(ValueError, match="translate"):
        write_binvox(tmp_path / "a.binvox", np.zeros((4, 4, 4), bool), translate=(0.0, 1.0))
    assert not (tmp_path / "a.binvox").exists()
