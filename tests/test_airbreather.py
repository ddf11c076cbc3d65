"""hoplon.core.airbreather against outside authorities.

References: the haversine, initial-bearing, destination-point, cross-track and
along-track formulas of spherical trigonometry (Ed Williams' Aviation Formulary,
written out here), Karney's WGS84 geodesic (geographiclib), pymap3d's geodetic->ECEF,
the IUGG mean Earth radius R1 = 6371008.8 m (Moritz, Geodetic Reference System 1980),
and closed forms of a fly-by turn of radius R (anticipation R tan(dpsi/2), arc R dpsi,
closest approach R (1/cos(dpsi/2) - 1)) and of a climb at a constant rate. No expected
number in this file was produced by hoplon itself.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest
from geographiclib.geodesic import Geodesic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hoplon.core import airbreather as ab

# IUGG mean Earth radius R1 (GRS80; Moritz 2000), the navigation sphere of the model.
R_MEAN_M = 6371008.8
# Named tolerances.
MICROMETRE = 1e-6
MILLIMETRE = 1e-3
METRE = 1.0
# The ECEF horizontal speed differs from the ground speed on the sphere by the ratio of
# the WGS84 radii of curvature (6335.4 km .. 6399.6 km, plus altitude) to R_MEAN_M.
ECEF_SPEED_REL = 0.0065

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- spherical trigonometry


def haversine_m(lat1, lon1, lat2, lon2, r=R_MEAN_M):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def bearing_rad(lat1, lon1, lat2, lon2):
    """Initial great-circle bearing from point 1 to point 2, clockwise from north."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    return np.arctan2(
        np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    )


