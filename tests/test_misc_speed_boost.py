"""The boost's vertical rise is kept between flights of the same launches.

Kept rises must change nothing: the recorded nodes start at rest at the launch point and
end the rise at :func:`vertical_rise`'s state; a flight with a kept rise, one given the
rise and one recording its nodes reach bit-identical burnouts; the arrays handed out are
the caller's (changing them changes no later flight). (The boost's accuracy against an
independent integration is ``test_ballistic``'s.)
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ballistic import BOOST, _boost_params

from hoplon.core.boost import _n_vertical, fly_boost, vertical_rise
from hoplon.core.frames import geodetic_to_ecef

LAUNCH = (34.3, 47.1, 1300.0)


@settings(max_examples=50, deadline=None)
@given(st.floats(1.0, 12.0), st.floats(20.0, 100.0), st.floats(0.0, 2.0 * math.pi), st.floats(1.0, 20.0))
def test_kept_rise_changes_no_flight(kick_deg, cutoff, azimuth, rise_s):
    boost = _boost_params({**BOOST, "tv": rise_s})
    controls = {"azimuth_rad": azimuth, "kick_rad": math.radians(kick_deg), "cutoff_s": max(cutoff, rise_s + 1.0)}
    rise = vertical_rise(*LAUNCH, boost=boost)
    given_rise, _ = fly_boost(*LAUNCH, boost=boost, vertical=rise, **controls)
    rise[:] = np.nan  # the caller's copy: later flights must not see this
    kept, _ = fly_boost(*LAUNCH, boost=boost, **controls)
    recorded, nodes = fly_boost(*LAUNCH, boost=boost, record=True, **controls)
    for bo in (kept, recorded):
        np.testing.assert_array_equal(bo.r_ecef_m, given_rise.r_ecef_m)
        np.testing.assert_array_equal(bo.v_ecef_mps, given_rise.v_ecef_mps)
    n_rise = _n_vertical(rise_s)
    assert nodes.offsets.tolist() == [0, 1 + n_rise + 256]
    assert nodes.time_s[0] == 0.0
    np.testing.assert_array_equal(nodes.r_ecef_m[0], geodetic_to_ecef(*LAUNCH))
    np.testing.assert_array_equal(nodes.v_ecef_mps[0], 0.0)
    assert math.isclose(nodes.time_s[n_rise], rise_s, rel_tol=1e-12)
    again = vertical_rise(*LAUNCH, boost=boost)
    np.testing.assert_array_equal(nodes.r_ecef_m[n_rise], again[0, :3])
    np.testing.assert_array_equal(nodes.v_ecef_mps[n_rise], again[0, 3:])
    np.testing.assert_array_equal(nodes.r_ecef_m[-1], recorded.r_ecef_m[0])
