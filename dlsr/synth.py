"""Datasets on disk: procedural objects (`dlsr data synth`) and users' meshes (`dlsr data prepare`), one layout.

Both commands write the layout below, which follows the conventions of the datasets users already have
(ShapeNet's `<synset>/<id>/` folders, 3D-R2N2's renderings and binvox, Occupancy Networks' npz files and
`.lst` splits), so the readers and the evaluation treat our data and theirs alike::

    OUT/
      dataset.json                  the settings OUT is made with; a rerun with other settings is refused
      metadata.json                 categories, counts, splits, versions (written by the index step)
      <synset>/
        train.lst val.lst test.lst  model ids, one per line
        <model_id>/
          model.obj                 one mesh in the normalised frame (watertight for procedural objects)
          sdf.npz                   the SDF on the model's grid (see `dlsr.sdf.sdf_archive`)
          points.npz                occupancy samples, ONet's format (`dlsr.groundtruth.occupancy_samples`)
          pointcloud.npz            surface samples with normals, ONet's format
          model.binvox              voxels, 3D-R2N2's axis order (`dlsr.binvox`)
          rendering/00.png ...      RGBA views with 3D-R2N2's camera model, `rendering_metadata.txt`, `renderings.txt`

Every object is written into a temporary folder and renamed into place when complete, so an interrupted run
leaves nothing half-written and a rerun of the same command skips finished objects. Objects, splits and arrays
depend only on the settings and the seed: the same command gives byte-identical arrays.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.config import config_from_dict, config_to_dict
from dlsr.conventions import (
    CATEGORIES,
    DEFAULT_POINTS,
    MESH_EXTENSIONS,
    METADATA_FILE,
    R2N2_IMAGE_SIZE,
    R2N2_VIEWS,
    SETTINGS_FILE,
    SPLITS,
)
from dlsr.conventions import parse_categories as parse_categories  # the old import path, kept
from dlsr.conventions import parse_shard as parse_shard  # the old import path, kept
from dlsr.errors import ConfigError, DatasetError, DlsrError, MeshError
from dlsr.files import atomic_write, make_folder
from dlsr.sdf import DEFAULT_BOUND

if TYPE_CHECKING:
    import trimesh

    from dlsr.groundtruth import MeshField

logger = logging.getLogger(__name__)

SYNTH_VERSION = "1"
"""Version of the procedural generators and of this layout; recorded in every dataset."""

APPEARANCES = ("materials", "flat")
"""Looks of the renderings: realistic random materials and patterns (`dlsr.materials`, the default), or one flat
random colour per part (the look of datasets made before the setting existed)."""
REPORT_FILE = "prepare-report.json"


@dataclass(frozen=True)
class SynthConfig:
    """What a dataset folder holds; recorded in `dataset.json` and `metadata.json`."""

    categories: tuple[str, ...] = ()  # synset ids; empty means all 13 (procedural) or every category found (prepare)
    per_category: int = 100  # procedural objects per category (ignored by prepare)
    views: int = R2N2_VIEWS  # renderings per object
    image_size: int = R2N2_IMAGE_SIZE  # side of each rendering, pixels (3D-R2N2's)
    sdf_resolution: int = 32  # samples per axis of the ground-truth SDF grid
    sdf_bound: float = DEFAULT_BOUND  # half side of the SDF grid cube (dlsr.sdf.Grid)
    voxel_resolution: int = 32  # voxels per axis of model.binvox
    points: int = DEFAULT_POINTS  # occupancy samples in points.npz
    near_surface_fraction: float = 0.5  # share of points.npz sampled near the surface (the rest uniform)
    surface_points: int = DEFAULT_POINTS  # surface samples in pointcloud.npz
    split: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test fractions of each category
    seed: int = 0  # the one seed everything is drawn from
    appearance: str = "materials"  # renders' look: "materials" (dlsr.materials) or "flat" (a colour per part)

    def __post_init__(self) -> None:
        for name in ("per_category", "views", "image_size", "voxel_resolution", "points", "surface_points"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.sdf_resolution < 2:
            raise ConfigError(f"sdf_resolution must be at least 2, got {self.sdf_resolution}")
        if len(self.split) != 3 or min(self.split) < 0 or abs(sum(self.split) - 1.0) > 1e-6:
            raise ConfigError(f"split must be three fractions (train, val, test) summing to 1, got {self.split}")
        if self.seed < 0:
            raise ConfigError(f"seed must be non-negative, got {self.seed}")
        if self.appearance not in APPEARANCES:
            raise ConfigError(f"appearance must be one of {', '.join(APPEARANCES)}, got {self.appearance!r}")


@dataclass(frozen=True)
class ObjectTask:
    """One object to write: where it goes and what it is made from."""

    category: str  # synset id
    model_id: str
    index: int  # position within its category (procedural) or in the mesh list (prepare)
    source: str = ""  # the mesh file (prepare); empty for procedural objects


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object."""

    task: ObjectTask
    status: str  # "written", "skipped" (already complete) or "failed"
    seconds: float = 0.0
    error: str = ""


