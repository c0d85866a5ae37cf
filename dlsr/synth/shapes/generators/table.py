"""Tables (04379243): rectangular, square, round or oval tops (long side along z) on four legs (with aprons,
stretchers or a shelf), one or two pedestals, trestles or panel ends."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _box, _cylinder, _ellipse, _extrude, _frustum, _rbox, _revolve, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.furniture import PanelHole, _legs, _stretchers, draw_panel_holes, panel_hole

_SUPPORT_WEIGHTS: dict[str, dict[str, float]] = {
    "rect": {"legs": 0.45, "trestle": 0.25, "panels": 0.2, "pedestal": 0.1},
    "square": {"legs": 0.6, "pedestal": 0.3, "panels": 0.1},
    "round": {"legs": 0.35, "pedestal": 0.65},
    "oval": {"legs": 0.4, "pedestal": 0.3, "trestle": 0.3},
}
"""How likely each support is under each top."""


@dataclass(frozen=True)
class TableLegs:
    radius: float  # half width of a leg at its top
    profile: str  # "square", "round" or "tapered"
    splay: float  # how far each foot moves outwards (0: upright legs)
    inset: float  # rectangular tops: from the top's edge to a leg's axis (0 otherwise)
    spread: float  # round and oval tops: the legs' distance from the centre as a fraction of the radius
    apron_height: float | None  # rectangular tops: height of the boards under the top's edges, or None
    extra: float  # decides the stretchers (< 0.3) or the shelf (< 0.45, upright legs only)
    stretchers: str | None  # "box" or "h" bars between the legs, or None
    low_height: float  # stretchers or shelf: height as a fraction of the table's height (0 without)


@dataclass(frozen=True)
class TableColumn:
    """One pedestal: a column on a foot."""

    vase_widths: tuple[float, ...]  # vase columns: the profile's widths (fractions of the column radius)
    reach: float  # radius of the foot
    disk_height: float  # disk feet: thickness at the centre (0 otherwise)
    disk_taper: float  # disk feet: top radius as a fraction of the bottom's
    foot_height: float  # cross and tripod feet: thickness of each foot (0 otherwise)


@dataclass(frozen=True)
class TablePedestal:
    column_radius: float
    column: str  # "cylinder" or "vase"
    foot: str  # "disk", "cross" or "tripod"
    columns: tuple[TableColumn, ...]  # one, or two along z under rectangular and oval tops


@dataclass(frozen=True)
class TableTrestle:
    inset: float  # from the top's ends to the trestles
    two_posts: bool  # two posts per trestle (else one)
    foot_height: float
    stretcher_height: float  # height of the beam joining the trestles
    foot_lengths: tuple[float, ...]  # each trestle's foot: half length as a fraction of the top's half depth
    post_widths: tuple[tuple[float, ...], ...]  # each trestle's posts: half widths along x


@dataclass(frozen=True)
class TablePanels:
    inset: float  # from the top's ends to the panels
    thickness: float
    half_width: float  # fraction of the top's half depth
    holes: tuple[PanelHole | None, ...]  # each panel's cut-out, or None
    brace: str  # "none", "beam" or "modesty"
    brace_drop: float  # beam: below the underside; modesty: the modesty board's height


@dataclass(frozen=True)
class TableParams:
    top: str  # "rect", "square", "round" or "oval"
    height: float  # of the top's upper face
    top_thickness: float
    half_length: float  # along z
    half_depth: float  # along x
    top_rounding: float | None  # rectangular tops: edge radius, or None for sharp edges
    support: str  # "legs", "pedestal", "trestle" or "panels"
    legs: TableLegs | None
    pedestal: TablePedestal | None
    trestle: TableTrestle | None
    panels: TablePanels | None


def draw_table(rng: np.random.Generator) -> TableParams:
    """A table's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
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
    rounding = None
    if top in ("rect", "square") and rng.random() < 0.5:
        rounding = _u(rng, 0.005, tt / 2)
    support = _pick(rng, _SUPPORT_WEIGHTS[top])
    return TableParams(
        top=top,
        height=height,
        top_thickness=tt,
        half_length=hz,
        half_depth=hx,
        top_rounding=rounding,
        support=support,
        legs=_draw_legs(rng, top) if support == "legs" else None,
        pedestal=_draw_pedestal(rng, top, hx, hz) if support == "pedestal" else None,
        trestle=_draw_trestle(rng) if support == "trestle" else None,
        panels=_draw_panels(rng) if support == "panels" else None,
    )