def destination(lat, lon, bearing_deg, dist_m, r=R_MEAN_M):
    p1, l1, th, d = math.radians(lat), math.radians(lon), math.radians(bearing_deg), dist_m / r
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(th))
    l2 = l1 + math.atan2(
        math.sin(th) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def cross_track_m(lat1, lon1, lat2, lon2, lat3, lon3, r=R_MEAN_M):
    """Signed distance of point 3 from the great circle through points 1 and 2."""
    d13 = haversine_m(lat1, lon1, lat3, lon3, 1.0)
    t13 = bearing_rad(lat1, lon1, lat3, lon3)
    t12 = bearing_rad(lat1, lon1, lat2, lon2)
    return r * np.arcsin(np.sin(d13) * np.sin(t13 - t12))


def along_track_m(lat1, lon1, lat2, lon2, lat3, lon3, r=R_MEAN_M):
    d13 = haversine_m(lat1, lon1, lat3, lon3, 1.0)
    dxt = cross_track_m(lat1, lon1, lat2, lon2, lat3, lon3, 1.0)
    return r * np.arccos(np.clip(np.cos(d13) / np.cos(dxt), -1.0, 1.0))


def wrap_pi(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def turn_angles_rad(lat, lon):
    """Heading change (rad, signed) at each interior waypoint of one route."""
    out = []
    for k in range(1, len(lat) - 1):
        inbound = bearing_rad(lat[k], lon[k], lat[k - 1], lon[k - 1]) + np.pi
        outbound = bearing_rad(lat[k], lon[k], lat[k + 1], lon[k + 1])
        out.append(float(wrap_pi(outbound - inbound)))
    return np.array(out)


def plan_one(lat, lon, alt, speed, *, omega=0.05, climb=np.inf, launch=0.0):
    n = len(lat)
    return ab.plan_routes(
        np.asarray(lat, float),
        np.asarray(lon, float),
        np.broadcast_to(np.asarray(alt, float), (n,)).copy(),
        np.broadcast_to(np.asarray(speed, float), (n,)).copy(),
        np.array([0, n]),
        max_turn_rate_rad_s=omega,
        climb_rate_mps=climb,
        launch_time_s=launch,
    )


def sample(plan, t, route=0):
    """States of one route at times t (1-D)."""
    return ab.route_states_at(plan, np.full(np.shape(t), route), np.asarray(t, float))


# --------------------------------------------------------------------------- straight leg


def test_single_straight_leg_against_haversine_geodesic_and_track_formulas():
    lat, lon, v, launch = [50.0, 48.5], [30.0, 35.2], 185.0 / 3.6, 100.0
    plan = plan_one(lat, lon, 120.0, [0.0, v], launch=launch, climb=5.0)
    length = haversine_m(lat[0], lon[0], lat[1], lon[1])
    assert ab.route_length_m(plan)[0] == pytest.approx(length, rel=1e-12)
    s12 = Geodesic.WGS84.Inverse(lat[0], lon[0], lat[1], lon[1])["s12"]
    assert ab.route_length_m(plan)[0] == pytest.approx(s12, rel=5e-3)
    assert ab.arrival_time_s(plan)[0] == pytest.approx(launch + length / v, rel=1e-12)

    t = launch + np.linspace(0.0, length / v, 41)[1:-1]
    s = sample(plan, t)
    assert np.all(s.status == ab.FLYING)
    xt = cross_track_m(lat[0], lon[0], lat[1], lon[1], s.lat_deg, s.lon_deg)
    assert np.max(np.abs(xt)) < MICROMETRE * 10
    at = along_track_m(lat[0], lon[0], lat[1], lon[1], s.lat_deg, s.lon_deg)
    np.testing.assert_allclose(at, v * (t - launch), atol=MILLIMETRE)
    np.testing.assert_allclose(s.alt_m, 120.0, atol=1e-9)
    # ECEF positions are WGS84 geodetic -> ECEF of the reported lat, lon, alt.
    x, y, z = pymap3d.geodetic2ecef(s.lat_deg, s.lon_deg, s.alt_m)
    np.testing.assert_allclose(s.r_ecef_m, np.stack([x, y, z], axis=-1), rtol=0, atol=MICROMETRE)
    # Heading: the great circle's bearing at each point toward the destination.
    expected = np.degrees(bearing_rad(s.lat_deg, s.lon_deg, lat[1], lon[1])) % 360.0
    np.testing.assert_allclose(s.heading_deg, expected, atol=1e-7)


def test_before_launch_and_after_arrival():
    lat, lon, alt = [10.0, 10.5, 11.0], [20.0, 20.2, 20.1], [50.0, 800.0, 0.0]
    plan = plan_one(lat, lon, alt, 100.0, launch=1000.0, climb=20.0)
    t_end = ab.arrival_time_s(plan)[0]
    s = sample(plan, [-1e9, 999.999, 1000.0, t_end - 1e-6, t_end, t_end + 50.0, np.inf])
    np.testing.assert_array_equal(s.status, [0, 0, 1, 1, 2, 2, 2])
    for k in (0, 1):
        assert s.lat_deg[k] == pytest.approx(lat[0], abs=1e-12)
        assert s.lon_deg[k] == pytest.approx(lon[0], abs=1e-12)
        assert s.alt_m[k] == pytest.approx(alt[0], abs=1e-9)
    for k in (4, 5, 6):
        assert s.lat_deg[k] == pytest.approx(lat[-1], abs=1e-10)
        assert s.lon_deg[k] == pytest.approx(lon[-1], abs=1e-10)
        assert s.alt_m[k] == pytest.approx(alt[-1], abs=1e-9)
    np.testing.assert_array_equal(s.v_ecef_mps[[0, 1, 4, 5, 6]], 0.0)
    assert np.all(np.linalg.norm(s.v_ecef_mps[[2, 3]], axis=-1) > 99.0)
    x, y, z = pymap3d.geodetic2ecef(lat[-1], lon[-1], alt[-1])
    np.testing.assert_allclose(s.r_ecef_m[4], [x, y, z], atol=MILLIMETRE)


def test_route_through_the_pole():
    plan = plan_one([80.0, 80.0], [0.0, 180.0], 1000.0, 250.0)
    assert ab.route_length_m(plan)[0] == pytest.approx(
        haversine_m(80.0, 0.0, 80.0, 180.0), rel=1e-12
    )
    t = np.linspace(0.0, ab.arrival_time_s(plan)[0], 2001)
    s = ab.route_states(plan, t)
    assert np.all(np.isfinite(s.r_ecef_m)) and np.all(np.isfinite(s.v_ecef_mps))
    assert np.max(s.lat_deg) == pytest.approx(90.0, abs=0.01)
    step = np.linalg.norm(np.diff(s.r_ecef_m[0], axis=0), axis=-1)
    assert np.max(step) <= 250.0 * (1 + ECEF_SPEED_REL) * (t[1] - t[0])


# --------------------------------------------------------------------------- turns


@pytest.mark.parametrize("north", [1.0, -1.0], ids=["left", "right"])
def test_ninety_degree_turn_closed_forms(north):
    v, omega = 100.0, 0.05
    radius = v / omega
    lat, lon = [0.0, 0.0, north], [0.0, 1.0, 1.0]
    plan = plan_one(lat, lon, 500.0, v, omega=omega)
    assert abs(turn_angles_rad(lat, lon)[0]) == pytest.approx(math.pi / 2, abs=1e-12)
    polyline = haversine_m(0.0, 0.0, 0.0, 1.0) + haversine_m(0.0, 1.0, north, 1.0)
    shortening = 2 * radius * math.tan(math.pi / 4) - radius * math.pi / 2
    assert polyline - ab.route_length_m(plan)[0] == pytest.approx(shortening, rel=1e-3)
    # Turn duration from the plan's arc segments, and from sampled headings.
    arcs = plan.segment_kind == ab.SEGMENT_ARC
    turn_s = np.sum(plan.segment_length_m[arcs] / plan.segment_speed_mps[arcs])
    assert turn_s == pytest.approx((math.pi / 2) / omega, rel=1e-6)
    t_corner = (haversine_m(0.0, 0.0, 0.0, 1.0) - radius + radius * math.pi / 4) / v
    dt = 0.01
    t = np.arange(t_corner - 40.0, t_corner + 40.0, dt)
    s = sample(plan, t)
    heading = np.unwrap(np.radians(s.heading_deg))
    off_east = np.abs(wrap_pi(heading - math.pi / 2))
    off_pole = np.abs(wrap_pi(heading - (0.0 if north > 0 else math.pi)))
    turning = t[(off_east > 1e-9) & (off_pole > 1e-9)]
    assert turning[-1] - turning[0] == pytest.approx((math.pi / 2) / omega, abs=2 * dt)
    rate = np.abs(np.diff(heading)) / dt
    assert np.max(rate) <= omega * (1 + 1e-3)
    assert np.max(rate) == pytest.approx(omega, rel=1e-3)  # the turn is flown at the limit
    # Closest approach to a fly-by waypoint: R (1 / cos(dpsi/2) - 1).
    miss = haversine_m(s.lat_deg, s.lon_deg, 0.0, 1.0)
    assert np.min(miss) == pytest.approx(radius * (math.sqrt(2.0) - 1.0), rel=1e-3)
    # Constant altitude, and the turn is continuous in position.
    np.testing.assert_allclose(s.alt_m, 500.0, atol=1e-9)
    step = np.linalg.norm(np.diff(s.r_ecef_m, axis=0), axis=-1)
    assert np.max(step) <= v * (1 + ECEF_SPEED_REL) * dt


def test_turn_radius_uses_the_faster_leg():
    # Incoming 60 m/s, outgoing 120 m/s: R = 120 / omega, turn rate <= omega on both halves.
    omega = 0.04
    lat, lon = [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]
    plan = plan_one(lat, lon, 300.0, [0.0, 60.0, 120.0], omega=omega)
    radius = 120.0 / omega
    polyline = haversine_m(0.0, 0.0, 0.0, 1.0) + haversine_m(0.0, 1.0, 1.0, 1.0)
    assert polyline - ab.route_length_m(plan)[0] == pytest.approx(
        radius * (2 - math.pi / 2), rel=1e-3
    )
    half_arc = radius * math.pi / 4
    d = radius
    expected = (haversine_m(0.0, 0.0, 0.0, 1.0) - d + half_arc) / 60.0 + (
        haversine_m(0.0, 1.0, 1.0, 1.0) - d + half_arc
    ) / 120.0
    assert ab.arrival_time_s(plan)[0] == pytest.approx(expected, rel=1e-7)
    t = np.arange(0.0, ab.arrival_time_s(plan)[0], 0.05)
    heading = np.unwrap(np.radians(sample(plan, t).heading_deg))
    assert np.max(np.abs(np.diff(heading)) / 0.05) <= omega * (1 + 1e-3)


def test_infeasible_turn_names_route_and_waypoint():
    good = ([0.0, 0.0, 1.0], [0.0, 1.0, 1.0])
    # Route 1 turns 135 deg at waypoint 1: at 250 m/s and 0.05 rad/s (R = 5 km) that needs
    # R tan(67.5 deg) = 12.1 km of each leg, but the next leg (15.6 km, ending in another
    # turn) offers half of itself.
    lat_bad = [10.0, 10.0, 10.1, 10.1]
    lon_bad = [0.0, 1.0, 0.9, 2.0]
    lat = np.array(good[0] + lat_bad)
    lon = np.array(good[1] + lon_bad)
    with pytest.raises(ValueError, match=r"route 1, waypoint 1\b") as info:
        ab.plan_routes(
            lat,
            lon,
            np.full(7, 100.0),
            np.full(7, 250.0),
            np.array([0, 3, 7]),
            max_turn_rate_rad_s=0.05,
            climb_rate_mps=10.0,
            launch_time_s=0.0,
        )
    assert isinstance(info.value, ab.RouteError)
    assert (info.value.route, info.value.waypoint) == (1, 1)
    # Every bad route is reported, one line each.
    with pytest.raises(ab.RouteError) as info:
        ab.plan_routes(
            np.concatenate([lat, lat_bad]),
            np.concatenate([lon, lon_bad]),
            np.full(11, 100.0),
            np.full(11, 250.0),
            np.array([0, 3, 7, 11]),
            max_turn_rate_rad_s=0.05,
            climb_rate_mps=10.0,
            launch_time_s=0.0,
        )
    assert [p[:2] for p in info.value.problems] == [(1, 1), (2, 1)]
    assert str(info.value).count("\n") == 1


def test_half_leg_rule_between_two_turns_and_whole_leg_next_to_an_end():
    v, omega = 100.0, 0.05  # R = 2 km; a 90-degree turn anticipates R tan(45 deg) = 2 km
    radius = v / omega
    # Middle leg between two turns: needs 2 R of leg; 3.5 km fails at the first turn.
    short = 3500.0 / (math.pi / 180 * R_MEAN_M)
    with pytest.raises(ValueError, match=r"route 0, waypoint 1\b"):
        plan_one([0.0, 0.0, short, short], [0.0, 1.0, 1.0, 0.0], 0.0, v, omega=omega)
    long = 4100.0 / (math.pi / 180 * R_MEAN_M)
    plan_one([0.0, 0.0, long, long], [0.0, 1.0, 1.0, 0.0], 0.0, v, omega=omega)
    # First leg shorter than 2 R but longer than R: feasible (the launch point has no turn).
    first = 1.05 * radius / (math.pi / 180 * R_MEAN_M)
    plan = plan_one([0.0, 0.0, 1.0], [0.0, first, first], 0.0, v, omega=omega)
    assert ab.route_length_m(plan)[0] > 0
    with pytest.raises(ValueError, match=r"route 0, waypoint 1\b"):
        plan_one(
            [0.0, 0.0, 1.0], [0.0, 0.95 * first / 1.05, 0.95 * first / 1.05], 0.0, v, omega=omega
        )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="route 1, waypoint 1: speed_mps"):
        ab.plan_routes(
            [0, 0, 1, 1],
            [0, 1, 0, 1],
            [0, 0, 0, 0],
            [0, 50, 0, -1],
            np.array([0, 2, 4]),
            max_turn_rate_rad_s=0.1,
            climb_rate_mps=5.0,
            launch_time_s=0.0,
        )
    with pytest.raises(ValueError, match="route 0, waypoint 1: coincides"):
        plan_one([5.0, 5.0], [5.0, 5.0], 0.0, 50.0)
    with pytest.raises(ValueError, match="at least two waypoints"):
        ab.plan_routes(
            [0.0],
            [0.0],
            [0.0],
            [0.0],
            np.array([0, 1]),
            max_turn_rate_rad_s=0.1,
            climb_rate_mps=5.0,
            launch_time_s=0.0,
        )


# --------------------------------------------------------------------------- altitude


def _equator_route(alt, climb, v=50.0):
    # Straight along the equator: 10 km then 50 km (no turns).
    lon = [0.0, 10e3 / (math.pi / 180 * R_MEAN_M), 60e3 / (math.pi / 180 * R_MEAN_M)]
    return plan_one([0.0, 0.0, 0.0], lon, alt, v, climb=climb)


@pytest.mark.parametrize("alts", [(100.0, 3000.0), (3000.0, 100.0)], ids=["climb", "descent"])
def test_climb_rate_limit(alts):
    low, high = alts
    climb = 10.0  # the leg asks for 2900 m over 200 s = 14.5 m/s
    plan = _equator_route([low, high, high], climb)
    dt = 0.5
    t = np.arange(0.0, ab.arrival_time_s(plan)[0] + dt, dt)
    s = sample(plan, t)
    rate = np.diff(s.alt_m) / dt
    assert np.max(np.abs(rate)) <= climb * (1 + 1e-9)
    assert np.max(np.abs(rate)) == pytest.approx(climb, rel=1e-9)  # climbs at the limit
    t_reach = abs(high - low) / climb  # 290 s at the limit, then hold
    np.testing.assert_allclose(np.interp([t_reach / 2], t, s.alt_m), (low + high) / 2, atol=1e-6)
    hold = t >= t_reach
    np.testing.assert_allclose(s.alt_m[hold], high, atol=1e-6)
    assert sample(plan, ab.arrival_time_s(plan)).alt_m[0] == high
    np.testing.assert_allclose(
        s.vertical_rate_mps[(t > 0) & (t < t_reach)], np.sign(high - low) * climb
    )


def test_altitude_linear_in_distance_within_the_limit():
    plan = _equator_route([100.0, 600.0, 600.0], climb=10.0)  # 500 m over 10 km: 2.5 m/s
    t_wp = 10e3 / 50.0
    s = sample(plan, [0.25 * t_wp, 0.5 * t_wp, t_wp, 2 * t_wp])
    np.testing.assert_allclose(s.alt_m, [225.0, 350.0, 600.0, 600.0], atol=1e-6)
    np.testing.assert_allclose(s.vertical_rate_mps[:2], 500.0 / t_wp)


def test_altitude_at_fly_by_waypoint_is_reached_at_closest_approach():
    v, omega = 100.0, 0.05
    plan = plan_one(
        [0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 900.0, 900.0], v, omega=omega, climb=50.0
    )
    t = np.arange(0.0, ab.arrival_time_s(plan)[0], 0.05)
    s = sample(plan, t)
    k = np.argmin(haversine_m(s.lat_deg, s.lon_deg, 0.0, 1.0))
    assert s.alt_m[k] == pytest.approx(900.0, abs=0.1)  # 0.8 m/s climb, 0.05 s samples


def test_unreachable_target_altitude_raises():
    _equator_route([3000.0, 3000.0, 0.0], climb=3.0)  # 3000 m over the last 1000 s: 3 m/s
    with pytest.raises(ValueError, match=r"route 0, waypoint 2: the target.s altitude"):
        _equator_route([3000.0, 3000.0, 0.0], climb=2.9)


# --------------------------------------------------------------------------- velocity, speeds


def _zigzag_plan():
    lat = [45.0, 45.3, 45.0, 45.4, 45.1]
    lon = [30.0, 30.8, 31.6, 32.3, 33.0]
    alt = [30.0, 1500.0, 200.0, 200.0, 0.0]
    speed = [0.0, 60.0, 250.0, 120.0, 200.0]
    return (
        lat,
        lon,
        speed,
        plan_one(lat, lon, alt, speed, omega=math.radians(3.0), climb=8.0, launch=5.0),
    )


def test_velocity_is_the_central_difference_of_position():
    _, _, _, plan = _zigzag_plan()
    h = 1e-2
    t = np.linspace(5.0, ab.arrival_time_s(plan)[0], 3001)[1:-1]
    breaks = np.concatenate([plan.segment_start_time_s, plan.altitude_knot_time_s])
    t = t[np.min(np.abs(t[:, None] - breaks[None, :]), axis=1) > 3 * h]
    s = sample(plan, t)
    fd = (sample(plan, t + h).r_ecef_m - sample(plan, t - h).r_ecef_m) / (2 * h)
    err = np.linalg.norm(fd - s.v_ecef_mps, axis=-1) / np.linalg.norm(s.v_ecef_mps, axis=-1)
    assert np.max(err) < 1e-5
    # The vertical rate is the velocity's component along the ellipsoid normal.
    lat_r, lon_r = np.radians(s.lat_deg), np.radians(s.lon_deg)
    up = np.stack(
        [np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)], axis=-1
    )
    np.testing.assert_allclose(np.sum(s.v_ecef_mps * up, axis=-1), s.vertical_rate_mps, atol=1e-9)


