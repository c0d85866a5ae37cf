"""Dataset folders on disk: which objects a split holds, and their images and ground truth as training arrays.

The layout read here is the one `dlsr data synth` and `dlsr data prepare` write (ShapeNet / 3D-R2N2 /
Occupancy Networks style, see `dlsr.synth`):

    ROOT/dataset.json                       settings the data was made with (its recipe)
    ROOT/<synset>/{train,val,test}.lst      model ids of each split
    ROOT/<synset>/<id>/rendering/NN.png     RGBA views (3D-R2N2), listed in renderings.txt
    ROOT/<synset>/<id>/sdf.npz              SDF grid: sdf (R, R, R) float32, bound, resolution (dlsr.sdf conventions)
    ROOT/<synset>/<id>/pointcloud.npz       points (P, 3) on the surface, normalised frame (Occupancy Networks)

Decoding and preparing thousands of PNGs costs minutes, so `load_split_arrays` keeps the prepared views in an
uncompressed `.npy` cache beside the data (`ROOT/.dlsr-cache/`), keyed by everything that changes its bytes;
it is read memory-mapped, so several training processes share one copy in the page cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlsr.config import config_to_dict
from dlsr.conventions import SETTINGS_FILE, SPLITS
from dlsr.errors import DatasetError, DlsrError
from dlsr.image import PreprocessConfig, prepare_image_with_coverage, read_image
from dlsr.sdf import Grid, resample_sdf

CACHE_DIR = ".dlsr-cache"
CACHE_VERSION = "1"
_MIN_OBJECTS_PER_POOL = 32  # below this, starting worker processes (each imports torch) costs more than it saves
_MISSING = "missing; make the ground truth with `dlsr data synth` or `dlsr data prepare`"
_REMAKE = "delete the object's folder and rerun the data command"


@dataclass(frozen=True)
class ObjectRecord:
    """One object of a split."""

    category: str  # synset id, e.g. "03001627"
    model_id: str
    folder: Path  # ROOT/<synset>/<id>

    @property
    def key(self) -> str:
        """'synset/model_id', unique in a dataset."""
        return f"{self.category}/{self.model_id}"

    def rendering(self, view: int) -> Path:
        """Path of view `view`'s image (3D-R2N2 naming: rendering/NN.png)."""
        return self.folder / "rendering" / f"{view:02d}.png"

    def view_count(self) -> int:
        """How many views the object has (entries of rendering/renderings.txt, else PNG files)."""
        listing = self.folder / "rendering" / "renderings.txt"
        if listing.is_file():
            return sum(1 for line in listing.read_text().splitlines() if line.strip())
        return len(list((self.folder / "rendering").glob("*.png")))


def read_dataset_settings(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The dataset's `dataset.json` (its recipe), or {} for a folder that has none (data made elsewhere)."""
    path = Path(root) / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        settings = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc}); restore it or remake the dataset") from exc
    return settings if isinstance(settings, dict) else {}


def evenly_spaced(count: int, wanted: int) -> np.ndarray:
    """`wanted` view indices spread evenly over `count` views (all of them when wanted >= count), int64."""
    if wanted >= count:
        return np.arange(count)
    return np.unique(np.floor(np.arange(wanted) * count / wanted).astype(np.int64))


def read_split(root: str | os.PathLike[str], split: str, categories: Sequence[str] = ()) -> list[ObjectRecord]:
    """The objects of one split, sorted by category then id.

    Args:
        root: dataset folder.
        split: "train", "val" or "test".
        categories: synset ids to keep; empty keeps every category that has a split list.

    Raises:
        DatasetError: not a dataset folder, an unknown split or category, or a listed object missing.
    """
    base = Path(root)
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not base.is_dir():
        raise DatasetError(f"{base}: no such dataset folder; make one with `dlsr data synth {base}`")
    found = sorted(p.parent.name for p in base.glob(f"*/{split}.lst"))
    if not found:
        raise DatasetError(
            f"{base}: no <category>/{split}.lst split lists; make the dataset with `dlsr data synth`, "
            "or run `dlsr data index` on it"
        )
    wanted = list(categories) or found
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise DatasetError(f"{base}: no {split} split for categories {', '.join(unknown)}; found {', '.join(found)}")
    records = []
    for category in sorted(wanted):
        listing = base / category / f"{split}.lst"
        for model_id in listing.read_text().split():
            folder = base / category / model_id
            if not folder.is_dir():
                raise DatasetError(
                    f"{listing}: lists {model_id}, but {folder} is missing; finish the dataset with "
                    "`dlsr data synth` (same options) or rebuild the lists with `dlsr data index`"
                )
            records.append(ObjectRecord(category, model_id, folder))
    if not records:
        raise DatasetError(f"{base}: the {split} split is empty for categories {', '.join(wanted)}")
    return records


