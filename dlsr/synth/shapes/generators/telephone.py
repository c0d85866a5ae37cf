"""Telephones (04401088): upright smartphones and bar phones (screen towards +x), open flip phones, and desk phones
with the handset on the cradle (a cord makes a loop) or lying beside the base (two bodies)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import (
    _about,
    _box,
    _cylinder,
    _ellipsoid,
    _extrude,
    _rbox,
    _rounded_rect,
    _shifted,
    _tube,
)
from dlsr.synth.shapes.draft import OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.rotations import Vec, _rotation

_HEIGHT = 1.0
"""A handheld phone's height: the other sizes are fractions of it."""

_HANDSET_SINK = 0.006
"""How far the handset sinks into the cradle, so the two are one body."""


@dataclass(frozen=True)
class DeskPhoneParams:
    depth: float  # of the base, along x
    width: float  # of the base, along z
    back_height: float  # the base's sloped top at the back ...
    front_height: float  # ... and at the front
    handset_length: float
    handset_radius: float
    cordless: bool  # the handset lies beside the base (a second body) instead of on the cradle
    handset_gap: float  # cordless: the gap between the base and the handset (0 otherwise)
    cord: tuple[float, float] | None  # corded: (how far the cord loops out beside the base, its height), or None


@dataclass(frozen=True)
class TelephoneParams:
    style: str  # "smartphone", "flip", "bar" or "desk"
    width: float  # handheld phones: along z, as a fraction of the height
    thickness: float  # handheld phones: along x, as a fraction of the height
    flip: tuple[float, float] | None  # flip phones: (the lower half's height fraction, lid angle in degrees)
    key_width: float  # flip and bar phones: a key's half width as a fraction of a column's (0 otherwise)
    body_rounding: tuple[str, float] | None  # ("box", edge radius fraction) or ("outline", corner radius)
    screen_margin: float  # fraction of the width
    screen_recessed: bool  # the screen is cut into the body (else it stands proud)
    screen_depth: float
    antenna: tuple[float, float] | None  # bar phones: (height above the body, radius), or None
    camera: tuple[float, float] | None  # (size, depth) of a camera bump on the back, or None
    button: float | None  # a side button's half height, or None
    desk: DeskPhoneParams | None


