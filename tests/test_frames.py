"""hoplon.core.frames against outside authorities.

References: PROJ through pyproj (EPSG:4979 -> EPSG:4978 and ``pyproj.Geod``, which is
Karney's C geodesic library), pymap3d's ENU/AER/vector rotations, closed forms
written out here (haversine, the ellipsoid normal, unit vectors), the WGS84
definition (NIMA TR8350.2: a = 6378137 m, 1/f = 298.257223563) and the project's
acceptance distance. No expected number in this file was produced by hoplon itself.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core import frames
from hoplon.core.frames import AER, GeodesicDirect, GeodesicInverse, Geodetic

# Named tolerances.
MILLIMETRE = 1e-3
METRE = 1.0
NANODEGREE = 1e-9
NANORADIAN = 1e-9
MM_PER_S = 1e-3

# WGS84 by definition (NIMA TR8350.2), and the validation sphere of DESIGN.md.
WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
SPHERE_R_M = 6371000.0
# Radius bound used to turn angle errors into metres (larger than any radius of curvature).
R_BOUND_M = 6.4e6

HYPOTHESIS = settings(max_examples=300, deadline=None)

# --------------------------------------------------------------------------- strategies

latitudes = st.one_of(
    st.sampled_from([-90.0, 90.0, 0.0, -0.0, 89.999999999, -89.999999999]), st.floats(-90.0, 90.0)
)
longitudes = st.one_of(
    st.sampled_from([-180.0, 180.0, 0.0, -0.0, 179.999999999, -179.999999999]),
    st.floats(-180.0, 180.0),
)
altitudes = st.one_of(st.sampled_from([-10e3, 0.0, 2e6]), st.floats(-10e3, 2e6))
geodetic_points = st.lists(st.tuples(latitudes, longitudes, altitudes), min_size=1, max_size=40)
earths = st.sampled_from(["wgs84", "sphere"])


def _columns(points: list[tuple[float, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arr = np.array(points, dtype=np.float64).reshape(-1, 3)
    return arr[:, 0], arr[:, 1], arr[:, 2]


def _wrap_deg(d: np.ndarray) -> np.ndarray:
    """Angle difference in degrees folded into [-180, 180)."""
    return (np.asarray(d) + 180.0) % 360.0 - 180.0


def _wrap_rad(d: np.ndarray) -> np.ndarray:
    return (np.asarray(d) + math.pi) % (2.0 * math.pi) - math.pi


def _random_geodetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points uniform on the sphere of directions, with the poles and antimeridian included."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    alt = rng.uniform(-10e3, 2e6, n)
    lat[:4] = [90.0, -90.0, 0.0, 45.0]
    lon[:4] = [0.0, 180.0, -180.0, 180.0]
    return lat, lon, alt


@pytest.fixture(scope="module")
def wgs84_transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


# --------------------------------------------------------------------------- round trips


@HYPOTHESIS
@given(points=geodetic_points, earth=earths)
def test_geodetic_ecef_round_trip(points, earth):
    lat, lon, alt = _columns(points)
    r = frames.geodetic_to_ecef(lat, lon, alt, earth=earth)
    back = frames.ecef_to_geodetic(r, earth=earth)
    assert np.all((back.lon_deg > -180.0) & (back.lon_deg <= 180.0))
    assert np.all(np.abs(back.lat_deg) <= 90.0)
    np.testing.assert_allclose(back.alt_m, alt, rtol=0, atol=MILLIMETRE)
    # Horizontal position error in metres (longitude error shrinks with cos(lat) at the poles).
    north_m = np.radians(back.lat_deg - lat) * R_BOUND_M
    east_m = np.radians(_wrap_deg(back.lon_deg - lon)) * R_BOUND_M * np.cos(np.radians(lat))
    assert np.all(np.hypot(north_m, east_m) < MILLIMETRE)
    r2 = frames.geodetic_to_ecef(*back, earth=earth)
    assert np.all(np.linalg.norm(r2 - r, axis=-1) < MILLIMETRE)


@HYPOTHESIS
@given(origins=geodetic_points, targets=geodetic_points, earth=earths)
def test_ecef_enu_round_trip(origins, targets, earth):
    n = min(len(origins), len(targets))
    lat0, lon0, alt0 = (c[:n] for c in _columns(origins))
    r = frames.geodetic_to_ecef(*(c[:n] for c in _columns(targets)), earth=earth)
    origin = {"lat0_deg": lat0, "lon0_deg": lon0, "alt0_m": alt0, "earth": earth}
    enu = frames.ecef_to_enu(r, **origin)
    back = frames.enu_to_ecef(enu, **origin)
    assert np.all(np.linalg.norm(back - r, axis=-1) < MILLIMETRE)
    # A rotation keeps lengths: |enu| equals the straight-line distance from the origin.
    r0 = frames.geodetic_to_ecef(lat0, lon0, alt0, earth=earth)
    np.testing.assert_allclose(
        np.linalg.norm(enu, axis=-1), np.linalg.norm(r - r0, axis=-1), atol=MILLIMETRE
    )


enu_components = st.one_of(
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 3e6, -3e6]), st.floats(-3e6, 3e6)
)


@HYPOTHESIS
@given(
    vectors=st.lists(
        st.tuples(enu_components, enu_components, enu_components), min_size=1, max_size=40
    )
)
def test_enu_aer_round_trip(vectors):
    enu = np.array(vectors, dtype=np.float64)
    aer = frames.enu_to_aer(enu)
    assert np.all((aer.azimuth_rad >= 0.0) & (aer.azimuth_rad < 2.0 * math.pi))
    assert np.all(np.abs(aer.elevation_rad) <= math.pi / 2)
    assert np.all(aer.range_m >= 0.0)
    np.testing.assert_allclose(
        aer.range_m, np.linalg.norm(enu, axis=-1), rtol=1e-15, atol=MILLIMETRE
    )
    back = frames.aer_to_enu(*aer)
    assert np.all(np.linalg.norm(back - enu, axis=-1) < MILLIMETRE)


# ------------------------------------------------------------------ pyproj: geodetic <-> ECEF


def test_geodetic_to_ecef_matches_pyproj(wgs84_transformer):
    rng = np.random.default_rng(1)
    lat, lon, alt = _random_geodetic(rng, 20_000)
    x, y, z = wgs84_transformer.transform(lon, lat, alt)
    ours = frames.geodetic_to_ecef(lat, lon, alt)
    assert np.max(np.linalg.norm(ours - np.stack([x, y, z], axis=-1), axis=-1)) < MILLIMETRE


def _horizontal_error_m(lat_deg, lon_deg, ref_lat_deg, ref_lon_deg):
    north_m = np.radians(lat_deg - ref_lat_deg) * R_BOUND_M
    east_m = (
        np.radians(_wrap_deg(lon_deg - ref_lon_deg)) * R_BOUND_M * np.cos(np.radians(ref_lat_deg))
    )
    return np.hypot(north_m, east_m)


def test_ecef_to_geodetic_recovers_pyproj_inputs(wgs84_transformer):
    # PROJ's forward transform is the exact closed form: the geodetic point it started
    # from is the reference for our inverse, up to 2000 km altitude.
    rng = np.random.default_rng(2)
    lat, lon, alt = _random_geodetic(rng, 20_000)
    x, y, z = wgs84_transformer.transform(lon, lat, alt)
    ours = frames.ecef_to_geodetic(np.stack([x, y, z], axis=-1))
    np.testing.assert_allclose(ours.alt_m, alt, rtol=0, atol=MILLIMETRE)
    assert np.max(_horizontal_error_m(ours.lat_deg, ours.lon_deg, lat, lon)) < MILLIMETRE


def test_ecef_to_geodetic_matches_pyproj_inverse(wgs84_transformer):
    # PROJ's inverse is Bowring's one-step formula: sub-millimetre only near the surface
    # (about 0.1 mm at 100 km, 2 cm at 2000 km), so compare it there.
    rng = np.random.default_rng(3)
    lat, lon, _ = _random_geodetic(rng, 20_000)
    alt = rng.uniform(-10e3, 100e3, lat.size)
    x, y, z = wgs84_transformer.transform(lon, lat, alt)
    ref_lon, ref_lat, ref_alt = wgs84_transformer.transform(x, y, z, direction="INVERSE")
    ours = frames.ecef_to_geodetic(np.stack([x, y, z], axis=-1))
    np.testing.assert_allclose(ours.alt_m, ref_alt, rtol=0, atol=MILLIMETRE)
    assert np.max(_horizontal_error_m(ours.lat_deg, ours.lon_deg, ref_lat, ref_lon)) < MILLIMETRE


@pytest.mark.parametrize("earth", ["wgs84", "sphere"])
def test_ecef_to_height_is_the_geodetic_height(wgs84_transformer, earth):
    """The height alone: PROJ's forward transform's input height (WGS84; |r| - R on the
    sphere), and exactly ecef_to_geodetic's; NaN points (padding) have NaN heights."""
    rng = np.random.default_rng(4)
    lat, lon, alt = _random_geodetic(rng, 4_998)
    if earth == "wgs84":
        r = np.stack(wgs84_transformer.transform(lon, lat, alt), axis=-1)
        np.testing.assert_allclose(frames.ecef_to_height(r), alt, rtol=0, atol=MILLIMETRE)
    else:
        r = frames.geodetic_to_ecef(lat, lon, alt, earth=earth)
        expected = np.linalg.norm(r, axis=-1) - SPHERE_R_M
        np.testing.assert_allclose(frames.ecef_to_height(r, earth=earth), expected, rtol=0, atol=MILLIMETRE)
    grid = np.concatenate([r, np.full((3, 3), np.nan)]).reshape(-1, 3, 3)  # (..., 3) shapes kept
    height = frames.ecef_to_height(grid, earth=earth)
    assert height.shape == grid.shape[:-1]
    np.testing.assert_array_equal(height.ravel()[:-3], frames.ecef_to_geodetic(r, earth=earth).alt_m)
    assert np.isnan(height.ravel()[-3:]).all()
    assert type(frames.ecef_to_height(r[0], earth=earth)) is float


