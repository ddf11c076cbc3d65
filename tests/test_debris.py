"""Debris (core.debris): fragment distributions, fall physics, footprints, places.

Oracles: the closed-form distributions the cloud is drawn from (Kolmogorov-Smirnov tests
with scipy), the terminal speed sqrt(2 beta g / rho) with the US 1976 sea-level density,
drift = wind x fall time, and polygon areas and distances of simple shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import Delaunay

from hoplon.core.debris import (
    CASUALTY_ENERGY_J,
    FragmentCloud,
    fall,
    footprint,
    fragment_cloud,
    places_near,
)
from hoplon.core.frames import enu_rotation, geodesic_inverse, geodetic_to_ecef

RHO0 = 1.225  # kg/m^3, US 1976 at sea level
G0 = 9.80665


def _cloud(n=4000, kind="collision", seed=1):
    r = geodetic_to_ecef(37.0, 37.4, 25e3)
    v = enu_rotation(37.0, 37.4).T @ np.array([-1500.0, 100.0, -1200.0])
    return fragment_cloud(r, v, 600.0, np.random.default_rng(seed), n_fragments=n, kind=kind), v


@pytest.mark.parametrize(("kind", "k"), [("collision", 1.71), ("explosion", 1.6)])
def test_lengths_follow_the_breakup_power_law(kind, k):
    """The weighted sample (each fragment standing for ``count`` real ones) has the model's
    cumulative distribution N(> L) ~ L^-k, and its large fragments are sampled too."""
    cloud, _ = _cloud(kind=kind)
    lo, hi = 0.01, 1.0

    def cdf(x):
        return (lo**-k - np.clip(x, lo, hi) ** -k) / (lo**-k - hi**-k)

    order = np.argsort(cloud.length_m)
    weighted = np.cumsum(cloud.count[order]) / cloud.count.sum()
    assert np.max(np.abs(weighted - cdf(cloud.length_m[order]))) < 0.03
    assert np.mean(cloud.length_m > 0.3) > 0.2  # log-uniform: a quarter of the sample above 0.3 m


def test_area_to_mass_follows_the_model_distribution():
    # log10 A/M ~ N(mu(L), 0.4), mu = -0.6 - 0.3 (log10 L + 1) clipped to [-1.6, -0.3]
    cloud, _ = _cloud()
    mu = np.clip(-0.6 - 0.3 * (np.log10(cloud.length_m) + 1.0), -1.6, -0.3)
    resid = np.log10(cloud.area_m2 / cloud.mass_kg) - mu
    assert stats.kstest(resid, "norm", args=(0.0, 0.4)).pvalue > 1e-3


@pytest.mark.parametrize(("kind", "slope", "offset"), [("collision", 0.9, 2.9), ("explosion", 0.2, 1.85)])
def test_velocity_spread_area_to_mass_and_mass_follow_the_model(kind, slope, offset):
    # NASA standard breakup model (Johnson et al. 2001): log10 dv ~ N(slope chi + offset, 0.4)
    cloud, v0 = _cloud(kind=kind)
    am = cloud.area_m2 / cloud.mass_kg
    dv = np.linalg.norm(cloud.v_ecef_mps - v0, axis=1)
    resid = np.log10(dv) - slope * np.log10(am) - offset
    assert stats.kstest(resid, "norm", args=(0.0, 0.4)).pvalue > 1e-3
    unit = (cloud.v_ecef_mps - v0) / dv[:, None]
    assert np.linalg.norm(unit.mean(axis=0)) < 4.0 / math.sqrt(3 * len(dv))  # isotropic
    assert (cloud.mass_kg * cloud.count).sum() == pytest.approx(600.0, rel=1e-12)
    np.testing.assert_allclose(cloud.area_m2, 0.556945 * cloud.length_m**2.0047077, rtol=1e-12)
    np.testing.assert_allclose(cloud.beta_kg_m2, cloud.mass_kg / cloud.area_m2, rtol=1e-12)


def _dropped(beta, alt_m, lat=37.0, lon=37.4, n=1):
    r = np.tile(geodetic_to_ecef(lat, lon, alt_m), (n, 1))
    ones = np.ones(n)
    return FragmentCloud(r, np.zeros((n, 3)), ones * 1.0, ones / beta, ones * beta, ones * 0.1)


def test_a_light_fragment_lands_at_its_terminal_speed():
    beta = 50.0
    landing = fall(_dropped(beta, 5000.0))
    assert landing.landed[0]
    assert landing.impact_speed_mps[0] == pytest.approx(math.sqrt(2 * beta * G0 / RHO0), rel=0.01)
    assert landing.energy_j[0] == pytest.approx(0.5 * 1.0 * landing.impact_speed_mps[0] ** 2)


def test_a_constant_wind_drifts_a_fragment_by_wind_times_fall_time():
    still = fall(_dropped(50.0, 3000.0))
    windy = fall(_dropped(50.0, 3000.0), wind=lambda h: (np.full_like(h, 10.0), np.zeros_like(h)))
    d = geodesic_inverse(still.lat_deg[0], still.lon_deg[0], windy.lat_deg[0], windy.lon_deg[0])
    assert d.distance_m == pytest.approx(10.0 * still.fall_time_s[0], rel=0.02)
    assert d.azimuth1_deg == pytest.approx(90.0, abs=1.0)


def test_footprint_polygons_hold_their_share_of_landings():
    cloud, _ = _cloud(n=1500)
    land = fall(cloud)
    fp = footprint(land.lat_deg, land.lon_deg)

    def inside(poly_lat, poly_lon):
        from hoplon.core.debris import _plane

        poly = _plane(poly_lat, poly_lon, fp.median_lat_deg, fp.median_lon_deg)
        pts = _plane(land.lat_deg, land.lon_deg, fp.median_lat_deg, fp.median_lon_deg)
        return Delaunay(poly).find_simplex(pts, tol=1e-2) >= 0  # 1 cm: lat/lon round trips of the vertices

    assert 0.949 <= inside(fp.polygon95_lat_deg, fp.polygon95_lon_deg).mean() <= 0.97
    assert inside(fp.hull_lat_deg, fp.hull_lon_deg).all()
    assert 0 < fp.polygon95_area_m2 < fp.hull_area_m2
    hazardous = land.energy_j > CASUALTY_ENERGY_J
    assert 0 < hazardous.sum() < land.energy_j.size


def test_square_footprint_area_and_distances():
    # points on a 10 km x 10 km square grid around (37, 37.4): hull area 1e8 m^2
    R = enu_rotation(37.0, 37.4)
    r0 = geodetic_to_ecef(37.0, 37.4, 0.0)
    e, n = np.meshgrid(np.linspace(-5e3, 5e3, 11), np.linspace(-5e3, 5e3, 11))
    enu = np.column_stack([e.ravel(), n.ravel(), np.zeros(e.size)])
    from hoplon.core.frames import ecef_to_geodetic

    geo = ecef_to_geodetic(r0 + enu @ R)
    fp = footprint(geo.lat_deg, geo.lon_deg, probability=1.0)
    assert fp.hull_area_m2 == pytest.approx(1e8, rel=1e-3)
    probe = ecef_to_geodetic(r0 + np.array([[0.0, 0.0, 0.0], [8e3, 0.0, 0.0]]) @ R)
    inside, dist = places_near(fp, probe.lat_deg, probe.lon_deg, margin_m=2000.0)
    assert inside.tolist() == [True, False]
    assert dist[0] == 0.0 and dist[1] == pytest.approx(3000.0, rel=1e-3)


def test_bad_arguments_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind"):
        fragment_cloud(np.zeros(3), np.zeros(3), 1.0, rng, kind="nuclear")
    with pytest.raises(ValueError):
        fragment_cloud(np.zeros(3), np.zeros(3), -1.0, rng)
    with pytest.raises(ValueError):
        footprint([], [])


def test_distance_to_a_footprint_polygon_matches_scipy_hull_and_dense_edges():
    """Inside: scipy's hull equations; outside: the nearest of densely sampled edge points."""
    from scipy.spatial import ConvexHull

    from hoplon.core.debris import _distances_to_polygon

    rng = np.random.default_rng(0)
    for _ in range(20):
        pts = rng.normal(size=(30, 2))
        hull = ConvexHull(pts)
        poly = pts[hull.vertices]  # counter-clockwise
        query = rng.normal(size=(200, 2)) * 2.0
        d = _distances_to_polygon(query, poly)
        inside = np.all(hull.equations[:, :2] @ query.T + hull.equations[:, 2:3] <= 0.0, axis=0)
        edges = np.concatenate([poly[i] + np.linspace(0, 1, 2001)[:, None] * (poly[(i + 1) % len(poly)] - poly[i])
                                for i in range(len(poly))])
        dense = np.min(np.linalg.norm(query[:, None, :] - edges[None], axis=2), axis=1)
        np.testing.assert_array_equal(d == 0.0, inside)
        np.testing.assert_allclose(d, np.where(inside, 0.0, dense), atol=1e-3)