def test_speed_along_each_leg_is_the_leg_speed():
    lat, _, speed, plan = _zigzag_plan()
    dt = 0.1
    for k in range(1, len(lat)):
        # A stretch inside leg k, away from the turns: the middle third of the polyline leg.
        t0 = np.interp(1 / 3, [0, 1], [plan.waypoint_time_s[k - 1], plan.waypoint_time_s[k]])
        t1 = np.interp(2 / 3, [0, 1], [plan.waypoint_time_s[k - 1], plan.waypoint_time_s[k]])
        t = np.linspace(t0, t1, 50)
        a, b = sample(plan, t), sample(plan, t + dt)
        ground = haversine_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) / dt
        np.testing.assert_allclose(ground, speed[k], rtol=1e-6)
        horizontal = np.sqrt(np.sum(a.v_ecef_mps**2, axis=-1) - a.vertical_rate_mps**2)
        np.testing.assert_allclose(horizontal, speed[k], rtol=ECEF_SPEED_REL)
    # Whole route (turns included): the sphere ground speed is the leg speed throughout.
    t = np.arange(5.0, ab.arrival_time_s(plan)[0] - dt, 1.0)
    a, b = sample(plan, t), sample(plan, t + dt)
    same_leg = a.to_waypoint == b.to_waypoint
    ground = haversine_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) / dt
    np.testing.assert_allclose(
        ground[same_leg], np.asarray(speed)[a.to_waypoint[same_leg]], rtol=1e-5
    )