def test_sphere_geodetic_is_geocentric():
    rng = np.random.default_rng(3)
    lat, lon, alt = _random_geodetic(rng, 1000)
    phi, lam = np.radians(lat), np.radians(lon)
    expected = (SPHERE_R_M + alt)[:, None] * np.stack(
        [np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=-1
    )
    ours = frames.geodetic_to_ecef(lat, lon, alt, earth="sphere")
    assert np.max(np.linalg.norm(ours - expected, axis=-1)) < MILLIMETRE
    back = frames.ecef_to_geodetic(expected, earth="sphere")
    np.testing.assert_allclose(
        back.alt_m, np.linalg.norm(expected, axis=-1) - SPHERE_R_M, atol=MILLIMETRE
    )
    np.testing.assert_allclose(
        back.lat_deg,
        np.degrees(np.arctan2(expected[:, 2], np.hypot(expected[:, 0], expected[:, 1]))),
        atol=1e-12,
    )


def test_longitude_is_in_half_open_interval():
    # atan2(-0.0, -x) is -pi: the antimeridian must come back as +180.
    g = frames.ecef_to_geodetic(np.array([[-WGS84_A_M, -0.0, 0.0], [-WGS84_A_M, 0.0, 0.0]]))
    assert list(g.lon_deg) == [180.0, 180.0]
    assert frames.geodesic_direct(0.0, 179.0, 270.0, 0.0).lon_deg == 179.0
    assert frames.geodesic_direct(0.0, -180.0, 0.0, 0.0).lon_deg == 180.0
    assert frames.geodesic_direct(0.0, -180.0, 0.0, 0.0, earth="sphere").lon_deg == 180.0


# ------------------------------------------------------------ pymap3d: ENU, AER, velocities


def _observers_and_targets(rng: np.random.Generator, n: int):
    lat0, lon0, alt0 = _random_geodetic(rng, n)
    alt0 = rng.uniform(-100.0, 5000.0, n)
    # Targets within a few thousand km of their observer, anywhere around it.
    lat = np.clip(lat0 + rng.uniform(-20.0, 20.0, n), -90.0, 90.0)
    lon = lon0 + rng.uniform(-20.0, 20.0, n)
    alt = rng.uniform(0.0, 1.5e6, n)
    return (lat0, lon0, alt0), (lat, lon, alt)


def test_ecef_to_enu_matches_pymap3d():
    rng = np.random.default_rng(4)
    (lat0, lon0, alt0), (lat, lon, alt) = _observers_and_targets(rng, 5000)
    e, n, u = pymap3d.geodetic2enu(lat, lon, alt, lat0, lon0, alt0)
    ours = frames.ecef_to_enu(
        frames.geodetic_to_ecef(lat, lon, alt), lat0_deg=lat0, lon0_deg=lon0, alt0_m=alt0
    )
    assert np.max(np.linalg.norm(ours - np.stack([e, n, u], axis=-1), axis=-1)) < MILLIMETRE
    # And back: pymap3d's ENU -> ECEF.
    x, y, z = pymap3d.enu2ecef(e, n, u, lat0, lon0, alt0)
    back = frames.enu_to_ecef(
        np.stack([e, n, u], axis=-1), lat0_deg=lat0, lon0_deg=lon0, alt0_m=alt0
    )
    assert np.max(np.linalg.norm(back - np.stack([x, y, z], axis=-1), axis=-1)) < MILLIMETRE


def test_ecef_to_aer_matches_pymap3d():
    rng = np.random.default_rng(5)
    (lat0, lon0, alt0), (lat, lon, alt) = _observers_and_targets(rng, 5000)
    az, el, rng_m = pymap3d.geodetic2aer(lat, lon, alt, lat0, lon0, alt0)
    ours = frames.ecef_to_aer(
        frames.geodetic_to_ecef(lat, lon, alt), lat0_deg=lat0, lon0_deg=lon0, alt0_m=alt0
    )
    assert isinstance(ours, AER)
    np.testing.assert_allclose(ours.range_m, rng_m, rtol=0, atol=MILLIMETRE)
    # Angle errors as displacements at the target, in metres.
    horizontal = rng_m * np.cos(np.radians(el))
    assert np.max(np.abs(_wrap_rad(ours.azimuth_rad - np.radians(az))) * horizontal) < MILLIMETRE
    assert np.max(np.abs(ours.elevation_rad - np.radians(el)) * rng_m) < MILLIMETRE
    # aer_to_ecef against pymap3d's aer2ecef.
    x, y, z = pymap3d.aer2ecef(az, el, rng_m, lat0, lon0, alt0)
    back = frames.aer_to_ecef(
        np.radians(az), np.radians(el), rng_m, lat0_deg=lat0, lon0_deg=lon0, alt0_m=alt0
    )
    assert np.max(np.linalg.norm(back - np.stack([x, y, z], axis=-1), axis=-1)) < MILLIMETRE


def test_enu_aer_match_pymap3d():
    rng = np.random.default_rng(6)
    enu = rng.uniform(-3e6, 3e6, (5000, 3))
    az, el, r = pymap3d.enu2aer(enu[:, 0], enu[:, 1], enu[:, 2], deg=False)
    ours = frames.enu_to_aer(enu)
    np.testing.assert_allclose(ours.azimuth_rad, az, rtol=0, atol=NANORADIAN)
    np.testing.assert_allclose(ours.elevation_rad, el, rtol=0, atol=NANORADIAN)
    np.testing.assert_allclose(ours.range_m, r, rtol=0, atol=MILLIMETRE)
    e, n, u = pymap3d.aer2enu(az, el, r, deg=False)
    back = frames.aer_to_enu(az, el, r)
    assert np.max(np.linalg.norm(back - np.stack([e, n, u], axis=-1), axis=-1)) < MILLIMETRE


def test_velocity_rotations_match_pymap3d():
    rng = np.random.default_rng(7)
    lat0, lon0, _ = _random_geodetic(rng, 5000)
    v = rng.uniform(-8000.0, 8000.0, (5000, 3))
    ref_enu = np.stack(pymap3d.ecef2enuv(v[:, 0], v[:, 1], v[:, 2], lat0, lon0), axis=-1)
    ours = frames.ecef_velocity_to_enu(v, lat0_deg=lat0, lon0_deg=lon0)
    assert np.max(np.linalg.norm(ours - ref_enu, axis=-1)) < MM_PER_S
    ref_ecef = np.stack(pymap3d.enu2ecefv(v[:, 0], v[:, 1], v[:, 2], lat0, lon0), axis=-1)
    back = frames.enu_velocity_to_ecef(v, lat0_deg=lat0, lon0_deg=lon0)
    assert np.max(np.linalg.norm(back - ref_ecef, axis=-1)) < MM_PER_S
    # A single origin broadcast against N velocities.
    one = frames.ecef_velocity_to_enu(v, lat0_deg=37.0, lon0_deg=35.0)
    ref_one = np.stack(pymap3d.ecef2enuv(v[:, 0], v[:, 1], v[:, 2], 37.0, 35.0), axis=-1)
    assert np.max(np.linalg.norm(one - ref_one, axis=-1)) < MM_PER_S


def test_enu_rotation_is_orthonormal_with_ellipsoid_normal_up(wgs84_transformer):
    rng = np.random.default_rng(8)
    lat, lon, _ = _random_geodetic(rng, 2000)
    rot = frames.enu_rotation(lat, lon)
    assert rot.shape == (2000, 3, 3)
    np.testing.assert_allclose(
        rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-15
    )
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-14)
    # Up is the gradient of x^2/a^2 + y^2/a^2 + z^2/b^2 at the surface point (PROJ's ECEF).
    x, y, z = wgs84_transformer.transform(lon, lat, np.zeros_like(lat))
    grad = np.stack([x / WGS84_A_M**2, y / WGS84_A_M**2, z / WGS84_B_M**2], axis=-1)
    np.testing.assert_allclose(
        rot[:, 2, :], grad / np.linalg.norm(grad, axis=-1, keepdims=True), atol=1e-12
    )
    # East is horizontal and points along increasing longitude: (-sin lon, cos lon, 0).
    lam = np.radians(lon)
    np.testing.assert_allclose(
        rot[:, 0, :], np.stack([-np.sin(lam), np.cos(lam), 0 * lam], axis=-1), atol=1e-15
    )


