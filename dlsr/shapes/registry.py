"""`generate(category, seed)`: the category -> generator table and the seeding of each object."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlsr.errors import ConfigError
from dlsr.shapes.draft import _Draft
from dlsr.shapes.generators.airplane import airplane
from dlsr.shapes.generators.bench import bench
from dlsr.shapes.generators.cabinet import cabinet
from dlsr.shapes.generators.car import car
from dlsr.shapes.generators.chair import chair
from dlsr.shapes.generators.display import display
from dlsr.shapes.generators.lamp import lamp
from dlsr.shapes.generators.loudspeaker import loudspeaker
from dlsr.shapes.generators.rifle import rifle
from dlsr.shapes.generators.sofa import sofa
from dlsr.shapes.generators.table import table
from dlsr.shapes.generators.telephone import telephone
from dlsr.shapes.generators.watercraft import watercraft
from dlsr.shapes.shape import Shape
from dlsr.shapes.synsets import CATEGORIES, category_id


def generate(category: str, seed: int) -> Shape:
    """A random object of `category`, the same for the same (category, seed), normalised to the unit box.

    Args:
        category: synset id (a key of CATEGORIES) or category name.
        seed: any non-negative integer; seeds draw independent objects.

    Returns:
        A `Shape` whose mesh has been built (and cached) during normalisation.

    Raises:
        ConfigError: unknown category or negative seed.
    """
    synset = category_id(category)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    # Mixing the synset into the seed keeps (chair, 3) and (table, 3) unrelated.
    rng = np.random.default_rng([int(seed), int(synset)])
    draft = _Draft()
    _GENERATORS[synset](rng, draft)
    raw = Shape(
        category=synset,
        parts=tuple(draft.parts),
        holes=tuple(draft.holes),
        style="/".join([CATEGORIES[synset], *draft.style]),
        components=draft.components,
    )
    return raw.normalised()


_GENERATORS: dict[str, Callable[[np.random.Generator, _Draft], None]] = {
    "02691156": airplane,
    "02828884": bench,
    "02933112": cabinet,
    "02958343": car,
    "03001627": chair,
    "03211117": display,
    "03636649": lamp,
    "03691459": loudspeaker,
    "04090263": rifle,
    "04256520": sofa,
    "04379243": table,
    "04401088": telephone,
    "04530566": watercraft,
}