@dataclass
class DatasetReport:
    """Counts of a synth or prepare run."""

    out: Path
    planned: int = 0
    written: int = 0
    skipped: int = 0
    failed: list[ObjectResult] = field(default_factory=list)
    seconds: float = 0.0
    indexed: bool = False


# ------------------------------------------------------------------------------------------ planning


def object_id(seed: int, category: str, index: int) -> str:
    """A stable id for procedural object `index` of `category` (16 hex digits, like a short ShapeNet id)."""
    return hashlib.sha1(f"dlsr-synth-v{SYNTH_VERSION}/{seed}/{category}/{index}".encode()).hexdigest()[:16]


def plan_synth(config: SynthConfig) -> list[ObjectTask]:
    """Every procedural object of `config`, category by category."""
    categories = config.categories or tuple(CATEGORIES)
    return [
        ObjectTask(category, object_id(config.seed, category, index), index)
        for category in categories
        for index in range(config.per_category)
    ]


def split_ids(model_ids: Sequence[str], fractions: tuple[float, float, float]) -> dict[str, list[str]]:
    """3D-R2N2's rule, extended with a validation part: sort the ids, then cut train | val | test."""
    ordered = sorted(model_ids)
    n_train = round(fractions[0] * len(ordered))
    n_val = round(fractions[1] * len(ordered))
    return {
        "train": ordered[:n_train],
        "val": ordered[n_train : n_train + n_val],
        "test": ordered[n_train + n_val :],
    }


def _seed_sequence(config: SynthConfig, task: ObjectTask) -> np.random.SeedSequence:
    """The object's own seeds: independent of other objects, of the shard and of the worker that makes it."""
    salt = int(hashlib.sha1(f"{task.category}/{task.model_id}".encode()).hexdigest()[:8], 16)
    return np.random.SeedSequence([config.seed, salt, task.index])


# ------------------------------------------------------------------------------------------ one object


def write_object_files(
    folder: Path,
    mesh: trimesh.Trimesh,
    sdf_source: Callable[[np.ndarray], np.ndarray] | trimesh.Trimesh | MeshField,
    face_parts: np.ndarray | None,
    config: SynthConfig,
    seeds: np.random.SeedSequence,
    *,
    loc: np.ndarray | None = None,
    scale: float = 1.0,
) -> None:
    """Write all files of one object into `folder` (which the caller renames into place).

    Args:
        folder: an empty folder.
        mesh: the object in the normalised frame (bounding box centred, longest side 1).
        sdf_source: its signed distance: an analytic function, or the mesh (or its prebuilt `MeshField`) for
            winding-number distances.
        face_parts: int (F,) part label per face, for colouring parts differently; None for one colour.
        config: the dataset settings.
        seeds: the object's seed sequence; each product draws from its own child.
        loc: with `scale`, the transform back to the source mesh's frame (ONet's convention).
        scale: see `loc`.
    """
    from dlsr.binvox import write_binvox
    from dlsr.groundtruth import occupancy_samples, sdf_grid, surface_samples, voxelize
    from dlsr.mesh import save_mesh
    from dlsr.sdf import Grid, sdf_archive

    render_seed, points_seed, surface_seed = seeds.spawn(3)
    save_mesh(mesh, folder / "model.obj")
    grid = Grid(config.sdf_resolution, config.sdf_bound)
    _save_npz(folder / "sdf.npz", sdf_archive(sdf_grid(sdf_source, grid), grid))
    points = occupancy_samples(
        sdf_source,
        config.points,
        rng=np.random.default_rng(points_seed),
        near_surface_fraction=config.near_surface_fraction,
        loc=loc,
        scale=scale,
        surface=mesh,
    )
    _save_npz(folder / "points.npz", points)
    surface = surface_samples(
        mesh, config.surface_points, rng=np.random.default_rng(surface_seed), loc=loc, scale=scale
    )
    _save_npz(folder / "pointcloud.npz", surface)
    occupancy = voxelize(sdf_source, config.voxel_resolution, bound=0.5)
    write_binvox(folder / "model.binvox", occupancy, translate=(-0.5, -0.5, -0.5), scale=1.0)
    write_renderings(folder / "rendering", mesh, face_parts, config, np.random.default_rng(render_seed))