# --------------------------------------------------------------------------- closed-form geometry


@pytest.mark.parametrize("earth", ["wgs84", "sphere"])
@pytest.mark.parametrize(
    ("lat0", "lon0", "alt0"), [(37.0, 35.4, 100.0), (-89.5, -179.9, 0.0), (0.0, 180.0, 3000.0)]
)
def test_cardinal_directions(earth, lat0, lon0, alt0):
    phi, lam = math.radians(lat0), math.radians(lon0)
    east = np.array([-math.sin(lam), math.cos(lam), 0.0])
    north = np.array(
        [-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)]
    )
    up = np.array([math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)])
    r0 = frames.geodetic_to_ecef(lat0, lon0, alt0, earth=earth)
    origin = {"lat0_deg": lat0, "lon0_deg": lon0, "alt0_m": alt0, "earth": earth}
    above = frames.ecef_to_aer(r0 + 1000.0 * up, **origin)
    assert abs(above.elevation_rad - math.pi / 2) < NANORADIAN
    assert abs(above.range_m - 1000.0) < MILLIMETRE
    ahead = frames.ecef_to_aer(r0 + 5000.0 * north, **origin)
    assert abs(_wrap_rad(ahead.azimuth_rad)) < NANORADIAN
    assert abs(ahead.elevation_rad) < NANORADIAN
    right = frames.ecef_to_aer(r0 + 5000.0 * east, **origin)
    assert abs(right.azimuth_rad - math.pi / 2) < NANORADIAN
    # Up above the observer in geodetic terms: same lat/lon, higher altitude.
    overhead = frames.ecef_to_aer(
        frames.geodetic_to_ecef(lat0, lon0, alt0 + 2e5, earth=earth), **origin
    )
    assert abs(overhead.elevation_rad - math.pi / 2) < NANORADIAN
    assert abs(overhead.range_m - 2e5) < MILLIMETRE


