"""Watercraft (04530566): hulls as the intersection of a side profile, a plan shape and a V section, bow at +x:
motorboats, ships, sailboats, open rowing boats with thwarts (loops), catamarans and submarines."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import (
    _about,
    _box,
    _cylinder,
    _difference,
    _extrude,
    _frustum,
    _intersection,
    _rbox,
    _revolve,
    _tube,
)
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.rotations import _rotation

_LENGTH = 1.0
"""Every vessel is one unit long, bow at +x."""


@dataclass(frozen=True)
class HullShape:
    transom: float  # the stern's width as a fraction of the beam
    deadrise: float  # height of the V section's chine as a fraction of the depth
    flare: float  # how far the sides lean out at the top
    bow: float  # length of the rising bow, as a fraction of the hull's length
    sheer: float  # the bow's height as a multiple of the depth
    stern_height: float  # where the transom meets the keel line, as a fraction of the depth


@dataclass(frozen=True)
class Rig:
    """Mast, boom and sails."""

    mast_height: float
    boom_rise: float  # of the boom above the deck
    boom_length: float
    sail_thickness: float
    jib: bool  # a foresail reaching to the bow


@dataclass(frozen=True)
class Submarine:
    radius: float
    bow: float  # fraction of the length that rounds off at the bow
    stern: float  # fraction of the length that tapers to the propeller
    blades: int
    sail_height: float  # the conning tower's
    sail_length: float
    sail_x: float


@dataclass(frozen=True)
class Catamaran:
    beam: float  # of each hull
    depth: float
    spacing: float  # from the centre line to each hull's
    hull: HullShape
    deck: bool  # a deck between the hulls (else two beams)
    rig: Rig | None


@dataclass(frozen=True)
class Rowboat:
    wall: float  # hull thickness
    cavity: HullShape  # the hollow's hull shape (drawn from its own generator)
    thwarts: int


@dataclass(frozen=True)
class Motorboat:
    cabin_length: float
    cabin_height: float
    cabin_x: float
    windscreen: float | None  # the windscreen's rake in degrees, or None
    railing: tuple[float, int] | None  # (height, posts per side), or None


@dataclass(frozen=True)
class Ship:
    deckhouse_x: float
    deckhouses: tuple[tuple[float, float], ...]  # each level's (length fraction, height), bottom up
    funnels: tuple[tuple[float, float, float], ...]  # each funnel's (height, bottom radius, top radius)
    rear_mast_x: float  # the second mast's x (drawn for every ship, used with two masts)
    masts: tuple[tuple[float, float], ...]  # each mast's (height, yard half length)
    railing: tuple[float, int] | None  # (height, posts per side), or None


@dataclass(frozen=True)
class WatercraftParams:
    style: str  # "motorboat", "ship", "sailboat", "rowboat", "catamaran" or "submarine"
    submarine: Submarine | None = None
    catamaran: Catamaran | None = None
    beam: float = 0.0  # single hulls: width
    depth: float = 0.0  # single hulls: keel to deck
    hull: HullShape | None = None  # single hulls
    rowboat: Rowboat | None = None
    motorboat: Motorboat | None = None
    ship: Ship | None = None
    keel_depth: float = 0.0  # sailboats: the keel fin's depth below the hull
    mast_x: float = 0.0  # sailboats
    rig: Rig | None = None  # sailboats


def draw_watercraft(rng: np.random.Generator) -> WatercraftParams:
    """A vessel's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    style = _pick(
        rng, {"motorboat": 0.28, "ship": 0.2, "sailboat": 0.2, "rowboat": 0.14, "catamaran": 0.1, "submarine": 0.08}
    )
    if style == "submarine":
        r, bow, stern = _u(rng, 0.05, 0.08), _u(rng, 0.1, 0.2), _u(rng, 0.25, 0.4)
        blades = int(rng.integers(3, 6))
        sail_h, sail_l = _u(rng, 0.06, 0.12), _u(rng, 0.1, 0.18)
        return WatercraftParams(style, submarine=Submarine(r, bow, stern, blades, sail_h, sail_l, _u(rng, 0.0, 0.2)))
    if style == "catamaran":
        beam, depth, spacing = _u(rng, 0.07, 0.11), _u(rng, 0.06, 0.1), _u(rng, 0.15, 0.25)
        hull = _draw_hull(rng)
        deck = rng.random() < 0.5
        rig = _draw_rig(rng) if rng.random() < 0.7 else None
        return WatercraftParams(style, catamaran=Catamaran(beam, depth, spacing, hull, deck, rig))
    # Every style's range is drawn, in this order, whichever is used.
    beams = {"motorboat": _u(rng, 0.25, 0.35), "ship": _u(rng, 0.12, 0.18), "sailboat": _u(rng, 0.22, 0.32)}
    beams["rowboat"] = _u(rng, 0.3, 0.4)
    depths = {"motorboat": _u(rng, 0.08, 0.13), "ship": _u(rng, 0.07, 0.11), "sailboat": _u(rng, 0.07, 0.1)}
    depths["rowboat"] = _u(rng, 0.1, 0.14)
    beam, depth, hull = beams[style], depths[style], _draw_hull(rng)
    if style == "rowboat":
        wall = _u(rng, 0.012, 0.02)
        cavity = _draw_hull(np.random.default_rng(rng.integers(2**32)))
        rowboat = Rowboat(wall, cavity, int(rng.integers(1, 4)))
        return WatercraftParams(style, beam=beam, depth=depth, hull=hull, rowboat=rowboat)
    if style == "motorboat":
        cl, ch, cx = _u(rng, 0.2, 0.35), _u(rng, 0.06, 0.12), _u(rng, -0.2, 0.05)
        windscreen = _u(rng, 15.0, 35.0) if rng.random() < 0.6 else None
        railing = _draw_railing(rng) if rng.random() < 0.4 else None
        motorboat = Motorboat(cl, ch, cx, windscreen, railing)
        return WatercraftParams(style, beam=beam, depth=depth, hull=hull, motorboat=motorboat)
    if style == "ship":
        return WatercraftParams(style, beam=beam, depth=depth, hull=hull, ship=_draw_ship(rng))
    keel_depth = _u(rng, 0.08, 0.16)
    mast_x = _u(rng, -0.05, 0.1)
    rig = _draw_rig(rng)
    return WatercraftParams(style, beam=beam, depth=depth, hull=hull, keel_depth=keel_depth, mast_x=mast_x, rig=rig)


