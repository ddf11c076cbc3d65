"""The fall of fragments from an exo-atmospheric break-up, against an independent reference.

Oracle: :mod:`reference_physics` (scipy's LSODA on textbook gravity, rotation and the
``ambiance`` atmosphere) integrating each whole fall to the ground.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference_physics as ref

from hoplon.core.debris import FragmentCloud, fall

# (east, north, up m/s, beta kg/m^2): fragments of a kill at 250 km over south-east Turkey
_FRAGMENTS = [
    (-2100.0, 350.0, -200.0, 2.5),
    (-1900.0, 150.0, -300.0, 4.0),
    (-2300.0, 600.0, 900.0, 35.0),
    (-2600.0, 900.0, -400.0, 100.0),  # as heavy as the heaviest of the anatolia clouds
]


@pytest.mark.parametrize("fragment", _FRAGMENTS)
def test_a_fragment_falls_from_250_km_where_the_reference_lands_it(fragment):
    """Landing within 5 m and fall time within 0.05 % of the reference (the tolerances of
    the closed-form terminal descent against it, tests/test_ballistic.py)."""
    *enu, beta = fragment
    e, n, u = ref.local_axes(math.radians(37.5), math.radians(40.0))
    r0 = ref.geodetic_to_ecef(37.5, 40.0, 250e3)
    v0 = enu[0] * e + enu[1] * n + enu[2] * u
    t_ref, y_ref = ref.fly_to_ground(r0, v0, beta, rtol=1e-9, t_max=3600.0, method="LSODA")
    cloud = FragmentCloud(r0[None], v0[None], np.ones(1), np.ones(1) / beta, np.full(1, beta), np.ones(1))
    got = fall(cloud)
    assert got.landed[0]
    assert got.fall_time_s[0] == pytest.approx(t_ref, rel=5e-4)
    assert np.linalg.norm(ref.geodetic_to_ecef(got.lat_deg[0], got.lon_deg[0], 0.0) - y_ref[:3]) < 5.0
