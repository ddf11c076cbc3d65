"""The interceptors' compiled aim points (``sim.intercepts._aim_points``) against the
public path they stand for: :func:`classify_kinematics` picks the ballistic tracks, which
:func:`propagate` flies with beta = 1 / (1/beta); the others fly a straight line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import propagate
from hoplon.core.earth import WGS84, earth_model
from hoplon.core.frames import geodetic_to_ecef
from hoplon.core.threat import CLASS_BALLISTIC, classify_kinematics
from hoplon.sim.intercepts import _FLIGHT_FAILED, _NOT_FINITE, _aim_points

MODEL = earth_model("wgs84")
FLOAT_MAX = float(np.finfo(np.float64).max)


def _public_aims(x, dt, inv_beta):
    """The aim points by the public functions (the former guidance code; it warned of the
    overflows of 1/beta for the largest and the smallest 1/beta, where the kernel is quiet)."""
    aim = x[:, :3] + dt[:, None] * x[:, 3:6]
    ball = classify_kinematics(x) == CLASS_BALLISTIC
    if ball.any():
        ib = np.minimum(inv_beta[ball], FLOAT_MAX)
        with np.errstate(over="ignore", divide="ignore"):
            beta = np.where(ib > 0, 1.0 / np.where(ib > 0, ib, 1.0), np.inf)
            aim[ball] = propagate(x[ball, :3], x[ball, 3:6], beta, np.maximum(dt[ball], 0.0), earth=MODEL).r_ecef_m
    return aim


def _states(lat, lon, alt, speed, heading_deg, climb_deg):
    r = np.atleast_2d(geodetic_to_ecef(lat, lon, alt, earth=MODEL))
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    e = np.stack([-np.sin(lon_r), np.cos(lon_r), np.zeros_like(lon_r)], axis=1)
    n = np.stack([-np.sin(lat_r) * np.cos(lon_r), -np.sin(lat_r) * np.sin(lon_r), np.cos(lat_r)], axis=1)
    u = np.stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)], axis=1)
    h, c = np.radians(heading_deg)[:, None], np.radians(climb_deg)[:, None]
    v = speed[:, None] * (np.cos(c) * (np.sin(h) * e + np.cos(h) * n) + np.sin(c) * u)
    return np.hstack([r, v])


inv_betas = st.one_of(st.floats(1e-5, 1e-2), st.sampled_from([0.0, -1e-3, np.nan, np.inf, 5e-324]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(30.0, 45.0), st.floats(30.0, 50.0), st.floats(0.0, 400e3),
                          st.floats(50.0, 4000.0), st.floats(0.0, 360.0), st.floats(-60.0, 60.0),
                          st.floats(-5.0, 120.0), inv_betas), min_size=1, max_size=6))
def test_aim_points_are_the_public_flights_bit_for_bit(rows):
    lat, lon, alt, speed, heading, climb, dt, inv_beta = (np.array(c, dtype=float) for c in zip(*rows))
    x = _states(lat, lon, alt, speed, heading, climb)
    aim = np.empty((x.shape[0], 3))
    assert _aim_points(x, dt, inv_beta, WGS84.a_m, WGS84.e2, MODEL.params(), 1e-9, aim) == 0
    np.testing.assert_array_equal(aim, _public_aims(x, dt, inv_beta))


def test_a_ballistic_track_is_flown_and_an_air_breathing_one_is_not():
    # a 2 km/s body at 100 km falls under gravity over 60 s: far from its straight line;
    # a 200 m/s drone at 1 km flies its straight line exactly
    x = _states(np.array([37.0, 37.0]), np.array([37.0, 37.0]), np.array([100e3, 1e3]),
                np.array([2000.0, 200.0]), np.array([90.0, 90.0]), np.array([0.0, 0.0]))
    dt = np.array([60.0, 60.0])
    aim = np.empty((2, 3))
    assert _aim_points(x, dt, np.array([0.0, 0.0]), WGS84.a_m, WGS84.e2, MODEL.params(), 1e-9, aim) == 0
    straight = x[:, :3] + dt[:, None] * x[:, 3:6]
    np.testing.assert_array_equal(aim[1], straight[1])
    # the fall below the straight line is about g t^2 / 2 = 17.6 km (g at 100 km 9.5 m/s^2)
    assert 15e3 < np.linalg.norm(aim[0] - straight[0]) < 20e3


def test_failures_are_reported():
    x = _states(np.array([37.0]), np.array([37.0]), np.array([100e3]), np.array([2000.0]), np.array([90.0]),
                np.array([0.0]))
    aim = np.empty((1, 3))
    args = (WGS84.a_m, WGS84.e2, MODEL.params(), 1e-9, aim)
    assert _aim_points(x, np.array([np.nan]), np.array([0.0]), *args) == _NOT_FINITE
    x_bad = x.copy()
    x_bad[0, 3] = np.inf
    assert _aim_points(x_bad, np.array([10.0]), np.array([0.0]), *args) == _NOT_FINITE
    with pytest.raises(ValueError):  # the public path fails the same inputs
        _public_aims(x, np.array([np.nan]), np.array([0.0]))
    assert _FLIGHT_FAILED != _NOT_FINITE
