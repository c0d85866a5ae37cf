"""Lamps (03636649): table lamps (vase base, open shade on spokes = loops), floor lamps, arched desk lamps reaching
towards +x, articulated arms, ring lamps (a torus); some bases are tori held by spokes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _arc, _cylinder, _frustum, _rbox, _revolve, _ring, _sphere, _torus, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u


@dataclass(frozen=True)
class LampBase:
    kind: str  # "disk", "box", "torus" (a ring on spokes) or "dome"
    radius: float
    height: float  # disk, box and dome bases (0 for a torus)
    shape: float  # disk: top radius / bottom radius; box: depth / width (0 otherwise)
    tube: float  # torus: the ring's tube radius (0 otherwise)
    hub: float  # torus: the hub's radius (0 otherwise)
    spokes: int  # torus: spokes from the hub to the ring (0 otherwise)


@dataclass(frozen=True)
class LampOpenShade:
    """An open conical shade held by spokes from a hub on the stem (one loop per spoke)."""

    top_radius: float
    bottom_radius: float
    height: float
    wall: float
    spokes: int
    phase: float  # the first spoke's angle about y, radians


@dataclass(frozen=True)
class LampStanding:
    """A table or floor lamp: a stem on a vase or a base, under an open, drum or bowl shade."""

    vase: tuple[float, float, tuple[float, ...]] | None  # (height, radius, profile widths), or None for a base
    base: LampBase | None  # when there is no vase
    stem_height: float
    shade: str  # "open", "drum" or "bowl"
    open_shade: LampOpenShade | None
    bulb: float | None  # open shades: a bulb's radius, or None
    shade_size: tuple[float, ...]  # drum: (top radius, bottom radius, height, wall); bowl: (radius, height, wall)


@dataclass(frozen=True)
class LampArch:
    """An arched neck rising from the base and curving over towards +x, ending in a hood."""

    base: LampBase
    rise: float  # of the arc's centre above the base
    radius: float  # of the arc
    end_angle: float  # where the arc ends, degrees
    hood: tuple[float, float, float]  # (radius, height, wall)
    hood_tilt: float  # degrees from straight down towards +x


@dataclass(frozen=True)
class LampArm:
    """An articulated desk lamp: two arm segments (the first maybe twin rods) and a conical shade."""

    base: LampBase
    angles: tuple[float, float]  # each segment's elevation, degrees
    lengths: tuple[float, float]
    twin_gap: float | None  # twin rods for the first segment: half the gap between them, or None
    shade: tuple[float, float, float, float]  # (neck radius, rim radius, length, wall)


@dataclass(frozen=True)
class LampRing:
    """A ring lamp: a torus facing +x on a short stem."""

    base: LampBase
    stem_height: float
    ring: float  # the torus's ring radius
    tube: float  # the torus's tube radius


@dataclass(frozen=True)
class LampParams:
    style: str  # "table", "floor", "arch", "arm" or "ring"
    stem_radius: float
    standing: LampStanding | None
    arch: LampArch | None
    arm: LampArm | None
    ring: LampRing | None


def draw_lamp(rng: np.random.Generator) -> LampParams:
    """A lamp's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    style = _pick(rng, {"table": 0.3, "floor": 0.2, "arch": 0.25, "arm": 0.15, "ring": 0.1})
    stem_radius = _u(rng, 0.008, 0.02)
    standing = arch = arm = ring = None
    if style in ("table", "floor"):
        standing = _draw_standing(rng, style)
    elif style == "arch":
        base = _draw_base(rng)
        rise, radius, end = _u(rng, 0.15, 0.5), _u(rng, 0.15, 0.35), _u(rng, -20.0, 30.0)
        hood = (_u(rng, 0.05, 0.12), _u(rng, 0.05, 0.12), _u(rng, 0.008, 0.014))
        arch = LampArch(base, rise, radius, end, hood, hood_tilt=_u(rng, 0.0, 30.0))
    elif style == "arm":
        base = _draw_base(rng)
        angles, lengths = (_u(rng, 55.0, 85.0), _u(rng, -30.0, 20.0)), (_u(rng, 0.25, 0.45), _u(rng, 0.25, 0.4))
        twin_gap = _u(rng, 0.015, 0.03) if rng.random() < 0.5 else None
        shade = (_u(rng, 0.02, 0.04), _u(rng, 0.06, 0.12), _u(rng, 0.08, 0.16), _u(rng, 0.008, 0.014))
        arm = LampArm(base, angles, lengths, twin_gap, shade)
    else:
        base = _draw_base(rng)
        ring = LampRing(base, _u(rng, 0.05, 0.3), _u(rng, 0.12, 0.3), _u(rng, 0.015, 0.04))
    return LampParams(style, stem_radius, standing, arch, arm, ring)


