"""Rifles (04090263): along x, muzzle at +x: receiver, barrel, stock (some with a thumbhole), pistol grip, a trigger
guard (always a loop), magazine, handguard; optional scope on two mounts or carry handle (more loops), bipod."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _about, _box, _cylinder, _extrude, _rbox, _revolve, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.rotations import _rotation

_RECEIVER_REAR = -0.12
"""x of the receiver's rear end; the receiver is centred at height 0."""


@dataclass(frozen=True)
class RifleStock:
    """A side profile from the receiver back to the butt, extruded across."""

    length: float  # from the receiver's rear to the butt
    drop: float  # of the butt's top below the receiver's top
    butt_height: float
    wrist: float  # from the receiver's rear back to the wrist, where the belly dips in
    wrist_dip: float  # how far the belly dips at the wrist
    width_factor: float  # half width as a fraction of the receiver's (never 1: flush faces leave needles)
    thumbhole: tuple[float, float] | None  # (half length, centre x) of a hole through the stock, or None


@dataclass(frozen=True)
class RifleParams:
    receiver_length: float
    receiver_height: float
    receiver_width: float
    barrel_radius: float
    muzzle_x: float  # where the barrel ends
    barrel_height: float  # of the barrel's axis above the receiver's centre, as a fraction of its height
    muzzle_brake: tuple[float, float] | None  # (length, radius factor) of a brake at the muzzle, or None
    handguard: tuple[float, float, str] | None  # (length, radius or height, "round" or "box"), or None
    stock: RifleStock
    grip: tuple[float, float, float, float]  # (x from the receiver's rear, length, backward slant, width)
    guard: tuple[float, float, float]  # trigger guard: (depth, tube radius, front from the grip)
    magazine: tuple[float, float, float] | None  # (length, width, forward tilt in degrees), or None
    sight: str  # "scope", "handle" or "none"
    scope: tuple[float, float, float, float]  # (tube radius, length, mount height, bell factor) (zeros without)
    carry_handle_height: float  # sight "handle": the handle's height above the receiver (0 otherwise)
    bipod: tuple[float, float, float] | None  # (x from the receiver's front, half spread, leg length), or None