# --------------------------------------------------------------------------- properties


@st.composite
def routes(draw, max_routes=1):
    """Feasible-by-construction horizontal routes: legs of 130-400 km, turns <= 150 deg,
    R <= 300 / 0.02 = 15 km, so the anticipation R tan(75 deg) < 56 km < half a leg."""
    n_routes = draw(st.integers(1, max_routes))
    out = []
    for _ in range(n_routes):
        n = draw(st.integers(2, 5))
        lat = [draw(st.floats(-60.0, 60.0))]
        lon = [draw(st.floats(-180.0, 180.0))]
        course = draw(st.floats(0.0, 360.0))
        for _ in range(n - 1):
            la, lo = destination(lat[-1], lon[-1], course, draw(st.floats(130e3, 400e3)))
            arrival_course = math.degrees(bearing_rad(la, lo, lat[-1], lon[-1])) + 180.0
            lat.append(la)
            lon.append(lo)
            course = arrival_course + draw(st.floats(-150.0, 150.0))
        alt = [draw(st.floats(0.0, 2000.0)) for _ in range(n)]
        speed = [0.0] + [draw(st.floats(20.0, 300.0)) for _ in range(n - 1)]
        omega = draw(st.floats(0.02, 0.3))
        climb = draw(st.floats(5.0, 60.0))
        launch = draw(st.floats(-1000.0, 1000.0))
        out.append((lat, lon, alt, speed, omega, climb, launch))
    return out


