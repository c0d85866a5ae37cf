"""Meshes coming in (`dlsr.mesh` makes and writes them): loading any common mesh file as one triangle mesh,
finding meshes in a dataset folder, and bringing ShapeNetCore v2 meshes into the ShapeNet v1 frame that all of
dlsr's data shares.

`load_mesh` is forgiving about geometry (polygon soups, open and multi-part meshes are kept as they are) and
strict about files: anything that is not a readable triangle mesh becomes a `MeshError` naming the file.
"""

from __future__ import annotations

import errno
import itertools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from dlsr.conventions import MESH_EXTENSIONS as WRITTEN_EXTENSIONS
from dlsr.conventions import SPLITS
from dlsr.errors import ConfigError, MeshError

if TYPE_CHECKING:
    import trimesh


logger = logging.getLogger(__name__)

MESH_EXTENSIONS = (*WRITTEN_EXTENSIONS, ".gltf")
"""File extensions `load_mesh` reads and `find_meshes` collects (matched case-insensitively)."""

Layout = Literal["shapenet-v1", "shapenet-v2", "pix3d", "folder"]

SHAPENET_V2_TO_V1 = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
"""Rotation taking ShapeNetCore v2 coordinates to v1's: v2 = R v1 with R = [[0,0,1],[0,1,0],[-1,0,0]] (a quarter
turn about y, measured on ONet's data; see shared/realdata/README.md), so v1 = R^T v2. The small bounding-box
offset between the two versions disappears in `dlsr.groundtruth.normalise`."""

PIX3D_SPLIT_FILE = "split.tsv"
"""A Pix3D shapes folder is recognised by this file at its root: a header `category  model  split`, then one model
per line (tab-separated), its mesh at `<category>/<model>.<ext>` or Pix3D's own `model/<category>/<model>/model.obj`."""

PIX3D_SYNSETS: dict[str, str] = {
    "bed": "02818832",
    "bookcase": "02871439",
    "chair": "03001627",
    "desk": "04379243",
    "sofa": "04256520",
    "table": "04379243",
    "wardrobe": "02933112",
}
"""Pix3D categories -> the ShapeNet synset they belong to (desks are ShapeNet tables, wardrobes its cabinets).
Pix3D's `misc` and `tool` have no ShapeNet counterpart and are left out."""

PIX3D_TO_V1 = SHAPENET_V2_TO_V1
"""Pix3D models share ShapeNetCore v2's axes (y up, front towards -z, backrests towards +z): measured on all 214
chairs, the top fifth of the vertices sits +0.2 along z and 0 along x from the box centre, where ShapeNet v1 chairs
(3D-R2N2's voxels) have it along -x. So the same quarter turn about y brings them into the v1 frame."""

OUTLIER_FACTOR = 1000.0
"""`load_mesh` refuses vertices this many times farther from the median vertex than nine in ten vertices are."""

MAX_COORDINATE = 1e100
"""`load_mesh` refuses coordinates larger than this: squares and cross products of them would overflow float64."""

MERGE_SIZES = (2.0**-10, 2.0**20)
"""Meshes whose largest side lies in this range are merged in their own units; others at a power-of-two scale."""

_V1_MESH = "model.obj"
_V2_MESH = Path("models") / "model_normalized.obj"


@dataclass(frozen=True)
class MeshEntry:
    """One mesh found by `find_meshes`."""

    category: str  # ShapeNet synset id, or the folder the file is in relative to the root ("all" at the top)
    model_id: str  # ShapeNet model id, or the file name without its extension
    path: Path  # the mesh file
    split: str = ""  # the dataset's own split ("train", "val", "test"), where it has one (Pix3D); else ""


