"""Cabinets (02933112): a box body with doors and drawers on the +x face (bar handles make loops), plinth, legs
or nothing underneath, an overhanging top; or an open bookcase frame of boards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _box, _sphere, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.furniture import _legs


@dataclass(frozen=True)
class CabinetFronts:
    """Doors and drawers on a closed cabinet's +x face."""

    margin: float  # from the body's edges to the fronts
    gap: float  # between neighbouring fronts
    thickness: float  # of a door or drawer front
    handle: str  # "bar", "knob" or "none"
    drawer_rows: int  # 0 without drawers
    drawer_height: float  # each drawer row's height (0 without drawers)
    drawer_columns: int  # drawers side by side in a row (0 without drawers)
    door_columns: int  # doors side by side below the drawers (0 without doors)
    niche: tuple[float, float] | None  # an open niche above the doors: (height fraction, depth fraction), or None
    handle_radius: float  # bar handles' tube radius
    standoff: float  # how far a bar handle stands off the front
    knob_radii: tuple[float, ...]  # knobs: one radius per front, drawers first (() otherwise)


@dataclass(frozen=True)
class CabinetShelves:
    """An open bookcase: sides, top and bottom boards, shelves and an optional back."""

    board: float  # board thickness
    shelves: int
    backed: bool


@dataclass(frozen=True)
class CabinetParams:
    width: float  # along z
    depth: float  # along x
    height: float  # of the body
    foot: str  # "plinth", "legs" or "none"
    layout: str  # "doors", "drawers", "mixed" or "open"
    foot_height: float  # the body's underside above the floor (0 without a foot)
    leg_radius: float  # legs: half width (0 otherwise)
    leg_profile: str  # legs: "round", "tapered" or "square" ("" otherwise)
    top: tuple[float, float] | None  # an overhanging top: (overhang, thickness), or None
    shelves: CabinetShelves | None  # the open layout
    fronts: CabinetFronts | None  # the closed layouts