def _draw_base(rng: np.random.Generator) -> LampBase:
    kind = _pick(rng, {"disk": 0.45, "box": 0.2, "torus": 0.2, "dome": 0.15})
    radius = _u(rng, 0.09, 0.16)
    if kind == "disk":
        return LampBase(kind, radius, _u(rng, 0.015, 0.04), _u(rng, 0.7, 1.0), 0.0, 0.0, 0)
    if kind == "box":
        return LampBase(kind, radius, _u(rng, 0.02, 0.05), _u(rng, 0.6, 1.0), 0.0, 0.0, 0)
    if kind == "dome":
        return LampBase(kind, radius, _u(rng, 0.04, 0.1), 0.0, 0.0, 0.0, 0)
    tube, hub = _u(rng, 0.012, 0.025), _u(rng, 0.025, 0.04)
    return LampBase(kind, radius, 0.0, 0.0, tube, hub, int(rng.integers(2, 5)))


def _draw_standing(rng: np.random.Generator, style: str) -> LampStanding:
    vase, base = None, None
    if style == "table" and rng.random() < 0.6:
        h, r = _u(rng, 0.15, 0.35), _u(rng, 0.06, 0.13)
        widths = (_u(rng, 0.6, 1.0), _u(rng, 0.8, 1.0), 1.0, _u(rng, 0.5, 1.0), _u(rng, 0.2, 0.4))
        vase = (h, r, widths)
    else:
        base = _draw_base(rng)
    stem_height = _u(rng, 0.15, 0.35) if style == "table" else _u(rng, 1.1, 1.6)
    shade = _pick(rng, {"open": 0.55, "drum": 0.3, "bowl": 0.15})
    open_shade, bulb = None, None
    size: tuple[float, ...] = ()
    if shade == "open":
        r_top, r_bot = _u(rng, 0.06, 0.14), _u(rng, 0.12, 0.24)
        sh, wall = _u(rng, 0.12, 0.25), _u(rng, 0.008, 0.015)
        open_shade = LampOpenShade(r_top, r_bot, sh, wall, int(rng.integers(2, 5)), _u(rng, 0.0, 2 * math.pi))
        bulb = _u(rng, 0.02, 0.04) if rng.random() < 0.5 else None
    elif shade == "drum":
        size = (_u(rng, 0.06, 0.14), _u(rng, 0.1, 0.22), _u(rng, 0.12, 0.25), _u(rng, 0.008, 0.015))
    else:
        size = (_u(rng, 0.12, 0.22), _u(rng, 0.06, 0.12), _u(rng, 0.008, 0.015))
    return LampStanding(vase, base, stem_height, shade, open_shade, bulb, size)


