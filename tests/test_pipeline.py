"""dlsr.pipeline's batch inference: one result or error per image, and the same bits whatever the batch."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import TinyModel, rectangle_image
from dlsr.errors import InputImageError


def _prepared(pixels: Image.Image, model: Any) -> Any:
    from dlsr.image import prepare_image

    return prepare_image(pixels, model.info.preprocess)


def _unreadable() -> Any:
    raise InputImageError("broken.png: not an image")


@pytest.fixture(scope="module")
def model(tiny_model: TinyModel) -> Any:
    from dlsr.pipeline import load_model

    return load_model(tiny_model.weights, "cpu")


def test_a_failed_image_is_its_own_error_and_the_others_are_predicted(model: Any) -> None:
    from dlsr.pipeline import predict_batch, predict_sdf

    rng = np.random.default_rng(0)
    pictures = [rectangle_image(1.0, 0.5, rng), rectangle_image(0.4, 1.0, rng)]
    loaders = [
        functools.partial(_prepared, pictures[0], model),
        _unreadable,
        functools.partial(_prepared, pictures[1], model),
    ]
    items = predict_batch(model, loaders)
    assert [item.error is None for item in items] == [True, False, True]
    assert str(items[1].error) == "broken.png: not an image" and items[1].sdf is None and items[1].image is None
    together = predict_sdf(model, [items[0].image.pixels, items[2].image.pixels])  # type: ignore[union-attr]
    np.testing.assert_array_equal(items[0].sdf, together[0])
    np.testing.assert_array_equal(items[2].sdf, together[1])
    assert all(item.seconds >= 0 for item in items)


def test_same_bits_predicts_each_image_alone_on_the_cpu(model: Any) -> None:
    from dlsr.pipeline import predict_batch, predict_sdf

    rng = np.random.default_rng(1)
    loaders = [functools.partial(_prepared, rectangle_image(1.0, 0.3 + 0.2 * i, rng), model) for i in range(3)]
    items = predict_batch(model, loaders, same_bits=True)
    for item in items:
        alone = predict_sdf(model, [item.image.pixels])[0]  # type: ignore[union-attr]
        np.testing.assert_array_equal(item.sdf, alone)


def test_a_batch_where_every_image_fails(model: Any) -> None:
    from dlsr.pipeline import predict_batch

    for same_bits in (False, True):
        items = predict_batch(model, [_unreadable, _unreadable], same_bits=same_bits)
        assert [type(item.error) for item in items] == [InputImageError, InputImageError]
