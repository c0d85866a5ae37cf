"""Cars (02958343): along x, bonnet at +x: sedan, hatchback, SUV, van, pickup (open bed) and sports bodies made of a
side profile, a rounded plan and a tumblehome section; wheel arches; solid or spoked wheels (spokes = loops);
spoilers and roof racks on posts (loops), mirrors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import (
    _about,
    _box,
    _cylinder,
    _difference,
    _extrude,
    _intersection,
    _rounded_rect,
    _torus,
    _tube,
)
from dlsr.synth.shapes.draft import OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.rotations import _rotation

_LENGTH = 1.0
"""Every car is one unit long, bonnet at +x."""

_CAR_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    # (windscreen base x, roof front x, roof back x, rear window base x, rear deck rise) as fractions of length
    "sedan": (0.15, 0.0, -0.22, -0.34, 0.08),
    "hatch": (0.18, 0.03, -0.36, -0.48, 0.3),
    "suv": (0.22, 0.12, -0.45, -0.49, 0.75),
    "van": (0.4, 0.32, -0.47, -0.495, 0.85),
    "pickup": (0.2, 0.08, -0.1, -0.12, 0.05),
    "sports": (0.06, -0.08, -0.2, -0.45, 0.1),
}


@dataclass(frozen=True)
class CarParams:
    kind: str  # "sedan", "hatch", "suv", "van", "pickup" or "sports"
    width: float  # fraction of the length
    ground_clearance: float
    wheel_radius: float
    wheel_width: float
    belt: float  # height of the belt line (the windows' bottom edge) above the sills
    cabin: float  # height of the roof above the belt line
    profile: tuple[float, float, float, float, float]  # _CAR_PROFILES[kind], each moved a little
    bonnet_drop: float  # how far the bonnet's rear edge sits below the belt line
    tumblehome: float  # how far the roof's sides lean in
    plan_rounding: float  # the plan's corner radius
    wheelbase: float  # fraction of the length
    wheel_shift: float  # of the axles' midpoint along x
    spoked: bool  # spoked wheels (else solid)
    wheel_protrusion: float  # of the wheels' outer faces beyond the body's sides
    spokes: tuple[int, ...]  # spoked wheels: each wheel's spoke count, axle by axle (() otherwise)
    spoiler: float | None  # a rear spoiler's height above the deck, or None
    roof_rack: bool
    mirrors: bool


def draw_car(rng: np.random.Generator) -> CarParams:
    """A car's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    kind = _pick(rng, {"sedan": 0.28, "hatch": 0.15, "suv": 0.2, "van": 0.1, "pickup": 0.15, "sports": 0.12})
    width = _LENGTH * _u(rng, 0.38, 0.46)
    gc = _u(rng, 0.04, 0.08) if kind != "sports" else _u(rng, 0.03, 0.05)
    rw, ww = _u(rng, 0.075, 0.1), _u(rng, 0.05, 0.075)
    # Every kind's range is drawn, in this order, whichever is used.
    tall_belts = {"suv": _u(rng, 0.2, 0.26), "van": _u(rng, 0.2, 0.26), "pickup": _u(rng, 0.2, 0.26)}
    belt = gc + tall_belts.get(kind, _u(rng, 0.15, 0.2))
    cabin = {
        "sedan": _u(rng, 0.12, 0.16),
        "hatch": _u(rng, 0.13, 0.17),
        "suv": _u(rng, 0.16, 0.21),
        "van": _u(rng, 0.22, 0.3),
        "pickup": _u(rng, 0.14, 0.18),
        "sports": _u(rng, 0.08, 0.11),
    }[kind]
    ws, rf, rb, rw_x, deck = (v + _u(rng, -0.02, 0.02) for v in _CAR_PROFILES[kind])
    bonnet_drop = _u(rng, 0.0, 0.02)
    tumblehome = _u(rng, 0.03, 0.07)
    plan_rounding = _u(rng, 0.03, 0.1)
    wheelbase, shift = _u(rng, 0.56, 0.66), _u(rng, -0.03, 0.03)
    spoked = rng.random() < 0.3
    protrusion = _u(rng, -0.005, 0.01)
    spokes = tuple(int(rng.integers(3, 7)) for _ in range(4)) if spoked else ()
    spoiler = None
    if kind in ("sedan", "sports", "hatch") and rng.random() < 0.3:
        spoiler = _u(rng, 0.03, 0.06)
    return CarParams(
        kind=kind,
        width=width,
        ground_clearance=gc,
        wheel_radius=rw,
        wheel_width=ww,
        belt=belt,
        cabin=cabin,
        profile=(ws, rf, rb, rw_x, deck),
        bonnet_drop=bonnet_drop,
        tumblehome=tumblehome,
        plan_rounding=plan_rounding,
        wheelbase=wheelbase,
        wheel_shift=shift,
        spoked=spoked,
        wheel_protrusion=protrusion,
        spokes=spokes,
        spoiler=spoiler,
        roof_rack=kind in ("suv", "van", "hatch") and rng.random() < 0.35,
        mirrors=rng.random() < 0.6,
    )