def build_lamp(p: LampParams, d: _Draft) -> None:
    """The lamp `p` describes, added to `d` (base centred at the origin, reaching towards +x, floor at y = 0)."""
    d.style.append(p.style)
    if p.standing is not None:
        _build_standing(p.standing, p.stem_radius, d)
    elif p.arch is not None:
        _build_arch(p.arch, p.stem_radius, d)
    elif p.arm is not None:
        _build_arm(p.arm, p.stem_radius, d)
    elif p.ring is not None:
        ring, stem_r = p.ring, p.stem_radius
        y = _build_base(ring.base, d) - SHALLOW_OVERLAP
        d.add(_cylinder((0.0, y, 0.0), (0.0, y + ring.stem_height + ring.tube, 0.0), stem_r, name="stem"))
        centre = (0.0, y + ring.stem_height + ring.ring, 0.0)
        d.add(_torus(centre, ring.ring, ring.tube, axis=(1.0, 0.0, 0.0), name="ring"))


def _build_base(base: LampBase, d: _Draft, x: float = 0.0) -> float:
    """A lamp base centred at (x, 0, 0); returns the height its stem starts at."""
    d.style.append(f"{base.kind}-base")
    radius, h = base.radius, base.height
    if base.kind == "disk":
        d.add(_frustum((x, 0.0, 0.0), (x, h, 0.0), radius, radius * base.shape, name="base"))
        return h
    if base.kind == "box":
        d.add(_rbox((x, h / 2, 0.0), (radius, h / 2, radius * base.shape), h / 2 * 0.9, name="base"))
        return h
    if base.kind == "dome":
        # Half an ellipse revolved: a flat-bottomed dome.
        arc = [(radius * math.cos(t), h * math.sin(t)) for t in np.linspace(0.0, math.pi / 2, 9)[:-1]]
        d.add(_revolve((x, 0.0, 0.0), (0.0, 1.0, 0.0), [(0.0, 0.0), *arc, (0.0, h)], name="base"))
        return h
    tube = base.tube
    d.add(_torus((x, tube, 0.0), radius, tube, name="base-ring"))
    d.add(_cylinder((x, 0.0, 0.0), (x, 2 * tube + OVERLAP, 0.0), base.hub, name="hub"))
    n = base.spokes
    for k in range(n):
        a = 2 * math.pi * k / n
        d.add(_tube([(x, tube, 0.0), (x + radius * math.cos(a), tube, radius * math.sin(a))], 0.6 * tube, name="spoke"))
    return 2 * tube + OVERLAP


def _build_open_shade(shade: LampOpenShade, d: _Draft, hub: np.ndarray, y_top: float) -> None:
    """An open conical shade whose top rim is at y_top, held by spokes from `hub` (one loop per spoke)."""
    r_top, sh, wall = shade.top_radius, shade.height, shade.wall
    x, z = float(hub[0]), float(hub[2])
    d.add(_ring((x, y_top - sh, z), (0.0, 1.0, 0.0), shade.bottom_radius, r_top, sh, wall, name="shade"))
    n = shade.spokes
    for k in range(n):
        a = shade.phase + 2 * math.pi * k / n
        rim = (x + (r_top + wall / 2) * math.cos(a), y_top - 0.006, z + (r_top + wall / 2) * math.sin(a))
        d.add(_tube([hub, rim], 0.005, name="spoke"))
    d.style.append(f"open-shade{n}")