def test_same_meridian_is_due_north_and_equator_due_east():
    north = frames.ecef_to_aer(
        frames.geodetic_to_ecef(37.5, 35.0, 0.0), lat0_deg=37.0, lon0_deg=35.0, alt0_m=0.0
    )
    assert abs(_wrap_rad(north.azimuth_rad)) < NANORADIAN
    south = frames.ecef_to_aer(
        frames.geodetic_to_ecef(36.5, 35.0, 0.0), lat0_deg=37.0, lon0_deg=35.0, alt0_m=0.0
    )
    assert abs(south.azimuth_rad - math.pi) < NANORADIAN
    east = frames.ecef_to_aer(
        frames.geodetic_to_ecef(0.0, 36.0, 0.0), lat0_deg=0.0, lon0_deg=35.0, alt0_m=0.0
    )
    assert abs(east.azimuth_rad - math.pi / 2) < NANORADIAN
    west = frames.ecef_to_aer(
        frames.geodetic_to_ecef(0.0, -179.5, 0.0), lat0_deg=0.0, lon0_deg=179.5, alt0_m=0.0
    )
    assert abs(west.azimuth_rad - math.pi / 2) < NANORADIAN  # across the antimeridian, eastward


def test_enu_to_aer_exact_values():
    aer = frames.enu_to_aer(
        np.array(
            [
                [0.0, 1.0, 0.0],
                [-0.0, 1.0, 0.0],
                [1.0, 0.0, 0.0],
                [-1e-300, 1.0, 0.0],
                [0.0, -1.0, 0.0],
                [-1.0, 0.0, 0.0],
                [0.0, 0.0, 7.0],
                [0.0, 0.0, 0.0],
            ]
        )
    )
    assert aer.azimuth_rad[0] == 0.0 and aer.azimuth_rad[1] == 0.0
    assert aer.azimuth_rad[2] == math.pi / 2
    assert 0.0 <= aer.azimuth_rad[3] < 2 * math.pi
    assert aer.azimuth_rad[4] == math.pi
    assert aer.azimuth_rad[5] == 1.5 * math.pi
    assert aer.elevation_rad[6] == math.pi / 2 and aer.range_m[6] == 7.0
    assert aer.range_m[7] == 0.0 and aer.azimuth_rad[7] == 0.0 and aer.elevation_rad[7] == 0.0


