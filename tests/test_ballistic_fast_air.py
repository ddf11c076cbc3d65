"""The fast air of fragment falls (``fast_air``) against outside authorities.

References: PROJ through pyproj (EPSG:4979 -> EPSG:4978) for the ECEF position of a
geodetic point, whose height and ellipsoid normal are then known exactly; the
``ambiance`` package (its own US 1976 / ICAO 1993 implementation) for the density.
No expected number in this file was produced by hoplon itself.
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from ambiance import Atmosphere

from hoplon.core.ballistic import _fast_density, _fast_height_and_up
from hoplon.core.earth import WGS84

# Bowring's one iteration is exact to rounding below a few hundred kilometres; PROJ's ECEF
# carries rounding of ~1e-9 m.
HEIGHT_TOLERANCE_M = 1e-7
NORMAL_TOLERANCE_RAD = 1e-9  # its normal is off by ~1e-10 rad at 300 km
# Cubics on a 100 m geopotential grid: (100 m / 5.7 km)^4 / 3072 ~ 3e-11 at the smallest
# scale height.
DENSITY_TOLERANCE = 1e-9
TAIL_START_M = 81_000.0  # the exponential tail above it (documented in hoplon.core.earth)
AMBIANCE_FLOOR_M = -5004.0  # ambiance's lowest (geometric) height; hoplon holds its density below
R_GEOPOTENTIAL_M = 6_356_766.0
LAYER_BASES_GEOMETRIC_M = [R_GEOPOTENTIAL_M * hp / (R_GEOPOTENTIAL_M - hp)
                           for hp in (-5e3, 0.0, 11e3, 20e3, 32e3, 47e3, 51e3, 71e3)]


def _geodetic_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = np.concatenate([rng.uniform(-90.0, 90.0, n), [90.0, -90.0, 0.0, 89.9999, -0.0001]])
    lon = np.concatenate([rng.uniform(-180.0, 180.0, n), [0.0, 45.0, 120.0, -60.0, 10.0]])
    h = np.concatenate([rng.uniform(-1_000.0, 300_000.0, n), [250e3, -1e3, 0.0, 80e3, 35e3]])
    return lat, lon, h


def test_the_fast_height_and_normal_are_those_of_the_geodetic_point_proj_places():
    lat, lon, h = _geodetic_points(3000, 7)
    to_ecef = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    x, y, z = to_ecef.transform(lon, lat, h)
    p = WGS84.params()
    for k in range(lat.size):
        got, ux, uy, uz = _fast_height_and_up(x[k], y[k], z[k], p)
        assert got == pytest.approx(h[k], abs=HEIGHT_TOLERANCE_M)
        la, lo = math.radians(lat[k]), math.radians(lon[k])
        normal = np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
        assert np.linalg.norm(np.array([ux, uy, uz]) - normal) < NORMAL_TOLERANCE_RAD


def test_the_fast_density_is_the_standard_atmosphere():
    rng = np.random.default_rng(3)
    near_bases = np.concatenate([[b - 0.5, b - 1e-3, b + 1e-3, b + 0.5] for b in LAYER_BASES_GEOMETRIC_M])
    h = np.concatenate([rng.uniform(AMBIANCE_FLOOR_M, TAIL_START_M, 20_000), near_bases,
                        [AMBIANCE_FLOOR_M, TAIL_START_M]])
    got = np.array([_fast_density(x) for x in h])
    np.testing.assert_allclose(got, Atmosphere(h).density, rtol=DENSITY_TOLERANCE, atol=0.0)


def test_the_fast_density_holds_the_floor_below_and_the_tail_above():
    floor = Atmosphere(AMBIANCE_FLOOR_M).density[0]
    assert _fast_density(-6_000.0) == pytest.approx(floor, rel=DENSITY_TOLERANCE)
    at_start = Atmosphere(TAIL_START_M).density[0]
    for h in (81_000.5, 100e3, 250e3):
        expected = at_start * math.exp(-(h - TAIL_START_M) / 5_900.0)
        assert _fast_density(h) == pytest.approx(expected, rel=DENSITY_TOLERANCE)
