"""Procedural airplane generator."""

from __future__ import annotations

import math

import numpy as np

from dlsr.shapes.builders import _about, _box, _cylinder, _ellipsoid, _extrude, _mirror_z, _revolve, _ring, _tube
from dlsr.shapes.draft import _Draft, _pick, _u
from dlsr.shapes.parts import Part
from dlsr.shapes.rotations import _rotation

# Airplanes (02691156): fuselage along x with the nose at +x, swept / straight / delta wings with dihedral,
# conventional, T, V or twin tails, hollow or closed engine nacelles (hollow = loops), propellers, biplanes.


def _wing(
    root_le: float,
    span: float,
    root_chord: float,
    tip_chord: float,
    sweep: float,
    thickness: float,
    y: float,
    dihedral: float,
    name: str = "wing",
) -> list[Part]:
    """Both halves of a wing (planform in x-z, extruded in y) rooted at z = 0, tips raised by `dihedral`."""
    tip_le = root_le - span * math.tan(math.radians(sweep))
    half = [(root_le, 0.0), (tip_le, span), (tip_le - tip_chord, span), (root_le - root_chord, 0.0)]
    right = _extrude((0.0, y, 0.0), half, thickness / 2, "xz", name=name)
    right = _about([right], _rotation((1.0, 0.0, 0.0), -dihedral), (0.0, y, 0.0))[0]
    return [right, *_mirror_z([right])]


def _wing_point(root_le: float, span: float, sweep: float, y: float, dihedral: float, f: float) -> np.ndarray:
    """Leading-edge point at span fraction f of a right wing built by `_wing`."""
    z = f * span
    return np.array([root_le - z * math.tan(math.radians(sweep)), y + z * math.tan(math.radians(dihedral)), z])


