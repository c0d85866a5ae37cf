"""Benches (02828884): long along z, facing +x; a slab or slatted seat; legs, panel ends or looped frames; an
optional slatted or solid backrest on -x, and armrests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _about, _box, _tube
from dlsr.synth.shapes.draft import SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.furniture import PanelHole, _leg_point, _legs, draw_panel_holes, panel_hole
from dlsr.synth.shapes.parts import Part
from dlsr.synth.shapes.rotations import _rotation


@dataclass(frozen=True)
class BenchBack:
    tilt: float  # backwards lean about the seat's rear edge, degrees
    height: float  # above the seat's top
    thickness: float
    post_width: float  # slatted backs: half width of each post along z (0 for solid backs)
    slats: int  # slatted backs: horizontal slats (0 for solid backs)
    slat_height: float  # slatted backs: each slat's height
    arm_height: float | None  # armrests' height above the seat, or None without arms


@dataclass(frozen=True)
class BenchParams:
    length: float  # along z
    depth: float  # along x
    seat_height: float  # top of the seat above the floor
    seat_thickness: float
    seat: str  # "slab" or "slats"
    support: str  # "legs", "ends" (panels) or "frames" (a looped tube at each end)
    back_style: str  # "none", "solid" or "slats"
    end_inset: float  # from the seat's ends to the supports
    slats: int  # slatted seats: slats along z (0 for slabs)
    slat_fraction: float  # slatted seats: a slat's half width as a fraction of the depth per slat
    support_inset: float  # legs: from the seat's front and back edges to the legs' sides
    leg_radius: float  # legs: half width; frames: the tube's radius (0 for ends)
    leg_profile: str  # legs: "square", "round" or "tapered" ("" otherwise)
    stretcher_height: float | None  # legs: height of the stretchers along x, or None
    end_thickness: float  # ends: panel thickness (0 otherwise)
    end_half_width: float  # ends: half width as a fraction of the seat's half depth
    end_holes: tuple[PanelHole | None, ...]  # ends: each panel's cut-out, or None
    frame_reaches: tuple[tuple[float, float], ...]  # frames: each loop's (front, rear) reach beyond the seat
    back: BenchBack | None


def draw_bench(rng: np.random.Generator) -> BenchParams:
    """A bench's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    length, depth = _u(rng, 0.9, 1.8), _u(rng, 0.3, 0.5)
    seat_h, st = _u(rng, 0.38, 0.48), _u(rng, 0.03, 0.06)
    seat = _pick(rng, {"slab": 0.5, "slats": 0.5})
    support = _pick(rng, {"legs": 0.45, "ends": 0.35, "frames": 0.2})
    back = _pick(rng, {"none": 0.45, "solid": 0.2, "slats": 0.35})
    end_inset = _u(rng, 0.04, 0.15)
    slats, slat_fraction = 0, 0.0
    if seat == "slats":
        slats = int(rng.integers(3, 7))
        slat_fraction = _u(rng, 0.3, 0.42)
    support_inset = _u(rng, 0.02, 0.06)
    radius, profile, stretcher = 0.0, "", None
    end_thickness = end_half_width = 0.0
    holes: tuple[PanelHole | None, ...] = ()
    reaches: list[tuple[float, float]] = []
    if support == "legs":
        radius = _u(rng, 0.015, 0.03)
        profile = _pick(rng, {"square": 0.5, "round": 0.3, "tapered": 0.2})
        stretcher = _u(rng, 0.08, 0.2) if rng.random() < 0.4 else None
    elif support == "ends":
        end_thickness = _u(rng, 0.03, 0.06)
        end_half_width = _u(rng, 0.8, 1.0)
        holes = draw_panel_holes(rng, (0.35, 0.5), (0.3, 0.6))
    else:
        radius = _u(rng, 0.012, 0.02)
        reaches = [(_u(rng, -0.02, 0.03), _u(rng, -0.02, 0.03)) for _ in range(2)]
    return BenchParams(
        length=length,
        depth=depth,
        seat_height=seat_h,
        seat_thickness=st,
        seat=seat,
        support=support,
        back_style=back,
        end_inset=end_inset,
        slats=slats,
        slat_fraction=slat_fraction,
        support_inset=support_inset,
        leg_radius=radius,
        leg_profile=profile,
        stretcher_height=stretcher,
        end_thickness=end_thickness,
        end_half_width=end_half_width,
        end_holes=holes,
        frame_reaches=tuple(reaches),
        back=None if back == "none" else _draw_back(rng, back),
    )


def _draw_back(rng: np.random.Generator, style: str) -> BenchBack:
    tilt, height = _u(rng, 0.0, 12.0), _u(rng, 0.25, 0.45)
    thickness = _u(rng, 0.02, 0.045)
    post_width, slats, slat_height = 0.0, 0, 0.0
    if style == "slats":
        post_width = _u(rng, 0.02, 0.035)
        slats = int(rng.integers(2, 5))
        slat_height = _u(rng, 0.02, 0.05)
    arm_height = _u(rng, 0.15, 0.25) if rng.random() < 0.3 else None
    return BenchBack(tilt, height, thickness, post_width, slats, slat_height, arm_height)


