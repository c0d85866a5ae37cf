"""Procedural table generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _box, _cylinder, _ellipse, _extrude, _frustum, _rbox, _revolve, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.legs import _legs, _stretchers

# Tables (04379243): rectangular, square, round or oval tops (long side along z) on four legs (with aprons,
# stretchers or a shelf), one or two pedestals, trestles or panel ends.


def _table(rng: np.random.Generator, d: _Draft) -> None:
    top = _pick(rng, {"rect": 0.45, "square": 0.15, "round": 0.25, "oval": 0.15})
    height = _u(rng, 0.66, 0.78) if rng.random() < 0.75 else _u(rng, 0.38, 0.5)
    tt = _u(rng, 0.025, 0.06)
    if top == "rect":
        length = _u(rng, 1.0, 1.9)
        hz, hx = length / 2, _u(rng, 0.55, min(1.0, 0.8 * length)) / 2
    elif top == "oval":
        hz, hx = _u(rng, 1.1, 1.9) / 2, _u(rng, 0.6, 0.95) / 2
    else:
        hz = hx = _u(rng, 0.6, 1.2) / 2
    y_under = height - tt
    if top in ("rect", "square"):
        if rng.random() < 0.5:
            d.add(_rbox((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), _u(rng, 0.005, tt / 2), name="top"))
        else:
            d.add(_box((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), name="top"))
    elif top == "round":
        d.add(_cylinder((0.0, y_under, 0.0), (0.0, height, 0.0), hx, name="top"))
    else:
        d.add(_extrude((0.0, y_under + tt / 2, 0.0), _ellipse(hx, hz, 64), tt / 2, "xz", name="top"))
    support_weights = {
        "rect": {"legs": 0.45, "trestle": 0.25, "panels": 0.2, "pedestal": 0.1},
        "square": {"legs": 0.6, "pedestal": 0.3, "panels": 0.1},
        "round": {"legs": 0.35, "pedestal": 0.65},
        "oval": {"legs": 0.4, "pedestal": 0.3, "trestle": 0.3},
    }[top]
    support = _pick(rng, support_weights)
    d.style += [top, support]
    y_leg = y_under + 0.01

    if support == "legs":
        r = _u(rng, 0.018, 0.04)
        shape = _pick(rng, {"square": 0.35, "round": 0.35, "tapered": 0.3})
        splay = _u(rng, 0.02, 0.07) if rng.random() < 0.25 else 0.0
        if top in ("rect", "square"):
            inset = _u(rng, 0.02, 0.1) + r
            xs, zs = hx - inset, hz - inset
        else:
            k = _u(rng, 0.55, 0.78)
            xs, zs = hx * k / math.sqrt(2), hz * k / math.sqrt(2)
        corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
        legs, axes = _legs(corners, y_leg, r, shape, splay)
        d.add(*legs)
        if top in ("rect", "square") and rng.random() < 0.5:
            ah = _u(rng, 0.05, 0.12)
            yc = y_under - ah / 2 + 0.005
            for sx in (-1.0, 1.0):
                d.add(_box((sx * xs, yc, 0.0), (0.012, ah / 2, zs), name="apron"))
            for sz in (-1.0, 1.0):
                d.add(_box((0.0, yc, sz * zs), (xs, ah / 2, 0.012), name="apron"))
            d.style.append("apron")
        extra = rng.random()
        if extra < 0.3:
            style = _pick(rng, {"box": 0.5, "h": 0.5})
            d.add(*_stretchers(axes, _u(rng, 0.1, 0.25) * height, 0.6 * r, style))
            d.style.append(f"stretchers-{style}")
        elif extra < 0.45 and splay == 0.0:
            ys = _u(rng, 0.12, 0.3) * height
            if top in ("rect", "square"):
                d.add(_box((0.0, ys, 0.0), (xs + 0.5 * r, 0.012, zs + 0.5 * r), name="shelf"))
            else:
                d.add(
                    _extrude(
                        (0.0, ys, 0.0), _ellipse(xs * math.sqrt(2), zs * math.sqrt(2), 48), 0.012, "xz", name="shelf"
                    )
                )
            d.style.append("shelf")
    elif support == "pedestal":
        count = 2 if top in ("rect", "oval") else 1
        spots = [-hz * 0.45, hz * 0.45] if count == 2 else [0.0]
        col_r = _u(rng, 0.03, 0.07)
        column = _pick(rng, {"cylinder": 0.5, "vase": 0.5})
        foot = _pick(rng, {"disk": 0.5, "cross": 0.3, "tripod": 0.2})
        d.style += [column, foot]
        for z in spots:
            if column == "cylinder":
                d.add(_cylinder((0.0, 0.01, z), (0.0, y_leg, z), col_r, name="column"))
            else:
                h = y_leg - 0.01
                widths = [1.0, _u(rng, 0.6, 1.4), _u(rng, 0.6, 1.8), _u(rng, 0.7, 1.3), 1.0]
                profile = [(0.0, 0.0)] + [(col_r * w, h * t) for w, t in zip(widths, np.linspace(0, 1, 5), strict=True)]
                d.add(_revolve((0.0, 0.01, z), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="column"))
            d.add(_cylinder((0.0, y_under - 0.02, z), (0.0, y_under + 0.005, z), 2.5 * col_r, name="cap"))
            reach = min(_u(rng, 0.2, 0.35), 0.9 * min(hx, hz) if count == 1 else 0.9 * hx)
            if foot == "disk":
                d.add(
                    _frustum(
                        (0.0, 0.0, z), (0.0, _u(rng, 0.025, 0.05), z), reach, reach * _u(rng, 0.5, 0.95), name="base"
                    )
                )
            else:
                n = 4 if foot == "cross" else 3
                fh = _u(rng, 0.03, 0.06)
                for k in range(n):
                    a = math.radians(45.0 * (foot == "cross") + 360.0 * k / n)
                    end = (reach * math.cos(a), fh / 2, z + reach * math.sin(a))
                    d.add(_tube([(0.0, fh, z), end], fh / 2, name="foot"))
    elif support == "trestle":
        inset = _u(rng, 0.08, 0.2)
        two = rng.random() < 0.4
        fh = _u(rng, 0.04, 0.07)
        stretcher_y = _u(rng, 0.2, 0.4) * height
        post_xs = [-0.4 * hx, 0.4 * hx] if two else [0.0]
        zt = hz - inset
        for sz in (-1.0, 1.0):
            z = sz * zt
            d.add(_box((0.0, fh / 2, z), (hx * _u(rng, 0.7, 0.9), fh / 2, 0.03), name="foot"))
            d.add(_box((0.0, y_under - 0.02, z), (hx * 0.8, 0.025, 0.03), name="cleat"))
            for x in post_xs:
                d.add(_box((x, y_under / 2, z), (_u(rng, 0.025, 0.06), y_under / 2, 0.025), name="post"))
        for x in post_xs:
            d.add(_box((x, stretcher_y, 0.0), (0.02, 0.03, zt + 0.015), name="stretcher"))
        d.style.append("two-posts" if two else "one-post")
    else:  # panel ends
        inset, pt = _u(rng, 0.0, 0.15), _u(rng, 0.03, 0.06)
        zp = hz - inset - pt / 2
        px = hx * _u(rng, 0.75, 0.95)
        for sz in (-1.0, 1.0):
            d.add(_box((0.0, y_leg / 2, sz * zp), (px, y_leg / 2, pt / 2), name="panel"))
            if rng.random() < 0.4:
                d.cut(
                    _box(
                        (0.0, y_under * _u(rng, 0.4, 0.6), sz * zp),
                        (px * _u(rng, 0.3, 0.5), y_under * _u(rng, 0.12, 0.25), pt),
                        name="panel-hole",
                    )
                )
                d.style.append("pierced")
        brace = _pick(rng, {"none": 0.3, "beam": 0.45, "modesty": 0.25})
        if brace == "beam":
            d.add(_box((-px * 0.7, y_under - _u(rng, 0.12, 0.3), 0.0), (0.02, 0.04, zp), name="beam"))
        elif brace == "modesty":
            ph = _u(rng, 0.15, 0.35)
            d.add(_box((-px * 0.7, y_under - ph / 2 + 0.005, 0.0), (0.01, ph / 2, zp), name="modesty"))
        d.style.append(brace)
