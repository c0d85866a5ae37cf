"""Dataset layouts for evaluation: which images to score, and their ground truth in dlsr's normalised frame.

Five layouts are read, detected from the folder or named with `layout=`:

* ``synth``: dlsr's own (`dlsr data synth` / `dlsr data prepare`, see `dlsr.synth`): `<synset>/{split}.lst`,
  `<synset>/<id>/rendering/NN.png`, ground truth `model.obj`, `pointcloud.npz`, `points.npz`, `model.binvox`,
  all already in the normalised frame.
* ``r2n2``: 3D-R2N2's `ShapeNetRendering/<synset>/<id>/rendering/NN.png` with `ShapeNetVox32/<synset>/<id>/
  model.binvox`. Split: per category, model ids of `ShapeNetVox32/<synset>` sorted, the first int(0.8 n) train
  and the rest test (3D-R2N2's `dataset_portion`), or a split file.
* ``onet``: Occupancy Networks' preprocessed ShapeNet: `<synset>/<id>/img_choy2016/NNN.jpg`, `pointcloud.npz`,
  `points.npz` when present, `<synset>/{split}.lst` when present (else every model), `metadata.yaml` names.
  Without `points.npz`, a `ShapeNetCore.v2/<synset>/<id>/models/model_normalized.obj` beside the root folder
  (`ROOT/../ShapeNetCore.v2`) gives the IoU labels (below).
* ``pix3d``: `pix3d.json` entries (img, mask, model, category); the mask cuts the object out of the photo.
* ``folder``: `NAME.png` (or .jpg, .jpeg, .webp) beside `NAME.obj|ply|off|stl|glb`, in ROOT or its subfolders
  (the subfolder is the category, "all" at the top).

The ground truth of each sample (`TruthSource`) is loaded by `dlsr.eval.truth`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlsr.conventions import (
    ALL_SPLITS,
    CATEGORIES,
    LAYOUTS,
    MESH_EXTENSIONS,
    SPLITS,
    either,
)
from dlsr.errors import ConfigError, DatasetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
FOLDER_MESH_EXTENSIONS = MESH_EXTENSIONS
R2N2_TRAIN_FRACTION = 0.8


@dataclass(frozen=True)
class TruthSource:
    """Where one object's ground truth lives; hashable, so a worker process caches what it loaded by it."""

    layout: str
    category: str
    model_id: str
    mesh: Path | None = None  # a mesh file
    mesh_normalised: bool = True  # False: centre and scale the mesh's bounding box first
    pointcloud: Path | None = None  # ONet pointcloud.npz: surface points and normals, normalised frame
    points: Path | None = None  # ONet points.npz: IoU points and occupancies, normalised frame
    v2_mesh: Path | None = None  # ShapeNetCore.v2 mesh of an ONet object: its IoU labels when there is no points.npz
    voxels: Path | None = None  # binvox file
    voxel_frame: str = "header"  # "header": the binvox header places the voxels; "r2n2": see the module docstring


@dataclass(frozen=True)
class Sample:
    """One image to reconstruct and score."""

    category: str  # synset id or category name
    model_id: str
    view: str  # the view's name: "00" (synth, r2n2), "000" (onet), the image stem (pix3d, folder)
    image: Path
    truth: TruthSource
    mask: Path | None = None  # Pix3D: the object's silhouette
    index: int = -1  # position in the whole (unsharded) evaluation list

    @property
    def key(self) -> str:
        """'category/model_id/view', unique in an evaluation."""
        return f"{self.category}/{self.model_id}/{self.view}"


# ------------------------------------------------------------------------------------------ samples


def detect_layout(root: str | os.PathLike[str]) -> str:
    """Tell a dataset folder's layout from the files in it.

    Raises:
        DatasetError: not a folder, or none of the layouts matches.
    """
    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such dataset folder")
    if (base / "pix3d.json").is_file():
        return "pix3d"
    if (base / "ShapeNetRendering").is_dir() or (base / "ShapeNetVox32").is_dir():
        return "r2n2"
    if next(base.glob("*/*/img_choy2016"), None) is not None:
        return "onet"
    if next(base.glob("*/*/rendering"), None) is not None:
        return "synth"
    if _folder_pairs(base):
        return "folder"
    for child in sorted(p for p in base.iterdir() if p.is_dir()):
        if next(child.glob("*/*/img_choy2016"), None) is not None or next(child.glob("*/*/rendering"), None):
            raise DatasetError(f"{base}: the dataset seems to be in {child}; pass that folder")
    raise DatasetError(
        f"{base}: not a dataset layout dlsr knows (synth, r2n2, onet, pix3d, folder of NAME.png + NAME.obj); "
        "check the path, or name the layout with --layout"
    )


