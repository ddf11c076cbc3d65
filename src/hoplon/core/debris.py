"""Debris of an intercept: a fragment cloud, its fall, its ground footprint and hazard.

Fragment cloud (notional parameters, the *form* of the NASA standard breakup model, NASA
EVOLVE 4.0, Johnson et al., Adv. Space Res. 28(9), 2001):

* characteristic lengths L_c (m) follow the power law of the model, cumulative number
  N(> L_c) proportional to L_c^-k (k = 1.6 for explosions, 1.71 for collisions), between
  ``l_min_m`` and ``l_max_m``. They are sampled log-uniformly and weighted by the power
  law (importance sampling), so that the few large fragments, which carry the mass and
  the hazard, are in the sample as well as the many small ones;
* log10 of the area-to-mass ratio A/M (m^2/kg) is normal with a mean that falls with
  size, mu = -0.6 - 0.3 (log10 L_c + 1) clipped to [-1.6, -0.3] (notional, after the
  model's rocket-body distribution) and sigma ``am_sigma``;
* the cross-section is the model's A = 0.556945 L_c^2.0047077 (m^2), the mass m = A / (A/M);
* the imparted velocity is isotropic with log10 |dv| (m/s) normal with sigma 0.4 and
  mean 0.9 log10(A/M) + 2.9 for a collision (hit-to-kill) or 0.2 log10(A/M) + 1.85 for
  an explosion (the model's two forms; ``dv_log_offset`` replaces the constant);
* the fragments drawn are a sample of the cloud: each keeps its own mass (so its A/M and
  imparted velocity are the model's) and stands for ``count`` real fragments (its
  importance weight, scaled so that the cloud's mass equals the parent's: a sample of a
  few hundred stands for tens of thousands of fragments of a 1 t body, the order the
  model's N(> L_c) = 0.1 M^0.75 L_c^-1.71 gives).

Fragments fall under J2 gravity, rotation and drag (ballistic coefficient
beta = m / (Cd A), Cd = 1) with the batched propagator's integrator, in its fast air (the
drag's height and density from cheaper formulas, :mod:`hoplon.core.ballistic`: half the
cost, micrometres from the exact landings); in still air, by the fall kernel below, which
does the propagator's arithmetic (its bits) two fragments at a time with their states in
registers, in two thirds of its time. A light fragment spends most of its fall at its
terminal speed, where its drag relaxation time v_t / g is a second or two and an explicit
integrator crawls: once that time is below ``FALL_TERMINAL_TAU_S`` and the fragment falls
within 3 % of its terminal velocity, the rest of its fall is done in closed form
(quasi-steady descent along the vertical, :func:`hoplon.core.earth.terminal_fall_table`;
with first-order lag and Coriolis corrections: within a few metres and a tenth of a
second of a stiff integration of the whole fall, and fifteen times faster for a cloud).
An optional wind (east/north m/s as a function of height) drifts each fragment by the
integral of the wind over its sampled fall: a fragment falls at its terminal speed
through the lower air, where the wind acts, so it moves with the air horizontally
(documented approximation).

Footprint: in the local east/north plane of the median landing point, the 95 % polygon
is the convex hull of the 95 % of landings nearest the median in Mahalanobis distance;
the hull is that of all landings. A fragment is hazardous when its kinetic energy at
impact exceeds 15 J (the casualty threshold of range-safety practice, e.g. RCC 321).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.spatial import ConvexHull, QhullError

from hoplon.core.ballistic import (
    _A21,
    _A31,
    _A32,
    _A41,
    _A42,
    _A43,
    _A51,
    _A52,
    _A53,
    _A54,
    _A61,
    _A62,
    _A63,
    _A64,
    _A65,
    _B1,
    _B3,
    _B4,
    _B5,
    _B6,
    _E1,
    _E3,
    _E4,
    _E5,
    _E6,
    _ERROR_FLOOR,
    _MAX_STEPS,
    PARALLEL_MIN_BODIES,
    STATUS_FAILED,
    STATUS_IMPACT,
    STATUS_TERMINAL,
    STATUS_TIMEOUT,
    _accepted_step_factor,
    _derivative,
    _derivative_and_air,
    _error,
    _finish_terminal,
    _is_terminal,
    _locate_event,
    _prepare,
    _rejected_step_factor,
    _stage,
    _weighted_sums,
    sample_flight,
    terminal_time_scale,
)
from hoplon.core.earth import (
    EarthModel,
    _ecef_to_geodetic,
    _geodetic_to_ecef,
    earth_model,
    terminal_fall_table,
)
from hoplon.core.frames import (
    ecef_to_geodetic,
    enu_rotation,
    geodetic_to_ecef,
)

__all__ = [
    "CASUALTY_ENERGY_J",
    "Footprint",
    "FragmentCloud",
    "Landings",
    "fall",
    "footprint",
    "fragment_cloud",
    "greatest_angle_rad",
    "places_near",
    "polygon_reach_rad",
]

CASUALTY_ENERGY_J = 15.0
"""Kinetic energy above which a falling fragment is counted as a casualty hazard."""
_FALL_TOLERANCES = (1e-7, 1e-3, 2e-2)
"""The integrator's tolerances for a fall: relative, absolute on position (m) and on velocity
(m/s) per step. Through the air a fragment's velocity error relaxes within its drag time
v_t / g, so its steps need no millimetre-per-second velocities: 2 cm/s takes a sixth fewer
evaluations than 5 mm/s. The 4,439 fragments that land in four anatolia runs land within
2.7 m (99 % within 1.6 m; 2.2 m and 1.4 m at 5 mm/s) of their whole falls integrated at
rtol 1e-10, 127 of them within 1.6 m of LSODA (tests/reference_physics.py); their spreads
are km."""
_SBM_AREA_COEFF = 0.556945
_SBM_AREA_EXP = 2.0047077
_WGS84 = earth_model("wgs84")


class FragmentCloud(NamedTuple):
    """N fragments: ECEF position and Earth-relative velocity at the break-up (N, 3), mass
    (kg), cross-section (m^2), ballistic coefficient (kg/m^2), characteristic length (m),
    and how many real fragments each sampled one stands for (None: one each)."""

    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    mass_kg: np.ndarray
    area_m2: np.ndarray
    beta_kg_m2: np.ndarray
    length_m: np.ndarray
    count: np.ndarray | None = None


def fragment_cloud(r_ecef_m, v_ecef_mps, mass_kg: float, rng: np.random.Generator, *, n_fragments: int = 500,
                   kind: str = "collision", l_min_m: float = 0.01, l_max_m: float = 1.0, am_sigma: float = 0.4,
                   dv_log_offset: float | None = None) -> FragmentCloud:
    """The fragments of a body of ``mass_kg`` broken up at ``r_ecef_m`` moving at
    ``v_ecef_mps`` (module notes). ``kind`` "collision" (hit-to-kill) or "explosion"."""
    if kind not in ("collision", "explosion"):
        raise ValueError(f"kind: expected collision or explosion, got {kind!r}")
    if not (mass_kg > 0 and n_fragments >= 1 and 0 < l_min_m < l_max_m):
        raise ValueError("need mass_kg > 0, n_fragments >= 1 and 0 < l_min_m < l_max_m")
    k = 1.71 if kind == "collision" else 1.6
    # log-uniform lengths; the power-law density over the sampling one is L^-k (up to a constant)
    lc = np.exp(rng.uniform(np.log(l_min_m), np.log(l_max_m), n_fragments))
    weight = lc ** (-k)
    mu = np.clip(-0.6 - 0.3 * (np.log10(lc) + 1.0), -1.6, -0.3)
    am = 10.0 ** rng.normal(mu, am_sigma)
    area = _SBM_AREA_COEFF * lc**_SBM_AREA_EXP
    mass = area / am
    # a sample: every fragment keeps its mass (its A/M is the model's) and stands for
    # ``count`` real ones, its weight scaled so that the cloud holds the parent's mass
    count = weight * (mass_kg / (weight * mass).sum())
    slope, offset = (0.9, 2.9) if kind == "collision" else (0.2, 1.85)
    dv = 10.0 ** rng.normal(slope * np.log10(am) + (offset if dv_log_offset is None else dv_log_offset), 0.4)
    direction = rng.normal(size=(n_fragments, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    r = np.broadcast_to(np.asarray(r_ecef_m, float), (n_fragments, 3)).copy()
    v = np.asarray(v_ecef_mps, float)[None, :] + dv[:, None] * direction
    return FragmentCloud(r, v, mass, area, mass / area, lc, count)


class Landings(NamedTuple):
    """Where and when N fragments land: lat/lon (deg), fall time (s), impact speed (m/s),
    kinetic energy (J), landed (bool: within the time limit)."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    fall_time_s: np.ndarray
    impact_speed_mps: np.ndarray
    energy_j: np.ndarray
    landed: np.ndarray


