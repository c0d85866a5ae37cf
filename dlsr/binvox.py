"""binvox voxel files (3D-R2N2's ShapeNetVox32, ONet's ShapeNetCore.v2 `.binvox`): reading, writing, and frames.

The format (https://www.patrickmin.com/binvox/binvox.html): an ASCII header (`#binvox 1`, `dim D D D`,
`translate tx ty tz`, `scale s`, `data`) followed by run-length pairs of bytes `(value, count)`, count 1..255.
The stored order runs y fastest, then z, then x: reshaped to (D, D, D) the array is indexed [x][z][y]. This module
swaps the last two axes on read and back on write, so `Voxels.occupancy` is always indexed [x][y][z] (the world's
x, y, z; y is up for ShapeNet), the same order as `dlsr.sdf` grids.

The header's translate/scale place voxel (i, j, k) of the [x][y][z] array at the model-space point
`translate + scale * ((i, j, k) + 0.5) / D` (`Voxels.centres`). For R2N2's voxels that is NOT the frame of the
renderings; `r2n2_frame` gives the one that is.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlsr.errors import DatasetError
from dlsr.files import atomic_write

_MAGIC = b"#binvox"
_MAX_RUN = 255  # one byte per count; binvox itself splits longer runs at 255
_MAX_HEADER_LINES = 64  # a header is a handful of lines; stop early on a file that is not binvox at all


@dataclass(frozen=True, eq=False)
class Voxels:
    """An occupancy grid read from (or to be written to) a binvox file."""

    occupancy: np.ndarray  # bool (D, D, D), indexed [x][y][z]
    translate: np.ndarray = field(default_factory=lambda: np.zeros(3))  # float64 (3,): model-space grid corner
    scale: float = 1.0  # side of the whole grid cube, model units
    dims: tuple[int, int, int] = (0, 0, 0)  # the header's `dim` line as stored; filled in from occupancy if zero

    def __post_init__(self) -> None:
        occupancy = np.asarray(self.occupancy)
        if occupancy.ndim != 3:
            raise ValueError(f"occupancy must be a 3-D array, got shape {occupancy.shape}")
        object.__setattr__(self, "occupancy", occupancy.astype(bool, copy=False))
        object.__setattr__(self, "translate", np.asarray(self.translate, dtype=np.float64).reshape(3))
        object.__setattr__(self, "scale", float(self.scale))
        if self.dims == (0, 0, 0):
            x, y, z = occupancy.shape
            object.__setattr__(self, "dims", (x, z, y))

    @property
    def resolution(self) -> int:
        """Voxels along x (the grids dlsr reads and writes are cubic)."""
        return int(self.occupancy.shape[0])

    def centres(self) -> np.ndarray:
        """Model-space centres float64 (N, 3) of the occupied voxels, per the header's translate and scale."""
        index = np.argwhere(self.occupancy).astype(np.float64)
        return self.translate + self.scale * (index + 0.5) / np.array(self.occupancy.shape, dtype=np.float64)


