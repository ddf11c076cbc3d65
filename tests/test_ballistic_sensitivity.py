"""The impact's sensitivity to the initial state and drag (core.ballistic.impact_sensitivity)
against central finite differences of the propagator at a tight tolerance (itself checked
against an independent DOP853 reference in test_ballistic.py)."""

from __future__ import annotations

import numpy as np
import pytest
import reference_physics as ref

from hoplon.core.ballistic import (
    STATUS_IMPACT,
    STATUS_TIMEOUT,
    impact_sensitivity,
    propagate_to_impact,
)

# burnout-like states: (lat, lon, height m, azimuth deg, flight-path angle deg, speed m/s), 1/beta m^2/kg
CASES = [
    ((35.0, 45.0, 150e3, 280.0, 20.0, 2500.0), 1.75e-4),  # MRBM midcourse, RV drag
    ((37.0, 40.0, 60e3, 95.0, -30.0, 2200.0), 1e-3),  # re-entering, a light body
    ((20.0, 10.0, 80e3, 10.0, 35.0, 3000.0), 0.0),  # no drag
]
STEPS = np.array([100.0, 100.0, 100.0, 0.5, 0.5, 0.5, 2e-5])
"""Central-difference steps: m, m/s, m^2/kg (their truncation and the tolerance's noise
both below 0.1 % of the derivatives)."""


def _fly(r, v, inv_beta):
    imp = propagate_to_impact(r[None], v[None], np.inf, inv_beta_m2_kg=np.array([inv_beta]), rtol=1e-12)
    return imp.r_ecef_m[0], imp.time_s[0]


@pytest.mark.parametrize(("start", "inv_beta"), CASES)
def test_impact_jacobian_matches_finite_differences(start, inv_beta):
    r0, v0 = ref.state_from_flight_path(*start)
    sens = impact_sensitivity(r0[None], v0[None], np.array([inv_beta]), rtol=1e-10)
    assert sens.status[0] == STATUS_IMPACT
    east, north, _ = ref.local_axes(np.radians(sens.lat_deg[0]), np.radians(sens.lon_deg[0]))
    x0 = np.concatenate([r0, v0, [inv_beta]])
    # the steps are the state's: a body flown without drag crosses the air in steps that
    # do not resolve its sensitivity to drag (impact_sensitivity's notes)
    for j in range(7 if inv_beta > 0 else 6):
        dx = np.zeros(7)
        dx[j] = STEPS[j]
        (r_plus, t_plus), (r_minus, t_minus) = (_fly(x[:3], x[3:6], x[6]) for x in (x0 + dx, x0 - dx))
        d_impact = (r_plus - r_minus) / (2 * STEPS[j])
        d_east_north = np.array([east @ d_impact, north @ d_impact])
        assert np.linalg.norm(sens.d_east_north_d_x0[0, :, j] - d_east_north) <= 2e-3 * np.linalg.norm(d_impact)
        assert sens.d_time_d_x0[0, j] == pytest.approx((t_plus - t_minus) / (2 * STEPS[j]), rel=2e-3)


def test_the_flight_is_the_propagators():
    """The state flies the integrator steps of propagate_to_impact: the same bits."""
    starts = [ref.state_from_flight_path(*s) for s, _ in CASES]
    r0, v0 = np.array([s[0] for s in starts]), np.array([s[1] for s in starts])
    ib = np.array([b for _, b in CASES])
    sens = impact_sensitivity(r0, v0, ib, rtol=1e-6)
    imp = propagate_to_impact(r0, v0, np.inf, inv_beta_m2_kg=ib, rtol=1e-6)
    np.testing.assert_array_equal(sens.r_ecef_m, imp.r_ecef_m)
    np.testing.assert_array_equal(sens.v_ecef_mps, imp.v_ecef_mps)
    np.testing.assert_array_equal(sens.time_s, imp.time_s)
    np.testing.assert_array_equal(sens.lat_deg, imp.lat_deg)


def test_a_time_limit_before_the_impact_leaves_none():
    r0, v0 = ref.state_from_flight_path(*CASES[0][0])
    sens = impact_sensitivity(r0[None], v0[None], np.array([CASES[0][1]]))
    short = impact_sensitivity(r0[None], v0[None], np.array([CASES[0][1]]), max_time_s=sens.time_s[0] / 2)
    assert short.status[0] == STATUS_TIMEOUT and np.isnan(short.time_s[0])