FALL_TERMINAL_TAU_S = 10.0
"""Drag relaxation time (s) below which a falling fragment finishes its fall in closed form
(quasi-steady terminal descent, :func:`hoplon.core.ballistic.propagate_to_impact`)."""


def fall(cloud: FragmentCloud, *, earth: str | EarthModel = "wgs84", wind=None, max_time_s: float = 3600.0,
         ground_alt_m: float = 0.0, wind_step_s: float = 2.0, terminal_tau_s: float = FALL_TERMINAL_TAU_S) -> Landings:
    """Fly every fragment to the ground. ``wind``: None or a callable height_m -> (east,
    north) m/s arrays, integrated along each sampled fall (module notes).
    ``terminal_tau_s``: fragments fall the stiff end of their fall, at their terminal
    speed, in closed form (0: integrate every fall to the ground)."""
    model = earth_model(earth)
    if wind is None:  # only the landings: the fall kernel
        end = _land(cloud, model, max_time_s, ground_alt_m, terminal_tau_s)
    else:  # the same integration, sampled for the wind drift
        fs = sample_flight(cloud.r_ecef_m, cloud.v_ecef_mps, cloud.beta_kg_m2, step_s=wind_step_s, earth=model,
                           max_time_s=max_time_s, ground_alt_m=ground_alt_m, rtol=_FALL_TOLERANCES,
                           terminal_tau_s=terminal_tau_s, fast_air=True)
        end = fs.end
    lat, lon = np.asarray(end.lat_deg, float).copy(), np.asarray(end.lon_deg, float).copy()
    landed = np.isfinite(end.time_s)
    if wind is not None:
        h = np.atleast_1d(ecef_to_geodetic(fs.r_ecef_m, earth=model).alt_m)
        we, wn = (np.asarray(x, float) for x in wind(h))
        dt = np.diff(fs.time_s, append=fs.time_s[-1])
        last = fs.offsets[1:] - 1
        dt[last] = 0.0  # no time after a fragment's last sample
        de = np.add.reduceat(we * dt, fs.offsets[:-1])
        dn = np.add.reduceat(wn * dt, fs.offsets[:-1])
        te, tn = _terminal_wind_drift(end, cloud.beta_kg_m2, wind, model)
        de, dn = de + te, dn + tn
        R = enu_rotation(lat, lon).reshape(-1, 3, 3)
        r_end = np.atleast_2d(geodetic_to_ecef(lat, lon, np.full(lat.size, ground_alt_m), earth=model))
        shifted = r_end + np.einsum("nji,nj->ni", R, np.column_stack([de, dn, np.zeros_like(de)]))
        geo = ecef_to_geodetic(shifted, earth=model)
        lat, lon = np.atleast_1d(geo.lat_deg), np.atleast_1d(geo.lon_deg)
    speed = np.linalg.norm(np.asarray(end.v_ecef_mps), axis=1)
    return Landings(lat, lon, np.asarray(end.time_s, float), speed, 0.5 * cloud.mass_kg * speed**2, landed)