def read_sdf_grid(record: ObjectRecord, grid: Grid) -> np.ndarray:
    """The object's SDF on `grid`, float32 (R, R, R), resampled (tricubic) when the file's resolution differs.

    Raises:
        DatasetError: the file is missing or corrupt, or its grid covers another cube.
    """
    path = record.folder / "sdf.npz"
    try:
        with np.load(path) as archive:
            sdf = np.asarray(archive["sdf"], dtype=np.float32)
            bound = float(archive["bound"])
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: {_MISSING}") from exc
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc}); {_REMAKE}") from exc
    if sdf.ndim != 3 or len(set(sdf.shape)) != 1:
        raise DatasetError(f"{path}: sdf has shape {sdf.shape}, expected a cube (R, R, R)")
    if abs(bound - grid.bound) > 1e-6:
        raise DatasetError(
            f"{path}: its grid spans ±{bound}, the model's ±{grid.bound}; make the data with --sdf-bound {grid.bound}"
        )
    if sdf.shape[0] != grid.resolution:
        sdf = resample_sdf(sdf, grid.resolution).astype(np.float32)
    return sdf


def read_surface_points(record: ObjectRecord, count: int, seed: int = 0) -> np.ndarray:
    """`count` points of the object's `pointcloud.npz` (a fixed random subset), float32 (count, 3).

    Raises:
        DatasetError: the file is missing, corrupt or holds fewer points.
    """
    path = record.folder / "pointcloud.npz"
    try:
        with np.load(path) as archive:
            points = np.asarray(archive["points"], dtype=np.float32)
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: {_MISSING}") from exc
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc}); {_REMAKE}") from exc
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < count:
        raise DatasetError(f"{path}: expected at least {count} points (P, 3), found {points.shape}")
    chosen = np.random.default_rng(seed).choice(len(points), size=count, replace=False)
    return points[np.sort(chosen)]


@dataclass
class SplitArrays:
    """A split ready for training or scoring: prepared views and ground truth, indexed by object."""

    records: list[ObjectRecord]
    views: tuple[int, ...]  # which views of each object `images` holds
    images: np.ndarray | PooledImages  # uint8 (N, V, S, S, 4): RGB on the configured background + coverage (alpha)
    sdf: np.ndarray  # float32 (N, R, R, R) on the model's grid, world units, negative inside
    surface_points: np.ndarray  # float32 (N, P, 3) world points on the true surface (P may be 0)

    def __len__(self) -> int:
        return len(self.records)


class PooledImages:
    """Several image caches uint8 (N_i, V, S, S, 4) read as one (sum N_i, V, S, S, 4), without copying them.

    Indexing takes `[objects, views]` with two integer arrays of equal length, the way training gathers a batch.
    """

    def __init__(self, parts: Sequence[np.ndarray | PooledImages]) -> None:
        if not parts or len({part.shape[1:] for part in parts}) != 1:
            raise DatasetError("pooled datasets must have the same views and image size")
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(part) for part in parts])
        self.shape: tuple[int, ...] = (int(self.starts[-1]), *parts[0].shape[1:])
        self.dtype: np.dtype[Any] = parts[0].dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        objects, views = (np.asarray(index) for index in key)
        out = np.empty((len(objects), *self.shape[2:]), dtype=self.dtype)
        part_of = np.searchsorted(self.starts, objects, side="right") - 1
        for part in np.unique(part_of):
            chosen = part_of == part
            out[chosen] = self.parts[part][objects[chosen] - self.starts[part], views[chosen]]
        return out


def concatenate_splits(parts: Sequence[SplitArrays]) -> SplitArrays:
    """Pool the same split of several datasets (as many views per object, equal grid); images stay in their caches.

    The pool's `views` are the parts' view indices when they all hold the same ones, else the slots 0..V-1 (a
    24-view dataset's views 0, 4, ... 20 pooled with a 6-view one's 0..5).

    Raises:
        DatasetError: the parts hold different numbers of views.
    """
    if len(parts) == 1:
        return parts[0]
    if len({len(part.views) for part in parts}) != 1:
        found = ", ".join(f"{part.records[0].folder.parent.parent}: {len(part.views)}" for part in parts)
        raise DatasetError(f"pooled datasets must have the same number of views ({found}); remake one to match")
    same = len({part.views for part in parts}) == 1
    return SplitArrays(
        records=[record for part in parts for record in part.records],
        views=parts[0].views if same else tuple(range(len(parts[0].views))),
        images=PooledImages([part.images for part in parts]),
        sdf=np.concatenate([part.sdf for part in parts]),
        surface_points=np.concatenate([part.surface_points for part in parts]),
    )