# --------------------------------------------------------------------------- geodesics


def test_incirlik_to_kurecik_acceptance():
    # Acceptance oracle: Incirlik Air Base to the Kurecik radar station is 256,887 m (WGS84).
    d = frames.geodesic_distance_m(37.00194, 35.42583, 38.34944, 37.79361)
    assert abs(d - 256_887.0) < METRE
    inv = frames.geodesic_inverse(37.00194, 35.42583, 38.34944, 37.79361)
    assert abs(inv.distance_m - 256_887.0) < METRE


def test_geodesic_inverse_matches_pyproj_geod():
    rng = np.random.default_rng(9)
    lat1, lon1, _ = _random_geodetic(rng, 3000)
    lat2, lon2, _ = _random_geodetic(rng, 3000)
    az12, az21, dist = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    ours = frames.geodesic_inverse(lat1, lon1, lat2, lon2)
    assert isinstance(ours, GeodesicInverse)
    np.testing.assert_allclose(ours.distance_m, dist, rtol=0, atol=MILLIMETRE)
    # Away from the antipodal and coincident cases, where azimuths are ill-conditioned.
    ok = (dist > 1.0) & (dist < 1.99e7)
    assert np.max(np.abs(_wrap_deg(ours.azimuth1_deg - az12))[ok]) < NANODEGREE
    assert np.max(np.abs(_wrap_deg(ours.azimuth2_deg - (az21 + 180.0)))[ok]) < NANODEGREE
    assert np.all((ours.azimuth1_deg >= 0.0) & (ours.azimuth1_deg < 360.0))
    assert np.all((ours.azimuth2_deg >= 0.0) & (ours.azimuth2_deg < 360.0))
    np.testing.assert_allclose(
        frames.geodesic_distance_m(lat1, lon1, lat2, lon2), dist, rtol=0, atol=MILLIMETRE
    )


def test_geodesic_direct_matches_pyproj_geod():
    rng = np.random.default_rng(10)
    lat1, lon1, _ = _random_geodetic(rng, 3000)
    az1 = rng.uniform(-180.0, 360.0, 3000)
    dist = rng.uniform(0.0, 1.9e7, 3000)
    lon2, lat2, baz = pyproj.Geod(ellps="WGS84").fwd(lon1, lat1, az1, dist)
    ours = frames.geodesic_direct(lat1, lon1, az1, dist)
    assert isinstance(ours, GeodesicDirect)
    np.testing.assert_allclose(ours.lat_deg, lat2, rtol=0, atol=NANODEGREE)
    assert np.max(np.abs(_wrap_deg(ours.lon_deg - lon2)) * np.cos(np.radians(lat2))) < NANODEGREE
    assert np.all((ours.lon_deg > -180.0) & (ours.lon_deg <= 180.0))
    north_m = np.radians(ours.lat_deg - lat2) * R_BOUND_M
    east_m = np.radians(_wrap_deg(ours.lon_deg - lon2)) * R_BOUND_M * np.cos(np.radians(lat2))
    assert np.max(np.hypot(north_m, east_m)) < MILLIMETRE
    away_from_poles = np.abs(lat2) < 89.9
    assert (
        np.max(np.abs(_wrap_deg(ours.azimuth2_deg - (baz + 180.0)))[away_from_poles]) < NANODEGREE
    )