def load_mesh(path: str | os.PathLike[str]) -> trimesh.Trimesh:
    """Read a mesh file as one triangle mesh.

    Scenes (multi-part OBJ, GLB/glTF node trees) are flattened with their transforms applied and concatenated.
    Materials and textures are not loaded. Vertices that differ only in texture coordinates or normals are
    merged (so a closed OBJ with UV seams is watertight); faces are otherwise kept as they are, soups included,
    except faces with a non-finite vertex, a repeated vertex or zero area, which are dropped.

    Args:
        path: a file with one of MESH_EXTENSIONS.

    Returns:
        The mesh, in the file's own coordinates.

    Raises:
        MeshError: missing file, unsupported extension, unreadable or corrupt file, a point cloud or other
            geometry without faces, or no usable face. The message names the file.
    """
    import trimesh

    file = Path(path)
    if not file.is_file():
        raise MeshError(_not_a_file(file))
    extension = file.suffix.lower()
    if extension not in MESH_EXTENSIONS:
        raise MeshError(f"{file}: unsupported mesh format {extension or '(none)'!r}; use {', '.join(MESH_EXTENSIONS)}")
    try:
        scene = trimesh.load_scene(file, file_type=extension[1:], skip_materials=True, process=False)
        parts = [geometry for geometry in scene.dump() if isinstance(geometry, trimesh.Trimesh)]
    except Exception as exc:  # every parser fails differently; all of them mean "not a readable mesh file"
        kind = extension[1:].upper()
        raise MeshError(f"{file}: cannot read as {kind}; the file is corrupt or not {kind} ({_reason(exc)})") from exc
    parts = [part for part in parts if len(part.faces) > 0]
    if not parts:
        raise MeshError(f"{file}: {_describe_faceless(scene)}; dlsr needs a triangle mesh")
    vertices = np.concatenate([np.asarray(part.vertices, dtype=np.float64) for part in parts])
    offsets = np.cumsum([0] + [len(part.vertices) for part in parts[:-1]])
    faces = np.concatenate(
        [np.asarray(part.faces, dtype=np.int64) + offset for part, offset in zip(parts, offsets, strict=True)]
    )
    faces = _usable_faces(vertices, faces)
    if len(faces) == 0:
        raise MeshError(f"{file}: every face is degenerate (zero area or non-finite vertices); nothing to use")
    # Keep only referenced vertices first: a stray NaN or far-away vertex would poison the checks and merge below.
    used, compact = np.unique(faces, return_inverse=True)
    points = vertices[used]
    _refuse_outliers(file, points)
    # trimesh merges vertices within 1e-8 in the file's units (coordinates rounded to 8 decimals, cast to int64):
    # in units a billion times too large the cast overflows and every vertex merges into one, in units too small
    # everything rounds to 0. Such a mesh is merged at a power-of-two scale (exact) and scaled back.
    size = float(np.ptp(points, axis=0).max())
    exponent = 0 if MERGE_SIZES[0] <= size <= MERGE_SIZES[1] else round(math.log2(size))
    mesh = trimesh.Trimesh(np.ldexp(points, -exponent), compact.reshape(-1, 3), process=False)
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    if exponent:
        mesh.vertices = np.ldexp(np.asarray(mesh.vertices), exponent)
    return mesh