def _plan_many(rs):
    counts = [len(r[0]) for r in rs]
    cat = [np.concatenate([np.asarray(r[j], float) for r in rs]) for j in range(4)]
    try:
        return ab.plan_routes(
            *cat,
            np.concatenate([[0], np.cumsum(counts)]),
            max_turn_rate_rad_s=np.array([r[4] for r in rs]),
            climb_rate_mps=np.array([r[5] for r in rs]),
            launch_time_s=np.array([r[6] for r in rs]),
        )
    except ValueError as exc:  # only the target altitude may be out of reach here
        assert "the target" in str(exc)
        assume(False)


@PROPERTY
@given(routes())
def test_arrival_time_is_launch_plus_sum_of_leg_lengths_over_speeds(rs):
    plan = _plan_many(rs)
    lat, lon, _, speed, omega, _, launch = rs[0]
    n = len(lat)
    dpsi = np.concatenate([[0.0], turn_angles_rad(lat, lon), [0.0]])
    radius = np.zeros(n)
    radius[1:-1] = np.maximum(speed[1:-1], speed[2:]) / omega
    antic = radius * np.tan(np.abs(dpsi) / 2)
    half_arc = radius * np.abs(dpsi) / 2
    total_t, total_s, tol_s = 0.0, 0.0, 0.0
    for k in range(1, n):
        leg = haversine_m(lat[k - 1], lon[k - 1], lat[k], lon[k])
        flown = leg - antic[k - 1] - antic[k] + half_arc[k - 1] + half_arc[k]
        total_s += flown
        total_t += flown / speed[k]
        # Planar turn formulas vs the sphere: (d / R_mean)^2 / 6 relative, < 1 m per turn.
        tol_s += 1.0 * ((k > 1) + (k < n - 1)) / speed[k]
    assert ab.route_length_m(plan)[0] == pytest.approx(total_s, abs=2.0 * (n - 2) + 1e-6 * total_s)
    assert ab.arrival_time_s(plan)[0] == pytest.approx(launch + total_t, abs=tol_s + 1e-9 * total_t)
    # And the plan's own segments add up.
    seg_t = np.sum(plan.segment_length_m / plan.segment_speed_mps)
    assert ab.arrival_time_s(plan)[0] == pytest.approx(launch + seg_t, rel=1e-12)


