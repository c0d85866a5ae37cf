"""Image files to mesh files: each image's mesh, and on request its SDF, input and mask beside it; one result or
error per image, so that one bad image in a batch is reported and skipped, not fatal (`dlsr reconstruct`)."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dlsr.errors import DlsrError, EmptySurfaceError, InputImageError

if TYPE_CHECKING:
    import numpy as np

    from dlsr.image import PreparedImage
    from dlsr.pipeline import LoadedModel
    from dlsr.postprocess import MeshFinish

MASK_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
"""Looked for in a mask folder."""

SIDE_FILES = {"sdf": ".sdf.npz", "input": ".input.png", "mask": ".mask.png"}
"""What each side file adds to its mesh's stem."""


@dataclass(frozen=True)
class MeshJob:
    """One input image and where its mesh goes."""

    source: str | bytes  # a path, or the image file's bytes (e.g. read from stdin)
    name: str  # how messages call it
    destination: Path | None  # None: the mesh comes back as bytes (`MeshResult.data`)
    format: str
    mask: Path | None = None  # the user's mask for this input


@dataclass(frozen=True)
class MeshSettings:
    """How every job of one batch run is meshed and written."""

    resolution: int
    level: float
    save_sdf: bool
    save_input: bool
    overwrite: bool
    background: str = "auto"
    save_mask: bool = False
    mask_folder: Path | None = None  # each input's mask is the image named after it there
    finish: MeshFinish | None = None  # stray parts, smoothing, scale, up axis


@dataclass(frozen=True)
class MeshResult:
    """What became of one job: its record (and the mesh file's bytes without a destination), or its error."""

    job: MeshJob
    record: dict[str, Any] | None = None  # input, output, foreground, vertices, faces, watertight, seconds
    data: bytes | None = None
    error: DlsrError | None = None


def reconstruct_files(
    jobs: Sequence[MeshJob], model: LoadedModel, settings: MeshSettings, batch_size: int
) -> Iterator[MeshResult]:
    """Reconstruct each job's image and write its mesh (and side files), `batch_size` images per forward pass.

    Yields one result per job, in order; a `DlsrError` of one job (unreadable image, no object, no surface, an
    unwritable file) is its result's error and the others go on.
    """
    from dlsr.pipeline import predict_batch

    for first in range(0, len(jobs), batch_size):
        batch = jobs[first : first + batch_size]
        items = predict_batch(model, [functools.partial(_prepare, job, model, settings) for job in batch])
        for job, item in zip(batch, items, strict=True):
            if item.error is not None or item.image is None or item.sdf is None:
                yield MeshResult(job, error=item.error)
                continue
            started = time.perf_counter()
            try:
                record, data = _finish(job, item.image, item.sdf, model, settings)
            except DlsrError as exc:
                yield MeshResult(job, error=exc)
                continue
            record["seconds"] = round(item.seconds + time.perf_counter() - started, 4)
            yield MeshResult(job, record, data)


def side_path(destination: Path, kind: str) -> Path:
    """chair.obj -> chair.sdf.npz / chair.input.png / chair.mask.png (kind sdf, input, mask), next to the mesh."""
    return destination.with_name(destination.stem + SIDE_FILES[kind])


def mask_for(job: MeshJob, settings: MeshSettings) -> Path | None:
    """The mask file of one input: the job's own, or the image named after the input in the mask folder.

    Raises:
        InputImageError: the folder holds no mask for this input.
    """
    if settings.mask_folder is None:
        return job.mask
    stem = "stdin" if isinstance(job.source, bytes) else Path(job.source).stem
    for extension in MASK_EXTENSIONS:
        for candidate in (
            settings.mask_folder / f"{stem}{extension}",
            settings.mask_folder / f"{stem}{extension.upper()}",
        ):
            if candidate.is_file():
                return candidate
    raise InputImageError(
        f"{job.name}: no mask for it in {settings.mask_folder}; add {settings.mask_folder / (stem + '.png')}"
    )


def _prepare(job: MeshJob, model: LoadedModel, settings: MeshSettings) -> PreparedImage:
    """Refuse unwritable outputs before any work, then read and prepare the image."""
    from dlsr.files import check_writable
    from dlsr.image import BackgroundMode, load_image

    if job.destination is not None:
        check_writable(job.destination, overwrite=settings.overwrite)
        for wanted, kind in ((settings.save_sdf, "sdf"), (settings.save_input, "input"), (settings.save_mask, "mask")):
            if wanted:
                check_writable(side_path(job.destination, kind), overwrite=settings.overwrite)
    mask = mask_for(job, settings)
    background = cast(BackgroundMode, settings.background)
    return load_image(job.source, model.info.preprocess, name=job.name, background=background, mask=mask)


def _finish(
    job: MeshJob, image: PreparedImage, sdf: np.ndarray, model: LoadedModel, settings: MeshSettings
) -> tuple[dict[str, Any], bytes | None]:
    """Mesh one predicted SDF and write the mesh (and side files); the result record, and the mesh's bytes when
    the job has no destination."""
    from dlsr.mesh import mesh_bytes, save_mesh
    from dlsr.pipeline import surface_sdf
    from dlsr.postprocess import finish_surface

    try:
        mesh, _ = surface_sdf(sdf, model.info.grid, settings.resolution, settings.level)
    except EmptySurfaceError as exc:
        raise EmptySurfaceError(f"{job.name}: {exc}") from exc
    if settings.finish is not None:
        mesh = finish_surface(mesh, settings.finish)
    data = None
    if job.destination is None:
        data = mesh_bytes(mesh, job.format)
    else:
        save_mesh(mesh, job.destination, job.format, overwrite=settings.overwrite)
        _write_side_files(job.destination, image, sdf, model, settings)
    record = {
        "input": job.name,
        "output": None if job.destination is None else str(job.destination),
        "foreground": image.foreground,
        "vertices": len(mesh.vertices),
        "faces": len(mesh.faces),
        "watertight": bool(mesh.is_watertight),
    }
    return record, data


def _write_side_files(
    destination: Path, image: PreparedImage, sdf: np.ndarray, model: LoadedModel, settings: MeshSettings
) -> None:
    from dlsr.files import atomic_write

    if settings.save_sdf:
        import numpy as np

        from dlsr.sdf import sdf_archive

        arrays = sdf_archive(sdf, model.info.grid, settings.level)
        atomic_write(
            side_path(destination, "sdf"),
            lambda stream: np.savez_compressed(stream, **arrays),
            overwrite=settings.overwrite,
        )
    if settings.save_input:
        from dlsr.image import png_bytes

        atomic_write(side_path(destination, "input"), png_bytes(image.pixels), overwrite=settings.overwrite)
    if settings.save_mask:
        from dlsr.image import mask_png_bytes

        atomic_write(side_path(destination, "mask"), mask_png_bytes(image), overwrite=settings.overwrite)
