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

from typing import NamedTuple

import numpy as np

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
    boost = 0.5 * vb / tb * np.clip(t, 0.0, None) ** 2
    coast = 0.5 * vb * tb + vb * tau * np.log1p(np.clip(t - tb, 0.0, None) / tau)
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
    threat (e.g. after a kill assessment). All pairs at once, in numpy.
    """
    b = np.asarray(battery_ecef_m, float).reshape(-1, 3)
    t = np.asarray(path_time_s, float)
    p = np.asarray(path_ecef_m, float)
    alt = np.asarray(path_alt_m, float)
    d = np.linalg.norm(p[None, :, :, :] - b[:, None, None, :], axis=3)  # (B, J, K)

    def per_battery(x):
        return np.asarray(x, float)[:, None, None]

    fly = flyout_time_s(d, per_battery(params.burnout_speed_mps), per_battery(params.burnout_time_s),
                        per_battery(params.coast_decay_time_s))
    launch = t[None] - fly - per_battery(params.launch_delay_s)
    earliest = np.full(t.shape[0], float(now_s)) if not_before_s is None else np.maximum(now_s, np.asarray(not_before_s, float))
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(t)[None]
            & (d >= per_battery(params.min_range_m)) & (d <= per_battery(params.max_range_m))
            & (alt[None] >= per_battery(params.min_altitude_m)) & (alt[None] <= per_battery(params.max_altitude_m))
            & (fly <= per_battery(params.max_flight_time_s))
            & (launch >= earliest[None, :, None])
        )
    any_ok = ok.any(axis=2)
    k = ok.shape[2]
    first = np.where(any_ok, np.argmax(ok, axis=2), -1)
    last = np.where(any_ok, k - 1 - np.argmax(ok[:, :, ::-1], axis=2), -1)
    tt = np.broadcast_to(t[None], ok.shape)
    take = np.clip(first, 0, None)[..., None]
    open_s = np.where(any_ok, np.take_along_axis(tt, take, axis=2)[..., 0], np.nan)
    close_s = np.where(any_ok, np.take_along_axis(tt, np.clip(last, 0, None)[..., None], axis=2)[..., 0], np.nan)
    return EngagementWindows(ok, np.where(np.isfinite(t)[None], launch, np.nan), np.where(np.isfinite(t)[None], fly, np.nan),
                             first, last, open_s, close_s)