def build_car(p: CarParams, d: _Draft) -> None:
    """The car `p` describes, added to `d` (along x from -0.5 to 0.5, bonnet at +x, wheels on y = 0)."""
    d.style.append(p.kind)
    length, width, belt = _LENGTH, p.width, p.belt
    roof = belt + p.cabin
    axles = [p.wheel_shift - length * p.wheelbase / 2, p.wheel_shift + length * p.wheelbase / 2]
    d.add(_body(p, axles))
    _build_wheels(p, axles, d)
    d.style.append("spoked" if p.spoked else "solid-wheels")
    ws, rf, rb, _, deck = p.profile
    hl = length / 2
    if p.spoiler is not None:
        top = belt + deck * p.cabin
        sy = top + p.spoiler
        xs = -hl + 0.05
        d.add(_box((xs, sy, 0.0), (0.035, 0.006, width / 2 - 0.02), name="spoiler"))
        for sz in (-1.0, 1.0):
            strut_half = (0.01, (sy - top + 0.02) / 2, 0.006)
            d.add(_box((xs, (sy + top - 0.02) / 2, sz * width * 0.3), strut_half, name="strut"))
        d.style.append("spoiler")
    if p.roof_rack:
        x0, x1 = rf * length - 0.05, rb * length + 0.05
        for sz in (-1.0, 1.0):
            z = sz * (width / 2 - p.tumblehome - 0.02)
            rail = [(x0, roof - OVERLAP, z), (x0, roof + 0.03, z), (x1, roof + 0.03, z), (x1, roof - OVERLAP, z)]
            d.add(_tube(rail, 0.007, name="roof-rail"))
        d.style.append("roof-rack")
    if p.mirrors:
        for sz in (-1.0, 1.0):
            d.add(_box((ws * length - 0.02, belt + 0.02, sz * (width / 2 + 0.02)), (0.012, 0.015, 0.03), name="mirror"))


def _body(p: CarParams, axles: list[float]) -> Part:
    """The body: side profile, plan and section intersected, minus the wheel arches (and a pickup's bed)."""
    length, width, gc, belt, cabin = _LENGTH, p.width, p.ground_clearance, p.belt, p.cabin
    roof = belt + cabin
    ws, rf, rb, rw_x, deck = p.profile
    hl = length / 2
    side = [
        (-hl, gc + 0.04),
        (-hl + 0.04, gc),
        (hl - 0.04, gc),
        (hl, gc + 0.04),
        (hl, belt - 0.04),
        (hl - 0.06, belt - p.bonnet_drop),
        (ws * length, belt + 0.01),
        (rf * length, roof),
        (rb * length, roof),
        (max(rw_x * length, -hl + 0.01), belt + deck * cabin),
        (-hl + 0.005, belt + deck * cabin * 0.9),
        (-hl, belt - 0.04),
    ]
    th = p.tumblehome
    section = [
        (-width / 2, 0.0),
        (width / 2, 0.0),
        (width / 2, belt),
        (width / 2 - th, roof + 0.05),
        (-width / 2 + th, roof + 0.05),
        (-width / 2, belt),
    ]
    shell = _intersection(
        [
            _extrude((0.0, 0.0, 0.0), side, width, "xy"),
            _extrude((0.0, roof / 2, 0.0), _rounded_rect(hl, width / 2, p.plan_rounding, 5), roof, "xz"),
            _extrude((0.0, 0.0, 0.0), section, length, "zy"),
        ]
    )
    rw, arch_depth = p.wheel_radius, 0.7 * p.wheel_width
    cuts: list[Part] = []
    for x in axles:
        for sz in (-1.0, 1.0):
            inner = sz * (width / 2 - arch_depth)
            cuts.append(_cylinder((x, rw, inner), (x, rw, sz * (width / 2 + 0.05)), rw + 0.012, name="arch"))
    if p.kind == "pickup":
        bed_front = rb * length - 0.03
        cuts.append(
            _box(
                ((bed_front - hl + 0.03) / 2, (belt - 0.08 + roof) / 2, 0.0),
                ((bed_front + hl - 0.03) / 2, (roof + 0.08 - belt) / 2, width / 2 - 0.025),
                name="bed",
            )
        )
    return _difference([shell, *cuts], name="body")


def _build_wheels(p: CarParams, axles: list[float], d: _Draft) -> None:
    width, rw, ww = p.width, p.wheel_radius, p.wheel_width
    arch_depth = 0.7 * ww
    spokes = iter(p.spokes)
    for x in axles:
        for sz in (-1.0, 1.0):
            z_out = sz * (width / 2 + p.wheel_protrusion)
            z_in = sz * (width / 2 - ww + p.wheel_protrusion)
            if not p.spoked:
                d.add(_cylinder((x, rw, z_in), (x, rw, z_out), rw, name="wheel"))
                continue
            tire = min(ww / 2, 0.3 * rw)
            zc = (z_in + z_out) / 2
            d.add(_torus((x, rw, zc), rw - tire, tire, axis=(0.0, 0.0, 1.0), name="tire"))
            d.add(_cylinder((x, rw, sz * (width / 2 - arch_depth - 0.03)), (x, rw, zc), 0.25 * rw, name="hub"))
            n = next(spokes)
            for k in range(n):
                spoke = _box((x + (rw - tire) / 2, rw, zc), ((rw - tire) / 2, 0.008, 0.006), name="spoke")
                d.add(*_about([spoke], _rotation((0.0, 0.0, 1.0), 360.0 * k / n), (x, rw, zc)))
