"""Airplanes (02691156): fuselage along x with the nose at +x, swept / straight / delta wings with dihedral,
conventional, T, V or twin tails, hollow or closed engine nacelles (hollow = loops), propellers, biplanes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _about, _box, _cylinder, _ellipsoid, _extrude, _mirror_z, _revolve, _ring, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.rotations import _rotation

_LENGTH = 1.0
"""Every airplane's fuselage is one unit long, nose at +x."""


@dataclass(frozen=True)
class Fuselage:
    radius: float
    tail_length: float  # the tapering tail cone, as a fraction of the length
    nose_length: float  # fraction of the length
    tail_radius: float  # the tail's end radius as a fraction of the fuselage's


@dataclass(frozen=True)
class Wing:
    span: float  # of one half
    root_chord: float
    tip_chord: float  # fraction of the root chord
    sweep: float  # of the leading edge, degrees
    thickness: float
    root_le: float  # x of the root's leading edge
    height: float  # y of the wing's root
    dihedral: float  # degrees
    mount: str | None  # airliners and bizjets: "low", "mid" or "high" (None otherwise)


@dataclass(frozen=True)
class Tail:
    style: str  # "conventional", "t", "v" or "twin"
    fin_chord: float
    fin_height: float
    fin_sweep: float  # degrees
    fin_tip: float  # the fin tip's chord as a fraction of the root's
    fin_thickness: float
    stabiliser_span: float  # fraction of the wing's span
    stabiliser_chord: float  # fraction of the wing's root chord
    stabiliser_sweep: float  # degrees more than the wing's
    stabiliser_thickness: float
    fin_angles: tuple[float, ...]  # v and twin tails: each fin's cant, degrees (() otherwise)
    stabiliser_dihedral: float  # conventional and twin tails, degrees (0 otherwise)


@dataclass(frozen=True)
class Engines:
    """Airliners: nacelles under the wings; bizjets: nacelles beside the tail."""

    radius: float
    length: float
    stations: tuple[float, ...]  # airliners: span fractions of the engine pairs (() for bizjets)
    hollow: bool  # airliners: all nacelles are open rings
    drops: tuple[float, ...]  # airliners: each pair's gap below the wing
    leads: tuple[float, ...]  # airliners: how far each pair's front sits ahead of the wing's leading edge
    walls: tuple[float, ...]  # airliners with hollow nacelles: each nacelle's wall, pair by pair
    offsets: tuple[float, ...]  # bizjets: each nacelle's gap from the fuselage
    rings: tuple[bool, ...]  # bizjets: whether each nacelle is an open ring


@dataclass(frozen=True)
class Propeller:
    """Light aircraft and biplanes: a propeller at the nose, struts, a biplane's upper wing, landing gear."""

    spinner: float  # radius
    blades: int
    blade_length: float
    biplane_gap: float  # biplanes: the upper wing's height above the fuselage (0 otherwise)
    upper_span: float  # biplanes: the upper wing's span as a multiple of the lower's (0 otherwise)
    struts: bool  # high-winged light aircraft: struts from the fuselage to the wings
    gear: bool  # fixed landing gear


@dataclass(frozen=True)
class AirplaneParams:
    kind: str  # "airliner", "fighter", "light", "bizjet" or "biplane"
    fuselage: Fuselage
    wing: Wing
    tail: Tail
    engines: Engines | None  # airliners and bizjets
    propeller: Propeller | None  # light aircraft and biplanes