def read_samples(
    root: str | os.PathLike[str],
    *,
    layout: str | None = None,
    split: str = "test",
    categories: Sequence[str] = (),
    views: Sequence[int] | None = None,
    split_file: str | os.PathLike[str] | None = None,
) -> tuple[str, list[Sample]]:
    """The samples of a dataset split, in a fixed order (category, model id, view), indexed from 0.

    Args:
        root: the dataset folder (for r2n2 the folder holding ShapeNetRendering/ and ShapeNetVox32/; for onet the
            folder holding the synset folders, e.g. ONet's data/ShapeNet).
        layout: one of LAYOUTS, or None to detect it.
        split: "train", "val" or "test" ("all" takes every model of the layouts without split lists).
        categories: synset ids or category names to keep (empty: all).
        views: view positions to keep per object (synth, r2n2, onet), None for all; pix3d and folder samples
            have one image each and ignore it.
        split_file: r2n2 and pix3d: a text file of `category/model_id` lines (pix3d: image paths) to use as the
            split instead of the layout's rule.

    Returns:
        (layout name, samples).

    Raises:
        DatasetError: missing files, an empty selection, an unknown category.
        ConfigError: an unknown layout or split.
    """
    base = Path(root)
    chosen = layout or detect_layout(base)
    if chosen not in LAYOUTS:
        raise ConfigError(f"unknown layout {chosen!r}; choose one of {', '.join(LAYOUTS)}")
    if split not in (*SPLITS, ALL_SPLITS):
        raise ConfigError(f"unknown split {split!r}; choose {either((*SPLITS, ALL_SPLITS))}")
    if not base.is_dir():
        raise DatasetError(f"{base}: no such dataset folder")
    wanted = _category_filter(categories, base)
    readers = {"synth": _synth, "r2n2": _r2n2, "onet": _onet, "pix3d": _pix3d, "folder": _folder}
    samples = readers[chosen](base, split, wanted, views, None if split_file is None else Path(split_file))
    if not samples:
        what = f"categories {', '.join(categories)}" if categories else "any category"
        raise DatasetError(f"{base}: no {split} samples for {what} in the {chosen} layout; check --split/--categories")
    ordered = sorted(samples, key=lambda s: (s.category, s.model_id, s.view))
    return chosen, [_with_index(sample, index) for index, sample in enumerate(ordered)]


def category_names(root: str | os.PathLike[str]) -> dict[str, str]:
    """Category id -> readable name: dlsr's 13 ShapeNet synsets, plus an ONet `metadata.yaml` when present."""
    names = dict(CATEGORIES)
    metadata = Path(root) / "metadata.yaml"
    if metadata.is_file():
        names.update(_yaml_names(metadata))
    return names


def _with_index(sample: Sample, index: int) -> Sample:
    return Sample(sample.category, sample.model_id, sample.view, sample.image, sample.truth, sample.mask, index)


def _category_filter(categories: Sequence[str], root: Path) -> set[str] | None:
    """The set of category ids and names to keep, names resolved to ids too; None keeps all."""
    if not categories:
        return None
    names = category_names(root)
    by_name = {name.lower(): ident for ident, name in names.items()}
    wanted: set[str] = set()
    for item in categories:
        wanted.add(item)
        if item.lower() in by_name:
            wanted.add(by_name[item.lower()])
    return wanted


def _keep(category: str, wanted: set[str] | None) -> bool:
    return wanted is None or category in wanted


def _pick_views(count: int, views: Sequence[int] | None, where: Path) -> list[int]:
    if views is None:
        return list(range(count))
    missing = [v for v in views if not 0 <= v < count]
    if missing:
        raise DatasetError(f"{where}: has {count} views, no view {missing[0]}; choose views from 0 to {count - 1}")
    return list(views)


