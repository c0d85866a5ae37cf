"""Procedural chair generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _about, _box, _cylinder, _frustum, _rbox, _sphere, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.legs import _legs, _stretchers
from dlsr.shapes.parts import Part
from dlsr.shapes.rotations import _rotation

# Chairs (03001627): seat on four legs / a pedestal / sled runners; solid, pierced, slatted, ladder or padded
# backrest on the -x side; optional arms.


def _chair(rng: np.random.Generator, d: _Draft) -> None:
    seat_h, sw, sd, st = _u(rng, 0.40, 0.50), _u(rng, 0.42, 0.58), _u(rng, 0.40, 0.54), _u(rng, 0.03, 0.08)
    y_bot = seat_h - st
    base = _pick(rng, {"legs": 0.55, "pedestal": 0.25, "sled": 0.2})
    back = _pick(rng, {"solid": 0.25, "pierced": 0.15, "slats": 0.2, "ladder": 0.15, "padded": 0.25})
    arms = _pick(rng, {"none": 0.55, "rests": 0.3, "panels": 0.15})
    d.style += [base, back, arms]
    seat_centre, seat_half = (0.0, seat_h - st / 2, 0.0), (sd / 2, st / 2, sw / 2)
    if back == "padded" or rng.random() < 0.4:
        d.add(_rbox(seat_centre, seat_half, _u(rng, 0.3, 0.9) * st / 2, name="seat"))
    else:
        d.add(_box(seat_centre, seat_half, name="seat"))

    if base == "legs":
        r, inset = _u(rng, 0.014, 0.028), _u(rng, 0.01, 0.05)
        splay = _u(rng, 0.01, 0.06) if rng.random() < 0.4 else 0.0
        shape = _pick(rng, {"square": 0.4, "round": 0.4, "tapered": 0.2})
        xs, zs = sd / 2 - inset - r, sw / 2 - inset - r
        corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
        legs, axes = _legs(corners, y_bot + 0.01, r, shape, splay)
        d.add(*legs)
        if rng.random() < 0.4:
            style = _pick(rng, {"box": 0.5, "h": 0.5})
            d.add(*_stretchers(axes, _u(rng, 0.08, 0.2), 0.6 * r, style))
            d.style.append(f"stretchers-{style}")
    elif base == "pedestal":
        col_r, hub_y = _u(rng, 0.022, 0.045), _u(rng, 0.06, 0.1)
        d.add(_box((0.0, y_bot - 0.01, 0.0), (0.08, 0.015, 0.08), name="plate"))
        if rng.random() < 0.75:
            n, reach, spoke_r = int(rng.choice([4, 5])), _u(rng, 0.22, 0.32), _u(rng, 0.014, 0.022)
            casters = rng.random() < 0.6
            end_y = 0.045 if casters else spoke_r + 0.003
            phase = _u(rng, 0.0, 360.0)
            d.add(_cylinder((0.0, hub_y - 1.5 * spoke_r, 0.0), (0.0, y_bot + 0.01, 0.0), col_r, name="column"))
            d.add(
                _cylinder((0.0, hub_y - 1.5 * spoke_r, 0.0), (0.0, hub_y + 1.5 * spoke_r, 0.0), 1.4 * col_r, name="hub")
            )
            for k in range(n):
                a = math.radians(phase + 360.0 * k / n)
                end = (reach * math.cos(a), end_y, reach * math.sin(a))
                d.add(_tube([(0.0, hub_y, 0.0), end], spoke_r, name="spoke"))
                if casters:
                    d.add(_sphere((end[0], 0.025, end[2]), 0.025, name="caster"))
            d.style.append(f"star{n}")
        else:
            radius = _u(rng, 0.18, 0.26)
            d.add(_frustum((0.0, 0.0, 0.0), (0.0, 0.035, 0.0), radius, 0.8 * radius, name="base"))
            d.add(_cylinder((0.0, 0.02, 0.0), (0.0, y_bot + 0.01, 0.0), col_r, name="column"))
            d.style.append("disk")
    else:  # sled: a closed runner on each side, joined to the seat at both ends (a loop per side)
        r, z0 = _u(rng, 0.011, 0.018), sw / 2 - _u(rng, 0.02, 0.05)
        front, rear = sd / 2 + _u(rng, -0.02, 0.05), -sd / 2 - _u(rng, -0.02, 0.04)
        for sz in (-1.0, 1.0):
            z = sz * z0
            d.add(
                _tube(
                    [
                        (sd / 2 - 0.05, y_bot + st / 2, z),
                        (front, r + 0.001, z),
                        (rear, r + 0.001, z),
                        (-sd / 2 + 0.05, y_bot + st / 2, z),
                    ],
                    r,
                    name="runner",
                )
            )
        if rng.random() < 0.4:
            d.add(_tube([(rear, r + 0.001, -z0), (rear, r + 0.001, z0)], r, name="crossbar"))

    tilt = _u(rng, 0.0, 14.0)
    bh, bw = _u(rng, 0.3, 0.55), sw * _u(rng, 0.82, 1.0)
    bt = _u(rng, 0.06, 0.12) if back == "padded" else _u(rng, 0.02, 0.05)
    x_c, y0, y1 = -sd / 2 + bt / 2, y_bot + 0.005, seat_h + bh
    back_parts: list[Part] = []
    back_holes: list[Part] = []
    if back in ("solid", "pierced"):
        back_parts.append(_box((x_c, (y0 + y1) / 2, 0.0), (bt / 2, (y1 - y0) / 2, bw / 2), name="back"))
        if back == "pierced":
            yc, hy, hz = seat_h + bh * _u(rng, 0.55, 0.72), bh * _u(rng, 0.1, 0.17), bw * _u(rng, 0.12, 0.24)
            if rng.random() < 0.5:
                back_holes.append(_rbox((x_c, yc, 0.0), (bt, hy, hz), 0.9 * min(hy, hz), name="back-hole"))
            else:
                radius = min(hy, hz)
                back_holes.append(_cylinder((x_c - bt, yc, 0.0), (x_c + bt, yc, 0.0), radius, name="back-hole"))
    elif back == "padded":
        back_parts.append(
            _rbox((x_c, (y0 + y1) / 2, 0.0), (bt / 2, (y1 - y0) / 2, bw / 2), _u(rng, 0.02, bt / 2), name="back")
        )
    else:
        pw = _u(rng, 0.015, 0.03)
        for sz in (-1.0, 1.0):
            back_parts.append(_box((x_c, (y0 + y1) / 2, sz * (bw / 2 - pw)), (bt / 2, (y1 - y0) / 2, pw), name="post"))
        if back == "slats":
            rh = _u(rng, 0.04, 0.1)
            back_parts.append(_box((x_c, y1 - rh / 2, 0.0), (bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            inner = bw - 4 * pw
            k = int(rng.integers(1, 6))
            half_w = min(_u(rng, 0.008, 0.03), 0.3 * inner / (2 * k))
            for i in range(k):
                z = -inner / 2 + inner * (i + 0.5) / k
                back_parts.append(
                    _box((x_c, (y0 + y1 - rh) / 2, z), (0.8 * bt / 2, (y1 - rh - y0) / 2 + 0.005, half_w), name="slat")
                )
            d.style.append(f"slats{k}")
        else:
            k = int(rng.integers(2, 5))
            rh = _u(rng, 0.025, 0.05)
            for y in np.linspace(seat_h + 0.1, y1 - rh / 2, k):
                back_parts.append(_box((x_c, float(y), 0.0), (0.8 * bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            d.style.append(f"rails{k}")
    turn = _rotation((0.0, 0.0, 1.0), tilt)
    pivot = (-sd / 2, seat_h, 0.0)
    d.add(*_about(back_parts, turn, pivot))
    d.cut(*_about(back_holes, turn, pivot))

    if arms != "none":
        ah, aw, at = _u(rng, 0.16, 0.26), _u(rng, 0.03, 0.06), _u(rng, 0.02, 0.04)
        z_arm = bw / 2 - aw / 2
        x_rear = -sd / 2 + bt / 2 - ah * math.tan(math.radians(tilt))
        x_front = sd / 2 + _u(rng, -0.03, 0.03)
        for sz in (-1.0, 1.0):
            z = sz * z_arm
            if arms == "rests":
                px = sd / 2 - _u(rng, 0.03, 0.08)
                d.add(_box((px, seat_h + ah / 2 - 0.005, z), (0.015, ah / 2 + 0.005, 0.4 * aw), name="arm-post"))
                d.add(
                    _box(
                        ((x_rear + x_front) / 2, seat_h + ah, z),
                        ((x_front - x_rear) / 2, at / 2, aw / 2),
                        name="armrest",
                    )
                )
            else:
                d.add(
                    _box(
                        ((x_rear + x_front) / 2, seat_h + ah / 2, z),
                        ((x_front - x_rear) / 2, ah / 2 + 0.01, aw / 2),
                        name="arm",
                    )
                )
