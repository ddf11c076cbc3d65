"""The flight kernel on tuples (hoplon.core.ballistic._fly_one): its samples and events
against the invariants and closed forms of a Kepler orbit (a non-rotating point-mass
sphere without air), and its derivative against the Earth model's acceleration."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import STATUS_IMPACT, _derivative_and_air, propagate, sample_flight
from hoplon.core.earth import _acceleration, density_kg_m3, earth_model
from hoplon.core.frames import geodetic_to_ecef

MU = 3.986004418e14  # m^3/s^2, WGS84's GM
R = 6371e3  # m, the mean Earth radius
SPHERE = "sphere"  # hoplon's non-rotating point-mass sphere of radius R, without air


def _launch(speed_mps: float, elevation_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A state 100 km above the equator, flying east at ``elevation_deg`` above the horizon."""
    g = math.radians(elevation_deg)
    return np.array([R + 100e3, 0.0, 0.0]), np.array([speed_mps * math.sin(g), speed_mps * math.cos(g), 0.0])


@settings(max_examples=25, deadline=None)
@given(st.floats(1000.0, 5000.0), st.floats(10.0, 80.0), st.floats(0.5, 20.0))
def test_samples_keep_energy_and_angular_momentum(speed, elevation, step):
    r0, v0 = _launch(speed, elevation)
    flight = sample_flight(r0[None], v0[None], np.inf, step_s=step, earth=SPHERE)
    r, v, t = flight.r_ecef_m, flight.v_ecef_mps, flight.time_s
    energy = 0.5 * np.einsum("ij,ij->i", v, v) - MU / np.linalg.norm(r, axis=1)
    momentum = np.cross(r, v)
    e0, h0 = 0.5 * v0 @ v0 - MU / np.linalg.norm(r0), np.cross(r0, v0)
    np.testing.assert_allclose(energy, e0, rtol=1e-8)
    np.testing.assert_allclose(momentum, np.broadcast_to(h0, momentum.shape), rtol=1e-8, atol=1e-8 * np.linalg.norm(h0))
    np.testing.assert_allclose(t[:-1], step * np.arange(t.size - 1), rtol=0, atol=1e-9)
    assert flight.end.status[0] == STATUS_IMPACT
    assert np.linalg.norm(r[-1]) == np.float64(np.linalg.norm(flight.end.r_ecef_m[0]))
    assert abs(np.linalg.norm(r[-1]) - R) < 1e-4


@settings(max_examples=25, deadline=None)
@given(st.floats(1000.0, 5000.0), st.floats(10.0, 80.0))
def test_apogee_is_the_kepler_apoapsis(speed, elevation):
    r0, v0 = _launch(speed, elevation)
    rn = np.linalg.norm(r0)
    a = -MU / (2 * (0.5 * speed**2 - MU / rn))
    e = math.sqrt(1 - np.linalg.norm(np.cross(r0, v0)) ** 2 / (MU * a))
    end = sample_flight(r0[None], v0[None], np.inf, step_s=5.0, earth=SPHERE).end
    assert abs(end.apogee_alt_m[0] - (a * (1 + e) - R)) < 0.01
    # flown until the apogee's time, the body is at the apoapsis
    mid = propagate(r0[None], v0[None], np.inf, float(end.apogee_time_s[0]), earth=SPHERE)
    assert abs(np.linalg.norm(mid.r_ecef_m[0]) - (a * (1 + e))) < 0.01


@settings(max_examples=50, deadline=None)
@given(st.floats(-80.0, 80.0), st.floats(-180.0, 180.0), st.floats(-500.0, 120e3), st.floats(0.0, 0.05),
       st.floats(-3000.0, 3000.0), st.floats(-3000.0, 3000.0), st.floats(-3000.0, 3000.0))
def test_derivative_with_its_air_is_the_acceleration(lat, lon, alt, inv_beta, vx, vy, vz):
    # the flight kernel's derivative at the end of a step shares the height of its air:
    # the same bits as the acceleration that computes its own, and the air's density there
    p = earth_model("wgs84").params()
    x, y, z = np.asarray(geodetic_to_ecef(lat, lon, alt), float).ravel()
    s = (x, y, z, vx, vy, vz)
    k, h, *_, density = _derivative_and_air(s, inv_beta, tuple(p), False)
    assert k == (vx, vy, vz) + _acceleration(x, y, z, vx, vy, vz, inv_beta, p)
    assert abs(h - alt) < 1e-6
    if inv_beta != 0.0:
        assert density == float(np.asarray(density_kg_m3(h)).ravel()[0])