class _End(NamedTuple):
    """Where the fragments end (the fields of :class:`hoplon.core.ballistic.ImpactResult`
    that :func:`fall` reads): fall time (s, NaN where they did not land), lat/lon (deg),
    ECEF velocity (m/s)."""

    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    v_ecef_mps: np.ndarray


def _land(cloud: FragmentCloud, model: EarthModel, max_time_s: float, ground_alt_m: float,
          terminal_tau_s: float) -> _End:
    """:func:`hoplon.core.ballistic.propagate_to_impact` of the fragments in its fast air
    with the fall's tolerances, bit for bit: the fall kernel, then the closed-form
    terminal descent."""
    r, v, inv_b, _ = _prepare(cloud.r_ecef_m, cloud.v_ecef_mps, cloud.beta_kg_m2)
    n = r.shape[0]
    status, t_end, y_end = np.empty(n, dtype=np.int64), np.empty(n), np.empty((n, 6))
    args = (r, v, inv_b, float(max_time_s), float(ground_alt_m), model.params(), np.array(_FALL_TOLERANCES),
            float(terminal_tau_s), status, t_end, y_end)
    threads = numba.get_num_threads()
    if n >= PARALLEL_MIN_BODIES and threads > 1:
        _fall_parallel(threads, *args)
    else:
        _fall_range(0, n, *args)
    status, t_end, y_end, _ = _finish_terminal(status, t_end, y_end, inv_b, max_time_s, ground_alt_m, model)
    geo = ecef_to_geodetic(y_end[:, :3], earth=model)
    return _End(np.where(status == STATUS_IMPACT, t_end, np.nan), np.asarray(geo.lat_deg), np.asarray(geo.lon_deg),
                y_end[:, 3:])


