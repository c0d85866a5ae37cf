"""Procedural watercraft generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import (
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
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.parts import Part
from dlsr.shapes.rotations import _rotation

# Watercraft (04530566): hulls as the intersection of a side profile, a plan shape and a V section, bow at +x:
# motorboats, ships, sailboats, open rowing boats with thwarts (loops), catamarans and submarines.


def _plan_width(x: np.ndarray, length: float, beam: float, transom: float) -> np.ndarray:
    """Half width of a hull's plan at stations x: widest just aft of midships, a point at the bow."""
    xs, xb, xm = -length / 2, length / 2, -0.1 * length
    aft = beam / 2 * (transom + (1 - transom) * (1 - ((xm - x) / (xm - xs)) ** 2))
    fore = beam / 2 * np.clip(1 - ((x - xm) / (xb - xm)) ** 2, 0.0, 1.0) ** 0.7
    return np.where(x < xm, aft, fore)


def _hull(
    length: float, beam: float, depth: float, rng: np.random.Generator, name: str = "hull", lift: float = 0.0
) -> tuple[Part, float]:
    """A hull with its keel at y = lift and deck at about lift + depth; returns it and its transom ratio."""
    transom, deadrise, flare = _u(rng, 0.45, 0.9), _u(rng, 0.15, 0.5), _u(rng, 0.0, 0.03)
    bow, sheer = _u(rng, 0.15, 0.3) * length, _u(rng, 1.05, 1.2)
    xs, xb = -length / 2, length / 2
    side = [(xs, depth), (xs, depth * _u(rng, 0.2, 0.5)), (xs + 0.15 * length, 0.0), (xb - bow, 0.0)]
    side += [(xb - bow + bow * t, depth * sheer * t**2) for t in (0.3, 0.55, 0.8, 1.0)]
    stations = np.linspace(xs, xb, 14)
    half = _plan_width(stations, length, beam, transom)
    plan = [(float(x), float(w)) for x, w in zip(stations[:-1], half[:-1], strict=True)] + [(xb, 0.0)]
    plan += [(float(x), -float(w)) for x, w in zip(stations[-2::-1], half[-2::-1], strict=True)]
    top = depth * 1.5
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
    return hull.moved(np.eye(3), (0.0, lift, 0.0)), transom