def draw_telephone(rng: np.random.Generator) -> TelephoneParams:
    """A telephone's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    style = _pick(rng, {"smartphone": 0.4, "flip": 0.15, "bar": 0.15, "desk": 0.3})
    if style == "desk":
        return TelephoneParams(style, 0.0, 0.0, None, 0.0, None, 0.0, False, 0.0, None, None, None, _draw_desk(rng))
    width, thickness = _HEIGHT * _u(rng, 0.42, 0.56), _HEIGHT * _u(rng, 0.04, 0.09)
    if style == "flip":
        split, angle = _u(rng, 0.45, 0.55), _u(rng, 10.0, 35.0)
        key_width = _u(rng, 0.2, 0.35)
        return TelephoneParams(
            style, width, thickness, (split, angle), key_width, None, 0.0, False, 0.0, None, None, None, None
        )
    rounding = ("box", _u(rng, 0.5, 0.95)) if rng.random() < 0.5 else ("outline", _u(rng, 0.03, 0.12))
    margin = _u(rng, 0.04, 0.1)
    recessed = rng.random() < 0.6
    screen_depth = _u(rng, 0.003, 0.008)
    key_width, antenna = 0.0, None
    if style == "bar":
        key_width = _u(rng, 0.2, 0.35)
        antenna = (_u(rng, 0.08, 0.25), _u(rng, 0.012, 0.025)) if rng.random() < 0.7 else None
    camera = (_u(rng, 0.1, 0.25), _u(rng, 0.008, 0.02)) if rng.random() < 0.7 else None
    button = _u(rng, 0.04, 0.1) if rng.random() < 0.5 else None
    return TelephoneParams(
        style=style,
        width=width,
        thickness=thickness,
        flip=None,
        key_width=key_width,
        body_rounding=rounding,
        screen_margin=margin,
        screen_recessed=recessed,
        screen_depth=screen_depth,
        antenna=antenna,
        camera=camera,
        button=button,
        desk=None,
    )


def _draw_desk(rng: np.random.Generator) -> DeskPhoneParams:
    depth, width = _u(rng, 0.2, 0.28), _u(rng, 0.18, 0.26)
    back_height, front_height = _u(rng, 0.07, 0.11), _u(rng, 0.03, 0.05)
    length, radius = _u(rng, 0.18, 0.24), _u(rng, 0.012, 0.018)
    cordless = rng.random() < 0.3
    gap, cord = 0.0, None
    if cordless:
        gap = _u(rng, 0.04, 0.1)
    elif rng.random() < 0.8:
        cord = (_u(rng, 0.03, 0.08), _u(rng, 0.015, 0.04))
    return DeskPhoneParams(depth, width, back_height, front_height, length, radius, cordless, gap, cord)


def build_telephone(p: TelephoneParams, d: _Draft) -> None:
    """The telephone `p` describes, added to `d` (screen or keys towards +x, standing or lying at y = 0)."""
    d.style.append(p.style)
    if p.desk is not None:
        _build_desk(p.desk, d)
        return
    h = _HEIGHT
    w, t = p.width, p.thickness
    if p.flip is not None:
        _build_flip(p, p.flip, d)
        return
    if p.body_rounding is not None and p.body_rounding[0] == "box":
        d.add(_rbox((0.0, h / 2, 0.0), (t / 2, h / 2, w / 2), p.body_rounding[1] * t / 2, name="body"))
    elif p.body_rounding is not None:
        outline = _rounded_rect(w / 2, h / 2, p.body_rounding[1], 6)
        d.add(_extrude((0.0, h / 2, 0.0), outline, t / 2, "zy", name="body"))
    screen_lo = h * (0.12 if p.style == "smartphone" else 0.5)
    margin = w * p.screen_margin
    screen = _box(
        (t / 2, (screen_lo + h - margin) / 2, 0.0),
        (p.screen_depth, (h - margin - screen_lo) / 2, w / 2 - margin),
        name="screen",
    )
    if p.screen_recessed:
        d.cut(screen)
    else:
        d.add(screen)
    if p.style == "bar":
        _keypad(p.key_width, d, t / 2, h * 0.08, h * 0.42, w)
        if p.antenna is not None:
            top, radius = p.antenna
            d.add(_cylinder((0.0, h - 0.05, w / 3), (0.0, h + top, w / 3), radius, name="antenna"))
    if p.camera is not None:
        cw, depth = p.camera
        centre = (-t / 2, h - 0.05 - cw / 2, w / 2 - 0.05 - cw / 2)
        d.add(_rbox(centre, (depth, cw / 2, cw / 2), 0.006, name="camera"))
    if p.button is not None:
        d.add(_box((0.0, h * 0.7, w / 2), (t / 4, p.button, 0.006), name="button"))


def _build_flip(p: TelephoneParams, flip: tuple[float, float], d: _Draft) -> None:
    h, w, t = _HEIGHT, p.width, p.thickness
    h1 = h * flip[0]
    d.add(_rbox((0.0, h1 / 2, 0.0), (t / 2, h1 / 2, w / 2), 0.9 * t / 2, name="keypad-half"))
    hinge_r = 0.6 * t
    hinge = np.array([0.0, h1, 0.0])
    axis = np.array([0, 0, w / 2 * 0.9])
    d.add(_cylinder(hinge - axis, hinge + axis, hinge_r, name="hinge"))
    upper = _rbox((0.0, h1 + (h - h1) / 2, 0.0), (t / 2 * 0.9, (h - h1) / 2, w / 2), 0.9 * t / 2 * 0.9, name="lid")
    d.add(*_about([upper], _rotation((0.0, 0.0, 1.0), -flip[1]), hinge))
    _keypad(p.key_width, d, t / 2, h1 * 0.15, h1 * 0.75, w)


def _keypad(key_width: float, d: _Draft, face_x: float, y0: float, y1: float, w: float) -> None:
    """A 3 x 4 grid of keys standing on the face at x = face_x between heights y0 and y1."""
    key_h, key_w = (y1 - y0) / 4 * 0.35, w / 3 * key_width
    for row in range(4):
        for col in range(3):
            y = y0 + (y1 - y0) * (row + 0.5) / 4
            z = w * (col - 1) / 3.5
            d.add(_box((face_x, y, z), (0.008, key_h, key_w), name="key"))


def _build_desk(p: DeskPhoneParams, d: _Draft) -> None:
    depth, width, h_back, h_front = p.depth, p.width, p.back_height, p.front_height
    hx = depth / 2
    outline = [(-hx, 0.0), (hx, 0.0), (hx, h_front), (-hx + 0.05, h_back), (-hx, h_back)]
    d.add(_extrude((0.0, 0.0, 0.0), outline, width / 2, "xy", name="base"))
    slope = math.atan2(h_back - h_front, depth - 0.05)
    turn = _rotation((0.0, 0.0, 1.0), math.degrees(slope))
    for row in range(4):
        for col in range(3):
            u = hx - 0.02 - row * 0.03
            y = h_front + (hx - u) * math.tan(slope)
            key = _box((u, y, (col - 1) * 0.035), (0.009, 0.006, 0.011), name="key")
            d.add(*_about([key], turn, (u, y, 0.0)))
    hl, hr = p.handset_length, p.handset_radius
    handset_x = -hx + 0.025
    earpiece = (0.025, 0.02, 0.03)
    y_h = h_back + 0.016 + hr - _HANDSET_SINK
    if p.cordless:
        # Lying on the floor beside the base, clear of it (a second body).
        lowest = min(y_h - hr, y_h - 0.4 * hr - earpiece[1])
        offset = np.array([0.0, -lowest, width / 2 + hl / 2 + earpiece[2] + p.handset_gap])
        d.components = 2
        d.style.append("cordless")
    else:
        offset = np.zeros(3)
        d.add(_rbox((handset_x, h_back + 0.004, 0.0), (0.022, 0.012, width * 0.35), 0.008, name="cradle"))
    handset = [_tube([(handset_x, y_h, -hl / 2), (handset_x, y_h, hl / 2)], hr, name="handle")]
    for sz in (-1.0, 1.0):
        handset.append(_ellipsoid((handset_x, y_h - hr * 0.4, sz * hl / 2), earpiece, name="earpiece"))
    d.add(*_shifted(handset, offset))
    if p.cord is not None:
        reach, low = p.cord
        start = np.array([handset_x, y_h - OVERLAP, -hl / 2 - OVERLAP])
        side = -width / 2 - reach
        path: list[Vec] = [
            start,
            (handset_x - 0.01, low + 0.02, side),
            (0.0, low, side - 0.02),
            (hx * 0.5, low + 0.01, side),
            (hx * 0.5, h_front * 0.6, -width / 2 + 0.01),
        ]
        d.add(_tube(path, 0.005, name="cord"))
        d.style.append("cord")