# The fall kernel: the batched propagator's flight (hoplon.core.ballistic._fly_one) to the
# ground in the fast air, without samples or apogees, on its tuples (states, Runge-Kutta
# stages and the Earth's parameters) and its step helpers: the same arithmetic in the same
# order, the same bits. Two fragments fly at a time, their stages interleaved (lanes): each
# step is a long chain of dependent arithmetic, and the CPU overlaps two. The fall of
# anatolia's clouds: 0.7 of the propagator's time (measured against its array kernel).


@numba.njit(cache=True, inline="always")
def _dopri_steps(y, h: float, k0, ib: float, z, g: float, l0, jb: float, p):
    """``ballistic._dopri_step``'s Dormand-Prince steps of two fragments at once, stage by stage
    (each step is a long chain of dependent arithmetic: the CPU overlaps the two): from
    ``y`` (``k0`` = f(y), 1/beta ``ib``) by ``h`` and from ``z`` (``l0``, ``jb``) by ``g``,
    each one's 5th-order solution and, per component, its error estimate's sum without the
    last (FSAL) term."""
    k1 = _derivative(_stage(y, h * _A21, (1.0,), (k0,)), ib, p, True)  # y + (h a21) k0, as _dopri_step
    l1 = _derivative(_stage(z, g * _A21, (1.0,), (l0,)), jb, p, True)
    k2 = _derivative(_stage(y, h, (_A31, _A32), (k0, k1)), ib, p, True)
    l2 = _derivative(_stage(z, g, (_A31, _A32), (l0, l1)), jb, p, True)
    k3 = _derivative(_stage(y, h, (_A41, _A42, _A43), (k0, k1, k2)), ib, p, True)
    l3 = _derivative(_stage(z, g, (_A41, _A42, _A43), (l0, l1, l2)), jb, p, True)
    k4 = _derivative(_stage(y, h, (_A51, _A52, _A53, _A54), (k0, k1, k2, k3)), ib, p, True)
    l4 = _derivative(_stage(z, g, (_A51, _A52, _A53, _A54), (l0, l1, l2, l3)), jb, p, True)
    k5 = _derivative(_stage(y, h, (_A61, _A62, _A63, _A64, _A65), (k0, k1, k2, k3, k4)), ib, p, True)
    l5 = _derivative(_stage(z, g, (_A61, _A62, _A63, _A64, _A65), (l0, l1, l2, l3, l4)), jb, p, True)
    b, e = (_B1, _B3, _B4, _B5, _B6), (_E1, _E3, _E4, _E5, _E6)
    k, l = (k0, k2, k3, k4, k5), (l0, l2, l3, l4, l5)
    return (_stage(y, h, b, k), _weighted_sums(e, k)), (_stage(z, g, b, l), _weighted_sums(e, l))


# A lane: one fragment's fall under way, (index, 1/beta, time s, next step s, state,
# f(state), height m, height rate m/s, climbing, the step controller's error before,
# rejected, steps tried); index -1: an idle lane, whose steps are not used.


@numba.njit(cache=True, inline="always")
def _lane_ready(lane, t_max: float):
    """``ballistic._fly_one``'s checks before a step: the lane with its step cut to end at
    ``t_max`` and -1, or the lane and its status where its flight ends."""
    i, ib, t, h, y, k0, g_h, g_rate, climbing, err_before, rejected, tried = lane
    if tried == _MAX_STEPS:
        return lane, STATUS_FAILED
    if t >= t_max:
        return lane, STATUS_TIMEOUT
    return (i, ib, t, t_max - t if t + h > t_max else h, y, k0, g_h, g_rate, climbing, err_before, rejected,
            tried + 1), -1


@numba.njit(cache=True, inline="always")
def _lane_end(lane, st: int, status, t_end, y_end) -> None:
    """Write a lane's fall, ended with status ``st``."""
    i, y = lane[0], lane[4]
    status[i], t_end[i] = st, lane[2]
    for c in range(6):
        y_end[i, c] = y[c]