def _draw_legs(rng: np.random.Generator, top: str) -> TableLegs:
    radius = _u(rng, 0.018, 0.04)
    profile = _pick(rng, {"square": 0.35, "round": 0.35, "tapered": 0.3})
    splay = _u(rng, 0.02, 0.07) if rng.random() < 0.25 else 0.0
    rectangular = top in ("rect", "square")
    inset = spread = 0.0
    if rectangular:
        inset = _u(rng, 0.02, 0.1) + radius
    else:
        spread = _u(rng, 0.55, 0.78)
    apron = _u(rng, 0.05, 0.12) if rectangular and rng.random() < 0.5 else None
    extra = rng.random()
    stretchers, low = None, 0.0
    if extra < 0.3:
        stretchers = _pick(rng, {"box": 0.5, "h": 0.5})
        low = _u(rng, 0.1, 0.25)
    elif extra < 0.45 and splay == 0.0:
        low = _u(rng, 0.12, 0.3)
    return TableLegs(radius, profile, splay, inset, spread, apron, extra, stretchers, low)


def _draw_pedestal(rng: np.random.Generator, top: str, hx: float, hz: float) -> TablePedestal:
    count = 2 if top in ("rect", "oval") else 1
    column_radius = _u(rng, 0.03, 0.07)
    column = _pick(rng, {"cylinder": 0.5, "vase": 0.5})
    foot = _pick(rng, {"disk": 0.5, "cross": 0.3, "tripod": 0.2})
    columns = []
    for _ in range(count):
        widths: tuple[float, ...] = ()
        if column == "vase":
            widths = (1.0, _u(rng, 0.6, 1.4), _u(rng, 0.6, 1.8), _u(rng, 0.7, 1.3), 1.0)
        reach = min(_u(rng, 0.2, 0.35), 0.9 * min(hx, hz) if count == 1 else 0.9 * hx)
        disk_height = disk_taper = foot_height = 0.0
        if foot == "disk":
            disk_height = _u(rng, 0.025, 0.05)
            disk_taper = _u(rng, 0.5, 0.95)
        else:
            foot_height = _u(rng, 0.03, 0.06)
        columns.append(TableColumn(widths, reach, disk_height, disk_taper, foot_height))
    return TablePedestal(column_radius, column, foot, tuple(columns))


def _draw_trestle(rng: np.random.Generator) -> TableTrestle:
    inset = _u(rng, 0.08, 0.2)
    two = rng.random() < 0.4
    foot_height = _u(rng, 0.04, 0.07)
    stretcher_height = _u(rng, 0.2, 0.4)
    posts = 2 if two else 1
    feet, widths = [], []
    for _ in range(2):
        feet.append(_u(rng, 0.7, 0.9))
        widths.append(tuple(_u(rng, 0.025, 0.06) for _ in range(posts)))
    return TableTrestle(inset, two, foot_height, stretcher_height, tuple(feet), tuple(widths))


def _draw_panels(rng: np.random.Generator) -> TablePanels:
    inset, thickness = _u(rng, 0.0, 0.15), _u(rng, 0.03, 0.06)
    half_width = _u(rng, 0.75, 0.95)
    holes = draw_panel_holes(rng, (0.4, 0.6), (0.3, 0.5))
    brace = _pick(rng, {"none": 0.3, "beam": 0.45, "modesty": 0.25})
    drop = 0.0
    if brace == "beam":
        drop = _u(rng, 0.12, 0.3)
    elif brace == "modesty":
        drop = _u(rng, 0.15, 0.35)
    return TablePanels(inset, thickness, half_width, holes, brace, drop)


def build_table(p: TableParams, d: _Draft) -> None:
    """The table `p` describes, added to `d` (top centred over the origin, long side along z, floor at y = 0)."""
    height, tt, hx, hz = p.height, p.top_thickness, p.half_depth, p.half_length
    y_under = height - tt
    if p.top in ("rect", "square"):
        if p.top_rounding is not None:
            d.add(_rbox((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), p.top_rounding, name="top"))
        else:
            d.add(_box((0.0, height - tt / 2, 0.0), (hx, tt / 2, hz), name="top"))
    elif p.top == "round":
        d.add(_cylinder((0.0, y_under, 0.0), (0.0, height, 0.0), hx, name="top"))
    else:
        d.add(_extrude((0.0, y_under + tt / 2, 0.0), _ellipse(hx, hz, 64), tt / 2, "xz", name="top"))
    d.style += [p.top, p.support]
    if p.legs is not None:
        _build_legs(p, p.legs, d)
    elif p.pedestal is not None:
        _build_pedestal(p, p.pedestal, d)
    elif p.trestle is not None:
        _build_trestle(p, p.trestle, d)
    elif p.panels is not None:
        _build_panels(p, p.panels, d)


def _underside(p: TableParams) -> float:
    return p.height - p.top_thickness


