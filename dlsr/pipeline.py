"""Image -> SDF grid -> mesh: the reconstruction pipeline behind `dlsr reconstruct`.

`load_model` finds and loads weights once; `predict_sdf` runs the network on a batch of prepared images;
`predict_batch` prepares a batch of images and predicts them, one result or error per image (one bad image in a
batch is reported and skipped, not fatal); `mesh_sdf` resamples one predicted grid and extracts its zero level set;
`reconstruct` chains them for one image.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dlsr.checkpoint import WeightsInfo, find_weights, load_weights
from dlsr.conventions import DEFAULT_MESH_RESOLUTION, DEVICES
from dlsr.errors import ConfigError, DlsrError
from dlsr.mesh import SurfaceMesh, extract_surface
from dlsr.sdf import Grid, ResampleMethod, resample_sdf

if TYPE_CHECKING:
    import torch
    import trimesh
    from torch import nn

    from dlsr.image import PreparedImage


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference, with the description of its weights."""

    network: nn.Module  # eval mode, on `device`
    info: WeightsInfo
    device: torch.device


@dataclass(frozen=True)
class Reconstruction:
    """The result of reconstructing one image."""

    mesh: trimesh.Trimesh  # world coordinates, canonical object frame
    sdf: np.ndarray  # float32 (R, R, R): the network's prediction on `grid`
    grid: Grid  # the network's output grid
    mesh_resolution: int  # samples per axis the mesh was extracted at


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for `name`: "auto" is CUDA when available, else CPU.

    Raises:
        ConfigError: unknown name, or the requested accelerator is not available.
    """
    import torch

    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"--device cuda: no CUDA GPU is usable (torch {torch.__version__}, "
            f"built {'with' if torch.version.cuda else 'without'} CUDA); use --device cpu or auto"
        )
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple's Metal backend is not available here; use --device cpu or auto")
    return torch.device(name)


def load_model(weights: str | os.PathLike[str] | None = None, device: str = "auto") -> LoadedModel:
    """Find (see `dlsr.checkpoint.find_weights`) and load a weights file onto `device`.

    Raises:
        WeightsError: no weights found, or the file is corrupt or mismatched.
        ConfigError: the device is unknown or unavailable.
    """
    torch_device = resolve_device(device)
    network, info = load_weights(find_weights(weights), device=str(torch_device))
    return LoadedModel(network=network, info=info, device=torch_device)


def predict_sdf(model: LoadedModel, pixels: Sequence[np.ndarray]) -> np.ndarray:
    """Run the network on prepared images.

    Args:
        model: from `load_model`.
        pixels: B images, uint8 (S, S, 3), as `dlsr.image.prepare_image` makes them.

    Returns:
        float32 (B, R, R, R) SDF grids on `model.info.grid`.
    """
    import torch

    from dlsr.image import to_tensor

    if len(pixels) == 0:
        return np.zeros((0,) + (model.info.grid.resolution,) * 3, dtype=np.float32)
    size = model.info.preprocess.image_size
    for image in pixels:
        if image.shape != (size, size, 3):
            raise ValueError(f"expected prepared images of shape {(size, size, 3)}, got {image.shape}")
    with torch.inference_mode():
        batch = to_tensor(pixels).to(model.device)
        sdf = model.network(batch).float().cpu().numpy()
    return np.ascontiguousarray(sdf, dtype=np.float32)


@dataclass(frozen=True)
class BatchItem:
    """One image of `predict_batch`: prepared and predicted, or the error that stopped it."""

    image: PreparedImage | None
    sdf: np.ndarray | None  # float32 (R, R, R) on the model's grid
    error: DlsrError | None = None
    seconds: float = 0.0  # preparing the image, plus its share of the forward pass


def predict_batch(
    model: LoadedModel, loaders: Sequence[Callable[[], PreparedImage]], *, same_bits: bool = False
) -> list[BatchItem]:
    """Prepare each image, then run the network on all that were prepared: one item per loader, in order.

    The one batch inference of `dlsr reconstruct` (`dlsr.batch`) and `dlsr eval` (`dlsr.eval.plan`).

    Args:
        model: from `load_model`.
        loaders: each returns one prepared image (`dlsr.image.load_image`, after whatever checks go first); a
            `DlsrError` it raises (unreadable image, no object, an unwritable destination) is that item's error,
            and the other images are predicted regardless.
        same_bits: on the CPU, one image per forward pass. A CPU forward pass's rounding depends on how many
            images it holds (measured with the shipped weights: all 16 SDFs differ in the last bits, up to 2.4e-7,
            between batches of 1 and 16; none between positions in batches of one size), so an image's SDF would
            depend on the batch it came in. One image per pass gives every image the same bits, and costs nothing
            there (5.0 ms against 5.4 ms per image on one thread).

    Returns:
        One `BatchItem` per loader.
    """
    items: list[BatchItem | None] = [None] * len(loaders)
    prepared = []
    for slot, load in enumerate(loaders):
        started = time.perf_counter()
        try:
            image = load()
        except DlsrError as exc:
            items[slot] = BatchItem(None, None, exc, time.perf_counter() - started)
            continue
        prepared.append((slot, image, time.perf_counter() - started))
    started = time.perf_counter()
    pixels = [image.pixels for _, image, _ in prepared]
    if same_bits and model.device.type == "cpu":
        sdfs = [predict_sdf(model, [image])[0] for image in pixels]
    else:
        sdfs = list(predict_sdf(model, pixels))
    share = (time.perf_counter() - started) / max(len(prepared), 1)
    for (slot, image, seconds), sdf in zip(prepared, sdfs, strict=True):
        items[slot] = BatchItem(image, sdf, None, seconds + share)
    return [item for item in items if item is not None]


def mesh_sdf(
    sdf: np.ndarray,
    grid: Grid,
    resolution: int | None = DEFAULT_MESH_RESOLUTION,
    level: float = 0.0,
    method: ResampleMethod = "cubic",
) -> tuple[trimesh.Trimesh, int]:
    """`surface_sdf` as a `trimesh.Trimesh`."""
    surface, used = surface_sdf(sdf, grid, resolution, level, method)
    return surface.to_trimesh(), used


def surface_sdf(
    sdf: np.ndarray,
    grid: Grid,
    resolution: int | None = DEFAULT_MESH_RESOLUTION,
    level: float = 0.0,
    method: ResampleMethod = "cubic",
) -> tuple[SurfaceMesh, int]:
    """Resample `sdf` (R, R, R) to `resolution`^3 (None keeps R) and extract its `level` set.

    Returns:
        The mesh in world coordinates and the resolution it was extracted at.

    Raises:
        EmptySurfaceError: the field never crosses `level`.
    """
    fine, fine_grid = resample_for_meshing(sdf, grid, resolution, method)
    return extract_surface(fine, fine_grid, level), fine_grid.resolution


def resample_for_meshing(
    sdf: np.ndarray, grid: Grid, resolution: int | None, method: ResampleMethod = "cubic"
) -> tuple[np.ndarray, Grid]:
    """The SDF `mesh_sdf` meshes: `sdf` (R, R, R) resampled to float32 (N, N, N), N = `resolution` (None keeps R),
    and the grid it lies on. Evaluation tests inside against this field, the one the mesh was taken from.

    Raises:
        ConfigError: `resolution` < 2.
    """
    target = grid.resolution if resolution is None else resolution
    if target < 2:
        raise ConfigError(f"the meshing resolution must be at least 2, got {target}")
    return resample_sdf(sdf, target, method), grid.with_resolution(target)


def reconstruct(
    image: PreparedImage,
    model: LoadedModel,
    *,
    resolution: int | None = DEFAULT_MESH_RESOLUTION,
    level: float | None = None,
) -> Reconstruction:
    """Reconstruct one prepared image (see `dlsr.image.load_image`) into a mesh, at `level` (None: the level the
    weights were calibrated to, `WeightsInfo.level`)."""
    (sdf,) = predict_sdf(model, [image.pixels])
    mesh, used = mesh_sdf(sdf, model.info.grid, resolution, model.info.level if level is None else level)
    return Reconstruction(mesh=mesh, sdf=sdf, grid=model.info.grid, mesh_resolution=used)