@numba.njit(cache=True, inline="always")
def _lane_next(lane, nxt: int, last: int, r0, v0, inv_beta, t_max: float, ground: float, p, status, t_end, y_end):
    """A lane for the next fragment from ``nxt`` (below ``last``) whose fall needs a step,
    and the one after it; the falls of those before it end at once. None left: ``lane``,
    idle."""
    while nxt < last:
        i, nxt = nxt, nxt + 1
        ib = inv_beta[i]
        y = (r0[i, 0], r0[i, 1], r0[i, 2], v0[i, 0], v0[i, 1], v0[i, 2])
        k0, g_h, ux, uy, uz, _ = _derivative_and_air(y, ib, p, True)
        g_rate = y[3] * ux + y[4] * uy + y[5] * uz
        # initial step: a fraction of the time to change velocity noticeably
        h = min(10.0, 0.01 * (math.sqrt(y[3] ** 2 + y[4] ** 2 + y[5] ** 2) + 100.0)
                / max(math.sqrt(k0[3] ** 2 + k0[4] ** 2 + k0[5] ** 2), 1e-3))
        new, st = (i, ib, 0.0, h, y, k0, g_h, g_rate, g_rate > 0.0, _ERROR_FLOOR, False, 0), STATUS_IMPACT
        if not (g_h <= ground and g_rate <= 0.0):  # not on the ground already
            new, st = _lane_ready(new, t_max)
        if st < 0:
            return new, nxt
        _lane_end(new, st, status, t_end, y_end)
    return (-1,) + lane[1:], nxt


@numba.njit(cache=True, inline="always")
def _lane_step(lane, y_new, e5, k6, n_h: float, ux: float, uy: float, uz: float, air_density: float, ground: float,
               tol, terminal_tau: float, p, p_array):
    """``ballistic._fly_one``'s step to ``y_new`` (``k6`` = f(y_new); the height, up and
    air there) from :func:`_dopri_steps`: accepted or not, the ground's event, the terminal
    descent; the lane after it and -1, or the lane and its status where its flight ends."""
    i, ib, t, h, y, k0, g_h, g_rate, climbing, err_before, rejected, tried = lane
    err = _error(y, y_new, e5, k6, h, tol)
    if err > 1.0:
        h *= _rejected_step_factor(err)
        return (i, ib, t, h, y, k0, g_h, g_rate, climbing, err_before, True, tried), STATUS_FAILED if h < 1e-9 else -1
    n_rate = y_new[3] * ux + y_new[4] * uy + y_new[5] * uz
    if climbing and n_rate <= 0.0:
        climbing = False
    if n_h <= ground and g_h > ground:  # the impact, on the step's dense output
        ends = np.empty((5, 6))
        for c in range(6):
            ends[0, c], ends[1, c], ends[2, c], ends[3, c] = y[c], k0[c], y_new[c], k6[c]
        t += _locate_event(ends[0], ends[1], ends[2], ends[3], h, g_h - ground, n_h - ground, 0, ground, ends[4],
                           p_array, True)
        y = (ends[4, 0], ends[4, 1], ends[4, 2], ends[4, 3], ends[4, 4], ends[4, 5])
        return (i, ib, t, h, y, k0, g_h, g_rate, climbing, err_before, rejected, tried), STATUS_IMPACT
    t += h
    if not climbing and n_rate > 0.0:
        climbing = True
    lane = (i, ib, t, h, y_new, k6, n_h, n_rate, climbing, err_before, rejected, tried)
    if terminal_tau > 0.0 and not climbing and _is_terminal(y_new, n_h, ux, uy, uz, air_density, ib, terminal_tau, p):
        return lane, STATUS_TERMINAL
    h *= _accepted_step_factor(err, err_before, rejected)
    return (i, ib, t, h, y_new, k6, n_h, n_rate, climbing, max(err, _ERROR_FLOOR), False, tried), -1


