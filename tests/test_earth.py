"""hoplon.core.earth against outside authorities.

References: the US Standard Atmosphere 1976 table (NOAA-S/T 76-1562, geometric
altitudes), the ``ambiance`` package (its own ICAO 1993 implementation, not Hoplon's
numba port), ``pymap3d`` for geodetic heights, Vallado's J2 acceleration (*Fundamentals
of Astrodynamics and Applications*, eq. 8-30) and the WGS84 definition and normal
gravity of NIMA TR8350.2 (3rd ed., tables 3.1, 3.4 and 3.5), all written out below.
No expected number in this file was produced by hoplon itself.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest
from ambiance import Atmosphere
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core import earth
from hoplon.core.earth import acceleration_ecef_mps2, density_kg_m3, earth_model, gravity_ecef_mps2

# WGS84 defining parameters (NIMA TR8350.2, table 3.1) and J2 = -sqrt(5) C20 with the
# EGM96 normalised C20 = -0.484165371736e-3 (TR8350.2 sec. 5).
WGS84_A_M = 6378137.0
WGS84_INV_F = 298.257223563
WGS84_GM = 3.986004418e14
WGS84_OMEGA = 7.292115e-5
WGS84_C20_NORMALISED = -0.484165371736e-3
J2 = 1.08262668e-3
# WGS84 normal gravity on the ellipsoid (TR8350.2 table 3.5).
GAMMA_EQUATOR = 9.7803253359
GAMMA_POLE = 9.8321849378

# Hoplon's validation sphere (DESIGN.md: radius 6371 km, point-mass gravity).
SPHERE_R_M = 6371000.0

# Atmosphere: the tail above 81 km (documented in hoplon.core.earth).
TAIL_START_M = 81_000.0
TAIL_SCALE_M = 5_900.0
# ambiance's lower limit is -5,000 m *geopotential*, i.e. this geometric height:
R_GEOPOTENTIAL_M = 6_356_766.0
GEOPOTENTIAL_FLOOR_AS_GEOMETRIC_M = R_GEOPOTENTIAL_M * -5000.0 / (R_GEOPOTENTIAL_M + 5000.0)  # -4996.07 m

# Named tolerances.
PRINTED_DIGITS = 5e-5  # the 1976 table prints 5 significant digits
SAME_FORMULA = 1e-12  # the same closed form evaluated in a different order
J2_TRUNCATION = 1e-4  # a J2-only field against the full normal gravity formula
# The standard's tabulated base pressures are rounded, so the density jumps by up to
# ~4e-6 (relative) at the layer bases (ambiance does the same); below ~0.1 m apart two
# altitudes can therefore have the higher density above.
LAYER_BASE_JUMP = 1e-5
# The layer bases of the standard (geopotential km), as geometric heights.
LAYER_BASES_GEOMETRIC_M = np.array(
    [R_GEOPOTENTIAL_M * hp / (R_GEOPOTENTIAL_M - hp) for hp in (0.0, 11e3, 20e3, 32e3, 47e3, 51e3, 71e3)]
)

HYPOTHESIS = settings(max_examples=200, deadline=None)


def ambiance_density(h_m) -> np.ndarray:
    return np.asarray(Atmosphere(np.atleast_1d(np.asarray(h_m, dtype=float))).density, dtype=float)


# --------------------------------------------------------------------------- atmosphere


@pytest.mark.parametrize(
    ("alt_m", "rho_table"),
    [(0.0, 1.2250), (11_000.0, 3.6480e-1), (50_000.0, 1.0269e-3), (80_000.0, 1.8458e-5)],
)
def test_density_matches_us1976_table(alt_m, rho_table):
    assert density_kg_m3(alt_m) == pytest.approx(rho_table, rel=PRINTED_DIGITS)


@HYPOTHESIS
@given(st.lists(st.floats(GEOPOTENTIAL_FLOOR_AS_GEOMETRIC_M + 1e-6, TAIL_START_M), min_size=1, max_size=20))
def test_density_equals_ambiance_below_81_km(alts):
    h = np.array(alts)
    np.testing.assert_allclose(density_kg_m3(h), ambiance_density(h), rtol=SAME_FORMULA, atol=0.0)


@pytest.mark.parametrize("alt_m", [-5000.0, -4998.0])
def test_density_equals_ambiance_at_minus_5_km(alt_m):
    assert density_kg_m3(alt_m) == pytest.approx(ambiance_density(alt_m)[0], rel=SAME_FORMULA)


@HYPOTHESIS
@given(st.lists(st.floats(TAIL_START_M, 400_000.0, exclude_min=True), min_size=1, max_size=20))
def test_density_tail_above_81_km(alts):
    h = np.array(alts)
    expected = ambiance_density(TAIL_START_M)[0] * np.exp(-(h - TAIL_START_M) / TAIL_SCALE_M)
    np.testing.assert_allclose(density_kg_m3(h), expected, rtol=SAME_FORMULA, atol=0.0)


def test_density_continuous_at_81_km():
    below, at, above = density_kg_m3(np.array([TAIL_START_M - 1e-3, TAIL_START_M, TAIL_START_M + 1e-3]))
    assert at == pytest.approx(ambiance_density(TAIL_START_M)[0], rel=SAME_FORMULA)
    # 1 mm is 1.7e-7 scale heights
    assert below == pytest.approx(at, rel=1e-6)
    assert above == pytest.approx(at, rel=1e-6)
    assert below >= at >= above


@HYPOTHESIS
@given(
    st.floats(GEOPOTENTIAL_FLOOR_AS_GEOMETRIC_M + 1e-6, 300_000.0),
    st.floats(GEOPOTENTIAL_FLOOR_AS_GEOMETRIC_M + 1e-6, 300_000.0),
)
def test_density_decreases_with_altitude(h1, h2):
    lo, hi = min(h1, h2), max(h1, h2)
    rho_lo, rho_hi = density_kg_m3(lo), density_kg_m3(hi)
    assert rho_lo > 0.0 and rho_hi > 0.0
    if hi - lo > 1.0:
        assert rho_hi < rho_lo
    else:
        assert rho_hi <= rho_lo * (1.0 + LAYER_BASE_JUMP)


def test_density_strictly_decreasing_on_a_1_m_grid():
    rho = density_kg_m3(np.arange(-4990.0, 300_000.0, 1.0))
    assert np.all(np.diff(rho) < 0.0)


def test_density_scalar_in_float_out_arrays_keep_shape():
    scalar = density_kg_m3(1000.0)
    assert type(scalar) is float
    assert type(density_kg_m3(np.float64(1000.0))) is float
    assert type(density_kg_m3(0)) is float
    grid = np.array([[0.0, 11e3, 50e3], [80e3, 81e3, 120e3]])
    out = density_kg_m3(grid)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out.ravel(), density_kg_m3(grid.ravel()))
    assert out[0, 1] == density_kg_m3(11e3)
    assert density_kg_m3(np.zeros((0,))).shape == (0,)
    # a non-contiguous view gives the same numbers as its copy
    np.testing.assert_array_equal(density_kg_m3(grid.T), density_kg_m3(np.ascontiguousarray(grid.T)))


# --------------------------------------------------------------------------- gravity


def vallado_j2_gravity(r: np.ndarray, mu: float = WGS84_GM, j2: float = J2, a: float = WGS84_A_M) -> np.ndarray:
    """Vallado eq. 8-30: point mass plus the J2 perturbation, one (N, 3) array."""
    r = np.atleast_2d(r)
    x, y, z = r[:, 0], r[:, 1], r[:, 2]
    rn = np.sqrt(x * x + y * y + z * z)
    point = -mu * r / rn[:, None] ** 3
    k = -1.5 * j2 * mu * a**2 / rn**5
    s = 5.0 * z**2 / rn**2
    pert = np.stack([k * x * (1.0 - s), k * y * (1.0 - s), k * z * (3.0 - s)], axis=1)
    return point + pert


def spherical_to_ecef(lat_deg, lon_deg, radius_m) -> np.ndarray:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack(
        [radius_m * np.cos(la) * np.cos(lo), radius_m * np.cos(la) * np.sin(lo), radius_m * np.sin(la)], axis=-1
    )


points = st.lists(
    st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0), st.floats(6.3e6, 4.3e7)), min_size=1, max_size=20
)


@HYPOTHESIS
@given(points)
def test_gravity_equals_vallado_j2(pts):
    arr = np.array(pts)
    r = spherical_to_ecef(arr[:, 0], arr[:, 1], arr[:, 2])
    g = gravity_ecef_mps2(r)
    ref = vallado_j2_gravity(r)
    err = np.linalg.norm(g - ref, axis=1)
    assert np.all(err <= 1e-13 * np.linalg.norm(ref, axis=1)), err / np.linalg.norm(ref, axis=1)


@pytest.mark.parametrize(
    ("r_ecef", "gamma"),
    [
        (np.array([WGS84_A_M, 0.0, 0.0]), GAMMA_EQUATOR),
        (np.array([0.0, -WGS84_A_M, 0.0]), GAMMA_EQUATOR),
        (np.array([0.0, 0.0, WGS84_A_M * (1.0 - 1.0 / WGS84_INV_F)]), GAMMA_POLE),
        (np.array([0.0, 0.0, -WGS84_A_M * (1.0 - 1.0 / WGS84_INV_F)]), GAMMA_POLE),
    ],
    ids=["equator", "equator-90W", "north-pole", "south-pole"],
)
def test_effective_gravity_matches_wgs84_normal_gravity(r_ecef, gamma):
    w = np.array([0.0, 0.0, WGS84_OMEGA])
    g = gravity_ecef_mps2(r_ecef)[0]
    effective = g - np.cross(w, np.cross(w, r_ecef))
    assert np.linalg.norm(effective) == pytest.approx(gamma, rel=J2_TRUNCATION)
    # at the equator and the poles the normal gravity points straight down
    down = -r_ecef / np.linalg.norm(r_ecef)
    np.testing.assert_allclose(effective / np.linalg.norm(effective), down, atol=1e-12)
    # the same through the rotating-frame acceleration at rest
    still = acceleration_ecef_mps2(r_ecef, np.zeros(3))[0]
    np.testing.assert_allclose(still, effective, rtol=0, atol=1e-13 * gamma)


@HYPOTHESIS
@given(points)
def test_sphere_gravity_is_point_mass(pts):
    arr = np.array(pts)
    r = spherical_to_ecef(arr[:, 0], arr[:, 1], arr[:, 2])
    g = gravity_ecef_mps2(r, earth="sphere")
    rn = np.linalg.norm(r, axis=1)
    np.testing.assert_allclose(np.linalg.norm(g, axis=1), WGS84_GM / rn**2, rtol=1e-15, atol=0)
    # pointing at the centre
    np.testing.assert_allclose(np.cross(g, r), 0.0, atol=1e-15 * (np.linalg.norm(g, axis=1) * rn).max())
    assert np.all(np.einsum("ij,ij->i", g, r) < 0)


def test_sphere_acceleration_has_no_drag_or_rotation():
    lat = np.array([0.0, 30.0, -60.0, 89.0])
    lon = np.array([0.0, 45.0, -120.0, 10.0])
    r = spherical_to_ecef(lat, lon, SPHERE_R_M + np.array([0.0, 10e3, 40e3, 100e3]))
    v = np.array([[1000.0, 0.0, 0.0], [0.0, 3000.0, -200.0], [-50.0, 70.0, 7000.0], [0.0, 0.0, 0.0]])
    expected = -WGS84_GM * r / np.linalg.norm(r, axis=1)[:, None] ** 3
    for beta in (np.inf, 100.0, np.array([1.0, 10.0, 1e3, 1e5])):
        acc = acceleration_ecef_mps2(r, v, beta, earth="sphere")
        np.testing.assert_allclose(acc, expected, rtol=1e-14, atol=0)


def wgs84_geodetic_height(r: np.ndarray) -> np.ndarray:
    _, _, h = pymap3d.ecef2geodetic(r[:, 0], r[:, 1], r[:, 2], ell=pymap3d.Ellipsoid.from_name("wgs84"))
    return np.asarray(h, dtype=float)


def reference_density(h: np.ndarray) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    tail = ambiance_density(TAIL_START_M)[0] * np.exp(-(h - TAIL_START_M) / TAIL_SCALE_M)
    below = ambiance_density(np.minimum(h, TAIL_START_M))
    return np.where(h <= TAIL_START_M, below, tail)


def rotating_frame_reference(r: np.ndarray, v: np.ndarray, beta: np.ndarray | float) -> np.ndarray:
    """Gravity + Coriolis + centrifugal (+ drag in the co-rotating atmosphere), numpy."""
    w = np.array([0.0, 0.0, WGS84_OMEGA])
    acc = vallado_j2_gravity(r) - 2.0 * np.cross(w, v) - np.cross(w, np.cross(w, r))
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (r.shape[0],))
    rho = reference_density(wgs84_geodetic_height(r))
    speed = np.linalg.norm(v, axis=1)
    drag = np.where(np.isfinite(beta)[:, None], rho[:, None] * speed[:, None] * v / (2.0 * beta[:, None]), 0.0)
    return acc - drag


states = st.lists(
    st.tuples(
        st.floats(-89.9, 89.9),
        st.floats(-180.0, 180.0),
        st.floats(-4000.0, 200_000.0),
        st.floats(-7000.0, 7000.0),
        st.floats(-7000.0, 7000.0),
        st.floats(-7000.0, 7000.0),
        st.floats(50.0, 50_000.0),
    ),
    min_size=1,
    max_size=20,
)


def _states(rows):
    arr = np.array(rows)
    r = np.column_stack(pymap3d.geodetic2ecef(arr[:, 0], arr[:, 1], arr[:, 2]))
    return r, np.ascontiguousarray(arr[:, 3:6]), arr[:, 6]


@HYPOTHESIS
@given(states)
def test_wgs84_acceleration_without_drag_is_gravity_coriolis_centrifugal(rows):
    r, v, _ = _states(rows)
    acc = acceleration_ecef_mps2(r, v, np.inf)
    ref = rotating_frame_reference(r, v, np.inf)
    err = np.linalg.norm(acc - ref, axis=1)
    assert np.all(err <= 1e-13 * np.linalg.norm(ref, axis=1))


@HYPOTHESIS
@given(states)
def test_wgs84_acceleration_with_drag(rows):
    r, v, beta = _states(rows)
    acc = acceleration_ecef_mps2(r, v, beta)
    ref = rotating_frame_reference(r, v, beta)
    # the drag term alone, to a tolerance set by pymap3d's height (sub-micrometre); within
    # a micrometre of a layer base the two heights may fall in different layers
    drag = acc - acceleration_ecef_mps2(r, v, np.inf)
    drag_ref = ref - rotating_frame_reference(r, v, np.inf)
    h = wgs84_geodetic_height(r)
    at_base = np.min(np.abs(h[:, None] - LAYER_BASES_GEOMETRIC_M[None, :]), axis=1) < 1e-6
    rel = np.where(at_base, LAYER_BASE_JUMP, 1e-9)
    scale = np.linalg.norm(drag_ref, axis=1)
    assert np.all(np.linalg.norm(drag - drag_ref, axis=1) <= rel * scale + 1e-15)
    ref_scale = np.linalg.norm(ref, axis=1)
    assert np.all(np.linalg.norm(acc - ref, axis=1) <= 1e-12 * ref_scale + np.where(at_base, LAYER_BASE_JUMP * scale, 0))
    # drag opposes the Earth-relative velocity
    assert np.all(np.einsum("ij,ij->i", drag, v) <= 0.0)


def test_acceleration_drag_at_sea_level_by_hand():
    # 1 km/s east at the equator at sea level: a drag of rho0 v^2 / (2 beta) toward the west
    r = np.array([WGS84_A_M, 0.0, 0.0])
    v = np.array([0.0, 1000.0, 0.0])
    beta = 1000.0
    drag = acceleration_ecef_mps2(r, v, beta)[0] - acceleration_ecef_mps2(r, v, np.inf)[0]
    rho0 = ambiance_density(0.0)[0]
    np.testing.assert_allclose(drag, [0.0, -rho0 * 1000.0**2 / (2 * beta), 0.0], rtol=1e-12, atol=1e-12)


def test_acceleration_shapes_and_bad_beta():
    r = np.array([WGS84_A_M + 1e4, 0.0, 0.0])
    assert acceleration_ecef_mps2(r, np.zeros(3)).shape == (1, 3)
    assert gravity_ecef_mps2(np.tile(r, (4, 1))).shape == (4, 3)
    with pytest.raises(ValueError, match="shape"):
        gravity_ecef_mps2(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="beta"):
        acceleration_ecef_mps2(r, np.zeros(3), -1.0)


# --------------------------------------------------------------------------- models


def test_wgs84_model_constants():
    m = earth_model("wgs84")
    assert m.a_m == WGS84_A_M
    assert 1.0 / m.f == pytest.approx(WGS84_INV_F, rel=1e-15)
    assert m.mu_m3_s2 == WGS84_GM
    assert m.omega_rad_s == WGS84_OMEGA
    assert m.j2 == J2
    assert m.j2 == pytest.approx(-math.sqrt(5.0) * WGS84_C20_NORMALISED, rel=1e-8)
    assert m.drag is True
    # derived: TR8350.2 table 3.3
    assert m.b_m == pytest.approx(6356752.3142, abs=1e-4)
    assert m.e2 == pytest.approx(6.69437999014e-3, rel=1e-11)
    assert not m.is_sphere
    assert earth_model("WGS84") is m
    assert earth_model(m) is m


def test_sphere_model_constants():
    s = earth_model("sphere")
    assert (s.a_m, s.f, s.j2, s.omega_rad_s, s.drag) == (SPHERE_R_M, 0.0, 0.0, 0.0, False)
    assert s.mu_m3_s2 == WGS84_GM
    assert s.is_sphere and s.b_m == SPHERE_R_M


@pytest.mark.parametrize("name", ["egm96", "", "moon", "wgs-84"])
def test_unknown_earth_model(name):
    with pytest.raises(ValueError, match="unknown earth model"):
        earth_model(name)
    with pytest.raises(ValueError, match="unknown earth model"):
        gravity_ecef_mps2(np.array([WGS84_A_M, 0.0, 0.0]), earth=name)


def test_tail_constants_documented():
    assert earth.ATMOSPHERE_TAIL_START_M == TAIL_START_M
    assert earth.ATMOSPHERE_TAIL_SCALE_HEIGHT_M == TAIL_SCALE_M
