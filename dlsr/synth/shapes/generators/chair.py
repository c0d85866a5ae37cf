"""Chairs (03001627): a seat on four legs, a pedestal or sled runners; a solid, pierced, slatted, ladder or padded
backrest on the -x side; optional arms."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _about, _box, _cylinder, _frustum, _rbox, _sphere, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.furniture import _legs, _stretchers
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.rotations import _rotation


@dataclass(frozen=True)
class ChairLegs:
    radius: float  # half width of a leg at its top
    inset: float  # from the seat's edge to the legs' sides
    splay: float  # how far each foot moves outwards (0: upright legs)
    profile: str  # "square", "round" or "tapered"
    stretchers: str | None  # "box" (all four sides) or "h" bars between the legs, or None
    stretcher_height: float  # height of the stretchers above the floor (0 without them)


@dataclass(frozen=True)
class ChairStar:
    """A star base: spokes from a hub on the column, optionally on casters."""

    spokes: int  # 4 or 5
    reach: float  # from the column's axis to a spoke's end
    spoke_radius: float
    casters: bool  # a ball under each spoke's end
    phase: float  # the first spoke's angle about y, degrees


@dataclass(frozen=True)
class ChairPedestal:
    column_radius: float
    hub_height: float  # height of the star's hub (used with a star only)
    star: ChairStar | None  # a star base, or None for a round disk
    disk_radius: float  # radius of the disk base (0 with a star)


@dataclass(frozen=True)
class ChairSled:
    """A closed runner on each side, joined to the seat at both ends (a loop per side)."""

    radius: float  # the runners' tube radius
    side_inset: float  # from the seat's side to a runner's axis
    front_reach: float  # how far the runner's front bend sits beyond the seat's front edge
    rear_reach: float  # how far the runner's rear bend sits behind the seat's rear edge
    crossbar: bool  # a bar joining the runners at the rear


@dataclass(frozen=True)
class ChairBack:
    tilt: float  # backwards lean about the seat's rear edge, degrees
    height: float  # above the seat's top
    width: float  # along z
    thickness: float  # along x
    hole_height: float  # pierced: the hole's centre height above the seat's top (0 otherwise)
    hole_half_height: float  # pierced: half the hole's height
    hole_half_width: float  # pierced: half the hole's width
    hole_rounded: bool  # pierced: a rounded-rectangle hole (else round)
    padding_radius: float  # padded: edge radius of the cushion (0 otherwise)
    post_width: float  # slats and ladder: half width of each side post (0 otherwise)
    rail_height: float  # slats: the top rail's height; ladder: each rail's height
    bars: int  # slats: vertical slats; ladder: horizontal rails (0 otherwise)
    slat_half_width: float  # slats: half width of each slat


@dataclass(frozen=True)
class ChairArms:
    height: float  # armrest height above the seat's top
    width: float  # along z
    thickness: float  # of a rest's top bar
    front_reach: float  # how far the arm's front sits beyond the seat's front edge (negative: behind it)
    post_setbacks: tuple[float, ...]  # rests: each side's post, back from the seat's front edge (() for panels)


@dataclass(frozen=True)
class ChairParams:
    seat_height: float  # top of the seat above the floor
    seat_width: float  # along z
    seat_depth: float  # along x
    seat_thickness: float
    base: str  # "legs", "pedestal" or "sled"
    back_style: str  # "solid", "pierced", "slats", "ladder" or "padded"
    arm_style: str  # "none", "rests" or "panels"
    seat_rounding: float | None  # edge radius as a fraction of half the seat's thickness; None: a sharp box
    legs: ChairLegs | None
    pedestal: ChairPedestal | None
    sled: ChairSled | None
    back: ChairBack
    arms: ChairArms | None


def draw_chair(rng: np.random.Generator) -> ChairParams:
    """A chair's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    seat_h, sw, sd, st = _u(rng, 0.40, 0.50), _u(rng, 0.42, 0.58), _u(rng, 0.40, 0.54), _u(rng, 0.03, 0.08)
    base = _pick(rng, {"legs": 0.55, "pedestal": 0.25, "sled": 0.2})
    back = _pick(rng, {"solid": 0.25, "pierced": 0.15, "slats": 0.2, "ladder": 0.15, "padded": 0.25})
    arms = _pick(rng, {"none": 0.55, "rests": 0.3, "panels": 0.15})
    rounding = _u(rng, 0.3, 0.9) if back == "padded" or rng.random() < 0.4 else None
    legs = _draw_legs(rng) if base == "legs" else None
    pedestal = _draw_pedestal(rng) if base == "pedestal" else None
    sled = _draw_sled(rng) if base == "sled" else None
    backrest = _draw_back(rng, back, sw)
    return ChairParams(
        seat_height=seat_h,
        seat_width=sw,
        seat_depth=sd,
        seat_thickness=st,
        base=base,
        back_style=back,
        arm_style=arms,
        seat_rounding=rounding,
        legs=legs,
        pedestal=pedestal,
        sled=sled,
        back=backrest,
        arms=None if arms == "none" else _draw_arms(rng, arms),
    )