def test_terminal_descent_drifts_with_a_sheared_wind_like_the_sampled_fall():
    """Wind rising with height (10 m/s per km east, 3 m/s per km north): the closed-form
    terminal descent's drift equals the drift summed along the fully integrated and
    sampled fall (terminal descent off) within 1 % of the drift."""
    cloud = _dropped(3.0, 20_000.0)

    def shear(h):
        return 0.01 * np.asarray(h), 0.003 * np.asarray(h)

    closed = fall(cloud, wind=shear)
    sampled = fall(cloud, wind=shear, terminal_tau_s=0.0, wind_step_s=0.5)
    still = fall(cloud, terminal_tau_s=0.0)
    drift = geodesic_inverse(still.lat_deg[0], still.lon_deg[0], sampled.lat_deg[0], sampled.lon_deg[0]).distance_m
    gap = geodesic_inverse(closed.lat_deg[0], closed.lon_deg[0], sampled.lat_deg[0], sampled.lon_deg[0]).distance_m
    assert drift > 10_000.0
    assert gap < 0.01 * drift
    assert closed.fall_time_s[0] == pytest.approx(sampled.fall_time_s[0], rel=5e-3)


def test_the_footprint_median_is_numpys_to_the_bit():
    from hoplon.core.debris import _median

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 4, 7, 180, 181, 1000):
        x = rng.normal(37.0, 0.3, n)
        assert _median(x) == np.median(x)
        assert _median(x[::-1]) == np.median(x)