def _rendering_names(folder: Path) -> list[str]:
    """Image file names of a 3D-R2N2 style rendering folder: renderings.txt order, else sorted PNGs."""
    listing = folder / "renderings.txt"
    if listing.is_file():
        names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        for name in names:
            _plain_name(name, f"{listing}: entry {name!r}")
        return names
    return sorted(p.name for p in folder.glob("*.png"))


# Every path a layout or split file names must stay inside the dataset folder: a pix3d.json or a split list from
# elsewhere must not make `dlsr eval` open (and score, and show in reports) files anywhere on the machine. Folders
# are resolved (symlinks followed) and their symlinked entries too, so that a link out of the dataset is refused
# without a system call per image.


def _outside(base: Path, path: Path) -> bool:
    """Whether `path` resolves (symlinks followed) outside `base`, itself resolved."""
    return not path.resolve().is_relative_to(base)


def _refuse_outside(base: Path, path: Path, entry: str) -> Path:
    """`path` when it resolves inside `base` (resolved); else a DatasetError naming `entry`."""
    if _outside(base, path):
        raise DatasetError(
            f"{entry}: {path} resolves outside the dataset folder {base}; dlsr reads only files inside the dataset "
            "(copy the file in, or fix the entry)"
        )
    return path


def _checked_folder(base: Path, folder: Path, entry: str) -> None:
    """Refuse `folder`, or a symlink in it, that resolves outside `base` (resolved). A missing folder passes: the
    readers report it where they need it."""
    _refuse_outside(base, folder, entry)
    try:
        with os.scandir(folder) as found:
            links = [Path(item.path) for item in found if item.is_symlink()]
    except OSError:
        return
    for link in links:
        _refuse_outside(base, link, f"{entry}/{link.name}")