def _airplane(rng: np.random.Generator, d: _Draft) -> None:
    kind = _pick(rng, {"airliner": 0.35, "fighter": 0.2, "light": 0.2, "bizjet": 0.13, "biplane": 0.12})
    d.style.append(kind)
    length = 1.0
    rf = _u(rng, 0.035, 0.07) if kind != "light" else _u(rng, 0.04, 0.06)
    tail_len = length * _u(rng, 0.2, 0.35)
    nose_len = length * (_u(rng, 0.2, 0.3) if kind == "fighter" else _u(rng, 0.06, 0.15))
    r_tail = rf * (_u(rng, 0.45, 0.7) if kind == "fighter" else _u(rng, 0.12, 0.35))
    profile = [(0.0, 0.0), (r_tail, 0.0)]
    profile += [(r_tail + (rf - r_tail) * math.sin(t * math.pi / 2), tail_len * t) for t in (0.35, 0.7, 1.0)]
    for t in np.linspace(0.0, 1.0, 7)[1:-1]:
        r = rf * (1 - t**1.4) if kind == "fighter" else rf * math.sqrt(1 - t**2)
        profile.append((r, length - nose_len + nose_len * float(t)))
    profile.append((0.0, length))
    profile.insert(5, (rf, length - nose_len))
    d.add(_revolve((-length / 2, 0.0, 0.0), (1.0, 0.0, 0.0), profile, name="fuselage"))

    if kind == "fighter":
        span, cr = _u(rng, 0.25, 0.38), _u(rng, 0.3, 0.45)
        ct, sweep, tw = cr * _u(rng, 0.05, 0.25), _u(rng, 35.0, 60.0), _u(rng, 0.01, 0.016)
        root_le, wing_y, dihedral = _u(rng, -0.05, 0.1), _u(rng, -0.3, 0.2) * rf, _u(rng, -5.0, 3.0)
    elif kind in ("light", "biplane"):
        span, cr = _u(rng, 0.45, 0.6), _u(rng, 0.12, 0.18)
        ct, sweep, tw = cr * _u(rng, 0.6, 1.0), _u(rng, 0.0, 6.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.15, 0.28), _u(rng, 0.0, 6.0)
        wing_y = (rf * 0.7 if rng.random() < 0.6 else -rf * 0.6) if kind == "light" else -0.6 * rf
    else:
        span, cr = _u(rng, 0.4, 0.55), _u(rng, 0.15, 0.25)
        ct, sweep, tw = cr * _u(rng, 0.25, 0.5), _u(rng, 15.0, 38.0), _u(rng, 0.014, 0.022)
        root_le, dihedral = _u(rng, 0.05, 0.18), _u(rng, 0.0, 7.0)
        mount = _pick(rng, {"low": 0.7, "mid": 0.15, "high": 0.15})
        wing_y = {"low": -0.55 * rf, "mid": 0.0, "high": 0.6 * rf}[mount]
        d.style.append(f"{mount}-wing")
    d.add(*_wing(root_le, span, cr, ct, sweep, tw, wing_y, dihedral))

    _tail(rng, d, kind, length, r_tail, span, cr, sweep)

    if kind == "airliner":
        fractions = [0.32] if rng.random() < 0.7 else [0.28, 0.58]
        hollow = rng.random() < 0.6
        rn, ln = _u(rng, 0.028, 0.045), _u(rng, 0.12, 0.2)
        for f in fractions:
            le = _wing_point(root_le, span, sweep, wing_y, dihedral, f)
            centre_y = le[1] - tw / 2 - rn - _u(rng, 0.008, 0.02)
            front = le[0] + _u(rng, 0.03, 0.08)
            for sz in (-1.0, 1.0):
                z = sz * le[2]
                axis_start = (front - ln, centre_y, z)
                if hollow:
                    wall = _u(rng, 0.009, 0.013)
                    d.add(_ring(axis_start, (1.0, 0.0, 0.0), rn * 0.75 - wall, rn - wall, ln, wall, name="nacelle"))
                else:
                    d.add(
                        _revolve(
                            axis_start,
                            (1.0, 0.0, 0.0),
                            [(0.0, -0.03), (rn * 0.7, 0.0), (rn, ln * 0.8), (rn * 0.9, ln), (0.0, ln)],
                            name="nacelle",
                        )
                    )
                top = centre_y + rn * 0.75 - 0.004
                d.add(
                    _box(
                        (le[0] - 0.02, (top + le[1]) / 2, z),
                        (min(0.05, ln / 3), (le[1] - top) / 2, 0.006),
                        name="pylon",
                    )
                )
        d.style.append(("hollow" if hollow else "closed") + f"-engines{2 * len(fractions)}")
    elif kind == "bizjet":
        rn, ln = _u(rng, 0.022, 0.035), _u(rng, 0.1, 0.15)
        x0 = -length / 2 + tail_len * 0.9
        for sz in (-1.0, 1.0):
            z = sz * (rf * 0.9 + rn + _u(rng, 0.01, 0.02))
            if rng.random() < 0.5:
                wall = 0.009
                d.add(_ring((x0, rf * 0.3, z), (1.0, 0.0, 0.0), rn * 0.8 - wall, rn - wall, ln, wall, name="nacelle"))
            else:
                d.add(
                    _revolve(
                        (x0, rf * 0.3, z),
                        (1.0, 0.0, 0.0),
                        [(0.0, 0.0), (rn * 0.8, 0.0), (rn, ln * 0.7), (0.0, ln)],
                        name="nacelle",
                    )
                )
            d.add(_box((x0 + ln * 0.5, rf * 0.3, z / 2), (0.025, 0.006, abs(z) / 2), name="pylon"))
    elif kind in ("light", "biplane"):
        tip = length / 2
        spinner = _u(rng, 0.02, 0.035)
        d.add(_ellipsoid((tip - 0.005, 0.0, 0.0), (spinner * 1.5, spinner, spinner), name="spinner"))
        n, blade = int(rng.integers(2, 4)), _u(rng, 0.1, 0.16)
        for k in range(n):
            b = _box((tip, blade / 2, 0.0), (0.004, blade / 2, 0.012), name="blade")
            d.add(*_about([b], _rotation((1.0, 0.0, 0.0), 360.0 * k / n + 15.0), (tip, 0.0, 0.0)))
        if kind == "biplane":
            gap = _u(rng, 0.12, 0.2)
            upper_y = rf + gap
            d.add(*_wing(root_le + 0.02, span * _u(rng, 1.0, 1.1), cr, ct, sweep, tw, upper_y, 0.0, name="upper-wing"))
            lower = _wing_point(root_le, span, sweep, wing_y, dihedral, 0.65)
            chord = cr + (ct - cr) * 0.65
            for x, x_strut in ((root_le - 0.02, lower[0] - 0.02), (root_le - cr + 0.03, lower[0] - chord + 0.03)):
                for sz in (-1.0, 1.0):
                    d.add(
                        _tube([(x, rf * 0.5, sz * rf * 0.5), (x + 0.01, upper_y, sz * rf * 1.2)], 0.005, name="cabane")
                    )
                    # Interplane struts at 65 % span, inside both wings' chords there (the upper wing leads by 0.02).
                    d.add(
                        _tube(
                            [(x_strut, lower[1], sz * lower[2]), (x_strut + 0.01, upper_y, sz * lower[2])],
                            0.005,
                            name="strut",
                        )
                    )
        elif wing_y > 0 and rng.random() < 0.6:
            for sz in (-1.0, 1.0):
                p = _wing_point(root_le, span, sweep, wing_y, dihedral, 0.45)
                d.add(
                    _tube(
                        [(root_le - cr / 2, -rf * 0.6, sz * rf * 0.6), (p[0] - cr / 2, p[1] - tw / 2, sz * p[2])],
                        0.006,
                        name="strut",
                    )
                )
            d.style.append("struts")
        if rng.random() < 0.6:
            gear_x = root_le - cr * 0.3
            for sz in (-1.0, 1.0):
                foot = (gear_x, -rf - 0.06, sz * 0.07)
                d.add(_tube([(gear_x, -rf * 0.5, sz * rf * 0.4), foot], 0.005, name="gear"))
                d.add(
                    _cylinder(
                        (foot[0], foot[1], foot[2] - sz * 0.012),
                        (foot[0], foot[1], foot[2] + sz * 0.012),
                        0.02,
                        name="wheel",
                    )
                )
            d.style.append("gear")