def write_renderings(
    folder: Path,
    mesh: trimesh.Trimesh,
    face_parts: np.ndarray | None,
    config: SynthConfig,
    rng: np.random.Generator,
) -> None:
    """3D-R2N2-style renderings: `config.views` RGBA PNGs, `rendering_metadata.txt` and `renderings.txt`.

    Materials are drawn once per object (a real object keeps its look from every side); lighting is drawn per
    view, like the varied lighting of ShapeNet renderings.
    """
    from PIL import Image

    from dlsr.camera import bounding_box_diagonal, format_rendering_metadata, format_renderings_list, sample_cameras
    from dlsr.materials import random_lighting, random_materials
    from dlsr.render import Renderer, random_appearance

    folder.mkdir()
    vertices = np.asarray(mesh.vertices)
    cameras = sample_cameras(config.views, rng, diagonal=bounding_box_diagonal(vertices), fit=vertices)
    parts = np.zeros(len(mesh.faces), dtype=np.int64) if face_parts is None else np.asarray(face_parts)
    renderer = Renderer(mesh)
    if config.appearance == "materials":
        materials = random_materials(rng, int(parts.max()) + 1)
        face_colours, texture = materials.colors[parts], materials.texture(parts)
    else:
        colours = random_appearance(rng, int(parts.max()) + 1)
        face_colours, texture = colours.face_colors(parts), None
    for view, camera in enumerate(cameras):
        if config.appearance == "materials":
            appearance = random_lighting(rng, materials)
        else:
            appearance = dataclasses.replace(random_appearance(rng, 1), colors=colours.colors)
        picture = renderer.render(
            camera, config.image_size, colors=face_colours, appearance=appearance, texture=texture
        )
        if not picture[..., 3].any():  # a blank view would teach the network that nothing looks like this shape
            raise MeshError(f"view {view:02d} shows nothing of the object (too thin or too small to see); fix the mesh")
        buffer = io.BytesIO()
        Image.fromarray(picture, mode="RGBA").save(buffer, format="PNG")
        (folder / f"{view:02d}.png").write_bytes(buffer.getvalue())
    (folder / "rendering_metadata.txt").write_text(format_rendering_metadata(cameras))
    (folder / "renderings.txt").write_text(format_renderings_list(len(cameras)))


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    # Uncompressed, like ONet's files: float16 points barely compress, and loading stays fast.
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds badly


