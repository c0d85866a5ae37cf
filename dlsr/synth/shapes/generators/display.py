"""Displays (03211117): a screen facing +x (wide along z) with a bezel recess; on a neck and base (sometimes with a
hole through the neck, or a two-post neck that makes a loop), on two feet, a CRT body, or bare."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _box, _cylinder, _ellipse, _extrude, _frustum, _rbox
from dlsr.synth.shapes.draft import SHALLOW_OVERLAP, _Draft, _pick, _u

_EMBED = 0.004
"""How far a neck or back bump reaches into the screen it carries."""


@dataclass(frozen=True)
class DisplayStand:
    neck_depth: float  # along x
    neck_half_width: float  # along z
    base_thickness: float
    base: str  # "plate", "disk" or "ellipse"
    reach: float  # the base's half depth (a disk's radius is 1.2 times this)
    base_half_width: float  # plate and ellipse bases: half width along z (0 for disks)
    neck: str  # "post", "pierced" (a hole through the neck) or "fork" (two posts)
    fork_gap: float  # fork necks: from the centre to each post's inner side (0 otherwise)


@dataclass(frozen=True)
class DisplayParams:
    width: float  # of the screen, along z
    aspect: float  # width / height
    style: str  # "stand", "feet", "crt" or "bare"
    lifts: tuple[float, float]  # the screen's bottom edge above the floor on a stand and on feet (both drawn)
    thickness: float  # of the screen panel (a CRT's front)
    rounding: float  # the screen's edge radius
    recess: tuple[float, float] | None  # the bezel recess: (bezel width, depth), or None
    crt_depth: float  # crt: the tube's depth behind the screen (0 otherwise)
    bump: float | None  # a flat screen's back bump: its depth, or None
    stand: DisplayStand | None
    feet_spread: float  # feet: each foot's distance from the centre as a fraction of the width (0 otherwise)
    feet_lengths: tuple[float, ...]  # feet: each foot's half length along x (() otherwise)


def draw_display(rng: np.random.Generator) -> DisplayParams:
    """A display's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    width = _u(rng, 0.5, 0.8)
    aspect = float(rng.choice([16 / 9, 16 / 10, 4 / 3, 21 / 9]))
    th = _u(rng, 0.015, 0.05)
    style = _pick(rng, {"stand": 0.55, "feet": 0.15, "crt": 0.12, "bare": 0.18})
    lifts = (_u(rng, 0.08, 0.25), _u(rng, 0.03, 0.1))
    if style == "crt":
        th = _u(rng, 0.04, 0.08)
    rounding = _u(rng, 0.002, th / 2)
    recess = (_u(rng, 0.01, 0.035), _u(rng, 0.003, 0.008)) if rng.random() < 0.6 else None
    crt_depth, bump, stand, spread = 0.0, None, None, 0.0
    feet: tuple[float, ...] = ()
    if style == "crt":
        crt_depth = _u(rng, 0.25, 0.5)
    else:
        bump = _u(rng, 0.01, 0.05) if rng.random() < 0.5 else None
        if style == "stand":
            stand = _draw_stand(rng)
        elif style == "feet":
            spread = _u(rng, 0.25, 0.42)
            feet = (_u(rng, 0.06, 0.12), _u(rng, 0.06, 0.12))
    return DisplayParams(width, aspect, style, lifts, th, rounding, recess, crt_depth, bump, stand, spread, feet)


def _draw_stand(rng: np.random.Generator) -> DisplayStand:
    neck_depth, neck_half_width = _u(rng, 0.015, 0.04), _u(rng, 0.03, 0.08)
    thickness = _u(rng, 0.01, 0.025)
    base = _pick(rng, {"plate": 0.4, "disk": 0.35, "ellipse": 0.25})
    reach = _u(rng, 0.08, 0.15)
    base_half_width = 0.0
    if base == "plate":
        base_half_width = _u(rng, 0.1, 0.22)
    elif base == "ellipse":
        base_half_width = _u(rng, 0.12, 0.22)
    neck = _pick(rng, {"post": 0.5, "pierced": 0.25, "fork": 0.25})
    fork_gap = _u(rng, 0.03, 0.08) if neck == "fork" else 0.0
    return DisplayStand(neck_depth, neck_half_width, thickness, base, reach, base_half_width, neck, fork_gap)