def read_binvox(source: str | os.PathLike[str] | bytes) -> Voxels:
    """Read a binvox file.

    Args:
        source: a path, or the file's bytes.

    Returns:
        The voxels, `occupancy` indexed [x][y][z] (already swapped from the stored [x][z][y]).

    Raises:
        DatasetError: missing or unreadable file, not binvox, a malformed header, or run-length data that is
            truncated, corrupt or does not cover exactly D*D*D voxels; the message names the file.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        name, data = "<bytes>", bytes(source)
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"{name}: binvox file not found") from None
        except OSError as exc:
            raise DatasetError(f"{name}: cannot read binvox file: {exc.strerror or exc}") from None
    dims, translate, scale, offset = _parse_header(data, name)
    occupancy = _decode_runs(np.frombuffer(data, dtype=np.uint8, offset=offset), dims, name)
    # Stored order is [x][z][y]; dlsr's is [x][y][z].
    return Voxels(occupancy=occupancy.swapaxes(1, 2), translate=translate, scale=scale, dims=dims)


def write_binvox(
    path: str | os.PathLike[str],
    occupancy: np.ndarray,
    translate: np.ndarray | tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> Path:
    """Write occupancy as a binvox file, in the stored order and run splitting of binvox and 3D-R2N2's files.

    Args:
        path: destination (written atomically).
        occupancy: bool-like (D, D, D) indexed [x][y][z].
        translate: float (3,) model-space corner of the grid cube.
        scale: side of the grid cube, model units (> 0).

    Returns:
        The path written.

    Raises:
        OutputError: the file cannot be written.
    """
    return atomic_write(path, binvox_bytes(occupancy, translate, scale))


def binvox_bytes(
    occupancy: np.ndarray,
    translate: np.ndarray | tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> bytes:
    """The bytes of a binvox file for `occupancy` [x][y][z] (see `write_binvox`)."""
    grid = np.asarray(occupancy)
    if grid.ndim != 3 or len(set(grid.shape)) != 1 or grid.shape[0] < 1:
        raise ValueError(f"occupancy must be a cubic (D, D, D) array, got shape {grid.shape}")
    offset = np.asarray(translate, dtype=np.float64).reshape(-1)
    if offset.shape != (3,) or not np.isfinite(offset).all():
        raise ValueError(f"translate must be 3 finite numbers, got {translate!r}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    size = grid.shape[0]
    # repr() prints the shortest text that reads back to the same float, and R2N2's 6-digit values unchanged.
    header = (
        f"#binvox 1\ndim {size} {size} {size}\n"
        f"translate {' '.join(repr(float(value)) for value in offset)}\nscale {float(scale)!r}\ndata\n"
    )
    stored = np.ascontiguousarray(grid.astype(bool).swapaxes(1, 2)).ravel()
    return header.encode("ascii") + _encode_runs(stored)


def r2n2_frame(voxels: Voxels) -> tuple[np.ndarray, float]:
    """Occupied voxel centres in the frame of 3D-R2N2's renderings, and the voxel side in that frame.

    R2N2's binvox headers do not place the voxels where the renderings show them (silhouette IoU 0.25-0.89).
    ShapeNet v1's normalisation does: the rendered mesh has its bounding box centred at the origin with a diagonal
    of 1, and binvox fits that mesh into the grid, so the bounding box of the occupied voxel *cubes* (not of their
    centres, which is one voxel smaller) is the mesh's. Fitting a free scale to the silhouettes of the real R2N2
    chairs confirms it: best factor 1.00 with this normalisation, 0.97 with the centres' box.

    Args:
        voxels: R2N2 ground truth (`ShapeNetVox32/<synset>/<id>/model.binvox`).

    Returns:
        centres float64 (N, 3) of the occupied voxels in the rendering frame (x, y, z; y up), and the side of one
        voxel in that frame.

    Raises:
        DatasetError: the grid has no occupied voxel.
    """
    index = np.argwhere(voxels.occupancy).astype(np.float64)
    if len(index) == 0:
        raise DatasetError("cannot place an empty voxel grid in R2N2's frame: no occupied voxel")
    low, high = index.min(axis=0), index.max(axis=0) + 1.0  # the box of the cubes [i, i + 1)
    diagonal = float(np.linalg.norm(high - low))
    return (index + 0.5 - (low + high) / 2.0) / diagonal, 1.0 / diagonal


def _parse_header(data: bytes, name: str) -> tuple[tuple[int, int, int], np.ndarray, float, int]:
    if not data.startswith(_MAGIC):
        raise DatasetError(f"{name}: not a binvox file (it does not start with '#binvox')")
    offset = data.index(b"\n") + 1 if b"\n" in data else len(data)
    fields: dict[str, list[str]] = {}
    for _ in range(_MAX_HEADER_LINES):
        end = data.find(b"\n", offset)
        if end < 0:
            break
        raw = data[offset:end]
        offset = end + 1
        try:
            line = raw.decode("ascii").split("#", 1)[0].split()
        except UnicodeDecodeError:
            raise DatasetError(f"{name}: corrupt binvox header (non-text bytes before the 'data' line)") from None
        if not line:
            continue
        if line[0].lower() == "data":
            return (*_header_values(fields, name), offset)
        fields[line[0].lower()] = line[1:]
    raise DatasetError(f"{name}: truncated or corrupt binvox header (no 'data' line)")


def _header_values(fields: dict[str, list[str]], name: str) -> tuple[tuple[int, int, int], np.ndarray, float]:
    if "dim" not in fields:
        raise DatasetError(f"{name}: binvox header has no 'dim' line")
    try:
        dims = tuple(int(value) for value in fields["dim"])
        translate = np.array([float(value) for value in fields.get("translate", ["0", "0", "0"])])
        scale = float(fields.get("scale", ["1"])[0])
    except (ValueError, IndexError):
        raise DatasetError(f"{name}: binvox header has a malformed dim/translate/scale line: {fields}") from None
    if len(dims) != 3 or min(dims) < 1:
        raise DatasetError(f"{name}: binvox 'dim' must be three positive integers, got {fields['dim']}")
    if translate.shape != (3,):
        raise DatasetError(f"{name}: binvox 'translate' must be three numbers, got {fields['translate']}")
    return (dims[0], dims[1], dims[2]), translate, scale


def _decode_runs(runs: np.ndarray, dims: tuple[int, int, int], name: str) -> np.ndarray:
    expected = dims[0] * dims[1] * dims[2]
    if len(runs) % 2:
        raise DatasetError(f"{name}: truncated binvox data (odd number of run-length bytes)")
    values, counts = runs[0::2], runs[1::2].astype(np.int64)
    covered = int(counts.sum())
    if covered != expected:
        state = "truncated" if covered < expected else "corrupt"
        raise DatasetError(
            f"{name}: {state} binvox data: the runs cover {covered} voxels, the header's dim {dims} needs {expected}"
        )
    if values.size and values.max() > 1:
        raise DatasetError(f"{name}: corrupt binvox data: voxel value {int(values.max())}, expected 0 or 1")
    return np.repeat(values.astype(bool), counts).reshape(dims)


def _encode_runs(flat: np.ndarray) -> bytes:
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [flat.size]]))
    values = flat[starts].astype(np.uint8)
    # Split each run into pieces of at most 255: full pieces first, then the remainder (as binvox does).
    pieces = (lengths + _MAX_RUN - 1) // _MAX_RUN
    piece_values = np.repeat(values, pieces)
    piece_counts = np.full(int(pieces.sum()), _MAX_RUN, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    piece_counts[last] = lengths - (pieces - 1) * _MAX_RUN
    return np.stack([piece_values, piece_counts.astype(np.uint8)], axis=1).tobytes()