@numba.njit(cache=True, error_model="numpy")
def _fall_range(first, last, r0, v0, inv_beta, t_max, ground, p_array, tol_array, terminal_tau, status, t_end,
                y_end) -> None:
    """Fly the fragments ``first`` to ``last - 1`` as ``ballistic._fly_one`` flies them to
    the ground (or into their terminal descent) in the fast air, two at a time (two lanes):
    their status, end time and state into ``status``, ``t_end``, ``y_end``."""
    if first >= last:
        return
    p = (p_array[0], p_array[1], p_array[2], p_array[3], p_array[4], p_array[5], p_array[6])
    tol = (tol_array[0], tol_array[1], tol_array[2])
    y = (r0[first, 0], r0[first, 1], r0[first, 2], v0[first, 0], v0[first, 1], v0[first, 2])
    idle = (-1, 0.0, 0.0, 1.0, y, y, 0.0, 0.0, False, _ERROR_FLOOR, False, 0)
    a, nxt = _lane_next(idle, first, last, r0, v0, inv_beta, t_max, ground, p, status, t_end, y_end)
    b, nxt = _lane_next(a, nxt, last, r0, v0, inv_beta, t_max, ground, p, status, t_end, y_end)
    # the lanes' advances below are written out twice: a shared inlined helper taking the
    # step as a tuple measured 1-2 ms per anatolia replication slower
    while a[0] >= 0 or b[0] >= 0:
        (ya, ea), (yb, eb) = _dopri_steps(a[4], a[3], a[5], a[1], b[4], b[3], b[5], b[1], p)
        ka, ha, uxa, uya, uza, air_a = _derivative_and_air(ya, a[1], p, True)
        kb, hb, uxb, uyb, uzb, air_b = _derivative_and_air(yb, b[1], p, True)
        if a[0] >= 0:
            a, st = _lane_step(a, ya, ea, ka, ha, uxa, uya, uza, air_a, ground, tol, terminal_tau, p, p_array)
            if st < 0:
                a, st = _lane_ready(a, t_max)
            if st >= 0:
                _lane_end(a, st, status, t_end, y_end)
                a, nxt = _lane_next(a, nxt, last, r0, v0, inv_beta, t_max, ground, p, status, t_end, y_end)
        if b[0] >= 0:
            b, st = _lane_step(b, yb, eb, kb, hb, uxb, uyb, uzb, air_b, ground, tol, terminal_tau, p, p_array)
            if st < 0:
                b, st = _lane_ready(b, t_max)
            if st >= 0:
                _lane_end(b, st, status, t_end, y_end)
                b, nxt = _lane_next(b, nxt, last, r0, v0, inv_beta, t_max, ground, p, status, t_end, y_end)


@numba.njit(cache=True, parallel=True)
def _fall_parallel(blocks, r0, v0, inv_beta, t_max, ground, p, tol, terminal_tau, status, t_end, y_end) -> None:
    """:func:`_fall_range` of every fragment, in ``blocks`` blocks of fragments (one per
    thread)."""
    n = r0.shape[0]
    for b in numba.prange(blocks):
        _fall_range(b * n // blocks, (b + 1) * n // blocks, r0, v0, inv_beta, t_max, ground, p, tol, terminal_tau,
                    status, t_end, y_end)


def _terminal_wind_drift(end, beta_kg_m2, wind, model: EarthModel) -> tuple[np.ndarray, np.ndarray]:
    """East and north drift (m) of the fragments over their closed-form terminal descent:
    the wind integrated over the time each height takes to fall through, from where the
    descent began to where it ended, ``sqrt(G_REF / g_s) / sqrt(beta) * int w(z) s(z) dz``
    (:func:`hoplon.core.earth.terminal_fall_table`)."""
    n = end.terminal_alt_m.shape[0]
    de, dn = np.zeros(n), np.zeros(n)
    idx = np.flatnonzero(np.isfinite(end.terminal_alt_m))
    if idx.size == 0:
        return de, dn
    table = terminal_fall_table()
    we, wn = (np.asarray(x, float) for x in wind(table.z_m))
    top = end.terminal_alt_m[idx]
    bottom = np.atleast_1d(np.asarray(ecef_to_geodetic(end.r_ecef_m[idx], earth=model).alt_m, float))
    beta = np.broadcast_to(np.asarray(beta_kg_m2, float), (n,))[idx]
    _, scale = terminal_time_scale(np.atleast_1d(end.lat_deg)[idx], np.atleast_1d(end.lon_deg)[idx], 1.0 / beta, model)
    for w, out in ((we, de), (wn, dn)):
        cum = cumulative_trapezoid(w * table.s, table.z_m, initial=0.0)
        out[idx] = scale * (np.interp(top, table.z_m, cum) - np.interp(bottom, table.z_m, cum))
    return de, dn


class Footprint(NamedTuple):
    """Ground footprint of landings: the median point, the 95 % polygon and the hull of
    all (lat/lon vertex arrays, counter-clockwise), their areas (m^2)."""

    median_lat_deg: float
    median_lon_deg: float
    polygon95_lat_deg: np.ndarray
    polygon95_lon_deg: np.ndarray
    polygon95_area_m2: float
    hull_lat_deg: np.ndarray
    hull_lon_deg: np.ndarray
    hull_area_m2: float


