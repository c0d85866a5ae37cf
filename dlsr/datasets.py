"""Old import path of `dlsr.train.arrays` (dataset splits as training arrays): kept for now, goes away later."""

from dlsr.train.arrays import (
    CACHE_DIR,
    CACHE_VERSION,
    ObjectRecord,
    PooledImages,
    SplitArrays,
    concatenate_splits,
    load_split_arrays,
    prepare_views,
    read_dataset_settings,
    read_sdf_grid,
    read_split,
    read_surface_points,
)

__all__ = [
    "CACHE_DIR",
    "CACHE_VERSION",
    "ObjectRecord",
    "PooledImages",
    "SplitArrays",
    "concatenate_splits",
    "load_split_arrays",
    "prepare_views",
    "read_dataset_settings",
    "read_sdf_grid",
    "read_split",
    "read_surface_points",
]