def _draw_hull(rng: np.random.Generator) -> HullShape:
    transom, deadrise, flare = _u(rng, 0.45, 0.9), _u(rng, 0.15, 0.5), _u(rng, 0.0, 0.03)
    bow, sheer = _u(rng, 0.15, 0.3), _u(rng, 1.05, 1.2)
    return HullShape(transom, deadrise, flare, bow, sheer, stern_height=_u(rng, 0.2, 0.5))


def _draw_rig(rng: np.random.Generator) -> Rig:
    mast_height = _u(rng, 0.6, 1.1)
    rise, length = _u(rng, 0.05, 0.1), _u(rng, 0.25, 0.4)
    thickness = _u(rng, 0.004, 0.007)
    return Rig(mast_height, rise, length, thickness, jib=rng.random() < 0.7)


def _draw_railing(rng: np.random.Generator) -> tuple[float, int]:
    height, posts = _u(rng, 0.03, 0.05), int(rng.integers(3, 6))
    return height, posts


def _draw_ship(rng: np.random.Generator) -> Ship:
    x = _u(rng, -0.25, -0.05)
    levels = []
    for level in range(int(rng.integers(1, 4))):
        levels.append((_u(rng, 0.15, 0.3) * (0.8**level), _u(rng, 0.04, 0.07)))
    funnels = []
    for _ in range(int(rng.integers(0, 3))):
        funnels.append((_u(rng, 0.06, 0.12), _u(rng, 0.02, 0.035), _u(rng, 0.018, 0.03)))
    rear_mast_x = _u(rng, 0.2, 0.3)
    masts = tuple((_u(rng, 0.1, 0.25), _u(rng, 0.03, 0.06)) for _ in range(int(rng.integers(1, 3))))
    railing = _draw_railing(rng) if rng.random() < 0.3 else None
    return Ship(x, tuple(levels), tuple(funnels), rear_mast_x, masts, railing)


