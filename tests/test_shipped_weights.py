"""The shipped default weights: they load with no flags and still reconstruct unseen procedural objects.

The objects are made here, with a seed the training data never used, so they are new shapes of the trained
categories. The floor is the one the model card (weights/README.md) states; the test reads it from there.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from dlsr.checkpoint import DEFAULT_WEIGHTS_FILE, find_weights, read_weights_info
from dlsr.metrics import iou_sdf
from dlsr.pipeline import load_model, predict_sdf
from dlsr.train.arrays import ObjectRecord, read_sdf_grid

ROOT = Path(__file__).resolve().parents[1]
MODEL_CARD = ROOT / "weights" / "README.md"
SEED = 20261125  # not the training data's seed (0)


def card_floor() -> float:
    """The floor the model card states, from its line 'Test floor: mean IoU >= X'."""
    found = re.search(r"Test floor: mean IoU >= ([0-9.]+)", MODEL_CARD.read_text())
    assert found, f"{MODEL_CARD} must state 'Test floor: mean IoU >= X'"
    return float(found.group(1))


@pytest.fixture(scope="module")
def unseen_objects(tmp_path_factory: pytest.TempPathFactory) -> list[ObjectRecord]:
    from dlsr.synth import SynthConfig, make_dataset

    root = tmp_path_factory.mktemp("unseen")
    resolution = read_weights_info(find_weights(None, environ={})).grid.resolution  # truth at the model's own grid
    config = SynthConfig(per_category=1, views=2, points=100, surface_points=100, sdf_resolution=resolution, seed=SEED)
    make_dataset(config, root)
    return [
        ObjectRecord(folder.parent.name, folder.name, folder)
        for folder in sorted(root.glob("*/*"))
        if (folder / "sdf.npz").is_file()
    ]


def test_the_default_weights_ship_and_are_found_without_flags() -> None:
    path = find_weights(None, environ={})
    assert path.name == DEFAULT_WEIGHTS_FILE
    info = read_weights_info(path)
    assert info.arch == "dlsr-lite" and info.grid.resolution == 64
    assert info.provenance["objective"]["name"] == "dls"
    assert path.stat().st_size < 20_000_000  # a few MB, as the model card says


def test_shipped_weights_reconstruct_unseen_objects_above_the_card_floor(unseen_objects: list[ObjectRecord]) -> None:
    from dlsr.image import load_image

    model = load_model(find_weights(None, environ={}), "cpu")
    assert len(unseen_objects) == 13
    ious = []
    for record in unseen_objects:
        truth = torch.from_numpy(read_sdf_grid(record, model.info.grid))[None]
        for view in range(2):
            image = load_image(record.rendering(view), model.info.preprocess)
            sdf = predict_sdf(model, [image.pixels])
            phi = torch.as_tensor(np.asarray(sdf)).reshape(truth.shape) - model.info.level  # the surface users get
            ious.append(float(iou_sdf(phi, truth)[0]))
    assert float(np.mean(ious)) >= card_floor(), f"mean IoU {np.mean(ious):.4f} per image {np.round(ious, 3)}"
