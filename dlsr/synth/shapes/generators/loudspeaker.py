"""Loudspeakers (03691459): box, tower or cylinder cabinets with drivers (cone dents, surrounds, dust caps) on the
+x face, ports (some right through = a loop), handles, feet or stands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlsr.synth.shapes.builders import _box, _cylinder, _difference, _ellipsoid, _frustum, _rbox, _torus, _tube
from dlsr.synth.shapes.draft import OVERLAP, SHALLOW_OVERLAP, _Draft, _pick, _u
from dlsr.synth.shapes.parts import Part


@dataclass(frozen=True)
class LoudspeakerParams:
    body: str  # "box", "tower" or "cylinder"
    foot: str  # "none", "spikes", "plinth" or "stand"
    width: float  # along z
    depth: float  # along x
    height: float  # of the cabinet
    lifts: tuple[float, float, float]  # the cabinet's underside above the floor on spikes, a plinth, a stand
    rounding: float  # box and tower cabinets: edge radius (0 for cylinders)
    port: str  # "none", "front" (a blind hole) or "through" (right through the cabinet)
    port_radius: float
    woofers: int
    woofer_radius: float  # before it is capped to fit the baffle
    tweeter_radius: float  # before it is capped below the woofer's
    port_depth: float  # front ports: depth as a fraction of the cabinet's depth (0 otherwise)
    handle: tuple[float, float] | None  # a handle on top: (height, tube radius), or None
    spike_radii: tuple[float, ...]  # spikes: each spike's top radius (() otherwise)
    stand: tuple[float, float, float] | None  # stand: (pole radius, foot half depth, foot half width), or None


def draw_loudspeaker(rng: np.random.Generator) -> LoudspeakerParams:
    """A loudspeaker's parameters, drawn from `rng` in a fixed order (the order is part of every seed's shape)."""
    body = _pick(rng, {"box": 0.5, "tower": 0.3, "cylinder": 0.2})
    foot = _pick(rng, {"none": 0.4, "spikes": 0.25, "plinth": 0.2, "stand": 0.15 if body != "tower" else 0.0})
    if body == "tower":
        width, depth, height = _u(rng, 0.18, 0.3), _u(rng, 0.22, 0.38), _u(rng, 0.8, 1.1)
    else:
        width, depth, height = _u(rng, 0.18, 0.35), _u(rng, 0.18, 0.35), _u(rng, 0.28, 0.5)
    lifts = (_u(rng, 0.03, 0.06), _u(rng, 0.02, 0.04), _u(rng, 0.4, 0.7))
    rounding = 0.0 if body == "cylinder" else _u(rng, 0.003, 0.03)
    port = _pick(rng, {"none": 0.45, "front": 0.35, "through": 0.2})
    port_radius = _u(rng, 0.015, 0.03)
    woofers = int(rng.integers(1, 4 if body == "tower" else 3))
    woofer, tweeter = _u(rng, 0.05, 0.11), _u(rng, 0.02, 0.035)
    port_depth = _u(rng, 0.05, 0.9) if port == "front" else 0.0
    handle = None
    if rng.random() < 0.25:
        handle = (_u(rng, 0.03, 0.07), _u(rng, 0.007, 0.012))
    spikes = tuple(_u(rng, 0.012, 0.02) for _ in range(4)) if foot == "spikes" else ()
    stand = (_u(rng, 0.015, 0.03), _u(rng, 0.1, 0.16), _u(rng, 0.1, 0.16)) if foot == "stand" else None
    return LoudspeakerParams(
        body=body,
        foot=foot,
        width=width,
        depth=depth,
        height=height,
        lifts=lifts,
        rounding=rounding,
        port=port,
        port_radius=port_radius,
        woofers=woofers,
        woofer_radius=woofer,
        tweeter_radius=tweeter,
        port_depth=port_depth,
        handle=handle,
        spike_radii=spikes,
        stand=stand,
    )


def build_loudspeaker(p: LoudspeakerParams, d: _Draft) -> None:
    """The loudspeaker `p` describes, added to `d` (drivers facing +x, floor at y = 0)."""
    d.style += [p.body, p.foot]
    height = p.height
    y0 = {"none": 0.0, "spikes": p.lifts[0], "plinth": p.lifts[1], "stand": p.lifts[2]}[p.foot]
    hx, hz = p.depth / 2, p.width / 2
    yc = y0 + height / 2
    if p.body == "cylinder":
        radius = min(hx, hz) * 1.1
        hx = hz = radius
        shell = _cylinder((0.0, y0, 0.0), (0.0, y0 + height, 0.0), radius, name="body")
    else:
        shell = _rbox((0.0, yc, 0.0), (hx, height / 2, hz), p.rounding, name="body")
    dents, surface = _drivers(p, y0, hx, hz)
    if p.port != "none":
        port_r = p.port_radius
        py = y0 + 0.015 + port_r
        back = -hx - 0.05 if p.port == "through" else hx - p.port_depth * p.depth
        if p.port == "through":
            d.cut(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
        else:
            dents.append(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
    d.add(_difference([shell, *dents], name="cabinet"), *surface)
    if p.handle is not None:
        top, (hh, tube) = y0 + height, p.handle
        span = 0.6 * hx
        path = [(-span, top - OVERLAP, 0.0), (-span, top + hh, 0.0), (span, top + hh, 0.0), (span, top - OVERLAP, 0.0)]
        d.add(_tube(path, tube, name="handle"))
        d.style.append("handle")
    if p.foot == "spikes":
        spots = [(x, z) for x in (-hx * 0.7, hx * 0.7) for z in (-hz * 0.7, hz * 0.7)]
        for (x, z), radius in zip(spots, p.spike_radii, strict=True):
            d.add(_frustum((x, 0.0, z), (x, y0 + OVERLAP, z), 0.003, radius, name="spike"))
    elif p.foot == "plinth":
        lift = SHALLOW_OVERLAP / 2  # the plinth reaches a little into the cabinet
        d.add(_box((0.0, y0 / 2 + lift, 0.0), (hx * 1.1, y0 / 2 + lift, hz * 1.15), name="plinth"))
    elif p.stand is not None:
        pole, foot_x, foot_z = p.stand
        d.add(_box((0.0, y0 - 0.008, 0.0), (hx * 0.8, 0.01, hz * 0.8), name="plate"))
        d.add(_cylinder((0.0, 0.01, 0.0), (0.0, y0 - 0.01, 0.0), pole, name="pole"))
        d.add(_box((0.0, 0.01, 0.0), (foot_x, 0.01, foot_z), name="foot-plate"))


def _drivers(p: LoudspeakerParams, y0: float, hx: float, hz: float) -> tuple[list[Part], list[Part]]:
    """The drivers from the top down, a tweeter then the woofers, above the port: (dents in the cabinet, parts)."""
    low = y0 + (0.03 + 2 * p.port_radius if p.port != "none" else 0.02)
    high = y0 + p.height - 0.02
    woofer = min(p.woofer_radius, 0.85 * hz, (high - low) / (2 * p.woofers + 1))
    tweeter = min(p.tweeter_radius, 0.8 * woofer)
    radii = [tweeter] + [woofer] * p.woofers
    y = high
    dents: list[Part] = []
    surface: list[Part] = []
    for r in radii:
        y -= r + 0.01
        centre = np.array([hx, y, 0.0])
        tube = max(0.1 * r, 0.004)
        # Sunk a little so its equator is not in the plane of the baffle.
        surface.append(
            _torus(centre - np.array([0.15 * tube, 0, 0]), r - tube, tube, axis=(1.0, 0.0, 0.0), name="surround")
        )
        depth_d = min(0.4 * r, 0.4 * hx)
        dents.append(
            _frustum(
                centre + np.array([0.02, 0, 0]),
                centre - np.array([depth_d, 0, 0]),
                r - 2 * tube + 0.02 * 0.6,
                0.35 * (r - 2 * tube),
                name="cone",
            )
        )
        if r > tweeter:
            surface.append(
                _ellipsoid(centre - np.array([depth_d * 0.6, 0, 0]), (0.35 * r, 0.3 * r, 0.3 * r), name="dust-cap")
            )
        else:
            surface.append(_ellipsoid(centre - np.array([0.01, 0, 0]), (0.6 * r + 0.01, 0.6 * r, 0.6 * r), name="dome"))
        y -= r
    return dents, surface