def build_watercraft(p: WatercraftParams, d: _Draft) -> None:
    """The vessel `p` describes, added to `d` (bow at +x, keel at y = 0, or a submarine's axis)."""
    d.style.append(p.style)
    if p.submarine is not None:
        _build_submarine(p.submarine, d)
        return
    if p.catamaran is not None:
        _build_catamaran(p.catamaran, d)
        return
    if p.hull is None:
        return
    beam, depth = p.beam, p.depth
    hull = _hull(_LENGTH, beam, depth, p.hull)
    transom = p.hull.transom
    if p.rowboat is not None:
        wall = p.rowboat.wall
        inner = _hull(_LENGTH - 4 * wall, beam - 2.5 * wall, depth * 1.5, p.rowboat.cavity, "cavity", 1.5 * wall)
        d.add(_difference([hull, inner], name="hull"))
        n = p.rowboat.thwarts
        for x in np.linspace(-0.25, 0.2, n):
            w = float(_plan_width(np.array([x]), _LENGTH, beam, transom)[0])
            d.add(_box((float(x), depth - 0.025, 0.0), (0.03, 0.008, w - wall * 0.4), name="thwart"))
        d.style.append(f"thwarts{n}")
        return
    d.add(hull)
    deck = depth - SHALLOW_OVERLAP  # the sheer line rises towards the bow, so the deck is nowhere lower than this
    if p.motorboat is not None:
        _build_motorboat(p.motorboat, beam, transom, deck, d)
    elif p.ship is not None:
        _build_ship(p.ship, beam, transom, deck, d)
    elif p.rig is not None:  # sailboat: keel fin, mast, boom, sails
        kd = p.keel_depth
        fin = [(-0.12, OVERLAP), (0.02, OVERLAP), (-0.02, -kd), (-0.1, -kd)]
        d.add(_extrude((0.0, 0.0, 0.0), fin, 0.008, "xy", name="keel"))
        _build_rig(p.rig, d, p.mast_x, deck, _LENGTH / 2)


def _plan_width(x: np.ndarray, length: float, beam: float, transom: float) -> np.ndarray:
    """Half width of a hull's plan at stations x: widest just aft of midships, a point at the bow."""
    xs, xb, xm = -length / 2, length / 2, -0.1 * length
    aft = beam / 2 * (transom + (1 - transom) * (1 - ((xm - x) / (xm - xs)) ** 2))
    fore = beam / 2 * np.clip(1 - ((x - xm) / (xb - xm)) ** 2, 0.0, 1.0) ** 0.7
    return np.where(x < xm, aft, fore)


def _hull(length: float, beam: float, depth: float, shape: HullShape, name: str = "hull", lift: float = 0.0) -> Part:
    """A hull with its keel at y = lift and deck at about lift + depth."""
    bow, sheer = shape.bow * length, shape.sheer
    xs, xb = -length / 2, length / 2
    side = [(xs, depth), (xs, depth * shape.stern_height), (xs + 0.15 * length, 0.0), (xb - bow, 0.0)]
    side += [(xb - bow + bow * t, depth * sheer * t**2) for t in (0.3, 0.55, 0.8, 1.0)]
    stations = np.linspace(xs, xb, 14)
    half = _plan_width(stations, length, beam, shape.transom)
    plan = [(float(x), float(w)) for x, w in zip(stations[:-1], half[:-1], strict=True)] + [(xb, 0.0)]
    plan += [(float(x), -float(w)) for x, w in zip(stations[-2::-1], half[-2::-1], strict=True)]
    top = depth * 1.5
    deadrise, flare = shape.deadrise, shape.flare
    section = [
        (0.0, 0.0),
        (beam / 2, deadrise * depth),
        (beam / 2 + flare, top),
        (-beam / 2 - flare, top),
        (-beam / 2, deadrise * depth),
    ]
    hull = _intersection(
        [
            _extrude((0.0, 0.0, 0.0), side, beam, "xy"),
            _extrude((0.0, depth * 0.75, 0.0), plan, depth, "xz"),
            _extrude((0.0, 0.0, 0.0), section, length, "zy"),
        ],
        name=name,
    )
    return hull.moved(np.eye(3), (0.0, lift, 0.0))


