"""Rewrite tests/golden/shapes.npz, the record `tests/test_shapes_golden.py` compares `generate` against.

Run from the repository root only when a change to the shapes is meant: `python tests/golden/make_shapes_golden.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlsr.synth.shapes import CATEGORIES, Shape, generate

GOLDEN = Path(__file__).with_name("shapes.npz")
SEEDS = (0, 1, 2)


def probe_points() -> np.ndarray:
    """float64 (64, 3): fixed points in and around the unit box where the golden record samples `Shape.sdf`."""
    return np.random.default_rng(20261206).uniform(-0.6, 0.6, size=(64, 3))


def record(shape: Shape) -> dict[str, np.ndarray]:
    """The arrays the golden test pins for one shape, keyed by field name."""
    vertices, faces, labels = shape.mesh_arrays()
    return {
        "style": np.array(shape.style),
        "components": np.array(shape.components),
        "counts": np.array([len(shape.parts), len(shape.holes)]),
        "vertices": vertices,
        "faces": faces.astype(np.int32),
        "labels": labels.astype(np.int32),
        "sdf": shape.sdf(probe_points()),
    }


def main() -> None:
    arrays = {}
    for synset in CATEGORIES:
        for seed in SEEDS:
            for key, value in record(generate(synset, seed)).items():
                arrays[f"{synset}/{seed}/{key}"] = value
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size / 1024:.0f} KiB, {len(arrays)} arrays)")


if __name__ == "__main__":
    main()