def test_a_single_landing_is_its_own_footprint():
    fp = footprint([37.25], [38.5])
    assert (fp.median_lat_deg, fp.median_lon_deg) == (37.25, 38.5)
    for lat, lon in ((fp.polygon95_lat_deg, fp.polygon95_lon_deg), (fp.hull_lat_deg, fp.hull_lon_deg)):
        assert lat.shape == lon.shape == (1,)
        assert lat[0] == pytest.approx(37.25, abs=1e-12) and lon[0] == pytest.approx(38.5, abs=1e-12)
    assert fp.polygon95_area_m2 == fp.hull_area_m2 == 0.0


def test_greatest_angle_is_the_farthest_great_circle_distance_proj_measures():
    """Oracle: PROJ's geodesic on a sphere (pyproj.Geod), distance / radius."""
    import pyproj

    from hoplon.core.debris import greatest_angle_rad

    radius = 6371008.8
    geod = pyproj.Geod(a=radius, b=radius)
    rng = np.random.default_rng(11)
    for lat0, lon0, spread in ((37.0, 38.0, 0.3), (-62.0, 179.9, 5.0), (0.0, 0.0, 80.0), (89.0, -20.0, 3.0)):
        lat = np.clip(lat0 + rng.normal(0.0, spread, 300), -90.0, 90.0)
        lon = lon0 + rng.normal(0.0, spread, 300)
        _, _, dist = geod.inv(np.full(lat.size, lon0), np.full(lat.size, lat0), lon, lat)
        assert greatest_angle_rad(lat0, lon0, lat, lon) == pytest.approx(np.max(dist) / radius, rel=1e-9, abs=1e-12)
    assert greatest_angle_rad(10.0, 20.0, np.array([10.0]), np.array([20.0])) == 0.0
    assert greatest_angle_rad(10.0, 20.0, np.array([-10.0]), np.array([-160.0])) == pytest.approx(math.pi)