@numba.njit(cache=True)
def _plane_rows(lat_deg, lon_deg, lat0_deg, lon0_deg, a, e2, out):
    """East/north (m) into ``out`` (N, 2) of ground points in the tangent plane at (lat0,
    lon0): the arithmetic of ``frames.ecef_to_enu(frames.geodetic_to_ecef(...))``, compiled."""
    la0, lo0 = math.radians(lat0_deg), math.radians(lon0_deg)
    x0, y0, z0 = _geodetic_to_ecef(la0, lo0, 0.0, a, e2)
    sp, cp, sl, cl = math.sin(la0), math.cos(la0), math.sin(lo0), math.cos(lo0)
    for i in range(lat_deg.shape[0]):
        x, y, z = _geodetic_to_ecef(math.radians(lat_deg[i]), math.radians(lon_deg[i]), 0.0, a, e2)
        dx, dy, dz = x - x0, y - y0, z - z0
        t = cl * dx + sl * dy
        out[i, 0] = -sl * dx + cl * dy
        out[i, 1] = -sp * t + cp * dz


@numba.njit(cache=True)
def _unplane_rows(target, lat0_deg, lon0_deg, a, e2, lat_deg, lon_deg):
    """Ground points (deg, into ``lat_deg``/``lon_deg``) whose projection by
    :func:`_plane_rows` is ``target`` (N, 2): a fixed point (the ellipsoid lies a little
    below the tangent plane), at most six steps, until every point is within a tenth of a
    millimetre; the arithmetic of ``frames.enu_to_ecef`` and ``frames.ecef_to_geodetic``."""
    n = target.shape[0]
    guess = target.copy()
    plane = np.empty((n, 2))
    la0, lo0 = math.radians(lat0_deg), math.radians(lon0_deg)
    x0, y0, z0 = _geodetic_to_ecef(la0, lo0, 0.0, a, e2)
    sp, cp, sl, cl = math.sin(la0), math.cos(la0), math.sin(lo0), math.cos(lo0)
    for _ in range(6):
        for i in range(n):
            e, north, up = guess[i, 0], guess[i, 1], 0.0
            t = cp * up - sp * north
            lat, lon, _h = _ecef_to_geodetic(x0 + (-sl * e + cl * t), y0 + (cl * e + sl * t), z0 + (cp * north + sp * up),
                                             a, e2, False)
            lon = math.degrees(lon)
            lat_deg[i] = math.degrees(lat)
            lon_deg[i] = lon + 360.0 if lon <= -180.0 else lon
        _plane_rows(lat_deg, lon_deg, lat0_deg, lon0_deg, a, e2, plane)
        converged = True
        for i in range(n):
            for j in range(2):
                residual = target[i, j] - plane[i, j]
                converged = converged and not abs(residual) > 1e-4
                guess[i, j] = guess[i, j] + residual
        if converged:
            break


def _plane(lat, lon, lat0, lon0):
    """East/north (N, 2) of ground points in the tangent plane at (lat0, lon0), m."""
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    out = np.empty((lat.shape[0], 2))
    _plane_rows(lat, lon, float(lat0), float(lon0), _WGS84.a_m, _WGS84.e2, out)
    return out


def _unplane(en, lat0, lon0):
    """Ground points (on the ellipsoid) whose projection by :func:`_plane` is ``en``."""
    target = np.ascontiguousarray(en, dtype=float).reshape(-1, 2)
    lat, lon = np.empty(len(target)), np.empty(len(target))
    _unplane_rows(target, float(lat0), float(lon0), _WGS84.a_m, _WGS84.e2, lat, lon)
    return lat, lon


def _hull(points):
    if len(points) < 3:
        return np.arange(len(points)), 0.0
    try:
        h = ConvexHull(points)
    except QhullError:  # collinear or coincident points
        return np.arange(len(points)), 0.0
    return h.vertices, float(h.volume)


@numba.njit(cache=True)
def _median(x: np.ndarray) -> float:
    """The median of a 1-D array of finite values, as ``np.median`` computes it (the mean of
    the two middle values of an even count), without its overhead on small arrays."""
    s = np.sort(x)
    n = s.size
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def footprint(lat_deg, lon_deg, probability: float = 0.95) -> Footprint:
    """95 % polygon and hull of landing points (module notes)."""
    lat, lon = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
    if lat.size == 0:
        raise ValueError("no landing points")
    lat0, lon0 = _median(lat), _median(lon)
    en = _plane(lat, lon, lat0, lon0)
    if lat.size == 1:  # both polygons are the point
        point = _unplane(en, lat0, lon0)
        return Footprint(lat0, lon0, point[0], point[1], 0.0, point[0].copy(), point[1].copy(), 0.0)
    d = en - np.array([_median(en[:, 0]), _median(en[:, 1])])
    cov = np.cov(d.T) if lat.size > 2 else np.eye(2)
    cov = cov + 1e-6 * np.eye(2) * max(np.trace(cov), 1.0)
    m2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    keep = np.argsort(m2, kind="stable")[: max(1, int(np.ceil(probability * lat.size)))]
    v95, a95 = _hull(en[keep])
    vall, aall = _hull(en)
    p95 = _unplane(en[keep][v95], lat0, lon0)
    pall = _unplane(en[vall], lat0, lon0)
    return Footprint(lat0, lon0, p95[0], p95[1], a95, pall[0], pall[1], aall)


