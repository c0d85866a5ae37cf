"""Random materials for training renders: realistic albedos, surface patterns and studio lighting.

Flat random colours per part (the first training data) taught the network a look that real renderings do not
have: ShapeNet objects are mostly wood, metal, white or black plastic and fabric, often one material for the whole
object, with wood grain and fabric weave, lit brightly. `random_materials` draws such a look for one object:

* a palette of one to three materials, each of a kind in `MATERIAL_KINDS` (wood, metal, light, dark, fabric,
  paint), assigned to the object's parts; about half the objects are one material throughout;
* a surface pattern per material (wood rings around a random axis, smooth noise, stripes, or none), evaluated at
  the 3-D hit point in the object's frame, so the pattern stays on the object from every view;
* highlights that follow the material (metal is shiny, fabric matte).

`random_lighting` draws the lights of one view. Everything is deterministic given the generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.render import Appearance, hsv_to_rgb

MATERIAL_KINDS: dict[str, float] = {
    "wood": 0.22,
    "metal": 0.15,
    "light": 0.18,
    "dark": 0.15,
    "fabric": 0.15,
    "paint": 0.15,
}
"""Kinds of material and how often each is drawn (the weights sum to 1)."""

PATTERNS = ("none", "grain", "noise", "stripes")

_NOISE_WAVES = 8  # sinusoids summed for the smooth noise pattern


@dataclass(frozen=True, eq=False)
class SurfacePattern:
    """A brightness pattern on the surface: albedo multiplier as a function of the object-frame point.

    kind "grain": dark rings around a line through `centre` along `axis` (wood cut along its fibres), their
    spacing 1 / `frequency`, wobbled by the noise waves; "noise": a sum of sinusoids of random direction and
    frequency (fabric, stone); "stripes": a square-ish wave along `axis`; "none": plain.
    """

    kind: str
    amplitude: float  # how much darker the pattern's dark parts are, 0-1
    frequency: float  # rings or stripes per unit length (the object's longest side is 1)
    axis: np.ndarray  # float (3,) unit vector
    centre: np.ndarray  # float (3,) a point on the rings' axis
    waves: np.ndarray  # float (K, 3): direction times frequency of the noise waves
    phases: np.ndarray  # float (K,) radians

    def factor(self, points: np.ndarray) -> np.ndarray:
        """Albedo multiplier float (N,) in [1 - amplitude, 1] at object-frame points float (N, 3)."""
        if self.kind == "none" or len(points) == 0:
            return np.ones(len(points))
        # The mean of K unit sinusoids has a standard deviation of 1 / sqrt(2K) (0.25 for K = 8): scaled by 2 and
        # clipped it spans [-1, 1]. A fixed scale keeps the pattern a function of the point alone, the same in
        # every view, whatever else is rendered with it.
        noise = np.sin(points @ self.waves.T + self.phases).mean(axis=1)
        if self.kind == "noise":
            value = 0.5 + 0.5 * np.clip(2.0 * noise, -1.0, 1.0)
        elif self.kind == "grain":
            offset = points - self.centre
            radial = offset - np.outer(offset @ self.axis, self.axis)
            radius = np.linalg.norm(radial, axis=1) + 0.02 * noise
            value = (0.5 + 0.5 * np.sin(2 * math.pi * self.frequency * radius)) ** 4  # thin dark rings
        elif self.kind == "stripes":
            value = 0.5 + 0.5 * np.tanh(4.0 * np.sin(2 * math.pi * self.frequency * (points @ self.axis)))
        else:
            raise ValueError(f"unknown pattern {self.kind!r}; choose one of {', '.join(PATTERNS)}")
        return 1.0 - self.amplitude * value


@dataclass(frozen=True, eq=False)
class Materials:
    """The look of one object: an albedo and a pattern per part, a highlight for the whole object."""

    colors: np.ndarray  # float (P, 3) albedo per part, in [0, 1]
    patterns: tuple[SurfacePattern, ...]  # one per part
    specular: float  # Blinn-Phong weight of the object's highlight
    shininess: float  # Blinn-Phong exponent

    def texture(self, face_parts: np.ndarray) -> PartTexture:
        """The albedo multiplier per hit, for a mesh whose faces carry part labels int (F,) in [0, P)."""
        return PartTexture(np.asarray(face_parts, dtype=np.int64), self.patterns)


@dataclass(frozen=True, eq=False)
class PartTexture:
    """Callable `(points (N, 3), faces (N,)) -> albedo multiplier (N,)` for `dlsr.render.Renderer.render`."""

    face_parts: np.ndarray  # int (F,)
    patterns: tuple[SurfacePattern, ...]

    def __call__(self, points: np.ndarray, faces: np.ndarray) -> np.ndarray:
        factor = np.ones(len(points))
        parts = self.face_parts[faces]
        for part in np.unique(parts):
            chosen = parts == part
            factor[chosen] = self.patterns[int(part)].factor(points[chosen])
        return factor


def random_material(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, SurfacePattern, float, float]:
    """One material of `kind`: albedo float (3,), its pattern, specular weight and shininess."""
    if kind == "wood":
        hsv = (rng.uniform(0.04, 0.11), rng.uniform(0.35, 0.8), rng.uniform(0.3, 0.85))
        pattern = _pattern(rng, "grain" if rng.random() < 0.8 else "noise", (0.15, 0.4), (5.0, 18.0))
        specular, shininess = rng.uniform(0.0, 0.2), rng.uniform(8.0, 32.0)
    elif kind == "metal":
        hsv = (rng.uniform(0.0, 1.0), rng.uniform(0.0, 0.12), rng.uniform(0.45, 0.9))
        pattern = _pattern(rng, "stripes" if rng.random() < 0.2 else "none", (0.03, 0.1), (40.0, 120.0))
        specular, shininess = rng.uniform(0.3, 0.8), rng.uniform(16.0, 96.0)
    elif kind == "light":
        hsv = (rng.uniform(0.0, 1.0), rng.uniform(0.0, 0.12), rng.uniform(0.78, 1.0))
        pattern = _pattern(rng, "noise" if rng.random() < 0.2 else "none", (0.03, 0.1), (5.0, 30.0))
        specular, shininess = rng.uniform(0.0, 0.3), rng.uniform(8.0, 64.0)
    elif kind == "dark":
        hsv = (rng.uniform(0.0, 1.0), rng.uniform(0.0, 0.3), rng.uniform(0.05, 0.3))
        pattern = _pattern(rng, "none", (0.0, 0.0), (1.0, 1.0))
        specular, shininess = rng.uniform(0.1, 0.5), rng.uniform(16.0, 64.0)
    elif kind == "fabric":
        hsv = (rng.uniform(0.0, 1.0), rng.uniform(0.05, 0.5), rng.uniform(0.35, 0.92))
        pattern = _pattern(rng, "noise" if rng.random() < 0.6 else "stripes", (0.05, 0.25), (8.0, 30.0))
        specular, shininess = 0.0, 8.0
    elif kind == "paint":
        hsv = (rng.uniform(0.0, 1.0), rng.uniform(0.4, 1.0), rng.uniform(0.3, 0.95))
        pattern = _pattern(rng, "none", (0.0, 0.0), (1.0, 1.0))
        specular, shininess = rng.uniform(0.0, 0.4), rng.uniform(16.0, 96.0)
    else:
        raise ValueError(f"unknown material kind {kind!r}; choose one of {', '.join(MATERIAL_KINDS)}")
    albedo = hsv_to_rgb(*(np.array([value]) for value in hsv))[0]
    return albedo, pattern, float(specular), float(shininess)


def random_materials(rng: np.random.Generator, n_parts: int = 1) -> Materials:
    """Materials for an object of `n_parts` labelled parts (>= 1), deterministic given `rng`.

    About half the objects are one material throughout; the others draw a palette of two or three materials and
    give each part one of them (so several parts share a material, as legs and frame do).
    """
    if n_parts < 1:
        raise ValueError(f"n_parts must be at least 1, got {n_parts}")
    kinds, weights = list(MATERIAL_KINDS), np.array(list(MATERIAL_KINDS.values()))
    palette_size = 1 if rng.random() < 0.5 else int(rng.integers(2, 4))
    palette = [random_material(rng, str(rng.choice(kinds, p=weights / weights.sum()))) for _ in range(palette_size)]
    choice = rng.integers(0, palette_size, n_parts)
    colors = np.stack([palette[int(index)][0] for index in choice])
    # Parts of one material still differ a little, as separately modelled pieces do.
    colors = np.clip(colors * rng.uniform(0.92, 1.08, (n_parts, 1)), 0.0, 1.0)
    patterns = tuple(palette[int(index)][1] for index in choice)
    main = palette[int(np.bincount(choice, minlength=palette_size).argmax())]
    return Materials(colors, patterns, main[2], main[3])


def random_lighting(rng: np.random.Generator, materials: Materials) -> Appearance:
    """The lights of one view for an object of `materials`: one to three lights from the camera's side, mostly
    from above, with an ambient term from dim to bright (ShapeNet renderings are mostly brightly lit)."""
    n_lights = int(rng.integers(1, 4))
    azimuth = rng.uniform(-math.pi * 0.5, math.pi * 0.5, n_lights)
    elevation = rng.uniform(-0.2, 1.3, n_lights)
    directions = np.stack(
        [np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)], axis=1
    )
    intensities = rng.uniform(0.3, 1.0, n_lights)
    intensities *= rng.uniform(0.5, 1.0) / intensities.sum()
    return Appearance(
        colors=materials.colors,
        light_directions=directions,
        light_intensities=intensities,
        ambient=float(rng.uniform(0.2, 0.65)),
        specular=materials.specular,
        shininess=materials.shininess,
    )


def _pattern(
    rng: np.random.Generator, kind: str, amplitude: tuple[float, float], frequency: tuple[float, float]
) -> SurfacePattern:
    axis = rng.normal(size=3)
    if kind == "grain" and rng.random() < 0.7:
        axis = np.eye(3)[int(rng.integers(0, 3))] + 0.15 * rng.normal(size=3)  # fibres mostly along a main axis
    axis /= max(float(np.linalg.norm(axis)), 1e-12)
    directions = rng.normal(size=(_NOISE_WAVES, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    spread = rng.uniform(*frequency, _NOISE_WAVES) if kind == "noise" else rng.uniform(3.0, 12.0, _NOISE_WAVES)
    return SurfacePattern(
        kind=kind,
        amplitude=float(rng.uniform(*amplitude)),
        frequency=float(rng.uniform(*frequency)),
        axis=axis,
        centre=rng.uniform(-0.5, 0.5, 3),
        waves=directions * (2 * math.pi * spread)[:, None],
        phases=rng.uniform(0, 2 * math.pi, _NOISE_WAVES),
    )
