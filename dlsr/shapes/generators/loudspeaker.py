"""Procedural loudspeaker generator."""

from __future__ import annotations

import numpy as np

from dlsr.shapes.builders import _box, _cylinder, _difference, _ellipsoid, _frustum, _rbox, _torus, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.parts import Part

# Loudspeakers (03691459): box, tower or cylinder cabinets with drivers (cone dents, surrounds, dust caps) on the
# +x face, ports (some right through = a loop), handles, feet or stands.


def _loudspeaker(rng: np.random.Generator, d: _Draft) -> None:
    body = _pick(rng, {"box": 0.5, "tower": 0.3, "cylinder": 0.2})
    foot = _pick(rng, {"none": 0.4, "spikes": 0.25, "plinth": 0.2, "stand": 0.15 if body != "tower" else 0.0})
    d.style += [body, foot]
    if body == "tower":
        width, depth, height = _u(rng, 0.18, 0.3), _u(rng, 0.22, 0.38), _u(rng, 0.8, 1.1)
    else:
        width, depth, height = _u(rng, 0.18, 0.35), _u(rng, 0.18, 0.35), _u(rng, 0.28, 0.5)
    y0 = {"none": 0.0, "spikes": _u(rng, 0.03, 0.06), "plinth": _u(rng, 0.02, 0.04), "stand": _u(rng, 0.4, 0.7)}[foot]
    hx, hz = depth / 2, width / 2
    yc = y0 + height / 2
    dents: list[Part] = []
    if body == "cylinder":
        radius = min(hx, hz) * 1.1
        hx = hz = radius
        shell = _cylinder((0.0, y0, 0.0), (0.0, y0 + height, 0.0), radius, name="body")
    else:
        shell = _rbox((0.0, yc, 0.0), (hx, height / 2, hz), _u(rng, 0.003, 0.03), name="body")
    # Drivers from the top down: a tweeter, then 1-3 woofers, in the space above the port.
    port = _pick(rng, {"none": 0.45, "front": 0.35, "through": 0.2})
    port_r = _u(rng, 0.015, 0.03)
    low = y0 + (0.03 + 2 * port_r if port != "none" else 0.02)
    high = y0 + height - 0.02
    n_woofers = int(rng.integers(1, 4 if body == "tower" else 3))
    woofer = min(_u(rng, 0.05, 0.11), 0.85 * hz, (high - low) / (2 * n_woofers + 1))
    tweeter = min(_u(rng, 0.02, 0.035), 0.8 * woofer)
    radii = [tweeter] + [woofer] * n_woofers
    y = high
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
    if port != "none":
        py = y0 + 0.015 + port_r
        back = -hx - 0.05 if port == "through" else hx - _u(rng, 0.05, 0.9) * depth
        if port == "through":
            d.cut(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
        else:
            dents.append(_cylinder((hx + 0.05, py, 0.0), (back, py, 0.0), port_r, name="port"))
    d.add(_difference([shell, *dents], name="cabinet"), *surface)
    if rng.random() < 0.25:
        top, hh = y0 + height, _u(rng, 0.03, 0.07)
        span = 0.6 * hx
        d.add(
            _tube(
                [(-span, top - 0.01, 0.0), (-span, top + hh, 0.0), (span, top + hh, 0.0), (span, top - 0.01, 0.0)],
                _u(rng, 0.007, 0.012),
                name="handle",
            )
        )
        d.style.append("handle")
    if foot == "spikes":
        for x in (-hx * 0.7, hx * 0.7):
            for z in (-hz * 0.7, hz * 0.7):
                d.add(_frustum((x, 0.0, z), (x, y0 + 0.01, z), 0.003, _u(rng, 0.012, 0.02), name="spike"))
    elif foot == "plinth":
        d.add(_box((0.0, y0 / 2 + 0.0025, 0.0), (hx * 1.1, y0 / 2 + 0.0025, hz * 1.15), name="plinth"))
    elif foot == "stand":
        d.add(_box((0.0, y0 - 0.008, 0.0), (hx * 0.8, 0.01, hz * 0.8), name="plate"))
        d.add(_cylinder((0.0, 0.01, 0.0), (0.0, y0 - 0.01, 0.0), _u(rng, 0.015, 0.03), name="pole"))
        d.add(_box((0.0, 0.01, 0.0), (_u(rng, 0.1, 0.16), 0.01, _u(rng, 0.1, 0.16)), name="foot-plate"))
