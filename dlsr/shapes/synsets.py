"""The 13 ShapeNet categories procedural shapes stand in for, and the lookup from a name to a synset id."""

from __future__ import annotations

from dlsr.errors import ConfigError

CATEGORIES: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "loudspeaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}
"""ShapeNet synset id -> category name, for the 13 categories single-view reconstruction is benchmarked on."""


def category_id(category: str) -> str:
    """The synset id of `category`, given as a synset id or a name ("chair")."""
    if category in CATEGORIES:
        return category
    by_name = {name: synset for synset, name in CATEGORIES.items()}
    if category in by_name:
        return by_name[category]
    choices = ", ".join(f"{synset} ({name})" for synset, name in CATEGORIES.items())
    raise ConfigError(f"unknown category {category!r}; use one of {choices}")