@numba.njit(cache=True)
def greatest_angle_rad(lat0_deg: float, lon0_deg: float, lat_deg: np.ndarray, lon_deg: np.ndarray) -> float:
    """The largest angle (rad) at the centre of a sphere between the point (lat0, lon0) and
    the points (lat, lon) (deg; Vincenty's form of the central angle, accurate from 0 to the
    antipode); 0 for no points."""
    la0, lo0 = math.radians(lat0_deg), math.radians(lon0_deg)
    s0, c0 = math.sin(la0), math.cos(la0)
    best = 0.0
    for i in range(lat_deg.shape[0]):
        la, dlon = math.radians(lat_deg[i]), math.radians(lon_deg[i]) - lo0
        s, c = math.sin(la), math.cos(la)
        y, x = c * math.sin(dlon), c0 * s - s0 * c * math.cos(dlon)
        best = max(best, math.atan2(math.hypot(y, x), s0 * s + c0 * c * math.cos(dlon)))
    return best


def places_near(fp: Footprint, place_lat_deg, place_lon_deg, margin_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """For places (P,): inside the 95 % polygon grown by ``margin_m`` (bool) and the
    distance (m) from the polygon (0 inside)."""
    lat, lon = np.atleast_1d(np.asarray(place_lat_deg, float)), np.atleast_1d(np.asarray(place_lon_deg, float))
    poly = _plane(fp.polygon95_lat_deg, fp.polygon95_lon_deg, fp.median_lat_deg, fp.median_lon_deg)
    pts = _plane(lat, lon, fp.median_lat_deg, fp.median_lon_deg)
    dist = _distances_to_polygon(pts, poly)
    return dist <= margin_m, dist


def polygon_reach_rad(fp: Footprint, margin_m: float) -> float:
    """The largest angle (rad) between the ellipsoid normals at the median landing point and
    at a ground point of the near hemisphere that lies within ``margin_m`` of the 95 %
    polygon as :func:`places_near` measures it (in the tangent plane): the polygon lies
    within its farthest vertex of the median, and a ground point whose normal makes the
    angle theta with the median's lies at least ``a (1 - e^2) sin(theta)`` from it in that
    plane (``a (1 - e^2)``: the least radius of curvature of the ellipsoid)."""
    poly = _plane(fp.polygon95_lat_deg, fp.polygon95_lon_deg, fp.median_lat_deg, fp.median_lon_deg)
    reach = float(np.max(np.hypot(poly[:, 0], poly[:, 1]))) + margin_m
    return math.asin(min(reach / (_WGS84.a_m * (1.0 - _WGS84.e2)), 1.0))


def _distances_to_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance from each point (P, 2) to a convex polygon (counter-clockwise vertices,
    (E, 2)); 0 inside."""
    pts = np.ascontiguousarray(pts, dtype=float).reshape(-1, 2)
    poly = np.ascontiguousarray(poly, dtype=float).reshape(-1, 2)
    if len(poly) == 0:
        return np.full(len(pts), np.inf)
    if len(poly) == 1:
        return np.hypot(*(pts - poly[0]).T)
    out = np.empty(len(pts))
    _polygon_distance_rows(pts, poly, out)
    return out


@numba.njit(cache=True)
def _polygon_distance_rows(pts, poly, out):
    """:func:`_distances_to_polygon` for two or more vertices: the nearest point of each edge
    (its parameter along the edge clipped to [0, 1]); inside when left of every edge."""
    n = poly.shape[0]
    for i in range(pts.shape[0]):
        best = math.inf
        inside = n >= 3
        for j in range(n):
            k = j + 1 if j + 1 < n else 0
            ax, ay = poly[j, 0], poly[j, 1]
            abx, aby = poly[k, 0] - ax, poly[k, 1] - ay
            apx, apy = pts[i, 0] - ax, pts[i, 1] - ay
            t = min(max((apx * abx + apy * aby) / max(abx * abx + aby * aby, 1e-300), 0.0), 1.0)
            best = min(best, math.hypot(apx - t * abx, apy - t * aby))
            inside = inside and abx * apy - aby * apx >= 0.0
        out[i] = 0.0 if inside else best
