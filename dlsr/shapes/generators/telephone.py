"""Procedural telephone generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _about, _box, _cylinder, _ellipsoid, _extrude, _rbox, _rounded_rect, _shifted, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.rotations import Vec, _rotation

# Telephones (04401088): upright smartphones and bar phones (screen towards +x), open flip phones, and desk
# phones with the handset on the cradle (a cord makes a loop) or lying beside the base (two bodies).


def _telephone(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(rng, {"smartphone": 0.4, "flip": 0.15, "bar": 0.15, "desk": 0.3})
    d.style.append(style)
    if style == "desk":
        _desk_phone(rng, d)
        return
    h = 1.0
    w, t = h * _u(rng, 0.42, 0.56), h * _u(rng, 0.04, 0.09)
    if style == "flip":
        h1 = h * _u(rng, 0.45, 0.55)
        d.add(_rbox((0.0, h1 / 2, 0.0), (t / 2, h1 / 2, w / 2), 0.9 * t / 2, name="keypad-half"))
        hinge_r = 0.6 * t
        hinge = np.array([0.0, h1, 0.0])
        d.add(
            _cylinder(
                hinge - np.array([0, 0, w / 2 * 0.9]), hinge + np.array([0, 0, w / 2 * 0.9]), hinge_r, name="hinge"
            )
        )
        upper = _rbox((0.0, h1 + (h - h1) / 2, 0.0), (t / 2 * 0.9, (h - h1) / 2, w / 2), 0.9 * t / 2 * 0.9, name="lid")
        d.add(*_about([upper], _rotation((0.0, 0.0, 1.0), -_u(rng, 10.0, 35.0)), hinge))
        _keypad(rng, d, t / 2, h1 * 0.15, h1 * 0.75, w)
        return
    if rng.random() < 0.5:
        d.add(_rbox((0.0, h / 2, 0.0), (t / 2, h / 2, w / 2), _u(rng, 0.5, 0.95) * t / 2, name="body"))
    else:
        d.add(
            _extrude((0.0, h / 2, 0.0), _rounded_rect(w / 2, h / 2, _u(rng, 0.03, 0.12), 6), t / 2, "zy", name="body")
        )
    screen_lo = h * (0.12 if style == "smartphone" else 0.5)
    margin = w * _u(rng, 0.04, 0.1)
    if rng.random() < 0.6:
        d.cut(
            _box(
                (t / 2, (screen_lo + h - margin) / 2, 0.0),
                (_u(rng, 0.003, 0.008), (h - margin - screen_lo) / 2, w / 2 - margin),
                name="screen",
            )
        )
    else:
        d.add(
            _box(
                (t / 2, (screen_lo + h - margin) / 2, 0.0),
                (_u(rng, 0.003, 0.008), (h - margin - screen_lo) / 2, w / 2 - margin),
                name="screen",
            )
        )
    if style == "bar":
        _keypad(rng, d, t / 2, h * 0.08, h * 0.42, w)
        if rng.random() < 0.7:
            d.add(
                _cylinder(
                    (0.0, h - 0.05, w / 3), (0.0, h + _u(rng, 0.08, 0.25), w / 3), _u(rng, 0.012, 0.025), name="antenna"
                )
            )
    if rng.random() < 0.7:
        cw = _u(rng, 0.1, 0.25)
        d.add(
            _rbox(
                (-t / 2, h - 0.05 - cw / 2, w / 2 - 0.05 - cw / 2),
                (_u(rng, 0.008, 0.02), cw / 2, cw / 2),
                0.006,
                name="camera",
            )
        )
    if rng.random() < 0.5:
        d.add(_box((0.0, h * 0.7, w / 2), (t / 4, _u(rng, 0.04, 0.1), 0.006), name="button"))


def _keypad(rng: np.random.Generator, d: _Draft, face_x: float, y0: float, y1: float, w: float) -> None:
    """A 3 x 4 grid of keys standing on the face at x = face_x between heights y0 and y1."""
    key_h, key_w = (y1 - y0) / 4 * 0.35, w / 3 * _u(rng, 0.2, 0.35)
    for row in range(4):
        for col in range(3):
            y = y0 + (y1 - y0) * (row + 0.5) / 4
            z = w * (col - 1) / 3.5
            d.add(_box((face_x, y, z), (0.008, key_h, key_w), name="key"))


def _desk_phone(rng: np.random.Generator, d: _Draft) -> None:
    depth, width = _u(rng, 0.2, 0.28), _u(rng, 0.18, 0.26)
    h_back, h_front = _u(rng, 0.07, 0.11), _u(rng, 0.03, 0.05)
    hx = depth / 2
    d.add(
        _extrude(
            (0.0, 0.0, 0.0),
            [(-hx, 0.0), (hx, 0.0), (hx, h_front), (-hx + 0.05, h_back), (-hx, h_back)],
            width / 2,
            "xy",
            name="base",
        )
    )
    slope = math.atan2(h_back - h_front, depth - 0.05)
    turn = _rotation((0.0, 0.0, 1.0), math.degrees(slope))
    for row in range(4):
        for col in range(3):
            u = hx - 0.02 - row * 0.03
            y = h_front + (hx - u) * math.tan(slope)
            key = _box((u, y, (col - 1) * 0.035), (0.009, 0.006, 0.011), name="key")
            d.add(*_about([key], turn, (u, y, 0.0)))
    hl, hr = _u(rng, 0.18, 0.24), _u(rng, 0.012, 0.018)
    handset_x = -hx + 0.025
    cordless = rng.random() < 0.3
    earpiece = (0.025, 0.02, 0.03)
    y_h = h_back + 0.016 + hr - 0.006  # sunk 6 mm into the cradle so the two are one body
    if cordless:
        # Lying on the floor beside the base, clear of it (a second body).
        lowest = min(y_h - hr, y_h - 0.4 * hr - earpiece[1])
        offset = np.array([0.0, -lowest, width / 2 + hl / 2 + earpiece[2] + _u(rng, 0.04, 0.1)])
        d.components = 2
        d.style.append("cordless")
    else:
        offset = np.zeros(3)
        d.add(_rbox((handset_x, h_back + 0.004, 0.0), (0.022, 0.012, width * 0.35), 0.008, name="cradle"))
    handset = [_tube([(handset_x, y_h, -hl / 2), (handset_x, y_h, hl / 2)], hr, name="handle")]
    for sz in (-1.0, 1.0):
        handset.append(_ellipsoid((handset_x, y_h - hr * 0.4, sz * hl / 2), earpiece, name="earpiece"))
    d.add(*_shifted(handset, offset))
    if not cordless and rng.random() < 0.8:
        start = np.array([handset_x, y_h - 0.01, -hl / 2 - 0.01])
        side = -width / 2 - _u(rng, 0.03, 0.08)
        low = _u(rng, 0.015, 0.04)
        path: list[Vec] = [
            start,
            (handset_x - 0.01, low + 0.02, side),
            (0.0, low, side - 0.02),
            (hx * 0.5, low + 0.01, side),
            (hx * 0.5, h_front * 0.6, -width / 2 + 0.01),
        ]
        d.add(_tube(path, 0.005, name="cord"))
        d.style.append("cord")
