"""Procedural sofa generator."""

from __future__ import annotations

import itertools

import numpy as np

from dlsr.shapes.builders import _about, _box, _rbox
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.legs import _legs
from dlsr.shapes.rotations import _rotation

# Sofas (04256520): long along z, back on -x; straight or L-shaped (a chaise towards +x), arms on both, one or no
# side (some open), cushions, short legs or a plinth.


def _sofa(rng: np.random.Generator, d: _Draft) -> None:
    length, depth = _u(rng, 1.3, 2.4), _u(rng, 0.75, 1.0)
    seat_h = _u(rng, 0.38, 0.48)
    legs = rng.random() < 0.6
    base_y = _u(rng, 0.05, 0.15) if legs else 0.0
    arms = _pick(rng, {"both": 0.6, "none": 0.2, "one": 0.2})
    chaise = rng.random() < 0.3
    chaise_side = float(rng.choice([-1.0, 1.0]))
    d.style += [arms, "chaise" if chaise else "straight", "legs" if legs else "plinth"]
    hx, hz = depth / 2, length / 2
    back_top, bt = _u(rng, 0.7, 0.95), _u(rng, 0.12, 0.25)
    aw, ah = _u(rng, 0.08, 0.22), _u(rng, 0.5, 0.7)
    cushion_t = _u(rng, 0.06, 0.14)
    y_base = seat_h - cushion_t
    radius = _u(rng, 0.01, 0.05)
    d.add(_box((0.0, (base_y + y_base) / 2, 0.0), (hx, (y_base - base_y) / 2, hz), name="base"))
    d.add(
        _rbox((-hx + bt / 2, (base_y + back_top) / 2, 0.0), (bt / 2, (back_top - base_y) / 2, hz), radius, name="back")
    )
    sides = {"both": [-1.0, 1.0], "none": [], "one": [float(rng.choice([-1.0, 1.0]))]}[arms]
    if chaise:
        sides = [s for s in sides if s != chaise_side]
    for sz in sides:
        zc = sz * (hz - aw / 2)
        d.add(
            _rbox(
                (0.02, (base_y + ah) / 2, zc),
                (hx + 0.02, (ah - base_y) / 2, aw / 2),
                min(radius, aw / 2 * 0.9),
                name="arm",
            )
        )
        if ah - 0.08 > seat_h + 0.1 and rng.random() < 0.25:
            x0, x1 = -hx + bt + 0.05, hx - 0.08
            d.cut(
                _box(
                    ((x0 + x1) / 2, (seat_h + 0.03 + ah - 0.08) / 2, zc),
                    ((x1 - x0) / 2, (ah - 0.08 - seat_h - 0.03) / 2, aw / 2 + 0.004),
                    name="arm-hole",
                )
            )
            d.style.append("open-arm")
    inner_lo = -hz + (aw + 0.01 if -1.0 in sides else 0.0)
    inner_hi = hz - (aw + 0.01 if 1.0 in sides else 0.0)
    n = int(rng.integers(1, 4))
    edges = np.linspace(inner_lo, inner_hi, n + 1)
    x0, x1 = -hx + bt - 0.02, hx - 0.01
    for a, b in itertools.pairwise(edges):
        d.add(
            _rbox(
                ((x0 + x1) / 2, (y_base - 0.01 + seat_h) / 2, (a + b) / 2),
                ((x1 - x0) / 2, (seat_h - y_base + 0.01) / 2, (b - a) / 2 - 0.004),
                _u(rng, 0.01, 0.04),
                name="cushion",
            )
        )
    if rng.random() < 0.5:
        turn = _rotation((0.0, 0.0, 1.0), _u(rng, 5.0, 15.0))
        ct = _u(rng, 0.08, 0.15)
        top = seat_h + (back_top - seat_h) * _u(rng, 0.7, 0.95)
        for a, b in itertools.pairwise(edges):
            cushion = _rbox(
                (-hx + bt + ct / 2 - 0.03, (seat_h - 0.02 + top) / 2, (a + b) / 2),
                (ct / 2, (top - seat_h + 0.02) / 2, (b - a) / 2 - 0.004),
                0.03,
                name="back-cushion",
            )
            d.add(*_about([cushion], turn, (-hx + bt, seat_h, 0.0)))
        d.style.append("back-cushions")
    chaise_depth = _u(rng, 0.5, 0.9)
    if chaise:
        cw = min(_u(rng, 0.6, 0.9), length * 0.45)
        zc = chaise_side * (hz - cw / 2)
        d.add(
            _box(
                (hx + chaise_depth / 2 - 0.02, (base_y + y_base) / 2, zc),
                (chaise_depth / 2 + 0.02, (y_base - base_y) / 2, cw / 2),
                name="chaise",
            )
        )
        d.add(
            _rbox(
                (hx + chaise_depth / 2 - 0.01, (y_base - 0.01 + seat_h) / 2, zc),
                (chaise_depth / 2 + 0.01, (seat_h - y_base + 0.01) / 2, cw / 2 - 0.004),
                _u(rng, 0.01, 0.04),
                name="chaise-cushion",
            )
        )
    if legs:
        r = _u(rng, 0.015, 0.03)
        x_front = hx + (chaise_depth if chaise else 0.0)
        corners = [(x, z) for x in (-hx + 0.05, hx - 0.05) for z in (-hz + 0.05, hz - 0.05)]
        if chaise:
            corners.append((x_front - 0.05, chaise_side * (hz - 0.05)))
        shape = _pick(rng, {"square": 0.4, "round": 0.3, "tapered": 0.3})
        d.add(*_legs(corners, base_y + 0.01, r, shape)[0])