def _build_submarine(s: Submarine, d: _Draft) -> None:
    r, bow, stern, length = s.radius, s.bow, s.stern, _LENGTH
    profile = [(0.0, 0.0)]
    for v in np.linspace(0.0, 1.0, 17)[:-1]:
        if v < stern:  # a long taper to the propeller
            radius = r * (0.15 + 0.85 * math.sin(0.5 * math.pi * v / stern))
        elif v > 1.0 - bow:  # a blunt rounded bow
            radius = r * math.sqrt(max(1.0 - ((v - 1.0 + bow) / bow) ** 2, 0.0))
        else:
            radius = r
        profile.append((radius, length * float(v)))
    profile.append((0.0, length))
    d.add(_revolve((-length / 2, 0.0, 0.0), (1.0, 0.0, 0.0), profile, name="hull"))
    d.add(_cylinder((-length / 2 - 0.03, 0.0, 0.0), (-length / 2 + OVERLAP, 0.0, 0.0), 0.15 * r, name="shaft"))
    blades = s.blades
    for k in range(blades):
        blade = _box((-length / 2 - 0.02, 0.3 * r, 0.0), (0.005, 0.3 * r, 0.012), name="blade")
        d.add(*_about([blade], _rotation((1.0, 0.0, 0.0), 360.0 * k / blades), (0.0, 0.0, 0.0)))
    sail_h, sail_l, sx = s.sail_height, s.sail_length, s.sail_x
    d.add(_rbox((sx, r + sail_h / 2 - OVERLAP, 0.0), (sail_l / 2, sail_h / 2 + OVERLAP, 0.02), 0.015, name="sail"))
    d.add(_box((sx + 0.02, r + sail_h * 0.6, 0.0), (0.02, 0.004, 0.07), name="planes"))
    for angle in (0.0, 90.0):
        fin = _box((-length / 2 + 0.08, 0.0, 0.0), (0.035, 0.004, r * 1.6), name="fin")
        d.add(*_about([fin], _rotation((1.0, 0.0, 0.0), angle), (0.0, 0.0, 0.0)))


def _build_catamaran(c: Catamaran, d: _Draft) -> None:
    depth, spacing = c.depth, c.spacing
    hull = _hull(_LENGTH, c.beam, depth, c.hull)
    d.add(hull.moved(np.eye(3), (0.0, 0.0, spacing)), hull.moved(np.eye(3), (0.0, 0.0, -spacing)))
    if c.deck:
        d.add(_box((-0.05, depth + 0.01, 0.0), (0.25, 0.015, spacing + 0.02), name="deck"))
        deck, mast_x = depth + 0.025, -0.05
        d.style.append("deck")
    else:
        for x in (-0.25, 0.15):
            d.add(_box((x, depth + 0.005, 0.0), (0.02, 0.015, spacing + 0.02), name="beam"))
        deck, mast_x = depth + 0.02, 0.15  # the mast stands on the front beam
        d.style.append("beams")
    if c.rig is not None:
        _build_rig(c.rig, d, mast_x, deck - OVERLAP, 0.45)