def _build_legs(p: TableParams, legs: TableLegs, d: _Draft) -> None:
    hx, hz, r, y_under = p.half_depth, p.half_length, legs.radius, _underside(p)
    rectangular = p.top in ("rect", "square")
    if rectangular:
        xs, zs = hx - legs.inset, hz - legs.inset
    else:
        xs, zs = hx * legs.spread / math.sqrt(2), hz * legs.spread / math.sqrt(2)
    corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
    parts, axes = _legs(corners, y_under + OVERLAP, r, legs.profile, legs.splay)
    d.add(*parts)
    if legs.apron_height is not None:
        ah = legs.apron_height
        yc = y_under - ah / 2 + SHALLOW_OVERLAP
        for sx in (-1.0, 1.0):
            d.add(_box((sx * xs, yc, 0.0), (0.012, ah / 2, zs), name="apron"))
        for sz in (-1.0, 1.0):
            d.add(_box((0.0, yc, sz * zs), (xs, ah / 2, 0.012), name="apron"))
        d.style.append("apron")
    if legs.stretchers is not None:
        d.add(*_stretchers(axes, legs.low_height * p.height, 0.6 * r, legs.stretchers))
        d.style.append(f"stretchers-{legs.stretchers}")
    elif legs.extra < 0.45 and legs.splay == 0.0:
        ys = legs.low_height * p.height
        if rectangular:
            d.add(_box((0.0, ys, 0.0), (xs + 0.5 * r, 0.012, zs + 0.5 * r), name="shelf"))
        else:
            outline = _ellipse(xs * math.sqrt(2), zs * math.sqrt(2), 48)
            d.add(_extrude((0.0, ys, 0.0), outline, 0.012, "xz", name="shelf"))
        d.style.append("shelf")


def _build_pedestal(p: TableParams, pedestal: TablePedestal, d: _Draft) -> None:
    y_under, col_r = _underside(p), pedestal.column_radius
    y_leg = y_under + OVERLAP
    spots = [-p.half_length * 0.45, p.half_length * 0.45] if len(pedestal.columns) == 2 else [0.0]
    d.style += [pedestal.column, pedestal.foot]
    for z, column in zip(spots, pedestal.columns, strict=True):
        if pedestal.column == "cylinder":
            d.add(_cylinder((0.0, OVERLAP, z), (0.0, y_leg, z), col_r, name="column"))
        else:
            h = y_leg - OVERLAP
            steps = zip(column.vase_widths, np.linspace(0, 1, 5), strict=True)
            profile = [(0.0, 0.0)] + [(col_r * w, h * t) for w, t in steps]
            d.add(_revolve((0.0, OVERLAP, z), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="column"))
        d.add(_cylinder((0.0, y_under - 0.02, z), (0.0, y_under + SHALLOW_OVERLAP, z), 2.5 * col_r, name="cap"))
        reach = column.reach
        if pedestal.foot == "disk":
            top = (0.0, column.disk_height, z)
            d.add(_frustum((0.0, 0.0, z), top, reach, reach * column.disk_taper, name="base"))
        else:
            n = 4 if pedestal.foot == "cross" else 3
            fh = column.foot_height
            for k in range(n):
                a = math.radians(45.0 * (pedestal.foot == "cross") + 360.0 * k / n)
                end = (reach * math.cos(a), fh / 2, z + reach * math.sin(a))
                d.add(_tube([(0.0, fh, z), end], fh / 2, name="foot"))


def _build_trestle(p: TableParams, trestle: TableTrestle, d: _Draft) -> None:
    hx, y_under, fh = p.half_depth, _underside(p), trestle.foot_height
    post_xs = [-0.4 * hx, 0.4 * hx] if trestle.two_posts else [0.0]
    zt = p.half_length - trestle.inset
    for side, sz in enumerate((-1.0, 1.0)):
        z = sz * zt
        d.add(_box((0.0, fh / 2, z), (hx * trestle.foot_lengths[side], fh / 2, 0.03), name="foot"))
        d.add(_box((0.0, y_under - 0.02, z), (hx * 0.8, 0.025, 0.03), name="cleat"))
        for x, width in zip(post_xs, trestle.post_widths[side], strict=True):
            d.add(_box((x, y_under / 2, z), (width, y_under / 2, 0.025), name="post"))
    stretcher_y = trestle.stretcher_height * p.height
    for x in post_xs:
        d.add(_box((x, stretcher_y, 0.0), (0.02, 0.03, zt + 0.015), name="stretcher"))
    d.style.append("two-posts" if trestle.two_posts else "one-post")


def _build_panels(p: TableParams, panels: TablePanels, d: _Draft) -> None:
    y_under, pt = _underside(p), panels.thickness
    y_leg = y_under + OVERLAP
    zp = p.half_length - panels.inset - pt / 2
    px = p.half_depth * panels.half_width
    for sz, hole in zip((-1.0, 1.0), panels.holes, strict=True):
        d.add(_box((0.0, y_leg / 2, sz * zp), (px, y_leg / 2, pt / 2), name="panel"))
        if hole is not None:
            d.cut(panel_hole(hole, y_under, sz * zp, px, pt, name="panel-hole"))
            d.style.append("pierced")
    if panels.brace == "beam":
        d.add(_box((-px * 0.7, y_under - panels.brace_drop, 0.0), (0.02, 0.04, zp), name="beam"))
    elif panels.brace == "modesty":
        ph = panels.brace_drop
        d.add(_box((-px * 0.7, y_under - ph / 2 + SHALLOW_OVERLAP, 0.0), (0.01, ph / 2, zp), name="modesty"))
    d.style.append(panels.brace)
