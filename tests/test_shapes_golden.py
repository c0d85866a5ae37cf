"""Golden record of `generate`: every category over three seeds, as recorded in tests/golden/shapes.npz.

The record guards refactors of `dlsr.synth.shapes` that must not change a single shape. Integer arrays (faces, face
labels, counts) and the style must match exactly; float arrays (vertices, SDF samples) within rtol = atol = 1e-9,
since another CPU may round the last bits differently. Regenerate with `python tests/golden/make_shapes_golden.py`
only when a change to the shapes is intended.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

from dlsr.synth.shapes import CATEGORIES, generate

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from make_shapes_golden import GOLDEN, SEEDS, record

TOLERANCE = 1e-9
EXACT = ("style", "components", "counts", "faces", "labels")
CLOSE = ("vertices", "sdf")


@functools.cache
def _golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return {key: data[key] for key in data.files}


def test_golden_record_covers_every_category_and_seed() -> None:
    keys = {key.rsplit("/", 1)[0] for key in _golden()}
    assert keys == {f"{synset}/{seed}" for synset in CATEGORIES for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("synset", list(CATEGORIES))
def test_generate_matches_golden_record(synset: str, seed: int) -> None:
    got = record(generate(synset, seed))
    golden = _golden()
    assert set(got) == set(EXACT) | set(CLOSE)
    for key in EXACT:
        np.testing.assert_array_equal(got[key], golden[f"{synset}/{seed}/{key}"], err_msg=key)
    for key in CLOSE:
        np.testing.assert_allclose(
            got[key], golden[f"{synset}/{seed}/{key}"], rtol=TOLERANCE, atol=TOLERANCE, err_msg=key
        )
