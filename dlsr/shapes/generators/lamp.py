"""Procedural lamp generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _arc, _cylinder, _frustum, _rbox, _revolve, _ring, _sphere, _torus, _tube
from dlsr.shapes.draft import _Draft, _pick, _u

# Lamps (03636649): table lamps (vase base, open shade on spokes = loops), floor lamps, arched desk lamps
# reaching towards +x, articulated arms, ring lamps (a torus); some bases are tori held by spokes.


def _lamp_base(rng: np.random.Generator, d: _Draft, x: float = 0.0) -> float:
    """A lamp base centred at (x, 0, 0); returns the height its stem starts at."""
    kind = _pick(rng, {"disk": 0.45, "box": 0.2, "torus": 0.2, "dome": 0.15})
    d.style.append(f"{kind}-base")
    radius = _u(rng, 0.09, 0.16)
    if kind == "disk":
        h = _u(rng, 0.015, 0.04)
        d.add(_frustum((x, 0.0, 0.0), (x, h, 0.0), radius, radius * _u(rng, 0.7, 1.0), name="base"))
        return h
    if kind == "box":
        h = _u(rng, 0.02, 0.05)
        d.add(_rbox((x, h / 2, 0.0), (radius, h / 2, radius * _u(rng, 0.6, 1.0)), h / 2 * 0.9, name="base"))
        return h
    if kind == "dome":
        h = _u(rng, 0.04, 0.1)
        # Half an ellipse revolved: a flat-bottomed dome.
        arc = [(radius * math.cos(t), h * math.sin(t)) for t in np.linspace(0.0, math.pi / 2, 9)[:-1]]
        d.add(_revolve((x, 0.0, 0.0), (0.0, 1.0, 0.0), [(0.0, 0.0), *arc, (0.0, h)], name="base"))
        return h
    tube = _u(rng, 0.012, 0.025)
    d.add(_torus((x, tube, 0.0), radius, tube, name="base-ring"))
    hub = _u(rng, 0.025, 0.04)
    d.add(_cylinder((x, 0.0, 0.0), (x, 2 * tube + 0.01, 0.0), hub, name="hub"))
    n = int(rng.integers(2, 5))
    for k in range(n):
        a = 2 * math.pi * k / n
        d.add(_tube([(x, tube, 0.0), (x + radius * math.cos(a), tube, radius * math.sin(a))], 0.6 * tube, name="spoke"))
    return 2 * tube + 0.01


def _open_shade(rng: np.random.Generator, d: _Draft, hub: np.ndarray, y_top: float) -> None:
    """An open conical shade whose top rim is at y_top, held by 2-4 spokes from `hub` (one loop per spoke)."""
    r_top, r_bot = _u(rng, 0.06, 0.14), _u(rng, 0.12, 0.24)
    sh, wall = _u(rng, 0.12, 0.25), _u(rng, 0.008, 0.015)
    x, z = float(hub[0]), float(hub[2])
    d.add(_ring((x, y_top - sh, z), (0.0, 1.0, 0.0), r_bot, r_top, sh, wall, name="shade"))
    n = int(rng.integers(2, 5))
    phase = _u(rng, 0.0, 2 * math.pi)
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        rim = (x + (r_top + wall / 2) * math.cos(a), y_top - 0.006, z + (r_top + wall / 2) * math.sin(a))
        d.add(_tube([hub, rim], 0.005, name="spoke"))
    d.style.append(f"open-shade{n}")


def _lamp(rng: np.random.Generator, d: _Draft) -> None:
    style = _pick(rng, {"table": 0.3, "floor": 0.2, "arch": 0.25, "arm": 0.15, "ring": 0.1})
    d.style.append(style)
    stem_r = _u(rng, 0.008, 0.02)
    if style in ("table", "floor"):
        if style == "table" and rng.random() < 0.6:
            h, r = _u(rng, 0.15, 0.35), _u(rng, 0.06, 0.13)
            widths = [_u(rng, 0.6, 1.0), _u(rng, 0.8, 1.0), 1.0, _u(rng, 0.5, 1.0), _u(rng, 0.2, 0.4)]
            profile = [(0.0, 0.0)] + [(r * w, h * t) for w, t in zip(widths, np.linspace(0, 1, 5), strict=True)]
            d.add(_revolve((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="vase"))
            y = h - 0.005
            d.style.append("vase")
        else:
            y = _lamp_base(rng, d) - 0.005
        stem_h = _u(rng, 0.15, 0.35) if style == "table" else _u(rng, 1.1, 1.6)
        top = y + stem_h
        d.add(_cylinder((0.0, y, 0.0), (0.0, top + 0.01, 0.0), stem_r, name="stem"))
        shade = _pick(rng, {"open": 0.55, "drum": 0.3, "bowl": 0.15})
        if shade == "open":
            hub = np.array([0.0, top, 0.0])
            d.add(_sphere(hub, 1.6 * stem_r, name="hub"))
            _open_shade(rng, d, hub, top + 0.005)
            if rng.random() < 0.5:
                d.add(_sphere((0.0, top - 0.05, 0.0), _u(rng, 0.02, 0.04), name="bulb"))
        elif shade == "drum":
            r_top, r_bot, sh = _u(rng, 0.06, 0.14), _u(rng, 0.1, 0.22), _u(rng, 0.12, 0.25)
            wall = _u(rng, 0.008, 0.015)
            # Closed on top (the stem ends inside the lid), open below: a cup, genus 0.
            profile = [
                (0.0, sh - wall),
                (r_top, sh - wall),
                (r_bot, 0.0),
                (r_bot + wall, 0.0),
                (r_top + wall, sh),
                (0.0, sh),
            ]
            d.add(_revolve((0.0, top + 0.01 + wall / 2 - sh, 0.0), (0.0, 1.0, 0.0), profile, name="shade"))
            d.style.append("drum")
        else:
            r, sh, wall = _u(rng, 0.12, 0.22), _u(rng, 0.06, 0.12), _u(rng, 0.008, 0.015)
            profile = [(0.0, 0.0), (r, sh), (r - wall, sh), (0.0, wall)]
            d.add(_revolve((0.0, top - 0.005, 0.0), (0.0, 1.0, 0.0), profile, name="bowl"))
            d.style.append("bowl")
    elif style == "arch":
        y = _lamp_base(rng, d) - 0.005
        rise, radius = _u(rng, 0.15, 0.5), _u(rng, 0.15, 0.35)
        end = _u(rng, -20.0, 30.0)
        centre = np.array([radius, y + rise, 0.0])
        path = [np.array([0.0, y, 0.0]), *_arc(centre, radius, 180.0, end, 12)]
        d.add(_tube(path, stem_r, name="neck"))
        tip = path[-1]
        rs, hs, wall = _u(rng, 0.05, 0.12), _u(rng, 0.05, 0.12), _u(rng, 0.008, 0.014)
        t = np.linspace(0.0, 1.0, 7)
        outer = [(rs * math.sin(v * math.pi / 2), hs * (1 - math.cos(v * math.pi / 2))) for v in t]
        inner = [(max(r - wall, 0.0), h + wall) for r, h in outer[::-1]]
        profile = [*outer, (rs - wall, hs), *inner[1:-1], (0.0, wall)]
        direction = np.array([math.sin(math.radians(_u(rng, 0.0, 30.0))), -1.0, 0.0])
        d.add(_revolve(tip - 0.5 * stem_r * direction / np.linalg.norm(direction), direction, profile, name="shade"))
    elif style == "arm":
        y = _lamp_base(rng, d) - 0.005
        a1, a2 = math.radians(_u(rng, 55.0, 85.0)), math.radians(_u(rng, -30.0, 20.0))
        l1, l2 = _u(rng, 0.25, 0.45), _u(rng, 0.25, 0.4)
        p0 = np.array([0.0, y, 0.0])
        p1 = p0 + l1 * np.array([math.cos(a1), math.sin(a1), 0.0])
        p2 = p1 + l2 * np.array([math.cos(a2), math.sin(a2), 0.0])
        if rng.random() < 0.5:  # twin parallel rods: a loop
            gap = _u(rng, 0.015, 0.03)
            for sz in (-1.0, 1.0):
                d.add(
                    _tube([p0 + np.array([0, 0, sz * gap]), p1 + np.array([0, 0, sz * gap])], 0.6 * stem_r, name="rod")
                )
            d.add(
                _cylinder(
                    p0 - np.array([0, 0, gap + stem_r]), p0 + np.array([0, 0, gap + stem_r]), 1.2 * stem_r, name="joint"
                )
            )
            d.add(
                _cylinder(
                    p1 - np.array([0, 0, gap + stem_r]), p1 + np.array([0, 0, gap + stem_r]), 1.2 * stem_r, name="joint"
                )
            )
            d.style.append("twin-rods")
        else:
            d.add(_tube([p0, p1], stem_r, name="arm"))
            d.add(_sphere(p1, 1.5 * stem_r, name="joint"))
        d.add(_tube([p1, p2], stem_r, name="arm"))
        rs, rb, ls, wall = _u(rng, 0.02, 0.04), _u(rng, 0.06, 0.12), _u(rng, 0.08, 0.16), _u(rng, 0.008, 0.014)
        profile = [(0.0, 0.0), (rs, 0.0), (rb, ls), (rb - wall, ls), (rs - wall * 0.5, wall), (0.0, wall)]
        direction = np.array([math.cos(a2 - math.radians(70)), math.sin(a2 - math.radians(70)), 0.0])
        d.add(_revolve(p2 - 0.5 * stem_r * direction, direction, profile, name="shade"))
    else:  # ring lamp: a torus facing +x on a stem
        y = _lamp_base(rng, d) - 0.005
        stem_h, ring, tube = _u(rng, 0.05, 0.3), _u(rng, 0.12, 0.3), _u(rng, 0.015, 0.04)
        d.add(_cylinder((0.0, y, 0.0), (0.0, y + stem_h + tube, 0.0), stem_r, name="stem"))
        d.add(_torus((0.0, y + stem_h + ring, 0.0), ring, tube, axis=(1.0, 0.0, 0.0), name="ring"))