def _watercraft(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(
        rng, {"motorboat": 0.28, "ship": 0.2, "sailboat": 0.2, "rowboat": 0.14, "catamaran": 0.1, "submarine": 0.08}
    )
    d.style.append(style)
    length = 1.0
    if style == "submarine":
        r = _u(rng, 0.05, 0.08)
        bow, stern = _u(rng, 0.1, 0.2), _u(rng, 0.25, 0.4)
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
        d.add(_cylinder((-length / 2 - 0.03, 0.0, 0.0), (-length / 2 + 0.01, 0.0, 0.0), 0.15 * r, name="shaft"))
        blades = int(rng.integers(3, 6))
        for k in range(blades):
            blade = _box((-length / 2 - 0.02, 0.3 * r, 0.0), (0.005, 0.3 * r, 0.012), name="blade")
            d.add(*_about([blade], _rotation((1.0, 0.0, 0.0), 360.0 * k / blades), (0.0, 0.0, 0.0)))
        sail_h, sail_l = _u(rng, 0.06, 0.12), _u(rng, 0.1, 0.18)
        sx = _u(rng, 0.0, 0.2)
        d.add(_rbox((sx, r + sail_h / 2 - 0.01, 0.0), (sail_l / 2, sail_h / 2 + 0.01, 0.02), 0.015, name="sail"))
        d.add(_box((sx + 0.02, r + sail_h * 0.6, 0.0), (0.02, 0.004, 0.07), name="planes"))
        for angle in (0.0, 90.0):
            fin = _box((-length / 2 + 0.08, 0.0, 0.0), (0.035, 0.004, r * 1.6), name="fin")
            d.add(*_about([fin], _rotation((1.0, 0.0, 0.0), angle), (0.0, 0.0, 0.0)))
        return
    if style == "catamaran":
        beam, depth, spacing = _u(rng, 0.07, 0.11), _u(rng, 0.06, 0.1), _u(rng, 0.15, 0.25)
        hull, _ = _hull(length, beam, depth, rng)
        d.add(hull.moved(np.eye(3), (0.0, 0.0, spacing)), hull.moved(np.eye(3), (0.0, 0.0, -spacing)))
        if rng.random() < 0.5:
            d.add(_box((-0.05, depth + 0.01, 0.0), (0.25, 0.015, spacing + 0.02), name="deck"))
            deck, mast_x = depth + 0.025, -0.05
            d.style.append("deck")
        else:
            for x in (-0.25, 0.15):
                d.add(_box((x, depth + 0.005, 0.0), (0.02, 0.015, spacing + 0.02), name="beam"))
            deck, mast_x = depth + 0.02, 0.15  # the mast stands on the front beam
            d.style.append("beams")
        if rng.random() < 0.7:
            _rig(rng, d, mast_x, deck - 0.01, 0.45)
        return
    beam = {
        "motorboat": _u(rng, 0.25, 0.35),
        "ship": _u(rng, 0.12, 0.18),
        "sailboat": _u(rng, 0.22, 0.32),
        "rowboat": _u(rng, 0.3, 0.4),
    }[style]
    depth = {
        "motorboat": _u(rng, 0.08, 0.13),
        "ship": _u(rng, 0.07, 0.11),
        "sailboat": _u(rng, 0.07, 0.1),
        "rowboat": _u(rng, 0.1, 0.14),
    }[style]
    hull, transom = _hull(length, beam, depth, rng)
    if style == "rowboat":
        wall = _u(rng, 0.012, 0.02)
        inner, _ = _hull(
            length - 4 * wall,
            beam - 2.5 * wall,
            depth * 1.5,
            np.random.default_rng(rng.integers(2**32)),
            name="cavity",
            lift=1.5 * wall,
        )
        d.add(_difference([hull, inner], name="hull"))
        n = int(rng.integers(1, 4))
        for x in np.linspace(-0.25, 0.2, n):
            w = float(_plan_width(np.array([x]), length, beam, transom)[0])
            d.add(_box((float(x), depth - 0.025, 0.0), (0.03, 0.008, w - wall * 0.4), name="thwart"))
        d.style.append(f"thwarts{n}")
        return
    d.add(hull)
    deck = depth - 0.005  # the sheer line rises towards the bow, so the deck is nowhere lower than this
    if style == "motorboat":
        cl, ch = _u(rng, 0.2, 0.35), _u(rng, 0.06, 0.12)
        cx = _u(rng, -0.2, 0.05)
        cw = float(_plan_width(np.array([cx + cl / 2]), length, beam, transom)[0]) * 0.75
        d.add(_rbox((cx, deck + ch / 2, 0.0), (cl / 2, ch / 2 + 0.005, cw), 0.02, name="cabin"))
        if rng.random() < 0.6:
            front = cx + cl / 2 - 0.03
            screen = _box((front, deck + ch + 0.025, 0.0), (0.004, 0.035, cw * 0.9), name="windscreen")
            d.add(*_about([screen], _rotation((0.0, 0.0, 1.0), _u(rng, 15.0, 35.0)), (front, deck + ch, 0.0)))
        if rng.random() < 0.4:
            _railing(rng, d, length, beam, transom, deck)
    elif style == "ship":
        x, w = _u(rng, -0.25, -0.05), beam * 0.35
        y, ll = deck, 0.0
        for level in range(int(rng.integers(1, 4))):
            ll, lh = _u(rng, 0.15, 0.3) * (0.8**level), _u(rng, 0.04, 0.07)
            d.add(_box((x, y + lh / 2, 0.0), (ll / 2, lh / 2 + 0.005, w * 0.9**level), name="deckhouse"))
            y += lh
        funnels = int(rng.integers(0, 3))
        for k in range(funnels):
            fx = x - ll / 2 + ll * (k + 1) / (funnels + 1)
            d.add(
                _frustum(
                    (fx, y - 0.01, 0.0),
                    (fx - 0.01, y + _u(rng, 0.06, 0.12), 0.0),
                    _u(rng, 0.02, 0.035),
                    _u(rng, 0.018, 0.03),
                    name="funnel",
                )
            )
        for mx in (x + 0.3 * ll, _u(rng, 0.2, 0.3))[: int(rng.integers(1, 3))]:
            base = y if mx < x + ll / 2 else deck
            mh = _u(rng, 0.1, 0.25)
            d.add(_cylinder((mx, base - 0.01, 0.0), (mx, base + mh, 0.0), 0.006, name="mast"))
            d.add(_box((mx, base + mh * 0.8, 0.0), (0.004, 0.004, _u(rng, 0.03, 0.06)), name="yard"))
        if rng.random() < 0.3:
            _railing(rng, d, length, beam, transom, deck)
    else:  # sailboat: keel fin, mast, boom, sails
        kd = _u(rng, 0.08, 0.16)
        d.add(
            _extrude(
                (0.0, 0.0, 0.0), [(-0.12, 0.01), (0.02, 0.01), (-0.02, -kd), (-0.1, -kd)], 0.008, "xy", name="keel"
            )
        )
        _rig(rng, d, _u(rng, -0.05, 0.1), deck, length / 2)


def _rig(rng: np.random.Generator, d: _Draft, mast_x: float, deck: float, fore: float) -> None:
    """Mast, boom and sails standing on a deck at height `deck`; the jib reaches forward to x = fore - 0.05."""
    mh = _u(rng, 0.6, 1.1)
    d.add(_cylinder((mast_x, deck - 0.01, 0.0), (mast_x, deck + mh, 0.0), 0.008, name="mast"))
    boom_y, boom_l = deck + _u(rng, 0.05, 0.1), _u(rng, 0.25, 0.4)
    d.add(_cylinder((mast_x, boom_y, 0.0), (mast_x - boom_l, boom_y, 0.0), 0.006, name="boom"))
    sail_t = _u(rng, 0.004, 0.007)
    d.add(
        _extrude(
            (0.0, 0.0, 0.0),
            [(mast_x - 0.004, boom_y), (mast_x - boom_l + 0.01, boom_y), (mast_x - 0.004, deck + mh - 0.03)],
            sail_t,
            "xy",
            name="mainsail",
        )
    )
    if rng.random() < 0.7:
        d.add(
            _extrude(
                (0.0, 0.0, 0.0),
                [(mast_x + 0.004, deck - 0.005), (fore - 0.05, deck - 0.005), (mast_x + 0.004, deck + mh * 0.8)],
                sail_t,
                "xy",
                name="jib",
            )
        )


def _railing(rng: np.random.Generator, d: _Draft, length: float, beam: float, transom: float, deck: float) -> None:
    """Posts along both sides of the deck joined by a rail (one loop per pair of neighbouring posts)."""
    rh, n = _u(rng, 0.03, 0.05), int(rng.integers(3, 6))
    xs = np.linspace(-length / 2 + 0.05, 0.15, n)
    widths = _plan_width(xs, length, beam, transom) - 0.012
    for sz in (-1.0, 1.0):
        tops = [(float(x), deck + rh, sz * float(w)) for x, w in zip(xs, widths, strict=True)]
        for x, y, z in tops:
            # The post ends inside the rail, off its centre plane and thinner than it: no touching surfaces.
            d.add(_cylinder((x, deck - 0.01, z), (x, y + 0.0015, z), 0.003, name="post"))
        d.add(_tube(tops, 0.0045, name="rail"))
    d.style.append("railing")