def _tail(
    rng: np.random.Generator, d: _Draft, kind: str, length: float, r_tail: float, span: float, cr: float, sweep: float
) -> None:
    """Fin(s) and stabiliser at the tail end (x = -length / 2) of a fuselage whose tail radius is r_tail."""
    tail = _pick(
        rng,
        {"conventional": 0.5, "t": 0.2, "v": 0.1, "twin": 0.2}
        if kind == "fighter"
        else {"conventional": 0.6, "t": 0.3 if kind != "bizjet" else 0.8, "v": 0.1},
    )
    d.style.append(f"{tail}-tail")
    cf, hf = _u(rng, 0.12, 0.22), _u(rng, 0.1, 0.2)
    fin_sweep = _u(rng, 25.0, 50.0)
    c_tip = cf * _u(rng, 0.4, 0.7)
    y0 = 0.5 * r_tail  # inside the fuselage everywhere along the fin root
    ft = _u(rng, 0.01, 0.016)
    shift = hf * math.tan(math.radians(fin_sweep))
    le = -length / 2 + max(cf, shift + c_tip) + 0.01  # root leading edge; the tip's trailing edge ends at the tail
    fin = [(le - cf, y0), (le, y0), (le - shift, y0 + hf), (le - shift - c_tip, y0 + hf)]
    stab_span, stab_c = span * _u(rng, 0.3, 0.42), cr * _u(rng, 0.4, 0.65)
    stab_sweep = sweep + _u(rng, 0.0, 10.0)
    st = _u(rng, 0.009, 0.014)
    if tail == "v":
        for sz in (-1.0, 1.0):
            f = _extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="v-fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * _u(rng, 35.0, 50.0)), (0.0, y0, 0.0)))
        return
    if tail == "twin":
        for sz in (-1.0, 1.0):
            f = _extrude((0.0, 0.0, sz * r_tail * 0.8), fin, ft / 2, "xy", name="fin")
            d.add(*_about([f], _rotation((1.0, 0.0, 0.0), sz * _u(rng, 10.0, 20.0)), (0.0, y0, sz * r_tail * 0.8)))
    else:
        d.add(_extrude((0.0, 0.0, 0.0), fin, ft / 2, "xy", name="fin"))
    if tail == "t":
        stab_c = min(stab_c, c_tip + 0.03)
        stab_le = le - shift + 0.01
        d.add(
            *_wing(stab_le, stab_span, stab_c, stab_c * 0.6, stab_sweep, st, y0 + hf - st * 0.6, 0.0, name="stabiliser")
        )
    else:
        stab_le = -length / 2 + stab_c + 0.01
        d.add(
            *_wing(stab_le, stab_span, stab_c, stab_c * 0.5, stab_sweep, st, 0.0, _u(rng, 0.0, 6.0), name="stabiliser")
        )
