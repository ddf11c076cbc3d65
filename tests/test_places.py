"""Populated places: nearest-place and radius lookups against brute force and geodesy.

References: GeoNames coordinates (Gaziantep 37.05944 N, 37.3825 E; Adana 36.98615 N,
35.32531 E), Karney's geodesics through ``geographiclib`` (not Hoplon's wrapper), and a
brute-force haversine search written out here over every place. The KD-tree in
``hoplon.scenario.places`` must pick exactly what the brute force picks.
"""

from __future__ import annotations

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic

from hoplon.scenario.places import (
    compass_point,
    describe_location,
    load_places,
    nearest_places,
    places_within,
)

R_MEAN_M = 6371008.8  # IUGG mean radius R1: the sphere of the great-circle radius search
METRE = 1.0
MILLIMETRE = 1e-3
DEGREE_TOLERANCE = 1e-6

GAZIANTEP = (37.05944, 37.3825)
ADANA = (36.98615, 35.32531)
# Adana's suburbs of 5,000+ inhabitants lie nearer than 10 km to a point 10 km south of
# the city centre; among places of 15,000+ Adana itself is the nearest.
CITIES = 15_000


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance on the mean sphere (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * R_MEAN_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def brute_force_distances(lat, lon, min_population=5000):
    """Haversine distances (N, P) from N points to every place."""
    places = load_places(min_population)
    d = haversine_m(np.asarray(lat)[:, None], np.asarray(lon)[:, None], places.lat_deg[None, :], places.lon_deg[None, :])
    return d


def test_gaziantep_is_its_own_nearest_place():
    near = nearest_places(*GAZIANTEP)
    assert near.name.tolist() == ["Gaziantep"]
    assert near.country_code.tolist() == ["TR"]
    assert near.distance_m[0] == pytest.approx(0.0, abs=MILLIMETRE)
    assert describe_location(*GAZIANTEP) == ["Gaziantep, TR"]


def test_ten_km_south_of_adana():
    pt = Geodesic.WGS84.Direct(ADANA[0], ADANA[1], 180.0, 10_000.0)
    near = nearest_places(pt["lat2"], pt["lon2"], min_population=CITIES)
    assert near.name.tolist() == ["Adana"]
    assert near.country_code.tolist() == ["TR"]
    assert near.distance_m[0] == pytest.approx(10_000.0, abs=50 * METRE)
    assert near.bearing_deg[0] % 360.0 == pytest.approx(180.0, abs=0.1)
    assert describe_location(pt["lat2"], pt["lon2"], min_population=CITIES) == ["10 km S of Adana, TR"]
    # the distance and bearing are Karney's, from the place toward the point
    places = load_places(CITIES)
    inv = Geodesic.WGS84.Inverse(places.lat_deg[near.index[0]], places.lon_deg[near.index[0]], pt["lat2"], pt["lon2"])
    assert near.distance_m[0] == pytest.approx(inv["s12"], abs=MILLIMETRE)
    assert (near.bearing_deg[0] - inv["azi1"] + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=DEGREE_TOLERANCE)


@pytest.mark.parametrize(
    ("bearing", "label"),
    [(0.0, "N"), (22.4, "N"), (22.6, "NE"), (90.0, "E"), (135.0, "SE"), (180.0, "S"), (225.0, "SW"),
     (270.0, "W"), (315.0, "NW"), (337.4, "NW"), (337.6, "N"), (359.9, "N"), (-90.0, "W"), (450.0, "E")],
)
def test_compass_point(bearing, label):
    assert compass_point(bearing) == label


@pytest.mark.parametrize(("bearing", "label"), [(45.0, "NE"), (90.0, "E"), (270.0, "W"), (0.0, "N")])
def test_describe_location_formats_distance_and_direction(bearing, label):
    pt = Geodesic.WGS84.Direct(ADANA[0], ADANA[1], bearing, 25_000.0)
    # bearings are measured from the place, so walk *from* Adana
    text = describe_location(pt["lat2"], pt["lon2"], min_population=1_000_000)[0]
    assert text == f"25 km {label} of Adana, TR"


def random_points(rng: np.random.Generator, n: int, min_population: int = 5000):
    """Half uniform on the sphere, half within ~50 km of random places (dense areas)."""
    places = load_places(min_population)
    u = rng.uniform(-1.0, 1.0, n // 2)
    lat_u = np.degrees(np.arcsin(u))
    lon_u = rng.uniform(-180.0, 180.0, n // 2)
    k = rng.integers(0, len(places), n - n // 2)
    lat_p = np.clip(places.lat_deg[k] + rng.normal(0.0, 0.3, k.size), -90.0, 90.0)
    lon_p = (places.lon_deg[k] + rng.normal(0.0, 0.3, k.size) + 180.0) % 360.0 - 180.0
    return np.concatenate([lat_u, lat_p]), np.concatenate([lon_u, lon_p])


@pytest.mark.parametrize("min_population", [5000, CITIES])
def test_nearest_place_equals_brute_force(min_population):
    rng = np.random.default_rng(20260309)
    lat, lon = random_points(rng, 300, min_population)
    near = nearest_places(lat, lon, min_population=min_population)
    d = brute_force_distances(lat, lon, min_population)
    best = d.min(axis=1)
    rows = np.arange(lat.size)
    # the same place, or (ties) one just as near, to floating-point precision
    chosen = d[rows, near.index]
    assert np.all(chosen <= best + MILLIMETRE), np.max(chosen - best)
    assert np.mean(near.index == d.argmin(axis=1)) > 0.99  # exact ties are rare
    places = load_places(min_population)
    np.testing.assert_array_equal(near.name, places.name[near.index])
    np.testing.assert_array_equal(near.country_code, places.country_code[near.index])
    # distance and bearing from the place are ellipsoidal (Karney): within 0.6 % of the sphere's
    for i in range(0, lat.size, 15):
        inv = Geodesic.WGS84.Inverse(places.lat_deg[near.index[i]], places.lon_deg[near.index[i]], lat[i], lon[i])
        assert near.distance_m[i] == pytest.approx(inv["s12"], abs=MILLIMETRE)
        if inv["s12"] > 1.0:
            assert (near.bearing_deg[i] - inv["azi1"] + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=DEGREE_TOLERANCE)
    np.testing.assert_allclose(near.distance_m, best, rtol=0.006, atol=METRE)


def test_nearest_places_shapes():
    near = nearest_places([10.0, 20.0, 30.0], [0.0, 10.0, 20.0])
    for field in near:
        assert np.shape(field) == (3,)
    one = nearest_places(*GAZIANTEP)
    for field in one:
        assert np.shape(field) == (1,)


@pytest.mark.parametrize(
    ("lat", "lon", "radius_m"),
    [
        (*ADANA, 20_000.0),
        (*GAZIANTEP, 100_000.0),
        (41.0, 29.0, 50_000.0),  # Istanbul: dense
        (0.0, -140.0, 500_000.0),  # open Pacific: none
        (64.0, -20.0, 1_000_000.0),
        (-33.9, 151.2, 30_000.0),
        (89.0, 0.0, 2_000_000.0),  # near the pole
        (10.0, 179.9, 300_000.0),  # across the antimeridian
    ],
)
def test_places_within_equals_brute_force(lat, lon, radius_m):
    places = load_places()
    d = haversine_m(lat, lon, places.lat_deg, places.lon_deg)
    found = places_within(lat, lon, radius_m)
    assert found.dtype == np.int64
    assert np.all(np.diff(found) > 0)  # sorted, no duplicates
    expected = set(np.flatnonzero(d <= radius_m).tolist())
    got = set(found.tolist())
    # places within a millimetre of the circle may fall either side of it
    borderline = set(np.flatnonzero(np.abs(d - radius_m) < MILLIMETRE).tolist())
    assert got - borderline == expected - borderline


def test_places_within_grows_with_radius():
    small = set(places_within(*ADANA, 10_000.0).tolist())
    large = set(places_within(*ADANA, 100_000.0).tolist())
    assert small <= large and len(large) > len(small)
    assert load_places().name[sorted(small)].tolist().count("Adana") == 1


def test_load_places_filters_by_population():
    big = load_places(100_000)
    assert np.all(big.population >= 100_000)
    assert len(big) < len(load_places(CITIES)) < len(load_places())
    assert load_places() is load_places()
    assert "Gaziantep" in set(big.name.tolist())