def _lift(p: DisplayParams) -> float:
    """The screen's bottom edge above the floor."""
    return {"stand": p.lifts[0], "feet": p.lifts[1], "crt": 0.06, "bare": 0.0}[p.style]


def build_display(p: DisplayParams, d: _Draft) -> None:
    """The display `p` describes, added to `d` (screen facing +x, wide along z, floor at y = 0)."""
    d.style.append(p.style)
    width, th = p.width, p.thickness
    sh = width / p.aspect
    yc = _lift(p) + sh / 2
    d.add(_rbox((0.0, yc, 0.0), (th / 2, sh / 2, width / 2), p.rounding, name="screen"))
    if p.recess is not None:
        bezel, depth = p.recess
        d.cut(_box((th / 2, yc, 0.0), (depth, sh / 2 - bezel, width / 2 - bezel), name="recess"))
    back_x = -th / 2
    if p.style == "crt":
        depth = p.crt_depth
        profile = [
            (back_x + SHALLOW_OVERLAP, yc - 0.45 * sh),
            (back_x - depth, yc - 0.25 * sh),
            (back_x - depth, yc + 0.2 * sh),
            (back_x + SHALLOW_OVERLAP, yc + 0.45 * sh),
        ]
        d.add(_extrude((0.0, 0.0, 0.0), profile, 0.4 * width, "xy", name="tube"))
        d.add(_box((back_x - depth * 0.3, 0.03 + SHALLOW_OVERLAP, 0.0), (depth * 0.35, 0.03, 0.3 * width), name="base"))
        d.add(_box((back_x - depth * 0.3, yc - 0.3 * sh, 0.0), (0.03, yc - 0.3 * sh - 0.03, 0.08), name="neck"))
        return
    if p.bump is not None:
        bump = p.bump
        half = (bump / 2 + _EMBED, 0.3 * sh, 0.3 * width)
        d.add(_rbox((back_x - bump / 2 + _EMBED, yc - 0.1 * sh, 0.0), half, 0.9 * (bump / 2 + _EMBED), name="back"))
        back_x -= bump
        d.style.append("bump")
    if p.stand is not None:
        _build_stand(p, p.stand, back_x, yc, d)
    elif p.style == "feet":
        spread = width * p.feet_spread
        for sz, length in zip((-1.0, 1.0), p.feet_lengths, strict=True):
            z = sz * spread
            post_half_height = (yc - sh / 2 + 0.03) / 2
            d.add(_box((0.0, post_half_height, z), (0.012, post_half_height, 0.012), name="foot-post"))
            d.add(_box((0.0, 0.008, z), (length, 0.008, 0.015), name="foot"))


def _build_stand(p: DisplayParams, stand: DisplayStand, back_x: float, yc: float, d: _Draft) -> None:
    nd, nz, bt, reach = stand.neck_depth, stand.neck_half_width, stand.base_thickness, stand.reach
    x_n = back_x - nd / 2 + _EMBED
    base_x = x_n + reach * 0.3
    if stand.base == "plate":
        d.add(_rbox((base_x, bt / 2, 0.0), (reach, bt / 2, stand.base_half_width), bt / 2 * 0.9, name="base"))
    elif stand.base == "disk":
        d.add(_frustum((base_x, 0.0, 0.0), (base_x, bt, 0.0), reach * 1.2, reach * 1.1, name="base"))
    else:
        outline = _ellipse(reach, stand.base_half_width, 48)
        d.add(_extrude((base_x, bt / 2, 0.0), outline, bt / 2, "xz", name="base"))
    d.style += [stand.base, stand.neck]
    neck_top = yc
    neck_half_height = (neck_top - bt) / 2 + _EMBED
    if stand.neck == "fork":
        for sz in (-1.0, 1.0):
            centre = (x_n, (bt + neck_top) / 2, sz * (stand.fork_gap + 0.015))
            d.add(_box(centre, (nd / 2, neck_half_height, 0.015), name="neck"))
        return
    d.add(_box((x_n, (bt + neck_top) / 2, 0.0), (nd / 2, neck_half_height, nz), name="neck"))
    free = _lift(p) - bt  # neck length between base and screen
    if stand.neck == "pierced" and free > 0.06:
        radius = min(0.6 * nz, 0.35 * free)
        hy = bt + free / 2
        d.cut(_cylinder((x_n - nd, hy, 0.0), (x_n + nd, hy, 0.0), radius, name="neck-hole"))
