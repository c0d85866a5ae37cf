"""Procedural cabinet generator."""

from __future__ import annotations

import numpy as np

from dlsr.shapes.builders import _box, _sphere, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.legs import _legs

# Cabinets (02933112): a box body with doors and drawers on the +x face (bar handles make loops), plinth, legs
# or nothing underneath, an overhanging top; or an open bookcase frame of boards.


def _cabinet(rng: np.random.Generator, d: _Draft) -> None:
    width, depth, height = _u(rng, 0.4, 1.2), _u(rng, 0.35, 0.6), _u(rng, 0.45, 1.8)
    foot = _pick(rng, {"plinth": 0.35, "legs": 0.35, "none": 0.3})
    layout = _pick(rng, {"doors": 0.35, "drawers": 0.25, "mixed": 0.25, "open": 0.15})
    d.style += [foot, layout]
    fh = _u(rng, 0.04, 0.12) if foot != "none" else 0.0
    hx, hz = depth / 2, width / 2
    y0, y1 = fh, fh + height
    if foot == "plinth":
        d.add(_box((0.0, fh / 2 + 0.0025, 0.0), (hx - 0.03, fh / 2 + 0.0025, hz - 0.03), name="plinth"))
    elif foot == "legs":
        r = _u(rng, 0.012, 0.025)
        corners = [(x, z) for x in (-hx + 0.03, hx - 0.03) for z in (-hz + 0.03, hz - 0.03)]
        d.add(*_legs(corners, fh + 0.01, r, _pick(rng, {"round": 0.5, "tapered": 0.3, "square": 0.2}))[0])
    if rng.random() < 0.4:
        oh, tt = _u(rng, 0.005, 0.04), _u(rng, 0.015, 0.04)
        d.add(_box((oh / 2, y1 + tt / 2 - 0.005, 0.0), (hx + oh / 2, tt / 2, hz + oh), name="top"))
    if layout == "open":
        board = _u(rng, 0.015, 0.03)
        d.add(
            *(
                _box((0.0, (y0 + y1) / 2, sz * (hz - board / 2)), (hx, height / 2, board / 2), name="side")
                for sz in (-1.0, 1.0)
            )
        )
        d.add(
            *(_box((0.0, y, 0.0), (hx, board / 2, hz - 0.005), name="board") for y in (y0 + board / 2, y1 - board / 2))
        )
        k = int(rng.integers(1, 5))
        for y in np.linspace(y0, y1, k + 2)[1:-1]:
            d.add(_box((0.0, float(y), 0.0), (hx - 0.01, board / 2, hz - 0.005), name="shelf"))
        if rng.random() < 0.5:
            d.add(_box((-hx + board / 2, (y0 + y1) / 2, 0.0), (board / 2, height / 2 - 0.005, hz - 0.005), name="back"))
            d.style.append("backed")
        d.style.append(f"shelves{k}")
        return
    d.add(_box((0.0, (y0 + y1) / 2, 0.0), (hx, height / 2, hz), name="body"))
    margin, gap, pt = _u(rng, 0.012, 0.04), _u(rng, 0.006, 0.015), _u(rng, 0.012, 0.025)
    handle = _pick(rng, {"bar": 0.55, "knob": 0.3, "none": 0.15})
    d.style.append(handle)
    face_x = hx + pt - 0.005  # front face of the doors and drawers
    lo_y, hi_y = y0 + margin, y1 - margin
    lo_z, hi_z = -hz + margin, hz - margin
    panels: list[tuple[float, float, float, float, str]] = []  # (y_a, y_b, z_a, z_b, kind)
    if layout in ("drawers", "mixed"):
        rows = int(rng.integers(2, 6)) if layout == "drawers" else int(rng.integers(1, 4))
        drawer_h = (hi_y - lo_y) / rows if layout == "drawers" else min(_u(rng, 0.12, 0.25), (hi_y - lo_y) / (rows + 1))
        columns = 2 if (width > 0.8 and rng.random() < 0.5) else 1
        for i in range(rows):
            ya, yb = hi_y - (i + 1) * drawer_h, hi_y - i * drawer_h
            for zc in np.linspace(lo_z, hi_z, columns + 1)[:-1]:
                panels.append((ya, yb, float(zc), float(zc) + (hi_z - lo_z) / columns, "drawer"))
        hi_y -= rows * drawer_h
    if layout in ("doors", "mixed") and hi_y - lo_y > 0.1:
        columns = 1 if width < 0.55 else int(rng.integers(1, 3)) + (width > 1.0)
        if rng.random() < 0.25:  # an open niche instead of the top door row
            niche_h = (hi_y - lo_y) * _u(rng, 0.3, 0.5)
            d.cut(
                _box((hx, hi_y - niche_h / 2, 0.0), (_u(rng, 0.5, 0.8) * depth, niche_h / 2, hz - margin), name="niche")
            )
            hi_y -= niche_h + gap
            d.style.append("niche")
        for zc in np.linspace(lo_z, hi_z, columns + 1)[:-1]:
            panels.append((lo_y, hi_y, float(zc), float(zc) + (hi_z - lo_z) / columns, "door"))
    hr, standoff = _u(rng, 0.005, 0.008), _u(rng, 0.025, 0.045)
    for index, (ya, yb, za, zb, kind) in enumerate(panels):
        ya, yb, za, zb = ya + gap / 2, yb - gap / 2, za + gap / 2, zb - gap / 2
        d.add(
            _box((hx + pt / 2 - 0.005, (ya + yb) / 2, (za + zb) / 2), (pt / 2, (yb - ya) / 2, (zb - za) / 2), name=kind)
        )
        if handle == "none":
            continue
        if kind == "drawer":
            hy, hzc = (ya + yb) / 2, (za + zb) / 2
            span = min(0.3 * (zb - za), 0.12)
            ends = [(hy, hzc - span / 2), (hy, hzc + span / 2)]
        else:
            # Door handles sit near the opening edge: doors alternate left and right in a row.
            hzc = zb - 0.04 if index % 2 == 0 else za + 0.04
            span = min(0.3 * (yb - ya), 0.2)
            hy = (ya + yb) / 2 if yb - ya < 0.6 else yb - 0.1 - span / 2
            ends = [(hy - span / 2, hzc), (hy + span / 2, hzc)]
        if handle == "bar":
            (ya_, za_), (yb_, zb_) = ends
            d.add(
                _tube(
                    [
                        (face_x - 0.003, ya_, za_),
                        (face_x + standoff, ya_, za_),
                        (face_x + standoff, yb_, zb_),
                        (face_x - 0.003, yb_, zb_),
                    ],
                    hr,
                    name="handle",
                )
            )
        else:
            cy = sum(e[0] for e in ends) / 2
            cz = sum(e[1] for e in ends) / 2
            kr = _u(rng, 0.012, 0.02)
            d.add(_sphere((face_x + kr * 0.7, cy, cz), kr, name="knob"))
