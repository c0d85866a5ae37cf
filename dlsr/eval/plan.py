"""What an evaluation covers: its samples, shards, another tool's prediction files, and the jobs that carry
each sample (with the network's SDF or a prediction file) to scoring."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlsr.errors import DatasetError
from dlsr.eval.config import VOXEL_EXTENSIONS, EvalConfig
from dlsr.eval.layouts import Sample, read_samples
from dlsr.eval.score import Job

if TYPE_CHECKING:
    from dlsr.image import PreparedImage
    from dlsr.pipeline import LoadedModel


def plan_samples(root: str | os.PathLike[str], config: EvalConfig) -> tuple[str, list[Sample]]:
    """The layout and the ordered, indexed samples an evaluation covers (before sharding)."""
    layout, samples = read_samples(
        root,
        layout=config.layout,
        split=config.split,
        categories=config.categories,
        views=config.views,
        split_file=config.split_file,
    )
    if config.limit is not None:
        # Per category, so a quick evaluation still covers every category.
        seen: dict[str, int] = {}
        kept = []
        for sample in samples:
            seen[sample.category] = seen.get(sample.category, 0) + 1
            if seen[sample.category] <= config.limit:
                kept.append(sample)
        samples = kept
    return layout, samples


def protocol_for(layout: str) -> str:
    """The IoU protocol the layout's ground truth supports: r2n2 for 3D-R2N2 (binvox voxels are its only truth),
    onet (points in the padded box) for every other layout."""
    return "r2n2" if layout == "r2n2" else "onet"


def in_shard(sample: Sample, shard: tuple[int, int] | None) -> bool:
    """Shards interleave (index mod n), so each gets a share of every category."""
    return shard is None or sample.index % shard[1] == shard[0]


def find_predictions(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Index a predictions folder: 'category/model_id/view' or 'category/model_id' -> mesh file.

    Raises:
        DatasetError: not a folder, or two files for one name.
    """
    from dlsr.mesh_input import MESH_EXTENSIONS

    extensions = (*MESH_EXTENSIONS, *VOXEL_EXTENSIONS)
    base = Path(folder)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such predictions folder")
    found: dict[str, Path] = {}
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() not in extensions or not path.is_file():
            continue
        name = path.relative_to(base).with_suffix("").as_posix()
        if name in found:
            raise DatasetError(f"{base}: both {found[name].name} and {path.name} predict {name}; keep one")
        found[name] = path
    return found


def load_predictor(
    config: EvalConfig, weights: str | os.PathLike[str] | None, device: str
) -> tuple[LoadedModel | None, dict[str, Path]]:
    """What predicts the samples: the model (weights on `device`), or `config.predictions`' files indexed."""
    if config.predictions is not None:
        return None, find_predictions(config.predictions)
    from dlsr.pipeline import load_model

    return load_model(weights, device), {}


def prediction_for(sample: Sample, index: dict[str, Path]) -> Path | None:
    """The mesh file predicting `sample` (per view first, then per object), or None."""
    for name in (sample.key, f"{sample.category}/{sample.model_id}"):
        if name in index:
            return index[name]
    return None


# ------------------------------------------------------------------------------------------ results file


def plan_jobs(
    samples: Sequence[Sample],
    config: EvalConfig,
    model: LoadedModel | None,
    predictions: dict[str, Path],
    batch_size: int,
) -> Iterator[Job]:
    """Jobs in sample order; `batch_size` images are read at a time, lazily, and the network runs on them together
    on a GPU, one at a time on the CPU (`dlsr.pipeline.predict_batch`'s same_bits)."""
    if model is None:
        for sample in samples:
            path = prediction_for(sample, predictions)
            error = None if path is not None else f"{sample.key}: no prediction file in {config.predictions}"
            yield Job(sample, config, prediction=path, error=error)
        return
    from dlsr.pipeline import predict_batch

    for first in range(0, len(samples), batch_size):
        batch = samples[first : first + batch_size]
        loaders = [functools.partial(prepared_input, sample, model) for sample in batch]
        # same_bits: a sample's score must not depend on the batch size, resume or shards.
        for sample, item in zip(batch, predict_batch(model, loaders, same_bits=True), strict=True):
            if item.error is not None:
                yield Job(sample, config, error=str(item.error))
            else:
                yield Job(sample, config, sdf=item.sdf, grid=model.info.grid)


def prepared_input(sample: Sample, model: LoadedModel) -> PreparedImage:
    """A sample's image prepared for the network; a Pix3D mask cuts the object out first.

    Raises:
        InputImageError: unreadable image or mask, or no object in it.
    """
    from dlsr.image import load_image

    # The same preprocessing as `dlsr reconstruct` (and training): the mask, when there is one, is the alpha.
    name = str(sample.image)
    return load_image(sample.image, model.info.preprocess, name, mask=sample.mask)


def input_pixels(sample: Sample, model: LoadedModel) -> np.ndarray:
    """The network input uint8 (S, S, 3) for a sample's image (`prepared_input`)."""
    return prepared_input(sample, model).pixels
