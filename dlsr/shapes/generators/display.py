"""Procedural display generator."""

from __future__ import annotations

import numpy as np

from dlsr.shapes.builders import _box, _cylinder, _ellipse, _extrude, _frustum, _rbox
from dlsr.shapes.draft import _Draft, _pick, _u

# Displays (03211117): a screen facing +x (wide along z) with a bezel recess; on a neck and base (sometimes
# with a hole through the neck, or a two-post neck that makes a loop), on two feet, a CRT body, or bare.


def _display(rng: np.random.Generator, d: _Draft) -> None:
    width = _u(rng, 0.5, 0.8)
    aspect = float(rng.choice([16 / 9, 16 / 10, 4 / 3, 21 / 9]))
    sh, th = width / aspect, _u(rng, 0.015, 0.05)
    style = _pick(rng, {"stand": 0.55, "feet": 0.15, "crt": 0.12, "bare": 0.18})
    d.style.append(style)
    lift = {"stand": _u(rng, 0.08, 0.25), "feet": _u(rng, 0.03, 0.1), "crt": 0.06, "bare": 0.0}[style]
    yc = lift + sh / 2
    if style == "crt":
        th = _u(rng, 0.04, 0.08)
    d.add(_rbox((0.0, yc, 0.0), (th / 2, sh / 2, width / 2), _u(rng, 0.002, th / 2), name="screen"))
    if rng.random() < 0.6:
        bezel = _u(rng, 0.01, 0.035)
        d.cut(_box((th / 2, yc, 0.0), (_u(rng, 0.003, 0.008), sh / 2 - bezel, width / 2 - bezel), name="recess"))
    back_x = -th / 2
    if style == "crt":
        depth = _u(rng, 0.25, 0.5)
        profile = [
            (back_x + 0.005, yc - 0.45 * sh),
            (back_x - depth, yc - 0.25 * sh),
            (back_x - depth, yc + 0.2 * sh),
            (back_x + 0.005, yc + 0.45 * sh),
        ]
        d.add(_extrude((0.0, 0.0, 0.0), profile, 0.4 * width, "xy", name="tube"))
        d.add(_box((back_x - depth * 0.3, 0.03 + 0.005, 0.0), (depth * 0.35, 0.03, 0.3 * width), name="base"))
        d.add(_box((back_x - depth * 0.3, yc - 0.3 * sh, 0.0), (0.03, yc - 0.3 * sh - 0.03, 0.08), name="neck"))
        return
    if rng.random() < 0.5:
        bump = _u(rng, 0.01, 0.05)
        d.add(
            _rbox(
                (back_x - bump / 2 + 0.004, yc - 0.1 * sh, 0.0),
                (bump / 2 + 0.004, 0.3 * sh, 0.3 * width),
                0.9 * (bump / 2 + 0.004),
                name="back",
            )
        )
        back_x -= bump
        d.style.append("bump")
    if style == "stand":
        nd, nz = _u(rng, 0.015, 0.04), _u(rng, 0.03, 0.08)
        x_n = back_x - nd / 2 + 0.004
        bt = _u(rng, 0.01, 0.025)
        base = _pick(rng, {"plate": 0.4, "disk": 0.35, "ellipse": 0.25})
        reach = _u(rng, 0.08, 0.15)
        base_x = x_n + reach * 0.3
        if base == "plate":
            d.add(_rbox((base_x, bt / 2, 0.0), (reach, bt / 2, _u(rng, 0.1, 0.22)), bt / 2 * 0.9, name="base"))
        elif base == "disk":
            d.add(_frustum((base_x, 0.0, 0.0), (base_x, bt, 0.0), reach * 1.2, reach * 1.1, name="base"))
        else:
            d.add(_extrude((base_x, bt / 2, 0.0), _ellipse(reach, _u(rng, 0.12, 0.22), 48), bt / 2, "xz", name="base"))
        neck = _pick(rng, {"post": 0.5, "pierced": 0.25, "fork": 0.25})
        d.style += [base, neck]
        neck_top = yc
        if neck == "fork":
            gap = _u(rng, 0.03, 0.08)
            for sz in (-1.0, 1.0):
                d.add(
                    _box(
                        (x_n, (bt + neck_top) / 2, sz * (gap + 0.015)),
                        (nd / 2, (neck_top - bt) / 2 + 0.004, 0.015),
                        name="neck",
                    )
                )
        else:
            d.add(_box((x_n, (bt + neck_top) / 2, 0.0), (nd / 2, (neck_top - bt) / 2 + 0.004, nz), name="neck"))
            free = lift - bt  # neck length between base and screen
            if neck == "pierced" and free > 0.06:
                radius = min(0.6 * nz, 0.35 * free)
                hy = bt + free / 2
                d.cut(_cylinder((x_n - nd, hy, 0.0), (x_n + nd, hy, 0.0), radius, name="neck-hole"))
    elif style == "feet":
        spread = width * _u(rng, 0.25, 0.42)
        for sz in (-1.0, 1.0):
            z = sz * spread
            d.add(_box((0.0, (yc - sh / 2 + 0.03) / 2, z), (0.012, (yc - sh / 2 + 0.03) / 2, 0.012), name="foot-post"))
            d.add(_box((0.0, 0.008, z), (_u(rng, 0.06, 0.12), 0.008, 0.015), name="foot"))