def _draw_legs(rng: np.random.Generator) -> ChairLegs:
    radius, inset = _u(rng, 0.014, 0.028), _u(rng, 0.01, 0.05)
    splay = _u(rng, 0.01, 0.06) if rng.random() < 0.4 else 0.0
    profile = _pick(rng, {"square": 0.4, "round": 0.4, "tapered": 0.2})
    stretchers, height = None, 0.0
    if rng.random() < 0.4:
        stretchers = _pick(rng, {"box": 0.5, "h": 0.5})
        height = _u(rng, 0.08, 0.2)
    return ChairLegs(radius, inset, splay, profile, stretchers, height)


def _draw_pedestal(rng: np.random.Generator) -> ChairPedestal:
    column_radius, hub_height = _u(rng, 0.022, 0.045), _u(rng, 0.06, 0.1)
    if rng.random() < 0.75:
        spokes, reach, spoke_radius = int(rng.choice([4, 5])), _u(rng, 0.22, 0.32), _u(rng, 0.014, 0.022)
        casters = rng.random() < 0.6
        star = ChairStar(spokes, reach, spoke_radius, casters, phase=_u(rng, 0.0, 360.0))
        return ChairPedestal(column_radius, hub_height, star, disk_radius=0.0)
    return ChairPedestal(column_radius, hub_height, None, disk_radius=_u(rng, 0.18, 0.26))


def _draw_sled(rng: np.random.Generator) -> ChairSled:
    radius, side_inset = _u(rng, 0.011, 0.018), _u(rng, 0.02, 0.05)
    front_reach, rear_reach = _u(rng, -0.02, 0.05), _u(rng, -0.02, 0.04)
    return ChairSled(radius, side_inset, front_reach, rear_reach, crossbar=rng.random() < 0.4)


def _draw_back(rng: np.random.Generator, style: str, seat_width: float) -> ChairBack:
    tilt = _u(rng, 0.0, 14.0)
    height, width = _u(rng, 0.3, 0.55), seat_width * _u(rng, 0.82, 1.0)
    thickness = _u(rng, 0.06, 0.12) if style == "padded" else _u(rng, 0.02, 0.05)
    hole = (0.0, 0.0, 0.0)
    hole_rounded = False
    padding = post = rail = slat = 0.0
    bars = 0
    if style == "pierced":
        hole = (height * _u(rng, 0.55, 0.72), height * _u(rng, 0.1, 0.17), width * _u(rng, 0.12, 0.24))
        hole_rounded = rng.random() < 0.5
    elif style == "padded":
        padding = _u(rng, 0.02, thickness / 2)
    elif style in ("slats", "ladder"):
        post = _u(rng, 0.015, 0.03)
        if style == "slats":
            rail = _u(rng, 0.04, 0.1)
            bars = int(rng.integers(1, 6))
            inner = width - 4 * post
            slat = min(_u(rng, 0.008, 0.03), 0.3 * inner / (2 * bars))
        else:
            bars = int(rng.integers(2, 5))
            rail = _u(rng, 0.025, 0.05)
    return ChairBack(tilt, height, width, thickness, *hole, hole_rounded, padding, post, rail, bars, slat)


