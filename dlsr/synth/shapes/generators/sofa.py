"""Sofas (04256520): long along z, back on -x; straight or L-shaped (a chaise towards +x), arms on both, one or no
side (some open), cushions, short legs or a plinth."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _about, _box, _rbox
from dlsr.synth.shapes.draft import OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.furniture import _legs
from dlsr.synth.shapes.rotations import _rotation

_CUSHION_GAP = 0.004
"""Half the gap between neighbouring cushions, and how far an open arm's hole reaches past the arm."""


@dataclass(frozen=True)
class SofaBackCushions:
    tilt: float  # backwards lean, degrees
    thickness: float
    height: float  # fraction of the way from the seat to the back's top


@dataclass(frozen=True)
class SofaParams:
    length: float  # along z
    depth: float  # along x
    seat_height: float  # top of the seat cushions
    on_legs: bool  # short legs (else a plinth down to the floor)
    base_height: float  # legs: the base's underside above the floor (0 on a plinth)
    arm_style: str  # "both", "none" or "one"
    chaise: bool  # an L-shaped sofa with a chaise towards +x
    chaise_side: float  # -1 or +1: the end of the sofa (z sign) the chaise is at
    back_top: float  # height of the back's top
    back_thickness: float
    arm_width: float
    arm_height: float
    cushion_thickness: float
    rounding: float  # edge radius of the back and arms
    one_arm_side: float  # -1 or +1: the arm's side when there is one (drawn for every sofa)
    open_arms: tuple[bool, ...]  # for each arm: a hole through it under the armrest
    cushion_roundings: tuple[float, ...]  # edge radius of each seat cushion (their count is the cushions')
    back_cushions: SofaBackCushions | None
    chaise_depth: float  # drawn for every sofa, used with a chaise
    chaise_width: float  # chaise: along z (0 otherwise)
    chaise_rounding: float  # chaise: its cushion's edge radius (0 otherwise)
    leg_radius: float  # legs: half width (0 on a plinth)
    leg_profile: str  # legs: "square", "round" or "tapered" ("" on a plinth)