def load_split_arrays(
    root: str | os.PathLike[str],
    split: str,
    *,
    grid: Grid,
    preprocess: PreprocessConfig,
    categories: Sequence[str] = (),
    views: Sequence[int] | None = None,
    surface_points: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SplitArrays:
    """Read a split's prepared images (cached) and ground truth into arrays.

    Args:
        root: dataset folder.
        split: "train", "val" or "test".
        grid: the model's output grid; SDFs are resampled onto it.
        preprocess: how images are prepared (the model's setting).
        categories: synset ids to keep (empty: all).
        views: view indices per object; None takes every view (all objects must have as many).
        surface_points: points per object to keep from pointcloud.npz (0: none).
        cache_dir: where the image cache lives; default ROOT/.dlsr-cache, or a temporary folder when ROOT is
            read-only.
        workers: processes that prepare images when the cache is built.
        progress: called with (objects done, total) while the cache is built.
    """
    records = read_split(root, split, categories)
    if views is None:
        count = records[0].view_count()
        if count == 0:
            raise DatasetError(f"{records[0].folder / 'rendering'}: no views; the object has no renderings")
        views = range(count)
    chosen = tuple(int(v) for v in views)
    images = _cached_images(Path(root), split, records, chosen, preprocess, cache_dir, workers, progress)
    sdf = np.stack([read_sdf_grid(record, grid) for record in records])
    points = (
        np.stack([read_surface_points(record, surface_points) for record in records])
        if surface_points
        else np.zeros((len(records), 0, 3), dtype=np.float32)
    )
    return SplitArrays(records, chosen, images, sdf, points)


def prepare_views(record: ObjectRecord, views: Sequence[int], preprocess: PreprocessConfig) -> np.ndarray:
    """One object's views prepared for the network, uint8 (V, S, S, 4): RGB on the background + coverage.

    Raises:
        DatasetError: a view is missing or not a readable image.
    """
    size = preprocess.image_size
    out = np.empty((len(views), size, size, 4), dtype=np.uint8)
    for slot, view in enumerate(views):
        path = record.rendering(view)
        try:
            prepared, coverage = prepare_image_with_coverage(read_image(path), preprocess)
        except DlsrError as exc:
            raise DatasetError(f"{exc}; rerun the data command to remake the object") from exc
        out[slot, ..., :3] = prepared.pixels
        out[slot, ..., 3] = coverage
    return out


@dataclass(frozen=True)
class _PrepareJob:
    views: tuple[int, ...]
    preprocess: PreprocessConfig

    def __call__(self, record: ObjectRecord) -> np.ndarray:
        return prepare_views(record, self.views, self.preprocess)


def _cached_images(
    root: Path,
    split: str,
    records: list[ObjectRecord],
    views: tuple[int, ...],
    preprocess: PreprocessConfig,
    cache_dir: str | os.PathLike[str] | None,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """The prepared views of `records`, from the cache or built into it; memory-mapped read-only."""
    path = _cache_path(root, split, records, views, preprocess, cache_dir)
    if path.is_file():
        try:
            cached = np.load(path, mmap_mode="r")
            if cached.shape == (len(records), len(views), preprocess.image_size, preprocess.image_size, 4):
                return cached
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    folder = path.parent
    size = preprocess.image_size
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the cache from other users of the dataset
    try:
        out = np.lib.format.open_memmap(
            temporary, mode="w+", dtype=np.uint8, shape=(len(records), len(views), size, size, 4)
        )
        from dlsr.workers import map_in_workers

        pooled = workers if len(records) >= _MIN_OBJECTS_PER_POOL else 1
        with closing(map_in_workers(_PrepareJob(views, preprocess), records, pooled, ordered=True)) as arrays:
            for index, array in enumerate(arrays):
                out[index] = array
                if progress:
                    progress(index + 1, len(records))
        out.flush()
        del out
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        needed = len(records) * len(views) * size * size * 4 / 2**30
        raise DatasetError(
            f"{folder}: cannot write the image cache ({exc.strerror or exc}; it needs {needed:.1f} GiB); "
            "free disk space there or move the dataset to a disk with room"
        ) from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return np.load(path, mmap_mode="r")


def _cache_path(
    root: Path,
    split: str,
    records: list[ObjectRecord],
    views: tuple[int, ...],
    preprocess: PreprocessConfig,
    cache_dir: str | os.PathLike[str] | None,
) -> Path:
    """Where the prepared views of `records` are cached: keyed by everything that changes their bytes, in
    `cache_dir` (default `ROOT/.dlsr-cache/`), or the system's temporary folder when that is not writable."""
    key = hashlib.sha256(
        json.dumps(
            {
                "version": CACHE_VERSION,
                "preprocess": config_to_dict(preprocess),
                "views": views,
                "objects": [r.key for r in records],
                # A remade dataset has new files: their sizes and times change the key.
                "stamp": [_stamp(r.rendering(v)) for r in records[:: max(1, len(records) // 64)] for v in views[:1]],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else root / CACHE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-")
        probe.close()
    except OSError:
        folder = Path(tempfile.gettempdir()) / "dlsr-cache"
        folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{split}-{preprocess.image_size}-{key}.npy"


def _stamp(path: Path) -> list[int]:
    try:
        info = path.stat()
    except OSError:
        return [0, 0]
    return [info.st_size, info.st_mtime_ns]
