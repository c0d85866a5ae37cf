"""Procedural car generator."""

from __future__ import annotations

import numpy as np

from dlsr.shapes.builders import (
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
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.parts import Part
from dlsr.shapes.rotations import _rotation

# Cars (02958343): along x, bonnet at +x: sedan, hatchback, SUV, van, pickup (open bed) and sports bodies made of a
# side profile, a rounded plan and a tumblehome section; wheel arches; solid or spoked wheels (spokes = loops);
# spoilers and roof racks on posts (loops), mirrors.


_CAR_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    # (windscreen base x, roof front x, roof back x, rear window base x, rear deck rise) as fractions of length
    "sedan": (0.15, 0.0, -0.22, -0.34, 0.08),
    "hatch": (0.18, 0.03, -0.36, -0.48, 0.3),
    "suv": (0.22, 0.12, -0.45, -0.49, 0.75),
    "van": (0.4, 0.32, -0.47, -0.495, 0.85),
    "pickup": (0.2, 0.08, -0.1, -0.12, 0.05),
    "sports": (0.06, -0.08, -0.2, -0.45, 0.1),
}


def _car(rng: np.random.Generator, d: _Draft) -> None:
    kind = _pick(rng, {"sedan": 0.28, "hatch": 0.15, "suv": 0.2, "van": 0.1, "pickup": 0.15, "sports": 0.12})
    d.style.append(kind)
    length = 1.0
    width = length * _u(rng, 0.38, 0.46)
    gc = _u(rng, 0.04, 0.08) if kind != "sports" else _u(rng, 0.03, 0.05)
    rw, ww = _u(rng, 0.075, 0.1), _u(rng, 0.05, 0.075)
    belt = gc + {"suv": _u(rng, 0.2, 0.26), "van": _u(rng, 0.2, 0.26), "pickup": _u(rng, 0.2, 0.26)}.get(
        kind, _u(rng, 0.15, 0.2)
    )
    cabin = {
        "sedan": _u(rng, 0.12, 0.16),
        "hatch": _u(rng, 0.13, 0.17),
        "suv": _u(rng, 0.16, 0.21),
        "van": _u(rng, 0.22, 0.3),
        "pickup": _u(rng, 0.14, 0.18),
        "sports": _u(rng, 0.08, 0.11),
    }[kind]
    roof = belt + cabin
    ws, rf, rb, rw_x, deck = (v + _u(rng, -0.02, 0.02) for v in _CAR_PROFILES[kind])
    hl = length / 2
    side = [
        (-hl, gc + 0.04),
        (-hl + 0.04, gc),
        (hl - 0.04, gc),
        (hl, gc + 0.04),
        (hl, belt - 0.04),
        (hl - 0.06, belt - _u(rng, 0.0, 0.02)),
        (ws * length, belt + 0.01),
        (rf * length, roof),
        (rb * length, roof),
        (max(rw_x * length, -hl + 0.01), belt + deck * cabin),
        (-hl + 0.005, belt + deck * cabin * 0.9),
        (-hl, belt - 0.04),
    ]
    th = _u(rng, 0.03, 0.07)
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
            _extrude((0.0, roof / 2, 0.0), _rounded_rect(hl, width / 2, _u(rng, 0.03, 0.1), 5), roof, "xz"),
            _extrude((0.0, 0.0, 0.0), section, length, "zy"),
        ]
    )
    wheelbase = length * _u(rng, 0.56, 0.66)
    shift = _u(rng, -0.03, 0.03)
    axles = [shift - wheelbase / 2, shift + wheelbase / 2]
    arch_depth = 0.7 * ww
    cuts: list[Part] = []
    for x in axles:
        for sz in (-1.0, 1.0):
            inner = sz * (width / 2 - arch_depth)
            cuts.append(_cylinder((x, rw, inner), (x, rw, sz * (width / 2 + 0.05)), rw + 0.012, name="arch"))
    if kind == "pickup":
        bed_front = rb * length - 0.03
        cuts.append(
            _box(
                ((bed_front - hl + 0.03) / 2, (belt - 0.08 + roof) / 2, 0.0),
                ((bed_front + hl - 0.03) / 2, (roof + 0.08 - belt) / 2, width / 2 - 0.025),
                name="bed",
            )
        )
    d.add(_difference([shell, *cuts], name="body"))
    spoked = rng.random() < 0.3
    protrude = _u(rng, -0.005, 0.01)
    for x in axles:
        for sz in (-1.0, 1.0):
            z_out = sz * (width / 2 + protrude)
            z_in = sz * (width / 2 - ww + protrude)
            if not spoked:
                d.add(_cylinder((x, rw, z_in), (x, rw, z_out), rw, name="wheel"))
                continue
            tire = min(ww / 2, 0.3 * rw)
            zc = (z_in + z_out) / 2
            d.add(_torus((x, rw, zc), rw - tire, tire, axis=(0.0, 0.0, 1.0), name="tire"))
            d.add(_cylinder((x, rw, sz * (width / 2 - arch_depth - 0.03)), (x, rw, zc), 0.25 * rw, name="hub"))
            n = int(rng.integers(3, 7))
            for k in range(n):
                spoke = _box((x + (rw - tire) / 2, rw, zc), ((rw - tire) / 2, 0.008, 0.006), name="spoke")
                d.add(*_about([spoke], _rotation((0.0, 0.0, 1.0), 360.0 * k / n), (x, rw, zc)))
    d.style.append("spoked" if spoked else "solid-wheels")
    if kind in ("sedan", "sports", "hatch") and rng.random() < 0.3:
        top = belt + deck * cabin
        sy = top + _u(rng, 0.03, 0.06)
        xs = -hl + 0.05
        d.add(_box((xs, sy, 0.0), (0.035, 0.006, width / 2 - 0.02), name="spoiler"))
        for sz in (-1.0, 1.0):
            d.add(
                _box((xs, (sy + top - 0.02) / 2, sz * width * 0.3), (0.01, (sy - top + 0.02) / 2, 0.006), name="strut")
            )
        d.style.append("spoiler")
    if kind in ("suv", "van", "hatch") and rng.random() < 0.35:
        x0, x1 = rf * length - 0.05, rb * length + 0.05
        for sz in (-1.0, 1.0):
            z = sz * (width / 2 - th - 0.02)
            rail = [(x0, roof - 0.01, z), (x0, roof + 0.03, z), (x1, roof + 0.03, z), (x1, roof - 0.01, z)]
            d.add(_tube(rail, 0.007, name="roof-rail"))
        d.style.append("roof-rack")
    if rng.random() < 0.6:
        for sz in (-1.0, 1.0):
            d.add(_box((ws * length - 0.02, belt + 0.02, sz * (width / 2 + 0.02)), (0.012, 0.015, 0.03), name="mirror"))