def draw_cabinet(rng: np.random.Generator) -> CabinetParams:
    """A cabinet's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    width, depth, height = _u(rng, 0.4, 1.2), _u(rng, 0.35, 0.6), _u(rng, 0.45, 1.8)
    foot = _pick(rng, {"plinth": 0.35, "legs": 0.35, "none": 0.3})
    layout = _pick(rng, {"doors": 0.35, "drawers": 0.25, "mixed": 0.25, "open": 0.15})
    fh = _u(rng, 0.04, 0.12) if foot != "none" else 0.0
    leg_radius, leg_profile = 0.0, ""
    if foot == "legs":
        leg_radius = _u(rng, 0.012, 0.025)
        leg_profile = _pick(rng, {"round": 0.5, "tapered": 0.3, "square": 0.2})
    top = None
    if rng.random() < 0.4:
        top = (_u(rng, 0.005, 0.04), _u(rng, 0.015, 0.04))
    shelves = fronts = None
    if layout == "open":
        board = _u(rng, 0.015, 0.03)
        count = int(rng.integers(1, 5))
        shelves = CabinetShelves(board, count, backed=rng.random() < 0.5)
    else:
        fronts = _draw_fronts(rng, layout, width, depth, fh, height)
    return CabinetParams(width, depth, height, foot, layout, fh, leg_radius, leg_profile, top, shelves, fronts)


def _draw_fronts(
    rng: np.random.Generator, layout: str, width: float, depth: float, fh: float, height: float
) -> CabinetFronts:
    margin, gap, thickness = _u(rng, 0.012, 0.04), _u(rng, 0.006, 0.015), _u(rng, 0.012, 0.025)
    handle = _pick(rng, {"bar": 0.55, "knob": 0.3, "none": 0.15})
    lo_y, hi_y = fh + margin, fh + height - margin
    rows = drawer_columns = door_columns = 0
    drawer_h = 0.0
    if layout in ("drawers", "mixed"):
        rows = int(rng.integers(2, 6)) if layout == "drawers" else int(rng.integers(1, 4))
        drawer_h = (hi_y - lo_y) / rows if layout == "drawers" else min(_u(rng, 0.12, 0.25), (hi_y - lo_y) / (rows + 1))
        drawer_columns = 2 if (width > 0.8 and rng.random() < 0.5) else 1
        hi_y -= rows * drawer_h
    niche = None
    if layout in ("doors", "mixed") and hi_y - lo_y > 0.1:
        door_columns = 1 if width < 0.55 else int(rng.integers(1, 3)) + (width > 1.0)
        if rng.random() < 0.25:
            niche = (_u(rng, 0.3, 0.5), _u(rng, 0.5, 0.8))
    handle_radius, standoff = _u(rng, 0.005, 0.008), _u(rng, 0.025, 0.045)
    count = rows * drawer_columns + door_columns
    knob_radii = tuple(_u(rng, 0.012, 0.02) for _ in range(count)) if handle == "knob" else ()
    return CabinetFronts(
        margin=margin,
        gap=gap,
        thickness=thickness,
        handle=handle,
        drawer_rows=rows,
        drawer_height=drawer_h,
        drawer_columns=drawer_columns,
        door_columns=door_columns,
        niche=niche,
        handle_radius=handle_radius,
        standoff=standoff,
        knob_radii=knob_radii,
    )


def build_cabinet(p: CabinetParams, d: _Draft) -> None:
    """The cabinet `p` describes, added to `d` (centred over the origin, fronts towards +x, floor at y = 0)."""
    d.style += [p.foot, p.layout]
    fh, hx, hz = p.foot_height, p.depth / 2, p.width / 2
    y1 = fh + p.height
    if p.foot == "plinth":
        lift = SHALLOW_OVERLAP / 2  # the plinth reaches a little into the body
        d.add(_box((0.0, fh / 2 + lift, 0.0), (hx - 0.03, fh / 2 + lift, hz - 0.03), name="plinth"))
    elif p.foot == "legs":
        corners = [(x, z) for x in (-hx + 0.03, hx - 0.03) for z in (-hz + 0.03, hz - 0.03)]
        d.add(*_legs(corners, fh + OVERLAP, p.leg_radius, p.leg_profile)[0])
    if p.top is not None:
        oh, tt = p.top
        d.add(_box((oh / 2, y1 + tt / 2 - SHALLOW_OVERLAP, 0.0), (hx + oh / 2, tt / 2, hz + oh), name="top"))
    if p.shelves is not None:
        _build_shelves(p, p.shelves, d)
    elif p.fronts is not None:
        d.add(_box((0.0, (fh + y1) / 2, 0.0), (hx, p.height / 2, hz), name="body"))
        _build_fronts(p, p.fronts, d)


def _build_shelves(p: CabinetParams, shelves: CabinetShelves, d: _Draft) -> None:
    hx, hz, board = p.depth / 2, p.width / 2, shelves.board
    y0, y1 = p.foot_height, p.foot_height + p.height
    for sz in (-1.0, 1.0):
        d.add(_box((0.0, (y0 + y1) / 2, sz * (hz - board / 2)), (hx, p.height / 2, board / 2), name="side"))
    for y in (y0 + board / 2, y1 - board / 2):
        d.add(_box((0.0, y, 0.0), (hx, board / 2, hz - 0.005), name="board"))
    k = shelves.shelves
    for y in np.linspace(y0, y1, k + 2)[1:-1]:
        d.add(_box((0.0, float(y), 0.0), (hx - 0.01, board / 2, hz - 0.005), name="shelf"))
    if shelves.backed:
        half = (board / 2, p.height / 2 - 0.005, hz - 0.005)
        d.add(_box((-hx + board / 2, (y0 + y1) / 2, 0.0), half, name="back"))
        d.style.append("backed")
    d.style.append(f"shelves{k}")


def _build_fronts(p: CabinetParams, f: CabinetFronts, d: _Draft) -> None:
    hx, hz, margin, gap, pt = p.depth / 2, p.width / 2, f.margin, f.gap, f.thickness
    d.style.append(f.handle)
    face_x = hx + pt - SHALLOW_OVERLAP  # front face of the doors and drawers
    lo_y, hi_y = p.foot_height + margin, p.foot_height + p.height - margin
    lo_z, hi_z = -hz + margin, hz - margin
    panels: list[tuple[float, float, float, float, str]] = []  # (y_a, y_b, z_a, z_b, kind)
    drawer_h = f.drawer_height
    for i in range(f.drawer_rows):
        ya, yb = hi_y - (i + 1) * drawer_h, hi_y - i * drawer_h
        for zc in np.linspace(lo_z, hi_z, f.drawer_columns + 1)[:-1]:
            panels.append((ya, yb, float(zc), float(zc) + (hi_z - lo_z) / f.drawer_columns, "drawer"))
    hi_y -= f.drawer_rows * drawer_h
    if f.door_columns:
        if f.niche is not None:  # an open niche instead of the top door row
            niche_h = (hi_y - lo_y) * f.niche[0]
            half = (f.niche[1] * p.depth, niche_h / 2, hz - margin)
            d.cut(_box((hx, hi_y - niche_h / 2, 0.0), half, name="niche"))
            hi_y -= niche_h + gap
            d.style.append("niche")
        for zc in np.linspace(lo_z, hi_z, f.door_columns + 1)[:-1]:
            panels.append((lo_y, hi_y, float(zc), float(zc) + (hi_z - lo_z) / f.door_columns, "door"))
    knob_radii = iter(f.knob_radii)
    for index, (ya, yb, za, zb, kind) in enumerate(panels):
        ya, yb, za, zb = ya + gap / 2, yb - gap / 2, za + gap / 2, zb - gap / 2
        centre = (hx + pt / 2 - SHALLOW_OVERLAP, (ya + yb) / 2, (za + zb) / 2)
        d.add(_box(centre, (pt / 2, (yb - ya) / 2, (zb - za) / 2), name=kind))
        if f.handle == "none":
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
        if f.handle == "bar":
            (ya_, za_), (yb_, zb_) = ends
            x_in, x_out = face_x - 0.003, face_x + f.standoff
            path = [(x_in, ya_, za_), (x_out, ya_, za_), (x_out, yb_, zb_), (x_in, yb_, zb_)]
            d.add(_tube(path, f.handle_radius, name="handle"))
        else:
            cy = sum(e[0] for e in ends) / 2
            cz = sum(e[1] for e in ends) / 2
            kr = next(knob_radii)
            d.add(_sphere((face_x + kr * 0.7, cy, cz), kr, name="knob"))
