"""Places under a debris footprint: the search radius and the summaries' places.

Oracles: the angle between the ellipsoid normals of two points (their geodetic unit
vectors), and a brute-force search of every GeoNames place with :func:`places_near`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hoplon.core.debris import footprint, places_near, polygon_reach_rad
from hoplon.core.frames import geodesic_direct
from hoplon.scenario.places import load_places
from hoplon.sim.debris import DEBRIS_SCHEMA, PLACE_MARGIN_M, PLACE_MIN_POPULATION, _summaries


def _normal(lat_deg, lon_deg):
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _landings(lat0, lon0, spread_m, n, rng):
    """n ground points scattered (normal, ``spread_m``) around (lat0, lon0), deg."""
    d = np.abs(rng.normal(0.0, spread_m, n))
    g = geodesic_direct(lat0, lon0, rng.uniform(0.0, 360.0, n), d, earth="sphere")
    return np.asarray(g.lat_deg), np.asarray(g.lon_deg)


@pytest.mark.parametrize("lat0", [0.0, 37.0, -62.0, 84.0])
@pytest.mark.parametrize("spread_m", [2e3, 80e3, 900e3])
def test_every_point_within_the_margin_of_the_polygon_lies_within_the_reach(lat0, spread_m):
    rng = np.random.default_rng(int(lat0 * 10 + spread_m))
    fp = footprint(*_landings(lat0, 20.0, spread_m, 300, rng))
    margin = 10e3
    reach = polygon_reach_rad(fp, margin)
    # probes out to twice the reach
    far = 2.0 * reach * 6.4e6
    g = geodesic_direct(fp.median_lat_deg, fp.median_lon_deg, rng.uniform(0.0, 360.0, 20_000),
                        far * np.sqrt(rng.uniform(0.0, 1.0, 20_000)), earth="sphere")
    lat, lon = np.asarray(g.lat_deg), np.asarray(g.lon_deg)
    inside, _ = places_near(fp, lat, lon, margin_m=margin)
    cos = _normal(lat, lon) @ _normal(fp.median_lat_deg, fp.median_lon_deg)
    angle = np.arccos(np.clip(cos, -1.0, 1.0))
    assert inside.sum() > 100
    assert np.all(angle[inside] <= reach)
    assert reach < 1.2 * angle[inside].max() + 1e-3  # not much more than needed


def test_summaries_list_the_places_a_brute_force_search_finds():
    """A cloud over south-east Turkey: the places of its summary are those of every GeoNames
    place within the margin of its polygon, inside first, then by distance."""
    rng = np.random.default_rng(3)
    lat, lon = _landings(37.05, 37.35, 25e3, 200, rng)
    n = lat.size
    table = pa.table({
        "cloud_id": ["c"] * n, "source": ["kill"] * n, "fragment": list(range(n)), "break_time_s": [0.0] * n,
        "land_time_s": [100.0] * n, "lat_deg": lat, "lon_deg": lon, "mass_kg": [1.0] * n, "represents": [1.0] * n,
        "beta_kg_m2": [5.0] * n, "impact_speed_mps": [30.0] * n, "energy_j": [450.0] * n, "hazardous": [True] * n,
        "landed": [True] * n,
    }, schema=DEBRIS_SCHEMA)
    events = []
    (summary,) = _summaries(None, table, events)
    places = load_places(PLACE_MIN_POPULATION)
    fp = footprint(lat, lon)
    inside, dist = places_near(fp, places.lat_deg, places.lon_deg, margin_m=PLACE_MARGIN_M)
    order = np.flatnonzero(inside)[np.lexsort((-places.population[inside], dist[inside]))]
    assert len(order) > 3
    assert [p["name"] for p in summary["places"]] == [str(places.name[k]) for k in order]
    np.testing.assert_array_equal([p["distance_m"] for p in summary["places"]], dist[order])
    assert len(events) == 1 and events[0].kind == "debris_landed"
