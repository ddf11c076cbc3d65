"""Interceptor fly-out and engagement windows, batched over batteries x threats x times.

Fly-out model (documented, notional in its parameters): the interceptor accelerates
uniformly to its burnout speed v_b over the burnout time t_b, covering s_b = v_b t_b / 2,
then coasts with a speed that decays as v_b / (1 + (t - t_b) / tau) (drag and gravity
losses lumped into one decay time tau), covering v_b tau ln(1 + (t - t_b) / tau). The
time to fly a slant distance d is therefore

    t(d) = sqrt(2 d t_b / v_b)                              for d <= s_b
    t(d) = t_b + tau (exp((d - s_b) / (v_b tau)) - 1)       for d >  s_b

An intercept of a threat at position p(t) from a battery at b is feasible at time t when
min_range <= |p - b| <= max_range, min_altitude <= altitude(p) <= max_altitude,
t(|p - b|) <= max_flight_time, and the launch time t - t(|p - b|) - launch_delay is not
before the decision time.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from hoplon.core.frames import _ecef_to_height_array

__all__ = ["EngagementWindows", "FlyoutParameters", "engagement_windows", "flyout_distance_m", "flyout_speed_mps", "flyout_time_s"]


class FlyoutParameters(NamedTuple):
    """Per-battery (B,) arrays of the fly-out model and feasibility limits (SI units)."""

    burnout_speed_mps: np.ndarray
    burnout_time_s: np.ndarray
    coast_decay_time_s: np.ndarray
    max_flight_time_s: np.ndarray
    min_range_m: np.ndarray
    max_range_m: np.ndarray
    min_altitude_m: np.ndarray
    max_altitude_m: np.ndarray
    launch_delay_s: np.ndarray


def flyout_time_s(distance_m, burnout_speed_mps, burnout_time_s, coast_decay_time_s) -> np.ndarray:
    """Time (s) for an interceptor to fly ``distance_m`` (broadcasting arrays)."""
    d = np.asarray(distance_m, float)
    vb, tb, tau = (np.asarray(x, float) for x in (burnout_speed_mps, burnout_time_s, coast_decay_time_s))
    sb = 0.5 * vb * tb
    boost = np.sqrt(2.0 * np.maximum(d, 0.0) * tb / vb)
    with np.errstate(over="ignore"):  # beyond any reach: inf
        coast = tb + tau * np.expm1(np.minimum((d - sb) / (vb * tau), 700.0))
    return np.where(d <= sb, boost, coast)


def flyout_distance_m(time_s, burnout_speed_mps, burnout_time_s, coast_decay_time_s) -> np.ndarray:
    """Distance (m) flown in ``time_s`` (the inverse of :func:`flyout_time_s`)."""
    t = np.asarray(time_s, float)
    vb, tb, tau = (np.asarray(x, float) for x in (burnout_speed_mps, burnout_time_s, coast_decay_time_s))
    boost = 0.5 * vb / tb * np.maximum(t, 0.0) ** 2  # (np.maximum: np.clip's values, a tenth of its cost)
    coast = 0.5 * vb * tb + vb * tau * np.log1p(np.maximum(t - tb, 0.0) / tau)
    return np.where(t <= tb, boost, coast)


def flyout_speed_mps(time_s, burnout_speed_mps, burnout_time_s, coast_decay_time_s) -> np.ndarray:
    """Speed (m/s) after ``time_s`` of flight (the derivative of :func:`flyout_distance_m`)."""
    t = np.clip(np.asarray(time_s, float), 0.0, None)
    vb, tb, tau = (np.asarray(x, float) for x in (burnout_speed_mps, burnout_time_s, coast_decay_time_s))
    return np.where(t <= tb, vb * t / tb, vb / (1.0 + np.clip(t - tb, 0.0, None) / tau))


class EngagementWindows(NamedTuple):
    """Feasibility of intercepts for B batteries x J threats x K path samples.

    ``feasible`` (B, J, K); ``launch_time_s`` and ``flight_time_s`` (B, J, K) (NaN where
    the sample is missing); ``first`` and ``last`` (B, J): the first and last feasible
    sample index (-1 where none); ``open_s`` and ``close_s`` (B, J): their times.
    """

    feasible: np.ndarray
    launch_time_s: np.ndarray
    flight_time_s: np.ndarray
    first: np.ndarray
    last: np.ndarray
    open_s: np.ndarray
    close_s: np.ndarray


def engagement_windows(battery_ecef_m, params: FlyoutParameters, path_time_s, path_ecef_m, path_alt_m,
                       now_s: float, not_before_s=None) -> EngagementWindows:
    """Feasible intercept times along predicted threat paths.

    ``battery_ecef_m`` (B, 3); ``path_time_s`` (J, K) absolute times of each threat's path
    samples (NaN pads short paths), ``path_ecef_m`` (J, K, 3), ``path_alt_m`` (J, K);
    ``now_s`` the decision time; ``not_before_s`` (J,) optional earliest launch time per
    threat (e.g. after a kill assessment). All pairs at once, compiled.
    """
    b = np.ascontiguousarray(np.asarray(battery_ecef_m, float).reshape(-1, 3))
    t = np.ascontiguousarray(path_time_s, float)
    p = np.ascontiguousarray(path_ecef_m, float)
    alt = np.ascontiguousarray(path_alt_m, float)
    earliest = np.full(t.shape[0], float(now_s)) if not_before_s is None else np.maximum(now_s, np.asarray(not_before_s, float))
    return EngagementWindows(*_windows(b, t, p, alt, earliest, _flyout_table(params, b.shape[0])))


def _flyout_table(params: FlyoutParameters, n_batteries: int) -> np.ndarray:
    """The (9, B) table of :func:`_windows`: the :class:`FlyoutParameters` in their order,
    each (B,) or one scalar for every battery."""
    prm = np.empty((len(params), n_batteries))
    for k, x in enumerate(params):
        prm[k] = x
    return prm


HEIGHT_BOUND_MARGIN_M = 1.0
"""Widening (m) of the bounds |r| - a <= h <= |r| - b on a point's height above the
ellipsoid (equatorial radius a, polar radius b): far more than their rounding and the
exact height's."""