def _draw_arms(rng: np.random.Generator, style: str) -> ChairArms:
    height, width, thickness = _u(rng, 0.16, 0.26), _u(rng, 0.03, 0.06), _u(rng, 0.02, 0.04)
    front_reach = _u(rng, -0.03, 0.03)
    setbacks = tuple(_u(rng, 0.03, 0.08) for _ in range(2)) if style == "rests" else ()
    return ChairArms(height, width, thickness, front_reach, setbacks)


def build_chair(p: ChairParams, d: _Draft) -> None:
    """The chair `p` describes, added to `d` (seat centred over the origin, backrest on -x, floor at y = 0)."""
    d.style += [p.base, p.back_style, p.arm_style]
    seat_centre = (0.0, p.seat_height - p.seat_thickness / 2, 0.0)
    seat_half = (p.seat_depth / 2, p.seat_thickness / 2, p.seat_width / 2)
    if p.seat_rounding is not None:
        d.add(_rbox(seat_centre, seat_half, p.seat_rounding * p.seat_thickness / 2, name="seat"))
    else:
        d.add(_box(seat_centre, seat_half, name="seat"))
    if p.legs is not None:
        _build_legs(p, p.legs, d)
    elif p.pedestal is not None:
        _build_pedestal(p, p.pedestal, d)
    elif p.sled is not None:
        _build_sled(p, p.sled, d)
    _build_back(p, d)
    if p.arms is not None:
        _build_arms(p, p.arms, d)


def _seat_bottom(p: ChairParams) -> float:
    return p.seat_height - p.seat_thickness


def _build_legs(p: ChairParams, legs: ChairLegs, d: _Draft) -> None:
    r = legs.radius
    xs, zs = p.seat_depth / 2 - legs.inset - r, p.seat_width / 2 - legs.inset - r
    corners = [(-xs, -zs), (-xs, zs), (xs, -zs), (xs, zs)]
    parts, axes = _legs(corners, _seat_bottom(p) + OVERLAP, r, legs.profile, legs.splay)
    d.add(*parts)
    if legs.stretchers is not None:
        d.add(*_stretchers(axes, legs.stretcher_height, 0.6 * r, legs.stretchers))
        d.style.append(f"stretchers-{legs.stretchers}")


def _build_pedestal(p: ChairParams, pedestal: ChairPedestal, d: _Draft) -> None:
    y_bot, col_r, hub_y = _seat_bottom(p), pedestal.column_radius, pedestal.hub_height
    d.add(_box((0.0, y_bot - OVERLAP, 0.0), (0.08, 0.015, 0.08), name="plate"))
    star = pedestal.star
    if star is None:
        radius = pedestal.disk_radius
        d.add(_frustum((0.0, 0.0, 0.0), (0.0, 0.035, 0.0), radius, 0.8 * radius, name="base"))
        d.add(_cylinder((0.0, 0.02, 0.0), (0.0, y_bot + OVERLAP, 0.0), col_r, name="column"))
        d.style.append("disk")
        return
    spoke_r = star.spoke_radius
    end_y = 0.045 if star.casters else spoke_r + 0.003
    hub_lo, hub_hi = (0.0, hub_y - 1.5 * spoke_r, 0.0), (0.0, hub_y + 1.5 * spoke_r, 0.0)
    d.add(_cylinder(hub_lo, (0.0, y_bot + OVERLAP, 0.0), col_r, name="column"))
    d.add(_cylinder(hub_lo, hub_hi, 1.4 * col_r, name="hub"))
    n = star.spokes
    for k in range(n):
        a = math.radians(star.phase + 360.0 * k / n)
        end = (star.reach * math.cos(a), end_y, star.reach * math.sin(a))
        d.add(_tube([(0.0, hub_y, 0.0), end], spoke_r, name="spoke"))
        if star.casters:
            d.add(_sphere((end[0], 0.025, end[2]), 0.025, name="caster"))
    d.style.append(f"star{n}")


def _build_sled(p: ChairParams, sled: ChairSled, d: _Draft) -> None:
    sd, r = p.seat_depth, sled.radius
    y_joint = _seat_bottom(p) + p.seat_thickness / 2
    z0 = p.seat_width / 2 - sled.side_inset
    front, rear = sd / 2 + sled.front_reach, -sd / 2 - sled.rear_reach
    for sz in (-1.0, 1.0):
        z = sz * z0
        path = [(sd / 2 - 0.05, y_joint, z), (front, r + 0.001, z), (rear, r + 0.001, z), (-sd / 2 + 0.05, y_joint, z)]
        d.add(_tube(path, r, name="runner"))
    if sled.crossbar:
        d.add(_tube([(rear, r + 0.001, -z0), (rear, r + 0.001, z0)], r, name="crossbar"))