def draw_rifle(rng: np.random.Generator) -> RifleParams:
    """A rifle's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    lr, hr, wr = _u(rng, 0.2, 0.32), _u(rng, 0.05, 0.08), _u(rng, 0.022, 0.035)
    rb, muzzle = _u(rng, 0.007, 0.013), _u(rng, 0.45, 0.6)
    barrel_height = _u(rng, 0.0, 0.25)
    brake = (_u(rng, 0.03, 0.06), _u(rng, 1.4, 2.0)) if rng.random() < 0.5 else None
    handguard = None
    if rng.random() < 0.65:
        length = _u(rng, 0.15, 0.3)
        handguard = (
            (length, _u(rng, 0.016, 0.026), "round") if rng.random() < 0.5 else (length, _u(rng, 0.03, 0.05), "box")
        )
    stock = _draw_stock(rng)
    grip = (_u(rng, 0.04, 0.08), _u(rng, 0.07, 0.11), _u(rng, 0.02, 0.05), _u(rng, 0.025, 0.035))
    guard = (_u(rng, 0.035, 0.05), _u(rng, 0.004, 0.006), _u(rng, 0.06, 0.08))
    magazine = (_u(rng, 0.08, 0.2), _u(rng, 0.025, 0.04), _u(rng, 0.0, 20.0)) if rng.random() < 0.8 else None
    sight = _pick(rng, {"scope": 0.45, "handle": 0.15, "none": 0.4})
    scope, handle_height = (0.0, 0.0, 0.0, 0.0), 0.0
    if sight == "scope":
        scope = (_u(rng, 0.012, 0.02), _u(rng, 0.18, 0.3), _u(rng, 0.025, 0.05), _u(rng, 1.2, 1.7))
    elif sight == "handle":
        handle_height = _u(rng, 0.03, 0.05)
    bipod = (_u(rng, 0.12, 0.25), _u(rng, 0.04, 0.08), _u(rng, 0.12, 0.2)) if rng.random() < 0.2 else None
    return RifleParams(
        receiver_length=lr,
        receiver_height=hr,
        receiver_width=wr,
        barrel_radius=rb,
        muzzle_x=muzzle,
        barrel_height=barrel_height,
        muzzle_brake=brake,
        handguard=handguard,
        stock=stock,
        grip=grip,
        guard=guard,
        magazine=magazine,
        sight=sight,
        scope=scope,
        carry_handle_height=handle_height,
        bipod=bipod,
    )


def _draw_stock(rng: np.random.Generator) -> RifleStock:
    length, drop, butt_h = _u(rng, 0.3, 0.42), _u(rng, 0.0, 0.05), _u(rng, 0.1, 0.16)
    wrist, dip = _u(rng, 0.08, 0.14), _u(rng, 0.0, 0.02)
    width_factor = _u(rng, 0.7, 0.9) if rng.random() < 0.5 else _u(rng, 1.15, 1.4)
    thumbhole = None
    if rng.random() < 0.35:
        butt_x, wrist_x = _RECEIVER_REAR - length, _RECEIVER_REAR - wrist
        half = _u(rng, 0.12, 0.2) * (_RECEIVER_REAR - butt_x)
        thumbhole = (half, _u(rng, butt_x + half + 0.04, wrist_x - half))
    return RifleStock(length, drop, butt_h, wrist, dip, width_factor, thumbhole)


def build_rifle(p: RifleParams, d: _Draft) -> None:
    """The rifle `p` describes, added to `d` (along x, muzzle at +x, receiver centred at height 0)."""
    lr, hr, wr, rb, muzzle = p.receiver_length, p.receiver_height, p.receiver_width, p.barrel_radius, p.muzzle_x
    xr0, yr = _RECEIVER_REAR, 0.0
    xr1 = xr0 + lr
    d.add(_box(((xr0 + xr1) / 2, yr, 0.0), (lr / 2, hr / 2, wr / 2), name="receiver"))
    by = yr + hr * p.barrel_height
    d.add(_cylinder((xr1 - OVERLAP, by, 0.0), (muzzle, by, 0.0), rb, name="barrel"))
    if p.muzzle_brake is not None:
        length, factor = p.muzzle_brake
        d.add(_cylinder((muzzle - length, by, 0.0), (muzzle + SHALLOW_OVERLAP, by, 0.0), rb * factor, name="muzzle"))
    if p.handguard is not None:
        lh, size, kind = p.handguard
        if kind == "round":
            d.add(_cylinder((xr1 - OVERLAP, by, 0.0), (xr1 + lh, by, 0.0), size, name="handguard"))
        else:
            hh = size
            centre = (xr1 + lh / 2 - OVERLAP, by - hh * 0.2, 0.0)
            d.add(_rbox(centre, (lh / 2 + OVERLAP, hh / 2, wr / 2 * 0.95), 0.008, name="handguard"))
        d.style.append("handguard")
    _build_stock(p, p.stock, d)
    front, y_under = _build_grip(p, d)
    gr = p.guard[1]
    if p.magazine is not None:
        ml, mw, tilt = p.magazine
        mx = front + gr + 0.015 + mw / 2
        mag = _box((mx, y_under + OVERLAP - ml / 2, 0.0), (mw / 2, ml / 2, wr / 2 * 0.8), name="magazine")
        d.add(*_about([mag], _rotation((0.0, 0.0, 1.0), tilt), (mx, y_under, 0.0)))
        d.style.append("magazine")
    d.style.append(p.sight)
    _build_sight(p, xr1, yr + hr / 2, d)
    if p.bipod is not None:
        offset, spread, bl = p.bipod
        bx = xr1 + offset
        for sz in (-1.0, 1.0):
            d.add(_tube([(bx, by, 0.0), (bx + 0.03, by - bl, sz * spread)], 0.005, name="bipod"))
        d.style.append("bipod")


def _build_sight(p: RifleParams, xr1: float, top: float, d: _Draft) -> None:
    """A scope on two mounts or a carry handle on the receiver's top at height `top` (receiver front at xr1)."""
    xr0 = _RECEIVER_REAR
    if p.sight == "scope":
        rs, ls, mh, bell_factor = p.scope
        x0 = (xr0 + xr1) / 2 - ls / 2
        ys = top + mh
        bell = rs * bell_factor
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
            d.add(_box((x, (top + ys) / 2, 0.0), (0.01, mh / 2 + SHALLOW_OVERLAP, 0.008), name="mount"))
    elif p.sight == "handle":
        hh = p.carry_handle_height
        path = [
            (xr0 + 0.04, top - SHALLOW_OVERLAP, 0.0),
            (xr0 + 0.05, top + hh, 0.0),
            (xr1 - 0.05, top + hh, 0.0),
            (xr1 - 0.04, top - SHALLOW_OVERLAP, 0.0),
        ]
        d.add(_tube(path, 0.006, name="carry-handle"))


