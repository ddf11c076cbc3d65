"""Free flight and targeting against closed forms and an independent DOP853 reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference_physics as ref
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import (
    STATUS_IMPACT,
    STATUS_TIMEOUT,
    propagate,
    propagate_to_impact,
    sample_flight,
)
from hoplon.core.boost import BoostParameters, fly_boost
from hoplon.core.targeting import Profile, solve_targeting

metre = 1.0
second = 1.0
R_SPHERE = 6371e3
MU = 3.986004418e14


# --------------------------------------------------------------------------- closed form


def bmw_minimum_energy(ground_range_m: float) -> dict:
    """Bate, Mueller & White sec. 6.2, burnout and re-entry on a 6371 km sphere."""
    psi = ground_range_m / R_SPHERE
    s = math.sin(psi / 2)
    q = 2 * s / (1 + s)
    gamma = (math.pi - psi) / 4
    v = math.sqrt(q * MU / R_SPHERE)
    a = R_SPHERE / (2 - q)
    e = math.sqrt(1 + q * (q - 2) * math.cos(gamma) ** 2)
    nu = math.pi - psi / 2  # true anomaly at burnout (symmetric arc about apogee)
    big_e = 2 * math.atan(math.sqrt((1 - e) / (1 + e)) * math.tan(nu / 2))
    t_half = math.sqrt(a**3 / MU) * (math.pi - (big_e - e * math.sin(big_e)))
    return {"speed": v, "gamma": gamma, "apogee": a * (1 + e) - R_SPHERE, "time": 2 * t_half}


@pytest.mark.parametrize(
    ("range_km", "speed_kms", "apogee_km", "minutes"),
    [(1000, 3.02, 240, 7.9), (2000, 4.11, 459, 11.7)],
)
def test_closed_form_reproduces_bmw_table(range_km, speed_kms, apogee_km, minutes):
    # the closed form written above agrees with the published table to its printed digits
    cf = bmw_minimum_energy(range_km * 1e3)
    assert cf["speed"] / 1e3 == pytest.approx(speed_kms, abs=0.006)
    assert cf["apogee"] / 1e3 == pytest.approx(apogee_km, abs=0.6)
    assert cf["time"] / 60 == pytest.approx(minutes, abs=0.06)


@pytest.mark.parametrize("range_km", [300, 1000, 2000, 3000, 5000])
def test_sphere_minimum_energy_matches_closed_form(range_km):
    cf = bmw_minimum_energy(range_km * 1e3)
    aim_lon = math.degrees(range_km * 1e3 / R_SPHERE)
    # a launch on the equator toward the east, aim on the equator
    sol = solve_targeting(0.0, 20.0, 0.0, 0.0, 20.0 + aim_lon, 0.0, beta_kg_m2=np.inf, earth="sphere")
    assert sol.ok[0]
    assert sol.burnout.speed_mps[0] == pytest.approx(cf["speed"], rel=5e-3)
    assert sol.burnout.flight_path_angle_rad[0] == pytest.approx(cf["gamma"], rel=5e-3)
    assert sol.apogee_alt_m[0] == pytest.approx(cf["apogee"], rel=5e-3)
    assert sol.free_flight_time_s[0] == pytest.approx(cf["time"], rel=5e-3)


def test_sphere_free_flight_is_a_kepler_ellipse():
    # burnout at 100 km, 3 km/s, 30 deg: time of flight and range angle from Kepler's equation
    r0 = R_SPHERE + 100e3
    v, g = 3000.0, math.radians(30)
    h = r0 * v * math.cos(g)
    a = -MU / (2 * (v**2 / 2 - MU / r0))
    e = math.sqrt(1 - h**2 / (MU * a))
    p = a * (1 - e**2)
    nu0 = math.acos((p / r0 - 1) / e)  # ascending branch
    nu_r = 2 * math.pi - math.acos((p / R_SPHERE - 1) / e)  # descending branch

    def mean_anomaly(nu):
        big_e = 2 * math.atan2(math.sqrt(1 - e) * math.sin(nu / 2), math.sqrt(1 + e) * math.cos(nu / 2))
        return big_e - e * math.sin(big_e)

    tof = math.sqrt(a**3 / MU) * (mean_anomaly(nu_r) - mean_anomaly(nu0))
    r = np.array([r0, 0.0, 0.0])
    vel = np.array([v * math.sin(g), v * math.cos(g), 0.0])
    imp = propagate_to_impact(r, vel, np.inf, earth="sphere")
    assert imp.status == STATUS_IMPACT
    assert imp.time_s == pytest.approx(tof, abs=1e-3)
    assert imp.apogee_alt_m == pytest.approx(a * (1 + e) - R_SPHERE, abs=0.01)
    assert math.atan2(imp.r_ecef_m[1], imp.r_ecef_m[0]) == pytest.approx(nu_r - nu0, abs=1e-8)
    assert np.linalg.norm(imp.r_ecef_m) == pytest.approx(R_SPHERE, abs=1e-4)


# --------------------------------------------------------------------------- WGS84 reference

# burnout altitude (km), nominal range (km), beta (kg/m^2), latitude, azimuth
CASES = [
    (20, 300, 50, 34.0, 280),
    (20, 2000, 10_000, 34.0, 280),
    (80, 300, 10_000, -60.0, 10),
    (80, 2000, 50, 5.0, 90),
    (50, 1000, 1_000, 70.0, 200),
    (20, 1000, 10_000, -20.0, 135),
    (80, 1000, 300, 45.0, 0),
    (50, 2000, 3_000, 0.0, 270),
]


def _burnout(alt_km, range_km, lat, az):
    psi = range_km * 1e3 / R_SPHERE
    gamma = (math.pi - psi) / 4
    s = math.sin(psi / 2)
    speed = math.sqrt(2 * s / (1 + s) * MU / (R_SPHERE + alt_km * 1e3))
    return ref.state_from_flight_path(lat, 47.0, alt_km * 1e3, az, math.degrees(gamma), speed)


@pytest.mark.parametrize(("alt_km", "range_km", "beta", "lat", "az"), CASES)
def test_impact_matches_dop853_reference(alt_km, range_km, beta, lat, az):
    r0, v0 = _burnout(alt_km, range_km, lat, az)
    t_ref, y_ref = ref.fly_to_ground(r0, v0, beta)
    imp = propagate_to_impact(r0, v0, beta)
    assert imp.status == STATUS_IMPACT
    assert abs(imp.time_s - t_ref) < 0.1 * second
    assert np.linalg.norm(imp.r_ecef_m - y_ref[:3]) < 50 * metre
    # and in fact much closer
    assert np.linalg.norm(imp.r_ecef_m - y_ref[:3]) < 2 * metre


def test_batched_equals_one_by_one():
    states = [_burnout(*c[:2], c[3], c[4]) for c in CASES]
    r = np.array([s[0] for s in states])
    v = np.array([s[1] for s in states])
    beta = np.array([c[2] for c in CASES], dtype=float)
    batch = propagate_to_impact(r, v, beta)
    for i in range(len(CASES)):
        one = propagate_to_impact(r[i], v[i], beta[i])
        assert one.time_s == batch.time_s[i]
        np.testing.assert_array_equal(one.r_ecef_m, batch.r_ecef_m[i])


def test_impact_height_and_lat_lon_consistent():
    r0, v0 = _burnout(50, 1000, 34.0, 280)
    imp = propagate_to_impact(r0, v0, 5000.0, ground_alt_m=1500.0)
    lat, lon, h = ref.geodetic(imp.r_ecef_m)
    assert h == pytest.approx(1500.0, abs=1e-3)
    assert math.degrees(lat) == pytest.approx(imp.lat_deg, abs=1e-9)
    assert math.degrees(lon) == pytest.approx(imp.lon_deg, abs=1e-9)


def test_propagate_for_a_duration_matches_reference():
    r0, v0 = _burnout(50, 1000, 34.0, 280)
    out = propagate(r0, v0, 5000.0, 120.0)
    sol = ref.solve_ivp(ref.free_flight_rhs(5000.0), (0, 120.0), np.concatenate([r0, v0]), method="DOP853", rtol=1e-12, atol=1e-9)
    assert not out.impacted
    assert np.linalg.norm(out.r_ecef_m - sol.y[:3, -1]) < 0.05
    assert np.linalg.norm(out.v_ecef_mps - sol.y[3:, -1]) < 1e-3


def test_samples_lie_on_the_reference_trajectory():
    r0, v0 = _burnout(50, 1000, 34.0, 280)
    fs = sample_flight(r0[None], v0[None], 5000.0, step_s=7.0, t0_s=-3.0)
    t = fs.time_s
    assert t[0] == pytest.approx(4.0)
    assert np.allclose(np.diff(t[:-1]), 7.0)
    sol = ref.solve_ivp(
        ref.free_flight_rhs(5000.0), (0, t[-2]), np.concatenate([r0, v0]), method="DOP853",
        rtol=1e-12, atol=1e-9, t_eval=t[:-1],
    )
    assert np.max(np.linalg.norm(fs.r_ecef_m[:-1] - sol.y[:3].T, axis=1)) < 1.0
    # interpolated velocities: within 0.05 m/s even where drag decelerates at ~100 g
    assert np.max(np.linalg.norm(fs.v_ecef_mps[:-1] - sol.y[3:].T, axis=1)) < 0.05
    np.testing.assert_array_equal(fs.r_ecef_m[-1], fs.end.r_ecef_m[0])


# --------------------------------------------------------------------------- boost

BOOST = {"m0": 17_500.0, "mp": 14_800.0, "tb": 100.0, "isp": 250.0, "tv": 8.0, "area": 1.23, "cd": 0.3}


def _boost_params(b=BOOST):
    return BoostParameters(
        launch_mass_kg=b["m0"], propellant_mass_kg=b["mp"], burn_time_s=b["tb"], specific_impulse_s=b["isp"],
        vertical_rise_s=b["tv"], reference_area_m2=b["area"], drag_coefficient=b["cd"],
    )


@pytest.mark.parametrize(("kick_deg", "cutoff"), [(2.0, 100.0), (6.0, 70.0), (10.0, 40.0)])
def test_boost_matches_reference_gravity_turn(kick_deg, cutoff):
    az = math.radians(280)
    bo, _ = fly_boost(34.3, 47.1, 1300.0, azimuth_rad=az, kick_rad=math.radians(kick_deg), cutoff_s=cutoff, boost=_boost_params())
    r_ref, v_ref = ref.boost_burnout(
        34.3, 47.1, 1300.0, azimuth_rad=az, kick_rad=math.radians(kick_deg), cutoff_s=cutoff, **BOOST
    )
    assert np.linalg.norm(bo.r_ecef_m[0] - r_ref) < 1.0
    assert np.linalg.norm(bo.v_ecef_mps[0] - v_ref) < 0.01


# --------------------------------------------------------------------------- targeting on WGS84


def _random_pairs(n, lo_km, hi_km, seed):
    rng = np.random.default_rng(seed)
    lat1 = rng.uniform(-60, 60, n)
    lon1 = rng.uniform(-180, 180, n)
    az = rng.uniform(0, 360, n)
    dist = rng.uniform(lo_km, hi_km, n) * 1e3
    g = Geodesic.WGS84
    aim = [g.Direct(a, b, c, d) for a, b, c, d in zip(lat1, lon1, az, dist)]
    return lat1, lon1, np.array([x["lat2"] for x in aim]), np.array([x["lon2"] for x in aim])


def test_targeting_without_boost_hits_within_100_m():
    lat1, lon1, lat2, lon2 = _random_pairs(12, 300, 3000, seed=7)
    alt = np.random.default_rng(8).uniform(0, 80e3, 12)  # burnout altitudes
    sol = solve_targeting(lat1, lon1, alt, lat2, lon2, 0.0, beta_kg_m2=5000.0, earth="wgs84")
    assert sol.ok.all(), sol.message
    # check the hit with the independent reference integrator
    for i in range(0, 12, 3):
        _, y = ref.fly_to_ground(sol.burnout.r_ecef_m[i], sol.burnout.v_ecef_mps[i], 5000.0)
        miss = np.linalg.norm(y[:3] - ref.geodetic_to_ecef(lat2[i], lon2[i], 0.0))
        assert miss < 100 * metre


LONG_RANGE_BOOST = {"m0": 30_000.0, "mp": 26_500.0, "tb": 120.0, "isp": 280.0, "tv": 6.0, "area": 1.8, "cd": 0.3}


@pytest.mark.parametrize("profile", ["minimum-energy", "lofted", "depressed"])
def test_targeting_with_boost_hits_within_100_m(profile):
    lat1, lon1, lat2, lon2 = _random_pairs(8, 300, 3000, seed=11)
    prof, value = {
        "minimum-energy": (Profile.MINIMUM_ENERGY, np.nan),
        "lofted": (Profile.APOGEE, np.nan),
        "depressed": (Profile.FLIGHT_PATH_ANGLE, np.nan),
    }[profile]
    if profile == "lofted":
        me = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST))
        value = me.apogee_alt_m * 1.15
    if profile == "depressed":
        me = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST))
        value = me.burnout.flight_path_angle_rad - math.radians(4)
    sol = solve_targeting(
        lat1, lon1, 0.0, lat2, lon2, 0.0, beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST),
        profile=prof, profile_value=value,
    )
    assert sol.ok.all(), sol.message
    assert np.all(sol.miss_m < 100 * metre)
    if profile == "lofted":
        np.testing.assert_allclose(sol.apogee_alt_m, value, atol=10.0)
    if profile == "depressed":
        np.testing.assert_allclose(sol.burnout.flight_path_angle_rad, value, atol=1e-5)
    # independent check of one solution: reference boost + reference free flight
    i = 0
    r_b, v_b = ref.boost_burnout(
        lat1[i], lon1[i], 0.0, azimuth_rad=sol.azimuth_rad[i], kick_rad=sol.kick_rad[i], cutoff_s=sol.cutoff_s[i],
        **LONG_RANGE_BOOST,
    )
    _, y = ref.fly_to_ground(r_b, v_b, 8000.0)
    assert np.linalg.norm(y[:3] - ref.geodetic_to_ecef(lat2[i], lon2[i], 0.0)) < 100 * metre


@pytest.mark.parametrize("boost", [None, LONG_RANGE_BOOST])
def test_a_warm_started_solve_hits_a_moved_aim_point_like_a_cold_one(boost):
    """Started from the solution to nearby aim points (a guidance error of a few hundred
    metres), the solver reaches the moved aim points as a cold solve does, with the same
    least burnout speed, and the independent reference flight lands on them."""
    lat1, lon1, lat2, lon2 = _random_pairs(6, 400, 2500, seed=21)
    params = None if boost is None else _boost_params(boost)
    kw = dict(beta_kg_m2=8000.0, boost=params)
    first = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, **kw)
    g = Geodesic.WGS84
    rng = np.random.default_rng(5)
    moved = [g.Direct(a, b, c, d) for a, b, c, d in zip(lat2, lon2, rng.uniform(0, 360, 6), rng.uniform(50, 600, 6))]
    lat3, lon3 = np.array([m["lat2"] for m in moved]), np.array([m["lon2"] for m in moved])
    cold = solve_targeting(lat1, lon1, 0.0, lat3, lon3, 0.0, **kw)
    warm = solve_targeting(lat1, lon1, 0.0, lat3, lon3, 0.0, initial=first, **kw)
    assert warm.ok.all(), warm.message
    # within metres, not always the solver's 5 cm: from sea level (no boost) a minimum-energy
    # solve may end its iterations a few metres off, its range flat in the flight-path angle
    # and smooth only to tenths of a metre after the first seconds through sea-level air
    assert np.all(warm.miss_m < 10.0) and np.all(cold.miss_m < 10.0)
    # the same least-energy burnout (the optimum is flat in the flight-path angle)
    np.testing.assert_allclose(warm.burnout.speed_mps, cold.burnout.speed_mps, rtol=1e-5)
    i = 0
    if boost is None:
        r_b, v_b = warm.burnout.r_ecef_m[i], warm.burnout.v_ecef_mps[i]
    else:
        r_b, v_b = ref.boost_burnout(lat1[i], lon1[i], 0.0, azimuth_rad=warm.azimuth_rad[i], kick_rad=warm.kick_rad[i],
                                     cutoff_s=warm.cutoff_s[i], **boost)
    _, y = ref.fly_to_ground(r_b, v_b, 8000.0)
    assert np.linalg.norm(y[:3] - ref.geodetic_to_ecef(lat3[i], lon3[i], 0.0)) < 100 * metre


def test_minimum_energy_is_the_least_energy():
    lat1, lon1, lat2, lon2 = _random_pairs(3, 800, 1500, seed=3)
    me = solve_targeting(lat1, lon1, 0.0, lat2, lon2, 0.0, beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST))
    for delta in (-3.0, 3.0):
        other = solve_targeting(
            lat1, lon1, 0.0, lat2, lon2, 0.0, beta_kg_m2=8000.0, boost=_boost_params(LONG_RANGE_BOOST),
            profile=Profile.FLIGHT_PATH_ANGLE, profile_value=me.burnout.flight_path_angle_rad + math.radians(delta),
        )
        assert other.ok.all()
        assert np.all(other.cutoff_s > me.cutoff_s)


def test_out_of_range_is_reported():
    sol = solve_targeting(34.3, 47.1, 0.0, 34.3, 10.0, 0.0, beta_kg_m2=5000.0, boost=_boost_params())
    assert not sol.ok[0]
    assert "beyond" in sol.message[0]
    assert 1000e3 < sol.max_range_m[0] < 3000e3


# --------------------------------------------------------------------------- terminal descent

_FALLS = [  # (lat, lon, height m, east, north, up m/s, beta kg/m^2): light bodies falling into dense air
    (37.0, 37.4, 60_000.0, 1500.0, 300.0, -800.0, 1.0),
    (36.5, 36.0, 40_000.0, 0.0, 0.0, 0.0, 0.3),
    (38.0, 38.0, 30_000.0, -600.0, 400.0, -200.0, 20.0),
]


def _fall_state(lat, lon, h, ve, vn, vu):
    r = ref.geodetic_to_ecef(lat, lon, h)
    e, n, u = ref.local_axes(math.radians(lat), math.radians(lon))
    return r, ve * e + vn * n + vu * u


@pytest.mark.parametrize("fast_air", [False, True])
@pytest.mark.parametrize("case", _FALLS)
def test_terminal_descent_matches_a_stiff_reference_integration(case, fast_air):
    """The closed-form quasi-steady descent (with its lag and Coriolis corrections)
    against scipy's LSODA on the independent reference physics (the whole fall
    integrated): landing within 5 m, fall time within 0.05 %, impact speed within 1 %
    (the terminal speed at the ground); in the exact air and in the fast air."""
    *state, beta = case
    r0, v0 = _fall_state(*state)
    t_ref, y_ref = ref.fly_to_ground(r0, v0, beta, rtol=1e-9, method="LSODA")
    got = propagate_to_impact(r0[None], v0[None], beta, terminal_tau_s=10.0, fast_air=fast_air)
    assert got.status[0] == STATUS_IMPACT
    assert np.isfinite(got.terminal_alt_m[0])  # the closed form was used
    assert np.linalg.norm(got.r_ecef_m[0] - y_ref[:3]) < 5.0
    assert got.time_s[0] == pytest.approx(t_ref, rel=5e-4)
    assert np.linalg.norm(got.v_ecef_mps[0]) == pytest.approx(np.linalg.norm(y_ref[3:]), rel=1e-2)


def test_terminal_descent_stops_in_the_air_at_the_time_limit():
    """A fall longer than ``max_time_s`` ends in the air at the reference's height then."""
    r0, v0 = _fall_state(36.5, 36.0, 40_000.0, 0.0, 0.0, 0.0)
    t_max = 900.0
    sol = ref.solve_ivp(ref.free_flight_rhs(0.3), (0.0, t_max), np.concatenate([r0, v0]), method="LSODA",
                        rtol=1e-9, atol=1e-9)
    h_ref = ref.geodetic(sol.y[:3, -1])[2]
    got = propagate_to_impact(r0[None], v0[None], 0.3, terminal_tau_s=10.0, max_time_s=t_max)
    assert got.status[0] == STATUS_TIMEOUT and np.isnan(got.time_s[0])
    h = ref.geodetic(got.r_ecef_m[0])[2]
    assert abs(h - h_ref) < 0.005 * (40_000.0 - h_ref)


