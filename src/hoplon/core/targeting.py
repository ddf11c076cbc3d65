"""Ballistic targeting: the launch controls and burnout state that hit an aim point.

Given launch points, aim points, a trajectory profile and (optionally) a boost model,
:func:`solve_targeting` finds, for K launches at once, the controls whose full flight
(boost, then free flight with J2, rotation and drag) ends on the aim point:

* without boost (``boost=None``) the burnout is at the launch point and the controls are
  the burnout speed (the "energy"), flight-path angle (the "shape") and azimuth;
* with a :class:`~hoplon.core.boost.BoostParameters` model they are the thrust cutoff
  time (energy), the pitch-over kick angle (shape) and the launch azimuth.

Profiles:

``MINIMUM_ENERGY``
    the least energy that reaches the aim point (lowest burnout speed, or earliest
    cutoff): the shape that maximises range at that energy;
``FLIGHT_PATH_ANGLE``
    a prescribed burnout flight-path angle (above the minimum-energy angle: lofted;
    below: depressed);
``APOGEE``
    a prescribed apogee height above the ellipsoid.

Method: damped Newton iterations on (energy, shape) with finite-difference derivatives,
batched so that every iteration flies all launches and their perturbations in one call
of the integrator; the azimuth follows a fixed-point correction of the bearing of the
impact point seen from the launch point. For minimum energy the shape step is the
vertex of a parabola through three ranges (the maximum-range condition dR/dshape = 0).
Initial guesses come from the closed-form Keplerian solution on a sphere (Bate, Mueller
& White, *Fundamentals of Astrodynamics*, sec. 6.2). A solve to aim points a little
away from a solved one (a guidance error) starts instead from what that solution's
sensitivities predict (a model of range, bearing and the profile's condition, linear
in the controls and quadratic in the energy) and takes chord steps with its Jacobian,
each iterate held to the same convergence test.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from hoplon.core.ballistic import STATUS_IMPACT, _run
from hoplon.core.boost import BoostParameters, BurnoutState, fly_boost, vertical_rise
from hoplon.core.earth import EarthModel, earth_model, inverse_beta

__all__ = [
    "Profile",
    "TargetingSensitivities",
    "TargetingSolution",
    "solve_targeting",
    "keplerian_minimum_energy",
    "keplerian_speed_for_angle",
    "maximum_range",
    "is_lofted",
]

_R_MEAN_M = 6371008.8
_TARGETING_RTOL = 1e-11


class Profile(IntEnum):
    """Trajectory profile of a ballistic launch."""

    MINIMUM_ENERGY = 0
    FLIGHT_PATH_ANGLE = 1
    APOGEE = 2


class TargetingSolution(NamedTuple):
    """Solutions for K launches (arrays of length K; times after launch, SI units).

    ``ok`` is False where no solution exists (``message`` says why, e.g. beyond the
    maximum range, whose value ``max_range_m`` then holds); ``miss_m`` is the distance
    between the predicted impact and the aim point. ``kick_rad`` and ``cutoff_s`` are
    NaN without a boost model. ``sensitivities``: the derivatives of the impact with
    respect to the controls, where the solve was asked for them.
    """

    ok: np.ndarray
    message: list[str]
    miss_m: np.ndarray
    azimuth_rad: np.ndarray
    kick_rad: np.ndarray
    cutoff_s: np.ndarray
    burnout: BurnoutState
    free_flight_time_s: np.ndarray
    total_time_s: np.ndarray
    apogee_alt_m: np.ndarray
    apogee_time_s: np.ndarray
    impact_lat_deg: np.ndarray
    impact_lon_deg: np.ndarray
    impact_r_ecef_m: np.ndarray
    impact_v_ecef_mps: np.ndarray
    max_range_m: np.ndarray
    sensitivities: TargetingSensitivities | None = None


class TargetingSensitivities(NamedTuple):
    """How the flights of K solutions respond to their controls, for solves to nearby aim
    points (:func:`solve_targeting`'s ``initial``).

    The targeting function maps the controls (energy, shape, azimuth: cutoff s, kick rad
    and azimuth rad with a boost model; else burnout speed m/s, flight-path angle rad and
    azimuth rad) to (range m, bearing rad, shape residual): the range (central angle
    times the mean Earth radius, 6,371,008.8 m) and the initial bearing of the impact
    point seen from the launch point, and the profile's condition, zero at a solution
    (minimum energy: the range's derivative with respect to the shape, m per unit, by
    central differences over -+0.001 of the shape; a prescribed angle: the burnout
    flight-path angle less it, rad; a prescribed apogee: the apogee height less it, m).
    ``value`` (K, 3) is the function at the solution's controls, ``jacobian`` (K, 3, 3)
    its derivatives (rows: outputs, columns: controls) and ``energy_curvature`` (K, 3)
    the second derivatives of range and bearing with respect to the energy (the shape
    residual's is left at zero: at the steps the differences take, it is dominated by the
    roughness of the flights). Rows whose stencil would leave the controls' bounds, or
    that have no solution, are NaN.
    """

    value: np.ndarray
    jacobian: np.ndarray
    energy_curvature: np.ndarray


# --------------------------------------------------------------------------- closed forms


def keplerian_minimum_energy(range_angle_rad: np.ndarray, r_m: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-energy burnout speed (m/s) and flight-path angle (rad) on a sphere.

    BMW 6.2: gamma = (pi - Psi)/4, Q = 2 sin(Psi/2) / (1 + sin(Psi/2)), v = sqrt(Q mu / r),
    for a free-flight range angle Psi between burnout and re-entry at equal radius r.
    """
    sp = np.sin(np.asarray(range_angle_rad) / 2.0)
    q = 2.0 * sp / (1.0 + sp)
    return np.sqrt(q * mu / r_m), (np.pi - np.asarray(range_angle_rad)) / 4.0


def keplerian_speed_for_angle(
    range_angle_rad: np.ndarray, gamma_rad: np.ndarray, r_m: np.ndarray, mu: float
) -> np.ndarray:
    """Burnout speed (m/s) for range angle Psi at flight-path angle gamma on a sphere.

    From the flight-path-angle equation (BMW 6.2): Q = 2 sin(Psi/2) / (sin(2 gamma + Psi/2) + sin(Psi/2)).
    """
    half = np.asarray(range_angle_rad) / 2.0
    q = 2.0 * np.sin(half) / (np.sin(2.0 * np.asarray(gamma_rad) + half) + np.sin(half))
    return np.sqrt(q * mu / r_m)


def _keplerian_apogee_radius(range_angle_rad, gamma_rad, r_m):
    half = range_angle_rad / 2.0
    q = 2.0 * np.sin(half) / (np.sin(2.0 * gamma_rad + half) + np.sin(half))
    a = r_m / (2.0 - q)
    e = np.sqrt(np.maximum(1.0 + q * (q - 2.0) * np.cos(gamma_rad) ** 2, 0.0))
    return a * (1.0 + e)


def _keplerian_angle_for_apogee(range_angle_rad, apogee_radius_m, r_m, lofted: np.ndarray) -> np.ndarray:
    """Flight-path angle whose Keplerian arc has the given apogee radius (bisection)."""
    g_opt = (np.pi - range_angle_rad) / 4.0
    lo = np.where(lofted, g_opt, 1e-4)
    hi = np.where(lofted, np.pi / 2 - 1e-4, g_opt)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = _keplerian_apogee_radius(range_angle_rad, mid, r_m) > apogee_radius_m
        # the apogee grows with the angle
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- geometry


def _unit(lat_deg, lon_deg):
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _range_and_bearing(lat1, lon1, lat2, lon2):
    """Spherical central angle (rad) and initial bearing (rad) -- a smooth local chart
    around the launch point in which the impact and the aim point are compared."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    ang = np.arctan2(
        np.hypot(np.cos(p2) * np.sin(dl), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)),
        np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl),
    )
    brg = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return ang, brg


def _wrap(a):
    return (a + np.pi) % (2.0 * np.pi) - np.pi


# --------------------------------------------------------------------------- flights


class _Flights(NamedTuple):
    ok: np.ndarray
    range_m: np.ndarray
    bearing_rad: np.ndarray
    fpa_rad: np.ndarray
    apogee_alt_m: np.ndarray
    burnout: BurnoutState
    status: np.ndarray
    t_ff: np.ndarray
    y_end: np.ndarray
    apogee: np.ndarray


def _rows(batch, sel):
    """Rows ``sel`` of a batch of flights (a :class:`_Flights` or its nested burnout)."""
    return type(batch)(*(_rows(x, sel) if isinstance(x, tuple) else x[sel] for x in batch))


def _gather(pieces: list[tuple[np.ndarray, _Flights]], k: int) -> _Flights:
    """The flights of launches 0..k-1 from pieces (launch indices, their flights) that
    together hold each launch once."""
    order = np.argsort(np.concatenate([idx for idx, _ in pieces]), kind="stable")

    def join(parts):
        if isinstance(parts[0], tuple):
            return type(parts[0])(*(join(field) for field in zip(*parts)))
        return np.concatenate(parts)[order]

    return join([fl for _, fl in pieces])


class _Problem:
    """K launches: their geometry, physics and boost; flies batches of controls."""

    def __init__(self, launch, aim, beta, boost, model: EarthModel):
        self.launch_lat, self.launch_lon, self.launch_alt = launch
        self.aim_lat, self.aim_lon, self.aim_alt = aim
        self.k = self.launch_lat.shape[0]
        self.inv_beta = inverse_beta(beta, self.k)
        self.boost = boost.broadcast(self.k) if boost is not None else None
        self.vertical = (
            vertical_rise(self.launch_lat, self.launch_lon, self.launch_alt, boost=self.boost, earth=model)
            if self.boost is not None
            else None
        )
        self.model = model
        self.params = model.params()
        from hoplon.core.frames import geodetic_to_ecef  # noqa: PLC0415

        self.r_launch = np.atleast_2d(geodetic_to_ecef(self.launch_lat, self.launch_lon, self.launch_alt, earth=model))
        self.r_aim = np.atleast_2d(geodetic_to_ecef(self.aim_lat, self.aim_lon, self.aim_alt, earth=model))
        ang, brg = _range_and_bearing(self.launch_lat, self.launch_lon, self.aim_lat, self.aim_lon)
        self.target_angle = ang
        self.target_range_m = ang * _R_MEAN_M
        self.target_bearing = brg

    def inv_beta_to_beta(self, idx) -> np.ndarray:
        """Ballistic coefficients (kg/m^2) of launches ``idx`` (inf: no drag)."""
        with np.errstate(divide="ignore"):
            return 1.0 / self.inv_beta[idx]

    def burnout(self, idx, energy, shape, azimuth) -> BurnoutState:
        if self.boost is None:
            r = self.r_launch[idx]
            up = _unit(self.launch_lat[idx], self.launch_lon[idx])
            lo = np.radians(self.launch_lon[idx])
            la = np.radians(self.launch_lat[idx])
            east = np.stack([-np.sin(lo), np.cos(lo), np.zeros_like(lo)], axis=-1)
            north = np.stack([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)], axis=-1)
            horiz = np.sin(azimuth)[:, None] * east + np.cos(azimuth)[:, None] * north
            v = energy[:, None] * (np.cos(shape)[:, None] * horiz + np.sin(shape)[:, None] * up)
            return BurnoutState(np.zeros(len(idx)), r.copy(), v, shape.copy(), energy.copy())
        burnout, _ = fly_boost(
            self.launch_lat[idx], self.launch_lon[idx], self.launch_alt[idx],
            azimuth_rad=azimuth, kick_rad=shape, cutoff_s=energy, boost=self.boost.take(idx), earth=self.model,
            vertical=self.vertical[idx],
        )
        return burnout

    def fly(self, idx, energy, shape, azimuth) -> _Flights:
        from hoplon.core.frames import ecef_to_geodetic  # noqa: PLC0415

        bo = self.burnout(idx, energy, shape, azimuth)
        status, t_end, y_end, apogee, *_ = _run(
            np.ascontiguousarray(bo.r_ecef_m), np.ascontiguousarray(bo.v_ecef_mps), self.inv_beta[idx], self.model,
            t_max=7200.0, stop_at_ground=True, stop_at_apogee=False, rtol=_TARGETING_RTOL,
            ground_alt_m=self.aim_alt[idx],
        )
        geo = ecef_to_geodetic(y_end[:, :3], earth=self.model)
        ang, brg = _range_and_bearing(self.launch_lat[idx], self.launch_lon[idx], geo.lat_deg, geo.lon_deg)
        bo_alt = ecef_to_geodetic(bo.r_ecef_m, earth=self.model).alt_m
        ok = (status == STATUS_IMPACT) & (bo_alt >= self.launch_alt[idx] - 1.0) & (bo.flight_path_angle_rad > 0)
        return _Flights(ok, ang * _R_MEAN_M, brg, bo.flight_path_angle_rad, apogee[:, 7], bo, status, t_end, y_end, apogee)


# --------------------------------------------------------------------------- the solver

_SENSITIVITY_AZIMUTH_STEP_RAD = 1e-4
_CHORD_ITERATIONS = 4


def _vertex_step(dr_ds, curvature, eps):
    """Minimum energy: the shape step to the vertex of the parabola through three ranges
    (slope ``dr_ds``, ``curvature``), or a step of 10 ``eps`` uphill where the range is
    not concave; at most 0.1."""
    step = np.where(curvature < 0, -dr_ds / np.where(curvature < 0, curvature, -1.0), np.sign(dr_ds) * 10 * eps)
    return np.clip(step, -0.1, 0.1)


class _Evaluation(NamedTuple):
    value: np.ndarray  # (n, 3) the targeting function (TargetingSensitivities)
    shape_derivative: np.ndarray  # (n, 3) its derivatives with respect to the shape
    shape_step: np.ndarray  # (n,) what the convergence test holds under 1e-6
    ok: np.ndarray  # all its flights ok
    base: _Flights


def _evaluate(problem: _Problem, idx, energy, shape, azimuth, prof, value, eps, s_lo, s_hi, variants) -> _Evaluation:
    """Fly launches ``idx`` with the given controls, and those where ``variants`` with
    the shape moved by -+``eps`` too (within its bounds; minimum energy needs them): the
    targeting function and its shape derivative there (NaN where not flown), and the
    measure of the shape's convergence the solver uses (minimum energy: the step to the
    parabola's vertex, rad; prescribed angle: its residual, rad; apogee: its residual in
    units of 1,000 km, so that 1e-6 is 1 m)."""
    n, v = idx.size, np.flatnonzero(variants)
    s_m, s_p = np.clip(shape[v] - eps, s_lo[idx[v]], s_hi[idx[v]]), np.clip(shape[v] + eps, s_lo[idx[v]], s_hi[idx[v]])
    fl = problem.fly(
        np.concatenate([idx, idx[v], idx[v]]), np.concatenate([energy, energy[v], energy[v]]),
        np.concatenate([shape, s_m, s_p]), np.concatenate([azimuth, azimuth[v], azimuth[v]]),
    )

    def spread(x):
        """(the base flights, shape -eps, shape +eps) of each launch, NaN where not flown"""
        out = np.full((3, n), np.nan)
        out[0], out[1:, v] = x[:n], x[n:].reshape(2, v.size)
        return out

    d_shape = np.full(n, np.nan)
    d_shape[v] = np.where(s_p > s_m, s_p - s_m, np.nan)
    r0, r_m, r_p = spread(fl.range_m)
    bearing = spread(fl.bearing_rad)
    p = prof[idx]
    me, apo = p == Profile.MINIMUM_ENERGY, p == Profile.APOGEE
    condition = np.where(apo, spread(fl.apogee_alt_m), spread(fl.fpa_rad)) - value[idx]
    dr_ds = (r_p - r_m) / d_shape
    curvature = (r_p - 2.0 * r0 + r_m) / eps**2
    ok = fl.ok[:n].copy()
    ok[v] &= fl.ok[n:].reshape(2, v.size).all(axis=0)
    return _Evaluation(
        value=np.column_stack([r0, bearing[0], np.where(me, dr_ds, condition[0])]),
        shape_derivative=np.column_stack([
            dr_ds, _wrap(bearing[2] - bearing[1]) / d_shape,
            np.where(me, curvature, (condition[2] - condition[1]) / d_shape),
        ]),
        shape_step=np.where(me, _vertex_step(dr_ds, curvature, eps), np.where(apo, 1e-6, 1.0) * condition[0]),
        ok=ok,
        base=_rows(fl, np.arange(n)),
    )


def _sensitivities(problem: _Problem, idx, energy, shape, azimuth, prof, value, h_e, eps, bounds) -> TargetingSensitivities:
    """The targeting function of launches ``idx`` at their controls and its derivatives,
    by central differences (energy step ``h_e``, shape step ``eps``); NaN for launches
    whose stencil leaves the ``bounds`` (e_lo, e_hi, s_lo, s_hi) or does not fly."""
    e_lo, e_hi, s_lo, s_hi = bounds
    n, h_a = idx.size, _SENSITIVITY_AZIMUTH_STEP_RAD
    # the controls, then energy +-h_e and azimuth +-h_a
    d_e, d_a = np.array([0.0, h_e, -h_e, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, h_a, -h_a])
    ev = _evaluate(
        problem, np.tile(idx, 5), (energy[idx] + d_e[:, None]).ravel(), np.tile(shape[idx], 5),
        (azimuth[idx] + d_a[:, None]).ravel(), prof, value, eps, s_lo, s_hi, np.ones(5 * n, dtype=bool),
    )
    f = ev.value.reshape(5, n, 3)

    def difference(plus, minus):
        d = plus - minus
        d[:, 1] = _wrap(d[:, 1])
        return d

    jacobian = np.stack(
        [difference(f[1], f[2]) / (2.0 * h_e), ev.shape_derivative[:n], difference(f[3], f[4]) / (2.0 * h_a)], axis=2
    )
    curvature = (difference(f[1], f[0]) - difference(f[0], f[2])) / h_e**2
    curvature[:, 2] = 0.0
    usable = (
        ev.ok.reshape(5, n).all(axis=0)
        & (energy[idx] - h_e >= e_lo[idx]) & (energy[idx] + h_e <= e_hi[idx])
        & (shape[idx] - eps >= s_lo[idx]) & (shape[idx] + eps <= s_hi[idx])
    )
    out = TargetingSensitivities(
        value=np.full((problem.k, 3), np.nan), jacobian=np.full((problem.k, 3, 3), np.nan),
        energy_curvature=np.full((problem.k, 3), np.nan),
    )
    out.value[idx[usable]] = f[0][usable]
    out.jacobian[idx[usable]] = jacobian[usable]
    out.energy_curvature[idx[usable]] = curvature[usable]
    return out


def _solve3(jacobian, rhs):
    """Solutions x of the (n, 3, 3) systems ``jacobian @ x = rhs``, their rows scaled to
    a largest coefficient of 1."""
    scale = 1.0 / np.abs(jacobian).max(axis=2)
    return np.linalg.solve(jacobian * scale[:, :, None], (rhs * scale)[:, :, None])[:, :, 0]


def _warm_solve(problem: _Problem, idx, controls, sens: TargetingSensitivities, prof, value, eps, bounds, tol_m):
    """Solve launches ``idx`` from a solution to nearby aim points (its ``controls``,
    (n, 3)) and its sensitivities: the controls the targeting function's second-order
    model (in the energy) predicts, then chord Newton steps with the solution's Jacobian,
    each iterate flown and held to the main iteration's convergence test.

    Returns which launches converged, their controls (n, 3) and the flights at them.
    """
    e_lo, e_hi, s_lo, s_hi = bounds
    jacobian, curvature = sens.jacobian[idx], sens.energy_curvature[idx]
    target = np.column_stack([problem.target_range_m[idx], problem.target_bearing[idx], np.zeros(idx.size)])

    def residual(f, rows):
        r = f - target[rows]
        r[:, 1] = _wrap(r[:, 1])
        return r

    res = residual(sens.value[idx], slice(None))
    step = _solve3(jacobian, res)
    step = _solve3(jacobian, res + 0.5 * curvature * step[:, :1] ** 2)  # the small second-order term
    x = controls - step
    converged = np.zeros(idx.size, dtype=bool)
    active = np.ones(idx.size, dtype=bool)  # neither converged nor given up (a flight failed)
    flown = []
    for _ in range(_CHORD_ITERATIONS):
        todo = np.flatnonzero(active)
        if todo.size == 0:
            break
        rows = idx[todo]
        x[todo, 0] = np.clip(x[todo, 0], e_lo[rows], e_hi[rows])
        x[todo, 1] = np.clip(x[todo, 1], s_lo[rows], s_hi[rows])
        ev = _evaluate(problem, rows, x[todo, 0], x[todo, 1], x[todo, 2], prof, value, eps, s_lo, s_hi,
                       prof[rows] == Profile.MINIMUM_ENERGY)
        res = residual(ev.value, todo)
        miss = np.hypot(res[:, 0], res[:, 1] * problem.target_range_m[rows])
        hit = ev.ok & (miss < tol_m) & (np.abs(ev.shape_step) < 1e-6)
        converged[todo] = hit
        flown.append((rows[hit], _rows(ev.base, np.flatnonzero(hit))))
        go_on = ~hit & ev.ok & np.isfinite(res).all(axis=1)
        active[todo] = go_on
        x[todo[go_on]] -= _solve3(jacobian[todo[go_on]], res[go_on])
    return converged, x, flown


def _initial_shape_angle(problem: _Problem, profile, value):
    """Desired burnout flight-path angle from the spherical closed form."""
    r = np.linalg.norm(problem.r_launch, axis=1)
    psi = problem.target_angle
    gamma = np.where(profile == Profile.MINIMUM_ENERGY, (np.pi - psi) / 4.0, 0.0)
    gamma = np.where(profile == Profile.FLIGHT_PATH_ANGLE, value, gamma)
    is_apo = profile == Profile.APOGEE
    if np.any(is_apo):
        lofted = (value + problem.model.a_m) > _keplerian_apogee_radius(psi, (np.pi - psi) / 4.0, r)
        gamma_apo = _keplerian_angle_for_apogee(psi, value + _R_MEAN_M, r, lofted)
        gamma = np.where(is_apo, gamma_apo, gamma)
    return gamma


def _kick_for_angle(problem: _Problem, idx, gamma, cutoff, azimuth):
    """Kick angle whose gravity turn reaches burnout flight-path angle gamma (Illinois)."""
    lo = np.full(len(idx), 1e-4)
    hi = np.full(len(idx), 1.2)

    def g(kick):
        return problem.burnout(idx, cutoff, kick, azimuth).flight_path_angle_rad - gamma

    glo, ghi = g(lo), g(hi)
    # the burnout angle falls as the kick grows; clamp where gamma is not bracketed
    kick = np.where(glo < 0, lo, np.where(ghi > 0, hi, 0.5 * (lo + hi)))
    active = (glo >= 0) & (ghi <= 0)
    for _ in range(40):
        if not np.any(active):
            break
        x = np.where(active, (lo * ghi - hi * glo) / (ghi - glo), kick)
        x = np.where((x > lo) & (x < hi), x, 0.5 * (lo + hi))
        gx = g(x)
        pos = gx > 0
        lo = np.where(active & pos, x, lo)
        glo = np.where(active & pos, gx, np.where(active & ~pos, glo * 0.5, glo))
        hi = np.where(active & ~pos, x, hi)
        ghi = np.where(active & ~pos, gx, np.where(active & pos, ghi * 0.5, ghi))
        kick = np.where(active, x, kick)
        active &= np.abs(gx) > 1e-6  # an initial guess: a microradian is plenty
    return kick


def solve_targeting(
    launch_lat_deg,
    launch_lon_deg,
    launch_alt_m,
    aim_lat_deg,
    aim_lon_deg,
    aim_alt_m,
    *,
    beta_kg_m2,
    profile=Profile.MINIMUM_ENERGY,
    profile_value=np.nan,
    boost: BoostParameters | None = None,
    earth: str | EarthModel = "wgs84",
    tol_m: float = 0.05,
    max_iterations: int = 60,
    initial: TargetingSolution | None = None,
    sensitivities: bool = False,
) -> TargetingSolution:
    """Solve K ballistic targeting problems at once.

    Launch and aim points are geodetic (deg, deg, m above the ellipsoid); the impact is
    where the re-entering body (ballistic coefficient ``beta_kg_m2``) descends through
    the aim point's height. ``profile`` is a :class:`Profile` (scalar or (K,));
    ``profile_value`` the burnout flight-path angle (rad) or apogee height (m) it needs.
    ``initial``: a solution of the same K launches and profiles to nearby aim points
    (e.g. before a guidance error moved them); its controls start the iteration, which
    then takes a few Newton steps instead of searching (rows it did not solve start
    cold). Where it holds sensitivities, the controls its targeting function predicts
    for the moved aim points are flown first and refined by chord steps (for aim points
    moved by a guidance error usually one flight of each launch, and of its two shape
    variants for minimum energy; rows that do not converge so go on from its controls
    as above). ``sensitivities``: also return the derivatives of the
    impact with respect to the controls (15 more flights per launch), for such solves.
    """
    model = earth_model(earth)

    def arr(x):
        return np.atleast_1d(np.asarray(x, dtype=np.float64))

    launch = np.broadcast_arrays(arr(launch_lat_deg), arr(launch_lon_deg), arr(launch_alt_m), arr(aim_lat_deg))
    k = launch[0].shape[0]
    launch = [np.ascontiguousarray(np.broadcast_to(x, (k,))) for x in launch[:3]]
    aim = [np.ascontiguousarray(np.broadcast_to(arr(x), (k,))) for x in (aim_lat_deg, aim_lon_deg, aim_alt_m)]
    prof = np.broadcast_to(np.asarray(profile, dtype=np.int64), (k,)).copy()
    value = np.broadcast_to(arr(profile_value), (k,)).copy()
    if boost is not None:
        boost.broadcast(k).check()
    problem = _Problem(launch, aim, beta_kg_m2, boost, model)
    # geometry no trajectory can serve: too close, or so nearly antipodal that the
    # direction of fire is undefined
    invalid = np.full(k, "", dtype=object)
    invalid[problem.target_range_m < 1000.0] = "the aim point must be at least 1 km from the launch point"
    invalid[problem.target_angle > math.pi - 0.05] = (
        "the aim point is nearly antipodal to the launch point: the direction of fire is undefined"
    )

    gamma0 = _initial_shape_angle(problem, prof, value)
    azimuth = problem.target_bearing.copy()
    all_idx = np.arange(k)
    warm = initial is not None and len(initial.ok) == k and bool(np.all(initial.ok))
    if problem.boost is None:
        r = np.linalg.norm(problem.r_launch, axis=1)
        if warm:  # burnout speed and flight-path angle
            energy = initial.burnout.speed_mps.copy()
            shape, azimuth = initial.burnout.flight_path_angle_rad.copy(), initial.azimuth_rad.copy()
        else:
            energy = keplerian_speed_for_angle(problem.target_angle, gamma0, r, model.mu_m3_s2)
            shape = gamma0.copy()
        e_lo = np.full(k, 10.0)
        e_hi = np.full(k, 0.98 * np.sqrt(2.0 * model.mu_m3_s2 / r))
        s_lo, s_hi = np.full(k, 1e-3), np.full(k, np.pi / 2 - 1e-3)
        eta, eps = 0.01, 1e-3
    else:
        bp = problem.boost
        e_lo = bp.vertical_rise_s + 0.05 * (bp.burn_time_s - bp.vertical_rise_s)
        e_hi = bp.burn_time_s.copy()
        s_lo, s_hi = np.full(k, 1e-4), np.full(k, 1.2)
        eta, eps = 1e-3, 1e-3
        if warm:
            energy, shape, azimuth = initial.cutoff_s.copy(), initial.kick_rad.copy(), initial.azimuth_rad.copy()
        else:
            # energy guess: the cutoff of a coarse grid whose range first exceeds the target
            shape = _kick_for_angle(problem, all_idx, gamma0, e_hi, azimuth)
            grid = np.linspace(0.0, 1.0, 9)[1:]
            ge = e_lo[:, None] + grid[None, :] * (e_hi - e_lo)[:, None]
            rep = np.repeat(all_idx, grid.size)
            fl = problem.fly(rep, ge.ravel(), np.repeat(shape, grid.size), np.repeat(azimuth, grid.size))
            rng_grid = np.where(fl.ok, fl.range_m, -np.inf).reshape(k, grid.size)
            above = rng_grid >= problem.target_range_m[:, None]
            first = np.where(above.any(axis=1), above.argmax(axis=1), grid.size - 1)
            energy = ge[all_idx, first]
    fixed_shape = (problem.boost is None) & (prof == Profile.FLIGHT_PATH_ANGLE)
    done = invalid != ""
    capped = np.zeros(k, dtype=int)
    flown = []  # (launches, their flights) at their final controls
    bounds = (e_lo, e_hi, s_lo, s_hi)
    if warm and initial.sensitivities is not None:
        # predicted from the sensitivities and verified; the rest start from the controls
        jac = initial.sensitivities.jacobian
        usable = np.isfinite(jac).all(axis=(1, 2)) & ~done
        usable[usable] = np.linalg.det(jac[usable]) != 0.0
        idx = np.flatnonzero(usable)
        controls = np.column_stack([energy, shape, azimuth])[idx]
        converged, x, chord_flown = _warm_solve(problem, idx, controls, initial.sensitivities, prof, value, eps, bounds,
                                                tol_m)
        idx, x = idx[converged], x[converged]
        energy[idx], shape[idx], azimuth[idx] = x[:, 0], x[:, 1], x[:, 2]
        done[idx] = True
        flown += chord_flown
    for _ in range(max_iterations):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        e, s, a = energy[idx], shape[idx], azimuth[idx]
        n = idx.size
        # energy perturbation: forward, or backward at the upper bound
        d_e = np.where(e + eta <= e_hi[idx], eta, -eta)
        # base, energy+, shape-, shape+ (the last two only where the shape is free)
        fl = problem.fly(
            np.concatenate([idx, idx, idx, idx]),
            np.concatenate([e, e + d_e, e, e]),
            np.concatenate([s, s, np.clip(s - eps, s_lo[idx], s_hi[idx]), np.clip(s + eps, s_lo[idx], s_hi[idx])]),
            np.concatenate([a, a, a, a]),
        )
        base = slice(0, n)
        r0, r_e, r_m, r_p = (fl.range_m[i * n : (i + 1) * n] for i in range(4))
        ok_all = fl.ok.reshape(4, n).all(axis=0)
        res_r = r0 - problem.target_range_m[idx]
        res_az = _wrap(fl.bearing_rad[base] - problem.target_bearing[idx])
        dr_de = (r_e - r0) / d_e
        ds_m = np.clip(s - eps, s_lo[idx], s_hi[idx])
        ds_p = np.clip(s + eps, s_lo[idx], s_hi[idx])
        d_shape = np.where(ds_p > ds_m, ds_p - ds_m, np.nan)  # nan where both ends are clipped
        dr_ds = (r_p - r_m) / d_shape
        p = prof[idx]
        new_e = e.copy()
        new_s = s.copy()
        shape_res = np.zeros(n)
        # minimum energy: parabola vertex in shape, Newton in energy
        me = p == Profile.MINIMUM_ENERGY
        if np.any(me):
            step = _vertex_step(dr_ds, (r_p - 2.0 * r0 + r_m) / eps**2, eps)
            new_s = np.where(me, s + step, new_s)
            shape_res = np.where(me, step, shape_res)
            new_e = np.where(me, e - res_r / np.where(dr_de > 0, dr_de, np.nan), new_e)
        # prescribed angle or apogee: 2x2 Newton on (range, profile residual)
        two = (p != Profile.MINIMUM_ENERGY) & ~fixed_shape[idx]
        if np.any(two):
            g0 = np.where(p == Profile.APOGEE, fl.apogee_alt_m[base], fl.fpa_rad[base]) - value[idx]
            g_e = np.where(p == Profile.APOGEE, fl.apogee_alt_m[n : 2 * n], fl.fpa_rad[n : 2 * n]) - value[idx]
            g_m = np.where(p == Profile.APOGEE, fl.apogee_alt_m[2 * n : 3 * n], fl.fpa_rad[2 * n : 3 * n])
            g_p = np.where(p == Profile.APOGEE, fl.apogee_alt_m[3 * n :], fl.fpa_rad[3 * n :])
            dg_de = (g_e - g0) / d_e
            dg_ds = (g_p - g_m) / d_shape
            det = dr_de * dg_ds - dr_ds * dg_de
            det = np.where(det != 0, det, np.nan)
            de = -(dg_ds * res_r - dr_ds * g0) / det
            dsh = -(-dg_de * res_r + dr_de * g0) / det
            new_e = np.where(two, e + de, new_e)
            new_s = np.where(two, s + np.clip(dsh, -0.1, 0.1), new_s)
            # normalised so that 1e-6 means 1 m of apogee or 1 microradian of angle
            shape_res = np.where(two, np.where(p == Profile.APOGEE, g0 * 1e-6, g0), shape_res)
        one = fixed_shape[idx]
        if np.any(one):
            new_e = np.where(one, e - res_r / np.where(dr_de > 0, dr_de, np.nan), new_e)
        # damping: never more than half-way to an energy bound in one step
        bad = ~np.isfinite(new_e) | ~ok_all
        new_e = np.where(bad, 0.5 * (e + e_hi[idx]), new_e)
        lo_lim = e - 0.5 * (e - e_lo[idx])
        new_e = np.clip(new_e, lo_lim, e_hi[idx])
        new_s = np.clip(np.where(np.isfinite(new_s), new_s, s), s_lo[idx], s_hi[idx])
        at_cap = (e >= e_hi[idx] * (1 - 1e-12)) & (res_r < 0)
        capped[idx] = np.where(at_cap, capped[idx] + 1, 0)
        miss_est = np.hypot(res_r, res_az * problem.target_range_m[idx])
        converged = ok_all & (miss_est < tol_m) & (np.abs(shape_res) < 1e-6)
        energy[idx] = np.where(converged, e, new_e)
        shape[idx] = np.where(converged, s, new_s)
        azimuth[idx] = np.where(converged, a, a - res_az)
        done[idx] |= converged | (capped[idx] >= 4)
        flown.append((idx[converged], _rows(fl, np.flatnonzero(converged))))
    # a final flight for the launches whose controls have not flown as they are
    rest = np.setdiff1d(all_idx, np.concatenate([i for i, _ in flown] + [np.empty(0, dtype=np.int64)]))
    if rest.size:
        flown.append((rest, problem.fly(rest, energy[rest], shape[rest], azimuth[rest])))
    fl = _gather(flown, k)
    geo_lat, geo_lon = _impact_geodetic(fl.y_end[:, :3], model)
    miss = np.linalg.norm(fl.y_end[:, :3] - problem.r_aim, axis=1)
    ok = fl.ok & (miss < max(100.0, 10 * tol_m)) & (invalid == "")
    messages = []
    max_range = np.full(k, np.nan)
    short = ~ok & (invalid == "") & ((capped >= 4) | ((energy >= e_hi * (1 - 1e-9)) & (fl.range_m < problem.target_range_m)))
    max_range[short] = fl.range_m[short]
    best = short & (prof == Profile.MINIMUM_ENERGY) & (problem.boost is not None)
    if np.any(best):
        # the true maximum range at full burn (the capped iterate may not have its best shape)
        idx = np.flatnonzero(best)
        max_range[idx] = maximum_range(
            problem.launch_lat[idx], problem.launch_lon[idx], problem.launch_alt[idx], azimuth_rad=azimuth[idx],
            beta_kg_m2=problem.inv_beta_to_beta(idx), boost=problem.boost.take(idx), earth=model,
        )[0]
    for i in range(k):
        if ok[i]:
            messages.append("")
        elif invalid[i]:
            messages.append(str(invalid[i]))
        elif short[i]:
            messages.append(
                f"the aim point is {problem.target_range_m[i] / 1e3:.0f} km away, beyond the "
                f"{max_range[i] / 1e3:.0f} km this missile reaches"
                + ("" if prof[i] == Profile.MINIMUM_ENERGY else " with this profile")
            )
        else:
            messages.append(f"no trajectory found (closest approach to the aim point {miss[i] / 1e3:.1f} km)")
    nan = np.full(k, np.nan)
    # the energy step ten times the iteration's: about the moves a guidance error asks for
    sens = (
        _sensitivities(problem, np.flatnonzero(ok), energy, shape, azimuth, prof, value, 10.0 * eta, eps, bounds)
        if sensitivities
        else None
    )
    return TargetingSolution(
        ok=ok,
        message=messages,
        miss_m=miss,
        azimuth_rad=azimuth,
        kick_rad=shape if problem.boost is not None else nan,
        cutoff_s=energy if problem.boost is not None else nan,
        burnout=fl.burnout,
        free_flight_time_s=fl.t_ff,
        total_time_s=fl.burnout.time_s + fl.t_ff,
        apogee_alt_m=fl.apogee[:, 7].copy(),
        apogee_time_s=fl.burnout.time_s + fl.apogee[:, 0],
        impact_lat_deg=geo_lat,
        impact_lon_deg=geo_lon,
        impact_r_ecef_m=fl.y_end[:, :3].copy(),
        impact_v_ecef_mps=fl.y_end[:, 3:].copy(),
        max_range_m=max_range,
        sensitivities=sens,
    )


def is_lofted(
    profile: np.ndarray, profile_value: np.ndarray, minimum_energy: TargetingSolution
) -> np.ndarray:
    """Whether prescribed profiles lie above (lofted) the minimum-energy trajectory to the
    same aim points: a higher apogee, or a steeper burnout flight-path angle."""
    profile = np.asarray(profile)
    return np.where(
        profile == Profile.APOGEE,
        np.asarray(profile_value) > minimum_energy.apogee_alt_m,
        np.asarray(profile_value) > minimum_energy.burnout.flight_path_angle_rad,
    )


def maximum_range(
    launch_lat_deg,
    launch_lon_deg,
    launch_alt_m,
    *,
    azimuth_rad,
    beta_kg_m2,
    boost: BoostParameters,
    earth: str | EarthModel = "wgs84",
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum ground range (m) of K boosted launches at full burn, and the kick (rad) that
    gives it, by golden-section search over the kick angle.

    The range is the spherical distance from the launch point to the impact point
    (the measure :func:`solve_targeting` reports for out-of-range aim points).
    """
    model = earth_model(earth)
    lat = np.atleast_1d(np.asarray(launch_lat_deg, dtype=np.float64))
    k = lat.shape[0]
    lon = np.broadcast_to(np.asarray(launch_lon_deg, dtype=np.float64), (k,)).copy()
    alt = np.broadcast_to(np.asarray(launch_alt_m, dtype=np.float64), (k,)).copy()
    az = np.broadcast_to(np.asarray(azimuth_rad, dtype=np.float64), (k,)).copy()
    # a dummy aim point 10 km downrange only defines the problem's geometry
    aim_lat = lat + np.degrees(1e4 / _R_MEAN_M) * np.cos(az)
    problem = _Problem((lat, lon, alt), (aim_lat, lon, np.zeros(k)), beta_kg_m2, boost, model)
    cutoff = problem.boost.burn_time_s
    idx = np.arange(k)

    def rng(kick):
        fl = problem.fly(idx, cutoff, kick, az)
        return np.where(fl.ok, fl.range_m, 0.0)

    golden = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = np.full(k, 1e-3), np.full(k, 0.8)
    x1, x2 = hi - golden * (hi - lo), lo + golden * (hi - lo)
    f1, f2 = rng(x1), rng(x2)
    for _ in range(40):
        left = f1 > f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + golden * (hi - lo))
        x1n = np.where(left, hi - golden * (hi - lo), x2)
        f_new = rng(np.where(left, x1n, x2n))
        f1, f2 = np.where(left, f_new, f2), np.where(left, f1, f_new)
        x1, x2 = x1n, x2n
    best = 0.5 * (lo + hi)
    return rng(best), best


def _impact_geodetic(r, model):
    from hoplon.core.frames import ecef_to_geodetic  # noqa: PLC0415

    geo = ecef_to_geodetic(r, earth=model)
    return np.asarray(geo.lat_deg), np.asarray(geo.lon_deg)