def _build_standing(s: LampStanding, stem_r: float, d: _Draft) -> None:
    if s.vase is not None:
        h, r, widths = s.vase
        profile = [(0.0, 0.0)] + [(r * w, h * t) for w, t in zip(widths, np.linspace(0, 1, 5), strict=True)]
        d.add(_revolve((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), [*profile, (0.0, h)], name="vase"))
        y = h - SHALLOW_OVERLAP
        d.style.append("vase")
    elif s.base is not None:
        y = _build_base(s.base, d) - SHALLOW_OVERLAP
    top = y + s.stem_height
    d.add(_cylinder((0.0, y, 0.0), (0.0, top + OVERLAP, 0.0), stem_r, name="stem"))
    if s.open_shade is not None:
        hub = np.array([0.0, top, 0.0])
        d.add(_sphere(hub, 1.6 * stem_r, name="hub"))
        _build_open_shade(s.open_shade, d, hub, top + SHALLOW_OVERLAP)
        if s.bulb is not None:
            d.add(_sphere((0.0, top - 0.05, 0.0), s.bulb, name="bulb"))
    elif s.shade == "drum":
        r_top, r_bot, sh, wall = s.shade_size
        # Closed on top (the stem ends inside the lid), open below: a cup, genus 0.
        profile = [
            (0.0, sh - wall),
            (r_top, sh - wall),
            (r_bot, 0.0),
            (r_bot + wall, 0.0),
            (r_top + wall, sh),
            (0.0, sh),
        ]
        d.add(_revolve((0.0, top + OVERLAP + wall / 2 - sh, 0.0), (0.0, 1.0, 0.0), profile, name="shade"))
        d.style.append("drum")
    else:
        r, sh, wall = s.shade_size
        profile = [(0.0, 0.0), (r, sh), (r - wall, sh), (0.0, wall)]
        d.add(_revolve((0.0, top - SHALLOW_OVERLAP, 0.0), (0.0, 1.0, 0.0), profile, name="bowl"))
        d.style.append("bowl")


def _build_arch(arch: LampArch, stem_r: float, d: _Draft) -> None:
    y = _build_base(arch.base, d) - SHALLOW_OVERLAP
    centre = np.array([arch.radius, y + arch.rise, 0.0])
    path = [np.array([0.0, y, 0.0]), *_arc(centre, arch.radius, 180.0, arch.end_angle, 12)]
    d.add(_tube(path, stem_r, name="neck"))
    tip = path[-1]
    rs, hs, wall = arch.hood
    t = np.linspace(0.0, 1.0, 7)
    outer = [(rs * math.sin(v * math.pi / 2), hs * (1 - math.cos(v * math.pi / 2))) for v in t]
    inner = [(max(r - wall, 0.0), h + wall) for r, h in outer[::-1]]
    profile = [*outer, (rs - wall, hs), *inner[1:-1], (0.0, wall)]
    direction = np.array([math.sin(math.radians(arch.hood_tilt)), -1.0, 0.0])
    d.add(_revolve(tip - 0.5 * stem_r * direction / np.linalg.norm(direction), direction, profile, name="shade"))


def _build_arm(arm: LampArm, stem_r: float, d: _Draft) -> None:
    y = _build_base(arm.base, d) - SHALLOW_OVERLAP
    a1, a2 = math.radians(arm.angles[0]), math.radians(arm.angles[1])
    l1, l2 = arm.lengths
    p0 = np.array([0.0, y, 0.0])
    p1 = p0 + l1 * np.array([math.cos(a1), math.sin(a1), 0.0])
    p2 = p1 + l2 * np.array([math.cos(a2), math.sin(a2), 0.0])
    if arm.twin_gap is not None:  # twin parallel rods: a loop
        gap = arm.twin_gap
        for sz in (-1.0, 1.0):
            offset = np.array([0, 0, sz * gap])
            d.add(_tube([p0 + offset, p1 + offset], 0.6 * stem_r, name="rod"))
        across = np.array([0, 0, gap + stem_r])
        d.add(_cylinder(p0 - across, p0 + across, 1.2 * stem_r, name="joint"))
        d.add(_cylinder(p1 - across, p1 + across, 1.2 * stem_r, name="joint"))
        d.style.append("twin-rods")
    else:
        d.add(_tube([p0, p1], stem_r, name="arm"))
        d.add(_sphere(p1, 1.5 * stem_r, name="joint"))
    d.add(_tube([p1, p2], stem_r, name="arm"))
    rs, rb, ls, wall = arm.shade
    profile = [(0.0, 0.0), (rs, 0.0), (rb, ls), (rb - wall, ls), (rs - wall * 0.5, wall), (0.0, wall)]
    direction = np.array([math.cos(a2 - math.radians(70)), math.sin(a2 - math.radians(70)), 0.0])
    d.add(_revolve(p2 - 0.5 * stem_r * direction, direction, profile, name="shade"))
