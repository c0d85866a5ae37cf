"""Procedural bench generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _about, _box, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.legs import _leg_point, _legs
from dlsr.shapes.parts import Part
from dlsr.shapes.rotations import _rotation

# Benches (02828884): long along z, facing +x; slab or slatted seat; legs, panel ends or looped frames; optional
# slatted or solid backrest on -x and armrests.


def _bench(rng: np.random.Generator, d: _Draft) -> None:
    length, depth = _u(rng, 0.9, 1.8), _u(rng, 0.3, 0.5)
    seat_h, st = _u(rng, 0.38, 0.48), _u(rng, 0.03, 0.06)
    y_bot = seat_h - st
    seat = _pick(rng, {"slab": 0.5, "slats": 0.5})
    support = _pick(rng, {"legs": 0.45, "ends": 0.35, "frames": 0.2})
    back = _pick(rng, {"none": 0.45, "solid": 0.2, "slats": 0.35})
    d.style += [seat, support, f"{back}-back"]
    end_z = length / 2 - _u(rng, 0.04, 0.15)
    hx, hz = depth / 2, length / 2
    if seat == "slab":
        d.add(_box((0.0, seat_h - st / 2, 0.0), (hx, st / 2, hz), name="seat"))
        y_support = y_bot + 0.005
    else:
        n = int(rng.integers(3, 7))
        half_w = depth / n * _u(rng, 0.3, 0.42)
        for i in range(n):
            d.add(_box((-hx + depth * (i + 0.5) / n, seat_h - st / 2, 0.0), (half_w, st / 2, hz), name="slat"))
        spots = [-end_z, end_z] + ([0.0] if length > 1.3 else [])
        for z in spots:
            d.add(_box((0.0, y_bot - 0.015, z), (hx, 0.025, 0.025), name="support"))
        y_support = y_bot - 0.02
        d.style.append(f"slats{n}")
    inset = _u(rng, 0.02, 0.06)
    if support == "legs":
        r = _u(rng, 0.015, 0.03)
        shape = _pick(rng, {"square": 0.5, "round": 0.3, "tapered": 0.2})
        xs = hx - inset - r
        corners = [(-xs, -end_z), (-xs, end_z), (xs, -end_z), (xs, end_z)]
        legs, axes = _legs(corners, y_support, r, shape)
        d.add(*legs)
        if rng.random() < 0.4:
            y = _u(rng, 0.08, 0.2)
            for a, b in ((0, 1), (2, 3)):
                d.add(_tube([_leg_point(*axes[a], y), _leg_point(*axes[b], y)], 0.6 * r, name="stretcher"))
            d.style.append("stretchers")
    elif support == "ends":
        et = _u(rng, 0.03, 0.06)
        px = hx * _u(rng, 0.8, 1.0)
        for sz in (-1.0, 1.0):
            d.add(_box((0.0, y_support / 2, sz * end_z), (px, y_support / 2, et / 2), name="end"))
            if rng.random() < 0.4:
                d.cut(
                    _box(
                        (0.0, y_support * _u(rng, 0.35, 0.5), sz * end_z),
                        (px * _u(rng, 0.3, 0.6), y_support * _u(rng, 0.12, 0.25), et),
                        name="end-hole",
                    )
                )
                d.style.append("pierced")
    else:
        r = _u(rng, 0.012, 0.02)
        for sz in (-1.0, 1.0):
            z = sz * end_z
            d.add(
                _tube(
                    [
                        (hx - 0.04, y_support - 0.005, z),
                        (hx + _u(rng, -0.02, 0.03), r, z),
                        (-hx - _u(rng, -0.02, 0.03), r, z),
                        (-hx + 0.04, y_support - 0.005, z),
                    ],
                    r,
                    name="frame",
                )
            )

    if back != "none":
        tilt, bh = _u(rng, 0.0, 12.0), _u(rng, 0.25, 0.45)
        bt = _u(rng, 0.02, 0.045)
        x_c = -hx + bt / 2
        parts: list[Part] = []
        if back == "solid":
            y0 = seat_h - st / 2
            parts.append(
                _box((x_c, (y0 + seat_h + bh) / 2, 0.0), (bt / 2, (seat_h + bh - y0) / 2, hz * 0.98), name="back")
            )
        else:
            pw = _u(rng, 0.02, 0.035)
            y0 = y_bot + 0.005 if seat == "slab" else y_bot - 0.03
            for sz in (-1.0, 1.0):
                parts.append(
                    _box(
                        (x_c, (y0 + seat_h + bh) / 2, sz * end_z),
                        (bt / 2 + 0.003, (seat_h + bh - y0) / 2, pw),
                        name="post",
                    )
                )
            k = int(rng.integers(2, 5))
            sh = _u(rng, 0.02, 0.05)
            for y in np.linspace(seat_h + 0.08, seat_h + bh - sh / 2, k):
                parts.append(_box((x_c, float(y), 0.0), (bt / 2, sh / 2, end_z + pw), name="back-slat"))
            d.style.append(f"back-slats{k}")
        d.add(*_about(parts, _rotation((0.0, 0.0, 1.0), tilt), (-hx, seat_h, 0.0)))
        if rng.random() < 0.3:
            ah = _u(rng, 0.15, 0.25)
            x_rear = -hx + bt / 2 - ah * math.tan(math.radians(tilt))
            for sz in (-1.0, 1.0):
                z = sz * (end_z + 0.01)
                d.add(_box((hx - 0.04, seat_h + ah / 2 - 0.005, z), (0.015, ah / 2 + 0.005, 0.015), name="arm-post"))
                d.add(_box(((x_rear + hx) / 2, seat_h + ah, z), ((hx - x_rear) / 2, 0.015, 0.03), name="armrest"))
            d.style.append("arms")