def _haversine_m(lat1, lon1, lat2, lon2, radius_m):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * radius_m * np.arcsin(np.sqrt(np.minimum(h, 1.0))), h


def test_sphere_distance_is_haversine():
    rng = np.random.default_rng(11)
    lat1, lon1, _ = _random_geodetic(rng, 5000)
    lat2, lon2, _ = _random_geodetic(rng, 5000)
    expected, h = _haversine_m(lat1, lon1, lat2, lon2, SPHERE_R_M)
    ours = frames.geodesic_distance_m(lat1, lon1, lat2, lon2, earth="sphere")
    well_conditioned = h < 1.0 - 1e-9  # the haversine loses digits near the antipode
    np.testing.assert_allclose(
        ours[well_conditioned], expected[well_conditioned], rtol=0, atol=MILLIMETRE
    )


def test_sphere_quarter_meridian():
    quarter = math.pi / 2 * SPHERE_R_M
    assert (
        abs(frames.geodesic_distance_m(0.0, 12.0, 90.0, 12.0, earth="sphere") - quarter)
        < MILLIMETRE
    )
    assert (
        abs(frames.geodesic_distance_m(-90.0, 0.0, 0.0, -170.0, earth="sphere") - quarter)
        < MILLIMETRE
    )
    end = frames.geodesic_direct(0.0, 12.0, 0.0, quarter, earth="sphere")
    assert abs(end.lat_deg - 90.0) < NANODEGREE
    along_equator = frames.geodesic_direct(0.0, 170.0, 90.0, quarter, earth="sphere")
    assert abs(along_equator.lat_deg) < NANODEGREE
    assert abs(along_equator.lon_deg - (-100.0)) < NANODEGREE
    assert abs(along_equator.azimuth2_deg - 90.0) < NANODEGREE


def test_sphere_geodesics_match_pyproj_geod_with_zero_flattening():
    geod = pyproj.Geod(a=SPHERE_R_M, f=0.0)
    rng = np.random.default_rng(12)
    lat1, lon1, _ = _random_geodetic(rng, 3000)
    lat2, lon2, _ = _random_geodetic(rng, 3000)
    az12, az21, dist = geod.inv(lon1, lat1, lon2, lat2)
    ours = frames.geodesic_inverse(lat1, lon1, lat2, lon2, earth="sphere")
    np.testing.assert_allclose(ours.distance_m, dist, rtol=0, atol=MILLIMETRE)
    ok = (
        (dist > 1.0)
        & (dist < math.pi * SPHERE_R_M - 1e3)
        & (np.abs(lat1) < 90.0)
        & (np.abs(lat2) < 90.0)
    )
    assert np.max(np.abs(_wrap_deg(ours.azimuth1_deg - az12))[ok]) < NANODEGREE
    assert np.max(np.abs(_wrap_deg(ours.azimuth2_deg - (az21 + 180.0)))[ok]) < NANODEGREE

    az1 = rng.uniform(0.0, 360.0, 3000)
    s = rng.uniform(0.0, 1.9e7, 3000)
    lon2, lat2, baz = geod.fwd(lon1, lat1, az1, s)
    end = frames.geodesic_direct(lat1, lon1, az1, s, earth="sphere")
    north_m = np.radians(end.lat_deg - lat2) * R_BOUND_M
    east_m = np.radians(_wrap_deg(end.lon_deg - lon2)) * R_BOUND_M * np.cos(np.radians(lat2))
    assert np.max(np.hypot(north_m, east_m)) < MILLIMETRE
    ok = (np.abs(lat2) < 89.9) & (np.abs(lat1) < 90.0)
    assert np.max(np.abs(_wrap_deg(end.azimuth2_deg - (baz + 180.0)))[ok]) < NANODEGREE


# ------------------------------------------------------------ shapes; vectorised = scalar loop


def test_scalar_in_scalar_out():
    r = frames.geodetic_to_ecef(37.0, 35.0, 100.0)
    assert r.shape == (3,)
    g = frames.ecef_to_geodetic(r)
    assert isinstance(g, Geodetic) and all(type(x) is float for x in g)
    assert frames.enu_rotation(37.0, 35.0).shape == (3, 3)
    origin = {"lat0_deg": 37.0, "lon0_deg": 35.0, "alt0_m": 0.0}
    assert frames.ecef_to_enu(r, **origin).shape == (3,)
    assert frames.enu_to_ecef(np.array([1.0, 2.0, 3.0]), **origin).shape == (3,)
    assert all(type(x) is float for x in frames.enu_to_aer([1.0, 2.0, 3.0]))
    assert frames.aer_to_enu(1.0, 0.5, 1e3).shape == (3,)
    assert all(type(x) is float for x in frames.ecef_to_aer(r, **origin))
    assert frames.aer_to_ecef(1.0, 0.5, 1e3, **origin).shape == (3,)
    assert frames.ecef_velocity_to_enu([1.0, 2.0, 3.0], lat0_deg=37.0, lon0_deg=35.0).shape == (3,)
    assert frames.enu_velocity_to_ecef([1.0, 2.0, 3.0], lat0_deg=37.0, lon0_deg=35.0).shape == (3,)
    for earth in ("wgs84", "sphere"):
        assert all(
            type(x) is float for x in frames.geodesic_inverse(37.0, 35.0, 38.0, 36.0, earth=earth)
        )
        assert all(
            type(x) is float for x in frames.geodesic_direct(37.0, 35.0, 45.0, 1e5, earth=earth)
        )
        assert type(frames.geodesic_distance_m(37.0, 35.0, 38.0, 36.0, earth=earth)) is float
    pairs = frames.ecef_to_aer_pairs(
        r + 1e4, observer_ecef_m=r, observer_lat_deg=37.0, observer_lon_deg=35.0
    )
    assert all(type(x) is float for x in pairs)


