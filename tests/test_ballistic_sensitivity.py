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
    sample_flight,
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
    assert sens.impact.status[0] == STATUS_IMPACT
    east, north, _ = ref.local_axes(np.radians(sens.impact.lat_deg[0]), np.radians(sens.impact.lon_deg[0]))
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


def test_the_flight_and_its_samples_are_the_propagators():
    """The state flies the integrator steps of sample_flight (and propagate_to_impact):
    the same bits, samples, end and apogee included (1/beta a power of 2: beta its exact
    inverse)."""
    starts = [ref.state_from_flight_path(*s) for s, _ in CASES]
    r0, v0 = np.array([s[0] for s in starts]), np.array([s[1] for s in starts])
    beta = np.array([2.0**12, 2.0**10, np.inf])
    sens = impact_sensitivity(r0, v0, 1.0 / beta, rtol=1e-6, max_time_s=3600.0, sample_step_s=2.0)
    flown = sample_flight(r0, v0, beta, step_s=2.0, rtol=1e-6, max_time_s=3600.0)
    for got, want in ((sens.samples, flown), (sens.impact, flown.end), (sens.samples.end, flown.end)):
        for field in want._fields:
            if field != "end" and getattr(want, field) is not None:
                np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    np.testing.assert_array_equal(sens.impact.time_s, propagate_to_impact(r0, v0, beta, rtol=1e-6).time_s)


def test_a_time_limit_before_the_impact_leaves_none():
    r0, v0 = ref.state_from_flight_path(*CASES[0][0])
    sens = impact_sensitivity(r0[None], v0[None], np.array([CASES[0][1]]))
    short = impact_sensitivity(r0[None], v0[None], np.array([CASES[0][1]]), max_time_s=sens.impact.time_s[0] / 2)
    assert short.impact.status[0] == STATUS_TIMEOUT and np.isnan(short.impact.time_s[0])


def test_states_that_are_not_finite_are_refused():
    r0, v0 = ref.state_from_flight_path(*CASES[0][0])
    assert impact_sensitivity(r0[None], v0[None], np.array([0.0])).samples is None  # none asked
    for r, v, inv_beta in ((r0 * np.nan, v0, 0.0), (r0, v0 + np.inf, 0.0), (r0, v0, np.nan)):
        with pytest.raises(ValueError, match="states and inv_beta_m2_kg must be finite"):
            impact_sensitivity(np.stack([r0, r]), np.stack([v0, v]), np.array([0.0, inv_beta]))
    with pytest.raises(ValueError, match="sampled flights need a finite max_time_s"):
        impact_sensitivity(r0[None], v0[None], np.array([0.0]), max_time_s=np.inf, sample_step_s=2.0)