def build_bench(p: BenchParams, d: _Draft) -> None:
    """The bench `p` describes, added to `d` (seat centred over the origin, long along z, floor at y = 0)."""
    seat_h, st, y_bot = p.seat_height, p.seat_thickness, p.seat_height - p.seat_thickness
    d.style += [p.seat, p.support, f"{p.back_style}-back"]
    end_z = p.length / 2 - p.end_inset
    hx, hz = p.depth / 2, p.length / 2
    if p.seat == "slab":
        d.add(_box((0.0, seat_h - st / 2, 0.0), (hx, st / 2, hz), name="seat"))
        y_support = y_bot + SHALLOW_OVERLAP
    else:
        n = p.slats
        half_w = p.depth / n * p.slat_fraction
        for i in range(n):
            d.add(_box((-hx + p.depth * (i + 0.5) / n, seat_h - st / 2, 0.0), (half_w, st / 2, hz), name="slat"))
        spots = [-end_z, end_z] + ([0.0] if p.length > 1.3 else [])
        for z in spots:
            d.add(_box((0.0, y_bot - 0.015, z), (hx, 0.025, 0.025), name="support"))
        y_support = y_bot - 0.02
        d.style.append(f"slats{n}")
    if p.support == "legs":
        _build_legs(p, end_z, y_support, d)
    elif p.support == "ends":
        _build_ends(p, end_z, y_support, d)
    else:
        r = p.leg_radius
        for sz, (front, rear) in zip((-1.0, 1.0), p.frame_reaches, strict=True):
            z = sz * end_z
            y_joint = y_support - SHALLOW_OVERLAP
            path = [(hx - 0.04, y_joint, z), (hx + front, r, z), (-hx - rear, r, z), (-hx + 0.04, y_joint, z)]
            d.add(_tube(path, r, name="frame"))
    if p.back is not None:
        _build_back(p, p.back, end_z, d)


def _build_legs(p: BenchParams, end_z: float, y_support: float, d: _Draft) -> None:
    r = p.leg_radius
    xs = p.depth / 2 - p.support_inset - r
    corners = [(-xs, -end_z), (-xs, end_z), (xs, -end_z), (xs, end_z)]
    legs, axes = _legs(corners, y_support, r, p.leg_profile)
    d.add(*legs)
    if p.stretcher_height is not None:
        y = p.stretcher_height
        for a, b in ((0, 1), (2, 3)):
            d.add(_tube([_leg_point(*axes[a], y), _leg_point(*axes[b], y)], 0.6 * r, name="stretcher"))
        d.style.append("stretchers")


def _build_ends(p: BenchParams, end_z: float, y_support: float, d: _Draft) -> None:
    et = p.end_thickness
    px = p.depth / 2 * p.end_half_width
    for sz, hole in zip((-1.0, 1.0), p.end_holes, strict=True):
        d.add(_box((0.0, y_support / 2, sz * end_z), (px, y_support / 2, et / 2), name="end"))
        if hole is not None:
            d.cut(panel_hole(hole, y_support, sz * end_z, px, et, name="end-hole"))
            d.style.append("pierced")


def _build_back(p: BenchParams, back: BenchBack, end_z: float, d: _Draft) -> None:
    seat_h, hx, bh, bt = p.seat_height, p.depth / 2, back.height, back.thickness
    x_c = -hx + bt / 2
    parts: list[Part] = []
    if p.back_style == "solid":
        y0 = seat_h - p.seat_thickness / 2
        half = (bt / 2, (seat_h + bh - y0) / 2, p.length / 2 * 0.98)
        parts.append(_box((x_c, (y0 + seat_h + bh) / 2, 0.0), half, name="back"))
    else:
        pw, sh, k = back.post_width, back.slat_height, back.slats
        y_bot = seat_h - p.seat_thickness
        y0 = y_bot + SHALLOW_OVERLAP if p.seat == "slab" else y_bot - 0.03
        for sz in (-1.0, 1.0):
            half = (bt / 2 + 0.003, (seat_h + bh - y0) / 2, pw)
            parts.append(_box((x_c, (y0 + seat_h + bh) / 2, sz * end_z), half, name="post"))
        for y in np.linspace(seat_h + 0.08, seat_h + bh - sh / 2, k):
            parts.append(_box((x_c, float(y), 0.0), (bt / 2, sh / 2, end_z + pw), name="back-slat"))
        d.style.append(f"back-slats{k}")
    d.add(*_about(parts, _rotation((0.0, 0.0, 1.0), back.tilt), (-hx, seat_h, 0.0)))
    if back.arm_height is not None:
        ah = back.arm_height
        x_rear = -hx + bt / 2 - ah * math.tan(math.radians(back.tilt))
        for sz in (-1.0, 1.0):
            z = sz * (end_z + 0.01)
            post_half = (0.015, ah / 2 + SHALLOW_OVERLAP, 0.015)
            d.add(_box((hx - 0.04, seat_h + ah / 2 - SHALLOW_OVERLAP, z), post_half, name="arm-post"))
            d.add(_box(((x_rear + hx) / 2, seat_h + ah, z), ((hx - x_rear) / 2, 0.015, 0.03), name="armrest"))
        d.style.append("arms")