def _build_stock(p: RifleParams, stock: RifleStock, d: _Draft) -> None:
    hr, wr, xr0, yr = p.receiver_height, p.receiver_width, _RECEIVER_REAR, 0.0
    butt_x = xr0 - stock.length
    top_rear, bot_rear = yr + hr / 2 - stock.drop, yr + hr / 2 - stock.drop - stock.butt_height
    # The top line runs straight to the butt; the belly dips in at the wrist behind the grip.
    wrist_x, top_front = xr0 - stock.wrist, yr + hr / 2 * 0.8
    top_chain = np.array([[butt_x, top_rear], [xr0 + 0.02, top_front]])
    belly = [[butt_x, bot_rear], [wrist_x, yr - hr / 2 - stock.wrist_dip], [xr0 + 0.02, yr - hr / 2 + SHALLOW_OVERLAP]]
    bottom_chain = np.array(belly)
    outline = [tuple(top_chain[1]), tuple(top_chain[0]), *(tuple(q) for q in bottom_chain)]
    ws = wr / 2 * stock.width_factor
    d.add(_extrude((0.0, 0.0, 0.0), outline, ws, "xy", name="stock"))
    if stock.thumbhole is not None:
        # A thumbhole through the stock, its box kept inside the profile at both of its ends (a loop).
        hx_, cx = stock.thumbhole
        ends = np.array([cx - hx_, cx + hx_])
        top = float(np.interp(ends, top_chain[:, 0], top_chain[:, 1]).min())
        bottom = float(np.interp(ends, bottom_chain[:, 0], bottom_chain[:, 1]).max())
        hy = 0.3 * (top - bottom)
        if hy > 0.008:
            d.cut(_rbox((cx, (top + bottom) / 2, 0.0), (hx_, hy, 2 * ws), 0.9 * min(hx_, hy), name="thumbhole"))
            d.style.append("thumbhole")


def _build_grip(p: RifleParams, d: _Draft) -> tuple[float, float]:
    """The pistol grip behind the trigger guard, slanting backwards; returns (guard front x, receiver underside)."""
    hr, wr, xr0, yr = p.receiver_height, p.receiver_width, _RECEIVER_REAR, 0.0
    offset, gl, slant, gw = p.grip
    xg = xr0 + offset
    y_under = yr - hr / 2
    grip = [
        (xg, y_under + OVERLAP),
        (xg - slant, y_under - gl),
        (xg - slant - gw, y_under - gl),
        (xg - gw, y_under + OVERLAP),
    ]
    d.add(_extrude((0.0, 0.0, 0.0), grip, wr / 2 * 0.9, "xy", name="grip"))
    gd, gr, front_offset = p.guard
    front = xg + front_offset
    y_join = y_under - 0.6 * gd
    x_join = xg - slant * (y_under + OVERLAP - y_join) / (gl + OVERLAP) - OVERLAP
    path = [
        (front, y_under + 0.004, 0.0),
        (front, y_under - gd, 0.0),
        (xg + 0.005, y_under - gd, 0.0),
        (x_join, y_join, 0.0),
    ]
    d.add(_tube(path, gr, name="trigger-guard"))
    d.add(_box((xg + 0.03, y_under - 0.012, 0.0), (0.004, 0.016, 0.004), name="trigger"))
    return front, y_under
