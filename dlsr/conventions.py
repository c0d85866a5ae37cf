"""Names and defaults shared across dlsr: categories, mesh formats, layouts, protocols, devices, splits, files.

The one owner of each: every other module (and the CLI, which imports this at start-up) reads them from here. The
standard library only, so that importing it costs nothing and pulls in no numpy, torch or numba.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from dlsr.errors import ConfigError

CATEGORIES: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "loudspeaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}
"""ShapeNet synset id -> category name, for the 13 categories single-view reconstruction is benchmarked on."""

MESH_FORMATS = ("obj", "ply", "off", "stl", "glb")
"""Mesh formats dlsr writes (and reads as predictions and ground truth), by file suffix."""
MESH_EXTENSIONS = tuple(f".{name}" for name in MESH_FORMATS)

LAYOUTS = ("synth", "r2n2", "onet", "pix3d", "folder")
"""Dataset layouts evaluation reads (`dlsr.eval.layouts`), in detection order."""

PROTOCOLS = ("onet", "r2n2")
"""IoU protocols: ONet's uniform points in the padded box, or 3D-R2N2's 32^3 voxels."""
AUTO_PROTOCOL = "auto"
"""Pick the protocol from the layout (`dlsr.eval.plan.protocol_for`)."""

DEVICES = ("auto", "cpu", "cuda", "mps")
"""Torch devices for inference; "auto" is CUDA when available, else the CPU."""
TRAIN_DEVICES = ("auto", "cpu", "cuda")
"""Torch devices for training and scoring (no MPS: not tested there)."""

SPLITS = ("train", "val", "test")
"""A dataset's splits, each a `<synset>/<split>.lst` of model ids."""
ALL_SPLITS = "all"
"""Evaluation's name for every split at once (and for layouts without split lists)."""

SETTINGS_FILE = "dataset.json"
"""A dataset folder's settings (`dlsr.synth`); a rerun with other settings is refused."""
METADATA_FILE = "metadata.json"
"""A dataset folder's categories, counts and splits, written by its index step."""

DEFAULT_POINTS = 100_000
"""Occupancy Networks' sample count: surface points per mesh, and uniform IoU points, in data and evaluation."""
IOU_PADDING = 0.1
"""IoU points are uniform in the cube of side 1 + IOU_PADDING around the normalised object (ONet's box)."""

DEFAULT_MESH_RESOLUTION = 64
"""Marching-cubes resolution. On a 32^3 torus SDF (`python bench/bench_reconstruct.py --sweep`), 64^3 gets the
volume within 0.4 % in 16 ms (32^3: 1.8 % in 3 ms); 128^3 gains 0.3 % for 75 ms, too slow for 50 ms per image."""

BackgroundMode = Literal["auto", "none", "plain", "grabcut", "learned", "rembg"]
BACKGROUND_MODES: tuple[BackgroundMode, ...] = ("auto", "none", "plain", "grabcut", "learned", "rembg")
"""How `dlsr.image` finds the object in an input image (`--background`)."""

DEFAULT_KEEP_PARTS = 0.0
"""Mesh parts kept by default: those with at least this share of the largest part's volume (0: all), as measured by
`bench/bench_postprocess.py`."""
DEFAULT_SMOOTH = 0
"""Taubin smoothing passes by default (`bench/bench_postprocess.py`)."""

R2N2_VIEWS = 24
"""Views per object in 3D-R2N2's ShapeNetRendering (and in `dlsr data synth` by default)."""
R2N2_IMAGE_SIZE = 137
"""Side of 3D-R2N2's square renderings, pixels."""


def either(names: Sequence[str]) -> str:
    """The names for a message or a help text: "a", "a or b", "a, b or c"."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def category_id(category: str) -> str:
    """The synset id of `category`, given as a synset id or a name ("chair").

    Raises:
        ConfigError: for anything else; the message lists the 13 ids and names.
    """
    if category in CATEGORIES:
        return category
    by_name = {name: synset for synset, name in CATEGORIES.items()}
    if category in by_name:
        return by_name[category]
    choices = ", ".join(f"{synset} ({name})" for synset, name in CATEGORIES.items())
    raise ConfigError(f"unknown category {category!r}; use one of {choices}")


def split_list(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """The items of a comma-separated option, in order, stripped, empty ones dropped.

    A list of values (a repeated option) is split item by item, so `--categories a,b` and
    `--categories a --categories b` give the same ("a", "b"). None gives ().
    """
    if values is None:
        return ()
    if isinstance(values, str):
        values = (values,)
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def parse_categories(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """Synset ids of the procedural categories named by ids or names, in CATEGORIES' order, each once.

    Raises:
        ConfigError: for a name or id that is not one of the 13.
    """
    wanted = {category_id(value) for value in split_list(values)}
    return tuple(synset for synset in CATEGORIES if synset in wanted)


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n: the i-th of n shards of a long job.

    Raises:
        ConfigError: for anything else.
    """
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as exc:
        raise ConfigError(f"--shard {text!r}: expected i/n, e.g. 0/4") from exc
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {text!r}: need 0 <= i < n")
    return index, count