def draw_sofa(rng: np.random.Generator) -> SofaParams:
    """A sofa's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    length, depth = _u(rng, 1.3, 2.4), _u(rng, 0.75, 1.0)
    seat_h = _u(rng, 0.38, 0.48)
    on_legs = rng.random() < 0.6
    base_y = _u(rng, 0.05, 0.15) if on_legs else 0.0
    arms = _pick(rng, {"both": 0.6, "none": 0.2, "one": 0.2})
    chaise = rng.random() < 0.3
    chaise_side = float(rng.choice([-1.0, 1.0]))
    back_top, bt = _u(rng, 0.7, 0.95), _u(rng, 0.12, 0.25)
    aw, ah = _u(rng, 0.08, 0.22), _u(rng, 0.5, 0.7)
    cushion_t = _u(rng, 0.06, 0.14)
    rounding = _u(rng, 0.01, 0.05)
    one_arm_side = float(rng.choice([-1.0, 1.0]))
    sides = _arm_sides(arms, chaise, chaise_side, one_arm_side)
    # Only arms tall enough to clear the seat can be open.
    open_arms = tuple(ah - 0.08 > seat_h + 0.1 and rng.random() < 0.25 for _ in sides)
    cushions = int(rng.integers(1, 4))
    cushion_roundings = tuple(_u(rng, 0.01, 0.04) for _ in range(cushions))
    back_cushions = None
    if rng.random() < 0.5:
        back_cushions = SofaBackCushions(_u(rng, 5.0, 15.0), _u(rng, 0.08, 0.15), _u(rng, 0.7, 0.95))
    chaise_depth = _u(rng, 0.5, 0.9)
    chaise_width = chaise_rounding = 0.0
    if chaise:
        chaise_width = min(_u(rng, 0.6, 0.9), length * 0.45)
        chaise_rounding = _u(rng, 0.01, 0.04)
    leg_radius, leg_profile = 0.0, ""
    if on_legs:
        leg_radius = _u(rng, 0.015, 0.03)
        leg_profile = _pick(rng, {"square": 0.4, "round": 0.3, "tapered": 0.3})
    return SofaParams(
        length=length,
        depth=depth,
        seat_height=seat_h,
        on_legs=on_legs,
        base_height=base_y,
        arm_style=arms,
        chaise=chaise,
        chaise_side=chaise_side,
        back_top=back_top,
        back_thickness=bt,
        arm_width=aw,
        arm_height=ah,
        cushion_thickness=cushion_t,
        rounding=rounding,
        one_arm_side=one_arm_side,
        open_arms=open_arms,
        cushion_roundings=cushion_roundings,
        back_cushions=back_cushions,
        chaise_depth=chaise_depth,
        chaise_width=chaise_width,
        chaise_rounding=chaise_rounding,
        leg_radius=leg_radius,
        leg_profile=leg_profile,
    )


def _arm_sides(arms: str, chaise: bool, chaise_side: float, one_arm_side: float) -> list[float]:
    """The z signs of the ends that carry an arm (never the chaise's end)."""
    sides = {"both": [-1.0, 1.0], "none": [], "one": [one_arm_side]}[arms]
    return [s for s in sides if s != chaise_side] if chaise else sides


def build_sofa(p: SofaParams, d: _Draft) -> None:
    """The sofa `p` describes, added to `d` (centred over the origin, long along z, back on -x, floor at y = 0)."""
    d.style += [p.arm_style, "chaise" if p.chaise else "straight", "legs" if p.on_legs else "plinth"]
    hx, hz, bt, base_y, seat_h = p.depth / 2, p.length / 2, p.back_thickness, p.base_height, p.seat_height
    y_base = seat_h - p.cushion_thickness
    d.add(_box((0.0, (base_y + y_base) / 2, 0.0), (hx, (y_base - base_y) / 2, hz), name="base"))
    back_half = (bt / 2, (p.back_top - base_y) / 2, hz)
    d.add(_rbox((-hx + bt / 2, (base_y + p.back_top) / 2, 0.0), back_half, p.rounding, name="back"))
    sides = _arm_sides(p.arm_style, p.chaise, p.chaise_side, p.one_arm_side)
    _build_arms(p, sides, d)
    aw = p.arm_width
    inner_lo = -hz + (aw + OVERLAP if -1.0 in sides else 0.0)
    inner_hi = hz - (aw + OVERLAP if 1.0 in sides else 0.0)
    edges = np.linspace(inner_lo, inner_hi, len(p.cushion_roundings) + 1)
    x0, x1 = -hx + bt - 0.02, hx - OVERLAP
    for (a, b), rounding in zip(itertools.pairwise(edges), p.cushion_roundings, strict=True):
        centre = ((x0 + x1) / 2, (y_base - OVERLAP + seat_h) / 2, (a + b) / 2)
        half = ((x1 - x0) / 2, (seat_h - y_base + OVERLAP) / 2, (b - a) / 2 - _CUSHION_GAP)
        d.add(_rbox(centre, half, rounding, name="cushion"))
    if p.back_cushions is not None:
        _build_back_cushions(p, p.back_cushions, edges, d)
    if p.chaise:
        _build_chaise(p, d)
    if p.on_legs:
        x_front = hx + (p.chaise_depth if p.chaise else 0.0)
        corners = [(x, z) for x in (-hx + 0.05, hx - 0.05) for z in (-hz + 0.05, hz - 0.05)]
        if p.chaise:
            corners.append((x_front - 0.05, p.chaise_side * (hz - 0.05)))
        d.add(*_legs(corners, base_y + OVERLAP, p.leg_radius, p.leg_profile)[0])


def _build_arms(p: SofaParams, sides: list[float], d: _Draft) -> None:
    hx, hz, aw, ah, base_y, seat_h = p.depth / 2, p.length / 2, p.arm_width, p.arm_height, p.base_height, p.seat_height
    for sz, is_open in zip(sides, p.open_arms, strict=True):
        zc = sz * (hz - aw / 2)
        half = (hx + 0.02, (ah - base_y) / 2, aw / 2)
        d.add(_rbox((0.02, (base_y + ah) / 2, zc), half, min(p.rounding, aw / 2 * 0.9), name="arm"))
        if is_open:
            x0, x1 = -hx + p.back_thickness + 0.05, hx - 0.08
            centre = ((x0 + x1) / 2, (seat_h + 0.03 + ah - 0.08) / 2, zc)
            half = ((x1 - x0) / 2, (ah - 0.08 - seat_h - 0.03) / 2, aw / 2 + _CUSHION_GAP)
            d.cut(_box(centre, half, name="arm-hole"))
            d.style.append("open-arm")


def _build_back_cushions(p: SofaParams, cushions: SofaBackCushions, edges: np.ndarray, d: _Draft) -> None:
    hx, bt, seat_h, ct = p.depth / 2, p.back_thickness, p.seat_height, cushions.thickness
    turn = _rotation((0.0, 0.0, 1.0), cushions.tilt)
    top = seat_h + (p.back_top - seat_h) * cushions.height
    for a, b in itertools.pairwise(edges):
        cushion = _rbox(
            (-hx + bt + ct / 2 - 0.03, (seat_h - 0.02 + top) / 2, (a + b) / 2),
            (ct / 2, (top - seat_h + 0.02) / 2, (b - a) / 2 - _CUSHION_GAP),
            0.03,
            name="back-cushion",
        )
        d.add(*_about([cushion], turn, (-hx + bt, seat_h, 0.0)))
    d.style.append("back-cushions")


def _build_chaise(p: SofaParams, d: _Draft) -> None:
    hx, hz, cd, cw, seat_h = p.depth / 2, p.length / 2, p.chaise_depth, p.chaise_width, p.seat_height
    base_y, y_base = p.base_height, seat_h - p.cushion_thickness
    zc = p.chaise_side * (hz - cw / 2)
    d.add(
        _box(
            (hx + cd / 2 - 0.02, (base_y + y_base) / 2, zc),
            (cd / 2 + 0.02, (y_base - base_y) / 2, cw / 2),
            name="chaise",
        )
    )
    d.add(
        _rbox(
            (hx + cd / 2 - OVERLAP, (y_base - OVERLAP + seat_h) / 2, zc),
            (cd / 2 + OVERLAP, (seat_h - y_base + OVERLAP) / 2, cw / 2 - _CUSHION_GAP),
            p.chaise_rounding,
            name="chaise-cushion",
        )
    )