def find_meshes(root: str | os.PathLike[str]) -> tuple[list[MeshEntry], Layout]:
    """Find the meshes in a dataset folder and tell its layout.

    Layouts, tried in this order:
        "shapenet-v2": `<synset>/<model_id>/models/model_normalized.obj` (ShapeNetCore v2);
        "shapenet-v1": `<synset>/<model_id>/model.obj` (ShapeNetCore v1, what 3D-R2N2 used);
        "folder": any mesh files below `root`; category = the file's folder relative to `root` ("all" for files
        directly in `root`), model_id = the file name without its extension.
        "pix3d": a `split.tsv` at the root (PIX3D_SPLIT_FILE); categories become ShapeNet synsets (PIX3D_SYNSETS)
        and each entry keeps its split.
    `root` may also be one synset folder of a ShapeNet tree (`<model_id>/model.obj`...): its name is then the
    category. Hidden files and folders are skipped.

    Args:
        root: the folder to search.

    Returns:
        (entries sorted by category then model_id, layout name).

    Raises:
        MeshError: `root` is not a folder, holds no mesh, or two files would get the same category/model_id.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise MeshError(f"{folder}: not a folder; give the folder that holds the meshes")
    if (folder / PIX3D_SPLIT_FILE).is_file():
        return _checked(_pix3d_entries(folder), folder), "pix3d"
    for layout, relative in (("shapenet-v2", _V2_MESH), ("shapenet-v1", Path(_V1_MESH))):
        depth = len(relative.parts)
        files = _matching(folder, f"*/*/{relative.as_posix()}")
        if files:
            entries = [MeshEntry(p.parents[depth].name, p.parents[depth - 1].name, p) for p in files]
            return _checked(entries, folder), layout  # type: ignore[return-value]
        files = _matching(folder, f"*/{relative.as_posix()}")
        if files:  # root is one synset folder of a ShapeNet tree
            entries = [MeshEntry(folder.name, p.parents[depth - 1].name, p) for p in files]
            return _checked(entries, folder), layout  # type: ignore[return-value]
    entries = []
    for path in sorted(folder.rglob("*")):
        # A broken link is kept: it then fails with its reason, listed in the report, instead of vanishing.
        is_mesh = path.is_file() or path.is_symlink()
        if path.suffix.lower() in MESH_EXTENSIONS and is_mesh and _visible(path, folder):
            parent = path.parent.relative_to(folder).as_posix()
            entries.append(MeshEntry("all" if parent == "." else parent, path.stem, path))
    if not entries:
        raise MeshError(f"{folder}: no mesh files found (looked for {', '.join(MESH_EXTENSIONS)})")
    return _checked(entries, folder), "folder"


def to_shapenet_v1_frame(mesh: trimesh.Trimesh, layout: str) -> trimesh.Trimesh:
    """Bring a mesh from its dataset's frame into ShapeNet v1's (y up), the frame of all dlsr data.

    ShapeNetCore v2 and Pix3D differ by a quarter turn about y (SHAPENET_V2_TO_V1, PIX3D_TO_V1); other layouts
    are already in the v1 frame as far as dlsr can tell, and are returned unchanged.

    Args:
        mesh: as loaded from a file of that layout; it is not modified.
        layout: "shapenet-v1", "shapenet-v2", "pix3d" or "folder" (as returned by `find_meshes`).

    Returns:
        The mesh in the v1 frame (a rotated copy for v2, the same object otherwise).

    Raises:
        ConfigError: unknown layout.
    """
    turns = {"shapenet-v1": None, "shapenet-v2": SHAPENET_V2_TO_V1, "pix3d": PIX3D_TO_V1, "folder": None}
    if layout not in turns:
        raise ConfigError(f"unknown mesh layout {layout!r}; use {', '.join(repr(name) for name in turns)}")
    turn = turns[layout]
    if turn is None:
        return mesh
    rotated = mesh.copy()
    rotated.vertices = np.asarray(mesh.vertices, dtype=np.float64) @ turn.T
    return rotated


def _pix3d_entries(root: Path) -> list[MeshEntry]:
    """The meshes a Pix3D `split.tsv` lists, in ShapeNet synsets, with their split (module constants)."""
    listing = root / PIX3D_SPLIT_FILE
    try:
        lines = [line.split("\t") for line in listing.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise MeshError(f"{listing}: unreadable ({exc}); restore the file") from None
    if not lines or [cell.strip() for cell in lines[0]] != ["category", "model", "split"]:
        raise MeshError(f"{listing}: expected a header 'category<TAB>model<TAB>split'; is this a Pix3D folder?")
    entries = []
    for number, cells in enumerate(lines[1:], start=2):
        if len(cells) != 3 or cells[2].strip() not in SPLITS:
            raise MeshError(f"{listing}: line {number} is not 'category<TAB>model<TAB>train|val|test'")
        category, model, split = (cell.strip() for cell in cells)
        if category not in PIX3D_SYNSETS:
            continue
        candidates = [root / category / f"{model}{extension}" for extension in MESH_EXTENSIONS]
        candidates.append(root / "model" / category / model / "model.obj")
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise MeshError(f"{listing}: line {number} names {category}/{model}, but no mesh file for it exists")
        entries.append(MeshEntry(PIX3D_SYNSETS[category], model, found, split))
    if not entries:
        raise MeshError(f"{listing}: lists no model of a category dlsr maps to ShapeNet ({', '.join(PIX3D_SYNSETS)})")
    return entries


def _refuse_outliers(file: Path, points: np.ndarray) -> None:
    """Refuse a mesh whose used vertices float64 (V, 3) include outliers or are too large to compute with.

    An outlier is a vertex more than OUTLIER_FACTOR times farther from the median vertex than nine in ten
    vertices are (Chebyshev distance, which cannot overflow): one stray vertex at 1e30 would otherwise make the
    normalised object a speck, rendered blank with no occupied point, and be written as if it were fine.
    """
    largest = float(np.abs(points).max())
    if not largest <= MAX_COORDINATE:
        raise MeshError(
            f"{file}: coordinates up to {largest:.3g}, beyond {MAX_COORDINATE:.0e}: too large to compute with; "
            "rescale the mesh"
        )
    distance = np.abs(points - np.median(points, axis=0)).max(axis=1)
    typical = float(np.quantile(distance, 0.9, method="lower"))
    stray = distance > OUTLIER_FACTOR * typical
    if typical > 0 and stray.any():
        count = int(stray.sum())
        raise MeshError(
            f"{file}: {count} {'vertex lies' if count == 1 else 'vertices lie'} far from the rest of the mesh (up to "
            f"{float(distance.max()):.3g} from its middle, where nine in ten vertices are within {typical:.3g}): "
            "stray points, not part of the object; remove them or fix the file"
        )


def _usable_faces(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces int64 (F', 3) that reference existing, finite, distinct vertices and have positive area."""
    faces = faces[((faces >= 0) & (faces < len(vertices))).all(axis=1)]
    faces = faces[np.isfinite(vertices).all(axis=1)[faces].all(axis=1)]
    corners = vertices[faces]
    area2 = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    return faces[area2 > 0]