def _build_back(p: ChairParams, d: _Draft) -> None:
    b, seat_h = p.back, p.seat_height
    bt, bw = b.thickness, b.width
    x_c, y0, y1 = -p.seat_depth / 2 + bt / 2, _seat_bottom(p) + SHALLOW_OVERLAP, seat_h + b.height
    back_parts: list[Part] = []
    back_holes: list[Part] = []
    if p.back_style in ("solid", "pierced"):
        back_parts.append(_box((x_c, (y0 + y1) / 2, 0.0), (bt / 2, (y1 - y0) / 2, bw / 2), name="back"))
        if p.back_style == "pierced":
            yc, hy, hz = seat_h + b.hole_height, b.hole_half_height, b.hole_half_width
            if b.hole_rounded:
                back_holes.append(_rbox((x_c, yc, 0.0), (bt, hy, hz), 0.9 * min(hy, hz), name="back-hole"))
            else:
                radius = min(hy, hz)
                back_holes.append(_cylinder((x_c - bt, yc, 0.0), (x_c + bt, yc, 0.0), radius, name="back-hole"))
    elif p.back_style == "padded":
        half = (bt / 2, (y1 - y0) / 2, bw / 2)
        back_parts.append(_rbox((x_c, (y0 + y1) / 2, 0.0), half, b.padding_radius, name="back"))
    else:
        pw, rh, k = b.post_width, b.rail_height, b.bars
        for sz in (-1.0, 1.0):
            back_parts.append(_box((x_c, (y0 + y1) / 2, sz * (bw / 2 - pw)), (bt / 2, (y1 - y0) / 2, pw), name="post"))
        if p.back_style == "slats":
            back_parts.append(_box((x_c, y1 - rh / 2, 0.0), (bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            inner = bw - 4 * pw
            slat_half = (0.8 * bt / 2, (y1 - rh - y0) / 2 + SHALLOW_OVERLAP, b.slat_half_width)
            for i in range(k):
                z = -inner / 2 + inner * (i + 0.5) / k
                back_parts.append(_box((x_c, (y0 + y1 - rh) / 2, z), slat_half, name="slat"))
            d.style.append(f"slats{k}")
        else:
            for y in np.linspace(seat_h + 0.1, y1 - rh / 2, k):
                back_parts.append(_box((x_c, float(y), 0.0), (0.8 * bt / 2, rh / 2, bw / 2 - pw), name="rail"))
            d.style.append(f"rails{k}")
    turn = _rotation((0.0, 0.0, 1.0), b.tilt)
    pivot = (-p.seat_depth / 2, seat_h, 0.0)
    d.add(*_about(back_parts, turn, pivot))
    d.cut(*_about(back_holes, turn, pivot))


def _build_arms(p: ChairParams, arms: ChairArms, d: _Draft) -> None:
    sd, seat_h, ah, aw = p.seat_depth, p.seat_height, arms.height, arms.width
    z_arm = p.back.width / 2 - aw / 2
    x_rear = -sd / 2 + p.back.thickness / 2 - ah * math.tan(math.radians(p.back.tilt))
    x_front = sd / 2 + arms.front_reach
    x_mid, x_half = (x_rear + x_front) / 2, (x_front - x_rear) / 2
    for side, sz in enumerate((-1.0, 1.0)):
        z = sz * z_arm
        if p.arm_style == "rests":
            px = sd / 2 - arms.post_setbacks[side]
            post_half = (0.015, ah / 2 + SHALLOW_OVERLAP, 0.4 * aw)
            d.add(_box((px, seat_h + ah / 2 - SHALLOW_OVERLAP, z), post_half, name="arm-post"))
            d.add(_box((x_mid, seat_h + ah, z), (x_half, arms.thickness / 2, aw / 2), name="armrest"))
        else:
            d.add(_box((x_mid, seat_h + ah / 2, z), (x_half, ah / 2 + OVERLAP, aw / 2), name="arm"))
