"""Targeting to aim points moved by a guidance error, started from a solution's
sensitivities: the sensitivities against the Kepler range equation, the moved solves
against cold solves, closed forms and the independent DOP853 reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference_physics as ref
from geographiclib.geodesic import Geodesic

from hoplon.core.boost import BoostParameters
from hoplon.core.targeting import Profile, solve_targeting

metre = 1.0
R_SPHERE = 6371e3  # the "sphere" Earth model: point-mass gravity, no rotation, no drag
MU = 3.986004418e14
R_MEAN = 6371008.8  # IUGG mean Earth radius: targeting's range is the central angle times it
TOL_M = 0.05  # solve_targeting's default tolerance
LONG_RANGE_BOOST = {"m0": 30_000.0, "mp": 26_500.0, "tb": 120.0, "isp": 280.0, "tv": 6.0, "area": 1.8, "cd": 0.3}


def _boost_params(b):
    return BoostParameters(
        launch_mass_kg=b["m0"], propellant_mass_kg=b["mp"], burn_time_s=b["tb"], specific_impulse_s=b["isp"],
        vertical_rise_s=b["tv"], reference_area_m2=b["area"], drag_coefficient=b["cd"],
    )


# --------------------------------------------------------------------------- Kepler range equation


def _range_angle(v, gamma):
    """Free-flight range angle between burnout and re-entry at the same radius R_SPHERE
    (Bate, Mueller & White sec. 6.2): tan(Psi/2) = Q sin g cos g / (1 - Q cos^2 g), Q = v^2 r / mu."""
    q = v * v * R_SPHERE / MU
    return 2.0 * np.arctan2(q * np.sin(gamma) * np.cos(gamma), 1.0 - q * np.cos(gamma) ** 2)


def _range_angle_gradient(v, gamma):
    """(dPsi/dv, dPsi/dgamma) of the range equation, differentiated by hand."""
    q = v * v * R_SPHERE / MU
    u, w = q * np.sin(2.0 * gamma) / 2.0, 1.0 - q * np.cos(gamma) ** 2
    n = u * u + w * w
    return np.sin(2.0 * gamma) / n * 2.0 * v * R_SPHERE / MU, 2.0 * q * (w * np.cos(2.0 * gamma) - u * np.sin(2.0 * gamma)) / n


def _complex_step(f, x):
    """df/dx of an analytic f by the complex step (exact to rounding)."""
    h = 1e-30
    return np.imag(f(x + 1j * h)) / h


@pytest.mark.parametrize("range_km", [1000, 3000])
def test_sensitivities_follow_the_kepler_range_equation(range_km):
    aim_lon = 20.0 + math.degrees(range_km * 1e3 / R_SPHERE)
    sol = solve_targeting(0.0, 20.0, 0.0, 0.0, aim_lon, 0.0, beta_kg_m2=np.inf, earth="sphere", sensitivities=True)
    s = sol.sensitivities
    jac, curv = s.jacobian[0], s.energy_curvature[0]
    v, g = sol.burnout.speed_mps[0], sol.burnout.flight_path_angle_rad[0]
    dpsi_dv, _ = _range_angle_gradient(v, g)
    assert s.value[0, 0] == pytest.approx(R_MEAN * _range_angle(v, g), abs=1e-3 * metre)
    assert jac[0, 0] == pytest.approx(R_MEAN * dpsi_dv, rel=1e-6)  # dR/dv
    assert curv[0] == pytest.approx(R_MEAN * _complex_step(lambda x: _range_angle_gradient(x, g)[0], v), rel=1e-3)
    # minimum energy: the shape residual is dR/dgamma; its derivatives
    assert jac[2, 0] == pytest.approx(R_MEAN * _complex_step(lambda x: _range_angle_gradient(x, g)[1], v), rel=1e-3)
    assert jac[2, 1] == pytest.approx(R_MEAN * _complex_step(lambda x: _range_angle_gradient(v, x)[1], g), rel=1e-3)
    # and at the minimum-energy angle, no more than the solver's 1e-6 rad from the vertex
    assert abs(s.value[0, 2] / jac[2, 1]) < 1e-6
    # no rotation: the bearing is the azimuth, the range does not depend on it
    assert jac[1, 2] == pytest.approx(1.0, abs=1e-9)
    assert abs(jac[1, 0]) < 1e-12 and abs(jac[1, 1]) < 1e-9 and abs(jac[0, 2]) < 1e-3


def test_a_moved_aim_point_on_the_sphere_gets_the_closed_form_minimum_energy(targeting_flights):
    """BMW 6.2: the least burnout speed to a range angle Psi is sqrt(Q mu / r) with
    Q = 2 sin(Psi/2) / (1 + sin(Psi/2)), at the angle (pi - Psi)/4."""
    flights = targeting_flights
    first = solve_targeting(0.0, 20.0, 0.0, 0.0, 29.0, 0.0, beta_kg_m2=np.inf, earth="sphere", sensitivities=True)
    for moved_m in (300.0, -500.0):
        psi = math.radians(9.0) + moved_m / R_SPHERE
        flights[0] = 0
        sol = solve_targeting(0.0, 20.0, 0.0, 0.0, 20.0 + math.degrees(psi), 0.0, beta_kg_m2=np.inf, earth="sphere",
                              initial=first)
        sp = math.sin(psi / 2.0)
        assert sol.ok[0] and sol.miss_m[0] < TOL_M
        assert sol.burnout.speed_mps[0] == pytest.approx(math.sqrt(2.0 * sp / (1.0 + sp) * MU / R_SPHERE), rel=1e-8)
        assert sol.burnout.flight_path_angle_rad[0] == pytest.approx((math.pi - psi) / 4.0, abs=1e-6)
        assert flights[0] <= 3  # the predicted controls and their two shape variants


# --------------------------------------------------------------------------- boosted launches


def _pairs_and_moves(n, seed):
    """Launch and aim points 400-2500 km apart, and aim points moved 50-600 m (a guidance error)."""
    rng = np.random.default_rng(seed)
    lat1, lon1 = rng.uniform(-60, 60, n), rng.uniform(-180, 180, n)
    g = Geodesic.WGS84
    aim = [g.Direct(a, b, c, d) for a, b, c, d in zip(lat1, lon1, rng.uniform(0, 360, n), rng.uniform(400e3, 2500e3, n))]
    moved = [g.Direct(x["lat2"], x["lon2"], c, d) for x, c, d in zip(aim, rng.uniform(0, 360, n), rng.uniform(50, 600, n))]
    return (lat1, lon1, np.array([x["lat2"] for x in aim]), np.array([x["lon2"] for x in aim]),
            np.array([x["lat2"] for x in moved]), np.array([x["lon2"] for x in moved]))


@pytest.mark.parametrize("profile", ["minimum-energy", "lofted", "depressed"])
def test_a_solve_from_sensitivities_hits_moved_aim_points_like_a_cold_one(profile, targeting_flights):
    n = 6
    lat1, lon1, lat2, lon2, lat3, lon3 = _pairs_and_moves(n, seed=31)
    kw = dict(beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST))
    if profile != "minimum-energy":
        me = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, **kw)
        kw |= (
            dict(profile=Profile.APOGEE, profile_value=me.apogee_alt_m * 1.15)
            if profile == "lofted"
            else dict(profile=Profile.FLIGHT_PATH_ANGLE, profile_value=me.burnout.flight_path_angle_rad - math.radians(4))
        )
    first = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, sensitivities=True, **kw)
    assert np.isfinite(first.sensitivities.jacobian).all()
    flights = targeting_flights
    flights[0] = 0  # the warm solve's flights only
    warm = solve_targeting(lat1, lon1, 0.0, lat3, lon3, 0.0, initial=first, **kw)
    # at most two chord iterations: each flies the launches (and two shape variants for minimum energy)
    assert flights[0] <= 2 * n * (3 if profile == "minimum-energy" else 1)
    cold = solve_targeting(lat1, lon1, 0.0, lat3, lon3, 0.0, **kw)
    assert warm.ok.all(), warm.message
    assert np.all(warm.miss_m < TOL_M)
    np.testing.assert_allclose(warm.cutoff_s, cold.cutoff_s, rtol=1e-6)
    if profile == "lofted":
        np.testing.assert_allclose(warm.apogee_alt_m, kw["profile_value"], atol=1.0)  # the solver's 1 m
    if profile == "depressed":
        np.testing.assert_allclose(warm.burnout.flight_path_angle_rad, kw["profile_value"], atol=1e-6)
    # the independent reference flies one launch's controls onto its moved aim point
    i = 0
    r_b, v_b = ref.boost_burnout(lat1[i], lon1[i], 0.0, azimuth_rad=warm.azimuth_rad[i], kick_rad=warm.kick_rad[i],
                                 cutoff_s=warm.cutoff_s[i], **LONG_RANGE_BOOST)
    _, y = ref.fly_to_ground(r_b, v_b, 8000.0)
    assert np.linalg.norm(y[:3] - ref.geodetic_to_ecef(lat3[i], lon3[i], 0.0)) < 100 * metre


def test_launches_without_usable_sensitivities_are_solved_from_the_controls():
    lat1, lon1, lat2, lon2, lat3, lon3 = _pairs_and_moves(3, seed=32)
    kw = dict(beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST))
    first = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, sensitivities=True, **kw)
    jacobian = first.sensitivities.jacobian.copy()
    jacobian[1] = np.nan  # as for a stencil that would leave the controls' bounds
    partial = first._replace(sensitivities=first.sensitivities._replace(jacobian=jacobian))
    warm = solve_targeting(lat1, lon1, 0.0, lat3, lon3, 0.0, initial=partial, **kw)
    assert warm.ok.all(), warm.message
    assert np.all(warm.miss_m < TOL_M)
    assert warm.sensitivities is None  # computed only where asked


def test_sensitivities_are_nan_where_there_is_no_solution():
    mrbm = {"m0": 17_500.0, "mp": 14_600.0, "tb": 100.0, "isp": 258.0, "tv": 8.0, "area": 1.33, "cd": 0.3}
    # 3,400 km is beyond this missile's reach, 300 km is not
    sol = solve_targeting([34.3, 34.3], [47.1, 47.1], 0.0, [34.3, 35.0], [10.0, 44.0], 0.0, beta_kg_m2=5000.0,
                          boost=_boost_params(mrbm), sensitivities=True)
    assert list(sol.ok) == [False, True]
    assert np.isnan(sol.sensitivities.jacobian[0]).all() and np.isfinite(sol.sensitivities.jacobian[1]).all()