def test_terminal_descent_is_off_by_default_and_leaves_fast_bodies_alone():
    r0, v0 = _fall_state(37.0, 37.4, 60_000.0, 1500.0, 300.0, -800.0)
    plain = propagate_to_impact(r0[None], v0[None], 1.0)
    assert np.isnan(plain.terminal_alt_m[0])  # integrated to the ground
    heavy = propagate_to_impact(r0[None], v0[None], 5000.0, terminal_tau_s=10.0)  # reaches the ground fast
    assert np.isnan(heavy.terminal_alt_m[0])
    np.testing.assert_array_equal(heavy.r_ecef_m, propagate_to_impact(r0[None], v0[None], 5000.0).r_ecef_m)


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-80.0, 80.0), lon=st.floats(-180.0, 180.0), h=st.floats(5e3, 60e3),
    speed=st.floats(0.0, 800.0), heading=st.floats(0.0, 360.0), dive=st.floats(-80.0, 30.0),
    log_beta=st.floats(-1.0, 2.0), ground=st.floats(-400.0, 3000.0),
)
def test_terminal_descent_lands_where_the_integrated_fall_does(lat, lon, h, speed, heading, dive, log_beta, ground):
    """Any light body, anywhere, falling onto any ground height: the closed-form end of its
    fall lands within 5 m and 0.05 % of the fall time of the same fall integrated to the
    ground (rtol 1e-10)."""
    e, n, u = ref.local_axes(math.radians(lat), math.radians(lon))
    az, el = math.radians(heading), math.radians(dive)
    r0 = ref.geodetic_to_ecef(lat, lon, h)
    v0 = speed * (math.cos(el) * (math.sin(az) * e + math.cos(az) * n) + math.sin(el) * u)
    beta = 10.0**log_beta
    full = propagate_to_impact(r0[None], v0[None], beta, ground_alt_m=ground, rtol=1e-10, max_time_s=50_000.0)
    closed = propagate_to_impact(r0[None], v0[None], beta, ground_alt_m=ground, terminal_tau_s=10.0, max_time_s=50_000.0)
    assert full.status[0] == closed.status[0] == STATUS_IMPACT
    assert np.linalg.norm(closed.r_ecef_m[0] - full.r_ecef_m[0]) < 5.0
    assert closed.time_s[0] == pytest.approx(full.time_s[0], rel=5e-4)
