"""`generate(category, seed)`: the category -> generator table and the seeding of each object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from dlsr.conventions import CATEGORIES, category_id
from dlsr.errors import ConfigError
from dlsr.synth.shapes.draft import _Draft
from dlsr.synth.shapes.generators.airplane import build_airplane, draw_airplane
from dlsr.synth.shapes.generators.bench import build_bench, draw_bench
from dlsr.synth.shapes.generators.cabinet import build_cabinet, draw_cabinet
from dlsr.synth.shapes.generators.car import build_car, draw_car
from dlsr.synth.shapes.generators.chair import build_chair, draw_chair
from dlsr.synth.shapes.generators.display import build_display, draw_display
from dlsr.synth.shapes.generators.lamp import build_lamp, draw_lamp
from dlsr.synth.shapes.generators.loudspeaker import build_loudspeaker, draw_loudspeaker
from dlsr.synth.shapes.generators.rifle import build_rifle, draw_rifle
from dlsr.synth.shapes.generators.sofa import build_sofa, draw_sofa
from dlsr.synth.shapes.generators.table import build_table, draw_table
from dlsr.synth.shapes.generators.telephone import build_telephone, draw_telephone
from dlsr.synth.shapes.generators.watercraft import build_watercraft, draw_watercraft
from dlsr.synth.shapes.shape import Shape


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


P = TypeVar("P")


@dataclass(frozen=True)
class Factory(Generic[P]):
    """A category's generator: `draw` picks an object's parameters from a random stream, `build` turns them into
    parts. Parameters are drawn first and geometry built after, so a design reads as its parameters."""

    draw: Callable[[np.random.Generator], P]
    build: Callable[[P, _Draft], None]

    def __call__(self, rng: np.random.Generator, draft: _Draft) -> None:
        """Add one random object to `draft`."""
        self.build(self.draw(rng), draft)


_GENERATORS: dict[str, Factory[Any]] = {
    "02691156": Factory(draw_airplane, build_airplane),
    "02828884": Factory(draw_bench, build_bench),
    "02933112": Factory(draw_cabinet, build_cabinet),
    "02958343": Factory(draw_car, build_car),
    "03001627": Factory(draw_chair, build_chair),
    "03211117": Factory(draw_display, build_display),
    "03636649": Factory(draw_lamp, build_lamp),
    "03691459": Factory(draw_loudspeaker, build_loudspeaker),
    "04090263": Factory(draw_rifle, build_rifle),
    "04256520": Factory(draw_sofa, build_sofa),
    "04379243": Factory(draw_table, build_table),
    "04401088": Factory(draw_telephone, build_telephone),
    "04530566": Factory(draw_watercraft, build_watercraft),
}
