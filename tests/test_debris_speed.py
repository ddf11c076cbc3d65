"""The debris stage's fast paths give the answers of the slow ones.

The fall kernel (core.debris: two fragments at a time, state in tuples) flies every
fragment as :func:`hoplon.core.ballistic.propagate_to_impact` does in its fast air with
the fall's tolerances (the general path it replaces in :func:`hoplon.core.debris.fall`),
bit for bit. The debris summaries' place labels (:func:`hoplon.scenario.places.describe_location`,
distances and bearings from the chord) are those of Karney's geodesics (geographiclib).
"""

from __future__ import annotations

import numpy as np
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import propagate_to_impact
from hoplon.core.debris import _FALL_TOLERANCES, FragmentCloud, _fall_parallel, _fall_range, fall
from hoplon.core.earth import earth_model
from hoplon.core.frames import enu_rotation, geodetic_to_ecef
from hoplon.scenario.places import _chord_geodesic, describe_location, load_places, nearest_places

_WGS84 = earth_model("wgs84")


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# a fragment: height of the break-up (m), east/north/up speed (m/s), ballistic coefficient (kg/m^2)
_fragment = st.tuples(
    st.one_of(st.floats(-50.0, 400_000.0), st.sampled_from([0.0, 20.0, 1_000.0, 120_000.0])),
    st.floats(-3_000.0, 3_000.0), st.floats(-3_000.0, 3_000.0), st.floats(-2_500.0, 2_500.0),
    st.one_of(st.floats(0.3, 3_000.0), st.just(float("inf"))),
)


def _cloud(fragments, lat_deg=37.2, lon_deg=38.1) -> FragmentCloud:
    h, e, n, u, beta = (np.array(x, dtype=float) for x in zip(*fragments, strict=True))
    r = np.atleast_2d(geodetic_to_ecef(np.full(h.size, lat_deg), np.full(h.size, lon_deg), h))
    v = np.column_stack([e, n, u]) @ enu_rotation(lat_deg, lon_deg).reshape(3, 3)  # rows: east, north, up
    ones = np.ones(h.size)
    return FragmentCloud(r, v, ones, ones / beta, beta, ones)


@settings(max_examples=60, deadline=None)
@given(st.lists(_fragment, min_size=1, max_size=9), st.sampled_from([3600.0, 200.0, 30.0]),
       st.sampled_from([0.0, 800.0]), st.sampled_from([10.0, 0.0]))
def test_fall_lands_every_fragment_where_the_propagator_does(fragments, max_time_s, ground_alt_m, terminal_tau_s):
    """Landings, fall times, impact speeds and energies of a cloud equal the propagator's bit
    for bit: climbing and falling fragments, fragments without drag, some already on the
    ground, some out of time, with and without the closed-form terminal descent."""
    cloud = _cloud(fragments)
    got = fall(cloud, max_time_s=max_time_s, ground_alt_m=ground_alt_m, terminal_tau_s=terminal_tau_s)
    end = propagate_to_impact(cloud.r_ecef_m, cloud.v_ecef_mps, cloud.beta_kg_m2, earth=_WGS84,
                              max_time_s=max_time_s, ground_alt_m=ground_alt_m, rtol=_FALL_TOLERANCES,
                              terminal_tau_s=terminal_tau_s, fast_air=True)
    speed = np.linalg.norm(end.v_ecef_mps, axis=1)
    assert _same_bits(got.lat_deg, end.lat_deg)
    assert _same_bits(got.lon_deg, end.lon_deg)
    assert _same_bits(got.fall_time_s, end.time_s)
    assert _same_bits(got.impact_speed_mps, speed)
    assert _same_bits(got.energy_j, 0.5 * cloud.mass_kg * speed**2)
    assert _same_bits(got.landed, np.isfinite(end.time_s))


@settings(max_examples=15, deadline=None)
@given(st.lists(_fragment, min_size=1, max_size=40), st.integers(1, 5))
def test_the_fall_in_blocks_is_the_fall_in_one(fragments, blocks):
    """Fragments flown in blocks (one per thread) end as when flown in one range."""
    cloud = _cloud(fragments)
    n = len(fragments)
    args = (cloud.r_ecef_m, cloud.v_ecef_mps, 1.0 / cloud.beta_kg_m2, 3600.0, 0.0, _WGS84.params(),
            np.array(_FALL_TOLERANCES), 10.0)
    one = (np.empty(n, dtype=np.int64), np.empty(n), np.empty((n, 6)))
    split = (np.empty(n, dtype=np.int64), np.empty(n), np.empty((n, 6)))
    _fall_range(0, n, *args, *one)
    _fall_parallel(blocks, *args, *split)
    for a, b in zip(one, split, strict=True):
        assert _same_bits(a, b)


