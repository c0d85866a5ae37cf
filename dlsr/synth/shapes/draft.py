"""What a generator builds (`_Draft`) and the random draws it makes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlsr.synth.shapes.parts import Part

OVERLAP = 0.01
"""How far a part reaches into the part it is fixed to (generator units: objects are about one unit across).

Parts that only touched would make separate bodies, or faces that coincide, where manifold3d's booleans leave
needles; reaching a little into the neighbour makes the union one clean solid."""

SHALLOW_OVERLAP = 0.005
"""`OVERLAP` for joints between thin parts (a slat into a rail, an arm post into the seat), where 0.01 would show."""


@dataclass
class _Draft:
    """What a generator builds: parts, holes, its style choices and the number of bodies it designed."""

    parts: list[Part] = field(default_factory=list)
    holes: list[Part] = field(default_factory=list)
    style: list[str] = field(default_factory=list)
    components: int = 1

    def add(self, *parts: Part) -> None:
        self.parts.extend(parts)

    def cut(self, *holes: Part) -> None:
        self.holes.extend(holes)


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))