@PROPERTY
@given(routes())
def test_positions_continuous_and_vertical_rate_limited(rs):
    plan = _plan_many(rs)
    _, _, _, speed, _, climb, launch = rs[0]
    dt = 1.0
    t = np.arange(launch - 5.0, ab.arrival_time_s(plan)[0] + 5.0, dt)
    s = ab.route_states(plan, t)
    step = np.linalg.norm(np.diff(s.r_ecef_m[0], axis=0), axis=-1)
    bound = (max(speed[1:]) * (1 + ECEF_SPEED_REL) + climb) * dt + MICROMETRE
    assert np.max(step) <= bound
    assert np.max(np.abs(np.diff(s.alt_m[0]))) <= climb * dt * (1 + 1e-9) + MICROMETRE
    assert np.all(np.abs(s.vertical_rate_mps) <= climb * (1 + 1e-12))


@PROPERTY
@given(routes(max_routes=4), st.lists(st.floats(-2000.0, 20000.0), min_size=1, max_size=30))
def test_states_at_equals_grid_and_batch_equals_single_routes(rs, times):
    plan = _plan_many(rs)
    t = np.array(times)
    grid = ab.route_states(plan, t)
    n, m = len(rs), t.size
    ri = np.repeat(np.arange(n), m)
    pairs = ab.route_states_at(plan, ri, np.tile(t, n))
    for name in (
        "r_ecef_m",
        "v_ecef_mps",
        "lat_deg",
        "lon_deg",
        "alt_m",
        "heading_deg",
        "status",
        "vertical_rate_mps",
        "ground_speed_mps",
        "to_waypoint",
    ):
        a = getattr(grid, name)
        np.testing.assert_array_equal(getattr(pairs, name).reshape(a.shape), a, err_msg=name)
    for i, r in enumerate(rs):
        single = ab.route_states(_plan_many([r]), t)
        for name in ("r_ecef_m", "v_ecef_mps", "alt_m", "status"):
            np.testing.assert_array_equal(
                getattr(single, name)[0], getattr(grid, name)[i], err_msg=name
            )


def test_shapes_and_scalar_time():
    _, _, _, plan = _zigzag_plan()
    s = ab.route_states(plan, 100.0)
    assert s.r_ecef_m.shape == (1, 3) and s.status.shape == (1,)
    s = ab.route_states(plan, np.arange(7.0))
    assert s.r_ecef_m.shape == (1, 7, 3) and s.lat_deg.shape == (1, 7)
    s = ab.route_states_at(plan, 0, np.zeros((2, 3)))
    assert s.v_ecef_mps.shape == (2, 3, 3)
    assert isinstance(ab.heading_deg_at(plan, 0, 10.0), float)
    with pytest.raises(ValueError):
        ab.route_states_at(plan, 1, 0.0)