def test_empty_inputs():
    assert frames.geodetic_to_ecef([], [], []).shape == (0, 3)
    assert frames.ecef_to_geodetic(np.empty((0, 3))).lat_deg.shape == (0,)
    assert frames.geodesic_inverse([], [], [], []).distance_m.shape == (0,)


@pytest.mark.parametrize("earth", ["wgs84", "sphere"])
def test_vectorised_equals_loop_of_scalars(earth):
    rng = np.random.default_rng(13)
    n = 25
    lat, lon, alt = _random_geodetic(rng, n)
    lat0, lon0, alt0 = _random_geodetic(rng, n)
    r = frames.geodetic_to_ecef(lat, lon, alt, earth=earth)
    v = rng.normal(0.0, 1e3, (n, 3))
    az1 = rng.uniform(0.0, 360.0, n)
    dist = rng.uniform(0.0, 1e7, n)
    close = {"rtol": 0, "atol": 1e-9}

    def each(i):
        return {"lat0_deg": lat0[i], "lon0_deg": lon0[i], "alt0_m": alt0[i], "earth": earth}

    origin = {"lat0_deg": lat0, "lon0_deg": lon0, "alt0_m": alt0, "earth": earth}
    np.testing.assert_allclose(
        r, [frames.geodetic_to_ecef(lat[i], lon[i], alt[i], earth=earth) for i in range(n)], **close
    )
    g = frames.ecef_to_geodetic(r, earth=earth)
    np.testing.assert_allclose(
        np.stack(g, -1), [frames.ecef_to_geodetic(r[i], earth=earth) for i in range(n)], **close
    )
    np.testing.assert_allclose(
        frames.enu_rotation(lat, lon),
        [frames.enu_rotation(lat[i], lon[i]) for i in range(n)],
        **close,
    )
    enu = frames.ecef_to_enu(r, **origin)
    np.testing.assert_allclose(
        enu, [frames.ecef_to_enu(r[i], **each(i)) for i in range(n)], **close
    )
    np.testing.assert_allclose(
        frames.enu_to_ecef(enu, **origin),
        [frames.enu_to_ecef(enu[i], **each(i)) for i in range(n)],
        **close,
    )
    aer = frames.enu_to_aer(enu)
    np.testing.assert_allclose(
        np.stack(aer, -1), [frames.enu_to_aer(enu[i]) for i in range(n)], **close
    )
    np.testing.assert_allclose(
        frames.aer_to_enu(*aer),
        [frames.aer_to_enu(*(x[i] for x in aer)) for i in range(n)],
        **close,
    )
    np.testing.assert_allclose(
        np.stack(frames.ecef_to_aer(r, **origin), -1),
        [frames.ecef_to_aer(r[i], **each(i)) for i in range(n)],
        **close,
    )
    np.testing.assert_allclose(
        frames.aer_to_ecef(*aer, **origin),
        [frames.aer_to_ecef(*(x[i] for x in aer), **each(i)) for i in range(n)],
        **close,
    )
    np.testing.assert_allclose(
        frames.ecef_velocity_to_enu(v, lat0_deg=lat0, lon0_deg=lon0),
        [frames.ecef_velocity_to_enu(v[i], lat0_deg=lat0[i], lon0_deg=lon0[i]) for i in range(n)],
        **close,
    )
    np.testing.assert_allclose(
        frames.enu_velocity_to_ecef(v, lat0_deg=lat0, lon0_deg=lon0),
        [frames.enu_velocity_to_ecef(v[i], lat0_deg=lat0[i], lon0_deg=lon0[i]) for i in range(n)],
        **close,
    )
    inv = frames.geodesic_inverse(lat0, lon0, lat, lon, earth=earth)
    np.testing.assert_allclose(
        np.stack(inv, -1),
        [frames.geodesic_inverse(lat0[i], lon0[i], lat[i], lon[i], earth=earth) for i in range(n)],
        **close,
    )
    np.testing.assert_allclose(
        frames.geodesic_distance_m(lat0, lon0, lat, lon, earth=earth), inv.distance_m, **close
    )
    fwd = frames.geodesic_direct(lat0, lon0, az1, dist, earth=earth)
    np.testing.assert_allclose(
        np.stack(fwd, -1),
        [frames.geodesic_direct(lat0[i], lon0[i], az1[i], dist[i], earth=earth) for i in range(n)],
        **close,
    )


