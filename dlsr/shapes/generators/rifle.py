"""Procedural rifle generator."""

from __future__ import annotations

import numpy as np

from dlsr.shapes.builders import _about, _box, _cylinder, _extrude, _rbox, _revolve, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.rotations import _rotation

# Rifles (04090263): along x, muzzle at +x: receiver, barrel, stock (some with a thumbhole), pistol grip, a trigger
# guard (always a loop), magazine, handguard; optional scope on two mounts or carry handle (more loops), bipod.


def _rifle(rng: np.random.Generator, d: _Draft) -> None:
    lr, hr, wr = _u(rng, 0.2, 0.32), _u(rng, 0.05, 0.08), _u(rng, 0.022, 0.035)
    xr0, yr = -0.12, 0.0  # receiver rear end and centre height
    xr1 = xr0 + lr
    d.add(_box(((xr0 + xr1) / 2, yr, 0.0), (lr / 2, hr / 2, wr / 2), name="receiver"))
    rb, muzzle = _u(rng, 0.007, 0.013), _u(rng, 0.45, 0.6)
    by = yr + hr * _u(rng, 0.0, 0.25)
    d.add(_cylinder((xr1 - 0.01, by, 0.0), (muzzle, by, 0.0), rb, name="barrel"))
    if rng.random() < 0.5:
        d.add(
            _cylinder(
                (muzzle - _u(rng, 0.03, 0.06), by, 0.0),
                (muzzle + 0.005, by, 0.0),
                rb * _u(rng, 1.4, 2.0),
                name="muzzle",
            )
        )
    if rng.random() < 0.65:
        lh = _u(rng, 0.15, 0.3)
        if rng.random() < 0.5:
            d.add(_cylinder((xr1 - 0.01, by, 0.0), (xr1 + lh, by, 0.0), _u(rng, 0.016, 0.026), name="handguard"))
        else:
            hh = _u(rng, 0.03, 0.05)
            d.add(
                _rbox(
                    (xr1 + lh / 2 - 0.01, by - hh * 0.2, 0.0),
                    (lh / 2 + 0.01, hh / 2, wr / 2 * 0.95),
                    0.008,
                    name="handguard",
                )
            )
        d.style.append("handguard")
    # Stock: a side profile from the receiver back to the butt, extruded across.
    butt_x, drop, butt_h = xr0 - _u(rng, 0.3, 0.42), _u(rng, 0.0, 0.05), _u(rng, 0.1, 0.16)
    top_rear, bot_rear = yr + hr / 2 - drop, yr + hr / 2 - drop - butt_h
    # The top line runs straight to the butt; the belly dips in at the wrist behind the grip.
    wrist_x, top_front = xr0 - _u(rng, 0.08, 0.14), yr + hr / 2 * 0.8
    top_chain = np.array([[butt_x, top_rear], [xr0 + 0.02, top_front]])
    bottom_chain = np.array(
        [[butt_x, bot_rear], [wrist_x, yr - hr / 2 - _u(rng, 0.0, 0.02)], [xr0 + 0.02, yr - hr / 2 + 0.005]]
    )
    stock = [tuple(top_chain[1]), tuple(top_chain[0]), *(tuple(p) for p in bottom_chain)]
    # Narrower or wider than the receiver, never flush with it (flush faces leave needle triangles).
    ws = wr / 2 * (_u(rng, 0.7, 0.9) if rng.random() < 0.5 else _u(rng, 1.15, 1.4))
    d.add(_extrude((0.0, 0.0, 0.0), stock, ws, "xy", name="stock"))
    if rng.random() < 0.35:
        # A thumbhole through the stock, its box kept inside the profile at both of its ends (a loop).
        hx_ = _u(rng, 0.12, 0.2) * (xr0 - butt_x)
        cx = _u(rng, butt_x + hx_ + 0.04, wrist_x - hx_)
        ends = np.array([cx - hx_, cx + hx_])
        top = float(np.interp(ends, top_chain[:, 0], top_chain[:, 1]).min())
        bottom = float(np.interp(ends, bottom_chain[:, 0], bottom_chain[:, 1]).max())
        hy = 0.3 * (top - bottom)
        if hy > 0.008:
            d.cut(_rbox((cx, (top + bottom) / 2, 0.0), (hx_, hy, 2 * ws), 0.9 * min(hx_, hy), name="thumbhole"))
            d.style.append("thumbhole")
    # Pistol grip behind the trigger guard, slanting backwards.
    xg, gl, slant, gw = xr0 + _u(rng, 0.04, 0.08), _u(rng, 0.07, 0.11), _u(rng, 0.02, 0.05), _u(rng, 0.025, 0.035)
    y_under = yr - hr / 2
    grip = [
        (xg, y_under + 0.01),
        (xg - slant, y_under - gl),
        (xg - slant - gw, y_under - gl),
        (xg - gw, y_under + 0.01),
    ]
    d.add(_extrude((0.0, 0.0, 0.0), grip, wr / 2 * 0.9, "xy", name="grip"))
    gd, gr = _u(rng, 0.035, 0.05), _u(rng, 0.004, 0.006)
    front = xg + _u(rng, 0.06, 0.08)
    y_join = y_under - 0.6 * gd
    x_join = xg - slant * (y_under + 0.01 - y_join) / (gl + 0.01) - 0.01
    d.add(
        _tube(
            [
                (front, y_under + 0.004, 0.0),
                (front, y_under - gd, 0.0),
                (xg + 0.005, y_under - gd, 0.0),
                (x_join, y_join, 0.0),
            ],
            gr,
            name="trigger-guard",
        )
    )
    d.add(_box((xg + 0.03, y_under - 0.012, 0.0), (0.004, 0.016, 0.004), name="trigger"))
    if rng.random() < 0.8:
        ml, mw = _u(rng, 0.08, 0.2), _u(rng, 0.025, 0.04)
        mx = front + gr + 0.015 + mw / 2
        mag = _box((mx, y_under + 0.01 - ml / 2, 0.0), (mw / 2, ml / 2, wr / 2 * 0.8), name="magazine")
        d.add(*_about([mag], _rotation((0.0, 0.0, 1.0), _u(rng, 0.0, 20.0)), (mx, y_under, 0.0)))
        d.style.append("magazine")
    top = yr + hr / 2
    sight = _pick(rng, {"scope": 0.45, "handle": 0.15, "none": 0.4})
    d.style.append(sight)
    if sight == "scope":
        rs, ls, mh = _u(rng, 0.012, 0.02), _u(rng, 0.18, 0.3), _u(rng, 0.025, 0.05)
        x0 = (xr0 + xr1) / 2 - ls / 2
        ys = top + mh
        bell = rs * _u(rng, 1.2, 1.7)
        profile = [
            (0.0, 0.0),
            (bell, 0.0),
            (bell, 0.04),
            (rs, 0.07),
            (rs, ls - 0.06),
            (bell * 1.1, ls - 0.02),
            (bell * 1.1, ls),
            (0.0, ls),
        ]
        d.add(_revolve((x0, ys, 0.0), (1.0, 0.0, 0.0), profile, name="scope"))
        for x in (x0 + 0.09, x0 + ls - 0.09):
            d.add(_box((x, (top + ys) / 2, 0.0), (0.01, mh / 2 + 0.005, 0.008), name="mount"))
    elif sight == "handle":
        hh = _u(rng, 0.03, 0.05)
        d.add(
            _tube(
                [
                    (xr0 + 0.04, top - 0.005, 0.0),
                    (xr0 + 0.05, top + hh, 0.0),
                    (xr1 - 0.05, top + hh, 0.0),
                    (xr1 - 0.04, top - 0.005, 0.0),
                ],
                0.006,
                name="carry-handle",
            )
        )
    if rng.random() < 0.2:
        bx, spread, bl = xr1 + _u(rng, 0.12, 0.25), _u(rng, 0.04, 0.08), _u(rng, 0.12, 0.2)
        for sz in (-1.0, 1.0):
            d.add(_tube([(bx, by, 0.0), (bx + 0.03, by - bl, sz * spread)], 0.005, name="bipod"))
        d.style.append("bipod")