def draw_airplane(rng: np.random.Generator) -> AirplaneParams:
    """An airplane's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    kind = _pick(rng, {"airliner": 0.35, "fighter": 0.2, "light": 0.2, "bizjet": 0.13, "biplane": 0.12})
    rf = _u(rng, 0.035, 0.07) if kind != "light" else _u(rng, 0.04, 0.06)
    tail_length = _u(rng, 0.2, 0.35)
    nose_length = _u(rng, 0.2, 0.3) if kind == "fighter" else _u(rng, 0.06, 0.15)
    tail_radius = _u(rng, 0.45, 0.7) if kind == "fighter" else _u(rng, 0.12, 0.35)
    fuselage = Fuselage(rf, tail_length, nose_length, tail_radius)
    wing = _draw_wing(rng, kind, rf)
    tail = _draw_tail(rng, kind)
    engines = propeller = None
    if kind == "airliner":
        engines = _draw_airliner_engines(rng)
    elif kind == "bizjet":
        rn, ln = _u(rng, 0.022, 0.035), _u(rng, 0.1, 0.15)
        offsets, rings = [], []
        for _ in range(2):
            offsets.append(_u(rng, 0.01, 0.02))
            rings.append(rng.random() < 0.5)
        engines = Engines(rn, ln, (), False, (), (), (), tuple(offsets), tuple(rings))
    elif kind in ("light", "biplane"):
        spinner = _u(rng, 0.02, 0.035)
        blades, blade_length = int(rng.integers(2, 4)), _u(rng, 0.1, 0.16)
        gap = upper = 0.0
        struts = False
        if kind == "biplane":
            gap, upper = _u(rng, 0.12, 0.2), _u(rng, 1.0, 1.1)
        else:
            struts = wing.height > 0 and rng.random() < 0.6
        propeller = Propeller(spinner, blades, blade_length, gap, upper, struts, gear=rng.random() < 0.6)
    return AirplaneParams(kind, fuselage, wing, tail, engines, propeller)


def _draw_wing(rng: np.random.Generator, kind: str, rf: float) -> Wing:
    mount = None
    if kind == "fighter":
        span, cr = _u(rng, 0.25, 0.38), _u(rng, 0.3, 0.45)
        tip, sweep, thickness = _u(rng, 0.05, 0.25), _u(rng, 35.0, 60.0), _u(rng, 0.01, 0.016)
        root_le, height, dihedral = _u(rng, -0.05, 0.1), _u(rng, -0.3, 0.2) * rf, _u(rng, -5.0, 3.0)
    elif kind in ("light", "biplane"):
        span, cr = _u(rng, 0.45, 0.6), _u(rng, 0.12, 0.18)
        tip, sweep, thickness = _u(rng, 0.6, 1.0), _u(rng, 0.0, 6.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.15, 0.28), _u(rng, 0.0, 6.0)
        height = (rf * 0.7 if rng.random() < 0.6 else -rf * 0.6) if kind == "light" else -0.6 * rf
    else:
        span, cr = _u(rng, 0.4, 0.55), _u(rng, 0.15, 0.25)
        tip, sweep, thickness = _u(rng, 0.25, 0.5), _u(rng, 15.0, 38.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.05, 0.18), _u(rng, 0.0, 7.0)
        mount = _pick(rng, {"low": 0.7, "mid": 0.15, "high": 0.15})
        height = {"low": -0.55 * rf, "mid": 0.0, "high": 0.6 * rf}[mount]
    return Wing(span, cr, tip, sweep, thickness, root_le, height, dihedral, mount)


def _draw_tail(rng: np.random.Generator, kind: str) -> Tail:
    weights = (
        {"conventional": 0.5, "t": 0.2, "v": 0.1, "twin": 0.2}
        if kind == "fighter"
        else {"conventional": 0.6, "t": 0.3 if kind != "bizjet" else 0.8, "v": 0.1}
    )
    style = _pick(rng, weights)
    cf, hf = _u(rng, 0.12, 0.22), _u(rng, 0.1, 0.2)
    fin_sweep = _u(rng, 25.0, 50.0)
    fin_tip = _u(rng, 0.4, 0.7)
    ft = _u(rng, 0.01, 0.016)
    stab_span, stab_chord = _u(rng, 0.3, 0.42), _u(rng, 0.4, 0.65)
    stab_sweep = _u(rng, 0.0, 10.0)
    st = _u(rng, 0.009, 0.014)
    angles: tuple[float, ...] = ()
    if style == "v":
        angles = (_u(rng, 35.0, 50.0), _u(rng, 35.0, 50.0))
    elif style == "twin":
        angles = (_u(rng, 10.0, 20.0), _u(rng, 10.0, 20.0))
    dihedral = _u(rng, 0.0, 6.0) if style in ("conventional", "twin") else 0.0
    return Tail(style, cf, hf, fin_sweep, fin_tip, ft, stab_span, stab_chord, stab_sweep, st, angles, dihedral)


def _draw_airliner_engines(rng: np.random.Generator) -> Engines:
    stations = (0.32,) if rng.random() < 0.7 else (0.28, 0.58)
    hollow = rng.random() < 0.6
    rn, ln = _u(rng, 0.028, 0.045), _u(rng, 0.12, 0.2)
    drops, leads, walls = [], [], []
    for _ in stations:
        drops.append(_u(rng, 0.008, 0.02))
        leads.append(_u(rng, 0.03, 0.08))
        if hollow:
            walls += [_u(rng, 0.009, 0.013), _u(rng, 0.009, 0.013)]
    return Engines(rn, ln, stations, hollow, tuple(drops), tuple(leads), tuple(walls), (), ())


def build_airplane(p: AirplaneParams, d: _Draft) -> None:
    """The airplane `p` describes, added to `d` (fuselage along x from -0.5 to 0.5, nose at +x)."""
    d.style.append(p.kind)
    f, w = p.fuselage, p.wing
    length, rf = _LENGTH, f.radius
    tail_len = length * f.tail_length
    nose_len = length * f.nose_length
    r_tail = rf * f.tail_radius
    profile = [(0.0, 0.0), (r_tail, 0.0)]
    profile += [(r_tail + (rf - r_tail) * math.sin(t * math.pi / 2), tail_len * t) for t in (0.35, 0.7, 1.0)]
    for t in np.linspace(0.0, 1.0, 7)[1:-1]:
        r = rf * (1 - t**1.4) if p.kind == "fighter" else rf * math.sqrt(1 - t**2)
        profile.append((r, length - nose_len + nose_len * float(t)))
    profile.append((0.0, length))
    profile.insert(5, (rf, length - nose_len))
    d.add(_revolve((-length / 2, 0.0, 0.0), (1.0, 0.0, 0.0), profile, name="fuselage"))
    if w.mount is not None:
        d.style.append(f"{w.mount}-wing")
    ct = w.root_chord * w.tip_chord
    d.add(*_wing(w.root_le, w.span, w.root_chord, ct, w.sweep, w.thickness, w.height, w.dihedral))
    _build_tail(p.tail, d, length, r_tail, w.span, w.root_chord, w.sweep)
    if p.engines is not None and p.kind == "airliner":
        _build_airliner_engines(p.engines, w, d)
    elif p.engines is not None:
        _build_bizjet_engines(p.engines, rf, tail_len, d)
    elif p.propeller is not None:
        _build_propeller(p, p.propeller, d)


def _wing(
    root_le: float,
    span: float,
    root_chord: float,
    tip_chord: float,
    sweep: float,
    thickness: float,
    y: float,
    dihedral: float,
    name: str = "wing",
) -> list[Part]:
    """Both halves of a wing (planform in x-z, extruded in y) rooted at z = 0, tips raised by `dihedral`."""
    tip_le = root_le - span * math.tan(math.radians(sweep))
    half = [(root_le, 0.0), (tip_le, span), (tip_le - tip_chord, span), (root_le - root_chord, 0.0)]
    right = _extrude((0.0, y, 0.0), half, thickness / 2, "xz", name=name)
    right = _about([right], _rotation((1.0, 0.0, 0.0), -dihedral), (0.0, y, 0.0))[0]
    return [right, *_mirror_z([right])]


def _wing_point(root_le: float, span: float, sweep: float, y: float, dihedral: float, f: float) -> np.ndarray:
    """Leading-edge point at span fraction f of a right wing built by `_wing`."""
    z = f * span
    return np.array([root_le - z * math.tan(math.radians(sweep)), y + z * math.tan(math.radians(dihedral)), z])


def _build_airliner_engines(e: Engines, w: Wing, d: _Draft) -> None:
    rn, ln, hollow = e.radius, e.length, e.hollow
    walls = iter(e.walls)
    for f, drop, lead in zip(e.stations, e.drops, e.leads, strict=True):
        le = _wing_point(w.root_le, w.span, w.sweep, w.height, w.dihedral, f)
        centre_y = le[1] - w.thickness / 2 - rn - drop
        front = le[0] + lead
        for sz in (-1.0, 1.0):
            z = sz * le[2]
            axis_start = (front - ln, centre_y, z)
            if hollow:
                wall = next(walls)
                d.add(_ring(axis_start, (1.0, 0.0, 0.0), rn * 0.75 - wall, rn - wall, ln, wall, name="nacelle"))
            else:
                outline = [(0.0, -0.03), (rn * 0.7, 0.0), (rn, ln * 0.8), (rn * 0.9, ln), (0.0, ln)]
                d.add(_revolve(axis_start, (1.0, 0.0, 0.0), outline, name="nacelle"))
            top = centre_y + rn * 0.75 - 0.004
            half = (min(0.05, ln / 3), (le[1] - top) / 2, 0.006)
            d.add(_box((le[0] - 0.02, (top + le[1]) / 2, z), half, name="pylon"))
    d.style.append(("hollow" if hollow else "closed") + f"-engines{2 * len(e.stations)}")


def _build_bizjet_engines(e: Engines, rf: float, tail_len: float, d: _Draft) -> None:
    rn, ln = e.radius, e.length
    x0 = -_LENGTH / 2 + tail_len * 0.9
    for sz, offset, ring in zip((-1.0, 1.0), e.offsets, e.rings, strict=True):
        z = sz * (rf * 0.9 + rn + offset)
        if ring:
            wall = 0.009
            d.add(_ring((x0, rf * 0.3, z), (1.0, 0.0, 0.0), rn * 0.8 - wall, rn - wall, ln, wall, name="nacelle"))
        else:
            outline = [(0.0, 0.0), (rn * 0.8, 0.0), (rn, ln * 0.7), (0.0, ln)]
            d.add(_revolve((x0, rf * 0.3, z), (1.0, 0.0, 0.0), outline, name="nacelle"))
        d.add(_box((x0 + ln * 0.5, rf * 0.3, z / 2), (0.025, 0.006, abs(z) / 2), name="pylon"))


def _build_propeller(p: AirplaneParams, prop: Propeller, d: _Draft) -> None:
    w, rf = p.wing, p.fuselage.radius
    root_le, span, cr, sweep, tw = w.root_le, w.span, w.root_chord, w.sweep, w.thickness
    tip = _LENGTH / 2
    spinner = prop.spinner
    d.add(_ellipsoid((tip - SHALLOW_OVERLAP, 0.0, 0.0), (spinner * 1.5, spinner, spinner), name="spinner"))
    n, blade = prop.blades, prop.blade_length
    for k in range(n):
        b = _box((tip, blade / 2, 0.0), (0.004, blade / 2, 0.012), name="blade")
        d.add(*_about([b], _rotation((1.0, 0.0, 0.0), 360.0 * k / n + 15.0), (tip, 0.0, 0.0)))
    if p.kind == "biplane":
        ct = cr * w.tip_chord
        upper_y = rf + prop.biplane_gap
        upper_span = span * prop.upper_span
        d.add(*_wing(root_le + 0.02, upper_span, cr, ct, sweep, tw, upper_y, 0.0, name="upper-wing"))
        lower = _wing_point(root_le, span, sweep, w.height, w.dihedral, 0.65)
        chord = cr + (ct - cr) * 0.65
        for x, x_strut in ((root_le - 0.02, lower[0] - 0.02), (root_le - cr + 0.03, lower[0] - chord + 0.03)):
            for sz in (-1.0, 1.0):
                d.add(_tube([(x, rf * 0.5, sz * rf * 0.5), (x + 0.01, upper_y, sz * rf * 1.2)], 0.005, name="cabane"))
                # Interplane struts at 65 % span, inside both wings' chords there (the upper wing leads by 0.02).
                strut = [(x_strut, lower[1], sz * lower[2]), (x_strut + 0.01, upper_y, sz * lower[2])]
                d.add(_tube(strut, 0.005, name="strut"))
    elif prop.struts:
        for sz in (-1.0, 1.0):
            q = _wing_point(root_le, span, sweep, w.height, w.dihedral, 0.45)
            strut = [(root_le - cr / 2, -rf * 0.6, sz * rf * 0.6), (q[0] - cr / 2, q[1] - tw / 2, sz * q[2])]
            d.add(_tube(strut, 0.006, name="strut"))
        d.style.append("struts")
    if prop.gear:
        gear_x = root_le - cr * 0.3
        for sz in (-1.0, 1.0):
            foot = (gear_x, -rf - 0.06, sz * 0.07)
            d.add(_tube([(gear_x, -rf * 0.5, sz * rf * 0.4), foot], 0.005, name="gear"))
            axle = ((foot[0], foot[1], foot[2] - sz * 0.012), (foot[0], foot[1], foot[2] + sz * 0.012))
            d.add(_cylinder(*axle, 0.02, name="wheel"))
        d.style.append("gear")


def _build_tail(t: Tail, d: _Draft, length: float, r_tail: float, span: float, cr: float, sweep: float) -> None:
    """Fin(s) and stabiliser at the tail end (x = -length / 2) of a fuselage whose tail radius is r_tail."""
    d.style.append(f"{t.style}-tail")
    cf, hf, ft, st = t.fin_chord, t.fin_height, t.fin_thickness, t.stabiliser_thickness
    c_tip = cf * t.fin_tip
    y0 = 0.5 * r_tail  # inside the fuselage everywhere along the fin root
    shift = hf * math.tan(math.radians(t.fin_sweep))
    le = -length / 2 + max(cf, shift + c_tip) + OVERLAP  # root leading edge; the tip's trailing edge ends at the tail
    fin = [(le - cf, y0), (le, y0), (le - shift, y0 + hf), (le - shift - c_tip, y0 + hf)]
    stab_span, stab_c = span * t.stabiliser_span, cr * t.stabiliser_chord
    stab_sweep = sweep + t.stabiliser_sweep
    if t.style == "v":
        for sz, angle in zip((-1.0, 1.0), t.fin_angles, strict=True):
            f = _extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="v-fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * angle), (0.0, y0, 0.0)))
        return
    if t.style == "twin":
        for sz, angle in zip((-1.0, 1.0), t.fin_angles, strict=True):
            f = _extrude((0.0, 0.0, sz * r_tail * 0.8), fin, ft / 2, "xy", name="fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * angle), (0.0, y0, sz * r_tail * 0.8)))
    else:
        d.add(_extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="fin"))
    if t.style == "t":
        stab_c = min(stab_c, c_tip + 0.03)
        stab_le = le - shift + OVERLAP
        stab_y = y0 + hf - st * 0.6
        d.add(*_wing(stab_le, stab_span, stab_c, stab_c * 0.6, stab_sweep, st, stab_y, 0.0, name="stabiliser"))
    else:
        stab_le = -length / 2 + stab_c + OVERLAP
        dihedral = t.stabiliser_dihedral
        d.add(*_wing(stab_le, stab_span, stab_c, stab_c * 0.5, stab_sweep, st, 0.0, dihedral, name="stabiliser"))