def _plain_name(name: str, entry: str) -> str:
    """`name` when it is one file or folder name (no separator, not . or ..), else a DatasetError naming `entry`."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise DatasetError(f"{entry}: expected a plain file or folder name, found {name!r}; fix the entry")
    return name


def _relative_path(base: Path, root: Path, value: object, entry: str) -> Path:
    """`root / value` for a relative path string `value` that stays inside the dataset (`base`: root resolved)."""
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{entry}: expected a relative path string, found {value!r}; fix the entry")
    if Path(value).is_absolute():
        raise DatasetError(f"{entry}: {value!r} is an absolute path; give it relative to the dataset folder {root}")
    return _refuse_outside(base, root / value, entry)


def _synth(
    root: Path, split: str, wanted: set[str] | None, views: Sequence[int] | None, _: Path | None
) -> list[Sample]:
    from dlsr.train.arrays import read_split

    parts = SPLITS if split == ALL_SPLITS else (split,)
    records = []
    for part in parts:
        # With "all", an empty list (a small category's val part) is no error.
        found = {p.parent.name for p in root.glob(f"*/{part}.lst") if split != "all" or p.read_text().split()}
        categories = sorted(c for c in found if _keep(c, wanted))
        if categories:
            records += read_split(root, part, categories)
        elif split != "all":
            which = f" for categories {', '.join(sorted(wanted))}" if wanted else ""
            raise DatasetError(f"{root}: no {split} split{which}; make it with `dlsr data synth` or `dlsr data index`")
    samples = []
    base = root.resolve()
    for record in records:
        folder = record.folder
        entry = f"{root / record.category}/*.lst: entry {record.model_id!r}"
        _plain_name(record.model_id, entry)
        _checked_folder(base, folder, entry)
        _checked_folder(base, folder / "rendering", entry)
        truth = TruthSource(
            "synth",
            record.category,
            record.model_id,
            mesh=folder / "model.obj",
            pointcloud=folder / "pointcloud.npz",
            points=folder / "points.npz",
            voxels=folder / "model.binvox",
        )
        names = _rendering_names(folder / "rendering")
        for view in _pick_views(len(names), views, folder / "rendering"):
            image = folder / "rendering" / names[view]
            samples.append(Sample(record.category, record.model_id, f"{view:02d}", image, truth))
    return samples


def _r2n2(
    root: Path, split: str, wanted: set[str] | None, views: Sequence[int] | None, split_file: Path | None
) -> list[Sample]:
    renderings, voxels = root / "ShapeNetRendering", root / "ShapeNetVox32"
    for folder in (renderings, voxels):
        if not folder.is_dir():
            raise DatasetError(f"{folder}: missing; the 3D-R2N2 layout needs ShapeNetRendering/ and ShapeNetVox32/")
    chosen = _r2n2_split(root, voxels, split, split_file)
    samples = []
    base = root.resolve()
    for category, model_id in chosen:
        if not _keep(category, wanted):
            continue
        entry = f"{split_file or voxels}: entry {category}/{model_id}"
        _plain_name(category, entry)
        _plain_name(model_id, entry)
        _checked_folder(base, voxels / category / model_id, entry)
        _checked_folder(base, renderings / category / model_id / "rendering", entry)
        folder = renderings / category / model_id / "rendering"
        if not folder.is_dir():
            raise DatasetError(f"{folder}: missing renderings for a model of ShapeNetVox32; restore the folder")
        truth = TruthSource(
            "r2n2", category, model_id, voxels=voxels / category / model_id / "model.binvox", voxel_frame="r2n2"
        )
        names = _rendering_names(folder)
        for view in _pick_views(len(names), views, folder):
            samples.append(Sample(category, model_id, f"{view:02d}", folder / names[view], truth))
    return samples


def _r2n2_split(root: Path, voxels: Path, split: str, split_file: Path | None) -> list[tuple[str, str]]:
    if split_file is not None:
        return [_split_line(line, split_file) for line in _lines(split_file)]
    if split == "val":
        raise ConfigError("3D-R2N2's split has no val part (80 % train, 20 % test); use --split test or --split-file")
    chosen = []
    for category_folder in sorted(p for p in voxels.iterdir() if p.is_dir()):
        ids = sorted(p.name for p in category_folder.iterdir() if p.is_dir())
        cut = int(len(ids) * R2N2_TRAIN_FRACTION)  # 3D-R2N2: portion index int(n * 0.8)
        part = {"train": ids[:cut], "test": ids[cut:], "all": ids}[split]
        chosen += [(category_folder.name, model_id) for model_id in part]
    if not chosen:
        raise DatasetError(f"{voxels}: no model folders; the 3D-R2N2 layout is ShapeNetVox32/<synset>/<id>/")
    return chosen


def _split_line(line: str, source: Path) -> tuple[str, str]:
    parts = [p for p in re.split(r"[/\s]+", line.strip()) if p]
    if len(parts) != 2:
        raise DatasetError(f"{source}: expected 'category/model_id' per line, found {line!r}")
    return parts[0], parts[1]


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the split file ({exc.strerror or exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _onet(root: Path, split: str, wanted: set[str] | None, views: Sequence[int] | None, _: Path | None) -> list[Sample]:
    samples = []
    base = root.resolve()
    for category_folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        category = category_folder.name
        if not _keep(category, wanted):
            continue
        listing = category_folder / f"{split}.lst"
        if listing.is_file():
            ids = _lines(listing)
        elif split != "all" and any(category_folder.glob("*.lst")):
            raise DatasetError(f"{listing}: missing, though other split lists exist; choose another --split")
        else:  # ONet's layout without split lists (as often shared): every model is scored
            ids = sorted(p.parent.name for p in category_folder.glob("*/img_choy2016"))
        source = listing if listing.is_file() else category_folder
        for model_id in ids:
            entry = f"{source}: entry {model_id!r}"
            _plain_name(model_id, entry)
            folder = category_folder / model_id
            images = folder / "img_choy2016"
            _checked_folder(base, folder, entry)
            _checked_folder(base, images, entry)
            if not images.is_dir():
                raise DatasetError(f"{images}: missing; {category}/{split}.lst lists {model_id}")
            points = folder / "points.npz"
            truth = TruthSource(
                "onet",
                category,
                model_id,
                pointcloud=folder / "pointcloud.npz",
                points=points if points.is_file() else None,
                v2_mesh=None if points.is_file() else _v2_mesh(root, category, model_id),
            )
            names = sorted(p.name for p in images.glob("*.jpg"))
            for view in _pick_views(len(names), views, images):
                samples.append(Sample(category, model_id, Path(names[view]).stem, images / names[view], truth))
    return samples


def _v2_mesh(root: Path, category: str, model_id: str) -> Path | None:
    """The object's ShapeNetCore.v2 mesh in a `ShapeNetCore.v2/` folder beside ONet's, or None."""
    v2 = root.absolute().parent / "ShapeNetCore.v2"  # absolute: the parent of "." is "." itself
    mesh = v2 / category / model_id / "models" / "model_normalized.obj"
    if not mesh.is_file():
        return None
    # That folder is a dataset of its own: nothing in it may lead out of it.
    _checked_folder(v2.resolve(), mesh.parent, f"{v2}: {category}/{model_id}")
    return mesh


def _pix3d(
    root: Path, split: str, wanted: set[str] | None, _views: Sequence[int] | None, split_file: Path | None
) -> list[Sample]:
    index = root / "pix3d.json"
    try:
        entries = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{index}: unreadable ({exc}); restore Pix3D's pix3d.json") from None
    if not isinstance(entries, list):
        raise DatasetError(f"{index}: expected a list of entries with img, mask, model")
    allowed = set(_lines(split_file)) if split_file is not None else None
    samples = []
    base = root.resolve()
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"img", "model"} <= set(entry):
            raise DatasetError(f"{index}: entry {number} lacks 'img' or 'model'")
        named = f"{index}: entry {number}"
        image = _relative_path(base, root, entry["img"], f"{named} 'img'")
        model = _relative_path(base, root, entry["model"], f"{named} 'model'")
        mask = _relative_path(base, root, entry["mask"], f"{named} 'mask'") if entry.get("mask") else None
        if allowed is not None and entry["img"] not in allowed:
            continue
        model_parts = Path(entry["model"]).parts
        category = str(entry.get("category") or (model_parts[1] if len(model_parts) > 2 else "all"))
        if not _keep(category, wanted):
            continue
        # Pix3D ids are per category folder, e.g. model/bed/IKEA_MALM_2/model.obj -> IKEA_MALM_2 (+ file stem
        # when a folder holds several models).
        model_id = model.parent.name if model.stem == "model" else f"{model.parent.name}-{model.stem}"
        truth = TruthSource("pix3d", category, model_id, mesh=model, mesh_normalised=False)
        samples.append(Sample(category, model_id, image.stem, image, truth, mask))
    return samples


def _folder_pairs(root: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for image in sorted(root.rglob("*")):
        if image.suffix.lower() not in IMAGE_EXTENSIONS or image.name.startswith("."):
            continue
        for extension in FOLDER_MESH_EXTENSIONS:
            mesh = image.with_suffix(extension)
            if mesh.is_file():
                pairs.append((image, mesh))
                break
    return pairs


def _folder(
    root: Path, _split: str, wanted: set[str] | None, _v: Sequence[int] | None, _f: Path | None
) -> list[Sample]:
    samples = []
    base = root.resolve()
    for image, mesh in _folder_pairs(root):
        _refuse_outside(base, image, f"{image.relative_to(root)}")
        _refuse_outside(base, mesh, f"{mesh.relative_to(root)}")
        parent = image.parent.relative_to(root).as_posix()
        category = "all" if parent == "." else parent
        if not _keep(category, wanted):
            continue
        truth = TruthSource("folder", category, image.stem, mesh=mesh, mesh_normalised=False)
        samples.append(Sample(category, image.stem, "0", image, truth))
    return samples


def _yaml_names(path: Path) -> dict[str, str]:
    """{synset: name} from ONet's metadata.yaml (JSON-shaped YAML; parsed with PyYAML when installed)."""
    text = path.read_text()
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        try:
            import yaml

            data = yaml.safe_load(text)
        except Exception:  # no PyYAML or not YAML either: names are cosmetic, ids still work
            return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v.get("name", k)).split(",")[0] for k, v in data.items() if isinstance(v, dict)}


# ------------------------------------------------------------------------------------------ ground truth