def _build_in_place(out: Path, task: ObjectTask, build: Callable[[Path], None]) -> ObjectResult:
    """Run `build(temporary_folder)` and rename the folder to the object's final place; skip finished objects."""
    started = time.perf_counter()
    final = out / task.category / task.model_id
    if final.is_dir():
        return ObjectResult(task, "skipped")
    final.parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of an interrupted run of this object (any process): never finished, so never renamed.
    for stale in final.parent.glob(f".tmp-{task.model_id}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    temporary = final.parent / f".tmp-{task.model_id}-{os.getpid()}"
    temporary.mkdir()
    try:
        build(temporary)
        os.rename(temporary, final)
    except DlsrError as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        return ObjectResult(task, "failed", time.perf_counter() - started, str(exc))
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return ObjectResult(task, "written", time.perf_counter() - started)


def synth_object(task: ObjectTask, config: SynthConfig, out: Path) -> ObjectResult:
    """Generate, render and write one procedural object (skipped when already complete)."""

    def build(folder: Path) -> None:
        from dlsr.shapes import generate

        seeds = _seed_sequence(config, task)
        (shape_seed,) = seeds.generate_state(1, dtype=np.uint32)
        shape = generate(task.category, int(shape_seed))
        mesh, face_parts = shape.mesh_with_labels()
        write_object_files(folder, mesh, shape.sdf, face_parts, config, seeds)

    return _build_in_place(out, task, build)


def prepare_object(task: ObjectTask, config: SynthConfig, out: Path, layout: str) -> ObjectResult:
    """Normalise one user mesh and write its renders and ground truth (skipped when already complete)."""

    def build(folder: Path) -> None:
        from dlsr.groundtruth import MeshField, normalise
        from dlsr.mesh_input import load_mesh, to_shapenet_v1_frame

        mesh = to_shapenet_v1_frame(load_mesh(task.source), layout)  # its errors name the file
        try:
            normalised, loc, scale = normalise(mesh)
            # Real meshes are rarely watertight: distances and inside/outside come from the winding number of the
            # mesh itself, never from ray parity. The search trees are built once and serve every product.
            field = MeshField(normalised)
            seeds = _seed_sequence(config, task)
            write_object_files(folder, normalised, field, None, config, seeds, loc=loc, scale=scale)
        except MeshError as exc:
            raise MeshError(f"{task.source}: {exc}") from None

    return _build_in_place(out, task, build)


# ------------------------------------------------------------------------------------------ whole datasets


def make_dataset(
    config: SynthConfig,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    on_item: Callable[[ObjectResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> DatasetReport:
    """Write the procedural dataset `config` into `out` (resumable; see the module docstring).

    Args:
        config: what to make.
        out: the dataset folder (created if missing).
        workers: processes working in parallel.
        shard: (i, n) makes only objects i, i+n, i+2n, ... (a cluster array job runs each i; `write_index`
            merges). Without a shard the index is written at the end.
        on_item: called in this process after each object.
        on_start: called once with the number of objects this run will visit.

    Raises:
        DatasetError: `out` was made with other settings, or is not a folder.
        ConfigError: a bad shard.
    """
    root = _open_dataset(Path(out), {"kind": "synth", "config": config_to_dict(config)})
    tasks = plan_synth(config)
    tasks = _shard(tasks, shard)
    report = _run(tasks, root, workers, on_item, on_start, _SynthJob(config, root))
    if shard is None:
        write_index(root)
        report.indexed = True
    return report


def prepare_dataset(
    meshes: str | os.PathLike[str],
    config: SynthConfig,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    on_item: Callable[[ObjectResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> DatasetReport:
    """Render and write ground truth for every mesh under `meshes` (ShapeNet v1/v2 layouts or any folder).

    Unreadable or empty meshes are skipped and listed, with the reason, in `OUT/prepare-report.json`.

    Raises:
        DatasetError: `meshes` holds no mesh file, or `out` was made with other settings.
    """
    from dlsr.mesh_input import find_meshes

    source = Path(meshes)
    if not source.is_dir():
        raise DatasetError(f"{source}: not a folder; give the folder that holds your meshes")
    entries, layout = find_meshes(source)
    if config.categories:
        entries = [entry for entry in entries if entry.category in config.categories]
    if not entries:
        raise DatasetError(f"{source}: no mesh files ({', '.join(MESH_EXTENSIONS)}) found")
    settings: dict[str, Any] = {
        "kind": "prepared",
        "source": str(source.resolve()),
        "layout": layout,
        "config": config_to_dict(config),
    }
    if any(entry.split for entry in entries):
        # The source's own split (Pix3D's) replaces the 70/10/20 cut, so its held-out models stay held out.
        settings["splits"] = {f"{entry.category}/{entry.model_id}": entry.split for entry in entries}
    root = _open_dataset(Path(out), settings)
    tasks = [ObjectTask(entry.category, entry.model_id, index, str(entry.path)) for index, entry in enumerate(entries)]
    report = _run(tasks, root, workers, on_item, on_start, _PrepareJob(config, root, layout))
    failures = [{"mesh": r.task.source, "model_id": r.task.model_id, "reason": r.error} for r in report.failed]
    atomic_write(root / REPORT_FILE, (json.dumps({"skipped": failures}, indent=2) + "\n").encode())
    write_index(root)
    report.indexed = True
    return report


def write_index(out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the split lists and `metadata.json` of a dataset folder from the objects it holds.

    For a procedural dataset every planned object must be present (after all shards of an array job ran);
    for prepared meshes, the objects that were written are indexed and the skipped ones are left out.

    Returns:
        The metadata written.

    Raises:
        DatasetError: not a dataset folder, or planned objects are missing.
    """
    from dlsr import __version__

    root = Path(out)
    settings = read_settings(root)
    config = config_from_dict(SynthConfig, settings["config"], what=f"{root / SETTINGS_FILE} config")
    if settings["kind"] == "synth":
        tasks = plan_synth(config)
        missing = [t for t in tasks if not (root / t.category / t.model_id).is_dir()]
        if missing:
            raise DatasetError(
                f"{root}: {len(missing)} of {len(tasks)} objects are missing (e.g. {missing[0].category}/"
                f"{missing[0].model_id}); run the remaining shards, or rerun `dlsr data synth` with the same settings"
            )
        ids: dict[str, list[str]] = {}
        for task in tasks:
            ids.setdefault(task.category, []).append(task.model_id)
    else:
        ids = {
            folder.name: sorted(
                child.name for child in folder.iterdir() if child.is_dir() and not child.name.startswith(".")
            )
            for folder in sorted(root.iterdir())
            if folder.is_dir() and not folder.name.startswith(".")
        }
        ids = {category: models for category, models in ids.items() if models}
    categories: dict[str, dict[str, Any]] = {}
    given = settings.get("splits")
    for category, models in ids.items():
        if isinstance(given, dict):
            parts = {split: [m for m in models if given.get(f"{category}/{m}") == split] for split in SPLITS}
        else:
            parts = split_ids(models, config.split)
        for split, members in parts.items():
            atomic_write(root / category / f"{split}.lst", "".join(f"{m}\n" for m in members).encode())
        categories[category] = {
            "name": CATEGORIES.get(category, category),
            "count": len(models),
            **{split: len(members) for split, members in parts.items()},
        }
    metadata = {
        "dlsr_version": __version__,
        "synth_version": SYNTH_VERSION,
        **settings,
        "categories": categories,
        "total": sum(c["count"] for c in categories.values()),
    }
    atomic_write(root / METADATA_FILE, (json.dumps(metadata, indent=2) + "\n").encode())
    return metadata


def read_settings(root: Path) -> dict[str, Any]:
    """The `dataset.json` of a dataset folder.

    Raises:
        DatasetError: missing or unreadable.
    """
    path = root / SETTINGS_FILE
    try:
        settings = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DatasetError(
            f"{root}: not a dlsr dataset folder (no {SETTINGS_FILE}); make it with dlsr data synth"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc}); delete the folder and make it again") from exc
    if not isinstance(settings, dict) or "kind" not in settings or "config" not in settings:
        raise DatasetError(f"{path}: not a dlsr dataset settings file")
    return settings


def _shard(tasks: list[ObjectTask], shard: tuple[int, int] | None) -> list[ObjectTask]:
    if shard is None:
        return tasks
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"shard {index}/{count}: need 0 <= i < n")
    return tasks[index::count]


def _open_dataset(root: Path, settings: dict[str, Any]) -> Path:
    """Create `root` (or reopen it for a resume) and pin its settings in `dataset.json`."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root}: exists and is not a folder; choose another output folder")
    make_folder(root)  # under a file or an unwritable parent: one line naming the folder, not mkdir's traceback
    path = root / SETTINGS_FILE
    settings = json.loads(json.dumps(settings))  # as it reads back from disk (tuples become lists)
    if path.exists():
        existing = read_settings(root)
        if existing != settings:
            raise DatasetError(
                f"{root}: was made with other settings ({path}); resume with the same options or use a new folder"
            )
    else:
        atomic_write(path, (json.dumps(settings, indent=2) + "\n").encode())
    return root


@dataclass(frozen=True)
class _SynthJob:
    config: SynthConfig
    out: Path

    def __call__(self, task: ObjectTask) -> ObjectResult:
        return synth_object(task, self.config, self.out)


@dataclass(frozen=True)
class _PrepareJob:
    config: SynthConfig
    out: Path
    layout: str

    def __call__(self, task: ObjectTask) -> ObjectResult:
        return prepare_object(task, self.config, self.out, self.layout)


def _run(
    tasks: list[ObjectTask],
    out: Path,
    workers: int,
    on_item: Callable[[ObjectResult], None] | None,
    on_start: Callable[[int], None] | None,
    job: Callable[[ObjectTask], ObjectResult],
) -> DatasetReport:
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    report = DatasetReport(out=out, planned=len(tasks))
    if on_start is not None:
        on_start(len(tasks))
    started = time.perf_counter()
    for result in _results(tasks, workers, job):
        if result.status == "written":
            report.written += 1
        elif result.status == "skipped":
            report.skipped += 1
        else:
            report.failed.append(result)
        if on_item is not None:
            on_item(result)
    report.seconds = time.perf_counter() - started
    return report


def _results(
    tasks: list[ObjectTask], workers: int, job: Callable[[ObjectTask], ObjectResult]
) -> Iterator[ObjectResult]:
    """Run `job` over `tasks`, in this process or in a pool; results arrive as objects finish."""
    from dlsr.workers import map_in_workers

    yield from map_in_workers(job, tasks, min(workers, len(tasks)))