@njit(cache=True, inline="always")
def _height_bounds_decide(x: float, y: float, z: float, a: float, b: float, lo: float, hi: float) -> int:
    """Whether the height above the ellipsoid (equatorial and polar radii ``a``, ``b``, m)
    of the ECEF point (m) lies in [``lo``, ``hi``] (m), as its bounds decide it: the
    surface point below lies between b and a from the centre, and its normal's distance
    from the centre is between b and a, so |r| - a <= h <= |r| - b (h >= 0; for h < 0
    while |h| is well below b). 1: inside, 0: outside, -1: undecided (or a NaN)."""
    r = math.sqrt(x * x + y * y + z * z)
    low, high = r - a - HEIGHT_BOUND_MARGIN_M, r - b + HEIGHT_BOUND_MARGIN_M
    if high < lo or low > hi:
        return 0
    if lo <= low and high <= hi:
        return 1
    return -1


@njit(cache=True)
def _windows(b, t, p, alt, earliest, prm, lazy=False, a=0.0, e2=0.0, sphere=False):
    """:func:`engagement_windows` in one pass over batteries x threats x samples (the
    fly-out time by :func:`flyout_time_s`'s formula, with ``math.expm1``, which may differ
    from numpy's in the last bit); ``prm`` (9, B): :func:`_flyout_table`. ``lazy``: the same
    windows for less work: fly-out and launch times only where the range passes (else
    NaN), and ``alt`` NaN where a height is not yet known, computed (frames.ecef_to_height's
    arithmetic on the ellipsoid ``a``, ``e2`` or the ``sphere``) only where range, flight
    time and launch time pass and the height's bounds from the distance to the centre
    (:func:`_height_bounds_decide`) do not decide the altitude limits."""
    vb, tb, tau, max_flight, min_range, max_range, min_alt, max_alt, delay = (
        prm[0], prm[1], prm[2], prm[3], prm[4], prm[5], prm[6], prm[7], prm[8])
    polar = a * math.sqrt(1.0 - e2)
    n_b, n_j, n_k = b.shape[0], t.shape[0], t.shape[1]
    ok = np.zeros((n_b, n_j, n_k), np.bool_)
    launch = np.full((n_b, n_j, n_k), np.nan)
    fly = np.full((n_b, n_j, n_k), np.nan)
    first = np.full((n_b, n_j), -1, np.int64)
    last = np.full((n_b, n_j), -1, np.int64)
    open_s = np.full((n_b, n_j), np.nan)
    close_s = np.full((n_b, n_j), np.nan)
    for i in range(n_b):
        sb = 0.5 * vb[i] * tb[i]
        for j in range(n_j):
            for k in range(n_k):
                if not np.isfinite(t[j, k]):
                    continue
                dx, dy, dz = p[j, k, 0] - b[i, 0], p[j, k, 1] - b[i, 1], p[j, k, 2] - b[i, 2]
                d = math.sqrt(dx * dx + dy * dy + dz * dz)
                if lazy and not min_range[i] <= d <= max_range[i]:
                    continue
                if d <= sb:
                    f = math.sqrt(2.0 * max(d, 0.0) * tb[i] / vb[i])
                else:
                    f = tb[i] + tau[i] * math.expm1(min((d - sb) / (vb[i] * tau[i]), 700.0))
                fly[i, j, k] = f
                lt = t[j, k] - f - delay[i]
                launch[i, j, k] = lt
                if not (min_range[i] <= d <= max_range[i] and f <= max_flight[i] and lt >= earliest[j]):
                    continue
                decided = -1  # the altitude limits: -1 by the height, else 1 (met) or 0 by its bounds
                if lazy and math.isnan(alt[j, k]):
                    decided = _height_bounds_decide(p[j, k, 0], p[j, k, 1], p[j, k, 2], a, polar, min_alt[i], max_alt[i])
                    if decided < 0:
                        _ecef_to_height_array(p[j, k:k + 1], a, e2, sphere, alt[j, k:k + 1])
                if decided == 1 or (decided < 0 and min_alt[i] <= alt[j, k] <= max_alt[i]):
                    ok[i, j, k] = True
                    if first[i, j] < 0:
                        first[i, j] = k
                        open_s[i, j] = t[j, k]
                    last[i, j] = k
                    close_s[i, j] = t[j, k]
    return ok, launch, fly, first, last, open_s, close_s
