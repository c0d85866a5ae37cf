"""One object of a dataset: its files (mesh, SDF, samples, voxels, renderings), built in a temporary folder and
renamed into place when complete, and the pool that builds many."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlsr.errors import ConfigError, DlsrError, MeshError
from dlsr.synth.dataset import DatasetReport, ObjectResult, ObjectTask, SynthConfig

if TYPE_CHECKING:
    import trimesh

    from dlsr.groundtruth import MeshField


def seed_sequence(config: SynthConfig, task: ObjectTask) -> np.random.SeedSequence:
    """The object's own seeds: independent of other objects, of the shard and of the worker that makes it."""
    salt = int(hashlib.sha1(f"{task.category}/{task.model_id}".encode()).hexdigest()[:8], 16)
    return np.random.SeedSequence([config.seed, salt, task.index])


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
    from dlsr.render import Renderer, random_appearance
    from dlsr.synth.materials import random_lighting, random_materials

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


def build_in_place(out: Path, task: ObjectTask, build: Callable[[Path], None]) -> ObjectResult:
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


def run_jobs(
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
