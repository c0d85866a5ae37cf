"""Dataset splits as training arrays: reading splits, the prepared-image cache and its errors (`dlsr.train.arrays`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import TINY_CATEGORIES
from dlsr.errors import DatasetError
from dlsr.sdf import Grid
from dlsr.train.arrays import evenly_spaced, load_split_arrays, read_split

CATEGORIES = TINY_CATEGORIES


def test_reading_dataset_splits_imports_no_torch() -> None:
    """Evaluation reads splits through this module; the training package around it must not pull in torch."""
    code = "import sys, dlsr.train.arrays; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_evenly_spaced_views() -> None:
    assert evenly_spaced(24, 4).tolist() == [0, 6, 12, 18]
    assert evenly_spaced(3, 5).tolist() == [0, 1, 2]
    assert evenly_spaced(5, 2).tolist() == [0, 2]


def test_dataset_reader_errors_and_cache_reuse(tiny_dataset: Path, tmp_path: Path) -> None:
    records = read_split(tiny_dataset, "train")
    assert len(records) == 6 and {r.category for r in records} == set(CATEGORIES)
    with pytest.raises(DatasetError, match="no train split for categories 99999999"):
        read_split(tiny_dataset, "train", ["99999999"])
    with pytest.raises(DatasetError, match="unknown split"):
        read_split(tiny_dataset, "training")
    from dlsr.image import PreprocessConfig

    cache = tmp_path / "cache"
    arrays = load_split_arrays(
        tiny_dataset, "val", grid=Grid(8), preprocess=PreprocessConfig(image_size=32), cache_dir=cache
    )
    assert arrays.images.shape == (2, 3, 32, 32, 4) and arrays.sdf.shape == (2, 8, 8, 8)  # resampled 16 -> 8
    files = list(cache.iterdir())
    stamp = files[0].stat().st_mtime_ns
    again = load_split_arrays(
        tiny_dataset, "val", grid=Grid(8), preprocess=PreprocessConfig(image_size=32), cache_dir=cache
    )
    assert list(cache.iterdir()) == files and files[0].stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.images, arrays.images)
    # The cache holds exactly what inference prepares.
    from dlsr.image import load_image

    prepared = load_image(arrays.records[0].rendering(1), PreprocessConfig(image_size=32))
    np.testing.assert_array_equal(arrays.images[0, 1, ..., :3], prepared.pixels)

    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset, broken, ignore=shutil.ignore_patterns(".dlsr-cache"))
    target = broken / arrays.records[0].key / "sdf.npz"
    target.write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"sdf\.npz: unreadable"):
        load_split_arrays(broken, "val", grid=Grid(8), preprocess=PreprocessConfig(image_size=32), cache_dir=cache)


def test_a_full_disk_while_caching_is_a_one_line_error(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from dlsr.image import PreprocessConfig

    def no_space(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "open_memmap", no_space)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match=r"No space left on device.*free disk space"):
        load_split_arrays(tiny_dataset, "val", grid=Grid(8), preprocess=PreprocessConfig(32), cache_dir=cache)
    assert [p.name for p in cache.iterdir()] == []  # no temporary file left behind


def test_pooling_needs_as_many_views_per_object(tiny_dataset: Path, tmp_path: Path) -> None:
    """`concatenate_splits` pools parts with equal view counts (renumbering differing indices as slots) and refuses
    parts with different counts in one line naming both folders (`dlsr train` picks equal counts first)."""
    from dlsr.image import PreprocessConfig
    from dlsr.train.arrays import concatenate_splits

    def load(views: list[int]) -> Any:
        return load_split_arrays(
            tiny_dataset, "val", grid=Grid(8), preprocess=PreprocessConfig(image_size=32), views=views,
            cache_dir=tmp_path / "cache",
        )  # fmt: skip

    pooled = concatenate_splits([load([1, 2]), load([0, 1])])  # different indices: slots 0, 1
    assert pooled.views == (0, 1) and len(pooled.records) == 4 and pooled.sdf.shape[0] == 4
    assert concatenate_splits([load([1, 2]), load([1, 2])]).views == (1, 2)  # same indices: kept
    with pytest.raises(DatasetError, match=r"same number of views \(.*: 2, .*: 1\); remake one"):
        concatenate_splits([load([0, 1]), load([2])])
