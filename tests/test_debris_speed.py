"""The fall kernel (core.debris: two fragments at a time, state in tuples) flies every
fragment as the batched propagator does, bit for bit.

Oracle: :func:`hoplon.core.ballistic.propagate_to_impact` in its fast air with the fall's
tolerances, the general path the kernel replaces in :func:`hoplon.core.debris.fall`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import propagate_to_impact
from hoplon.core.debris import _FALL_TOLERANCES, FragmentCloud, _fall_parallel, _fall_range, fall
from hoplon.core.earth import earth_model
from hoplon.core.frames import enu_rotation, geodetic_to_ecef

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