# --- the summaries' place labels: from the chord, Karney's where they might round otherwise

_KARNEY = Geodesic.WGS84


def _karney_label(lat, lon, min_population):
    """The label by its rule (nearest place; beyond 1 km the distance rounded to km and the
    8-point compass bearing from the place) with geographiclib's geodesic."""
    places = load_places(min_population)
    i = int(nearest_places(lat, lon, min_population=min_population).index[0])
    g = _KARNEY.Inverse(places.lat_deg[i], places.lon_deg[i], lat, lon)
    name = f"{places.name[i]}, {places.country_code[i]}"
    if g["s12"] < 1000.0:
        return name
    return f"{g['s12'] / 1e3:.0f} km {('N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW')[int((g['azi1'] % 360 + 22.5) // 45) % 8]} of {name}"


@settings(max_examples=150, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0), st.sampled_from([5000, 1_000_000]))
def test_place_labels_are_karneys_anywhere(lat, lon, min_population):
    assert describe_location([lat], [lon], min_population=min_population) == [_karney_label(lat, lon, min_population)]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 60), st.sampled_from([-1e-2, -1e-5, -1e-8, 0.0, 1e-8, 1e-5, 1e-2]), st.integers(0, 7),
       st.sampled_from([-1e-3, -1e-7, 0.0, 1e-7, 1e-3]), st.sampled_from([(36.98615, 35.32531), (41.01384, 28.94966)]))
def test_place_labels_are_karneys_at_their_rounding_edges(km, dist_offset_m, octant, az_offset_deg, place):
    """Points whose distance from a city is a whole and a half kilometre (or 1 km), and
    whose bearing from it is on a compass boundary, give or take a hair."""
    dist = max(1000.0 if km == 0 else (km + 0.5) * 1e3, 1.0) + dist_offset_m
    p = _KARNEY.Direct(place[0], place[1], 22.5 + 45.0 * octant + az_offset_deg, dist)
    assert describe_location([p["lat2"]], [p["lon2"]], min_population=1_000_000) == [
        _karney_label(p["lat2"], p["lon2"], 1_000_000)]


def test_the_chord_geodesic_errors_lie_well_within_its_margins():
    """Against Karney's geodesics of every length to 1,000 km, anywhere: the distance and
    azimuth (from 1 km, where labels show it) from the chord are within their documented
    bounds (1.6 % of the arc correction, 0.00057 (s / a)^2 rad, and rounding), well inside
    the margins."""
    rng = np.random.default_rng(7)
    n = 3000
    lat1, lon1 = np.degrees(np.arcsin(rng.uniform(-0.999, 0.999, n))), rng.uniform(-180.0, 180.0, n)
    az, s = rng.uniform(0.0, 360.0, n), np.exp(rng.uniform(np.log(1.0), np.log(1e6), n))
    ends = [_KARNEY.Direct(*row) for row in zip(lat1, lon1, az, s, strict=True)]
    lat2, lon2 = np.array([e["lat2"] for e in ends]), np.array([e["lon2"] for e in ends])
    inv = [_KARNEY.Inverse(*row) for row in zip(lat1, lon1, lat2, lon2, strict=True)]
    s12, azi1 = np.array([g["s12"] for g in inv]), np.array([g["azi1"] for g in inv])
    dist, bearing, dist_margin, bearing_margin = _chord_geodesic(lat1, lon1, lat2, lon2)
    correction = s12**3 / (24.0 * 6378137.0**2)
    assert np.all(np.abs(dist - s12) <= 0.016 * correction + 1e-6)
    assert np.all(np.abs(dist - s12) <= dist_margin / 3.0)
    far = s12 >= 1e3
    daz = ((bearing - azi1 + 180.0) % 360.0 - 180.0)[far]
    assert np.all(np.abs(np.radians(daz)) <= 0.00057 * (s12[far] / 6378137.0) ** 2 + 1e-12)
    assert np.all(np.abs(daz) <= bearing_margin[far] / 8.0)