def test_single_origin_broadcasts_against_n_points():
    rng = np.random.default_rng(14)
    lat, lon, alt = _random_geodetic(rng, 50)
    r = frames.geodetic_to_ecef(lat, lon, alt)
    enu = frames.ecef_to_enu(r, lat0_deg=37.0, lon0_deg=35.0, alt0_m=10.0)
    ref = np.stack(pymap3d.ecef2enu(r[:, 0], r[:, 1], r[:, 2], 37.0, 35.0, 10.0), axis=-1)
    assert np.max(np.linalg.norm(enu - ref, axis=-1)) < MILLIMETRE
    # One point, many origins.
    many = frames.ecef_to_enu(r[0], lat0_deg=lat, lon0_deg=lon, alt0_m=0.0)
    assert many.shape == (50, 3)
    ref = np.stack(pymap3d.ecef2enu(r[0, 0], r[0, 1], r[0, 2], lat, lon, 0.0), axis=-1)
    assert np.max(np.linalg.norm(many - ref, axis=-1)) < MILLIMETRE
    # Broadcasting of geodetic inputs.
    assert frames.geodetic_to_ecef(lat, 35.0, 0.0).shape == (50, 3)


def test_pairs_equal_per_observer_calls():
    rng = np.random.default_rng(15)
    m, n = 6, 40
    lat0, lon0, alt0 = _random_geodetic(rng, m)
    lat, lon, alt = _random_geodetic(rng, n)
    observers = frames.geodetic_to_ecef(lat0, lon0, alt0)
    targets = frames.geodetic_to_ecef(lat, lon, alt)
    pairs = frames.ecef_to_aer_pairs(
        targets, observer_ecef_m=observers, observer_lat_deg=lat0, observer_lon_deg=lon0
    )
    assert isinstance(pairs, AER)
    assert all(x.shape == (m, n) for x in pairs)
    for k in range(m):
        row = frames.ecef_to_aer(targets, lat0_deg=lat0[k], lon0_deg=lon0[k], alt0_m=alt0[k])
        np.testing.assert_allclose(pairs.azimuth_rad[k], row.azimuth_rad, rtol=0, atol=1e-12)
        np.testing.assert_allclose(pairs.elevation_rad[k], row.elevation_rad, rtol=0, atol=1e-12)
        np.testing.assert_allclose(pairs.range_m[k], row.range_m, rtol=0, atol=1e-6)
        # And against pymap3d, as an outside reference.
        az, el, rr = pymap3d.ecef2aer(
            targets[:, 0], targets[:, 1], targets[:, 2], lat0[k], lon0[k], alt0[k]
        )
        az, el = np.radians(az), np.radians(el)
        np.testing.assert_allclose(pairs.range_m[k], rr, rtol=0, atol=MILLIMETRE)
        horizontal = rr * np.cos(el)  # azimuth is undefined straight above or below
        assert np.max(np.abs(_wrap_rad(pairs.azimuth_rad[k] - az)) * horizontal) < MILLIMETRE
        assert np.max(np.abs(pairs.elevation_rad[k] - el) * rr) < MILLIMETRE
    one_observer = frames.ecef_to_aer_pairs(
        targets, observer_ecef_m=observers[2], observer_lat_deg=lat0[2], observer_lon_deg=lon0[2]
    )
    assert one_observer.range_m.shape == (n,)
    np.testing.assert_allclose(one_observer.range_m, pairs.range_m[2], rtol=0, atol=1e-6)
    one_target = frames.ecef_to_aer_pairs(
        targets[3], observer_ecef_m=observers, observer_lat_deg=lat0, observer_lon_deg=lon0
    )
    assert one_target.range_m.shape == (m,)
    np.testing.assert_allclose(one_target.azimuth_rad, pairs.azimuth_rad[:, 3], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- validation


def test_bad_shapes_and_values_raise_clear_errors():
    with pytest.raises(ValueError, match=r"r_ecef_m must have shape \(N, 3\)"):
        frames.ecef_to_geodetic(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="do not broadcast"):
        frames.geodetic_to_ecef(np.zeros(3), np.zeros(4), 0.0)
    with pytest.raises(ValueError, match=r"lat_deg must lie in \[-90, 90\]"):
        frames.geodetic_to_ecef(90.5, 0.0, 0.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        frames.ecef_to_enu(np.ones((5, 3)) * 7e6, lat0_deg=np.zeros(4), lon0_deg=0.0, alt0_m=0.0)
    with pytest.raises(ValueError, match="enu_m must have shape"):
        frames.enu_to_aer(np.zeros(2))
    with pytest.raises(ValueError, match="observer_lat_deg must have shape"):
        frames.ecef_to_aer_pairs(
            np.ones((5, 3)),
            observer_ecef_m=np.ones((2, 3)),
            observer_lat_deg=np.zeros(3),
            observer_lon_deg=np.zeros(2),
        )
    with pytest.raises(ValueError, match="unknown earth model"):
        frames.geodesic_inverse(0.0, 0.0, 1.0, 1.0, earth="mars")
    with pytest.raises(ValueError, match="lat2_deg"):
        frames.geodesic_distance_m(0.0, 0.0, -91.0, 1.0)