def _build_motorboat(m: Motorboat, beam: float, transom: float, deck: float, d: _Draft) -> None:
    cl, ch, cx = m.cabin_length, m.cabin_height, m.cabin_x
    cw = float(_plan_width(np.array([cx + cl / 2]), _LENGTH, beam, transom)[0]) * 0.75
    d.add(_rbox((cx, deck + ch / 2, 0.0), (cl / 2, ch / 2 + SHALLOW_OVERLAP, cw), 0.02, name="cabin"))
    if m.windscreen is not None:
        front = cx + cl / 2 - 0.03
        screen = _box((front, deck + ch + 0.025, 0.0), (0.004, 0.035, cw * 0.9), name="windscreen")
        d.add(*_about([screen], _rotation((0.0, 0.0, 1.0), m.windscreen), (front, deck + ch, 0.0)))
    if m.railing is not None:
        _build_railing(m.railing, d, beam, transom, deck)


def _build_ship(s: Ship, beam: float, transom: float, deck: float, d: _Draft) -> None:
    x, w = s.deckhouse_x, beam * 0.35
    y, ll = deck, 0.0
    for level, (ll, lh) in enumerate(s.deckhouses):
        d.add(_box((x, y + lh / 2, 0.0), (ll / 2, lh / 2 + SHALLOW_OVERLAP, w * 0.9**level), name="deckhouse"))
        y += lh
    funnels = len(s.funnels)
    for k, (height, r_bottom, r_top) in enumerate(s.funnels):
        fx = x - ll / 2 + ll * (k + 1) / (funnels + 1)
        d.add(_frustum((fx, y - OVERLAP, 0.0), (fx - 0.01, y + height, 0.0), r_bottom, r_top, name="funnel"))
    for mx, (mh, yard) in zip((x + 0.3 * ll, s.rear_mast_x), s.masts, strict=False):
        base = y if mx < x + ll / 2 else deck
        d.add(_cylinder((mx, base - OVERLAP, 0.0), (mx, base + mh, 0.0), 0.006, name="mast"))
        d.add(_box((mx, base + mh * 0.8, 0.0), (0.004, 0.004, yard), name="yard"))
    if s.railing is not None:
        _build_railing(s.railing, d, beam, transom, deck)


def _build_rig(rig: Rig, d: _Draft, mast_x: float, deck: float, fore: float) -> None:
    """Mast, boom and sails standing on a deck at height `deck`; the jib reaches forward to x = fore - 0.05."""
    mh = rig.mast_height
    d.add(_cylinder((mast_x, deck - OVERLAP, 0.0), (mast_x, deck + mh, 0.0), 0.008, name="mast"))
    boom_y, boom_l = deck + rig.boom_rise, rig.boom_length
    d.add(_cylinder((mast_x, boom_y, 0.0), (mast_x - boom_l, boom_y, 0.0), 0.006, name="boom"))
    sail_t = rig.sail_thickness
    mainsail = [(mast_x - 0.004, boom_y), (mast_x - boom_l + 0.01, boom_y), (mast_x - 0.004, deck + mh - 0.03)]
    d.add(_extrude((0.0, 0.0, 0.0), mainsail, sail_t, "xy", name="mainsail"))
    if rig.jib:
        low = deck - SHALLOW_OVERLAP
        jib = [(mast_x + 0.004, low), (fore - 0.05, low), (mast_x + 0.004, deck + mh * 0.8)]
        d.add(_extrude((0.0, 0.0, 0.0), jib, sail_t, "xy", name="jib"))


def _build_railing(railing: tuple[float, int], d: _Draft, beam: float, transom: float, deck: float) -> None:
    """Posts along both sides of the deck joined by a rail (one loop per pair of neighbouring posts)."""
    rh, n = railing
    xs = np.linspace(-_LENGTH / 2 + 0.05, 0.15, n)
    widths = _plan_width(xs, _LENGTH, beam, transom) - 0.012
    for sz in (-1.0, 1.0):
        tops = [(float(x), deck + rh, sz * float(w)) for x, w in zip(xs, widths, strict=True)]
        for x, y, z in tops:
            # The post ends inside the rail, off its centre plane and thinner than it: no touching surfaces.
            d.add(_cylinder((x, deck - OVERLAP, z), (x, y + 0.0015, z), 0.003, name="post"))
        d.add(_tube(tops, 0.0045, name="rail"))
    d.style.append("railing")
