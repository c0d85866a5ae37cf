"""Old import path of `dlsr.eval.layouts` and `dlsr.eval.truth`; kept for now, goes away in a later release."""

from dlsr.conventions import IOU_PADDING, LAYOUTS
from dlsr.eval.layouts import (
    FOLDER_MESH_EXTENSIONS,
    IMAGE_EXTENSIONS,
    R2N2_TRAIN_FRACTION,
    Sample,
    TruthSource,
    category_names,
    detect_layout,
    read_samples,
)
from dlsr.eval.truth import (
    ALIGNMENTS,
    Truth,
    VoxelTruth,
    inside_mesh,
    load_truth,
    object_seed,
    v2_mesh_on_cloud,
    voxel_surface,
)

__all__ = [
    "ALIGNMENTS",
    "FOLDER_MESH_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "IOU_PADDING",
    "LAYOUTS",
    "R2N2_TRAIN_FRACTION",
    "Sample",
    "Truth",
    "TruthSource",
    "VoxelTruth",
    "category_names",
    "detect_layout",
    "inside_mesh",
    "load_truth",
    "object_seed",
    "read_samples",
    "v2_mesh_on_cloud",
    "voxel_surface",
]