def _describe_faceless(scene: object) -> str:
    geometry = list(getattr(scene, "geometry", {}).values())
    if not geometry:
        return "no geometry in the file (empty, or not a mesh file)"
    points = sum(len(getattr(g, "vertices", ())) for g in geometry)
    kinds = sorted({type(g).__name__ for g in geometry})
    if kinds == ["PointCloud"]:
        return f"a point cloud of {points} points without faces"
    return f"no triangle faces (found {', '.join(kinds)})"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ImportError):  # a parser's optional helper is missing: its name would mislead
        return "parser gave up"
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _matching(folder: Path, pattern: str) -> list[Path]:
    """The visible files `folder.glob(pattern)` finds, plus the broken symbolic links where it looks (glob
    drops those, so they would be skipped without a word; kept, they fail with a reason)."""
    head, _, name = pattern.rpartition("/")
    found = set(folder.glob(pattern))
    found.update(place / name for place in folder.glob(head) if (place / name).is_symlink())
    return sorted(path for path in found if _visible(path, folder))


def _not_a_file(file: Path) -> str:
    """Why `file` cannot be opened as a file: missing, a folder, or a symbolic link that leads nowhere."""
    if file.is_symlink():
        try:
            file.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{file}: a symbolic link loop; point the link at a mesh file or remove it"
            return f"{file}: a broken symbolic link (to {os.readlink(file)}); point it at a mesh file or remove it"
    return f"{file}: no such file" if not file.exists() else f"{file}: is not a file"


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _checked(entries: list[MeshEntry], root: Path) -> list[MeshEntry]:
    entries = sorted(entries, key=lambda e: (e.category, e.model_id, str(e.path)))
    for previous, entry in itertools.pairwise(entries):
        if (previous.category, previous.model_id) == (entry.category, entry.model_id):
            raise MeshError(
                f"{root}: {previous.path.name} and {entry.path.name} in {entry.category!r} would both be model "
                f"{entry.model_id!r}; rename or remove one"
            )
    return entries


__all__ = [
    "MAX_COORDINATE",
    "MERGE_SIZES",
    "MESH_EXTENSIONS",
    "OUTLIER_FACTOR",
    "PIX3D_SPLIT_FILE",
    "PIX3D_SYNSETS",
    "PIX3D_TO_V1",
    "SHAPENET_V2_TO_V1",
    "Layout",
    "MeshEntry",
    "find_meshes",
    "load_mesh",
    "to_shapenet_v1_frame",
]
